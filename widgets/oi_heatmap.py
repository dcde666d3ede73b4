"""Option open interest as a strike × expiry table: each cell shows its number, shaded by size."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Final

from textual.binding import Binding, BindingType
from textual.content import Content
from textual.reactive import reactive
from textual.widget import Widget

from tui.core.analytics.options import ChainExpiry, ChainRow, ChainTable, MaxPain
from widgets.literal import literal

if TYPE_CHECKING:
    from textual.events import MouseScrollDown, MouseScrollUp

#: Marks: a strike inside the retest band, the at-the-money strike, an expiry's max-pain strike.
BAND_GLYPH: Final = "▌"
ATM_GLYPH: Final = "◀"
MAX_PAIN_GLYPH: Final = "◆"
#: Background opacity (percent of the side's colour) per heat level 1..4; 0 OI is unshaded.
HEAT_ALPHAS: Final = (12, 28, 48, 72)
#: The side's colour: puts shade with ``$bearish`` (downside cover), calls with ``$bullish``.
SIDE_COLOUR: Final = {"put": "$bearish", "call": "$bullish"}
STRIKE_WIDTH: Final = 11
"""``▌ 130,000 ◀``: band glyph, strike, ATM glyph."""
CELL_WIDTH: Final = 6
HEADER_LINES: Final = 2
FOOTER_LINES: Final = 1


def oi_text(value: float | None) -> str:
    """``""`` when the option is not listed; ``2.5``, ``7,900``, ``123k`` BTC otherwise."""
    if value is None:
        return ""
    if value < 10:
        return f"{value:.1f}" if value else "0"
    if value < 100_000:
        return f"{value:,.0f}"
    return f"{value / 1000:,.0f}k"


def heat_level(value: float | None, scale: float) -> int:
    """0 for no OI, else 1..4 by the square root of ``value / scale`` (so mid sizes still show)."""
    if value is None or value <= 0 or scale <= 0:
        return 0
    return 1 + min(len(HEAT_ALPHAS) - 1, int((value / scale) ** 0.5 * len(HEAT_ALPHAS)))


def atm_strike(expiry: ChainExpiry) -> float | None:
    """The expiry's listed strike nearest its forward, or ``None`` without a forward."""
    if not expiry.rows or not expiry.forward > 0:  # NaN compares false
        return None
    return min(expiry.rows, key=lambda r: abs(r.strike - expiry.forward)).strike


def expiry_label(expiry: ChainExpiry) -> str:
    """``27 Feb 20d`` (``07 Feb 11h`` under a day)."""
    days = f"{expiry.days:.0f}d" if expiry.days >= 1 else f"{expiry.days * 24:.0f}h"
    return f"{expiry.expiry:%d %b} {days}"


