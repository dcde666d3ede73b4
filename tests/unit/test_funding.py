"""Derivatives analytics: venue OI, weighted funding, its positive run, OI total, liquidations."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

import pytest

from tests.conftest import body
from tui.core.analytics.funding import (
    derive,
    funding_venues,
    oi_venues,
    pct_per_8h,
    venue_open_interest,
)
from tui.core.config import Settings
from tui.core.model import CONSENSUS, Board, Observation
from tui.core.sources import binance

NOW = datetime(2026, 2, 6, 15, 0, tzinfo=UTC)
H = timedelta(hours=1)
STALE = {"deribit_futures": 180.0, "binance": 180.0, "bybit": 180.0, "okx": 180.0, CONSENSUS: 180.0}
SETTINGS = Settings()


class History:
    """Stored series in memory, as the Store answers them (oldest first, limits inclusive)."""

    def __init__(self, *obs: Observation) -> None:
        self.rows: dict[tuple[str, str], dict[datetime, float]] = {}
        self.add(*obs)

    def add(self, *obs: Observation) -> None:
        for o in obs:
            self.rows.setdefault((o.id, o.source), {})[o.observed_at] = o.value

    def series(
        self, id_: str, source: str, since: datetime | None = None, until: datetime | None = None
    ) -> list[tuple[datetime, float]]:
        lo = since or datetime.min.replace(tzinfo=UTC)
        hi = until or datetime.max.replace(tzinfo=UTC)
        return sorted((t, v) for t, v in self.rows.get((id_, source), {}).items() if lo <= t <= hi)


def obs(id_: str, value: float, source: str, age_s: float = 10.0, unit: str = "USD") -> Observation:
    return Observation(id_, value, unit, source, NOW - timedelta(seconds=age_s))


def board(*observations: Observation) -> Board:
    return Board("live", NOW).with_updates(now=NOW, observations=observations, stale_after=STALE)


def funding(venue: str, pct: float, age_s: float = 10.0) -> Observation:
    source = "deribit_futures" if venue == "deribit" else venue
    return obs(f"funding.{venue}", pct, source, age_s, "% per 8h")


def all_venues(
    deribit: float = 5e9, binance_btc: float = 200_000, bybit: tuple[float, float] = (3e9, 1e9),
    okx: tuple[float, float] = (2e9, 1e9), mark: float = 65_000, age_s: float = 10.0,
) -> list[Observation]:  # fmt: skip
    """Fresh OI parts of the four venues: 5 + 13 + 4 + 3 = $25B at a 65,000 mark."""
    return [
        obs("oi.futures.deribit", deribit, "deribit_futures", age_s),
        obs("oi.futures.binance_btc", binance_btc, "binance", age_s, "BTC"),
        obs("btc.price.binance_mark", mark, "binance", age_s),
        obs("oi.futures.bybit_linear", bybit[0], "bybit", age_s),
        obs("oi.futures.bybit_inverse", bybit[1], "bybit", age_s),
        obs("oi.futures.okx_usdt_swap", okx[0], "okx", age_s),
        obs("oi.futures.okx_usd_swap", okx[1], "okx", age_s),
    ]


def by_id(result: Iterable[Observation]) -> dict[str, Observation]:
    return {o.id: o for o in result}


@pytest.mark.parametrize(
    ("fraction", "hours", "pct"),
    [(0.0001, 8, 0.01), (-0.00004104, 8, -0.004104), (0.0001, 1, 0.08), (0.0001, 4, 0.02)],
)
def test_pct_per_8h(fraction: float, hours: float, pct: float) -> None:
    assert pct_per_8h(fraction, hours) == pytest.approx(pct)


def test_binance_oi_is_the_docs_btc_times_the_docs_mark() -> None:
    fetched = datetime(2020, 8, 14, 2, 2, tzinfo=UTC)
    parsed = [
        *binance.parse_premium_index(
            json.loads(body("binance", "premium_index_docs.json")), fetched
        ),
        *binance.parse_open_interest(
            json.loads(body("binance", "open_interest_docs.json")), fetched
        ),
    ]
    b = Board("live", fetched).with_updates(
        now=fetched, observations=parsed, stale_after={"binance": 1e9}
    )
    oi = venue_open_interest(b)["binance"]
    assert oi.value == pytest.approx(10659.509 * 11793.63104562)
    assert (oi.id, oi.unit, oi.source) == ("oi.futures.binance", "USD", "binance")
    assert oi.observed_at == datetime(2020, 5, 14, 6, 25, 30, 11000, tzinfo=UTC)  # the older part


def test_a_venue_with_a_stale_or_missing_part_is_left_out() -> None:
    parts = all_venues()
    parts[4] = obs("oi.futures.bybit_inverse", 1e9, "bybit", age_s=600)  # stale
    parts.pop(2)  # no Binance mark
    assert set(venue_open_interest(board(*parts))) == {"deribit", "okx"}


def test_weighted_funding_total_and_venue_lists() -> None:
    b = board(
        *all_venues(),
        funding("deribit", -0.010),
        funding("binance", -0.006),
        funding("bybit", 0.002, age_s=30),
        funding("okx", -0.004),
    )
    got = by_id(derive(b, History(), NOW, SETTINGS))
    # Weights in $B: deribit 5, binance 13, bybit 4, okx 3 = 25.
    expected = (5 * -0.010 + 13 * -0.006 + 4 * 0.002 + 3 * -0.004) / 25
    w = got["funding.oi_weighted"]
    assert (w.value, w.unit, w.source) == (pytest.approx(expected), "% per 8h", CONSENSUS)
    assert w.observed_at == NOW - timedelta(seconds=30)  # as old as its oldest input
    assert got["oi.futures.total"].value == pytest.approx(25e9)
    assert got["oi.futures.binance"].value == pytest.approx(13e9)
    assert got["oi.futures.bybit"].value == pytest.approx(4e9)
    assert got["oi.futures.okx"].value == pytest.approx(3e9)
    assert "oi.futures.deribit" not in got  # published by its own source, not re-published
    assert funding_venues(b) == oi_venues(b) == ("deribit", "binance", "bybit", "okx")


def test_funding_without_oi_is_not_weighted_and_oi_without_funding_still_counts() -> None:
    parts = [o for o in all_venues() if not o.id.startswith("oi.futures.okx")]
    b = board(*parts, funding("okx", 0.05), funding("binance", -0.006))
    got = by_id(derive(b, History(), NOW, SETTINGS))
    assert got["funding.oi_weighted"].value == pytest.approx(-0.006)  # binance alone
    assert funding_venues(b) == ("binance",)
    assert oi_venues(b) == ("deribit", "binance", "bybit")
    assert got["oi.futures.total"].value == pytest.approx(22e9)


def test_nothing_fresh_gives_nothing_never_zero() -> None:
    assert derive(board(), History(), NOW, SETTINGS) == []
    stale = [obs(o.id, o.value, o.source, 900, o.unit) for o in all_venues()]
    assert derive(board(*stale, funding("binance", -0.01, 900)), History(), NOW, SETTINGS) == []


def weighted(value: float, at: datetime) -> Observation:
    return Observation("funding.oi_weighted", value, "% per 8h", CONSENSUS, at)


def positive_hours(history: History, *fundings: Observation) -> float:
    got = by_id(derive(board(*all_venues(), *fundings), history, NOW, SETTINGS))
    hours = got["funding.positive_hours"]
    assert (hours.unit, hours.source) == ("hours", CONSENSUS)
    return hours.value


def test_negative_funding_has_zero_positive_hours() -> None:
    history = History(*(weighted(0.01, NOW - i * H) for i in range(1, 10)))
    assert positive_hours(history, funding("binance", -0.001)) == 0.0


def test_positive_run_counts_back_to_its_first_positive_value() -> None:
    latest = NOW - timedelta(seconds=10)
    history = History(
        weighted(-0.002, latest - 10 * H),
        *(weighted(0.003, latest - timedelta(minutes=30 * i)) for i in range(1, 13)),  # 6 h
    )
    assert positive_hours(history, funding("binance", 0.004)) == pytest.approx(6.0)


def test_a_one_hour_blip_is_one_hour() -> None:
    latest = NOW - timedelta(seconds=10)
    history = History(weighted(-0.004, latest - 2 * H), weighted(0.001, latest - H))
    assert positive_hours(history, funding("binance", 0.001)) == pytest.approx(1.0)


def test_a_gap_longer_than_two_hours_breaks_the_run() -> None:
    latest = NOW - timedelta(seconds=10)
    history = History(
        *(weighted(0.003, latest - i * H) for i in range(6, 12)),  # positive, then nothing for 5 h
        weighted(0.002, latest - H),
    )
    assert positive_hours(history, funding("binance", 0.004)) == pytest.approx(1.0)


def test_a_run_without_history_is_zero_hours_long() -> None:
    assert positive_hours(History(), funding("binance", 0.004)) == 0.0


def stored_oi(
    at: datetime, deribit: float, binance: float, bybit: float, okx: float
) -> list[Observation]:
    return [
        Observation("oi.futures.deribit", deribit, "USD", "deribit_futures", at),
        Observation("oi.futures.binance", binance, "USD", "binance", at),
        Observation("oi.futures.bybit", bybit, "USD", "bybit", at),
        Observation("oi.futures.okx", okx, "USD", "okx", at),
    ]


def test_oi_change_like_for_like_against_the_nearest_stored_values() -> None:
    at = NOW - timedelta(seconds=10)
    history = History(
        *stored_oi(at - 24 * H + timedelta(minutes=20), 6e9, 16e9, 5e9, 4e9),  # $31B
        *stored_oi(at - 24 * H - timedelta(minutes=50), 1e9, 1e9, 1e9, 1e9),  # farther: not used
        *stored_oi(at - 7 * 24 * H - 3 * H, 6e9, 17e9, 6e9, 3.5e9),  # $32.5B
    )
    got = by_id(derive(board(*all_venues()), history, NOW, SETTINGS))
    assert got["oi.futures.total.chg_24h"].value == pytest.approx((25 / 31 - 1) * 100)
    assert got["oi.futures.total.chg_7d"].value == pytest.approx((25 / 32.5 - 1) * 100)
    assert got["oi.futures.total.chg_24h"].unit == "%"


def test_no_change_without_history_that_old_or_for_a_venue_missing_then() -> None:
    at = NOW - timedelta(seconds=10)
    too_far = History(*stored_oi(at - 26 * H, 6e9, 16e9, 5e9, 4e9))  # outside the 1 h tolerance
    assert "oi.futures.total.chg_24h" not in by_id(
        derive(board(*all_venues()), too_far, NOW, SETTINGS)
    )
    partial = History(Observation("oi.futures.deribit", 6e9, "USD", "deribit_futures", at - 24 * H))
    assert "oi.futures.total.chg_24h" not in by_id(
        derive(board(*all_venues()), partial, NOW, SETTINGS)
    )


# --- liquidations -----------------------------------------------------------------------------


def liq(side: str, family: str, usd: float, ago: timedelta) -> Observation:
    return Observation(f"liq.{side}_usd.{family}", usd, "USD", "okx", NOW - ago)


def window(family: str, hours: float, ago: timedelta = timedelta(seconds=20)) -> Observation:
    return Observation(f"liq.window_h.{family}", hours, "hours", "okx", NOW - ago)


def test_liquidations_sum_both_families_over_24h_only() -> None:
    history = History(
        liq("long", "okx_usdt_swap", 5e6, 2 * H),
        liq("long", "okx_usd_swap", 1e6, 3 * H),
        liq("short", "okx_usdt_swap", 2e6, 4 * H),
        liq("long", "okx_usdt_swap", 9e9, 25 * H),  # older than 24 h: out
        window("okx_usdt_swap", 12, 60 * H),  # an old poll, irrelevant
    )
    b = board(window("okx_usdt_swap", 13.0), window("okx_usd_swap", 12.0, timedelta(seconds=40)))
    got = by_id(derive(b, history, NOW, SETTINGS))
    assert got["liq.long_usd_24h"].value == 6e6
    assert got["liq.short_usd_24h"].value == 2e6
    assert got["liq.long_usd_24h"].source == "okx"
    assert got["liq.long_usd_24h"].observed_at == NOW - timedelta(seconds=40)
    # The latest polls reach 13 h and 12 h back; nothing earlier joins them: 12 h (+40 s) seen.
    assert got["liq.coverage_h"].value == pytest.approx(12 + 40 / 3600)


def test_polls_without_holes_cover_the_whole_day() -> None:
    # Hourly polls that each reach 1.5 h back overlap: no hole anywhere in the day.
    polls = [window(f, 1.5, i * H) for f in ("okx_usdt_swap", "okx_usd_swap") for i in range(30)]
    b = board(window("okx_usdt_swap", 1.5, timedelta(0)), window("okx_usd_swap", 1.5, timedelta(0)))
    assert by_id(derive(b, History(*polls), NOW, SETTINGS))["liq.coverage_h"].value == 24.0


def test_a_hole_in_the_polls_limits_coverage() -> None:
    # Hourly polls that each reach 30 min back leave holes: only the latest half hour is seen.
    polls = [window("okx_usdt_swap", 0.5, i * 2 * H) for i in range(1, 12)]
    b = board(window("okx_usdt_swap", 0.5, timedelta(0)), window("okx_usd_swap", 24, timedelta(0)))
    assert by_id(derive(b, History(*polls), NOW, SETTINGS))["liq.coverage_h"].value == 0.5


def test_no_liquidation_figure_without_a_fresh_poll_of_both_families() -> None:
    history = History(liq("long", "okx_usdt_swap", 5e6, 2 * H))
    only_one = board(window("okx_usdt_swap", 13.0))
    assert not any(o.id.startswith("liq.") for o in derive(only_one, history, NOW, SETTINGS))
