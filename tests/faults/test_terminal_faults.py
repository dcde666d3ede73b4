"""Terminal faults: resize storms, a too-small terminal, SIGHUP, and the terminal going away."""

from __future__ import annotations

import contextlib
import fcntl
import os
import pty
import select
import shutil
import signal
import struct
import sys
import termios
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.app import App
from textual.drivers.headless_driver import HeadlessDriver
from textual.events import Resize
from textual.geometry import Size

from tests.tui.conftest import screen_text
from tui.app import BtcwatchApp, Session
from tui.core.config import Settings
from tui.core.store import Store
from tui.screens.dashboard import DashboardScreen
from widgets.status_strip import StatusStrip

# --- resize storms (pilot) ---------------------------------------------------------------------

SMALL, BIG = (40, 10), (200, 60)


def resize_now(app: App[None], width: int, height: int) -> None:
    """What a terminal's SIGWINCH turns into, without waiting for the app to catch up (Pilot's
    resize_terminal waits for each): a storm arrives faster than anything repaints."""
    size = Size(width, height)
    driver = app._driver  # the headless driver answers the size it is told
    assert isinstance(driver, HeadlessDriver)
    driver._size = size
    app.post_message(Resize(size, size))


async def test_a_resize_storm_ends_in_the_right_layout() -> None:
    app = BtcwatchApp(Session(Settings(), "live", poll=False), store=Store.open(None))
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        for i in range(50):
            width = SMALL[0] + (BIG[0] - SMALL[0]) * ((i * 37) % 50) // 49
            height = SMALL[1] + (BIG[1] - SMALL[1]) * ((i * 23) % 50) // 49
            resize_now(app, width, height)
            if i % 10 == 9:
                await pilot.pause()  # some sizes are painted, most are overtaken
        await pilot.resize_terminal(*SMALL)
        await pilot.pause(0.1)
        assert app.is_running
        words = " ".join(screen_text(app).split())
        assert "btcwatch needs at least 60×16 (now 40×10)" in words
        await pilot.resize_terminal(*BIG)
        await pilot.pause(0.1)
        assert isinstance(app.screen, DashboardScreen)
        text = screen_text(app)
        assert "needs at least" not in text
        assert "1 Price" in text  # the panes are back
        assert app.size == BIG
        strip = app.screen.query_one(StatusStrip)
        assert strip.region.width == BIG[0]  # laid out for the final size, not a stale one
        assert strip.region.bottom <= BIG[1]


# --- the real app on a pseudo-terminal ------------------------------------------------------------

BTCWATCH = shutil.which("btcwatch") or str(Path(sys.executable).with_name("btcwatch"))


def spawn() -> tuple[int, int]:
    """``btcwatch demo`` on a new 100×30 pseudo-terminal; (pid, master fd). Textual draws on
    stderr, so a traceback would show on the terminal too: everything read from it is kept."""
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "100", "LINES": "30"}
    pid, fd = pty.fork()
    if pid == 0:  # the child: never returns
        os.execve(BTCWATCH, [BTCWATCH, "demo"], env)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    return pid, fd


class Child:
    """``btcwatch demo`` on a pseudo-terminal; reaped (killed if it must be) at the end."""

    def __init__(self) -> None:
        self.pid, self.fd = spawn()
        self.fd_open = True
        self.status: int | None = None
        self.seen = bytearray()
        """Everything the app wrote to its terminal (its screen and its stderr)."""

    def read(self, timeout_s: float) -> None:
        """Read what the terminal has within ``timeout_s``."""
        if not self.fd_open:
            time.sleep(timeout_s)
            return
        ready, _, _ = select.select([self.fd], [], [], timeout_s)
        if ready:
            try:
                self.seen += os.read(self.fd, 65536)
            except OSError:  # EIO: the child side is closed, the app has gone
                time.sleep(timeout_s)

    def read_until(self, marker: bytes, limit_s: float) -> bool:
        """Read until ``marker`` is drawn (the limit only keeps a hang from hanging the suite)."""
        end = time.monotonic() + limit_s
        while time.monotonic() < end and marker not in self.seen:
            self.read(0.05)
        return marker in self.seen

    def close_terminal(self) -> None:
        os.close(self.fd)
        self.fd_open = False

    def wait(self, limit_s: float) -> int | None:
        """The exit status once the app has ended (reading its terminal meanwhile), else None."""
        end = time.monotonic() + limit_s
        while time.monotonic() < end:
            done, status = os.waitpid(self.pid, os.WNOHANG)
            if done:
                self.status = status
                self.read(0.05)  # the last words it wrote, if any
                return status
            self.read(0.05)
        return None

    def reap(self) -> None:
        if self.status is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(self.pid, 0)
        if self.fd_open:
            os.close(self.fd)


@pytest.fixture
def demo() -> Iterator[Child]:
    if not os.path.exists(BTCWATCH):
        pytest.skip("the btcwatch script is not installed in this environment")
    child = Child()
    try:
        assert child.read_until(b"pivot", 30.0), "the demo never drew its dashboard"
        yield child
    finally:
        child.reap()


def test_sighup_ends_the_app_cleanly(demo: Child) -> None:
    os.kill(demo.pid, signal.SIGHUP)
    status = demo.wait(10.0)
    assert status is not None, "btcwatch outlived SIGHUP"
    # It left by itself (exit code 129, or its own shutdown), not killed by the signal.
    assert os.WIFEXITED(status), status
    assert os.WEXITSTATUS(status) == 129
    assert b"Traceback" not in demo.seen
    assert b"Error" not in demo.seen.partition(b"\x1b[?1049l")[2]  # nothing after the screen


def test_closing_the_terminal_ends_the_app(demo: Child) -> None:
    demo.close_terminal()  # the master side goes away: an SSH session that dropped
    assert demo.wait(10.0) is not None, "btcwatch outlived its terminal"
