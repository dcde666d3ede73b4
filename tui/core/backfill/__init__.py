"""Backfill: load the daily history each free source publishes into the store, resumably.

Every :class:`~tui.core.backfill.series.Series` is planned as pages of days back to ``now -
days`` (skipping what its backfill mark says is loaded), fetched one page at a time per host
through :class:`~tui.core.http.HttpClient` (spacing per source, a rate limit waited out on the
clock), and each page is written as it arrives (``Store.write_backfill``: marked, never over a
live row) before the mark moves: a kill loses at most one page, a rerun asks for nothing twice,
and a second run adds no rows. Then the derive step (:mod:`tui.core.backfill.derived`) forms the
readings the checklist reads (consensus price, hashprice, OI-weighted funding, ...) at every
day's close of the range with the engine's analytics; it adds nothing twice either.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Final
from urllib.parse import urlencode, urlsplit

import httpx

from tui.core.backfill import binance, candles, coinmetrics, deribit, derived, flows, macro, mining
from tui.core.backfill.derived import DeriveReport
from tui.core.backfill.series import (
    DAY,
    Covered,
    Request,
    Series,
    clip,
    format_mark,
    gaps,
    merge,
    parse_mark,
)
from tui.core.clock import Clock
from tui.core.config import Settings
from tui.core.errors import FetchError, RateLimitedError
from tui.core.http import HttpClient, HttpSettings
from tui.core.model import Json, Observation
from tui.core.sources import registry
from tui.core.store import Store

#: Every history series, in the order the report lists them.
SERIES: Final[tuple[Series, ...]] = (
    *candles.SERIES,
    *deribit.SERIES,
    *binance.SERIES,
    *flows.SERIES,
    *mining.SERIES,
    *coinmetrics.SERIES,
    *macro.SERIES,
)
#: How the progress line names the derive step.
DERIVE_TITLE: Final = "deriving daily readings"
#: The longest backfill the command accepts (Yahoo's ``10y`` range; beyond it ``max``).
MAX_DAYS: Final = 3650
#: A rate limit longer than this is not waited out: the series fails with a hint to rerun.
MAX_WAIT_S: Final = 600.0
#: Rate limits waited out per series before it is given up for this run.
MAX_RATE_LIMITS: Final = 5
#: A rate limit that gives no end (Kraken's and Deribit's in-body errors): wait this long.
DEFAULT_WAIT_S: Final = 60.0
#: Readings with no free history anywhere: they start when btcwatch first records them.
NO_HISTORY: Final = (
    (
        "options skew (RR25), ATM term structure, put OI",
        "deribit_options",
        (
            "options.rr25.7d",
            "options.rr25.30d",
            "options.atm_iv.7d",
            "options.atm_iv.30d",
            "options.atm_iv.90d",
            "options.term.slope",
            "options.put_oi.retest_band",
            "options.put_oi.retest_share",
        ),
    ),
)
#: Why the other sources load no history.
NOT_LOADED: Final = {
    "deribit": "index price: live only (the daily candles carry the history)",
    "bybit": "no history loader yet (funding and OI history exist: /v5/market/funding/history)",
    "okx": "no history loader yet (funding history covers 3 months; liquidations none)",
    "glassnode": "needs a key; no history loader yet",
    "stooq": "history CSV (/q/d/l/) serves an anti-bot page since Jul 2026 (SOURCES.md §13)",
}


@dataclass(frozen=True, slots=True)
class SeriesResult:
    """What one series' backfill did."""

    key: str
    title: str
    source: str
    requests: int
    """HTTP requests made (a rate-limited attempt counts)."""
    rows_added: int
    covered: Covered | None
    """The days its mark covers after this run."""
    failure: str | None = None
    """One line: why it stopped (the rest of it is loaded by a rerun)."""
    note: str = ""
    """E.g. the provider's reach cutting the asked range."""


@dataclass(frozen=True, slots=True)
class BackfillReport:
    """The whole run: per series, what was skipped and why, and what has no history."""

    days: int
    first: date
    last: date
    series: tuple[SeriesResult, ...] = ()
    skipped: tuple[tuple[str, str], ...] = ()
    """``(source, reason)`` for sources that load nothing."""
    no_history: tuple[str, ...] = ()
    """One line per family of readings without free history."""
    notice: str | None = None
    """Set when nothing could be loaded at all (a read-only store)."""
    derived: DeriveReport | None = None
    """What the derive step formed from the history (``None``: not run)."""

    @property
    def requests(self) -> int:
        """HTTP requests made in all."""
        return sum(s.requests for s in self.series)

    @property
    def rows_added(self) -> int:
        """Rows newly stored in all."""
        return sum(s.rows_added for s in self.series)

    @property
    def failures(self) -> tuple[SeriesResult, ...]:
        """The series that stopped early."""
        return tuple(s for s in self.series if s.failure is not None)


