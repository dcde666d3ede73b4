"""Evaluate the checklist over the Board and stored history: state, reason, since when (pure)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Final

from tui.core.analytics import History
from tui.core.model import CONSENSUS, Board, Observation, Reading, RowState, RuleResult, format_age
from tui.core.rules import Cond, Rule

#: The source under which row states are stored, as readings ``checklist.<row>``.
RULES_SOURCE: Final = "rules"
#: Stored state codes (waiting and stale are about data, not the market: never stored).
CODES: Final[Mapping[RowState, float]] = {
    RowState.BULLISH: 1.0,
    RowState.NEUTRAL: 0.0,
    RowState.BEARISH: -1.0,
}
STATES: Final = {v: k for k, v in CODES.items()}


def state_id(key: str) -> str:
    """The stored reading id of row ``key``'s state."""
    return f"checklist.{key}"


@dataclass(frozen=True, slots=True)
class CondCheck:
    """One condition judged at a moment."""

    cond: Cond
    value: float
    threshold: float
    satisfied: bool
    """The newest reading satisfies it."""
    run_start: datetime | None
    """Start of the newest unbroken run of satisfying readings (``None``: not satisfied now)."""
    run_len: int
    holds: bool
    """Satisfied, and for long enough."""
    true_since: datetime | None
    """When it started to hold (the run start plus the hold), if it holds."""
    failing_since: datetime | None
    """Start of the newest unbroken run of failing readings (``None``: satisfied now)."""


@dataclass(slots=True)
class Run:
    """The newest unbroken run of a condition's readings on one side of its threshold: readings
    no more than ``max_gap_s`` apart, all satisfying it (``sat``) or all failing it."""

    sat: bool
    start: datetime
    n: int
    last_t: datetime
    last_v: float
    head: list[datetime]
    """The times of the run's first readings (as many as a ``hold_n`` condition counts)."""


def fold(run: Run | None, cond: Cond, threshold: float, t: datetime, v: float) -> Run:
    """``run`` after one more reading ``(t, v)``, newer than any before (updated in place)."""
    sat = v > threshold if cond.op == ">" else v < threshold
    if run is not None and sat == run.sat and (t - run.last_t).total_seconds() <= cond.max_gap_s:
        run.n += 1
        run.last_t, run.last_v = t, v
        if len(run.head) < cond.hold_n:
            run.head.append(t)
        return run
    return Run(sat, t, 1, t, v, [t] if cond.hold_n else [])


def check(
    cond: Cond, series: Sequence[tuple[datetime, float]], threshold: float, now: datetime
) -> CondCheck:
    """Judge ``cond`` on ``series`` (oldest first, the latest reading last)."""
    run: Run | None = None
    for t, v in series:
        run = fold(run, cond, threshold, t, v)
    assert run is not None, "a series with no reading"
    return check_run(cond, run, threshold, now)


def check_run(cond: Cond, run: Run, threshold: float, now: datetime) -> CondCheck:
    """Judge ``cond`` on the newest run of its readings."""
    v_last = run.last_v
    if not run.sat:
        return CondCheck(cond, v_last, threshold, False, None, 0, False, None, run.start)
    start, n = run.start, run.n
    if (now - run.last_t).total_seconds() > cond.max_gap_s:
        # The newest reading is older than a gap: nothing says it still holds.
        return CondCheck(cond, v_last, threshold, True, start, n, False, None, None)
    if cond.hold_n:
        holds = n >= cond.hold_n
        since = run.head[cond.hold_n - 1] if holds else None
    else:
        since = start + timedelta(seconds=cond.hold_s)
        holds = since <= now
    return CondCheck(cond, v_last, threshold, True, start, n, holds, since if holds else None, None)


