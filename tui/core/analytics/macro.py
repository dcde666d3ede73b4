"""Cross-asset macro: 30-day correlation with BTC, N-day moves, and the article's first condition.

Pure and stdlib-only: a 30-return correlation is ``statistics.correlation`` on two short lists
(DESIGN.md: no pandas for small series; it costs 0.4 s to import).
"""

from __future__ import annotations

import itertools
import math
import statistics
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Final, Literal

from tui.core.analytics import History, midnights
from tui.core.analytics.price import DAY_SOURCES
from tui.core.config import Settings
from tui.core.model import DAILY, Board, Observation, Reading
from tui.core.sources.yahoo import ASSETS, market_open

#: Providers of ``macro.*``, best first (SOURCES.md §16): Yahoo, then Stooq, then FRED.
MACRO_SOURCES: Final = ("yahoo", "stooq", "fred")
#: Returns in the correlation window, and the fewest aligned returns worth a number.
WINDOW: Final = 30
MIN_RETURNS: Final = 20
#: History read per call: 30 trading days plus weekends and holidays.
LOOKBACK: Final = timedelta(days=70)
_DAY: Final = timedelta(days=1)

State = Literal["held", "not held", "waiting"]


@dataclass(frozen=True, slots=True)
class MacroThresholds:
    """Thresholds of the article's first condition ("tech keeps stabilising, yields stop
    tightening, the dollar stops strengthening"). The lead wires them to config."""

    days: int = 3
    """N: the window, in trading days, of every condition."""
    yield_rise_bp: float = 10.0
    """X: us10y up by more than this many basis points over N days is tightening."""
    dollar_rise_pct: float = 0.5
    """Y: dxy up by more than this percentage over N days is strengthening."""


@dataclass(frozen=True, slots=True)
class ConditionReading:
    """One input of a condition: ``ndx 3d  +1.20 %  (yahoo)``."""

    asset: str
    value: float | None
    """``None`` when missing (or stale while its market is open)."""
    unit: str
    source: str = ""
    reading: Reading | None = None
    """The Board reading behind ``value`` (its age), when there is one."""


@dataclass(frozen=True, slots=True)
class Condition:
    """A named condition with its readings and whether it holds."""

    key: str
    """``tech``, ``yields``, ``dollar``."""
    name: str
    """``tech stabilising``, ``yields not tightening``, ``dollar not strengthening``."""
    state: State
    readings: tuple[ConditionReading, ...]
    rule: str
    """The rule in words: ``ndx and sox not down over 3 days``."""


@dataclass(frozen=True, slots=True)
class MacroState:
    """The first condition for holding $70k, as named sub-conditions (for the checklist)."""

    conditions: tuple[Condition, ...]

    @property
    def state(self) -> State:
        """``not held`` if any fails, ``held`` if all hold, else ``waiting``."""
        states = {c.state for c in self.conditions}
        if "not held" in states:
            return "not held"
        return "held" if states == {"held"} else "waiting"

    @property
    def holds(self) -> bool | None:
        """For ``rules.verdict``'s ``macro_holds``: True, False, or None while waiting."""
        return {"held": True, "not held": False}.get(self.state)


def thresholds(settings: Settings) -> MacroThresholds:
    """The thresholds for ``settings`` (defaults until config carries a ``[macro]`` section)."""
    del settings
    return MacroThresholds()


def change_id(asset: str, days: int) -> str:
    """Id of the N-day move derived here: ``macro.ndx.chg_3d`` (% ; bp for us10y)."""
    return f"macro.{asset}.chg_{days}d"


def change_unit(asset: str) -> str:
    """``bp`` for the yield (a move of a rate), ``%`` for everything else."""
    return "bp" if asset == "us10y" else "%"


def pick_id(board: Board, id_: str) -> Reading | None:
    """The reading of ``id_`` to show: the first fresh one in :data:`MACRO_SOURCES` order, else
    the newest (stale) one, else ``None``."""
    readings = [r for src in MACRO_SOURCES if (r := board.reading(id_, src)) is not None]
    fresh = [r for r in readings if not r.stale]
    if fresh:
        return fresh[0]
    return max(readings, key=lambda r: r.observation.observed_at, default=None)


