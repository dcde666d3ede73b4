"""A chart of a few series on one axis (an asset against BTC, a correlation), legend on top."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Final

from rich.text import Text
from textual.content import Content
from textual.reactive import reactive

from widgets.literal import literal
from widgets.plotext_chart import PlotColour, PlotextChart, new_figure
from widgets.series_chart import fit_ticks

if TYPE_CHECKING:
    from types import ModuleType


#: The theme variable of the baseline (100 for a rebased chart, 0 for a correlation).
BASELINE_TONE: Final = "stale"
LEGEND_MARK: Final = "━"


@dataclass(frozen=True, slots=True)
class Trace:
    """One line of the chart."""

    label: str
    """Its name in the legend (``Nasdaq``, ``BTC``)."""
    points: tuple[tuple[float, float], ...]
    """``(epoch seconds, value)``, oldest first."""
    tone: str
    """The theme variable that colours it (``neutral``, ``pivot``, ``band``)."""


@dataclass(frozen=True, slots=True)
class MacroChartData:
    """What to plot, ready-made (the widget does no maths)."""

    title: str
    note: str
    """Where the points come from, or why there are none."""
    traces: tuple[Trace, ...]
    x_range: tuple[float, float]
    """Epoch seconds at the left and right edges."""
    baseline: float | None = None
    """A labelled horizontal line (``100``: the range start; ``0``: no correlation)."""
    y_range: tuple[float, float] | None = None
    """Fixed y limits; ``None``: fit the points."""
    decimals: int = 1
    """Decimals of the y labels."""

    @property
    def has_points(self) -> bool:
        """True when any trace has a point to draw."""
        return any(t.points for t in self.traces)


class MacroChart(PlotextChart):
    """A few traces over a range; plotted on the UI thread (plotext keeps global state).

    plotext is imported in a thread on first use, shared with the other charts.
    """

    DEFAULT_CSS = """
    MacroChart { height: 1fr; min-height: 6; text-wrap: nowrap; text-overflow: ellipsis; }
    """

    data: reactive[MacroChartData | None] = reactive(None)
    """The traces to plot; ``None`` until the first load."""

    def watch_data(self, data: MacroChartData | None) -> None:
        self.want_plotext(data is not None and data.has_points)

    def render(self) -> Content:
        data = self.data
        if data is None:
            return literal("loading…", "dim")
        legend = [
            literal(f"{LEGEND_MARK} {t.label}", f"${t.tone}") for t in data.traces if t.points
        ]
        title = Content.assemble(
            literal(data.title, "bold"),
            "  ",
            Content("  ").join(legend),
            literal(f"  · {data.note}" if data.note else "", "dim"),
        )
        if not data.has_points:
            return title
        colours = self.theme_colours(tuple(t.tone for t in data.traces))
        (base,) = self.theme_colours((BASELINE_TONE,))
        return self.titled_plot(
            title,
            (data, colours, base),
            lambda plt, w, h: self._draw(plt, data, w, h, colours, base),
        )

    @staticmethod
    def _draw(
        plotext: ModuleType,
        data: MacroChartData,
        width: int,
        height: int,
        colours: tuple[PlotColour, ...],
        base: PlotColour,
    ) -> Content:
        fig = new_figure(plotext, width, height)
        fig.date("x").activate(form="%d %b", zone=0)
        x0, x1 = (datetime.fromtimestamp(x, UTC) for x in data.x_range)
        values: list[float] = []
        if data.baseline is not None:
            pixel = plotext.pixel(foreground=base)
            rule = fig.signal(
                [x0, x1], [data.baseline] * 2, marker=plotext.marker("─", pixel=pixel)
            )
            fig.draw(rule.lines(True))
        for trace, colour in zip(data.traces, colours, strict=True):
            if not trace.points:
                continue
            times = [datetime.fromtimestamp(t, UTC) for t, _ in trace.points]
            ys = [v for _, v in trace.points]
            values += ys
            pixel = plotext.pixel(foreground=colour)
            line = fig.signal(times, ys, marker=plotext.marker("braille", pixel=pixel))
            fig.draw(line.lines(True))
        fmt = f"{{:,.{data.decimals}f}}"
        ticks = [(v, fmt.format(v)) for v in (max(values), min(values))]
        if data.baseline is not None:
            ticks.insert(0, (data.baseline, fmt.format(data.baseline)))
        if data.y_range is not None:
            ticks += [(v, fmt.format(v)) for v in data.y_range]
        kept = fit_ticks(ticks, height - 3)  # the frame and the x labels take three rows
        if kept:
            fig.ruler("y").ticks([v for v, _ in kept], [label for _, label in kept])
        if data.y_range is not None:
            fig.ruler("y").lim(*data.y_range)
        fig.ruler("x").lim(x0, x1)
        return Content.from_rich_text(Text.from_ansi(fig.build().string()))
