"""Alerts: flips between Boards, mutes, and the user's command run as a real subprocess."""

from __future__ import annotations

import os
import sys
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from tui.core.alerts import Alert, AlertTracker, run_command
from tui.core.model import Board, RowState, RuleResult, Verdict

NOW = datetime(2026, 2, 6, 20, tzinfo=UTC)


def board(funding: RowState, call: str = "contested", skew: RowState = RowState.BEARISH) -> Board:
    rows = (
        RuleResult("funding", "Funding", funding, f"funding is {funding.value}", NOW),
        RuleResult("skew", "Options skew", skew, "rr25", NOW),
    )
    v = Verdict(call, (), (), "below the pivot", (), NOW)  # type: ignore[arg-type]
    return replace(Board("live", NOW), checklist=rows, verdict=v)


def test_a_flip_is_reported_once_and_waiting_in_between_is_not_a_flip() -> None:
    t = AlertTracker()
    assert t.update(board(RowState.NEUTRAL)) == []  # first sight: nothing to compare
    assert t.update(board(RowState.WAITING)) == []
    flips = t.update(board(RowState.BEARISH))
    assert [(a.id, a.previous, a.current) for a in flips] == [
        ("funding", "neutral", "bearish continuing")
    ]
    assert flips[0].text() == (
        "Funding: neutral → bearish continuing (funding is bearish continuing)"
    )
    assert t.update(board(RowState.BEARISH)) == []


def test_the_verdict_flips_too_and_mutes_silence_rows() -> None:
    t = AlertTracker(muted=frozenset({"funding"}))
    t.update(board(RowState.NEUTRAL, "contested"))
    flips = t.update(board(RowState.BEARISH, "retest risk"))
    assert [(a.id, a.previous, a.current) for a in flips] == [
        ("verdict", "contested", "retest risk")
    ]


def test_the_alert_command_gets_the_flip_in_its_environment(tmp_path: Path) -> None:
    out = tmp_path / "alert.txt"
    script = (
        "import os,sys; open(sys.argv[1],'w').write('|'.join(os.environ[k] for k in "
        "('BTCWATCH_ALERT_ID','BTCWATCH_ALERT_PREV','BTCWATCH_ALERT_CUR','BTCWATCH_ALERT_REASON')))"
    )
    command = f'"{sys.executable}" -c "{script}" "{out}"'
    alert = Alert("funding", "Funding", "neutral", "bearish continuing", "funding -0.01 %/8h")
    assert run_command(command, alert, os.environ) is None
    assert out.read_text() == "funding|neutral|bearish continuing|funding -0.01 %/8h"


def test_a_failing_command_is_one_line_and_never_raises() -> None:
    alert = Alert("verdict", "Verdict", "contested", "retest risk", "why")
    problem = run_command("echo oops >&2; exit 7", alert)
    assert problem == "alert command exited 7: oops"
    assert run_command("/nonexistent/alert-command", alert) is not None
