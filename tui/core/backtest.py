"""The checklist and the verdict judged at every UTC day close of stored history (pure, no UI).

Each day close (00:00 UTC, the moment a completed day is observed: see
``tui.core.sources.parsing.day_candles``) runs the very code the engine runs:
:func:`~tui.core.rules.evaluate.evaluate` over a Board of the latest readings at that instant and a
view of the history that ends there, then :func:`~tui.core.rules.verdict.verdict`. What price did
next is the forward return ``close(d + N) / close(d) - 1`` for N = 7 and 30 days, tabled per call.

Daily granularity. Each series is read once and kept as its last reading per UTC day (the reading
at or before each close), so a store with live 15-second rows and a backfill of daily ones is
judged alike. Conditions then run over daily points: a gap of up to :data:`DAILY_GAP_S` between
two readings does not break a run (``evaluate``'s ``min_gap_s``, the same stretch a fast replay
gets), and a reading is stale when older than that gap (or its conditions' own longer gap, such
as ETF flows' five days). With readings at the closes, a condition held for ``hold_s`` needs the
run to have begun ``hold_s`` before the close: any hold from 1 s to 24 h needs two closes in a
row, 1-2 days three, 3 days four; a hold of 0 needs one. ``hold_n`` conditions (ETF flows) count
published days as live. Hysteresis: a confirmed row survives one failing close when its
``exit_s`` is above 0 and leaves on the second (every exit is at most a day). Macro is unknown
to the verdict, as it is live (the engine passes ``None`` too).

Price. The consensus ``btc.price`` is what the engine derives live; a backfill loads the venues'
daily candles instead. On a day without a recorded consensus, its close is the median of the
venues' daily closes (Coinbase, Kraken, Bitstamp), as the consensus is the median of venue prices.

A day is left out (counted, not tabled) when there was no data at the time: no price that day,
or the verdict itself says ``no data``. History, not advice.
"""

from __future__ import annotations

import math
import statistics
from bisect import bisect_left, bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from types import MappingProxyType
from typing import Final, Literal

from tui.core.analytics import History
from tui.core.config import Settings
from tui.core.model import CONSENSUS, Board, Call, Observation, RowState, RuleResult
from tui.core.rules import Cond, Rule, Side
from tui.core.rules.evaluate import CODES, evaluate, format_reading
from tui.core.rules.verdict import verdict

Point = tuple[datetime, float]
TableState = Literal["holding", "contested", "retest risk", "all judged"]

DAY: Final = timedelta(days=1)
#: Two readings this far apart still make a run, and a reading this old is not yet stale: one
#: missing day (an exchange outage, a late backfill) is not a break.
DAILY_GAP_S: Final = 2 * 86_400.0
#: Forward-return horizons, in days.
HORIZONS: Final = (7, 30)
#: The calls tabled, in the article's order, then every judged day together.
TABLE_STATES: Final[tuple[TableState, ...]] = ("holding", "contested", "retest risk", "all judged")
#: What :func:`~tui.core.rules.verdict.verdict` reads from the Board besides the rows.
VERDICT_INPUTS: Final = (("oi.futures.total.chg_24h", CONSENSUS), ("etf.outflow_streak", "farside"))
PRICE_ID: Final = "btc.price"
#: Whose daily candle closes stand in for the consensus price on days it was not recorded.
CANDLE_VENUES: Final = ("coinbase", "kraken", "bitstamp")
#: How much one key press moves a threshold, by the reading's id prefix (its unit).
STEPS: Final[tuple[tuple[str, float], ...]] = (
    ("funding.", 0.001),  # % per 8h: a tenth of a basis point
    ("options.", 0.5),  # vol pts
    ("oi.", 0.5),  # % change
    ("etf.", 50.0),  # USD m per day
    ("onchain.", 0.1e9),  # USD per day
    ("mining.", 0.5),  # USD/PH/s/day
)
PIVOT_STEP: Final = 1_000.0
PIVOT_KNOB: Final = "pivot"


@dataclass(frozen=True, slots=True)
class _Series:
    """One series as the index holds it: parallel lists, oldest first."""

    times: list[datetime]
    points: list[Point]
    observations: list[Observation]
    """Built once: the Board of every close reuses them."""