def pick(board: Board, asset: str) -> Reading | None:
    """Which provider's ``macro.<asset>`` the pane shows: Yahoo when fresh, then Stooq, then FRED;
    with none fresh (a closed market, or all failing) the newest value."""
    return pick_id(board, f"macro.{asset}")


def log_returns(
    a: Mapping[date, float], b: Mapping[date, float], window: int = WINDOW
) -> tuple[list[float], list[float], date] | None:
    """Daily log returns of ``a`` and ``b`` over their last ``window + 1`` common dates.

    Returns run between consecutive dates both series have (a Monday's return spans the weekend
    for both), so a day one side does not trade is skipped, not filled. ``None`` without two
    common dates or with a non-positive value.
    """
    common = sorted(set(a) & set(b))[-(window + 1) :]
    if len(common) < 2:
        return None
    if any(a[d] <= 0 or b[d] <= 0 for d in common):
        return None
    ra = [math.log(a[d1] / a[d0]) for d0, d1 in itertools.pairwise(common)]
    rb = [math.log(b[d1] / b[d0]) for d0, d1 in itertools.pairwise(common)]
    return ra, rb, common[-1]


def correlation(
    a: Mapping[date, float],
    b: Mapping[date, float],
    window: int = WINDOW,
    min_returns: int = MIN_RETURNS,
) -> tuple[float, date] | None:
    """Pearson correlation of the daily log returns of ``a`` and ``b`` (see :func:`log_returns`),
    with the last common date; ``None`` with fewer than ``min_returns`` returns or a flat side."""
    found = log_returns(a, b, window)
    if found is None or len(found[0]) < min_returns:
        return None
    ra, rb, last = found
    try:
        r = statistics.correlation(ra, rb)
    except statistics.StatisticsError:  # a constant series has no correlation
        return None
    return max(-1.0, min(1.0, r)), last


def window_change(closes: Mapping[date, float], asset: str, days: int) -> tuple[float, date] | None:
    """The move over the last ``days`` trading days: % (bp for us10y), with its last date."""
    series = sorted(closes.items())
    if len(series) < days + 1:
        return None
    (_, first), (last_day, last) = series[-1 - days], series[-1]
    if asset == "us10y":
        return (last - first) * 100.0, last_day
    if first <= 0:
        return None
    return (last / first - 1.0) * 100.0, last_day


def derive(board: Board, history: History, now: datetime, settings: Settings) -> list[Observation]:
    """``macro.corr30d.<asset>`` (consensus) and the N-day moves ``macro.<asset>.chg_<N>d``.

    Inputs: BTC's completed UTC-day closes ``btc.day.close.<venue>`` (Kraken, else Coinbase, else
    Bitstamp: the venues whose daily candles are stored, each completed day observed at its end,
    00:00 UTC of the next day), and each asset's ``macro.<asset>.close`` from the first provider
    of :data:`MACRO_SOURCES` whose level is fresh (or whose market is closed). A source whose
    latest reading is stale is skipped. The correlation is observed at the end of the last
    common date (when both closes of that day exist), never after ``now``; the moves, of one
    provider's closes, carry that provider's name. Missing inputs give no reading, never 0.
    """
    th = thresholds(settings)
    since = now - LOOKBACK
    btc = _btc_closes(board, history, since, now)
    out: list[Observation] = []
    for asset in ASSETS:
        found = _macro_closes(board, history, asset, since, now)
        if found is None:
            continue
        source, closes = found
        corr = correlation(btc, closes) if btc else None
        if corr is not None:
            r, last = corr
            at = min(_end_of(last), now)
            out.append(Observation(f"macro.corr30d.{asset}", r, "corr", DAILY, at))
        move = window_change(closes, asset, th.days)
        if move is not None:
            value, last = move
            out.append(
                Observation(
                    change_id(asset, th.days),
                    value,
                    change_unit(asset),
                    source,
                    min(_end_of(last), now),
                )
            )
    return out


