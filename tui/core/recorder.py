"""The recorder: ``btcwatch record --daemon`` polls every enabled source and writes the history.

No TUI and no detaching: it runs in the foreground until SIGTERM or SIGINT (systemd, tmux or
``nohup`` keep it running) and logs to ``<data dir>/recorder.log``, never to the terminal. It
holds the store's writer lock, so one machine has one recorder; viewers started meanwhile read
what it writes (:mod:`tui.core.follower`) instead of polling the providers themselves. It keeps
``<data dir>/recorder.json`` (pid, heartbeat, statuses, checklist) for them, rewritten within a
second of a change and at least every 10 s, and removed on a clean stop.

Exit codes: 0 stopped by a signal, 2 the history cannot be written here (another btcwatch holds
it, or it is damaged or unwritable), 1 the engine failed (the log has the traceback).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import logging.handlers
import os
import signal
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Final, TextIO

import httpx

from tui import __version__
from tui.core import paths
from tui.core.alerts import Alert, AlertTracker, run_command
from tui.core.clock import SystemClock
from tui.core.config import Settings
from tui.core.engine import Engine
from tui.core.follower import (
    HEARTBEAT_EVERY_S,
    REFRESH_FILE,
    STATE_FILE,
    RecorderInfo,
    write_state,
)
from tui.core.model import Board, Update, format_age
from tui.core.store import Store

log = logging.getLogger(__name__)

EXIT_STOPPED: Final = 0
EXIT_FAILED: Final = 1
EXIT_REFUSED: Final = 2
LOG_FILE: Final = "recorder.log"
#: The log rotates at this size, keeping LOG_BACKUPS old files: a few MB at most, ever.
LOG_BYTES: Final = 1_000_000
LOG_BACKUPS: Final = 3
#: The state file is rewritten at most this often (seconds) while the Board changes.
STATE_EVERY_S: Final = 1.0
#: A viewer's refresh request within this many seconds of the last one is ignored.
REFRESH_MIN_S: Final = 5.0
#: Loggers that would log every request URL at INFO (a URL may carry a key): warnings only.
_CHATTY: Final = ("httpx", "httpcore", "hpack")


def command(settings: Settings, *, err: TextIO = sys.stderr) -> int:
    """``btcwatch record --daemon``: run the recorder until SIGTERM or SIGINT.

    Logging goes to ``<data dir>/recorder.log`` only (every other handler is removed: a daemon
    under systemd must not write tracebacks to its terminal). Only a refusal to start is printed,
    as one line on ``err``.

    Returns:
        The exit code (module docstring).
    """
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
        handler.close()
    with contextlib.suppress(KeyboardInterrupt):
        return asyncio.run(run_daemon(settings, err=err))
    return EXIT_STOPPED  # a Ctrl-C that landed before the handlers were installed


async def run_daemon(
    settings: Settings,
    *,
    data_dir: Path | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    stop: asyncio.Event | None = None,
    err: TextIO | None = None,
) -> int:
    """Record until ``stop`` is set, or (without ``stop``) until SIGTERM, SIGINT or SIGHUP.

    Args:
        settings: the loaded configuration (sources, intervals, retention, alerts).
        data_dir: where the history, the log and the state file go (default: the data dir).
        transport: an httpx transport for tests; ``None`` means the network.
        stop: set it to stop (tests); ``None`` installs the signal handlers instead.
        err: where a refusal to start is printed (one line), besides the log.

    Returns:
        0 after a clean stop, 2 when the history cannot be written here, 1 when the engine failed.
    """
    folder = data_dir if data_dir is not None else paths.data_dir()
    folder.mkdir(parents=True, exist_ok=True)
    handler = _log_to(folder / LOG_FILE)
    try:
        return await _record(settings, folder, transport, stop, err)
    finally:
        _unlog(handler)


async def _record(
    settings: Settings,
    folder: Path,
    transport: httpx.AsyncBaseTransport | None,
    stop: asyncio.Event | None,
    err: TextIO | None,
) -> int:
    for warning in settings.warnings:
        log.warning("config: %s", warning)
    db = folder / paths.store_file().name
    store = Store.open(db, settings.retention)
    refusal = _refusal(store, db)
    if refusal is not None:
        store.close()
        log.error("not recording: %s", refusal)
        if err is not None:
            print(f"btcwatch: {refusal}", file=err, flush=True)
        return EXIT_REFUSED
    clock = SystemClock()
    started = clock.now()
    engine = Engine(settings, clock, store, transport=transport, mode="live")
    info = RecorderInfo(os.getpid(), started, started, __version__, str(db))
    recorder = _Recorder(settings, engine, folder, info)
    stop = stop if stop is not None else _signals(recorder)
    names = ", ".join(s.name for s in engine.sources) or "none"
    log.info(
        "recording to %s (pid %d, btcwatch %s); sources: %s", db, os.getpid(), __version__, names
    )
    code = EXIT_STOPPED
    try:
        # The state file first: viewers started from now on read rather than poll.
        recorder.write_state()
        report = await asyncio.to_thread(store.apply_retention, started)
        log.info(
            "retention: %d raw answers, %d minute and %d hour rows removed",
            report.raw_deleted,
            report.minute_rows_removed,
            report.hour_rows_removed,
        )
        await asyncio.to_thread(engine.load_cached)
        code = await recorder.run(stop)
    finally:
        # The state file goes first: a viewer never sees a fresh one without the lock held.
        recorder.remove_state()
        store.close()
    uptime = format_age((datetime.now(UTC) - started).total_seconds())
    log.info(
        "stopped after %s (%s): %d updates, %d readings taken in",
        uptime,
        recorder.why or ("engine failed" if code == EXIT_FAILED else "stop requested"),
        recorder.updates,
        recorder.readings,
    )
    return code


def _refusal(store: Store, db: Path) -> str | None:
    """Why this process cannot record into ``db`` (``None``: it holds the writer lock)."""
    if store.in_memory:
        return store.notice or f"history file {db} cannot be opened"
    if not store.read_only:
        return None
    try:
        holder = Path(f"{db}.lock").read_text(encoding="ascii", errors="replace").strip()
    except OSError:
        holder = ""
    if store.notice and "another btcwatch" in store.notice:
        return f"another btcwatch is recording (pid {holder or 'unknown'})"
    return store.notice or f"history file {db} is read-only"


class _Recorder:
    """The engine, the state file, the log lines and the alert command of one recorder run."""

    def __init__(
        self, settings: Settings, engine: Engine, folder: Path, info: RecorderInfo
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.info = info
        self.state_path = folder / STATE_FILE
        self.refresh_path = folder / REFRESH_FILE
        self.updates = 0
        self.readings = 0
        self.why = ""
        """What stopped it: the signal's name."""
        self._dirty = True
        self._written_at = 0.0
        self._state_failed = False
        self._statuses: dict[str, tuple[str, str]] = {}
        self._alerts = AlertTracker(settings.muted)
        self._judged: object = None
        self._refresh_seen = _mtime(self.refresh_path)
        self._refreshed_at = 0.0
        self._tasks: set[asyncio.Task[None]] = set()

    async def run(self, stop: asyncio.Event) -> int:
        """Run the engine and the state loop until ``stop`` is set or the engine fails."""
        engine = asyncio.create_task(self.engine.run(self.publish), name="engine")
        state = asyncio.create_task(self._state_loop(), name="state")
        stopped = asyncio.create_task(stop.wait(), name="stop")
        try:
            await asyncio.wait((engine, stopped), return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (state, stopped, engine):
                task.cancel()
            # Engine.run closes the engine as it ends, waiting for its queued store writes.
            await asyncio.gather(state, stopped, engine, return_exceptions=True)
            for task in list(self._tasks):
                task.cancel()  # an alert command still running is left to finish on its own
        if engine.done() and not engine.cancelled() and engine.exception() is not None:
            error = engine.exception()
            log.error("the engine failed", exc_info=error)
            return EXIT_FAILED
        return EXIT_STOPPED

    def stop_on(self, name: str, stop: asyncio.Event) -> None:
        """A signal handler: remember why, then stop."""
        self.why = self.why or name
        stop.set()

    def publish(self, update: Update) -> None:
        """Each engine update: count it, log status changes, run alerts, mark the state dirty."""
        try:
            self.updates += 1
            self.readings += len(update.observations)
            self._dirty = True
            self._log_status(update)
            board = update.board
            if board.checklist is not self._judged:
                self._judged = board.checklist
                self._alert(self._alerts.update(board))
        except Exception:  # the engine must never stop for the recorder's bookkeeping
            log.exception("recorder bookkeeping failed")

    def _log_status(self, update: Update) -> None:
        s = update.status
        seen = (s.status.value, s.detail)
        if self._statuses.get(s.name) != seen:
            self._statuses[s.name] = seen
            log.info("%s: %s", s.name, s.detail if s.detail and not s.ok else s.status.value)

    def _alert(self, alerts: list[Alert]) -> None:
        for alert in alerts:
            log.info("flip: %s", alert.text())
            command = self.settings.alert_command
            if command:
                task = asyncio.get_running_loop().create_task(self._run_alert(command, alert))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)

    async def _run_alert(self, command: str, alert: Alert) -> None:
        problem = await asyncio.to_thread(run_command, command, alert)
        if problem is not None:
            log.warning("%s", problem)

    async def _state_loop(self) -> None:
        """Rewrite the state file when the Board changed (at most every second) and at least
        every heartbeat; take a viewer's refresh request."""
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(STATE_EVERY_S)
            if self._dirty or loop.time() - self._written_at >= HEARTBEAT_EVERY_S:
                self.write_state()
            self._take_refresh(loop.time())

    def _take_refresh(self, now: float) -> None:
        seen = _mtime(self.refresh_path)
        if seen is None or seen == self._refresh_seen:
            return
        self._refresh_seen = seen
        if now - self._refreshed_at >= REFRESH_MIN_S:
            self._refreshed_at = now
            log.info("refresh requested by a viewer")
            self.engine.refresh_now()

    def write_state(self) -> None:
        """Write the state file now (a failure is logged once, never fatal)."""
        self._dirty = False
        self._written_at = asyncio.get_running_loop().time()
        info = RecorderInfo(
            self.info.pid,
            self.info.started_at,
            datetime.now(UTC),
            self.info.version,
            self.info.store,
        )
        board: Board = self.engine.board
        try:
            write_state(self.state_path, info, board)
        except OSError as exc:
            if not self._state_failed:
                log.warning("cannot write %s: %s", self.state_path, exc.strerror or exc)
            self._state_failed = True
        else:
            self._state_failed = False

    def remove_state(self) -> None:
        """Remove the state file (a stopped recorder leaves none)."""
        with contextlib.suppress(OSError):
            self.state_path.unlink()