class Runs:
    """Each condition's newest run, carried from one judgement to the next (the engine's): a
    judgement then reads only the rows stored since the last one, not a day of each series.

    A run is built from the same look-back a fresh judgement reads, then extended by every newer
    row. The caller says what it wrote with :meth:`saw`: a new value for the run's last reading
    (the consensus price keeps its time, that of its oldest input, while a venue moves it) takes
    the run back one reading; any older row (a revised past day, a late reading) has the run built
    afresh, as does time going back (a looping replay).
    """

    def __init__(self) -> None:
        self._runs: dict[tuple[object, ...], Run] = {}
        self._before: dict[tuple[object, ...], Run | None] = {}
        """Each run as it was before its last reading (``None``: not known)."""
        self._keys: dict[tuple[str, str], set[tuple[object, ...]]] = {}

    def saw(self, observations: Iterable[Observation]) -> None:
        """Rows written to the history (see the class): the runs they change are set back."""
        for o in observations:
            keys = self._keys.get((o.id, o.source))
            if not keys:
                continue
            for key in list(keys):
                run = self._runs.get(key)
                if run is None or o.observed_at > run.last_t:
                    continue
                if o.observed_at == run.last_t and o.value == run.last_v:
                    continue  # the same reading again
                before = self._before.pop(key, None)
                if o.observed_at == run.last_t and before is not None:
                    self._runs[key] = before  # the next judgement reads the new last reading
                else:
                    del self._runs[key]
                    keys.discard(key)

    def check(
        self,
        c: Cond,
        history: History,
        newest: Observation,
        threshold: float,
        since: datetime,
        now: datetime,
    ) -> CondCheck:
        key = (c.id, c.source, c.op, threshold, c.max_gap_s, c.hold_n)
        run = self._runs.get(key)
        if run is not None and (run.last_t > now or since > run.last_t):
            run = None  # time went back, or the run ended before the look-back began
        last = None if run is None else run.last_t
        rows = history.series(c.id, c.source, since=since if last is None else last)
        new = [(t, v) for t, v in rows if last is None or t > last]
        end = new[-1][0] if new else last
        if end is None or newest.observed_at > end:  # on the Board, not yet in the history
            new.append((newest.observed_at, newest.value))
        before = self._before.get(key) if run is not None else None
        for i, (t, v) in enumerate(new):
            if i == len(new) - 1:
                before = None if run is None else replace(run, head=list(run.head))
            run = fold(run, c, threshold, t, v)
        assert run is not None, "a condition with no reading"
        self._runs[key] = run
        self._before[key] = before
        self._keys.setdefault((c.id, c.source), set()).add(key)
        return check_run(c, run, threshold, now)


