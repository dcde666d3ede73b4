"""The checklist pane: the verdict first, then one row per signal with its state and since when."""

from __future__ import annotations

from datetime import datetime
from typing import Final

from tui.core.config import Settings
from tui.core.model import Board, RowState, RuleResult, Verdict
from tui.core.panes import DOWN, FLAT, UP, PaneRow, PaneView, Tone

STATE_GLYPH: Final[dict[RowState, str]] = {
    RowState.BULLISH: UP,
    RowState.BEARISH: DOWN,
    RowState.NEUTRAL: FLAT,
    RowState.WAITING: "◌",
    RowState.STALE: "◐",
}
STATE_TONE: Final[dict[RowState, Tone]] = {
    RowState.BULLISH: "bullish",
    RowState.BEARISH: "bearish",
    RowState.NEUTRAL: "neutral",
    RowState.WAITING: "missing",
    RowState.STALE: "stale",
}
CALL_TONE: Final[dict[str, tuple[Tone, str]]] = {
    "holding": ("bullish", UP),
    "contested": ("neutral", FLAT),
    "retest risk": ("bearish", DOWN),
    "no data": ("missing", "◌"),
}


def since_text(since: datetime | None, now: datetime) -> str:
    """``since 3 h`` within a day, ``since 5 Feb`` before; empty when unknown."""
    if since is None:
        return ""
    seconds = (now - since).total_seconds()
    if seconds < 3600:
        return f"since {max(0, int(seconds // 60))} min"
    if seconds < 86_400:
        return f"since {int(seconds // 3600)} h"
    return f"since {since.day} {since:%b}"


def verdict_rows(v: Verdict | None, now: datetime) -> tuple[PaneRow, ...]:
    """The verdict, its counts, and the next test's steps ticked."""
    if v is None:
        return (PaneRow("verdict", "not judged yet", "missing", "◌"),)
    tone, glyph = CALL_TONE[v.call]
    counts = f"hold {v.holding_count}/{len(v.holding)} · retest {v.retest_count}/{len(v.retest)}"
    steps = " → ".join(f"{_tick(ok)} {name}" for name, ok in v.steps)
    since = since_text(v.since, now) if v.call != "no data" else ""
    return (
        PaneRow("verdict", v.call.upper(), tone, glyph, counts, since),
        PaneRow("next", steps),
    )


#: The state in one word, for narrow panes (the snapshot and drill-down use the full words).
SHORT: Final[dict[RowState, str]] = {
    RowState.BULLISH: "bullish",
    RowState.BEARISH: "bearish",
    RowState.NEUTRAL: "neutral",
    RowState.WAITING: "waiting",
    RowState.STALE: "stale",
}


def row_for(r: RuleResult, now: datetime) -> PaneRow:
    """One checklist row: ``Funding  ▼ bearish  -0.0100 %/8h  since 3 h``."""
    if r.state is RowState.WAITING:
        why = r.reason.removeprefix("waiting for ")
        return PaneRow(r.title, SHORT[r.state], "missing", STATE_GLYPH[r.state], f"for {why}")
    return PaneRow(
        r.title,
        SHORT[r.state],
        STATE_TONE[r.state],
        STATE_GLYPH[r.state],
        r.key_reading,
        since_text(r.since, now) if r.state is not RowState.STALE else r.reason,
    )


def view(board: Board, settings: Settings) -> PaneView:
    """The checklist pane of ``board``."""
    now = board.generated_at
    if not board.checklist:
        return PaneView(verdict_rows(board.verdict, now), "the checklist is judged every 30 s")
    rows = verdict_rows(board.verdict, now) + tuple(row_for(r, now) for r in board.checklist)
    return PaneView(rows, "not advice · Enter: reasons and history")


def _tick(ok: bool | None) -> str:
    return "✓" if ok else "?" if ok is None else "✗"
