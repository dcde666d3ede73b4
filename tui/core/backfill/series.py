"""What a backfill asks for: one series of history per provider endpoint, cut into day windows.

Days are UTC calendar days. A window ``[first, last]`` (both inclusive) asks the provider for the
values of those days; once its answer is stored, the series' backfill mark covers them, whether
the provider had a value for each day or not (a gap in its data stays a gap: nothing is invented,
and a rerun does not ask again). Only completed days are loaded: the newest is yesterday, because
today belongs to the live loop.

Daily values keep the ``observed_at`` the live parsers give the same ids, so backfilled rows join
the live series instead of sitting one row beside it: a BTC daily candle at 00:00 UTC after its day
(``parsing.day_candles``), a macro close at 00:00 UTC of its day (``yahoo.day_start``), an ETF
flow at 20:00 UTC of its trading day (``farside.observed_at``), a mempool daily hashrate at the
day's own timestamp, a daily DVOL or mean block reward at the 00:00 UTC that ends its day (like a
candle's close), and point readings (funding, open interest) at the time the provider gives them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Final, Literal

from tui.core.model import Json, Observation

DAY: Final = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Request:
    """One page of a series: a GET under the source's base URL, and the days it covers."""

    path: str
    params: tuple[tuple[str, str], ...]
    first: date
    """The oldest day this page covers."""
    last: date
    """The newest day this page covers."""

    def query(self) -> Mapping[str, str]:
        """The query parameters as a mapping."""
        return dict(self.params)


Windows = Callable[[date, date], list["Request"]]
"""``windows(first, last)``: the pages that cover ``[first, last]`` without gap or overlap,
newest first (the runner reverses them to walk forward)."""
Follow = Callable[[Json, "Request"], "Request | None"]
"""``follow(body, request)``: the next page of a cursor (Deribit's ``continuation``), if any."""
Parse = Callable[[Json, datetime], list[Observation]]


@dataclass(frozen=True, slots=True)
class Series:
    """One history endpoint of one source, and how to walk it."""

    source: str
    """The config name of the source (``[sources.<name>]``): base URL, enabled, User-Agent."""
    key: str
    """The backfill mark's key in the store (``coinbase.candles``)."""
    title: str
    """How the progress line and the report name it."""
    ids: tuple[str, ...]
    """The catalogue ids it loads (a ``*`` stands for a family, e.g. one per fund)."""
    windows: Windows
    parse: Parse
    docs_url: str
    format: Literal["json", "text"] = "json"
    single: bool = False
    """One request serves any range (a whole page, a fixed span such as ``1y``): uncovered
    parts are asked for together, in one request."""
    max_days: int | None = None
    """The provider publishes only this many recent days (Binance OI: 30, Kraken OHLC: 720)."""
    reach_note: str = ""
    """Said in the report when ``max_days`` cuts the asked range."""
    clip: bool = True
    """Keep only rows inside the page's days (``False``: keep everything the answer holds)."""
    day_end: bool = False
    """Its daily rows are observed at the 00:00 UTC that ends their day (a candle's close), so
    a page's rows run from just after 00:00 of its first day to 00:00 after its last; otherwise
    from 00:00 of the first day to just before 00:00 after the last."""
    follow: Follow | None = None
    min_spacing_s: float = 0.25
    """At least this long between two requests of this series (the provider's limits)."""
    user_agent: str | None = None
    extra: Mapping[str, str] = field(default_factory=dict)


def day_start(d: date) -> datetime:
    """00:00 UTC of ``d``."""
    return datetime.combine(d, time(0), tzinfo=UTC)


def ms(at: datetime) -> int:
    """Milliseconds since the epoch."""
    return int(at.timestamp() * 1000)


def iso(at: datetime) -> str:
    """``2026-02-05T00:00:00Z``."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def split_back(first: date, last: date, size: int) -> list[tuple[date, date]]:
    """``[first, last]`` in windows of at most ``size`` days, newest first, no gap, no overlap."""
    out: list[tuple[date, date]] = []
    hi = last
    while hi >= first:
        lo = max(first, hi - timedelta(days=size - 1))
        out.append((lo, hi))
        hi = lo - DAY
    return out


def split_forward(first: date, last: date, size: int) -> list[tuple[date, date]]:
    """The same windows, oldest first."""
    return list(reversed(split_back(first, last, size)))


def clip(
    observations: list[Observation], first: date, last: date, *, day_end: bool
) -> list[Observation]:
    """The rows dated within the page's days ``[first, last]``: ``(00:00 of first, 00:00 after
    last]`` for rows stamped at their day's end, ``[00:00 of first, 00:00 after last)`` else."""
    lo, hi = day_start(first), day_start(last) + DAY
    if day_end:
        return [o for o in observations if lo < o.observed_at <= hi]
    return [o for o in observations if lo <= o.observed_at < hi]


Covered = tuple[date, date]


def parse_mark(text: str | None) -> Covered | None:
    """A stored mark ``2025-02-06/2026-02-05``; ``None`` for no mark or one this version cannot
    read (the series is then loaded again, which adds no duplicate rows)."""
    if not text:
        return None
    try:
        a, b = text.split("/")
        lo, hi = date.fromisoformat(a), date.fromisoformat(b)
    except ValueError:
        return None
    return (lo, hi) if lo <= hi else None


def format_mark(covered: Covered) -> str:
    """The mark text of ``covered``."""
    return f"{covered[0].isoformat()}/{covered[1].isoformat()}"


def merge(covered: Covered | None, first: date, last: date) -> Covered:
    """``covered`` widened by the adjacent or overlapping ``[first, last]``."""
    if covered is None:
        return (first, last)
    return (min(covered[0], first), max(covered[1], last))


Gap = tuple[Covered, Literal["back", "fwd"]]


def gaps(want: Covered, covered: Covered | None) -> tuple[Covered | None, list[Gap]]:
    """What is left to load of ``want``, given the mark ``covered``.

    Returns the coverage to start from and the uncovered parts, each with the direction that
    keeps the coverage one unbroken range as pages land: the part newer than the mark walks
    forward from it, the older part walks back from it. A mark that does not touch ``want`` (from
    a run long ago) is dropped: the range is loaded afresh, newest first.
    """
    if covered is None or covered[1] + DAY < want[0] or want[1] + DAY < covered[0]:
        return None, [(want, "back")]
    out: list[Gap] = []
    if covered[1] < want[1]:
        out.append(((covered[1] + DAY, want[1]), "fwd"))
    if want[0] < covered[0]:
        out.append(((want[0], covered[0] - DAY), "back"))
    return covered, out