def macro_state(board: Board, th: MacroThresholds | None = None) -> MacroState:
    """The article's first condition from the Board's N-day moves (published by :func:`derive`).

    - tech stabilising: ndx and sox not down over N days;
    - yields not tightening: us10y not up more than X bp over N days;
    - dollar not strengthening: dxy not up more than Y % over N days.

    A move that is missing, or stale while its market is open, makes its condition ``waiting``
    unless another input already decides it (one index down is enough for "not held").
    """
    th = th or MacroThresholds()
    n = th.days

    def reading(asset: str) -> ConditionReading:
        r = pick_id(board, change_id(asset, n))
        unit = change_unit(asset)
        if r is None or (r.stale and market_open(asset, board.generated_at)):
            return ConditionReading(asset, None, unit, r.observation.source if r else "")
        return ConditionReading(asset, r.observation.value, unit, r.observation.source, r)

    tech = (reading("ndx"), reading("sox"))
    yields = (reading("us10y"),)
    dollar = (reading("dxy"),)
    return MacroState(
        (
            Condition(
                "tech",
                "tech stabilising",
                _judge(tech, lambda v: v >= 0.0),
                tech,
                f"ndx and sox not down over {n} days",
            ),
            Condition(
                "yields",
                "yields not tightening",
                _judge(yields, lambda v: v <= th.yield_rise_bp),
                yields,
                f"us10y not up more than {th.yield_rise_bp:g} bp over {n} days",
            ),
            Condition(
                "dollar",
                "dollar not strengthening",
                _judge(dollar, lambda v: v <= th.dollar_rise_pct),
                dollar,
                f"dxy not up more than {th.dollar_rise_pct:g} % over {n} days",
            ),
        )
    )


def _judge(readings: tuple[ConditionReading, ...], ok: Callable[[float], bool]) -> State:
    values = [r.value for r in readings]
    if any(v is not None and not ok(v) for v in values):
        return "not held"
    return "held" if all(v is not None for v in values) else "waiting"


def _end_of(d: date) -> datetime:
    """00:00 UTC after ``d``: when a close of ``d`` is complete on both sides."""
    return datetime(d.year, d.month, d.day, tzinfo=UTC) + _DAY


def _btc_closes(
    board: Board, history: History, since: datetime, now: datetime
) -> dict[date, float]:
    """Completed BTC UTC-day closes by day, from the first venue with a fresh close and history.

    Completed days are stored at 00:00 UTC of the next day (parsing.day_candles); the forming
    day, observed at its fetch time, is left out.
    """
    for src in DAY_SOURCES:
        id_ = f"btc.day.close.{src}"
        latest = board.reading(id_, src)
        if latest is None or latest.stale:
            continue
        days = {
            (t.astimezone(UTC) - _DAY).date(): v
            for t, v in midnights(history, id_, src, since, now)
        }
        if len(days) > MIN_RETURNS:
            return days
    return {}


def _macro_closes(
    board: Board, history: History, asset: str, since: datetime, now: datetime
) -> tuple[str, dict[date, float]] | None:
    """``(source, closes by day)`` from the first usable provider with at least two closes.

    Usable: its latest ``macro.<asset>`` is fresh, or the market is closed (a Friday close is the
    latest there is all weekend). Close rows sit at 00:00 UTC of their day; a futures session's
    bar can be dated tomorrow from 18:00 New York time, hence the day of slack.
    """
    closed = not market_open(asset, now)
    for src in MACRO_SOURCES:
        latest = board.reading(f"macro.{asset}", src)
        if latest is None or (latest.stale and not closed):
            continue
        rows = history.series(f"macro.{asset}.close", src, since, now + _DAY)
        closes = {t.astimezone(UTC).date(): v for t, v in rows}
        if len(closes) >= 2:
            return src, closes
    return None