class DailyIndex:
    """Stored history in memory, one reading per UTC day; implements ``History`` by bisection.

    Each series is read from the wrapped history once, on first use (a backtest asks for the same
    few series at every close: one query each, not one per day).
    """

    def __init__(self, history: History, until: datetime | None = None) -> None:
        """Wrap ``history``, reading each series up to ``until`` (default: all of it)."""
        self._history = history
        self._until = until
        self._series: dict[tuple[str, str], _Series] = {}

    def _load(self, id_: str, source: str) -> _Series:
        found = self._series.get((id_, source))
        if found is None:
            points = _daily(self._history.series(id_, source, until=self._until))
            if (id_, source) == (PRICE_ID, CONSENSUS):
                venues = [
                    self._history.series(f"btc.day.close.{v}", v, until=self._until)
                    for v in CANDLE_VENUES
                ]
                points = _with_candles(points, venues)
            found = _Series(
                [t for t, _ in points],
                points,
                [Observation(id_, v, "", source, t) for t, v in points],
            )
            self._series[(id_, source)] = found
        return found

    def series(
        self, id_: str, source: str, since: datetime | None = None, until: datetime | None = None
    ) -> list[Point]:
        """``(observed_at, value)`` of one series, oldest first; both limits inclusive."""
        s = self._load(id_, source)
        lo = 0 if since is None else bisect_left(s.times, since)
        hi = len(s.times) if until is None else bisect_right(s.times, until)
        return s.points[lo:hi]

    def observation(self, id_: str, source: str, at: datetime) -> Observation | None:
        """The last reading at or before ``at``."""
        s = self._load(id_, source)
        i = bisect_right(s.times, at)
        return s.observations[i - 1] if i else None

    def close(self, id_: str, source: str, close_at: datetime) -> float | None:
        """The day's close: the last reading of the UTC day that ends at ``close_at``."""
        o = self.observation(id_, source, close_at)
        return o.value if o is not None and o.observed_at > close_at - DAY else None

    def first(self, id_: str, source: str) -> datetime | None:
        """When the series begins, if it has any reading."""
        times = self._load(id_, source).times
        return times[0] if times else None


def _with_candles(live: list[Point], venues: Sequence[Sequence[Point]]) -> list[Point]:
    """``live`` (daily), and for each day it lacks, the median of the venues' daily closes.

    A backfill loads daily candles, not the consensus (a median of venue prices, which the
    engine derives live): at a day's close the consensus is the median of the venues' closes.
    Only completed days count (a candle close observed at midnight; the forming day is not).
    """
    by_close: dict[datetime, list[float]] = {}
    for closes_ in venues:
        for t, v in closes_:
            if t.timestamp() % 86_400 == 0:
                by_close.setdefault(t, []).append(v)
    if not by_close:
        return live
    have = {math.ceil(t.timestamp() / 86_400) for t, _ in live}
    extra = [
        (t, statistics.median(vs))
        for t, vs in by_close.items()
        if math.ceil(t.timestamp() / 86_400) not in have
    ]
    return sorted([*live, *extra])


def _daily(points: Sequence[Point]) -> list[Point]:
    """The last point of each UTC day, where a day runs from after one midnight to the next
    (a reading stamped at midnight is the close of the day that just ended)."""
    out: list[Point] = []
    last = None
    for t, v in points:
        day = math.ceil(t.timestamp() / 86_400)
        if day == last:
            out[-1] = (t, v)
        else:
            out.append((t, v))
            last = day
    return out


@dataclass(frozen=True, slots=True)
class _AsOf:
    """The history as it stood at ``now``: nothing later is visible (no look-ahead)."""

    index: DailyIndex
    now: datetime

    def series(
        self, id_: str, source: str, since: datetime | None = None, until: datetime | None = None
    ) -> list[Point]:
        # The index's own lookup, inlined: this runs for every condition at every close.
        s = self.index._series.get((id_, source)) or self.index._load(id_, source)
        end = self.now if until is None or until > self.now else until
        lo = 0 if since is None else bisect_left(s.times, since)
        return s.points[lo : bisect_right(s.times, end)]


