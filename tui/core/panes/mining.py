"""The mining pane: hashprice against its record low, the next difficulty adjustment, hashrate."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Final

from tui.core.analytics.mining import HASHPRICE, RECORD_LOW
from tui.core.config import Settings
from tui.core.model import CONSENSUS, Board
from tui.core.panes import DOWN, UP, PaneRow, PaneView, age_text, reading_row, sign_glyph

SOURCE: Final = "mempool"


def view(board: Board, settings: Settings) -> PaneView:
    """The mining pane, most important row first.

    Args:
        board: the latest state.
        settings: the user's settings (nothing here depends on them yet).
    """
    rows = (
        _hashprice_row(board),
        _adjustment_row(board),
        reading_row(
            board,
            "hashrate",
            "mining.hashrate",
            SOURCE,
            lambda v: f"{v:,.0f} EH/s",
            detail="7-day estimate",
        ),
        reading_row(
            board,
            "reward/block",
            "mining.reward_144",
            SOURCE,
            lambda v: f"{v:.4f} BTC",
            detail="144-block mean, subsidy + fees",
        ),
        reading_row(
            board, "difficulty", "mining.difficulty", SOURCE, lambda v: f"{v / 1e12:,.2f} T"
        ),
    )
    return PaneView(rows, "mempool.space; hashprice = rewards a day × price ÷ PH/s")


def hashprice_text(value: float) -> str:
    """``$29.58/PH/s/day``."""
    return f"${value:,.2f}/PH/s/day"


def _hashprice_row(board: Board) -> PaneRow:
    row = reading_row(
        board,
        "hashprice",
        HASHPRICE,
        SOURCE,
        hashprice_text,
        sources=(SOURCE, CONSENSUS),
        tone=lambda v: "bearish" if v < RECORD_LOW else "neutral",
        glyph=lambda v: DOWN if v < RECORD_LOW else UP,
    )
    r = board.reading(HASHPRICE, SOURCE)
    if r is None:
        return row
    below = r.observation.value < RECORD_LOW
    detail = (
        f"record low < ${RECORD_LOW:.0f}" if below else f"above the ${RECORD_LOW:.0f} record low"
    )
    return PaneRow(row.label, row.value, row.tone, row.glyph, detail, row.age)


def countdown(seconds: float) -> str:
    """``1d 23h``, ``5h 12m``, ``14m``; ``due`` once the time has passed."""
    s = int(seconds)
    if s <= 0:
        return "due"
    days, rest = divmod(s, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes = rest // 60
    if days:
        return f"{days}d {hours}h"
    return f"{hours}h {minutes}m" if hours else f"{minutes}m"


def _adjustment_row(board: Board) -> PaneRow:
    """``next adjustment  ▼ -13.37 %  in 201 blocks, ~1d 14h, est. 7 Feb 20:10 UTC``."""
    row = reading_row(
        board,
        "next adjustment",
        "mining.difficulty.next_change",
        SOURCE,
        lambda v: f"{v:+.2f} %",
        glyph=sign_glyph,
    )
    change = board.reading("mining.difficulty.next_change", SOURCE)
    if change is None:
        return row
    parts = []
    left = board.reading("mining.difficulty.blocks_left", SOURCE)
    if left is not None:
        parts.append(f"in {left.observation.value:,.0f} blocks")
    at = board.reading("mining.difficulty.retarget_at", SOURCE)
    if at is not None:
        when = datetime.fromtimestamp(at.observation.value, UTC)
        wait = (when - board.generated_at).total_seconds()
        parts += [
            f"~{countdown(wait)}" if wait > 0 else "due",
            f"est. {when.day} {when:%b %H:%M} UTC",
        ]
    stale = any(r is not None and r.stale for r in (change, left, at))
    return PaneRow(
        row.label,
        row.value,
        "stale" if stale else row.tone,
        row.glyph,
        ", ".join(parts) or "estimate",
        age_text(change),
    )
