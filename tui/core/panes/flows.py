"""The flows pane: spot BTC ETF net flows from Farside (latest day, 5-day, month, streak)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Final

from tui.core.analytics import etf
from tui.core.config import Settings
from tui.core.model import Board, Reading
from tui.core.panes import DOWN, FLAT, PaneRow, PaneView, Tone, missing_text, sign_glyph

SOURCE: Final = "farside"
#: Days the sparkline shows.
SPARK_DAYS: Final = 10
#: Sparkline glyphs: the lower four are outflow days (the bigger, the lower), the upper four
#: inflow days, so the sign reads from the height without colour.
BLOCKS: Final = "▁▂▃▄▅▆▇█"


def view(
    board: Board, settings: Settings, recent: Sequence[tuple[datetime, float]] = ()
) -> PaneView:
    """The flows pane.

    Args:
        board: the latest state.
        settings: the user's settings (nothing here depends on them yet).
        recent: stored ``etf.flow.daily`` points (``(observed_at, US$m)``, any order); the last
            :data:`SPARK_DAYS` days make the sparkline.
    """
    daily = board.reading("etf.flow.daily", SOURCE)
    pending = board.reading("etf.flow.pending_funds", SOURCE)
    waiting = 0
    if daily is not None and pending is not None:
        same_day = pending.observation.observed_at == daily.observation.observed_at
        waiting = int(pending.observation.value) if same_day else 0
    detail = (
        f"provisional, {waiting} fund{'s' if waiting != 1 else ''} to report" if waiting else ""
    )
    mtd = board.reading("etf.flow.mtd", SOURCE)
    month = f"{_day(mtd):%b} to date" if mtd is not None else "month to date"
    rows = (
        _flow_row(board, "ETF net flow", daily, detail=detail),
        _flow_row(board, "5 days", board.reading("etf.flow.5d", SOURCE)),
        _flow_row(board, month, mtd),
        _streak_row(board, board.reading("etf.outflow_streak", SOURCE)),
        _spark_row(recent),
    )
    note = "Farside Investors, US$m"
    return PaneView(rows, note + ("; newest day still filling in" if waiting else ""))


def usd_m(value: float) -> str:
    """``-$434.1M``, ``+$1,016.3M``, ``$0.0M``: a flow in US$ millions."""
    sign = "-" if value < 0 else "+" if value > 0 else ""
    return f"{sign}${abs(value):,.1f}M"


def as_of(r: Reading) -> str:
    """``as of 5 Feb`` (``stale, as of 2 Feb``): a daily figure's age is its trading day."""
    d = _day(r)
    return ("stale, " if r.stale else "") + f"as of {d.day} {d:%b}"


def sparkline(values: Sequence[float]) -> str:
    """One glyph per value, scaled to the largest move: ``▁▂▃▄`` outflows, ``▅▆▇█`` inflows."""
    top = max((abs(v) for v in values), default=0.0)
    out = []
    for v in values:
        step = min(3, int(abs(v) / top * 4)) if top > 0 else 0
        out.append(BLOCKS[3 - step] if v < 0 else BLOCKS[4 + step])
    return "".join(out)


def _day(r: Reading) -> date:
    return r.observation.observed_at.astimezone(UTC).date()


def _tone(value: float) -> Tone:
    # Inflows are the checklist's bullish confirmation, outflows its bearish continuation.
    return "bullish" if value > 0 else "bearish" if value < 0 else "neutral"


def _missing(board: Board, label: str) -> PaneRow:
    return PaneRow(label, missing_text(board, (SOURCE,)), "missing", "✕")


def _flow_row(board: Board, label: str, r: Reading | None, *, detail: str = "") -> PaneRow:
    if r is None:
        return _missing(board, label)
    v = r.observation.value
    tone: Tone = "stale" if r.stale else _tone(v)
    return PaneRow(label, usd_m(v), tone, sign_glyph(v), detail, as_of(r))


def _streak_row(board: Board, r: Reading | None) -> PaneRow:
    label = "outflow streak"
    if r is None:
        return _missing(board, label)
    n = int(r.observation.value)
    text = f"{n} day{'s' if n != 1 else ''}" if n else "none"
    tone: Tone = "stale" if r.stale else "bearish" if n else "neutral"
    return PaneRow(label, text, tone, DOWN if n else FLAT, "", as_of(r))


def _spark_row(recent: Sequence[tuple[datetime, float]]) -> PaneRow:
    label = f"last {SPARK_DAYS} days"
    points = etf.recent_by_day([(t.astimezone(UTC).date(), v) for t, v in recent], SPARK_DAYS)
    if not points:
        return PaneRow(label, "no history yet", "missing", "✕")
    out = sum(1 for _, v in points if v < 0)
    last = points[-1][0]
    return PaneRow(
        label,
        sparkline([v for _, v in points]),
        "plain",
        "",
        f"{out} of {len(points)} out",
        f"as of {last.day} {last:%b}",
    )
