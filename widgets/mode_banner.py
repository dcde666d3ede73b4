"""The one-line bar that says the app is not showing live data (demo or replay)."""

from __future__ import annotations

from textual.content import Content
from textual.reactive import reactive
from textual.widgets import Static

from widgets.literal import printable


class ModeBanner(Static):
    """A prominent bar such as ``DEMO · scenario 5–6 Feb 2026 · not live``; hidden when empty.

    Every non-live mode gets the ``-demo`` class: the point is that nobody mistakes a replay for
    the market, so the bar is loud and never scrolls away. It is drawn in reverse video on
    ``$warning``, padded to the full width: the terminal itself then picks a readable text colour,
    even under the ``ansi-*`` themes where the palette is the terminal's own.
    """

    DEFAULT_CSS = """
    ModeBanner {
        display: none;
        width: 1fr;
        height: 1;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    ModeBanner.-demo {
        display: block;
        color: $warning;
        text-style: bold reverse;
    }
    """

    label: reactive[str] = reactive("")
    """What the bar says; ``""`` hides it."""

    def watch_label(self, label: str) -> None:
        self.set_class(bool(label), "-demo")

    def render(self) -> Content:
        # Padded by hand: Content.center in Textual 8.2 pads the right by the full width.
        text = Content(printable(self.label))
        left = max(0, (self.content_size.width - text.cell_length) // 2)
        right = max(0, self.content_size.width - left - text.cell_length)
        return text.pad(left, right)
