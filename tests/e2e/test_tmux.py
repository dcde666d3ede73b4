"""The real `btcwatch` in a real terminal (tmux): what a person sees."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from tui import cli

pytestmark = pytest.mark.e2e

TMUX = shutil.which("tmux")


def tmux(*args: str) -> str:
    assert TMUX is not None
    return subprocess.run(
        [TMUX, *args], capture_output=True, text=True, check=True, timeout=30
    ).stdout


@pytest.mark.skipif(TMUX is None, reason="tmux is not installed (.ci/run installs it)")
def test_text_demo_in_a_terminal_shows_the_label_the_tape_and_the_sources(tmp_path: Path) -> None:
    exe = shutil.which("btcwatch", path=str(Path(sys.executable).parent))
    command = exe if exe else f"{sys.executable} -m tui.cli"
    session = f"btcwatch-e2e-{uuid.uuid4().hex[:8]}"
    # A small terminal, as over SSH; the shell stays open so the screen can be read after exit.
    tmux(
        "new-session", "-d", "-s", session, "-x", "100", "-y", "30",
        f"BTCWATCH_DATA_DIR={tmp_path} {command} demo --text; echo EXIT=$?; sleep 60",
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        screen = ""
        while time.monotonic() < deadline:
            screen = tmux("capture-pane", "-p", "-S", "-200", "-t", session)  # with scrollback
            if "EXIT=" in screen:
                break
            time.sleep(0.2)
        assert "EXIT=0" in screen, screen
        lines = screen.splitlines()
        assert cli.DEMO_LABEL in lines  # the last thing on screen says it is not live
        assert any(line.startswith("BTC  $") and "pivot" in line for line in lines)
        assert any(line.startswith("● kraken") for line in lines)
        assert "Traceback" not in screen
    finally:
        subprocess.run([TMUX, "kill-session", "-t", session], check=False, timeout=10)
