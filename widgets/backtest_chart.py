"""The backtest chart: daily closes with the pivot, and the verdict of each day beneath them."""

from __future__ import annotations

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

    from tui.core.backtest import Timeline

#: The theme variables that colour the price, the pivot, then each call's marks.
COLOUR_VARIABLES: Final = ("foreground", "pivot", "bullish", "neutral", "bearish", "missing")
#: Over this many days the x axis names months, not days.
MONTHS_AFTER_S: Final = 120 * 86_400.0
#: Under this many days it names hours too (a short history: the demo's).
HOURS_UNTIL_S: Final = 4 * 86_400.0


def legend(data: Timeline, note: bool = True) -> Content:
    """``▲ holding ● contested ▼ retest risk · no data``, each in its colour, and the note."""
    names = {"bullish": "holding", "neutral": "contested", "bearish": "retest risk"}
    parts = [
        literal(f"{glyph} {names.get(tone, 'no data')}", f"${tone}")
        for tone, glyph, _ in data.marks
    ]
    return Content.assemble(
        literal("verdict: ", "bold"),
        Content("  ").join(parts),
        literal(f" · {data.note}" if note else "", "dim"),
    )


class BacktestChart(PlotextChart):
    """Closes over the backtest's days; plotted on the UI thread (plotext keeps global state).

    The verdict runs along the bottom as one glyph per day (▲ ● ▼, ``·`` for no data), so the
    chart reads without colour too.
    """

    DEFAULT_CSS = """
    BacktestChart { height: 1fr; min-height: 6; }
    """

    data: reactive[Timeline | None] = reactive(None)
    """What to plot; ``None`` until the first backtest has run."""

    def watch_data(self, data: Timeline | None) -> None:
        self.want_plotext(data is not None and bool(data.points))

    def render(self) -> Content:
        data = self.data
        if data is None:
            return literal("judging every day close…", "dim")
        if not data.points:
            return Content("\n").join([legend(data, note=False), literal(data.note, "dim")])
        colours = self.theme_colours(COLOUR_VARIABLES)
        return self.titled_plot(
            legend(data),
            (data, colours),
            lambda plt, w, h: self._draw(plt, data, w, h, colours),
            min_height=6,
        )

    @staticmethod
    def _draw(
        plotext: ModuleType,
        data: Timeline,
        width: int,
        height: int,
        colours: tuple[PlotColour, ...],
    ) -> Content:
        fig = new_figure(plotext, width, height)
        x0, x1 = data.x_range
        span = x1 - x0
        form = (
            "%b %y" if span > MONTHS_AFTER_S else "%d %b" if span > HOURS_UNTIL_S else "%d %b %H:%M"
        )
        fig.date("x").activate(form=form, zone=0)
        ends = [datetime.fromtimestamp(x, UTC) for x in (x0, x1)]
        times = [datetime.fromtimestamp(t, UTC) for t, _ in data.points]
        prices = [p for _, p in data.points]
        pixel = plotext.pixel(foreground=colours[0])
        trace = fig.signal(times, prices, marker=plotext.marker("braille", pixel=pixel))
        fig.draw(trace.lines(len(times) > 1))
        pivot = plotext.pixel(foreground=colours[1])
        rule = fig.signal(ends, [data.pivot] * 2, marker=plotext.marker("─", pixel=pivot))
        fig.draw(rule.lines(True))
        by_tone = dict(zip(COLOUR_VARIABLES[2:], colours[2:], strict=True))
        for tone, glyph, at in data.marks:
            if at:
                mark = plotext.marker(glyph, pixel=plotext.pixel(foreground=by_tone[tone]))
                days = [datetime.fromtimestamp(t, UTC) for t in at]
                fig.draw(fig.signal(days, [data.band] * len(days), marker=mark))
        label = plotext.colorize(f" pivot {data.pivot:,.0f} ", pivot)
        fig.draw(fig.text(ends[0], data.pivot, label))
        wanted = [(data.band, "verdict"), (data.pivot, f"{data.pivot:,.0f}")]
        wanted += [(v, f"{v:,.0f}") for v in (max(prices), min(prices))]
        ticks = fit_ticks(wanted, height - 3)  # the frame and the x labels take three rows
        fig.ruler("y").ticks([v for v, _ in ticks], [label for _, label in ticks])
        fig.ruler("y").lim(*data.y_range)
        fig.ruler("x").lim(*ends)
        return Content.from_rich_text(Text.from_ansi(fig.build().string()))