def _signals(recorder: _Recorder) -> asyncio.Event:
    """Stop on SIGTERM, SIGINT and SIGHUP (unless SIGHUP is ignored, as under ``nohup``)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    wanted = [signal.SIGTERM, signal.SIGINT]
    if signal.getsignal(signal.SIGHUP) is not signal.SIG_IGN:
        wanted.append(signal.SIGHUP)
    for sig in wanted:
        loop.add_signal_handler(sig, recorder.stop_on, sig.name, stop)
    return stop


def _mtime(path: Path) -> int | None:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return None


def _log_to(path: Path) -> logging.Handler:
    """Log INFO and up to ``path``, rotating (a few MB at most); request URLs are not logged."""
    handler: logging.Handler
    try:
        handler = logging.handlers.RotatingFileHandler(
            path, maxBytes=LOG_BYTES, backupCount=LOG_BACKUPS, encoding="utf-8"
        )
    except OSError:
        handler = logging.NullHandler()
    formatter = logging.Formatter(
        "%(asctime)s %(levelname)s %(name)s: %(message)s", "%Y-%m-%dT%H:%M:%SZ"
    )
    formatter.converter = time.gmtime  # UTC, as every time btcwatch shows
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if os.environ.get("BTCWATCH_DEBUG") else logging.INFO)
    for name in _CHATTY:
        logging.getLogger(name).setLevel(logging.WARNING)
    return handler


def _unlog(handler: logging.Handler) -> None:
    logging.getLogger().removeHandler(handler)
    handler.close()
