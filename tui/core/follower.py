"""A viewer that reads what a running recorder writes, and polls no provider itself.

The recorder (``btcwatch record --daemon``, :mod:`tui.core.recorder`) holds the store's writer lock
and keeps a small state file, ``<data dir>/recorder.json``: its pid, a heartbeat, and the parts of
its Board the store does not keep (each source's status with its last success, the stale limits,
the checklist rows with their reasons, the verdict). A :class:`Follower` has the Engine's public
surface, so the app runs it in the Engine's place: every couple of seconds it reads the readings
the recorder stored (only when the database changed, by ``PRAGMA data_version``) and the state
file (only when it changed), and publishes an :class:`~tui.core.model.Update`. One set of
requests per machine, however many viewers are open.

A recorder is *live* when its pid is alive, its heartbeat is fresh and the store's writer lock is
held: a pid file left by a crash, or a pid reused by another program, is never taken for one.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import os
import sqlite3
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Final, cast

from tui.core.config import Settings
from tui.core.model import (
    CONSENSUS,
    Board,
    Call,
    Mode,
    Observation,
    RowState,
    RuleResult,
    SourceStatus,
    Status,
    Update,
    Verdict,
)
from tui.core.sources import registry
from tui.core.sources.spec import DERIVED_STALE_AFTER, SourceSpec, consensus_stale_after
from tui.core.store import Store

#: The recorder's state file, in the data dir.
STATE_FILE: Final = "recorder.json"
#: Asks the recorder to refresh every source now (a viewer's ``r``): touched, never read.
REFRESH_FILE: Final = "recorder.refresh"
#: Version of the state file's layout (a newer one is not read: the viewer polls itself).
STATE_FORMAT: Final = 1
#: The recorder rewrites its state file at least this often (seconds).
HEARTBEAT_EVERY_S: Final = 10.0
#: A heartbeat older than this means the recorder is not live (three missed beats).
HEARTBEAT_STALE_S: Final = 30.0
#: How often a follower reads the store and the state file (seconds).
FOLLOW_EVERY_S: Final = 2.0
#: Publish at least this often, so ages on screen move even when nothing new arrives.
REPAINT_EVERY_S: Final = 10.0

Publish = Callable[[Update], None]
Now = Callable[[], datetime]


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class RecorderInfo:
    """Who records, as its state file says."""

    pid: int
    started_at: datetime
    heartbeat_at: datetime
    """When the state file was last written."""
    version: str
    """The recorder's btcwatch version."""
    store: str
    """The database file it writes."""


@dataclass(frozen=True, slots=True)
class RecorderState:
    """The whole state file: who records, and what of its Board the store does not keep."""

    info: RecorderInfo
    statuses: tuple[SourceStatus, ...] = ()
    stale_after: Mapping[str, float] | None = None
    checklist: tuple[RuleResult, ...] = ()
    verdict: Verdict | None = None


# -- the state file ------------------------------------------------------------------------------


def write_state(path: Path, info: RecorderInfo, board: Board) -> None:
    """Write the state file atomically (a reader sees the old file or the new one, never half).

    Raises:
        OSError: the data dir cannot be written.
    """
    doc = {
        "format": STATE_FORMAT,
        "pid": info.pid,
        "started_at": _iso(info.started_at),
        "heartbeat_at": _iso(info.heartbeat_at),
        "version": info.version,
        "store": info.store,
        "statuses": [_status_doc(s) for s in board.statuses.values()],
        "stale_after": dict(board.stale_after),
        "checklist": [_rule_doc(r) for r in board.checklist],
        "verdict": None if board.verdict is None else _verdict_doc(board.verdict),
    }
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, path)


def read_state(path: Path) -> RecorderState | None:
    """The state file at ``path``; ``None`` when it is missing, unreadable or of another format."""
    try:
        doc = json.loads(path.read_bytes())
        if not isinstance(doc, dict) or doc.get("format") != STATE_FORMAT:
            return None
        info = RecorderInfo(
            int(doc["pid"]),
            _dt(doc["started_at"]),
            _dt(doc["heartbeat_at"]),
            str(doc["version"]),
            str(doc["store"]),
        )
        statuses = tuple(s for s in map(_status, doc.get("statuses") or ()) if s is not None)
        limits = doc.get("stale_after")
        stale_after = (
            {str(k): float(v) for k, v in limits.items()} if isinstance(limits, dict) else None
        )
        checklist = tuple(r for r in map(_rule, doc.get("checklist") or ()) if r is not None)
        verdict = _verdict(doc["verdict"]) if doc.get("verdict") else None
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    return RecorderState(info, statuses, stale_after, checklist, verdict)


