"""Macro analytics: correlation on a hand-checkable series, alignment, derive(), pick, the state."""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta

import pytest

from tui.core.analytics import macro
from tui.core.config import Settings
from tui.core.model import CONSENSUS, DAILY, Board, Observation

NOW = datetime(2026, 2, 6, 18, tzinfo=UTC)  # Friday, US markets open
STALE = {"yahoo": 900.0, "stooq": 1800.0, "fred": 64_800.0, "kraken": 60.0, CONSENSUS: 64_800.0}


class FakeHistory:
    """The Store's ``series`` over a dict."""

    def __init__(self, rows: Iterable[Observation]) -> None:
        self.rows = list(rows)

    def series(
        self, id_: str, source: str, since: datetime | None = None, until: datetime | None = None
    ) -> list[tuple[datetime, float]]:
        return sorted(
            (o.observed_at, o.value)
            for o in self.rows
            if o.id == id_
            and o.source == source
            and (since is None or o.observed_at >= since)
            and (until is None or o.observed_at <= until)
        )


def board(obs: Iterable[Observation], now: datetime = NOW) -> Board:
    return Board("live", now).with_updates(now=now, observations=obs, stale_after=STALE)


def prices(returns: list[float], start: date, step_days: int = 1) -> dict[date, float]:
    """Closes whose daily log returns are ``returns`` (the first close is 100)."""
    out = {start: 100.0}
    p, d = 100.0, start
    for r in returns:
        d += timedelta(days=step_days)
        p *= math.exp(r)
        out[d] = p
    return out


def test_correlation_by_hand() -> None:
    # x = 1..5, y = 2,1,4,3,5 (x 1 %): deviations (-2,-1,0,1,2) and (-1,-2,1,0,2);
    # sum of products 8, sums of squares 10 and 10: r = 8 / 10 = 0.8.
    start = date(2026, 1, 1)
    a = prices([0.01 * v for v in (1, 2, 3, 4, 5)], start)
    b = prices([0.01 * v for v in (2, 1, 4, 3, 5)], start)
    found = macro.correlation(a, b, window=30, min_returns=5)
    assert found is not None
    assert found[0] == pytest.approx(0.8)
    assert found[1] == date(2026, 1, 6)
    mirror = prices([-0.01 * v for v in (1, 2, 3, 4, 5)], start)
    assert macro.correlation(a, mirror, min_returns=5) == (pytest.approx(-1.0), date(2026, 1, 6))


def test_returns_span_days_only_one_side_trades() -> None:
    start = date(2026, 1, 5)  # Monday
    btc = {start + timedelta(days=i): 100.0 + i for i in range(8)}  # every day
    stocks = {d: v for d, v in btc.items() if d.weekday() < 5}  # weekdays only
    found = macro.log_returns(btc, stocks)
    assert found is not None
    ra, rb, last = found
    # Friday 9 Jan -> Monday 12 Jan is one return for both (the weekend is skipped, not filled).
    assert len(ra) == len(rb) == 5
    assert ra[-1] == pytest.approx(math.log(107.0 / 104.0))
    assert last == date(2026, 1, 12)


def test_too_few_returns_or_a_flat_side_give_nothing() -> None:
    start = date(2026, 1, 1)
    a = prices([0.01] * 19, start)
    b = prices([0.02 * (-1) ** i for i in range(19)], start)
    assert macro.correlation(a, b) is None  # 19 < MIN_RETURNS
    flat = dict.fromkeys(prices([0.0] * 25, start), 100.0)
    assert macro.correlation(prices([0.01 * i for i in range(25)], start), flat) is None
    assert macro.correlation(a, {}) is None


def test_window_change_in_percent_and_basis_points() -> None:
    days = [date(2026, 2, d) for d in (2, 3, 4, 5, 6)]
    assert macro.window_change(dict(zip(days, (100, 101, 99, 98, 102), strict=True)), "ndx", 3) == (
        pytest.approx((102 / 101 - 1) * 100),
        date(2026, 2, 6),
    )
    yields = dict(zip(days, (4.29, 4.28, 4.29, 4.21, 4.22), strict=True))
    assert macro.window_change(yields, "us10y", 3) == (pytest.approx(-6.0), date(2026, 2, 6))
    assert macro.window_change(yields, "us10y", 5) is None


