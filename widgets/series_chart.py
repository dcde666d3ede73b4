"""A chart of one stored series, with its checklist thresholds as labelled horizontal lines."""

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

    from tui.core.history import HistoryChart

X_FORMAT: Final[dict[str, str]] = {"1D": "%H:%M"}
#: The theme variable that colours the series, then each kind of threshold line.
COLOUR_VARIABLES: Final = ("foreground", "bullish", "bearish", "pivot")


def fit_ticks(ticks: Sequence[tuple[float, str]], rows: int) -> list[tuple[float, str]]:
    """The ticks (most important first) that do not share a text row with one already kept."""
    values = [v for v, _ in ticks]
    if not values:
        return []
    step = (max(values) - min(values)) / max(rows - 1, 1)
    kept: list[tuple[float, str]] = []
    for value, label in ticks:
        if all(abs(value - k) >= step for k, _ in kept):
            kept.append((value, label))
    return sorted(kept)


class SeriesChart(PlotextChart):
    """One series over the chosen range; plotted on the UI thread (plotext keeps global state).

    plotext is imported in a thread on first use, shared with the dashboard's price chart.
    """

    DEFAULT_CSS = """
    SeriesChart { height: 1fr; min-height: 6; }
    """

    data: reactive[HistoryChart | None] = reactive(None)
    """The points, lines and ticks to plot; ``None`` until the first load."""

    def watch_data(self, data: HistoryChart | None) -> None:
        self.want_plotext(data is not None and bool(data.points))

    def render(self) -> Content:
        data = self.data
        if data is None:
            return literal("loading…", "dim")
        title = literal(data.title, "bold") + literal(f" · {data.range} · {data.note}", "dim")
        if not data.points:
            return title
        colours = self.theme_colours(COLOUR_VARIABLES)
        return self.titled_plot(
            title, (data, colours), lambda plt, w, h: self._draw(plt, data, w, h, colours)
        )

    @staticmethod
    def _draw(
        plotext: ModuleType,
        data: HistoryChart,
        width: int,
        height: int,
        colours: tuple[PlotColour, ...],
    ) -> Content:
        fig = new_figure(plotext, width, height)
        fig.date("x").activate(form=X_FORMAT.get(data.range, "%d %b"), zone=0)
        times = [datetime.fromtimestamp(t, UTC) for t, _ in data.points]
        values = [v for _, v in data.points]
        pixel = plotext.pixel(foreground=colours[0])
        trace = fig.signal(times, values, marker=plotext.marker("braille", pixel=pixel))
        fig.draw(trace.lines(True))
        x0, x1 = (datetime.fromtimestamp(x, UTC) for x in data.x_range)
        by_kind = dict(zip(COLOUR_VARIABLES[1:], colours[1:], strict=True))
        for line in data.lines:
            pixel = plotext.pixel(foreground=by_kind[line.kind])
            rule = fig.signal([x0, x1], [line.value] * 2, marker=plotext.marker("─", pixel=pixel))
            fig.draw(rule.lines(True))
        for line in data.lines:  # labels last, so no line hides them
            pixel = plotext.pixel(foreground=by_kind[line.kind])
            fig.draw(fig.text(x0, line.value, plotext.colorize(f" {line.label} ", pixel)))
        rows = height - 3  # the frame's top and bottom and the x labels take three
        ticks = fit_ticks(data.ticks, rows)
        if ticks:
            fig.ruler("y").ticks([v for v, _ in ticks], [label for _, label in ticks])
        if data.y_range is not None:
            fig.ruler("y").lim(*data.y_range)
        fig.ruler("x").lim(x0, x1)
        return Content.from_rich_text(Text.from_ansi(fig.build().string()))
