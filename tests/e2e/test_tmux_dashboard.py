"""The real `btcwatch demo` dashboard in tmux: wait for the price, press keys, read the screen."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tui import cli

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux missing (.ci/run installs it)"),
]


class Tmux:
    """One detached tmux session running a command."""

    def __init__(self, command: str, width: int, height: int) -> None:
        self.name = f"btcwatch-e2e-{uuid.uuid4().hex[:8]}"
        self._run(
            "new-session", "-d", "-s", self.name, "-x", str(width), "-y", str(height), command
        )

    def _run(self, *args: str) -> str:
        return subprocess.run(
            ["tmux", *args], capture_output=True, text=True, check=True, timeout=30
        ).stdout

    def screen(self) -> str:
        return self._run("capture-pane", "-p", "-t", self.name)

    def keys(self, *keys: str) -> None:
        self._run("send-keys", "-t", self.name, *keys)

    def wait_for(self, text: str, timeout: float = 30) -> str:
        end = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < end:
            screen = self.screen()
            if text in screen:
                return screen
            time.sleep(0.2)
        raise AssertionError(f"{text!r} never appeared; screen was:\n{screen}")

    def wait_gone(self, text: str, timeout: float = 30) -> str:
        end = time.monotonic() + timeout
        screen = self.screen()
        while text in screen and time.monotonic() < end:
            time.sleep(0.2)
            screen = self.screen()
        assert text not in screen, f"{text!r} never went away; screen was:\n{screen}"
        return screen

    def alive(self) -> bool:
        return (
            subprocess.run(
                ["tmux", "has-session", "-t", self.name], capture_output=True, check=False
            ).returncode
            == 0
        )

    def kill(self) -> None:
        subprocess.run(["tmux", "kill-session", "-t", self.name], capture_output=True, check=False)


@pytest.fixture
def demo(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Tmux]:
    width, height = request.param
    exe = shutil.which("btcwatch", path=str(Path(sys.executable).parent))
    command = exe if exe else f"{sys.executable} -m tui.cli"
    session = Tmux(
        f"env TERM=xterm-256color BTCWATCH_DATA_DIR={tmp_path} {command} demo", width, height
    )
    try:
        yield session
    finally:
        session.kill()


@pytest.mark.parametrize("demo", [(80, 24), (160, 48)], indirect=True, ids=["80x24", "160x48"])
def test_demo_dashboard_drill_down_help_and_quit(demo: Tmux) -> None:
    screen = demo.wait_for("pivot")  # the price pane has a price
    assert cli.DEMO_LABEL in screen  # the banner
    # The status strip: the keyless demo's one source in trouble in full, the others folded
    # at 80 columns ("● 14 ok") or one by one on a big screen.
    screen = demo.wait_for("glassnode ○ needs key")
    assert "● 14 ok" in screen or "kraken ●" in screen
    assert "Price" in screen
    demo.keys("Enter")
    screen = demo.wait_for("Raw body")  # the drill-down shows the last raw body
    assert "Readings" in screen
    demo.keys("Escape")
    demo.wait_gone("Raw body")
    demo.wait_for("pivot")
    demo.keys("?")
    screen = demo.wait_for("Keys")
    assert "refresh" in screen
    demo.keys("Escape")
    demo.wait_gone("Keys")  # the help sits over the dashboard: wait until it is gone
    demo.keys("q")
    end = time.monotonic() + 10
    while demo.alive() and time.monotonic() < end:
        time.sleep(0.2)
    assert not demo.alive()  # q quit and the session closed with it


def test_closing_the_terminal_ends_the_app(tmp_path: Path) -> None:
    """An SSH session that drops sends SIGHUP: btcwatch must not linger without its terminal."""
    exe = shutil.which("btcwatch", path=str(Path(sys.executable).parent))
    command = exe if exe else f"{sys.executable} -m tui.cli"
    marker = f"E2E_MARKER={uuid.uuid4().hex}"
    session = Tmux(f"env {marker} BTCWATCH_DATA_DIR={tmp_path} {command} demo", 100, 30)
    try:
        session.wait_for("pivot")
        pids = [
            p.name
            for p in Path("/proc").iterdir()
            if p.name.isdigit() and marker.encode() in _environ(p)
        ]
        assert pids, "the btcwatch process was not found"
    finally:
        session.kill()  # the terminal goes away: tmux hangs up on the pane
    end = time.monotonic() + 10
    while time.monotonic() < end and any(Path(f"/proc/{pid}").exists() for pid in pids):
        time.sleep(0.2)
    assert not any(Path(f"/proc/{pid}").exists() for pid in pids)


def _environ(proc: Path) -> bytes:
    try:
        return (proc / "environ").read_bytes()
    except OSError:
        return b""