def midnight(d: date) -> datetime:
    return datetime(d.year, d.month, d.day, tzinfo=UTC)


def _btc_rows(closes: dict[date, float]) -> list[Observation]:
    """Completed Kraken days, each observed at the next 00:00 UTC (as day_candles stores them)."""
    return [
        Observation("btc.day.close.kraken", v, "USD", "kraken", midnight(d) + timedelta(days=1))
        for d, v in closes.items()
    ]


def _macro_rows(asset: str, closes: dict[date, float], source: str = "yahoo") -> list[Observation]:
    return [
        Observation(f"macro.{asset}.close", v, "index", source, midnight(d))
        for d, v in closes.items()
    ]


def _scenario() -> tuple[dict[date, float], dict[date, float]]:
    """40 days of BTC, and the S&P on weekdays moving exactly like BTC on those days."""
    first = date(2025, 12, 28)
    btc = prices([0.02 * math.sin(i * 1.3) for i in range(40)], first)
    btc = {d: v for d, v in btc.items() if d < NOW.date()}  # completed days
    spx = {d: v * 0.1 for d, v in btc.items() if d.weekday() < 5}
    return btc, spx


def test_derive_correlation_and_moves() -> None:
    btc, spx = _scenario()
    live = [
        Observation("btc.day.close.kraken", 70_000.0, "USD", "kraken", NOW),
        Observation("macro.spx", 6_930.0, "index", "yahoo", NOW - timedelta(minutes=3)),
    ]
    history = FakeHistory([*_btc_rows(btc), *_macro_rows("spx", spx)])
    out = macro.derive(board(live), history, NOW, Settings())
    corr = [o for o in out if o.id == "macro.corr30d.spx"]
    assert len(corr) == 1
    # Same moves on common days: the correlation is 1, observed at the end of the last day.
    assert corr[0].value == pytest.approx(1.0)
    assert (corr[0].unit, corr[0].source) == ("corr", DAILY)
    assert corr[0].observed_at == datetime(2026, 2, 6, tzinfo=UTC)  # end of Thursday 5 Feb
    (move,) = [o for o in out if o.id == "macro.spx.chg_3d"]
    days = sorted(spx)
    assert move.value == pytest.approx((spx[days[-1]] / spx[days[-4]] - 1) * 100)
    assert (move.unit, move.source) == ("%", "yahoo")


def test_derive_skips_stale_inputs_and_never_invents() -> None:
    btc, spx = _scenario()
    history = FakeHistory([*_btc_rows(btc), *_macro_rows("spx", spx)])
    old = NOW - timedelta(hours=2)
    stale_btc = [
        Observation("btc.day.close.kraken", 70_000.0, "USD", "kraken", old),
        Observation("macro.spx", 6_930.0, "index", "yahoo", NOW),
    ]
    out = macro.derive(board(stale_btc), history, NOW, Settings())
    assert [o.id for o in out] == ["macro.spx.chg_3d"]  # no correlation without fresh BTC
    stale_spx = [
        Observation("btc.day.close.kraken", 70_000.0, "USD", "kraken", NOW),
        Observation("macro.spx", 6_930.0, "index", "yahoo", old),  # stale while NYSE is open
    ]
    assert macro.derive(board(stale_spx), history, NOW, Settings()) == []
    assert macro.derive(board([]), FakeHistory([]), NOW, Settings()) == []


def test_derive_uses_a_closed_markets_last_close() -> None:
    btc, spx = _scenario()
    saturday = datetime(2026, 2, 7, 12, tzinfo=UTC)
    friday_close = Observation(
        "macro.spx", 6_930.0, "index", "yahoo", datetime(2026, 2, 6, 21, tzinfo=UTC)
    )
    fresh_btc = Observation("btc.day.close.kraken", 70_000.0, "USD", "kraken", saturday)
    history = FakeHistory([*_btc_rows(btc), *_macro_rows("spx", spx)])
    out = macro.derive(board([friday_close, fresh_btc], saturday), history, saturday, Settings())
    assert {o.id for o in out} == {"macro.corr30d.spx", "macro.spx.chg_3d"}


