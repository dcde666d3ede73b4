"""The price chart, with labelled lines at the pivot, the band edges and the retest band."""

from __future__ import annotations

import importlib
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Final

from rich.text import Text
from textual.color import Color, ColorParseError
from textual.content import Content
from textual.reactive import reactive
from textual.widget import Widget
from textual.worker import WorkerState

from widgets.literal import literal

if TYPE_CHECKING:
    from collections.abc import Sequence
    from types import ModuleType

    from textual.theme import Theme
    from textual.worker import Worker

    from tui.core.views import ChartData, ChartLine

#: An ANSI palette index (follows the terminal's palette), an RGB triple, or the default colour.
PlotColour = int | tuple[int, int, int] | None

#: plotext builds its documentation when imported (~0.3 s), so it is imported once, in a thread,
#: after the first frame; the chart says "drawing…" until then. Holds the module once imported.
PLOTEXT: dict[str, ModuleType] = {}

X_FORMAT: Final[dict[str, str]] = {"1D": "%H:%M", "1W": "%d %b", "1M": "%d %b", "3M": "%d %b"}
#: The theme variable that colours the price line, then each kind of reference line.
COLOUR_VARIABLES: Final = ("foreground", "pivot", "band", "retest")
#: Which reference line matters most where two would share a row.
PRIORITY: Final = ("pivot", "retest", "band")


def import_plotext() -> None:
    PLOTEXT["plotext"] = importlib.import_module("plotext")


