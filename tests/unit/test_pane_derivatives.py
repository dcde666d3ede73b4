"""The derivatives pane: what each row says, its tone and glyph, and why a value is missing."""

from __future__ import annotations

import importlib.util
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType

from tui.core.analytics.funding import derive
from tui.core.config import Settings
from tui.core.model import CONSENSUS, Board, Missing, Observation, SourceStatus, Status
from tui.core.panes import PaneRow
from tui.core.panes.derivatives import view
from tui.core.sources import binance, bybit, okx

NOW = datetime(2026, 2, 6, 15, 0, tzinfo=UTC)
STALE = {"deribit_futures": 180.0, "binance": 180.0, "bybit": 180.0, "okx": 180.0, CONSENSUS: 180.0}
SETTINGS = Settings()
DEMO_START = datetime(2026, 2, 5, tzinfo=UTC)


class NoHistory:
    def series(
        self, id_: str, source: str, since: datetime | None = None, until: datetime | None = None
    ) -> list[tuple[datetime, float]]:
        return []


def obs(id_: str, value: float, source: str, unit: str = "USD", age_s: float = 12) -> Observation:
    return Observation(id_, value, unit, source, NOW - timedelta(seconds=age_s))


def venues(funding: float = -0.006) -> list[Observation]:
    """The four venues' readings: $25B of OI, funding ``funding`` % per 8h everywhere."""
    return [
        obs("oi.futures.deribit", 5e9, "deribit_futures"),
        obs("oi.futures.binance_btc", 200_000, "binance", "BTC"),
        obs("btc.price.binance_mark", 65_000, "binance"),
        obs("oi.futures.bybit_linear", 3e9, "bybit"),
        obs("oi.futures.bybit_inverse", 1e9, "bybit"),
        obs("oi.futures.okx_usdt_swap", 2e9, "okx"),
        obs("oi.futures.okx_usd_swap", 1e9, "okx"),
        obs("funding.deribit", funding, "deribit_futures", "% per 8h"),
        obs("funding.binance", funding, "binance", "% per 8h"),
        obs("funding.bybit", funding, "bybit", "% per 8h"),
        obs("funding.okx", funding, "okx", "% per 8h"),
    ]


def board(*o: Observation, statuses: tuple[SourceStatus, ...] = ()) -> Board:
    b = Board("live", NOW).with_updates(
        now=NOW, observations=o, statuses=statuses, stale_after=STALE
    )
    # The engine runs derive() and adds its readings; so does this test.
    return b.with_updates(now=NOW, observations=derive(b, NoHistory(), NOW, SETTINGS))


def row(rows: tuple[PaneRow, ...], label: str) -> PaneRow:
    return next(r for r in rows if r.label == label)


def test_rows_come_most_important_first() -> None:
    labels = [r.label for r in view(board(*venues()), SETTINGS).rows]
    assert labels[:4] == ["funding", "positive for", "futures OI", "liq 24h"]
    assert labels[4:8] == ["  deribit", "  binance", "  bybit", "  okx"]


def test_negative_funding_reads_bearish_with_its_glyph_and_venues() -> None:
    r = view(board(*venues(-0.0062)), SETTINGS).rows[0]
    assert (r.value, r.tone, r.glyph) == ("-0.0062 %/8h", "bearish", "▼")
    assert r.detail == "OI-weighted · 4 venues: deribit, binance, bybit, okx"
    assert r.age == "<1m"  # a fresh age in whole minutes: the pane is not redrawn for seconds
    hours = row(view(board(*venues(-0.0062)), SETTINGS).rows, "positive for")
    assert (hours.value, hours.tone) == ("0.0 h", "bearish")


def test_positive_funding_is_bullish_only_once_it_has_stayed_positive() -> None:
    # derive() here has no history, so it says 0 h; as if the store held a 1.5 h run (a blip):
    blip = board(*venues(0.003)).with_updates(
        now=NOW, observations=[obs("funding.positive_hours", 1.5, CONSENSUS, "hours", 1)]
    )
    rows = view(blip, SETTINGS).rows
    assert (rows[0].tone, rows[0].glyph) == ("neutral", "▲")
    assert (row(rows, "positive for").value, row(rows, "positive for").tone) == ("1.5 h", "neutral")
    held = blip.with_updates(
        now=NOW, observations=[obs("funding.positive_hours", 9, CONSENSUS, "hours", 0)]
    )
    rows = view(held, SETTINGS).rows
    assert rows[0].tone == row(rows, "positive for").tone == "bullish"


def test_oi_total_with_its_24h_change_and_venues() -> None:
    b = board(*venues(), obs("oi.futures.total.chg_24h", -12.34, CONSENSUS, "%", 0))
    r = row(view(b, SETTINGS).rows, "futures OI")
    assert (r.value, r.glyph, r.tone) == ("$25.0B", "▼", "neutral")
    assert r.detail == "24h -12.3 % · 4 venues: deribit, binance, bybit, okx"
    rebound = board(*venues(), obs("oi.futures.total.chg_24h", 6.0, CONSENSUS, "%", 0))
    assert row(view(rebound, SETTINGS).rows, "futures OI").tone == "bearish"
    no_change = row(view(board(*venues()), SETTINGS).rows, "futures OI")
    assert no_change.detail.startswith("24h: needs a day of history")
    assert (
        row(view(board(*venues()), SETTINGS).rows, "OI 7d").value == "needs 7 d of stored history"
    )