@dataclass(frozen=True, slots=True)
class Day:
    """One UTC day as judged at its close."""

    date: date
    close_at: datetime
    """00:00 UTC of the next day: the instant of judgement."""
    price: float | None
    """The day's close (its last price); ``None``: no price that day."""
    rows: tuple[tuple[str, RowState], ...]
    """Each checklist row's state at the close, in the rules' order."""
    call: Call | None
    """The verdict; ``None``: no data at the time (the day is left out of the table)."""
    forward: tuple[float | None, ...] = ()
    """Per :data:`HORIZONS`: ``close(d + N) / close(d) - 1``, ``None`` without both prices."""


@dataclass(frozen=True, slots=True)
class Forward:
    """What price did over one horizon after the days of one call."""

    horizon: int
    """Days."""
    count: int
    """Days with a price N days later."""
    median: float | None
    share_negative: float | None
    """Of ``count``, the share whose return was below 0 (0..1)."""
    worst: float | None
    no_price: int
    """Days of this call without a price N days later (too recent, or a hole)."""


@dataclass(frozen=True, slots=True)
class StateStats:
    """One row of the table: a call and its forward returns."""

    state: TableState
    days: int
    forward: tuple[Forward, ...]
    """Per :data:`HORIZONS`."""


@dataclass(frozen=True, slots=True)
class Backtest:
    """The checklist and the verdict over history, and what price did next."""

    since: datetime
    until: datetime
    pivot: float
    price: tuple[str, str]
    """The ``(id, source)`` whose closes are the prices."""
    days: tuple[Day, ...]
    table: tuple[StateStats, ...]
    """Per :data:`TABLE_STATES`."""
    rules: tuple[Rule, ...]

    @property
    def left_out(self) -> int:
        """Days with no data at the time."""
        return sum(1 for d in self.days if d.call is None)

    @property
    def judged(self) -> int:
        """Days with a call."""
        return len(self.days) - self.left_out


def default_since(
    index: DailyIndex, price_id: str = PRICE_ID, price_source: str = CONSENSUS
) -> datetime | None:
    """Just before the first stored price, so that its day is the first judged (``None``: no
    price is stored)."""
    first = index.first(price_id, price_source)
    return None if first is None else first - timedelta(milliseconds=1)


def inputs(rules: Sequence[Rule]) -> list[tuple[str, str]]:
    """Every ``(id, source)`` the rules (and their fallbacks) read, each once, in order."""
    seen: dict[tuple[str, str], None] = {}
    for r in rules:
        variant: Rule | None = r
        while variant is not None:
            for c in variant.conds:
                seen.setdefault((c.id, c.source), None)
            variant = variant.fallback
    return list(seen)


def stale_limits(rules: Sequence[Rule], keys: Sequence[tuple[str, str]]) -> dict[str, float]:
    """Per source: :data:`DAILY_GAP_S`, or the longest gap its conditions allow when longer."""
    limits = {source: DAILY_GAP_S for _, source in keys}
    for r in rules:
        variant: Rule | None = r
        while variant is not None:
            for c in variant.conds:
                limits[c.source] = max(limits[c.source], c.max_gap_s)
            variant = variant.fallback
    return limits


def stretched(rule: Rule, gap_s: float) -> Rule:
    """``rule`` (and its fallback) with every condition's ``max_gap_s`` at least ``gap_s``:
    what :func:`~tui.core.rules.evaluate.evaluate_rule` does with ``min_gap_s``, done once."""
    fallback = None if rule.fallback is None else stretched(rule.fallback, gap_s)
    return replace(
        rule,
        bullish=tuple(replace(c, max_gap_s=max(c.max_gap_s, gap_s)) for c in rule.bullish),
        bearish=tuple(replace(c, max_gap_s=max(c.max_gap_s, gap_s)) for c in rule.bearish),
        fallback=fallback,
    )


def closes(since: datetime, until: datetime) -> list[datetime]:
    """Every UTC day close in ``(since, until]``."""
    midnight = since.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    at, out = midnight + DAY, []
    while at <= until:
        out.append(at)
        at += DAY
    return out


