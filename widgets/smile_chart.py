"""One expiry's implied-vol smile (IV by strike) with its 25Δ put and call points and forward."""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from rich.text import Text
from textual.content import Content
from textual.reactive import reactive

from tui.core.analytics.options import ChainExpiry, DeltaPoint, NotEnough
from widgets.literal import literal
from widgets.plotext_chart import PLOTEXT, PlotColour, PlotextChart, new_figure
from widgets.series_chart import fit_ticks

if TYPE_CHECKING:
    from types import ModuleType


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


class SmileChart(PlotextChart):
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

    def watch_expiry(self, expiry: ChainExpiry | None) -> None:
        self.want_plotext(expiry is not None and len(expiry.smile) >= 2)

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
            return literal(self.problem or "drawing the smile…", "$text-muted")
        if width < 20 or height < 5:
            return literal(f"smile {e.expiry:%d %b}: too small to draw", "$text-muted")
        colours = self.theme_colours(COLOUR_VARIABLES)
        return self.plotted(
            (e, width, height, colours), lambda: self._draw(plotext, e, width, height, colours)
        )

    @staticmethod
    def _draw(
        plotext: ModuleType,
        e: ChainExpiry,
        width: int,
        height: int,
        colours: tuple[PlotColour, ...],
    ) -> Content:
        fig = new_figure(plotext, width, height)
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
