"""The macro pane: condition 1 of the article, then level, day move, 30-day corr per asset."""

from __future__ import annotations

from typing import Final

from tui.core.analytics.macro import (
    MACRO_SOURCES,
    Condition,
    ConditionReading,
    macro_state,
    pick,
    thresholds,
)
from tui.core.config import Settings
from tui.core.model import DAILY, Board, Reading
from tui.core.panes import FLAT, PaneRow, PaneView, Tone, age_text, missing_text, sign_glyph
from tui.core.sources.fred import PROXIES
from tui.core.sources.yahoo import ASSETS, Asset, market_open

PRIMARY: Final = MACRO_SOURCES[0]
CLOSED: Final = "closed"
_STATE_TONE: Final[dict[str, Tone]] = {
    "held": "bullish",
    "not held": "bearish",
    "waiting": "missing",
}
_STATE_MARK: Final = {"held": "✓", "not held": "✗", "waiting": "…"}


def view(board: Board, settings: Settings) -> PaneView:
    """The macro pane: the state of "tech stabilises, yields stop tightening, the dollar stops
    strengthening" first, then one row per asset, then the three conditions.

    An asset row reads ``S&P 500  6,932.30  ▲  +1.97 % · corr +0.41 · yahoo  3m``; the age says
    ``closed`` while its market is shut (so a Friday close is not "stale" all weekend), and the
    provider is named when a fallback serves.
    """
    state = macro_state(board, thresholds(settings))
    rows = [_summary_row(board, state.state, state.conditions)]
    rows.extend(_asset_row(board, info) for info in ASSETS.values())
    rows.extend(_condition_row(c) for c in state.conditions)
    return PaneView(tuple(rows), _note(board))


def _age(board: Board, r: Reading, asset: str) -> str:
    return CLOSED if not market_open(asset, board.generated_at) else age_text(r)


def _level(info: Asset, v: float) -> str:
    if info.unit == "%":
        return f"{v:.2f} %"
    if info.unit == "USD/oz":
        return f"${v:,.2f}"
    return f"{v:,.2f}"


def _provider(source: str, asset: str) -> str:
    if source == PRIMARY:
        return source
    if source == "fred" and asset in PROXIES:
        return f"fred: {PROXIES[asset]}"
    return f"{source} (fallback)"


def _asset_row(board: Board, info: Asset) -> PaneRow:
    r = pick(board, info.key)
    if r is None:
        return PaneRow(info.title, missing_text(board, MACRO_SOURCES), "missing", "✕")
    source = r.observation.source
    # The day move of the provider shown, never another provider's (Stooq publishes none).
    chg = board.reading(f"macro.{info.key}.chg_1d", source)
    corr = board.reading(f"macro.corr30d.{info.key}", DAILY)
    parts = [
        f"{chg.observation.value:+.2f} %" if chg else "day move n/a",
        f"corr {corr.observation.value:+.2f}" if corr else "corr n/a",
        _provider(source, info.key),
    ]
    stale = r.stale and market_open(info.key, board.generated_at)
    tone: Tone = "stale" if stale else "plain"
    glyph = ""
    if chg is not None:
        v = chg.observation.value
        glyph = sign_glyph(v)
        if not stale:
            tone = "neutral" if v == 0 else "bullish" if (v > 0) == info.risk_on_up else "bearish"
    return PaneRow(
        info.title,
        _level(info, r.observation.value),
        tone,
        glyph,
        " · ".join(parts),
        _age(board, r, info.key),
    )


def _reading_text(r: ConditionReading) -> str:
    if r.value is None:
        return f"{r.asset} n/a"
    return f"{r.asset} {r.value:+.2f} {r.unit}"


def _condition_row(c: Condition) -> PaneRow:
    sources = sorted({r.source for r in c.readings if r.source and r.value is not None})
    detail = " · ".join(_reading_text(r) for r in c.readings) + f"  ({c.rule}"
    detail += f"; {', '.join(sources)})" if sources else ")"
    return PaneRow(c.name, c.state, _STATE_TONE[c.state], _STATE_MARK[c.state], detail)


def _summary_row(board: Board, state: str, conditions: tuple[Condition, ...]) -> PaneRow:
    detail = "  ".join(f"{c.key} {_STATE_MARK[c.state]}" for c in conditions)
    inputs = [(cr.asset, cr.reading) for c in conditions for cr in c.readings if cr.reading]
    age = ""
    if inputs:
        asset, oldest = max(inputs, key=lambda pair: pair[1].age_s)
        age = _age(board, oldest, asset)
    glyph = _STATE_MARK[state] if state != "waiting" else FLAT
    return PaneRow("macro rebound", state, _STATE_TONE[state], glyph, detail, age)


def _note(board: Board) -> str:
    status = board.statuses.get(PRIMARY)
    if status is not None and not status.ok and status.detail:
        return f"{PRIMARY}: {status.detail}; fallback stooq, then fred"
    return "corr: 30-day correlation of daily returns with BTC; moves over N trading days"