def test_liquidations_say_okx_only_and_how_much_of_the_day_was_seen() -> None:
    liq = [
        obs("liq.long_usd_24h", 123.4e6, "okx"),
        obs("liq.short_usd_24h", 15e6, "okx"),
        obs("liq.coverage_h", 24.0, "okx", "hours"),
    ]
    r = row(view(board(*venues(), *liq), SETTINGS).rows, "liq 24h")
    assert r.value == "long $123.4M · short $15.0M"
    assert r.detail == "OKX only"
    partial = [*liq[:2], obs("liq.coverage_h", 6.2, "okx", "hours")]
    r = row(view(board(*venues(), *partial), SETTINGS).rows, "liq 24h")
    assert r.detail == "OKX only, 6 h of 24 h seen"
    assert "OKX only" in view(board(), SETTINGS).note
    assert "not the market total" in view(board(), SETTINGS).note


def test_missing_values_say_why_and_never_show_zero() -> None:
    geo = SourceStatus.from_missing(
        "binance", Missing(Status.GEO_BLOCKED, "HTTP 451"), last_ok_at=None, at=NOW
    )
    rows = view(board(statuses=(geo,)), SETTINGS).rows
    for r in rows:
        assert r.tone == "missing"
        assert r.glyph == "✕"
        assert "0" not in r.value.replace("451", "")
    assert row(rows, "funding").value == "binance: geo-blocked: HTTP 451"
    assert row(rows, "  binance").value == "geo-blocked: HTTP 451"
    assert row(rows, "  okx").value == "waiting for okx"
    assert row(rows, "liq 24h").value == "waiting for okx"


def test_stale_venue_is_dimmed_and_left_out_of_the_weighting() -> None:
    readings = venues()
    readings[-1] = obs("funding.okx", 0.05, "okx", "% per 8h", age_s=900)
    rows = view(board(*readings), SETTINGS).rows
    assert row(rows, "  okx").tone == "stale"
    assert row(rows, "  okx").age == "stale 15m"
    assert rows[0].detail == "OI-weighted · 3 venues: deribit, binance, bybit"


def _demo_module() -> ModuleType:
    path = Path(__file__).resolve().parents[2] / "scripts" / "demo_venues.py"
    spec = importlib.util.spec_from_file_location("demo_venues", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class MemoryHistory:
    def __init__(self) -> None:
        self.rows: dict[tuple[str, str], dict[datetime, float]] = {}

    def add(self, observations: list[Observation]) -> None:
        for o in observations:
            self.rows.setdefault((o.id, o.source), {})[o.observed_at] = o.value

    def series(
        self, id_: str, source: str, since: datetime | None = None, until: datetime | None = None
    ) -> list[tuple[datetime, float]]:
        rows = self.rows.get((id_, source), {})
        lo, hi = since or datetime.min.replace(tzinfo=UTC), until or NOW
        return sorted((t, v) for t, v in rows.items() if lo <= t <= hi)


def test_the_demo_day_of_5_feb_reads_bearish_with_long_liquidations() -> None:
    """The demo bodies of 5 Feb, parsed and derived every 30 min: the article's picture."""
    demo = _demo_module()
    parsers = {
        (spec.name, ep.key): ep.parse for spec in (binance.SPEC, bybit.SPEC, okx.SPEC)
        for ep in spec.endpoints
    }  # fmt: skip
    history, b = MemoryHistory(), Board("demo", DEMO_START)
    t = DEMO_START
    while t <= DEMO_START + timedelta(days=1):
        price = 73_100 - 10_500 * (t - DEMO_START) / timedelta(days=1)  # 73.1k -> 62.6k
        fetched = t + timedelta(seconds=1)
        obs = [
            o for s, k, doc in demo.demo_exchanges(t, price) for o in parsers[(s, k)](doc, fetched)
        ]
        obs.append(Observation("oi.futures.deribit", 2e9, "USD", "deribit_futures", t))
        b = b.with_updates(now=fetched, observations=obs, stale_after=STALE)
        history.add(obs)
        derived = derive(b, history, fetched, SETTINGS)
        history.add(derived)
        b = b.with_updates(now=fetched, observations=derived)
        t += timedelta(minutes=30)
    rows = view(b, SETTINGS).rows
    assert (rows[0].tone, rows[0].glyph) == ("bearish", "▼")
    assert row(rows, "futures OI").value.startswith("$5")  # ~$61B -> ~$53B over the day
    assert "24h -1" in row(rows, "futures OI").detail  # about -13 %
    longs = b.reading("liq.long_usd_24h", "okx")
    shorts = b.reading("liq.short_usd_24h", "okx")
    assert longs is not None
    assert shorts is not None
    assert longs.observation.value > 5 * shorts.observation.value
    assert row(rows, "liq 24h").detail.startswith("OKX only")


def test_a_pane_age_moves_in_whole_minutes_and_a_stale_one_says_so() -> None:
    from tui.core.model import Observation, Reading
    from tui.core.panes import age_text

    at = datetime(2026, 2, 6, 15, 0, tzinfo=UTC)
    obs = Observation("funding.okx", 0.01, "% per 8h", "okx", at)

    def age(seconds: float, stale: bool = False) -> str:
        return age_text(Reading(obs, age_s=seconds, stale=stale))

    assert [age(0), age(59.9), age(60), age(3599), age(7200)] == ["<1m", "<1m", "1m", "59m", "2h"]
    assert age(30, stale=True) == "stale 30s"
