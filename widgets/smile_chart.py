"""One expiry's implied-vol smile (IV by strike) with its 25Δ put and call points and forward."""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from rich.text import Text
from textual.content import Content
from textual.reactive import reactive
from textual.widget import Widget
from textual.worker import WorkerState

from tui.core.analytics.options import ChainExpiry, DeltaPoint, NotEnough
from widgets.literal import literal
from widgets.pivot_chart import PLOTEXT, PlotColour, import_plotext, plot_colour
from widgets.series_chart import fit_ticks

if TYPE_CHECKING:
    from types import ModuleType

    from textual.theme import Theme
    from textual.worker import Worker

#: The theme variable of the smile, the 25Δ put, the 25Δ call, then the forward line.
COLOUR_VARIABLES: Final = ("foreground", "bearish", "bullish", "neutral")
#: Columns between two strike labels on the x axis (``130k`` plus room).
X_LABEL_SPACING: Final = 7


def strike_label(strike: float) -> str:
    """``70k``, ``72.5k``, ``130k``."""
    return f"{strike / 1000:,.1f}".removesuffix(".0") + "k"


def spaced(values: list[float], lo: float, hi: float, columns: int, gap: int) -> list[float]:
    """The values (ascending) that lie at least ``gap`` columns from the last one kept."""
    if hi <= lo:
        return values[:1]
    per_column = (hi - lo) / max(columns - 1, 1)
    kept: list[float] = []
    for v in values:
        if not kept or (v - kept[-1]) / per_column >= gap:
            kept.append(v)
    return kept


class SmileChart(Widget):
    """The smile of one expiry, plotted on the UI thread (plotext keeps global state).

    The IV of each usable strike (the chain's junk rule applied) is joined by a line; the 25Δ
    put (``▼``) and call (``▲``) points are labelled with their IV, and the expiry's forward is a
    vertical line. plotext is imported in a thread on first use, shared with the other charts.
    """

    DEFAULT_CSS = """
    SmileChart { height: 1fr; min-height: 6; }
    """

    expiry: reactive[ChainExpiry | None] = reactive(None)
    """The expiry whose smile is drawn; ``None`` shows :attr:`note`."""
    note: reactive[str] = reactive("loading…")
    """What to say when there is no expiry to draw."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.set_reactive(Widget.auto_links, False)
        self.plot_count = 0
        """How many times plotext has drawn this chart."""
        self._key: tuple[object, ...] | None = None
        self._plot = Content("")
        self._problem = ""
        self._importing = False

    def on_mount(self) -> None:
        self.app.theme_changed_signal.subscribe(self, self._theme_changed)

    def watch_expiry(self, expiry: ChainExpiry | None) -> None:
        drawable = expiry is not None and len(expiry.smile) >= 2
        if drawable and "plotext" not in PLOTEXT and not self._importing:
            self._importing = True
            self.run_worker(import_plotext, name="import plotext", thread=True, exit_on_error=False)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.name != "import plotext":
            return
        if event.state is WorkerState.ERROR:
            self._problem = f"chart unavailable: {event.worker.error}"
        if event.state in (WorkerState.SUCCESS, WorkerState.ERROR):
            self.refresh()

    def _theme_changed(self, _theme: Theme) -> None:
        self.refresh()

    def render(self) -> Content:
        e = self.expiry
        if e is None:
            return literal(self.note, "$text-muted")
        if len(e.smile) < 2:
            why = e.atm_iv
            reason = why.reason if isinstance(why, NotEnough) else "fewer than two usable strikes"
            return literal(
                f"no smile for {e.expiry:%d %b %Y}: not enough data ({reason})", "$missing"
            )
        plotext = PLOTEXT.get("plotext")
        width, height = self.content_size
        if plotext is None:
            return literal(self._problem or "drawing the smile…", "$text-muted")
        if width < 20 or height < 5:
            return literal(f"smile {e.expiry:%d %b}: too small to draw", "$text-muted")
        variables = self.app.theme_variables
        colours = tuple(plot_colour(variables.get(name)) for name in COLOUR_VARIABLES)
        key = (e, width, height, colours)
        if key != self._key:
            self._plot = self._draw(plotext, e, width, height, colours)
            self._key = key
            self.plot_count += 1
        return self._plot

    @staticmethod
    def _draw(
        plotext: ModuleType,
        e: ChainExpiry,
        width: int,
        height: int,
        colours: tuple[PlotColour, ...],
    ) -> Content:
        plotext.terminal.limit(False, False)
        fig = plotext.figure
        # Everything but the size: clear.size() would ask the terminal for its size.
        fig.clear.subplots()
        fig.clear.data()
        fig.clear.settings()
        fig.clear.pixels()
        fig.clear.styles()
        fig.plot_size(width, height)
        fig.theme("simple")
        fig.canvas("default")
        fig.legend(False)
        strikes = [p.strike for p in e.smile]
        ivs = [p.iv for p in e.smile]
        lo, hi = strikes[0], strikes[-1]
        smile, put, call, forward = colours
        pixel = plotext.pixel(foreground=smile)
        fig.draw(
            fig.signal(strikes, ivs, marker=plotext.marker("braille", pixel=pixel)).lines(True)
        )
        fig.draw(fig.signal(strikes, ivs, marker=plotext.marker("•", pixel=pixel)))
        if lo <= e.forward <= hi:
            pixel = plotext.pixel(foreground=forward)
            rule = fig.signal(
                [e.forward] * 2, [min(ivs), max(ivs)], marker=plotext.marker("│", pixel=pixel)
            )
            fig.draw(rule.lines(True))
        ticks = [(max(ivs), f"{max(ivs):.1f}"), (min(ivs), f"{min(ivs):.1f}")]
        for point, glyph, name, colour in (
            (e.put25, "▼", "put", put),
            (e.call25, "▲", "call", call),
        ):
            if isinstance(point, DeltaPoint):
                pixel = plotext.pixel(foreground=colour)
                label = plotext.colorize(f"{glyph} 25Δ {name} {point.iv:.1f}", pixel)
                fig.draw(fig.text(point.strike, point.iv, label))
                ticks.append((point.iv, f"{point.iv:.1f}"))
        rows = height - 3  # the frame's top and bottom and the x labels take three
        kept = fit_ticks(ticks, rows)
        fig.ruler("y").ticks([v for v, _ in kept], [label for _, label in kept])
        xs = spaced(strikes, lo, hi, width - 8, X_LABEL_SPACING)
        fig.ruler("x").ticks(xs, [strike_label(x) for x in xs])
        fig.ruler("x").lim(lo, hi)
        return Content.from_rich_text(Text.from_ansi(fig.build().string()))
