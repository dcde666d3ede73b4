"""The ETF fund-by-day table: newest day first, outflows marked ▼, gaps shown as ``-``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from rich.style import Style
from rich.text import Text
from textual.markup import parse_style
from textual.reactive import reactive
from textual.widgets import DataTable

from widgets.literal import printable

if TYPE_CHECKING:
    from textual.theme import Theme

    from tui.core.analytics.etf import TableView, ViewRow

#: The text of a cell without a figure: Farside's own ``-``, a gap, never a zero.
NO_FIGURE: Final = "-"
#: Style names (theme variables) per kind of cell; resolved against the current theme.
STYLES: Final[dict[str, str]] = {
    "out": "$bearish",
    "total_out": "bold $bearish",
    "total": "bold",
    "gap": "$missing",
    "provisional": "italic $warning",
    "no data": "$missing",
    "plain": "",
}


def flow_text(value: float) -> str:
    """``1,119.9`` / ``▼(95.1)``: Farside's parentheses for an outflow, with a glyph for it."""
    return f"▼({abs(value):,.1f})" if value < 0 else f"{value:,.1f}"


class EtfFlowTable(DataTable[Text]):
    """One row per trading day (newest first): its note, one column per fund, then ``Total``.

    Cells are Rich text, so theme variables are resolved here and the rows are rebuilt when the
    theme changes; fund names come from the network and are shown literally.
    """

    DEFAULT_CSS = """
    EtfFlowTable { height: 1fr; }
    """

    view: reactive[TableView | None] = reactive(None, always_update=True)
    """The drill-down table (``None`` until loaded)."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes, cursor_type="row", zebra_stripes=True)
        # The day and its note (``provisional``, ``no data``) stay in view while scrolling.
        self.fixed_columns = 2

    def on_mount(self) -> None:
        self.app.theme_changed_signal.subscribe(self, self._theme_changed)

    def _theme_changed(self, _theme: Theme) -> None:
        self.watch_view(self.view)

    def _style(self, kind: str) -> Style:
        """The Rich style of ``kind`` under the current theme."""
        style = STYLES[kind]
        if not style:
            return Style.null()
        return parse_style(style, self.app.theme_variables).rich_style

    def _cell(self, value: float | None, *, total: bool = False) -> Text:
        if value is None:
            return Text(NO_FIGURE, style=self._style("gap"), justify="right")
        kind = ("total_out" if total else "out") if value < 0 else ("total" if total else "plain")
        return Text(flow_text(value), style=self._style(kind), justify="right")

    def _row(self, row: ViewRow) -> list[Text]:
        date = Text(f"{row.day:%a %d %b %Y}")
        note = Text(row.note, style=self._style(row.note if row.note in STYLES else "plain"))
        return [date, note, *(self._cell(c) for c in row.cells), self._cell(row.net, total=True)]

    def watch_view(self, view: TableView | None) -> None:
        self.clear(columns=True)
        if view is None:
            return
        rows = [self._row(r) for r in reversed(view.rows)]
        labels = [
            Text("date"),
            Text("note"),
            *(Text(printable(f), justify="right") for f in view.funds),
            Text("Total", style="bold", justify="right"),
        ]
        keys = ["date", "note", *(f"fund-{f}" for f in view.funds), "total"]
        for i, (label, key) in enumerate(zip(labels, keys, strict=True)):
            # Widths set here, not measured by the table: a table filled while the screen
            # repaints can keep cells cached at the header's width.
            width = max(label.cell_len, *(r[i].cell_len for r in rows))
            self.add_column(label, width=width, key=key)
        for row, cells in zip(reversed(view.rows), rows, strict=True):
            self.add_row(*cells, key=row.day.isoformat())
