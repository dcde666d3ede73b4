"""The options pane: 25Δ skew, the ATM term structure, DVOL and the retest-band put OI (Deribit)."""

from __future__ import annotations

from typing import Final

from tui.core.config import Settings
from tui.core.model import Board
from tui.core.panes import (
    DOWN,
    UP,
    PaneRow,
    PaneView,
    Tone,
    age_text,
    missing_text,
    reading_row,
    sign_glyph,
)

SOURCE: Final = "deribit_options"
SOURCES: Final = (SOURCE,)
#: A 25Δ risk reversal below this (vol points) is "deeply negative": persistent put buying.
#: DOMAIN.md's checklist reads -13 as near-extreme; -5 is where protection buying dominates.
BEARISH_RR: Final = -5.0
TERM_DAYS: Final = (7, 30, 90)
NOTE: Final = "Deribit BTC options · RR25 = IV(25Δ call) − IV(25Δ put)"


def _signed(v: float) -> str:
    return f"{v:+.1f} vol pts".replace("-", "−")


def _vol(v: float) -> str:
    return f"{v:.1f} vol pts"


def _rr_tone(v: float) -> Tone:
    return "bearish" if v < BEARISH_RR else "bullish" if v > 0 else "neutral"


def _rr_row(board: Board, days: int, other: int | None) -> PaneRow:
    detail = ""
    if other is not None:
        r = board.reading(f"options.rr25.{other}d", SOURCE)
        detail = f"{other}d " + (_signed(r.observation.value) if r else "missing")
    return reading_row(
        board,
        f"RR25 {days}d",
        f"options.rr25.{days}d",
        SOURCE,
        _signed,
        tone=_rr_tone,
        glyph=sign_glyph,
        detail=detail,
    )


def _step(a: float, b: float) -> str:
    return "↘" if b < a else "↗" if b > a else "→"


def _term_row(board: Board) -> PaneRow:
    """``7d 62.1 ↘ 30d 55.0 ↘ 90d 51.3``, and whether the curve is inverted."""
    found = {d: board.reading(f"options.atm_iv.{d}d", SOURCE) for d in TERM_DAYS}
    have = {d: r for d, r in found.items() if r is not None}
    if not have:
        return PaneRow("ATM IV", missing_text(board, SOURCES), "missing", "✕")
    parts: list[str] = []
    prev: float | None = None
    for d in TERM_DAYS:
        r = found[d]
        if r is None:
            parts.append(f"{d}d –")
            prev = None
            continue
        v = r.observation.value
        if prev is not None:
            parts.append(_step(prev, v))
        parts.append(f"{d}d {v:.1f}")
        prev = v
    slope_r = board.reading("options.term.slope", SOURCE)
    slope = slope_r.observation.value if slope_r is not None else None
    if slope is None and found[7] is not None and found[90] is not None:
        slope = found[90].observation.value - found[7].observation.value
    oldest = max(have.values(), key=lambda r: r.age_s)
    stale = any(r.stale for r in have.values())
    if slope is None:
        return PaneRow(
            "ATM IV", " ".join(parts), "stale" if stale else "plain", "", "", age_text(oldest)
        )
    inverted = slope < 0
    words = f"{'inverted' if inverted else 'normal'} (90d−7d {_signed(slope)})"
    tone: Tone = "stale" if stale else "bearish" if inverted else "neutral"
    return PaneRow(
        "ATM IV", " ".join(parts), tone, DOWN if inverted else UP, words, age_text(oldest)
    )


def _band_row(board: Board, settings: Settings) -> PaneRow:
    band = settings.retest_band
    label = f"puts {band.low / 1000:g}–{band.high / 1000:g}k"
    share = board.reading("options.put_oi.retest_share", SOURCE)
    detail = f"{share.observation.value:.0f}% of puts ≤45d" if share is not None else ""
    return reading_row(
        board,
        label,
        "options.put_oi.retest_band",
        SOURCE,
        lambda v: f"{v:,.0f} BTC",
        detail=detail,
    )


def view(board: Board, settings: Settings) -> PaneView:
    """The options pane: RR25 7d (30d beside it), the ATM term curve, retest-band put OI, RR25
    30d and DVOL, most important first."""
    return PaneView(
        rows=(
            _rr_row(board, 7, 30),
            _term_row(board),
            _band_row(board, settings),
            _rr_row(board, 30, None),
            reading_row(board, "DVOL", "options.dvol", SOURCE, _vol),
        ),
        note=NOTE,
    )