def _board(
    loaded: Sequence[tuple[tuple[str, str], _Series]], now: datetime, limits: Mapping[str, float]
) -> Board:
    """The Board the engine would have held at ``now``: the latest reading of each input."""
    observations = {}
    for key, s in loaded:
        i = bisect_right(s.times, now)
        if i:
            observations[key] = s.observations[i - 1]
    return Board("replay", now, MappingProxyType(observations), stale_after=limits)


def run(
    history: History,
    rules: Sequence[Rule],
    *,
    since: datetime,
    until: datetime,
    settings: Settings,
    price_id: str = PRICE_ID,
    price_source: str = CONSENSUS,
) -> Backtest:
    """Judge every UTC day whose close lies in ``(since, until]`` and table what price did next.

    Args:
        history: stored series (a :class:`~tui.core.store.Store`), or a :class:`DailyIndex`
            already built over one (the screen keeps one, so a change of threshold re-runs fast).
        rules: the checklist rows, as configured (or with thresholds varied).
        since: the first day judged is the one whose close follows this.
        until: the last day judged is the one whose close is at or before this.
        settings: the pivot.
        price_id: the price whose closes measure forward returns.
        price_source: its source.
    """
    index = history if isinstance(history, DailyIndex) else DailyIndex(history)
    rules = tuple(rules)
    # Stretched once here, as evaluate's min_gap_s would stretch them again at every close.
    daily = tuple(stretched(r, DAILY_GAP_S) for r in rules)
    pivot = settings.pivot
    keys = list(dict.fromkeys([*inputs(rules), (PRICE_ID, CONSENSUS), *VERDICT_INPUTS]))
    limits = MappingProxyType(stale_limits(rules, keys))
    loaded = [(key, index._load(*key)) for key in keys]
    previous: dict[str, RuleResult] = {}
    days: list[Day] = []
    judged = closes(since, until)
    price_at: dict[datetime, float | None] = {}
    if judged:  # every close once: a day's price, and the forward prices of the days before it
        last = judged[-1] + max(HORIZONS) * DAY
        ends = [*judged, *(last - i * DAY for i in range(max(HORIZONS) - 1, -1, -1))]
        price_at = {t: index.close(price_id, price_source, t) for t in ends}
    for close in judged:
        board = _board(loaded, close, limits)
        view = _AsOf(index, close)
        results = evaluate(daily, board, view, close, pivot, previous, explain=False)
        # As the engine does: the last market state of each row carries its hysteresis on.
        previous.update((r.key, r) for r in results if r.state in CODES)
        call = verdict(results, board, pivot, None, close).call
        price = price_at[close]
        forward = tuple(_change(price, price_at[close + h * DAY]) for h in HORIZONS)
        days.append(
            Day(
                (close - DAY).date(),
                close,
                price,
                tuple((r.key, r.state) for r in results),
                None if price is None or call == "no data" else call,
                forward,
            )
        )
    return Backtest(since, until, pivot, (price_id, price_source), tuple(days), table(days), rules)


def _change(start: float | None, end: float | None) -> float | None:
    return None if start is None or end is None or start == 0 else end / start - 1


def table(days: Sequence[Day]) -> tuple[StateStats, ...]:
    """Per call (and all judged days): the forward returns' count, median, share negative, worst."""
    out = []
    for state in TABLE_STATES:
        chosen = [
            d for d in days if d.call is not None and (state == "all judged" or d.call == state)
        ]
        stats = []
        for i, h in enumerate(HORIZONS):
            got = [r for d in chosen if (r := d.forward[i]) is not None]
            stats.append(
                Forward(
                    h,
                    len(got),
                    statistics.median(got) if got else None,
                    sum(1 for r in got if r < 0) / len(got) if got else None,
                    min(got) if got else None,
                    len(chosen) - len(got),
                )
            )
        out.append(StateStats(state, len(chosen), tuple(stats)))
    return tuple(out)


# -- varying thresholds -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Knob:
    """A threshold the Backtest screen nudges: one condition of one rule variant, or the pivot."""

    key: str
    """``funding.0.bullish.positive`` (row, variant depth, side, condition), or ``pivot``."""
    label: str
    """``Funding · bullish: funding above +0.0000 %/8h``."""
    value: float
    step: float

    def moved(self, steps: int) -> float:
        """The value ``steps`` steps away (rounded: 0.1 + 0.2 steps read 0.3, not 0.30000000004)."""
        return round(self.value + steps * self.step, 9)