def lines_in_view(data: ChartData, rows: int) -> tuple[ChartLine, ...]:
    """The reference lines worth drawing with ``data``'s prices on a chart ``rows`` high.

    Rule: a line is drawn when it lies within the plotted prices' range widened by half that
    range on each side (at least 1% of the top price). So the price always keeps at least half
    of the chart's height, and a line just off the range (the pivot as price nears it) still
    shows; far lines (the $50k retest edge on a day spent near $70k) are left out. Then, pivot
    first, retest edges next, a line is dropped when it would share a row with one already kept,
    and a chart keeps at most one line per three rows, so the price stays visible.
    """
    prices = [price for _, price in data.points]
    low, high = min(prices), max(prices)
    pad = max((high - low) / 2, high / 100)
    near = [line for line in data.lines if low - pad <= line.value <= high + pad]
    step = _row_step([*prices, *(line.value for line in near)], rows)
    kept: list[ChartLine] = []
    for line in sorted(near, key=lambda line: PRIORITY.index(line.kind)):
        if len(kept) < max(1, rows // 3) and all(abs(line.value - k.value) >= step for k in kept):
            kept.append(line)
    return tuple(kept)


def _row_step(values: Sequence[float], rows: int) -> float:
    """The price one text row spans when ``values`` fill ``rows`` rows."""
    return (max(values) - min(values)) / max(rows - 1, 1)


def y_ticks(prices: list[float], lines: Sequence[ChartLine], rows: int) -> list[float]:
    """Y-axis ticks at the reference lines and the prices' extremes, none closer than a row.

    The pivot comes first, then the high and low, then the other lines; a tick that would share
    a row with one already kept is dropped, so labels never overprint each other.
    """
    step = _row_step([*prices, *(line.value for line in lines)], rows)
    kept: list[float] = []
    pivots = [line.value for line in lines if line.kind == "pivot"]
    others = [line.value for line in lines if line.kind != "pivot"]
    for value in (*pivots, max(prices), min(prices), *others):
        if all(abs(value - tick) >= step for tick in kept):
            kept.append(value)
    return sorted(kept)


def plot_colour(value: str | None) -> PlotColour:
    """A theme variable's value as plotext takes it: ANSI names stay palette indices."""
    try:
        colour = Color.parse(value or "")
    except ColorParseError:
        return None
    if colour.ansi is not None:
        return None if colour.ansi < 0 else colour.ansi
    return colour.rgb


class PivotChart(Widget):
    """Price over the chosen range; plotted on the UI thread (plotext keeps global state)."""

    DEFAULT_CSS = """
    PivotChart { height: 1fr; min-height: 1; }
    """

    data: reactive[ChartData | None] = reactive(None)
    """The points and lines to plot; ``None`` until the first chart is loaded."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        # No links here: without this Textual decodes every segment's style meta on each render.
        self.set_reactive(Widget.auto_links, False)
        self.plot_count = 0
        """How many times plotext has drawn this chart (each size, data or theme change)."""
        self._key: tuple[object, ...] | None = None
        self._plot = Content("")
        self._problem = ""
        self._importing = False

    def on_mount(self) -> None:
        self.app.theme_changed_signal.subscribe(self, self._theme_changed)

    def watch_data(self, data: ChartData | None) -> None:
        # plotext takes ~0.3 s to import: only once there is something to plot, so the import
        # never competes with start-up for the interpreter.
        if data is not None and data.points and "plotext" not in PLOTEXT and not self._importing:
            self._importing = True
            self.run_worker(import_plotext, name="import plotext", thread=True, exit_on_error=False)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state is WorkerState.ERROR:
            self._problem = f"chart unavailable: {event.worker.error}"
        if event.state in (WorkerState.SUCCESS, WorkerState.ERROR):
            self.refresh()

    def _theme_changed(self, _theme: Theme) -> None:
        self.refresh()

    def render(self) -> Content:
        data = self.data
        if data is None:
            return literal("no chart yet", "dim")
        if not data.points:
            return literal(data.note, "dim")
        title = literal(f"{data.range} · {data.note}", "bold")
        plotext = PLOTEXT.get("plotext")
        width, height = self.content_size
        if plotext is None:
            return title + literal(f" · {self._problem or 'drawing…'}", "dim")
        if width < 20 or height < 5:
            return title
        variables = self.app.theme_variables
        colours = tuple(plot_colour(variables.get(name)) for name in COLOUR_VARIABLES)
        key = (data, width, height, colours)
        if key != self._key:
            self._plot = self._draw(plotext, data, width, height - 1, colours)
            self._key = key
            self.plot_count += 1
        return Content("\n").join([title, self._plot])

    @staticmethod
    def _draw(
        plotext: ModuleType,
        data: ChartData,
        width: int,
        height: int,
        colours: tuple[PlotColour, ...],
    ) -> Content:
        # The widget, not the terminal plotext sees, decides the size.
        plotext.terminal.limit(False, False)
        fig = plotext.figure
        # Everything but the size: clear.size() would ask the terminal for its size.
        fig.clear.subplots()
        fig.clear.data()
        fig.clear.settings()
        fig.clear.pixels()
        fig.clear.styles()
        fig.plot_size(width, height)
        fig.theme("simple")  # an uncoloured frame: it takes the widget's own colour
        fig.canvas("default")  # no canvas colour: the pane's background shows through
        fig.legend(False)
        fig.date("x").activate(form=X_FORMAT.get(data.range, "%d %b"), zone=0)
        times = [datetime.fromtimestamp(t, UTC) for t, _ in data.points]
        prices = [price for _, price in data.points]
        price_pixel = plotext.pixel(foreground=colours[0])
        trace = fig.signal(times, prices, marker=plotext.marker("braille", pixel=price_pixel))
        fig.draw(trace.lines(True))
        # Least important first, so the pivot is drawn last, on top.
        rows = height - 3  # the frame's top and bottom and the x labels take three
        shown = lines_in_view(data, rows)[::-1]
        by_kind = dict(zip(COLOUR_VARIABLES[1:], colours[1:], strict=True))
        ends = [times[0], times[-1]]
        for line in shown:
            pixel = plotext.pixel(foreground=by_kind[line.kind])
            rule = fig.signal(ends, [line.value] * 2, marker=plotext.marker("─", pixel=pixel))
            fig.draw(rule.lines(True))
        # Labels last, so the price line never hides them.
        for line in shown:
            pixel = plotext.pixel(foreground=by_kind[line.kind])
            fig.draw(fig.text(times[0], line.value, plotext.colorize(f" {line.label} ", pixel)))
        ticks = y_ticks(prices, shown, rows)
        fig.ruler("y").ticks(ticks, [f"{tick:,.0f}" for tick in ticks])
        # Explicit limits: otherwise plotext widens the x range to fit the labels' text.
        fig.ruler("x").lim(times[0], times[-1])
        return Content.from_rich_text(Text.from_ansi(fig.build().string()))