def evaluate_rule(
    rule: Rule,
    board: Board,
    history: History,
    now: datetime,
    pivot: float,
    previous: RuleResult | None = None,
    min_gap_s: float = 0.0,
    *,
    explain: bool = True,
    runs: Runs | None = None,
) -> RuleResult:
    """Row ``rule``'s state now.

    Args:
        rule: the row.
        board: the latest readings (their staleness is judged on it).
        history: stored series, read back as far as the longest hold needs.
        now: the time of judgement.
        pivot: the threshold of conditions on ``btc.price``.
        previous: the row's last market state (bullish, bearish or neutral), for hysteresis and
            "since" (``None``: judged afresh from history).
        min_gap_s: the least ``max_gap_s`` of any condition: a fast replay polls every source
            at most every few real seconds, an hour or more apart in its own time, which is not
            a data gap.
        explain: write the reason (a backtest judging thousands of closes needs only states).
        runs: the conditions' runs from the last judgement (the engine's, judging again and
            again): only newer rows are read. ``None``: read each series' look-back.
    """
    if rule.fallback is not None and not _seen(rule, board):
        return evaluate_rule(
            rule.fallback, board, history, now, pivot, previous, min_gap_s,
            explain=explain, runs=runs,
        )  # fmt: skip
    latest: dict[tuple[str, str], Reading] = {}
    for c in rule.conds:
        r = board.reading(c.id, c.source)
        if r is None:
            status = board.statuses.get(c.source)
            why = status.detail if status is not None and not status.ok and status.detail else ""
            if c.source == CONSENSUS:  # derived across venues: name the reading, not a venue
                reason = f"waiting for {c.what} (from the {rule.bucket} sources)"
            else:
                reason = f"waiting for {c.source}" + (f" ({why})" if why else "")
            return RuleResult(rule.key, rule.title, RowState.WAITING, reason, None)
        if r.stale:
            reason = f"{c.what} is stale ({format_age(r.age_s)} old, from {c.source})"
            return RuleResult(
                rule.key, rule.title, RowState.STALE, reason, None, (r.observation,), _fmt(r)
            )
        latest[(c.id, c.source)] = r
    if min_gap_s > 0:
        rule = replace(
            rule,
            bullish=tuple(replace(c, max_gap_s=max(c.max_gap_s, min_gap_s)) for c in rule.bullish),
            bearish=tuple(replace(c, max_gap_s=max(c.max_gap_s, min_gap_s)) for c in rule.bearish),
        )
    checks = {
        "bullish": [_check(c, latest, history, now, pivot, runs) for c in rule.bullish],
        "bearish": [_check(c, latest, history, now, pivot, runs) for c in rule.bearish],
    }
    if all(k.holds for k in checks["bullish"]):
        state = RowState.BULLISH
    elif all(k.holds for k in checks["bearish"]):
        state = RowState.BEARISH
    else:
        state = RowState.NEUTRAL
    prev = previous.state if previous is not None else None
    kept = False
    if prev in (RowState.BULLISH, RowState.BEARISH) and state != prev:
        side = checks["bullish" if prev is RowState.BULLISH else "bearish"]
        failed_for = max(
            ((now - k.failing_since).total_seconds() for k in side if k.failing_since),
            default=0.0,
        )
        if failed_for < rule.exit_s:
            state, kept = prev, True  # hysteresis: not failed long enough to leave
    if previous is not None and state == previous.state:
        since = previous.since
    elif state is RowState.NEUTRAL:
        # Neither side holds: neutral from now on (when first judged, from the first judgement:
        # stored like any state, so a later confirmation is a flip from it).
        since = now
    else:
        side = checks["bullish" if state is RowState.BULLISH else "bearish"]
        since = max((k.true_since for k in side if k.true_since), default=now)
    readings = tuple(r.observation for r in latest.values())
    first = latest[(rule.conds[0].id, rule.conds[0].source)]
    return RuleResult(
        rule.key,
        rule.title,
        state,
        _reason(rule, state, checks, kept, now) if explain else "",
        since,
        readings,
        _fmt(first),
    )


def evaluate(
    rules: Sequence[Rule],
    board: Board,
    history: History,
    now: datetime,
    pivot: float,
    previous: Mapping[str, RuleResult] | None = None,
    min_gap_s: float = 0.0,
    *,
    explain: bool = True,
    runs: Runs | None = None,
) -> tuple[RuleResult, ...]:
    """Every row; ``previous`` (by key) defaults to the states stored on the Board."""
    prev = dict(previous) if previous is not None else stored_states(board, rules)
    return tuple(
        evaluate_rule(
            r, board, history, now, pivot, prev.get(r.key), min_gap_s, explain=explain, runs=runs
        )
        for r in rules
    )


def stored_states(board: Board, rules: Sequence[Rule]) -> dict[str, RuleResult]:
    """The last stored market state of each row (as the Board carries them from the store)."""
    out: dict[str, RuleResult] = {}
    for rule in rules:
        o = board.observations.get((state_id(rule.key), RULES_SOURCE))
        if o is not None and o.value in STATES:
            out[rule.key] = RuleResult(rule.key, rule.title, STATES[o.value], "", o.observed_at)
    for r in board.checklist:  # the last evaluation in this run, when there was one
        if r.state in CODES:
            out[r.key] = r
    return out


def changes(
    previous: Mapping[str, RuleResult], results: Sequence[RuleResult]
) -> list[tuple[RuleResult, RuleResult]]:
    """``(before, after)`` for each row whose market state changed since ``previous``.

    Waiting and stale are about the data, not the market: they are never a change, and a row
    that comes back from them is compared with the market state it had before.
    """
    return [
        (previous[r.key], r)
        for r in results
        if r.state in CODES and r.key in previous and previous[r.key].state != r.state
    ]


def state_observations(results: Sequence[RuleResult]) -> list[Observation]:
    """Each market state as the reading ``checklist.<row>`` at its ``since`` (for the store)."""
    return [
        Observation(state_id(r.key), CODES[r.state], "state", RULES_SOURCE, r.since)
        for r in results
        if r.state in CODES and r.since is not None
    ]