def live_recorder(
    data_dir: Path, *, now: datetime | None = None, stale_s: float = HEARTBEAT_STALE_S
) -> RecorderInfo | None:
    """The recorder writing the history in ``data_dir``, if one is live now.

    Live: its state file names a pid that is alive, the heartbeat is younger than ``stale_s``,
    and the store's writer lock is held by that pid. A file left by a crash (dead pid), a hung
    recorder (old heartbeat) or a reused pid (no lock) is not a live recorder.
    """
    state = read_state(data_dir / STATE_FILE)
    if state is None:
        return None
    return state.info if _is_live(state.info, now or _utcnow(), stale_s) else None


def _is_live(info: RecorderInfo, now: datetime, stale_s: float) -> bool:
    if not 0 <= (now - info.heartbeat_at).total_seconds() <= stale_s:
        return False
    return _pid_alive(info.pid) and _holds_lock(Path(info.store), info.pid)


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)  # signal 0: nothing is sent, only whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, as another user
    except OSError:
        return False
    return True


def _holds_lock(store: Path, pid: int) -> bool:
    """True when ``<store>.lock`` is locked and names ``pid`` (as ``Store.open`` writes it).

    The probe asks for a shared lock without waiting: refused means the writer holds it. It is
    only made once the pid is alive and its heartbeat fresh, when the recorder holds the lock, so
    it never takes the lock from under a writer that is starting (the recorder removes its state
    file before it releases the lock).
    """
    try:
        fd = os.open(f"{store}.lock", os.O_RDONLY)
    except OSError:
        return False
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
            return holder == str(pid)
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)


def request_refresh(data_dir: Path) -> None:
    """Ask the recorder in ``data_dir`` to refresh every source now (it checks each second).

    A file, not a signal: a signal sent to a pid that has just been reused would reach (and, for
    SIGUSR1, end) an unrelated program.
    """
    path = data_dir / REFRESH_FILE
    path.touch()
    os.utime(path)


# -- the follower --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Read:
    """One look at the store and the state file (made in a worker thread)."""

    observations: list[Observation] | None
    """The latest reading of every series; ``None``: the database has not changed."""
    state: RecorderState | None
    """The state file, when it changed since the last look."""
    live: RecorderInfo | None
    """The live recorder, if any."""
    file_gone: bool
    """The state file is missing (a recorder that stops removes it)."""


