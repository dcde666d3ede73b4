"""A few lines of text that change together: one widget, one repaint, never a layout pass."""

from __future__ import annotations

from textual.content import Content
from textual.reactive import reactive
from textual.widget import Widget


class TextBlock(Widget):
    """Lines cropped with an ellipsis; its height is set by CSS, so updates never re-lay out.

    Several lines in one widget cost one refresh instead of one per line: the price pane
    repaints every few seconds, and each widget refreshed costs the compositor a pass.
    """

    DEFAULT_CSS = """
    TextBlock { width: 1fr; text-wrap: nowrap; text-overflow: ellipsis; }
    """

    lines: reactive[tuple[Content, ...]] = reactive(())
    """What the block says, a line each (build them with ``widgets.literal.literal``)."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        # No links here: without this Textual decodes every segment's style meta on each render.
        self.set_reactive(Widget.auto_links, False)

    def render(self) -> Content:
        return Content("\n").join(self.lines)