def _seen(rule: Rule, board: Board) -> bool:
    return any(board.reading(c.id, c.source) is not None for c in rule.conds if c.id != "btc.price")


def _check(
    c: Cond,
    latest: Mapping[tuple[str, str], Reading],
    history: History,
    now: datetime,
    pivot: float,
    runs: Runs | None = None,
) -> CondCheck:
    # Far enough back to see the run start (for "since") when judged afresh, not the whole table.
    if c.hold_n:
        lookback = c.max_gap_s * (c.hold_n + 1)
    else:
        lookback = max(2 * c.hold_s, 86_400.0) + c.max_gap_s
    since = now - timedelta(seconds=lookback)
    o = latest[(c.id, c.source)].observation
    threshold = pivot if c.threshold is None else c.threshold
    if runs is not None:
        return runs.check(c, history, o, threshold, since, now)
    series = history.series(c.id, c.source, since=since)
    if not series or series[-1][0] < o.observed_at:
        series = [*series, (o.observed_at, o.value)]
    return check(c, series, threshold, now)


def _reason(
    rule: Rule, state: RowState, checks: Mapping[str, list[CondCheck]], kept: bool, now: datetime
) -> str:
    if state is RowState.NEUTRAL:
        parts = [_describe(checks["bullish"][0], now)]
        parts.append("bullish needs " + "; ".join(_need(k) for k in checks["bullish"]))
        parts.append("bearish needs " + "; ".join(_need(k) for k in checks["bearish"]))
    else:
        side = checks["bullish" if state is RowState.BULLISH else "bearish"]
        parts = [_describe(k, now) for k in side]
        if kept:
            parts.append(f"kept until a condition has failed for {_dur(rule.exit_s)}")
    if rule.note:
        parts.append(rule.note)
    return "; ".join(parts)


def _describe(k: CondCheck, now: datetime) -> str:
    word = "above" if k.cond.op == ">" else "below"
    text = f"{k.cond.what} {_value(k.cond, k.value)}"
    if k.satisfied and k.run_start is not None:
        if k.cond.hold_n:
            text += f", {word} {_value(k.cond, k.threshold)} for {k.run_len} readings running"
        else:
            held = (now - k.run_start).total_seconds()
            text += f", {word} {_value(k.cond, k.threshold)} for {_dur(held)}"
    elif k.failing_since is not None:
        text += f", not {word} {_value(k.cond, k.threshold)}"
    return text


def _need(k: CondCheck) -> str:
    word = "above" if k.cond.op == ">" else "below"
    if k.cond.hold_n:
        span = f"{k.cond.hold_n} readings running"
    else:
        span = _dur(k.cond.hold_s) if k.cond.hold_s else "now"
    return f"{k.cond.what} {word} {_value(k.cond, k.threshold)} for {span}"


def _dur(seconds: float) -> str:
    if seconds >= 2 * 86_400:
        return f"{seconds / 86_400:.0f} d"
    if seconds >= 3600:
        return f"{seconds / 3600:.0f} h"
    return f"{max(seconds, 0) / 60:.0f} min"


def _value(c: Cond, v: float) -> str:
    return format_reading(c.id, v)


def _fmt(r: Reading) -> str:
    return format_reading(r.observation.id, r.observation.value)


def format_reading(id_: str, v: float) -> str:
    """A reading as the checklist says it, by its catalogue id's unit."""
    if id_.startswith("funding."):
        return f"{v:+.4f} %/8h"
    if id_.startswith("options."):
        return f"{v:+.1f} vol pts"
    if id_.startswith("etf."):
        return f"{'−' if v < 0 else '+'}${abs(v):,.1f}M"
    if id_.startswith("onchain."):
        return f"{'−' if v < 0 else ''}${abs(v) / 1e9:.2f}B/day"
    if id_ == "mining.hashprice":
        return f"${v:.2f}/PH/s/day"
    if id_.endswith((".chg_24h", ".chg_7d")):
        return f"{v:+.1f} %"
    if id_ == "btc.price":
        return f"${v:,.0f}"
    return f"{v:g}"