def test_pick_prefers_fresh_yahoo_then_stooq_then_the_newest() -> None:
    y = Observation("macro.spx", 6_930.0, "index", "yahoo", NOW - timedelta(minutes=2))
    s = Observation("macro.spx", 6_931.0, "index", "stooq", NOW - timedelta(minutes=5))
    f = Observation("macro.spx", 6_800.0, "index", "fred", NOW - timedelta(hours=20))
    pick = macro.pick(board([y, s, f]), "spx")
    assert pick is not None
    assert pick.observation.source == "yahoo"
    y_old = Observation("macro.spx", 6_900.0, "index", "yahoo", NOW - timedelta(hours=1))
    pick = macro.pick(board([y_old, s, f]), "spx")
    assert pick is not None
    assert pick.observation.source == "stooq"
    s_old = Observation("macro.spx", 6_901.0, "index", "stooq", NOW - timedelta(minutes=50))
    pick = macro.pick(board([y_old, s_old, f]), "spx")
    assert pick is not None
    assert (pick.observation.source, pick.stale) == ("stooq", True)  # the newest of the stale
    assert macro.pick(board([]), "spx") is None


def _moves(
    ndx: float | None, sox: float | None, us10y: float | None, dxy: float | None, at: datetime = NOW
) -> list[Observation]:
    values = {"ndx": ndx, "sox": sox, "us10y": us10y, "dxy": dxy}
    return [
        Observation(macro.change_id(a, 3), v, macro.change_unit(a), "yahoo", at)
        for a, v in values.items()
        if v is not None
    ]  # fmt: skip


def test_macro_state_named_conditions() -> None:
    state = macro.macro_state(board(_moves(1.2, 0.4, -6.0, -0.2)))
    assert [(c.key, c.name, c.state) for c in state.conditions] == [
        ("tech", "tech stabilising", "held"),
        ("yields", "yields not tightening", "held"),
        ("dollar", "dollar not strengthening", "held"),
    ]
    assert (state.state, state.holds) == ("held", True)
    tech = state.conditions[0]
    assert [(r.asset, r.value, r.unit, r.source) for r in tech.readings] == [
        ("ndx", 1.2, "%", "yahoo"),
        ("sox", 0.4, "%", "yahoo"),
    ]
    assert tech.rule == "ndx and sox not down over 3 days"


def test_macro_state_thresholds_and_waiting() -> None:
    # Up 10 bp is still "not up more than 10 bp"; 10.5 is tightening. Dollar +0.6 % strengthens.
    state = macro.macro_state(board(_moves(-0.1, None, 10.0, 0.6)))
    assert [c.state for c in state.conditions] == ["not held", "held", "not held"]
    assert (state.state, state.holds) == ("not held", False)
    state = macro.macro_state(board(_moves(0.3, None, 10.5, None)))
    assert [c.state for c in state.conditions] == ["waiting", "not held", "waiting"]
    tight = macro.MacroThresholds(days=3, yield_rise_bp=12.0, dollar_rise_pct=1.0)
    state = macro.macro_state(board(_moves(0.3, 0.1, 10.5, 0.6)), tight)
    assert state.state == "held"


def test_macro_state_stale_moves_wait_while_markets_are_open_only() -> None:
    old = NOW - timedelta(hours=2)
    state = macro.macro_state(board(_moves(1.0, 1.0, 1.0, 0.1, at=old)))
    assert (state.state, state.holds) == (
        "waiting",
        None,
    )  # Friday afternoon: two-hour-old moves are not current
    saturday = datetime(2026, 2, 7, 12, tzinfo=UTC)
    state = macro.macro_state(board(_moves(1.0, 1.0, 1.0, 0.1, at=old), saturday))
    assert state.state == "held"  # markets closed: Friday's moves are the latest there are
