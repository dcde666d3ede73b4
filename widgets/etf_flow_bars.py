"""A bar chart of the ETF daily net flows: inflows up, outflows down, gaps labelled, never zero."""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from textual.content import Content
from textual.reactive import reactive
from textual.widget import Widget

from widgets.literal import literal

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import date

#: Characters of the y labels (``+1,119.9``) and the gap after them.
LABEL_WIDTH: Final = 9
#: A day's column: its bar, then a space when the width allows.
MAX_COLUMN: Final = 3
BAR: Final = "█"
AXIS: Final = "─"
#: A day without a figure sits on the axis as this mark: a labelled gap, never a zero bar (a
#: ``-`` would vanish into the axis line).
GAP: Final = "×"


def _flow(value: float) -> str:
    """``+1,119.9`` / ``-434.1``: a y label in US$m."""
    return f"{value:+,.1f}" if value else "0"


def bar_heights(values: Sequence[float | None], up_rows: int, down_rows: int) -> list[int]:
    """Each day's bar in whole rows: positive up to ``up_rows``, negative down to ``down_rows``.

    One scale for both sides (the largest absolute value fills its side), so an inflow and an
    outflow of the same size are bars of the same length; any non-zero flow gets at least one
    row. ``None`` (a gap) and ``0.0`` are height 0.
    """
    known = [abs(v) for v in values if v is not None]
    top = max(known, default=0.0)
    if top == 0:
        return [0] * len(values)
    out = []
    for v in values:
        if v is None or v == 0:
            out.append(0)
            continue
        rows = up_rows if v > 0 else down_rows
        h = max(1, round(abs(v) / top * rows))
        out.append(min(h, rows) if v > 0 else -min(h, rows))
    return out


class EtfFlowBars(Widget):
    """The daily totals of the drill-down table, oldest left; drawn as text (no plotext).

    Inflows rise above the axis in ``$bullish``, outflows hang below it in ``$bearish`` (the side
    reads without colour); a day without a figure is a ``×`` on the axis in ``$missing``.
    """

    DEFAULT_CSS = """
    EtfFlowBars { height: 1fr; min-height: 6; }
    """

    bars: reactive[tuple[tuple[date, float | None], ...] | None] = reactive(None)
    """``(day, US$m)`` oldest first, ``None`` for a gap; ``None`` until loaded."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.set_reactive(Widget.auto_links, False)

    def render(self) -> Content:
        bars = self.bars
        title = literal("Daily net flow, US$m", "bold") + literal(
            f" · {BAR} up: inflow · {BAR} down: outflow · {GAP} on the axis: no data", "dim"
        )
        if bars is None:
            return literal("loading…", "dim")
        if not bars:
            return title + literal(" · no days to draw", "dim")
        width, height = self.content_size
        rows = height - 2  # the title above, the dates below
        if rows < 3 or width < LABEL_WIDTH + 4:
            return title
        values = [v for _, v in bars]
        column = max(1, min(MAX_COLUMN, (width - LABEL_WIDTH) // len(bars)))
        shown = min(len(bars), (width - LABEL_WIDTH) // column)
        bars, values = bars[-shown:], values[-shown:]
        known = [v for v in values if v is not None]
        high, low = max([0.0, *known]), min([0.0, *known])
        span = (high - low) or 1.0
        up = round((rows - 1) * high / span) if high > 0 else 0
        down = rows - 1 - up
        heights = bar_heights(values, up, down)
        lines: list[Content] = [title]
        pad = " " * (column - 1)
        for r in range(rows):
            level = up - r  # >0 above the axis, 0 the axis, <0 below it
            label = ""
            if r == 0 and high > 0:
                label = _flow(high)
            elif level == 0:
                label = "0"
            elif r == rows - 1 and low < 0:
                label = _flow(low)
            parts = [literal(label.rjust(LABEL_WIDTH - 1) + " ", "dim")]
            for v, h in zip(values, heights, strict=True):
                if level == 0:
                    if v is None:
                        parts.append(literal(GAP + pad, "bold $missing"))
                    else:
                        parts.append(literal(AXIS * column, "dim"))
                elif (level > 0 and 0 < level <= h) or (level < 0 and h <= level < 0):
                    parts.append(literal(BAR + pad, _tone(v if v is not None else 0.0)))
                else:
                    parts.append(Content(" " * column))
            lines.append(Content("").join(parts))
        first, last = bars[0][0], bars[-1][0]
        left, right = f"{first:%d %b}", f"{last:%d %b}"
        gap = max(1, shown * column - len(left) - len(right))
        lines.append(literal(" " * LABEL_WIDTH + left + " " * gap + right, "dim"))
        return Content("\n").join(lines)


def _tone(value: float) -> str:
    return "$bullish" if value > 0 else "$bearish" if value < 0 else "dim"