def knobs(rules: Sequence[Rule], pivot: float) -> tuple[Knob, ...]:
    """Every condition with its own threshold (those on the pivot follow it), then the pivot."""
    out = []
    for r in rules:
        variant: Rule | None = r
        depth = 0
        while variant is not None:
            extra = f" ({variant.note})" if variant.note else ""
            for side, conds in (("bullish", variant.bullish), ("bearish", variant.bearish)):
                for c in conds:
                    if c.threshold is None:
                        continue
                    word = "above" if c.op == ">" else "below"
                    out.append(
                        Knob(
                            f"{r.key}.{depth}.{side}.{c.name}",
                            f"{r.title} · {side}: {c.what} {word} "
                            f"{format_reading(c.id, c.threshold)}{extra}",
                            c.threshold,
                            _step(c),
                        )
                    )
            variant, depth = variant.fallback, depth + 1
    out.append(Knob(PIVOT_KNOB, f"pivot {format_reading(PRICE_ID, pivot)}", pivot, PIVOT_STEP))
    return tuple(out)


def _step(c: Cond) -> float:
    return next((s for prefix, s in STEPS if c.id.startswith(prefix)), 1.0)


def nudged(rules: Sequence[Rule], key: str, value: float) -> tuple[Rule, ...]:
    """``rules`` with the threshold named by knob ``key`` set to ``value`` (not the pivot).

    Only that one condition changes: config overrides name a condition in every variant of a row
    (``onchain``'s Glassnode rule and its keyless proxy share names, with opposite signs).

    Raises:
        ValueError: no such knob.
    """
    row, depth_text, side, name = key.split(".")
    depth = int(depth_text)
    if side not in ("bullish", "bearish") or not any(r.key == row for r in rules):
        raise ValueError(f"no threshold {key!r}")
    return tuple(_set(r, depth, side, name, value) if r.key == row else r for r in rules)


def _set(rule: Rule, depth: int, side: str, name: str, value: float) -> Rule:
    if depth > 0:
        if rule.fallback is None:
            raise ValueError(f"row {rule.key!r} has no variant {depth}")
        return replace(rule, fallback=_set(rule.fallback, depth - 1, side, name, value))
    s: Side = "bullish" if side == "bullish" else "bearish"
    conds = rule.bullish if s == "bullish" else rule.bearish
    if not any(c.name == name for c in conds):
        raise ValueError(f"row {rule.key!r} has no {s} condition {name!r}")
    fixed = tuple(replace(c, threshold=value) if c.name == name else c for c in conds)
    return replace(rule, bullish=fixed) if s == "bullish" else replace(rule, bearish=fixed)


# -- what the screen draws ----------------------------------------------------------------------

#: How each call is drawn on the timeline: the theme variable and the glyph (NO_COLOR keeps it).
MARKS: Final[tuple[tuple[Call, str, str], ...]] = (
    ("holding", "bullish", "▲"),
    ("contested", "neutral", "●"),
    ("retest risk", "bearish", "▼"),
    ("no data", "missing", "·"),
)


@dataclass(frozen=True, slots=True)
class Timeline:
    """The price's daily closes with the pivot, and the verdict of each day under them."""

    points: tuple[tuple[float, float], ...]
    """``(epoch seconds of the close, price)`` of the days with a price."""
    pivot: float
    marks: tuple[tuple[str, str, tuple[float, ...]], ...]
    """Per call (:data:`MARKS`): its theme variable, its glyph and the closes it was made at."""
    band: float
    """The y value the verdict timeline is drawn at, under the prices."""
    x_range: tuple[float, float]
    y_range: tuple[float, float]
    note: str


