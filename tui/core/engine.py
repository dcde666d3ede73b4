"""The engine: one polling loop per source; fetch, parse, store, derive, publish. No UI anywhere.

Each source loop fetches the endpoints that are due, one after another, then sleeps until the next
one is due: a loop is re-armed only when its fetch has ended, so fetches of one source never
overlap, and a slow source delays no other. Parsing and deriving run in a worker thread; the store
has exactly one writer thread. Every failure becomes a :class:`SourceStatus`, published like a
reading, so the UI can say why a value is missing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import sqlite3
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Final

import httpx

from tui.core.analytics import derived, price
from tui.core.clock import Clock, ReplayClock
from tui.core.config import Settings
from tui.core.errors import FetchError, NeedsKeyError, RateLimitedError, StoreError
from tui.core.http import HttpClient, HttpSettings, Response
from tui.core.model import (
    CONSENSUS,
    Board,
    Exchange,
    Json,
    Missing,
    Mode,
    Observation,
    RuleResult,
    SourceStatus,
    Status,
    Update,
    Verdict,
)
from tui.core.recording import keep_headers
from tui.core.redact import redact_url
from tui.core.rules import configured
from tui.core.rules import evaluate as judge
from tui.core.rules.verdict import CALL_CODES, verdict
from tui.core.sources import registry
from tui.core.sources.spec import (
    DERIVED_STALE_AFTER,
    Endpoint,
    SourceSpec,
    consensus_stale_after,
    parse_context,
)
from tui.core.store import Store

log = logging.getLogger(__name__)

#: Requests in flight at once across all sources.
MAX_CONCURRENCY: Final = 6
#: Failures that hold for every endpoint of a host, so the round stops at the first one.
_HOST_DOWN: Final = frozenset(
    {Status.RATE_LIMITED, Status.OFFLINE, Status.BLOCKED, Status.GEO_BLOCKED}
)
#: How often (clock seconds, stretched like the intervals in a fast replay) the checklist is
#: judged: it reads history, so not on every fetch.
RULES_EVERY_S: Final = 30.0
#: In a fast replay the slowest series poll at most this many times the floor apart.
MAX_STRETCH: Final = 4.0
#: Live, how long derived metrics wait after a first fresh answer for the rest of its burst.
DERIVE_GATHER_S: Final = 0.25
#: How often the engine applies the store's retention while running.
RETENTION_EVERY_S: Final = 3600.0
#: A failure that holds is asked about less and less often: 1x, 2x, 4x ... the interval, up to
#: this (or the interval itself, when that is longer). Rate limits and blocks have their own waits.
BACKOFF_MAX_S: Final = 900.0
_BACK_OFF: Final = frozenset(
    {Status.OFFLINE, Status.TIMEOUT, Status.HTTP_ERROR, Status.TOO_LARGE, Status.PARSE_ERROR}
)


Publish = Callable[[Update], None]


@dataclass(slots=True)
class _EndpointState:
    next_due: datetime
    missing: Missing | None = None
    """The failure of this endpoint's last attempt, if it failed."""
    unchanged: tuple[bytes, tuple[Observation, ...]] | None = None
    """The last body and its readings, when every reading carries the provider's own time."""
    failures: int = 0
    """Attempts in a row that failed (and back off)."""


@dataclass(slots=True)
class _SourceState:
    spec: SourceSpec
    base_url: str
    interval_s: float
    endpoints: dict[str, _EndpointState] = field(default_factory=dict)
    last_ok_at: datetime | None = None
    paused_until: datetime | None = None