class Follower:
    """Reads a live recorder's store and state; the same public surface as the Engine.

    Args:
        settings: the loaded configuration (for the sources list and the default stale limits).
        store: the history, opened for reading (the recorder holds the writer lock).
        data_dir: where the recorder's state file is (default: the data dir).
        mode: carried on the Board (always ``live`` in practice).
        every_s: how often to look for new readings.
        sources: the source specs (for the default stale limits before the first state file).
        now: the wall clock (tests pass a fixed one).
    """

    def __init__(
        self,
        settings: Settings,
        store: Store,
        *,
        data_dir: Path | None = None,
        mode: Mode = "live",
        every_s: float = FOLLOW_EVERY_S,
        sources: Sequence[SourceSpec] = registry.ALL,
        now: Now = _utcnow,
    ) -> None:
        from tui.core import paths

        self.settings = settings
        self.store = store
        self.mode: Mode = mode
        self.data_dir = data_dir if data_dir is not None else paths.data_dir()
        self.every_s = every_s
        self._now = now
        self._specs = tuple(s for s in sources if settings.source(s.name).enabled)
        self._board = Board(mode, now()).with_updates(now=now(), stale_after=_limits(sources))
        self._running = asyncio.Event()
        self._running.set()
        self._wake = asyncio.Event()
        self._probe: sqlite3.Connection | None = None
        self._probe_lock = threading.Lock()
        self._data_version: int | None = None
        self._state_key: tuple[int, int] | None = None
        self._recorder: RecorderInfo | None = None
        """The last recorder seen (live or not)."""
        self._live = False
        self._lost_at: datetime | None = None
        self._hung = False
        self._published_at: datetime | None = None
        self._new: list[Observation] = []
        """The readings the last look found new (published with the next Update)."""

    # -- the Engine's surface -----------------------------------------------------------------

    @property
    def board(self) -> Board:
        """The latest state."""
        return self._board

    @property
    def sources(self) -> tuple[SourceSpec, ...]:
        """The enabled sources (as this viewer's config has them)."""
        return self._specs

    @property
    def paused(self) -> bool:
        """True while this view is paused (the recorder keeps recording)."""
        return not self._running.is_set()

    def pause(self) -> None:
        """Stop reading: the view stays as it is; the recorder is not affected."""
        self._running.clear()

    def resume(self) -> None:
        """Read again, at once."""
        self._running.set()
        self._wake.set()

    def refresh_now(self) -> None:
        """Ask the live recorder to refresh every source, and read again at once."""
        if self._live:
            with contextlib.suppress(OSError):
                request_refresh(self.data_dir)
        self._wake.set()

    def adopt(self, board: Board) -> Board:
        """Start from what ``board`` knew (the first frame: the store's latest readings)."""
        self._board = self._board.with_updates(
            now=self._now(),
            observations=board.observations.values(),
            statuses=board.statuses.values(),
        )
        return self._board

    def load_cached(self) -> Board:
        """Read the store and the state file now (blocking; call it off the UI)."""
        self._apply(self._read())
        return self._board

    async def run(self, publish: Publish) -> None:
        """Read every :attr:`every_s` and publish what changed, until cancelled."""
        try:
            while True:
                await self._running.wait()
                read = await asyncio.to_thread(self._read)
                if self._apply(read) or self._repaint_due():
                    self._published_at = self._now()
                    status = self._board.statuses.get(CONSENSUS) or SourceStatus(
                        CONSENSUS, Status.PENDING
                    )
                    publish(Update(CONSENSUS, self._board, status, tuple(self._new)))
                await self._sleep(self.every_s)
        finally:
            await self.aclose()

    async def aclose(self) -> None:
        """Close the change probe (the caller closes the store)."""
        with self._probe_lock:
            if self._probe is not None:
                self._probe.close()
                self._probe = None

    # -- what the status strip says -------------------------------------------------------------

    @property
    def live(self) -> bool:
        """True while a live recorder is being read."""
        return self._live

    @property
    def recorder(self) -> RecorderInfo | None:
        """The recorder read last (live or not)."""
        return self._recorder

    @property
    def feed(self) -> str:
        """One line for the status strip: where the data comes from, or that it stopped."""
        info = self._recorder
        if info is None:
            return "no recorder running · r polls here"
        if self._live:
            return f"reading from recorder (pid {info.pid})"
        at = (self._lost_at or info.heartbeat_at).astimezone(UTC)
        if self._hung:
            return f"recorder (pid {info.pid}) not responding since {at:%H:%M} UTC · r polls here"
        return f"recorder (pid {info.pid}) stopped at {at:%H:%M} UTC · r polls here"

    # -- internals -------------------------------------------------------------------------

    def _read(self) -> _Read:
        """Look at the state file and, when the database changed, read the latest readings."""
        now = self._now()
        path = self.data_dir / STATE_FILE
        state: RecorderState | None = None
        try:
            st = path.stat()
            key = (st.st_mtime_ns, st.st_size)
            gone = False
        except OSError:
            key, gone = None, True
        if key is not None and key != self._state_key:
            state = read_state(path)
            self._state_key = key if state is not None else None
        info = state.info if state is not None else self._recorder
        live = None
        if not gone and info is not None and _is_live(info, now, HEARTBEAT_STALE_S):
            live = info
        observations = self.store.latest() if self._store_changed() else None
        return _Read(observations, state, live, gone)

    def _store_changed(self) -> bool:
        """True when another connection committed since the last look (``PRAGMA data_version``,
        https://www.sqlite.org/pragma.html#pragma_data_version): a look at an idle store costs
        microseconds, not a read of every series."""
        with self._probe_lock:
            try:
                if self._probe is None:
                    uri = f"{Path(self.store.path).resolve().as_uri()}?mode=ro"
                    self._probe = sqlite3.connect(uri, uri=True, check_same_thread=False)
                version = int(self._probe.execute("PRAGMA data_version").fetchone()[0])
            except (sqlite3.Error, ValueError, OSError):
                return True  # cannot tell: read
        changed = version != self._data_version
        self._data_version = version
        return changed

    def _apply(self, read: _Read) -> bool:
        """Fold one look into the Board; True when anything the screen shows changed."""
        now = self._now()
        feed = self.feed
        changed = False
        board = self._board
        self._new = []
        if read.observations is not None:
            old = board.observations
            self._new = [o for o in read.observations if old.get((o.id, o.source)) != o]
            if self._new:
                board = board.with_updates(now=now, observations=self._new)
                changed = True
        state = read.state
        if state is not None:
            self._recorder = state.info
            checklist = state.checklist
            if checklist == board.checklist:
                checklist = board.checklist  # the same rows: keep the object (the app checks it)
            verdict = board.verdict if state.verdict == board.verdict else state.verdict
            board = replace(board, checklist=checklist, verdict=verdict).with_updates(
                now=now, statuses=state.statuses, stale_after=state.stale_after
            )
            changed = True
        info = self._recorder
        self._live = read.live is not None
        if self._live:
            self._lost_at, self._hung = None, False
        elif info is not None:
            # A clean stop removes the file (stopped when first missed); a crash leaves it
            # (stopped at its last heartbeat); a live pid with an old heartbeat is hung.
            self._hung = not read.file_gone and _pid_alive(info.pid)
            if self._lost_at is None:
                self._lost_at = now if read.file_gone else info.heartbeat_at
        self._board = board.with_updates(now=now)
        return changed or self.feed != feed

    def _repaint_due(self) -> bool:
        last = self._published_at
        return last is None or (self._now() - last).total_seconds() >= REPAINT_EVERY_S

    async def _sleep(self, seconds: float) -> None:
        """Sleep, but wake at once for ``refresh_now`` or ``resume``."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), seconds)
        self._wake.clear()


def _limits(specs: Sequence[SourceSpec]) -> dict[str, float]:
    """Default stale limits until the recorder's own arrive (as ``seed`` computes them)."""
    limits = {s.name: s.stale_after for s in specs}
    limits[CONSENSUS] = consensus_stale_after(specs, limits)
    limits |= DERIVED_STALE_AFTER
    return limits