@dataclass(frozen=True, slots=True)
class Progress:
    """Where a run is, after each request (for a progress bar) and when a series ends."""

    title: str
    """The series being loaded."""
    done: int
    """Requests made so far, all series."""
    planned: int
    """Requests planned so far (a cursor page adds one)."""
    rows_added: int
    finished: SeriesResult | None = None
    """Set once, when a series ends."""


@dataclass(slots=True)
class _Plan:
    series: Series
    base_url: str
    spacing_s: float
    covered: Covered | None
    requests: list[Request]
    note: str


@dataclass(slots=True)
class _Tally:
    done: int = 0
    planned: int = 0
    rows: int = 0
    results: dict[str, SeriesResult] = field(default_factory=dict)


def want_range(today: date, days: int) -> Covered:
    """The completed days a ``days``-day backfill asks for: ``today - days`` .. yesterday."""
    return (today - timedelta(days=days), today - DAY)


def plan(
    series: Series, store: Store, want: Covered, today: date
) -> tuple[Covered | None, list[Request], str]:
    """The coverage to start from, the pages still to fetch (in order) and a note.

    Raises:
        StoreError: the mark cannot be read.
    """
    note = ""
    lo = want[0]
    if series.max_days is not None and lo < today - timedelta(days=series.max_days):
        lo = today - timedelta(days=series.max_days)
        note = f"{series.reach_note}: from {lo.isoformat()}"
    if lo > want[1]:
        return parse_mark(store.backfill_mark(series.key)), [], note
    start, todo = gaps((lo, want[1]), parse_mark(store.backfill_mark(series.key)))
    if series.single:
        if not todo:
            return start, [], note
        first = min(g[0][0] for g in todo)
        last = max(g[0][1] for g in todo)
        return start, series.windows(first, last), note
    pages: list[Request] = []
    for (first, last), direction in todo:
        windows = series.windows(first, last)
        pages.extend(reversed(windows) if direction == "fwd" else windows)
    return start, pages, note


async def backfill(
    store: Store,
    settings: Settings,
    *,
    days: int,
    clock: Clock,
    transport: httpx.AsyncBaseTransport | None = None,
    progress: Callable[[Progress], None] = lambda _: None,
    http_settings: HttpSettings | None = None,
    series: Sequence[Series] = SERIES,
    derive_readings: bool = True,
) -> BackfillReport:
    """Load ``days`` completed days of history from every enabled source into ``store``.

    Hosts are served concurrently, each one's pages one after another. A rate limit is waited
    out on ``clock`` (up to :data:`MAX_WAIT_S`) and the page asked again; any other failure ends
    that series for this run (the report says why) and the others go on.

    Args:
        store: the history; read-only stores load nothing (the report's ``notice`` says so).
        settings: which sources are enabled, their base URLs.
        days: how many completed UTC days back from yesterday (1..:data:`MAX_DAYS`).
        clock: spacing and rate-limit waits sleep on it; ``now()`` dates the run.
        transport: MockTransport or a recording in tests; ``None`` for the network.
        progress: called after every request and when each series ends.
        http_settings: timeouts and retries (defaults otherwise).
        series: the series to load (all by default).
        derive_readings: then run the derive step (:func:`tui.core.backfill.derived.derive`)
            over the whole range, whether or not anything new was fetched.

    Raises:
        ValueError: ``days`` outside 1..:data:`MAX_DAYS`.
    """
    if not 1 <= days <= MAX_DAYS:
        raise ValueError(f"days must be 1..{MAX_DAYS}, got {days}")
    today = clock.now().astimezone(UTC).date()
    want = want_range(today, days)
    no_history = _no_history(store)
    if store.read_only:
        why = store.notice or "the history is open for reading only"
        return BackfillReport(days, *want, no_history=no_history, notice=why)
    plans, skipped = _plans(series, store, settings, want, today)
    tally = _Tally(planned=sum(len(p.requests) for p in plans))
    groups: dict[str, list[_Plan]] = {}
    for p in plans:
        groups.setdefault(urlsplit(p.base_url).netloc, []).append(p)
    async with HttpClient(http_settings or HttpSettings(), clock, transport=transport) as http:
        await asyncio.gather(
            *(_run_host(group, http, store, clock, tally, progress) for group in groups.values())
        )
    results = tuple(tally.results[p.series.key] for p in plans)
    found = None
    if derive_readings:
        progress(Progress(DERIVE_TITLE, tally.done, tally.planned, tally.rows))
        found = derived.derive(store, settings, *want)
    return BackfillReport(days, *want, results, tuple(skipped), no_history, derived=found)


