"""Alerts: which checklist rows (or the verdict) flipped between two Boards, and the user's command.

A flip is a change of *market* state (bullish, neutral, bearish; or the verdict's call). A row
that goes waiting or stale and comes back is not a flip unless its market state changed
meanwhile; a neutral judged afresh at start-up (no known start) is no baseline, so starting
the app does not raise a storm of alerts. The optional command runs through the shell with
``BTCWATCH_ALERT_ID``, ``_PREV``, ``_CUR`` and ``_REASON`` in its environment; its failure is
reported, never fatal.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from tui.core.model import Board, RowState

#: Seconds an alert command may run before it is abandoned.
COMMAND_TIMEOUT_S: Final = 20.0
_MARKET: Final = (RowState.BULLISH, RowState.NEUTRAL, RowState.BEARISH)


@dataclass(frozen=True, slots=True)
class Alert:
    """One flip."""

    id: str
    """The row key (``funding``) or ``verdict``."""
    title: str
    previous: str
    current: str
    reason: str

    def text(self) -> str:
        """``Funding: neutral → bearish continuing (funding -0.01 %/8h ...)``."""
        return f"{self.title}: {self.previous} → {self.current} ({self.reason})"


class AlertTracker:
    """Remembers each row's last market state and the last call; reports flips."""

    def __init__(self, muted: frozenset[str] = frozenset()) -> None:
        self._rows: dict[str, RowState] = {}
        self._call: str | None = None
        self._muted = muted

    def update(self, board: Board) -> list[Alert]:
        """The flips since the last Board (none for the first sight of a row or a call)."""
        out: list[Alert] = []
        for r in board.checklist:
            if r.state not in _MARKET or r.since is None:
                continue  # data trouble, or judged afresh without a known start: no baseline
            before = self._rows.get(r.key)
            self._rows[r.key] = r.state
            if before is not None and before != r.state and r.key not in self._muted:
                out.append(Alert(r.key, r.title, before.value, r.state.value, r.reason))
        v = board.verdict
        if v is not None and v.call != "no data":
            before_call, self._call = self._call, v.call
            if before_call is not None and before_call != v.call and "verdict" not in self._muted:
                why = f"holding {v.holding_count}/3, retest {v.retest_count}/3; {v.position}"
                out.append(Alert("verdict", "Verdict", before_call, v.call, why))
        return out


def run_command(command: str, alert: Alert, environ: Mapping[str, str] | None = None) -> str | None:
    """Run the user's alert command for ``alert`` (blocking: call it from a thread).

    Returns:
        ``None`` on success, else one line saying what went wrong.
    """
    env = dict(os.environ if environ is None else environ)
    env |= {
        "BTCWATCH_ALERT_ID": alert.id,
        "BTCWATCH_ALERT_PREV": alert.previous,
        "BTCWATCH_ALERT_CUR": alert.current,
        "BTCWATCH_ALERT_REASON": alert.reason,
    }
    try:
        # The shell: the command is the user's own line from their config (pipes, quoting).
        done = subprocess.run(
            command,
            shell=True,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            timeout=COMMAND_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return f"alert command timed out after {COMMAND_TIMEOUT_S:g} s"
    except OSError as exc:
        return f"alert command could not start: {exc.strerror or exc}"
    if done.returncode != 0:
        tail = done.stderr.decode("utf-8", "replace").strip().splitlines()
        last = f": {tail[-1][:120]}" if tail else ""
        return f"alert command exited {done.returncode}{last}"
    return None
