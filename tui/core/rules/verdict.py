"""The article's framework over the checklist: holding $70k, contested, or retest risk (pure)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Final

from tui.core.model import CONSENSUS, Board, Call, RowState, RuleResult, Verdict

#: Stored verdict codes (``verdict`` readings from source ``rules``).
CALL_CODES: Final[Mapping[Call, float]] = {"holding": 1.0, "contested": 0.0, "retest risk": -1.0}
CALLS: Final = {v: k for k, v in CALL_CODES.items()}


def _row(rows: Mapping[str, RuleResult], key: str) -> RowState | None:
    r = rows.get(key)
    return None if r is None or r.state in (RowState.WAITING, RowState.STALE) else r.state


def _is(state: RowState | None, *wanted: RowState) -> bool | None:
    return None if state is None else state in wanted


def _either(a: bool | None, b: bool | None) -> bool | None:
    if a or b:
        return True
    return None if a is None and b is None else False


def verdict(
    results: Sequence[RuleResult],
    board: Board,
    pivot: float,
    macro_holds: bool | None,
    now: datetime,
    previous: Verdict | None = None,
) -> Verdict:
    """Count the article's conditions on each side and make the call.

    Holding $70k needs "macro rebound persisting, leverage still falling, miner stress easing";
    a retest is likely "while options stay skewed to the downside, derivatives stay fragile, ETF
    outflows continue". The call: *holding* with at least two holding conditions, at most one
    retest condition, and price at or above the pivot; *retest risk* with at least two retest
    conditions and at most one holding condition, or price below the pivot with two retest
    conditions; *contested* otherwise; *no data* without a price or any known condition.

    Args:
        results: the evaluated checklist rows.
        board: for the price and the OI change.
        pivot: the pivot level.
        macro_holds: the macro bucket's "tech stabilising, yields and the dollar calm" (None:
            unknown).
        now: the time of judgement (``since`` of a new call).
        previous: the last verdict, to keep its ``since`` while the call is unchanged.
    """
    rows = {r.key: r for r in results}
    oi = board.reading("oi.futures.total.chg_24h", CONSENSUS)
    oi_falling = None if oi is None or oi.stale else oi.observation.value < 0
    holding = (
        ("macro rebound persisting", macro_holds),
        ("leverage still falling", oi_falling),
        ("miner stress easing", _is(_row(rows, "mining"), RowState.BULLISH, RowState.NEUTRAL)),
    )
    flows = board.reading("etf.outflow_streak", "farside")
    streak = None if flows is None else flows.observation.value >= 2
    retest = (
        ("options skewed to the downside", _is(_row(rows, "skew"), RowState.BEARISH)),
        (
            "derivatives fragile",
            _either(
                _is(_row(rows, "funding"), RowState.BEARISH),
                _is(_row(rows, "leverage"), RowState.BEARISH),
            ),
        ),
        (
            "ETF outflows continue",
            _either(_is(_row(rows, "flows"), RowState.BEARISH), streak),
        ),
    )
    steps = (
        ("macro holds", macro_holds),
        ("ETF outflows slow", _is(_row(rows, "flows"), RowState.BULLISH, RowState.NEUTRAL)),
        (
            "derivatives normalise",
            _is(_row(rows, "funding"), RowState.BULLISH, RowState.NEUTRAL),
        ),
    )
    price = board.reading("btc.price", CONSENSUS)
    h = sum(1 for _, ok in holding if ok)
    r = sum(1 for _, ok in retest if ok)
    known = any(ok is not None for _, ok in holding + retest)
    if price is None or not known:
        call: Call = "no data"
        position = (
            "no consensus price" if price is None else _position(price.observation.value, pivot)
        )
    else:
        p = price.observation.value
        position = _position(p, pivot)
        if h >= 2 and r <= 1 and p >= pivot:
            call = "holding"
        elif (r >= 2 and h <= 1) or (p < pivot and r >= 2):
            call = "retest risk"
        else:
            call = "contested"
    since = previous.since if previous is not None and previous.call == call else now
    return Verdict(call, holding, retest, position, steps, since)


def _position(price: float, pivot: float) -> str:
    pct = (price - pivot) / pivot * 100
    if abs(pct) < 0.005:
        return f"at the ${pivot:,.0f} pivot"
    word = "above" if pct > 0 else "below"
    return f"${price:,.0f}, {abs(pct):.1f} % {word} the ${pivot:,.0f} pivot"