def _plans(
    series: Sequence[Series], store: Store, settings: Settings, want: Covered, today: date
) -> tuple[list[_Plan], list[tuple[str, str]]]:
    plans: list[_Plan] = []
    skipped: dict[str, str] = {}
    with_series = {s.source for s in series}
    for spec in registry.ALL:
        conf = settings.source(spec.name)
        if spec.name not in with_series:
            if spec.name in NOT_LOADED:
                skipped[spec.name] = NOT_LOADED[spec.name]
        elif not conf.enabled:
            skipped[spec.name] = "disabled in config"
        elif spec.needs_key and not conf.api_key:
            skipped[spec.name] = f"needs an API key (config: sources.{spec.name}.api_key)"
    for s in series:
        if s.source in skipped:
            continue
        spec = registry.by_name(s.source)
        base_url = settings.source(s.source).base_url or spec.base_url
        start, pages, note = plan(s, store, want, today)
        spacing = max(s.min_spacing_s, spec.min_spacing_s)
        plans.append(_Plan(s, base_url, spacing, start, pages, note))
    return plans, list(skipped.items())


def _no_history(store: Store) -> tuple[str, ...]:
    lines = []
    for what, source, ids in NO_HISTORY:
        firsts = [t for i in ids if (t := store.first_live(i, source)) is not None]
        if firsts:
            day = min(firsts).astimezone(UTC).date().isoformat()
            lines.append(f"{what}: no history before {day} (first recorded day)")
        else:
            lines.append(f"{what}: no free history; none recorded yet")
    return tuple(lines)


async def _run_host(
    plans: list[_Plan],
    http: HttpClient,
    store: Store,
    clock: Clock,
    tally: _Tally,
    progress: Callable[[Progress], None],
) -> None:
    """One host's series, one page at a time."""
    for p in plans:
        result = await _run_series(p, http, store, clock, tally, progress)
        tally.results[p.series.key] = result
        progress(Progress(p.series.title, tally.done, tally.planned, tally.rows, result))


async def _run_series(
    p: _Plan,
    http: HttpClient,
    store: Store,
    clock: Clock,
    tally: _Tally,
    progress: Callable[[Progress], None],
) -> SeriesResult:
    s = p.series
    covered, queue = p.covered, list(p.requests)
    requests = rows = 0
    limited = 0
    headers = {"User-Agent": s.user_agent} if s.user_agent else None

    def result(failure: str | None = None) -> SeriesResult:
        return SeriesResult(s.key, s.title, s.source, requests, rows, covered, failure, p.note)

    while queue:
        req = queue.pop(0)
        url = p.base_url.rstrip("/") + req.path
        if req.params:
            url += "?" + urlencode(req.params)
        try:
            requests += 1
            tally.done += 1
            response = await http.get(
                url, headers=headers, min_spacing_s=p.spacing_s, spacing_key=f"backfill:{s.source}"
            )
            body: Json = response.json() if s.format == "json" else response.text()
            found = s.parse(body, response.fetched_at)
        except RateLimitedError as e:
            wait = _wait_s(e, clock)
            limited += 1
            if wait > MAX_WAIT_S or limited > MAX_RATE_LIMITS:
                return result(f"{e.missing().text()}; rerun to resume")
            queue.insert(0, req)
            tally.planned += 1
            progress(Progress(s.title, tally.done, tally.planned, tally.rows))
            await clock.sleep(wait)
            continue
        except FetchError as e:
            return result(e.missing().text())
        added = store.write_backfill(_keep(found, req, s, response.fetched_at))
        rows += added
        tally.rows += added
        nxt = s.follow(body, req) if s.follow is not None else None
        if nxt is not None:
            # The window is whole only once its cursor runs out: the mark waits for that.
            queue.insert(0, nxt)
            tally.planned += 1
        else:
            covered = merge(covered, req.first, req.last)
            store.set_backfill_mark(s.key, format_mark(covered), clock.now())
        progress(Progress(s.title, tally.done, tally.planned, tally.rows))
    return result()


def _keep(
    found: list[Observation], req: Request, series: Series, fetched_at: datetime
) -> list[Observation]:
    """The rows to store: inside the page's days (unless the series keeps all), never later
    than the answer itself."""
    rows = clip(found, req.first, req.last, day_end=series.day_end) if series.clip else found
    return [o for o in rows if o.observed_at <= fetched_at]


def _wait_s(e: RateLimitedError, clock: Clock) -> float:
    if e.until is None:
        return DEFAULT_WAIT_S
    return max(0.0, (e.until - clock.now()).total_seconds())
