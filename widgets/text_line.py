"""One line of text that changes often: updates repaint it without a layout pass."""

from __future__ import annotations

from textual.content import Content
from textual.reactive import reactive
from textual.widget import Widget


class TextLine(Widget):
    """A single line, cropped with an ellipsis; its height never changes, so neither does layout.

    ``Static.update`` re-lays out the screen on every call; a price pane updated each second
    does not need that.
    """

    DEFAULT_CSS = """
    TextLine { height: 1; width: 1fr; text-wrap: nowrap; text-overflow: ellipsis; }
    """

    text: reactive[Content] = reactive(Content(""))
    """What the line says (build it with ``widgets.literal.literal`` for untrusted text)."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        # No links here: without this Textual decodes every segment's style meta on each render.
        self.set_reactive(Widget.auto_links, False)

    def render(self) -> Content:
        return self.text
