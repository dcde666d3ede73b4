"""A bordered, focusable pane for one bucket of DOMAIN.md (price, derivatives, options, ...)."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.reactive import reactive

from widgets.literal import literal

if TYPE_CHECKING:
    from textual import events
    from textual.widget import Widget

    from tui.core.panes import PaneRow, PaneView
    from tui.core.views import BucketInfo

#: Each tone's theme variable: colour is a second channel, the glyph and words the first.
_TONE_STYLE: dict[str, str] = {
    "bullish": "$bullish",
    "bearish": "$bearish",
    "neutral": "$neutral",
    "stale": "$stale",
    "missing": "$missing",
    "plain": "",
}


class BucketPane(Vertical, can_focus=True):
    """One bucket: titled ``1 Price``; Enter or a click asks to drill down into it.

    A bucket whose sources do not exist yet says so, and names the providers that will feed it,
    instead of showing numbers.
    """

    DEFAULT_CSS = """
    BucketPane {
        height: 1fr;
        border: round $border-blurred;
        border-title-color: $text-muted;
        padding: 0 1;
    }
    BucketPane:focus {
        border: round $border;
        border-title-color: $text;
        border-title-style: bold;
    }
    BucketPane.-placeholder {
        color: $text-muted;
    }
    BucketPane.-rows {
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "drill", "Drill down", id="drill", show=False),
    ]

    view: reactive[PaneView | None] = reactive(None, layout=False, always_update=False)
    """The rows this pane shows (``None`` until the first Board)."""

    class Ready(Message):
        """The pane is mounted (it may come after the first frame): it wants its rows."""

        def __init__(self, pane: BucketPane) -> None:
            self.pane = pane
            """The pane."""
            super().__init__()

    class Selected(Message):
        """The user asked to open this bucket's drill-down."""

        def __init__(self, key: str) -> None:
            self.key = key
            """The bucket's key (``BucketInfo.key``)."""
            super().__init__()

    def __init__(
        self,
        info: BucketInfo,
        *children: Widget,
        number: int,
        has_source: bool,
        id: str | None = None,
    ) -> None:
        """A pane for ``info``.

        Args:
            info: the bucket.
            children: what the pane shows; ignored while ``has_source`` is False.
            number: its position on the dashboard (the digit that focuses it).
            has_source: False when no source feeds the bucket yet.
            id: the DOM id.
        """
        super().__init__(*(children if has_source else ()), id=id)
        self.info = info
        """The bucket this pane shows."""
        self.has_source = has_source
        """False: the pane shows "no source yet" and who will feed it."""
        self.border_title = literal(f"{number} {info.title}")
        self.set_class(not has_source, "-placeholder")
        # Rows are one line each: cut with an ellipsis, never wrapped into the next row.
        self.set_class(has_source and not children, "-rows")

    def on_mount(self) -> None:
        self.post_message(self.Ready(self))

    def render(self) -> Content:
        # A pane without a source draws its placeholder itself: no child widget to style.
        if not self.has_source:
            return self._placeholder()
        if self.view is None:
            return literal("waiting for the first answers…", "dim")
        lines = [_row(r) for r in self.view.rows]
        if self.view.note:
            lines.append(literal(self.view.note, "dim italic"))
        return Content("\n").join(lines)

    def _placeholder(self) -> Content:
        parts = [literal("no source yet", "bold")]
        if self.info.providers:
            parts.append(literal("from " + ", ".join(self.info.providers)))
        parts.append(literal(self.info.about, "italic"))
        return Content("\n").join(parts)

    def action_drill(self) -> None:
        self.post_message(self.Selected(self.info.key))

    def on_click(self, event: events.Click) -> None:
        event.stop()
        self.post_message(self.Selected(self.info.key))


def _row(row: PaneRow) -> Content:
    """``label  ▼ value  detail  age``: the label dim, the value in its tone, the age dim."""
    style = _TONE_STYLE[row.tone]
    value = f"{row.glyph} {row.value}" if row.glyph else row.value
    parts = [literal(row.label, "dim"), literal(value, f"bold {style}".strip())]
    if row.detail:
        parts.append(literal(row.detail, style or ""))
    if row.age:
        parts.append(literal(row.age, "$stale" if row.tone == "stale" else "dim"))
    return Content(" ").join(parts)
