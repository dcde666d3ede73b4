"""The controlling terminal: leave cleanly when it goes (SIGHUP, or an SSH session that dropped)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import threading
from functools import partial
from typing import Final

from textual.app import App

#: How often to check that the controlling terminal is still there (seconds).
TERMINAL_CHECK_S: Final = 5.0
#: After a hang-up, how long a clean shutdown may take before the process just ends.
HANG_UP_GRACE_S: Final = 3.0


def watch_terminal(app: App[None]) -> None:
    """Exit ``app`` on SIGHUP, and when the terminal it runs on goes (call it on mount)."""
    # A dropped SSH session sends SIGHUP: leave cleanly (no handler on non-Unix loops).
    with contextlib.suppress(NotImplementedError, RuntimeError):
        asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, hang_up, app)
    if sys.__stdin__ is not None and sys.__stdin__.isatty():
        app.set_interval(TERMINAL_CHECK_S, partial(check_terminal, app))


def check_terminal(app: App[None]) -> None:
    """Exit ``app`` when the controlling terminal has gone (an SSH session that dropped)."""
    try:
        alive = sys.__stdin__ is not None and os.isatty(sys.__stdin__.fileno())
        os.get_terminal_size(sys.__stdout__.fileno() if sys.__stdout__ else 1)
    except (OSError, ValueError):
        alive = False
    if not alive:
        hang_up(app)


def hang_up(app: App[None]) -> None:
    """The terminal is gone: exit ``app``.

    Textual's shutdown can block writing to a dead terminal (seen here: the writer queue never
    drains), so a timer ends the process regardless; nothing is lost, the store commits as it goes.
    """
    watchdog = threading.Timer(HANG_UP_GRACE_S, os._exit, args=(129,))
    watchdog.daemon = True
    watchdog.start()
    app.exit(return_code=129)
