"""The base of every plotext chart: the lazy import, re-plots on theme change, a drawing cache."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Hashable
from types import ModuleType
from typing import TYPE_CHECKING

from textual.color import Color, ColorParseError
from textual.content import Content
from textual.widget import Widget
from textual.worker import Worker, WorkerState

from widgets.literal import literal

if TYPE_CHECKING:
    from textual.theme import Theme

#: An ANSI palette index (follows the terminal's palette), an RGB triple, or the default colour.
PlotColour = int | tuple[int, int, int] | None

#: plotext is imported once, in a thread, after the first frame (~0.1 s, see import_plotext); a
#: chart says "drawing…" until then. Holds the module once imported.
PLOTEXT: dict[str, ModuleType] = {}

_WORKER = "import plotext"


def import_plotext() -> None:
    """Import plotext (a thread: it takes ~0.1 s) and keep it for every chart."""
    # plotext 6 builds its interactive documentation (``plotext.doc``) as it is imported: 0.2 s
    # of CPU, two thirds of the import, for a feature btcwatch never uses. A placeholder stands
    # in for that one module (only plotext's __init__ imports it).
    if _DOC not in sys.modules:
        placeholder = ModuleType(_DOC, "plotext's documentation: not loaded by btcwatch")
        placeholder.docs = None  # type: ignore[attr-defined]
        sys.modules[_DOC] = placeholder
    PLOTEXT["plotext"] = importlib.import_module("plotext")


_DOC = "plotext._doc.doc"


def plot_colour(value: str | None) -> PlotColour:
    """A theme variable's value as plotext takes it: ANSI names stay palette indices."""
    try:
        colour = Color.parse(value or "")
    except ColorParseError:
        return None
    if colour.ansi is not None:
        return None if colour.ansi < 0 else colour.ansi
    return colour.rgb


def new_figure(plotext: ModuleType, width: int, height: int) -> ModuleType:
    """plotext's figure, cleared, ``width`` × ``height``, uncoloured, without a legend."""
    # The widget, not the terminal plotext sees, decides the size.
    plotext.terminal.limit(False, False)
    fig: ModuleType = plotext.figure
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
    return fig


class PlotextChart(Widget):
    """A chart plotted on the UI thread (plotext keeps global state).

    Subclasses call :meth:`want_plotext` when they have something to draw and :meth:`plotted`
    from ``render``; the plot is redrawn only when its key (data, size, colours) changes.
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        # No links here: without this Textual decodes every segment's style meta on each render.
        self.set_reactive(Widget.auto_links, False)
        self.plot_count = 0
        """How many times plotext has drawn this chart (each size, data or theme change)."""
        self.problem = ""
        """Why plotext could not be imported, if it could not."""
        self._key: Hashable | None = None
        self._plot = Content("")
        self._importing = False

    def on_mount(self) -> None:
        self.app.theme_changed_signal.subscribe(self, self._theme_changed)

    def want_plotext(self, drawable: bool) -> None:
        """Import plotext (once, in a thread) as soon as there is something to draw."""
        if drawable and "plotext" not in PLOTEXT and not self._importing:
            self._importing = True
            self.run_worker(import_plotext, name=_WORKER, thread=True, exit_on_error=False)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.name != _WORKER:
            return
        if event.state is WorkerState.ERROR:
            self.problem = f"chart unavailable: {event.worker.error}"
        if event.state in (WorkerState.SUCCESS, WorkerState.ERROR):
            self.refresh()

    def _theme_changed(self, _theme: Theme) -> None:
        self.refresh()

    def theme_colours(self, names: tuple[str, ...]) -> tuple[PlotColour, ...]:
        """The plot colours of these theme variables."""
        variables = self.app.theme_variables
        return tuple(plot_colour(variables.get(name)) for name in names)

    def titled_plot(
        self,
        title: Content,
        key: Hashable,
        draw: Callable[[ModuleType, int, int], Content],
        *,
        min_height: int = 5,
    ) -> Content:
        """``title`` over the plot ``draw(plotext, width, height)`` makes, drawn again only when
        ``key`` or the size changed; the title alone (and why) while plotext loads or the widget
        is too small to draw in."""
        plotext = PLOTEXT.get("plotext")
        width, height = self.content_size
        if plotext is None:
            return title + literal(f" · {self.problem or 'drawing…'}", "dim")
        if width < 20 or height < min_height:
            return title
        plot = self.plotted((key, width, height), lambda: draw(plotext, width, height - 1))
        return Content("\n").join([title, plot])

    def plotted(self, key: Hashable, draw: Callable[[], Content]) -> Content:
        """The plot for ``key``, drawn only when ``key`` changed since the last call."""
        if key != self._key:
            self._plot = draw()
            self._key = key
            self.plot_count += 1
        return self._plot
