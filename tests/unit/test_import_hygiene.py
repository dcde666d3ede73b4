"""The headless core never loads Textual: proved at run time (import-linter, statically)."""

from __future__ import annotations

import subprocess
import sys

import pytest

FORBIDDEN = ("textual", "plotext", "pandas", "widgets", "themes")


@pytest.mark.parametrize("module", ["tui.cli", "tui.core.engine", "tui.core.headless"])
def test_headless_modules_do_not_import_ui(module: str) -> None:
    code = (
        f"import sys, {module}\n"
        f"bad = [m for m in {FORBIDDEN!r} if m in sys.modules]\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == ""


def test_snapshot_help_does_not_import_ui() -> None:
    code = (
        "import sys\n"
        "from tui import cli\n"
        "try:\n"
        "    cli.main(['snapshot', '--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        f"print('LOADED=' + ','.join(m for m in {FORBIDDEN!r} if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert "usage: btcwatch snapshot" in out.stdout
    assert "LOADED=\n" in out.stdout + "\n"
    assert out.stdout.strip().endswith("LOADED=")
