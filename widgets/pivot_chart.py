"""The price chart, with labelled lines at the pivot, the band edges and the retest band."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Final

from rich.text import Text
from textual.content import Content
from textual.reactive import reactive

from widgets.literal import literal
from widgets.plotext_chart import PlotColour, PlotextChart, new_figure

if TYPE_CHECKING:
    from collections.abc import Sequence
    from types import ModuleType

    from tui.core.views import ChartData, ChartLine

X_FORMAT: Final[dict[str, str]] = {"1D": "%H:%M", "1W": "%d %b", "1M": "%d %b", "3M": "%d %b"}
#: The theme variable that colours the price line, then each kind of reference line.
COLOUR_VARIABLES: Final = ("foreground", "pivot", "band", "retest")
#: Which reference line matters most where two would share a row.
PRIORITY: Final = ("pivot", "retest", "band")


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


class PivotChart(PlotextChart):
    """Price over the chosen range; plotted on the UI thread (plotext keeps global state)."""

    DEFAULT_CSS = """
    PivotChart { height: 1fr; min-height: 1; }
    """

    data: reactive[ChartData | None] = reactive(None)
    """The points and lines to plot; ``None`` until the first chart is loaded."""

    def watch_data(self, data: ChartData | None) -> None:
        # plotext takes ~0.3 s to import: only once there is something to plot, so the import
        # never competes with start-up for the interpreter.
        self.want_plotext(data is not None and bool(data.points))

    def render(self) -> Content:
        data = self.data
        if data is None:
            return literal("no chart yet", "dim")
        if not data.points:
            return literal(data.note, "dim")
        title = literal(f"{data.range} · {data.note}", "bold")
        colours = self.theme_colours(COLOUR_VARIABLES)
        return self.titled_plot(
            title, (data, colours), lambda plt, w, h: self._draw(plt, data, w, h, colours)
        )

    @staticmethod
    def _draw(
        plotext: ModuleType,
        data: ChartData,
        width: int,
        height: int,
        colours: tuple[PlotColour, ...],
    ) -> Content:
        fig = new_figure(plotext, width, height)
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
