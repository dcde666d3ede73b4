"""Help: every key, what each pane means, where its data comes from, and what the glyphs say."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar, Final

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from tui.core.model import format_age
from tui.core.sources.spec import SourceSpec
from tui.core.views import GLYPHS, BucketInfo, ChipState

#: What each status glyph means, in the order the help lists them.
GLYPH_MEANINGS: Final[tuple[tuple[ChipState, str], ...]] = (
    ("ok", "ok: fresh; the age beside it says how old"),
    ("stale", "stale: older than the source's limit; dimmed, with its age"),
    ("missing", "missing: offline, blocked, HTTP or parse error; the reason is shown"),
    ("limited", "rate-limited: the provider asked us to wait; shown with until when"),
    ("pending", "waiting: enabled, no answer yet"),
    ("key", "needs a key: set sources.<name>.api_key in the config"),
    ("disabled", "disabled: off in the config, or a fallback on standby while its primary answers"),
)


def _table(rows: Sequence[tuple[Text, Text]]) -> Table:
    """Labels in a column of their own, so wrapped descriptions keep their indent.

    One Rich grid per section rather than a widget per cell: a hundred little widgets in
    nested auto-height grids took twice as long to open (measured with pilot, 0.4 s vs 0.2 s).
    """
    table = Table.grid(padding=(0, 2))
    table.add_column(no_wrap=True)
    table.add_column(ratio=1, overflow="fold")  # fold: a long URL breaks, never "…"
    for label, text in rows:
        table.add_row(label, text)
    return table


def _keys(bindings: Sequence[tuple[str, str]]) -> Table:
    return _table([(Text(k, style="bold"), Text(what)) for k, what in bindings])


def _panes(buckets: Sequence[BucketInfo]) -> Table:
    rows = []
    for number, b in enumerate(buckets, start=1):
        feeds = ", ".join(b.providers) if b.providers else "the other panes (derived)"
        about = Text.assemble(b.about, "\n", ("from ", "dim"), feeds)
        rows.append((Text(f"{number} {b.title}", style="bold"), about))
    return _table(rows)


def _sources(sources: Sequence[SourceSpec]) -> Group:
    parts: list[RenderableType] = []
    for s in sources:
        head = Text.assemble((s.title, "bold"), "  ", s.name, (f"  · {s.bucket} pane", "dim"))
        rows = [(Text("docs", style="dim"), Text(s.docs_url))]
        for ep in s.endpoints:
            every = format_age(ep.interval_s or s.interval_s)
            rows.append((Text(f"{ep.key} every {every}"), Text(ep.url(s.base_url))))
        if s.needs_key:
            rows.append((Text("key", style="dim"), Text("needs an API key (config)")))
        parts += [head, _table(rows), Text()]
    return Group(*parts[:-1])


def _glyphs() -> Group:
    meanings = _table([(Text(GLYPHS[st], style="bold"), Text(what)) for st, what in GLYPH_MEANINGS])
    notes = Text(
        "\n▲ ▼ beside a price: above / below the pivot, with the % distance.\n"
        "Demo and replay data are labelled: the banner (DEMO · scenario, or REPLAY) stays on "
        "screen while they play; nothing shown then is live."
    )
    return Group(meanings, notes)


class HelpScreen(ModalScreen[None]):
    """Every key, every pane and every source, over the current screen; any close key dismisses."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark,f1", "close", "Close", id="close"),
    ]
    # Two columns from 120 columns: keys and panes left, glyphs and sources right.
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (120, "-wide")]  # noqa: RUF012 (Textual's own type)

    DEFAULT_CSS = """
    HelpScreen {
        align: center middle;
        #help {
            width: 100%; height: 100%; padding: 0 1;
            border: round $primary; background: $surface;
        }
        &.-wide #help { width: 90%; max-width: 150; height: 90%; }
        #help-columns { grid-size: 1; grid-gutter: 0 3; height: auto; }
        &.-wide #help-columns { grid-size: 2; grid-columns: 4fr 5fr; }
        .help-column { height: auto; }
        .help-section { height: auto; margin-top: 1; text-style: bold underline; }
        .help-section.-first { margin-top: 0; }
        .help-column > Static { height: auto; }
    }
    """

    def __init__(
        self,
        bindings: Sequence[tuple[str, str]],
        buckets: Sequence[BucketInfo],
        sources: Sequence[SourceSpec],
    ) -> None:
        """Help for these keys, panes and sources.

        Args:
            bindings: ``(key label, description)`` pairs, in the order to list them.
            buckets: the panes, numbered in this order.
            sources: every source the app knows.
        """
        super().__init__()
        self._key_help = tuple(bindings)
        self._buckets = tuple(buckets)
        self._sources = tuple(sources)

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help"), Grid(id="help-columns"):
            with Vertical(classes="help-column"):
                yield Static("Keys", classes="help-section -first")
                yield Static(_keys(self._key_help), id="help-keys")
                yield Static("Panes", classes="help-section")
                yield Static(_panes(self._buckets), id="help-panes")
            with Vertical(classes="help-column"):
                yield Static("Glyphs", classes="help-section -first")
                yield Static(_glyphs(), id="help-glyphs")
                yield Static("Sources", classes="help-section")
                yield Static(_sources(self._sources), id="help-sources")

    def on_mount(self) -> None:
        help_ = self.query_one("#help")
        help_.border_title = "btcwatch help"
        help_.border_subtitle = "esc · q · ? · F1 close   ↑ ↓ PgUp PgDn scroll"
        help_.focus()

    def action_close(self) -> None:
        self.dismiss()
