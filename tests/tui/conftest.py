"""Deterministic dashboard fixtures: the demo scenario stepped to a fixed moment, clock frozen."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from importlib.resources import files
from pathlib import Path

import pytest
import pytest_textual_snapshot as snapshot_plugin
from syrupy.location import PyTestLocation

from tui.app import BtcwatchApp, Session
from tui.cli import DEMO_FILE, DEMO_LABEL
from tui.core.clock import ReplayClock
from tui.core.config import Settings
from tui.core.engine import Engine
from tui.core.model import Board
from tui.core.recording import read_recording
from tui.core.replay import ReplayTransport
from tui.core.store import Store

ROOT = Path(__file__).resolve().parents[2]


class _SnapshotsInRepoRoot(snapshot_plugin.SVGImageExtension):
    """SVG snapshots live in snapshots/ (DESIGN.md), not tests/__snapshots__/."""

    @classmethod
    def dirname(cls, *, test_location: PyTestLocation) -> str:
        return str(ROOT / "snapshots" / test_location.basename)


snapshot_plugin.SVGImageExtension = _SnapshotsInRepoRoot  # type: ignore[misc]

#: The moment the fixtures freeze: 6 Feb 2026 21:00 UTC, after the three failed breaks of ~71,422.
MOMENT = datetime(2026, 2, 6, 21, 0, 5, tzinfo=UTC)


@dataclass(frozen=True)
class DemoState:
    board: Board
    store: Store


def step_demo(
    until: datetime, every: timedelta = timedelta(minutes=10), since: datetime | None = None
) -> DemoState:
    """Poll the demo recording every ``every`` from ``since`` (default: 25 h before ``until``)
    up to ``until``, the clock frozen after."""

    async def run() -> DemoState:
        rec = read_recording(files("tui.demo") / DEMO_FILE)
        clock = ReplayClock(rec.start)
        clock.pause()
        store = Store.open(None)
        # Paced like the demo itself: slow answers (recorded every 30 min) are not stale.
        engine = Engine(
            Settings(),
            clock,
            store,
            transport=ReplayTransport(rec, clock),
            mode="demo",
            min_real_interval_s=1800.0,
        )
        # The OI 24 h change needs a day back.
        at = since or until - timedelta(hours=25, minutes=5)
        while at < until:
            clock.skip_to(at)
            await engine.poll_once()
            at += every
        clock.skip_to(until)
        board = await engine.poll_once()
        await engine.aclose()
        return DemoState(board, store)

    return asyncio.run(run())


@pytest.fixture(scope="session")
def demo_state() -> DemoState:
    return step_demo(MOMENT)


def still_app(state: DemoState) -> BtcwatchApp:
    """The dashboard on the frozen demo state; it never polls."""
    return BtcwatchApp(
        Session(Settings(), "demo", DEMO_LABEL, poll=False), store=state.store, board=state.board
    )


def screen_text(app: BtcwatchApp) -> str:
    """What the terminal shows, as plain text (export_screenshot's path, exported as text)."""
    import io

    from rich.console import Console

    width, height = app.size
    console = Console(
        width=width, height=height, file=io.StringIO(), force_terminal=True, record=True
    )
    console.print(
        app.screen._compositor.render_update(full=True, screen_stack=app._background_screens)
    )
    return console.export_text()