def timeline(bt: Backtest) -> Timeline:
    """The chart of ``bt``: closes, the pivot line, the verdict per day beneath."""
    points = tuple((d.close_at.timestamp(), d.price) for d in bt.days if d.price is not None)
    marks = tuple(
        (tone, glyph, tuple(d.close_at.timestamp() for d in bt.days if (d.call or "no data") == c))
        for c, tone, glyph in MARKS
    )
    values = [p for _, p in points] + [bt.pivot]
    lo, hi = min(values), max(values)
    span = max(hi - lo, hi * 0.01, 1.0)
    band = lo - 0.15 * span
    if bt.days:
        x0, x1 = bt.days[0].close_at.timestamp(), bt.days[-1].close_at.timestamp()
    else:
        x0 = x1 = bt.until.timestamp()
    if x1 - x0 < 86_400:
        x0, x1 = x0 - 86_400, x1 + 86_400
    if points:
        closes_ = "1 close" if len(points) == 1 else f"{len(points)} closes"
        note = f"{closes_} of {bt.price[0]} ({bt.price[1]})"
    else:
        note = f"no daily closes of {bt.price[0]} ({bt.price[1]}) in this range"
    return Timeline(
        points, bt.pivot, marks, band, (x0, x1), (band - 0.08 * span, hi + 0.05 * span), note
    )


# -- text and JSON ------------------------------------------------------------------------------


def pct(x: float | None) -> str:
    """``+1.2%``, or ``–`` when unknown."""
    return "–" if x is None else f"{x * 100:+.1f}%"


def share(x: float | None) -> str:
    """``38%``, or ``–`` when unknown."""
    return "–" if x is None else f"{x * 100:.0f}%"


def header(bt: Backtest) -> str:
    """``History, not advice · 401 days · left out 3 (no data at the time) · 01 Jan 2025 – …``."""
    span = (
        f" · {bt.days[0].date:%d %b %Y} – {bt.days[-1].date:%d %b %Y}" if bt.days else " · no days"
    )
    days = "1 day" if bt.judged == 1 else f"{bt.judged} days"
    return f"History, not advice · {days} · left out {bt.left_out} (no data at the time){span}"


def no_price_note(bt: Backtest) -> str:
    """How many judged days have no price N days later (too recent, or a hole), per horizon."""
    every = bt.table[-1]
    parts = [f"{f.no_price} without a price {f.horizon} days later" for f in every.forward]
    return "forward return = close(d+N) / close(d) − 1 · " + " · ".join(parts)


def render_text(bt: Backtest) -> str:
    """The table for a terminal: the header, one line per call, what was left out."""
    head = f"{'verdict':<12} {'days':>5}"
    for h in HORIZONS:
        head += f" │ {f'{h}d n':>6} {'median':>7} {'neg':>4} {'worst':>7}"
    lines = [f"Backtest · {header(bt)}", f"pivot {format_reading(PRICE_ID, bt.pivot)}", "", head]
    for s in bt.table:
        line = f"{s.state:<12} {s.days:>5}"
        for f in s.forward:
            line += f" │ {f.count:>6} {pct(f.median):>7} {share(f.share_negative):>4} "
            line += f"{pct(f.worst):>7}"
        lines.append(line)
    lines += ["", no_price_note(bt), "btcwatch is a monitor, not advice: this is what happened."]
    return "\n".join(lines) + "\n"


def to_dict(bt: Backtest) -> dict[str, object]:
    """The backtest as JSON-ready data (``btcwatch backtest --json``)."""

    def iso(t: datetime) -> str:
        return t.astimezone(UTC).isoformat(timespec="milliseconds")

    return {
        "kind": "backtest",
        "note": "history, not advice",
        "since": iso(bt.since),
        "until": iso(bt.until),
        "pivot": bt.pivot,
        "price": {"id": bt.price[0], "source": bt.price[1]},
        "days_judged": bt.judged,
        "left_out": bt.left_out,
        "horizons_days": list(HORIZONS),
        "table": [
            {
                "state": s.state,
                "days": s.days,
                "forward": [
                    {
                        "horizon_days": f.horizon,
                        "count": f.count,
                        "median": f.median,
                        "share_negative": f.share_negative,
                        "worst": f.worst,
                        "no_price": f.no_price,
                    }
                    for f in s.forward
                ],
            }
            for s in bt.table
        ],
        "days": [
            {
                "date": d.date.isoformat(),
                "price": d.price,
                "call": d.call,
                "rows": {k: state.value for k, state in d.rows},
                "forward": list(d.forward),
            }
            for d in bt.days
        ],
    }