# -- JSON forms of the Board's parts ---------------------------------------------------------------


def _iso(t: datetime | None) -> str | None:
    return None if t is None else t.astimezone(UTC).isoformat(timespec="microseconds")


def _dt(text: object) -> datetime:
    at = datetime.fromisoformat(str(text))
    if at.tzinfo is None:
        raise ValueError(f"naive time {text!r}")
    return at


def _dt_or_none(text: object) -> datetime | None:
    return None if text is None else _dt(text)


def _float_or_none(value: object) -> float | None:
    return None if value is None else float(cast(float, value))


def _status_doc(s: SourceStatus) -> dict[str, object]:
    return {
        "name": s.name,
        "status": s.status.value,
        "detail": s.detail,
        "last_ok_at": _iso(s.last_ok_at),
        "last_attempt_at": _iso(s.last_attempt_at),
        "until": _iso(s.until),
        "latency_ms": s.latency_ms,
        "bytes": s.bytes,
    }


def _status(doc: dict[str, object]) -> SourceStatus | None:
    try:
        status = Status(str(doc["status"]))
    except ValueError:
        return None  # a status word of a newer btcwatch
    size = doc.get("bytes")
    return SourceStatus(
        str(doc["name"]),
        status,
        str(doc.get("detail") or ""),
        _dt_or_none(doc.get("last_ok_at")),
        _dt_or_none(doc.get("last_attempt_at")),
        _dt_or_none(doc.get("until")),
        _float_or_none(doc.get("latency_ms")),
        None if size is None else int(cast(int, size)),
    )


def _obs_doc(o: Observation) -> dict[str, object]:
    return {
        "id": o.id,
        "value": o.value,
        "unit": o.unit,
        "source": o.source,
        "observed_at": _iso(o.observed_at),
    }


def _obs(doc: dict[str, object]) -> Observation:
    value = doc["value"]
    if not isinstance(value, int | float):
        raise TypeError("value")
    return Observation(
        str(doc["id"]), float(value), str(doc["unit"]), str(doc["source"]), _dt(doc["observed_at"])
    )


def _rule_doc(r: RuleResult) -> dict[str, object]:
    return {
        "key": r.key,
        "title": r.title,
        "state": r.state.value,
        "reason": r.reason,
        "since": _iso(r.since),
        "readings": [_obs_doc(o) for o in r.readings],
        "key_reading": r.key_reading,
    }


def _rule(doc: dict[str, object]) -> RuleResult | None:
    try:
        state = RowState(str(doc["state"]))
    except ValueError:
        return None
    readings = doc.get("readings") or []
    return RuleResult(
        str(doc["key"]),
        str(doc["title"]),
        state,
        str(doc["reason"]),
        _dt_or_none(doc.get("since")),
        tuple(_obs(o) for o in cast(list[dict[str, object]], readings)),
        str(doc.get("key_reading") or ""),
    )


_CALLS: Final[tuple[Call, ...]] = ("holding", "contested", "retest risk", "no data")


def _verdict_doc(v: Verdict) -> dict[str, object]:
    return {
        "call": v.call,
        "holding": [list(c) for c in v.holding],
        "retest": [list(c) for c in v.retest],
        "position": v.position,
        "steps": [list(c) for c in v.steps],
        "since": _iso(v.since),
    }


def _conds(items: object) -> tuple[tuple[str, bool | None], ...]:
    out: list[tuple[str, bool | None]] = []
    for name, holds in cast(list[list[object]], items):
        if holds is not None and not isinstance(holds, bool):
            raise TypeError("holds")
        out.append((str(name), holds))
    return tuple(out)


def _verdict(doc: dict[str, object]) -> Verdict | None:
    call = next((c for c in _CALLS if c == doc["call"]), None)
    if call is None:
        return None
    return Verdict(
        call,
        _conds(doc["holding"]),
        _conds(doc["retest"]),
        str(doc["position"]),
        _conds(doc["steps"]),
        _dt_or_none(doc.get("since")),
    )
