"""Every source on one line (two at most): a glyph and its age or the reason it has no value."""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from textual.content import Content
from textual.reactive import reactive
from textual.widget import Widget

from widgets.literal import literal

#: The glyphs of folded chips (as :data:`tui.core.views.GLYPHS`).
GLYPHS: Final = {"ok": "●", "disabled": "·"}

if TYPE_CHECKING:
    from textual.geometry import Size

    from tui.core.views import StatusChip

MAX_LINES: Final = 2
GAP: Final = "  "
#: The colour of a chip's glyph and text per state; the glyph and the words carry the state too,
#: so nothing is lost without colour.
STATE_STYLE: Final[dict[str, str]] = {
    "ok": "$success",
    "pending": "dim",
    "stale": "$stale",
    "missing": "$missing",
    "limited": "$warning",
    "disabled": "dim",
    "key": "$text-muted",
}


class StatusStrip(Widget):
    """``coinbase ● 4s  kraken ▲ rate-limited until 14:05 UTC  …``, wrapped chip by chip.

    Chips never break across lines; when two lines are not enough the last says ``+3 more``.
    """

    DEFAULT_CSS = """
    StatusStrip {
        height: auto;
        max-height: 2;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    """

    chips: reactive[tuple[StatusChip, ...]] = reactive((), repaint=False)
    """One chip per source, the consensus last."""
    paused: reactive[bool] = reactive(False, repaint=False)
    """True while polling is paused: the strip starts with ``⏸ paused``."""
    feed: reactive[str] = reactive("", repaint=False)
    """Where the data comes from when not polled here: ``reading from recorder (pid N)``."""
    feed_lost: reactive[bool] = reactive(False, repaint=False)
    """The recorder read from has stopped: the feed is shown as a warning."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        # No links here: without this Textual decodes every segment's style meta on each render.
        self.set_reactive(Widget.auto_links, False)
        self._height = 1

    def _pieces(self, *, fold: bool = False, names: bool = True) -> list[Content]:
        """A piece per chip; ``fold``: the sources that answer (or stand by) as one piece each
        (``● 12 ok: coinbase, kraken, …``), so every source in trouble still has room."""
        pieces = [literal("⏸ paused", "bold reverse $warning")] if self.paused else []
        if self.feed:
            pieces.append(literal(self.feed, "bold $warning" if self.feed_lost else "dim"))
        quiet: dict[str, list[str]] = {"ok": [], "disabled": []}
        for chip in self.chips:
            if fold and chip.state in quiet:
                quiet[chip.state].append(chip.name)
                continue
            style = STATE_STYLE.get(chip.state, "")
            pieces.append(literal(chip.name + " ") + literal(f"{chip.glyph} {chip.text}", style))
        for state, word in (("ok", "ok"), ("disabled", "off or standby")):
            if names_ := quiet[state]:
                head = literal(f"{GLYPHS[state]} {len(names_)} {word}", STATE_STYLE[state])
                pieces.append(head + literal(": " + ", ".join(names_), "dim") if names else head)
        if not pieces:
            pieces.append(literal("waiting for the first fetch", "dim"))
        return pieces

    def _lines(self, width: int) -> list[Content]:
        """The pieces packed into at most :data:`MAX_LINES` lines of ``width`` cells: every chip
        when they fit, else the sources in trouble in full and the others folded."""
        rows = self._pack(self._pieces(), width)
        if len(rows) > MAX_LINES:
            rows = self._pack(self._pieces(fold=True), width)
        if len(rows) > MAX_LINES:
            rows = self._pack(self._pieces(fold=True, names=False), width)
        hidden = sum(len(row) for row in rows[MAX_LINES:])
        rows = rows[:MAX_LINES]
        if hidden:
            last = rows[-1]
            while len(last) > 1 and _width(last) + len(GAP) + len(f"+{hidden} more") > width:
                last.pop()
                hidden += 1
            last.append(literal(f"+{hidden} more", "dim"))
        return [Content(GAP).join(row) for row in rows]

    def _pack(self, pieces: list[Content], width: int) -> list[list[Content]]:
        """Greedy: each piece on the current line if it fits, else on a new one."""
        rows: list[list[Content]] = []
        for piece in pieces:
            row = rows[-1] if rows else None
            if row and _width(row) + len(GAP) + piece.cell_length <= width:
                row.append(piece)
            else:
                rows.append([piece])
        return rows

    def render(self) -> Content:
        return Content("\n").join(self._lines(self.content_size.width))

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self._lines(width))

    def _changed(self) -> None:
        height = len(self._lines(self.content_size.width)) if self.content_size.width else 1
        self.refresh(layout=height != self._height)
        self._height = height

    def watch_chips(self) -> None:
        self._changed()

    def watch_paused(self, paused: bool) -> None:
        self.set_class(paused, "-paused")
        self._changed()

    def watch_feed(self) -> None:
        self._changed()

    def watch_feed_lost(self) -> None:
        self._changed()


def _width(row: list[Content]) -> int:
    return sum(piece.cell_length for piece in row) + len(GAP) * (len(row) - 1)