class Engine:
    """Polls every enabled source on its schedule and keeps the latest :class:`Board`.

    Args:
        settings: the loaded configuration.
        clock: the time source (``SystemClock`` live, ``ReplayClock`` for recordings).
        store: the history store (written from one worker thread).
        transport: an httpx transport (MockTransport in tests, recording or replay); ``None``
            means the network.
        mode: ``live``, ``demo`` or ``replay``; carried on the Board so every view can label it.
        sources: the source specs to run (default: all registered).
        http_settings: timeouts, size cap and retries.
        min_real_interval_s: with a :class:`ReplayClock`, the most often any endpoint is polled,
            in real time (a demo at 960× would otherwise poll hundreds of times a second). Every
            interval shorter than that (in the recording's time) is raised to it, and stale
            limits with it, so paced readings do not look stale; the slow endpoints keep their
            own pace and every bucket moves on the screen.
    """

    def __init__(
        self,
        settings: Settings,
        clock: Clock,
        store: Store,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        mode: Mode = "live",
        sources: Sequence[SourceSpec] = registry.ALL,
        http_settings: HttpSettings | None = None,
        min_real_interval_s: float = 0.0,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.store = store
        self.mode: Mode = mode
        self._context = parse_context(settings)
        self._rules = configured(settings.rules)
        self._judged_at: datetime | None = None
        self._runs = judge.Runs()
        """Each checklist condition's newest run: a judgement reads only the rows since the last."""
        self._written_since_judged: list[Sequence[Observation]] = []
        """What was written since the last judgement: a revised or late row resets its run."""
        self._fresh: set[str] = set()
        """Sources with new readings since derived metrics last ran."""
        self._fresh_event = asyncio.Event()
        # A replay serves recorded answers: spacing requests out would only slow it down.
        self._spacing = mode == "live"
        self._http = HttpClient(http_settings or HttpSettings(), clock, transport=transport)
        self._limit = asyncio.Semaphore(MAX_CONCURRENCY)
        self._store_thread = ThreadPoolExecutor(1, thread_name_prefix="btcwatch-store")
        speed = clock.speed if isinstance(clock, ReplayClock) else 1.0
        #: The shortest interval, in clock seconds: 0 outside fast replays.
        self._floor = speed * min_real_interval_s
        now = clock.now()
        self._states: dict[str, _SourceState] = {}
        statuses: list[SourceStatus] = []
        stale_after: dict[str, float] = {}
        for spec in sources:
            conf = settings.source(spec.name)
            base = conf.interval or spec.interval_s
            interval = self._paced(base)
            limit = conf.stale_after or max(spec.stale_after, 3 * base)
            slowest = max((ep.interval_s or base for ep in spec.endpoints), default=base)
            stale_after[spec.name] = max(limit, 3 * self._paced(slowest))
            if not conf.enabled:
                statuses.append(SourceStatus(spec.name, Status.DISABLED, "disabled in config"))
                continue
            state = _SourceState(spec, conf.base_url or spec.base_url, interval)
            state.endpoints = {ep.key: _EndpointState(now) for ep in spec.endpoints}
            self._states[spec.name] = state
            statuses.append(SourceStatus(spec.name, Status.PENDING, "waiting for the first answer"))
        stale_after[CONSENSUS] = consensus_stale_after(sources, stale_after)
        stale_after |= DERIVED_STALE_AFTER
        self._board = Board(mode, now).with_updates(
            now=now, statuses=statuses, stale_after=stale_after
        )
        self._running = asyncio.Event()
        self._running.set()
        self._wake = asyncio.Event()
        self.store_problem: str | None = None
        """One line for the user while history is not being saved (a full disk); else None."""

    @property
    def board(self) -> Board:
        """The latest state."""
        return self._board

    @property
    def sources(self) -> tuple[SourceSpec, ...]:
        """The enabled sources."""
        return tuple(s.spec for s in self._states.values())

    @property
    def paused(self) -> bool:
        """True while polling is paused."""
        return not self._running.is_set()

    def pause(self) -> None:
        """Stop polling after the fetches under way (and stop a replay's clock)."""
        self._running.clear()
        if isinstance(self.clock, ReplayClock):
            self.clock.pause()

    def resume(self) -> None:
        """Poll again."""
        if isinstance(self.clock, ReplayClock):
            self.clock.resume()
        self._running.set()
        self._wake.set()

    def refresh_now(self) -> None:
        """Make every endpoint due now and wake the sleeping loops (a rate limit still holds)."""
        now = self.clock.now()
        for state in self._states.values():
            for ep_state in state.endpoints.values():
                ep_state.next_due = now
        self._wake.set()

    def adopt(self, board: Board) -> Board:
        """Start from what ``board`` knew: its readings, and when each source last answered.

        ``board`` is what was painted before the engine loaded (the store's latest readings, or a
        recording's first answers). Readings keep their real ``observed_at``, so old ones show
        their age and look stale; this run's statuses (waiting, disabled) keep their words.
        """
        known = {n: s.last_ok_at for n, s in board.statuses.items() if s.last_ok_at is not None}
        for name, at in known.items():
            if name in self._states:
                self._states[name].last_ok_at = at
        statuses = [
            SourceStatus(s.name, s.status, s.detail, last_ok_at=known[s.name])
            for s in self._board.statuses.values()
            if s.name in known and s.name != CONSENSUS
        ]
        self._board = self._board.with_updates(
            now=self.clock.now(), observations=board.observations.values(), statuses=statuses
        )
        return self._board

    def load_cached(self) -> Board:
        """:meth:`adopt` the store's latest readings and statuses (blocking; call off the UI)."""
        from tui.core.seed import board_from_store

        return self.adopt(board_from_store(self.store, self.sources, self.mode, self.clock.now()))

    async def run(self, publish: Publish) -> None:
        """Poll every enabled source until cancelled, publishing an :class:`Update` per fetch."""
        try:
            async with asyncio.TaskGroup() as group:
                for state in self._states.values():
                    group.create_task(self._loop(state, publish), name=f"poll-{state.spec.name}")
                group.create_task(self._retention_loop(), name="retention")
                group.create_task(self._derive_loop(publish), name="derive")
        finally:
            await self.aclose()

    async def poll_once(self, *, deadline_s: float = 12.0, publish: Publish | None = None) -> Board:
        """Fetch every endpoint of every enabled source once, concurrently; return the Board.

        Sources still unanswered after ``deadline_s`` are marked ``timeout``.
        """
        end = asyncio.get_running_loop().time() + deadline_s
        # Primaries first; then the fallbacks of those that failed (the others stand by).
        primaries = {n: s for n, s in self._states.items() if s.spec.fallback_for is None}
        await self._poll_all(primaries, end, deadline_s, publish, primary=True)
        fallbacks = {
            n: s
            for n, s in self._states.items()
            if s.spec.fallback_for is not None and not self._standing_by(s, publish)
        }
        await self._poll_all(fallbacks, end, deadline_s, publish)
        # Fallback endpoints of the primaries' sources whose own primary failed.
        await self._poll_all(primaries, end, deadline_s, publish, primary=False)
        await self._derive(publish)
        await self._judge(publish, force=True)
        return self._board

    async def _poll_all(
        self,
        states: dict[str, _SourceState],
        end: float,
        deadline_s: float,
        publish: Publish | None,
        *,
        primary: bool | None = None,
    ) -> None:
        """Poll ``states`` concurrently: every endpoint (``primary`` None), the endpoints that
        are no fallback (True), or the fallback endpoints whose primary failed (False)."""

        def wanted(ep: Endpoint) -> bool:
            if primary is None:
                return True
            if primary:
                return ep.fallback_for is None
            return ep.fallback_for is not None and not self._endpoint_stands_by(ep)

        jobs = {n: [ep for ep in s.spec.endpoints if wanted(ep)] for n, s in states.items()}
        tasks = {
            name: asyncio.create_task(self._poll(states[name], eps, publish))
            for name, eps in jobs.items()
            if eps
        }
        if not tasks:
            return
        left = max(0.0, end - asyncio.get_running_loop().time())
        _done, pending = await asyncio.wait(tasks.values(), timeout=left)
        for name, task in tasks.items():
            if task in pending:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
                missing = Missing(Status.TIMEOUT, f"no answer within {deadline_s:g} s")
                self._set_status(self._states[name], missing)

    async def aclose(self) -> None:
        """Close the HTTP client and wait for queued store writes (the caller closes the store)."""
        await self._http.aclose()
        self._store_thread.shutdown(wait=True)

    # -- internals -------------------------------------------------------------------------

    async def _loop(self, state: _SourceState, publish: Publish) -> None:
        while True:
            await self._running.wait()
            now = self.clock.now()
            if state.paused_until is not None and state.paused_until > now:
                await self._sleep((state.paused_until - now).total_seconds())
                continue
            if self._standing_by(state, publish):
                await self._sleep(state.interval_s)
                continue
            due = [ep for ep in state.spec.endpoints if state.endpoints[ep.key].next_due <= now]
            for ep in [ep for ep in due if self._endpoint_stands_by(ep)]:
                # Its primary answers: look again after an interval.
                due.remove(ep)
                state.endpoints[ep.key].next_due = now + timedelta(
                    seconds=self._interval(state, ep)
                )
            if due:
                await self._poll(state, due, publish)
            next_due = min(e.next_due for e in state.endpoints.values())
            await self._sleep(max(0.05, (next_due - self.clock.now()).total_seconds()))

    async def _sleep(self, seconds: float) -> None:
        """Sleep on the clock, but wake at once for ``refresh_now`` or ``resume``."""
        if self._wake.is_set():
            self._wake.clear()
            return
        waker = asyncio.ensure_future(self._wake.wait())
        sleeper = asyncio.ensure_future(self.clock.sleep(seconds))
        try:
            await asyncio.wait((waker, sleeper), return_when=asyncio.FIRST_COMPLETED)
        finally:
            waker.cancel()
            sleeper.cancel()
        if self._wake.is_set():
            # Every loop sleeping now sees it within this tick; then it is spent.
            asyncio.get_running_loop().call_soon(self._wake.clear)

    def _endpoint_stands_by(self, ep: Endpoint) -> bool:
        """True for a fallback endpoint whose primary is polled and has not failed (yet)."""
        if ep.fallback_for is None:
            return False
        source, key = ep.fallback_for
        primary = self._states.get(source)
        if primary is None or key not in primary.endpoints:
            return False  # its primary is disabled (or unknown): this one serves
        return primary.endpoints[key].missing is None

    def _interval(self, state: _SourceState, ep: Endpoint) -> float:
        """Seconds until ``ep`` is due again. The source's main endpoints (those at the spec's
        own interval) follow ``[sources.<name>] interval``; slower ones keep their pace, and are
        never asked more often than the configured interval."""
        own = ep.interval_s
        if own is None or own == state.spec.interval_s:
            return state.interval_s
        return max(self._paced(own), state.interval_s)

    def _paced(self, interval_s: float) -> float:
        """An interval in a fast replay: never under the floor, and slower series a little
        slower still (up to 4x the floor), so a demo's CPU goes to what moves fastest."""
        if not self._floor:
            return interval_s
        shortest = 15.0  # the spot tickers': they set the pace
        stretch = min(MAX_STRETCH, max(1.0, math.sqrt(interval_s / shortest)))
        return max(interval_s, self._floor * stretch)

    def _standing_by(self, state: _SourceState, publish: Publish | None) -> bool:
        """True for a fallback source whose primary answers: it is not asked this round."""
        primary = state.spec.fallback_for
        if primary is None or primary not in self._states:
            return False
        status = self._board.statuses.get(primary)
        if status is None or status.status not in (Status.OK, Status.PENDING):
            return False  # the primary failed: the fallback serves
        if (
            state.last_ok_at is None
            and self._board.statuses[state.spec.name].status is Status.PENDING
        ):
            standby = SourceStatus(
                state.spec.name, Status.DISABLED, f"standby: {primary} answers", state.last_ok_at
            )
            self._board = self._board.with_updates(now=self.clock.now(), statuses=[standby])
            if publish is not None:
                publish(Update(state.spec.name, self._board, standby))
        return True

    async def _poll(
        self, state: _SourceState, endpoints: Sequence[Endpoint], publish: Publish | None
    ) -> None:
        got = False
        # Every endpoint of this round is next due on the grid from the round's start: one that
        # answered after a grid line's half-way mark would otherwise fall one round behind the
        # others, and the source would wake twice per interval.
        started = self.clock.now()
        for ep in endpoints:
            observations, missing = await self._fetch(state, ep)
            ep_state = state.endpoints[ep.key]
            interval = self._interval(state, ep)
            if missing is not None and missing.reason in _BACK_OFF:
                # Back off while the failure holds; the first answer resets it.
                longer = interval * 2 ** min(ep_state.failures, 16)
                interval = max(interval, min(longer, BACKOFF_MAX_S))
                ep_state.failures += 1
            else:
                ep_state.failures = 0
            ep_state.next_due = _on_grid(started, interval)
            block = state.spec.blocked_backoff_s
            backoff = max(block, self._floor) if block else 0.0
            if missing is not None and missing.reason is Status.BLOCKED and backoff > 0:
                # A provider that blocks us is not asked again for hours (SOURCES.md §10).
                until = self.clock.now() + timedelta(seconds=backoff)
                text = f"{missing.detail}; next try {until.astimezone(UTC):%H:%M} UTC"
                missing = Missing(Status.BLOCKED, text.lstrip("; "), until=until)
            ep_state.missing = missing
            if isinstance(missing, Missing) and missing.until is not None:
                state.paused_until = missing.until
            status = self._set_status(state, None, observations)
            if publish is not None:
                publish(Update(state.spec.name, self._board, status, tuple(observations)))
            got = got or bool(observations)
            if missing is not None and missing.reason in _HOST_DOWN:
                break  # the host said stop, or is unreachable: ask nothing more of it this round
        if got:
            # Derived metrics and the checklist read history: a task of their own does them, so
            # no poll loop ever waits on the store.
            self._fresh.add(state.spec.name)
            self._fresh_event.set()

    async def _derive_loop(self, publish: Publish) -> None:
        """Whenever sources bring new readings: their derived metrics, then the checklist."""
        while True:
            await self._fresh_event.wait()
            if self.mode == "live":
                # The polls of one interval come due together: derive once for the burst.
                await asyncio.sleep(DERIVE_GATHER_S)
            self._fresh_event.clear()
            await self._derive(publish)
            await self._judge(publish)

    async def _derive(self, publish: Publish | None) -> None:
        """Run the derived metrics that the fresh sources' readings feed (off the event loop)."""
        fresh, self._fresh = self._fresh, set()
        fns = tuple(
            dict.fromkeys(fn for name in sorted(fresh) for fn in derived.triggered_by(name))
        )
        if not fns:
            return
        now = self.clock.now()
        await self._written()
        out = await asyncio.to_thread(derived.run, fns, self._board, self.store, now, self.settings)
        if not out:
            return
        self._board = self._board.with_updates(now=now, observations=out)
        self._write_later(out)
        if publish is not None:
            status = self._board.statuses.get(CONSENSUS) or SourceStatus(CONSENSUS, Status.PENDING)
            publish(Update(CONSENSUS, self._board, status, tuple(out)))

    async def _fetch(
        self, state: _SourceState, ep: Endpoint
    ) -> tuple[list[Observation], Missing | None]:
        url = ep.url(state.base_url)
        response: Response | None = None
        missing: Missing | None = None
        ep_state = state.endpoints[ep.key]
        try:
            headers = self._key_headers(state.spec)
            async with self._limit:
                spacing = state.spec.min_spacing_s if self._spacing else 0.0
                response = await self._http.get(
                    url, headers=headers, min_spacing_s=spacing, spacing_key=state.spec.name
                )
            seen = ep_state.unchanged
            if seen is not None and seen[0] == response.body:
                # The same body as last time, whose readings all carry the provider's own times:
                # parsing it again would give the same readings (a daily table, a replayed
                # answer). The exchange and the readings are stored already.
                return list(seen[1]), None
            body: Json = response.json() if ep.format == "json" else response.text()
            observations = await asyncio.to_thread(
                ep.read, body, response.fetched_at, self._context
            )
            stamped = all(o.observed_at != response.fetched_at for o in observations)
            ep_state.unchanged = (response.body, tuple(observations)) if stamped else None
        except FetchError as exc:
            observations, missing = [], exc.missing()
            if isinstance(exc, RateLimitedError) and exc.until is None:
                # Kraken says so inside an HTTP 200 without a time: wait one interval.
                until = self.clock.now() + timedelta(seconds=max(60.0, state.interval_s))
                missing = Missing(Status.RATE_LIMITED, exc.detail, until=until)
        except Exception as exc:  # a parser bug must not end the loop: say it, keep polling
            log.exception("%s %s: unexpected failure", state.spec.name, ep.key)
            observations = []
            missing = Missing(Status.PARSE_ERROR, f"internal error: {type(exc).__name__}: {exc}")
        if response is not None:
            self._store_later(self._save_exchange, state.spec.name, ep.key, response)
        if observations:
            self._write_later(observations)
        return observations, missing

    async def _judge(self, publish: Publish | None, *, force: bool = False) -> None:
        """Evaluate the checklist and the verdict (off the event loop), at most every 30 s."""
        now = self.clock.now()
        every = max(RULES_EVERY_S, self._floor)
        last = self._judged_at
        if not force and last is not None and 0 <= (now - last).total_seconds() < every:
            return
        self._judged_at = now
        await self._written()
        board = self._board
        written, self._written_since_judged = self._written_since_judged, []
        results, call, flips = await asyncio.to_thread(self._evaluate, board, now, written)
        out = judge.state_observations([new for _, new in flips]) + judge.state_observations(
            [r for r in results if r.key not in judge.stored_states(board, self._rules)]
        )
        if call.call != "no data" and (board.verdict is None or board.verdict.call != call.call):
            out.append(
                Observation("verdict", CALL_CODES[call.call], "call", judge.RULES_SOURCE, now)
            )
        self._board = replace(self._board, checklist=results, verdict=call).with_updates(
            now=now, observations=out
        )
        if out:
            self._write_later(out)
        if publish is not None:
            status = self._board.statuses.get(CONSENSUS) or SourceStatus(CONSENSUS, Status.PENDING)
            publish(Update(CONSENSUS, self._board, status, tuple(out)))

    def _evaluate(
        self, board: Board, now: datetime, written: Sequence[Sequence[Observation]] = ()
    ) -> tuple[tuple[RuleResult, ...], Verdict, list[tuple[RuleResult, RuleResult]]]:
        """The checklist rows, the verdict, and the rows that flipped (blocking: reads history)."""
        for observations in written:
            self._runs.saw(observations)
        previous = judge.stored_states(board, self._rules)
        results = judge.evaluate(
            self._rules,
            board,
            self.store,
            now,
            self.settings.pivot,
            previous,
            2 * MAX_STRETCH * self._floor,
            runs=self._runs,
        )
        call = verdict(results, board, self.settings.pivot, None, now, board.verdict)
        return results, call, judge.changes(previous, results)

    def _key_headers(self, spec: SourceSpec) -> dict[str, str] | None:
        """The source's own User-Agent, and the user's key for a source that needs one, as a
        header (never in the URL or a log).

        Raises:
            NeedsKeyError: the source needs a key and the config has none.
        """
        headers = {} if spec.user_agent is None else {"User-Agent": spec.user_agent}
        if not spec.needs_key:
            return headers or None
        key = self.settings.source(spec.name).api_key
        if not key:
            raise NeedsKeyError(f"config: sources.{spec.name}.api_key")
        return headers | {spec.key_header: key}

    def _set_status(
        self,
        state: _SourceState,
        missing: Missing | None,
        observations: Sequence[Observation] = (),
    ) -> SourceStatus:
        """Fold the endpoints' last results into the source's status and update the Board."""
        now = self.clock.now()
        if now < self._board.generated_at - timedelta(seconds=1):
            # Time went backwards: a looping replay started over. Newer-wins would freeze the
            # Board on the recording's end, so start it afresh (statuses and limits kept).
            self._board = Board(self.mode, now, {}, self._board.statuses, self._board.stale_after)
        if missing is not None:
            for ep_state in state.endpoints.values():
                ep_state.missing = missing
        failures = [(key, e.missing) for key, e in state.endpoints.items() if e.missing is not None]
        if observations:
            state.last_ok_at = now
        if failures:
            key, first = failures[0]
            status = SourceStatus.from_missing(
                state.spec.name, first, last_ok_at=state.last_ok_at, at=now
            )
            if len(state.endpoints) > 1 and len(failures) < len(state.endpoints):
                status = SourceStatus(
                    status.name,
                    status.status,
                    f"{key}: {status.detail}",
                    status.last_ok_at,
                    now,
                    status.until,
                )
        else:
            status = SourceStatus(
                state.spec.name, Status.OK, "", last_ok_at=state.last_ok_at, last_attempt_at=now
            )
        board = self._board.with_updates(now=now, observations=observations, statuses=[status])
        derived = price.derive(board.observations, now, board.stale_after, self.settings.pivot)
        consensus = (
            SourceStatus(
                CONSENSUS,
                Status.OK,
                f"{len(derived.venues)} venues: " + ", ".join(derived.venues),
                last_ok_at=now,
                last_attempt_at=now,
            )
            if derived.missing is None
            else SourceStatus.from_missing(
                CONSENSUS, derived.missing, last_ok_at=self._consensus_ok_at(board), at=now
            )
        )
        self._board = board.with_updates(
            now=now, replacing=derived.observations, statuses=[consensus]
        )
        self._store_later(self.store.record_status, status)
        if derived.observations:
            self._write_later(list(derived.observations))
        return status

    def _consensus_ok_at(self, board: Board) -> datetime | None:
        old = board.statuses.get(CONSENSUS)
        return None if old is None else old.last_ok_at

    def _save_exchange(self, source: str, endpoint: str, response: Response) -> None:
        headers = keep_headers(response.headers)
        exchange = Exchange(
            "GET",
            redact_url(response.url),
            response.status,
            headers,
            response.body,
            response.fetched_at,
            response.latency_ms,
        )
        self.store.save_exchange(source, endpoint, exchange)

    async def _written(self) -> None:
        """Wait until every queued store write is done: history reads then see the latest."""
        await asyncio.wrap_future(self._store_thread.submit(lambda: None))

    def _store_later(self, fn: Callable[..., object], *args: object) -> None:
        """Queue a store call on the writer thread without waiting (order is kept: one thread)."""
        self._store_thread.submit(self._quietly, fn, *args)

    def _write_later(self, observations: Sequence[Observation]) -> None:
        """Queue readings for the history (and tell the next judgement what was written)."""
        self._written_since_judged.append(observations)
        self._store_later(self.store.write, observations)

    def _quietly(self, fn: Callable[..., object], *args: object) -> None:
        """Run a store call on the writer thread: a failure is logged and said in one line
        (:attr:`store_problem`), never raised into a poll loop."""
        try:
            fn(*args)
        except StoreError as e:
            if self.store_problem is None:
                log.error("history store: %s", e)
            self.store_problem = _store_words(e)
        except Exception:
            log.exception("store call %s failed", getattr(fn, "__name__", fn))
        else:
            if fn == self.store.write:
                self.store_problem = None  # space again: history is saved again

    async def _retention_loop(self) -> None:
        while True:
            await self.clock.sleep(RETENTION_EVERY_S)
            self._store_later(self.store.apply_retention, self.clock.now())


def _store_words(e: StoreError) -> str:
    """What a failed store call means for the user, in one line."""
    cause = e.__cause__
    if isinstance(cause, sqlite3.Error) and cause.sqlite_errorcode == sqlite3.SQLITE_FULL:
        return "history disk full: readings are shown but no longer saved"
    return f"history not saved: {e}"


def _on_grid(now: datetime, interval_s: float) -> datetime:
    """When an endpoint polled at ``now`` is next due: the first multiple of ``interval_s`` since
    the epoch that is at least half an interval away.

    Endpoints of one interval then come due together (every 15 s source at :00, :15, :30, :45),
    so their answers arrive as one burst that the dashboard paints once, and the process wakes
    once per round instead of once per source (the idle budget is 0.5 % of a core). The gap is
    one interval in steady state, between a half and one and a half on the first poll.
    """
    at = now.timestamp() + interval_s / 2
    return datetime.fromtimestamp(math.ceil(at / interval_s) * interval_s, UTC)