class OiHeatmap(Widget, can_focus=True):
    """Put and call OI (BTC) per strike (rows, ascending) and expiry (columns, nearest first).

    Each cell shows its number and a background shade of ``$bearish`` (puts) or ``$bullish``
    (calls) by size, so the table still reads without colour. The header stays put while the
    strikes scroll (↑ ↓ PgUp PgDn Home End, or the mouse wheel); the selected expiry's column is
    highlighted and always in view. Opens centred on the selected expiry's at-the-money strike.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "scroll_rows(-1)", "Strikes", show=False),
        Binding("down", "scroll_rows(1)", "Strikes", show=False),
        Binding("pageup", "scroll_rows(-10)", "Page up", show=False),
        Binding("pagedown", "scroll_rows(10)", "Page down", show=False),
        Binding("home", "scroll_rows(-1000)", "Top", show=False),
        Binding("end", "scroll_rows(1000)", "Bottom", show=False),
    ]

    DEFAULT_CSS = """
    OiHeatmap { height: 1fr; min-height: 6; text-wrap: nowrap; text-overflow: clip; }
    """

    table: reactive[ChainTable | None] = reactive(None)
    """The chain to show; ``None`` shows nothing (the screen says why)."""
    selected: reactive[int] = reactive(0)
    """Index of the highlighted expiry (its ATM strike is marked)."""
    show_puts: reactive[bool] = reactive(True)
    show_calls: reactive[bool] = reactive(True)

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.set_reactive(Widget.auto_links, False)
        self.top = 0
        """Index of the first strike row in view."""
        self.first_expiry = 0
        """Index of the leftmost expiry column in view."""
        self._centre = True
        self._rows: list[dict[float, ChainRow]] = []

    def watch_table(self, old: ChainTable | None, new: ChainTable | None) -> None:
        self._rows = [] if new is None else [{r.strike: r for r in e.rows} for e in new.expiries]
        if old is None or new is None or old.strikes != new.strikes:
            self._centre = True  # a new strike ladder: open at the money again

    def action_scroll_rows(self, step: int) -> None:
        """Move the strikes in view by ``step`` rows."""
        self.top += step
        self._centre = False
        self.refresh()

    def on_mouse_scroll_down(self, event: MouseScrollDown) -> None:
        event.stop()
        self.action_scroll_rows(3)

    def on_mouse_scroll_up(self, event: MouseScrollUp) -> None:
        event.stop()
        self.action_scroll_rows(-3)

    def sides(self) -> tuple[str, ...]:
        """The sides shown, puts first."""
        return tuple(s for s, on in (("put", self.show_puts), ("call", self.show_calls)) if on)

    def visible_strikes(self) -> tuple[float, ...]:
        """The strikes in view at the current size and scroll position."""
        table = self.table
        if table is None:
            return ()
        rows = max(1, self.content_size.height - HEADER_LINES - FOOTER_LINES)
        return table.strikes[self.top : self.top + rows]

    def _place(self, table: ChainTable, width: int, height: int) -> tuple[int, int]:
        """Clamp the scroll position and the first column; returns (rows, columns) in view."""
        rows = max(1, height - HEADER_LINES - FOOTER_LINES)
        group = 2 + (CELL_WIDTH + 1) * max(1, len(self.sides()))
        columns = max(1, (width - STRIKE_WIDTH) // group)
        n = len(table.expiries)
        selected = min(max(self.selected, 0), n - 1)
        if self._centre:
            atm = atm_strike(table.expiries[selected])
            centre = table.strikes.index(atm) if atm in table.strikes else len(table.strikes) // 2
            self.top = centre - rows // 2
            self._centre = False
        self.top = max(0, min(self.top, len(table.strikes) - rows))
        if selected < self.first_expiry:
            self.first_expiry = selected
        elif selected >= self.first_expiry + columns:
            self.first_expiry = selected - columns + 1
        self.first_expiry = max(0, min(self.first_expiry, n - columns))
        return rows, columns

    def render(self) -> Content:
        table = self.table
        if table is None or not table.expiries or not table.strikes:
            return Content("")
        width, height = self.content_size
        rows, columns = self._place(table, width, height)
        shown = range(self.first_expiry, min(len(table.expiries), self.first_expiry + columns))
        sides = self.sides()
        scale = max(
            (
                value
                for i in shown
                for r in table.expiries[i].rows
                for value in (
                    r.put_oi if "put" in sides else None,
                    r.call_oi if "call" in sides else None,
                )
                if value is not None
            ),
            default=0.0,
        )
        selected = min(max(self.selected, 0), len(table.expiries) - 1)
        atm = atm_strike(table.expiries[selected])
        lines = [self._head(table, shown, sides, selected), self._sub_head(shown, sides)]
        for strike in table.strikes[self.top : self.top + rows]:
            lines.append(self._row(table, strike, shown, sides, scale, atm))
        lines.append(self._totals(table, shown, sides))
        return Content("\n").join(lines)

    def _group_width(self, sides: tuple[str, ...]) -> int:
        return 1 + (CELL_WIDTH + 1) * len(sides)

    def _head(
        self, table: ChainTable, shown: range, sides: tuple[str, ...], selected: int
    ) -> Content:
        width = self._group_width(sides)
        parts = [literal(" " * STRIKE_WIDTH)]
        for i in shown:
            label = expiry_label(table.expiries[i])
            if len(label) > width:
                label = f"{table.expiries[i].expiry:%d %b}"
            style = "bold reverse" if i == selected else "bold"
            parts += [literal("│", "$text-muted"), literal(label.center(width), style)]
        return Content.assemble(*parts)

    def _sub_head(self, shown: range, sides: tuple[str, ...]) -> Content:
        cells = " " + "".join(f"{side:>{CELL_WIDTH}} " for side in sides)
        parts = [literal(f"{'strike':>9}  ", "$text-muted")]
        for _ in shown:
            parts += [literal("│", "$text-muted"), literal(cells, "$text-muted")]
        return Content.assemble(*parts)

    def _row(
        self,
        table: ChainTable,
        strike: float,
        shown: range,
        sides: tuple[str, ...],
        scale: float,
        atm: float | None,
    ) -> Content:
        in_band = table.band_low <= strike <= table.band_high
        parts = [
            literal(BAND_GLYPH if in_band else " ", "$retest"),
            literal(f"{strike:>8,.0f} ", "bold" if strike == atm else ""),
            literal(ATM_GLYPH if strike == atm else " ", "bold $accent"),
        ]
        for i in shown:
            row = self._rows[i].get(strike)
            pain = table.expiries[i].max_pain
            mark = isinstance(pain, MaxPain) and pain.strike == strike and row is not None
            parts += [
                literal("│", "$text-muted"),
                literal(MAX_PAIN_GLYPH if mark else " ", "bold $pivot"),
            ]
            for side in sides:
                value = None if row is None else row.put_oi if side == "put" else row.call_oi
                level = heat_level(value, scale)
                style = f"on {SIDE_COLOUR[side]} {HEAT_ALPHAS[level - 1]}%" if level else ""
                if level == len(HEAT_ALPHAS):
                    style += " bold"
                parts += [literal(f"{oi_text(value):>{CELL_WIDTH}}", style), literal(" ")]
        return Content.assemble(*parts)

    def _totals(self, table: ChainTable, shown: range, sides: tuple[str, ...]) -> Content:
        parts = [literal(f"{'Σ OI BTC':>{STRIKE_WIDTH - 1}} ", "$text-muted")]
        for i in shown:
            e = table.expiries[i]
            # A side with no listed option is blank, not a total of 0.
            listed = {
                "put": any(r.put_oi is not None for r in e.rows),
                "call": any(r.call_oi is not None for r in e.rows),
            }
            totals = {"put": e.put_oi, "call": e.call_oi}
            cells = " " + "".join(
                f"{oi_text(totals[side] if listed[side] else None):>{CELL_WIDTH}} "
                for side in sides
            )
            parts += [literal("│", "$text-muted"), literal(cells, "bold")]
        return Content.assemble(*parts)
