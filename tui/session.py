"""What the app runs (a Session); its history, first Board and engine, built in the boot thread."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import TYPE_CHECKING, Final

from tui.core import paths
from tui.core.config import Settings
from tui.core.model import Board, Mode
from tui.core.store import Store

if TYPE_CHECKING:
    import httpx

    from tui.core.clock import Clock
    from tui.core.engine import Engine
    from tui.core.follower import RecorderInfo

#: In a replay, no endpoint is polled more often than this in real time (keeps a 960× demo idle).
REPLAY_MIN_REAL_INTERVAL_S: Final = 5.0


@dataclass(frozen=True, slots=True)
class Session:
    """What to run: live polling, or a recording played back (the demo is one)."""

    settings: Settings
    mode: Mode = "live"
    label: str = ""
    """Banner text; demo and replay always have one."""
    recording: Path | Traversable | None = None
    speed: float = 1.0
    loop: bool = False
    poll: bool = True
    """False: paint what the store has and never poll (tests, snapshots)."""


def head_board(session: Session) -> Board | None:
    """A price in the first frame of a replay: the spot sources' first answers, in milliseconds.

    The engine's first round brings the rest at once (parsing every source's first answer here
    too would double the work and hold up the first frame: an ETF page is 50 kB).
    """
    if session.recording is None:
        return None
    from tui.core.seed import board_from_head
    from tui.core.sources.spot import SPOT

    return board_from_head(session.recording, SPOT, session.settings.pivot, session.mode)


def open_store(session: Session) -> Store:
    """The history: the user's file live, a throwaway one for a demo or a replay."""
    path = paths.store_file() if session.mode == "live" else None
    return Store.open(path, session.settings.retention)


def first_board(
    session: Session, store: Store, board: Board | None
) -> tuple[Board, tuple[str, ...], RecorderInfo | None]:
    """The Board to paint first, the notices to show, and the live recorder to follow, if any.

    Blocking (it reads the store and imports the sources): call it in a thread.
    """
    from tui.core.seed import board_from_store
    from tui.core.sources import registry

    if board is None:
        board = board_from_store(store, registry.ALL, session.mode, datetime.now(UTC))
    notices = tuple(n for n in (*session.settings.warnings, store.notice) if n)
    recorder = None
    if session.poll and session.mode == "live" and store.read_only:
        from tui.core.follower import live_recorder

        recorder = live_recorder(paths.data_dir())
    if recorder is not None:
        # A recorder writes the history: read from it, ask no provider (the strip says so).
        notices = tuple(n for n in notices if n != store.notice)
    return board, notices, recorder


def build_engine(session: Session, store: Store) -> Engine:
    """Import the engine (httpx) and read the recording, if any (blocking: call it in a thread)."""
    from tui.core.engine import Engine

    clock, transport = clock_and_transport(session)
    return Engine(
        session.settings,
        clock,
        store,
        transport=transport,
        mode=session.mode,
        min_real_interval_s=REPLAY_MIN_REAL_INTERVAL_S,
    )


def clock_and_transport(session: Session) -> tuple[Clock, httpx.AsyncBaseTransport | None]:
    """The engine's clock and transport: the network, or the session's recording."""
    from tui.core.clock import ReplayClock, SystemClock

    if session.recording is None:
        return SystemClock(), None
    from tui.core.recording import read_recording
    from tui.core.replay import ReplayTransport

    recording = read_recording(session.recording)
    clock = ReplayClock(recording.start, session.speed)
    return clock, ReplayTransport(recording, clock, loop=session.loop)
