"""The drill-down: one bucket's sources in full (readings, endpoints, last fetches, raw body)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import ClassVar, Final

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static, TextArea
from textual.worker import Worker, WorkerState

from tui.core.model import Reading, SourceStatus, Status, format_age
from tui.core.views import BUCKETS, GLYPHS, ChipState, DrilldownView, EndpointView, SourceDetail
from tui.messages import BoardChanged
from widgets.literal import printable

#: The least time between two loads: the app calls ``reload()`` on every update of the bucket,
#: and each load reads the store and pretty-prints up to 256 KB of body.
THROTTLE_S: Final = 2.0

_STATE: Final[dict[Status, ChipState]] = {
    Status.OK: "ok",
    Status.PENDING: "pending",
    Status.DISABLED: "disabled",
    Status.STALE: "stale",
    Status.RATE_LIMITED: "limited",
}


_COLUMNS: Final = {
    "#dd-readings": ("id", "value", "source", "observed UTC", "age", "stale"),
    "#dd-endpoints": ("source", "endpoint", "HTTP", "latency", "bytes", "fetched UTC"),
    "#dd-history": ("time UTC", "source", "status", "detail"),
}

#: A table row: its key, its cells (plain text, never markup) and whether it is dimmed (stale).
_Row = tuple[str, Sequence[str | Text], bool]


def _state(status: Status) -> ChipState:
    return _STATE.get(status, "missing")


def _hms(at: datetime | None) -> str:
    return "—" if at is None else at.astimezone(UTC).strftime("%H:%M:%S")


def _value(r: Reading) -> str:
    v = r.observation.value
    # Prices and percentages both read best with two decimals; tiny rates keep their digits.
    number = f"{v:,.2f}" if abs(v) >= 0.01 or v == 0 else f"{v:.4g}"
    return f"{number} {r.observation.unit}"


def _status_line(s: SourceStatus | None) -> str:
    """``● ok``, ``▲ rate-limited until 14:05 UTC``: the glyph and the status's own words."""
    if s is None:
        return f"{GLYPHS['pending']} waiting for a first answer"
    words = printable(s.detail) or ("ok" if s.ok else s.status.value)
    return f"{GLYPHS[_state(s.status)]} {words}"


def _reading_row(r: Reading) -> _Row:
    o = r.observation
    stale = f"{GLYPHS['stale']} stale" if r.stale else ""
    value = Text(_value(r), style="dim" if r.stale else "", justify="right")
    cells = (o.id, value, o.source, _hms(o.observed_at), format_age(r.age_s), stale)
    return f"{o.id}@{o.source}", cells, r.stale


def _history_row(name: str, i: int, s: SourceStatus) -> _Row:
    status = f"{GLYPHS[_state(s.status)]} {s.status.value}"
    return f"{name}#{i}", (_hms(s.last_attempt_at), name, status, printable(s.detail)), False


def _endpoint_row(key: str, e: EndpointView) -> _Row:
    cells = (
        key.partition("/")[0],
        e.key,
        "—" if e.status is None else str(e.status),
        "—" if e.latency_ms is None else f"{e.latency_ms:,.0f} ms",
        "—" if e.bytes is None else f"{e.bytes:,} B",
        _hms(e.fetched_at),
    )
    return key, cells, False


def _source_card(d: SourceDetail) -> Group:
    """``Kraken  kraken  ● ok · last ok 16:50:32 UTC``, then docs and each endpoint's URL.

    One Rich grid in one Static per source (not a widget per cell): cheap to replace on reload.
    """
    head = Text.assemble((d.title, "bold"), "  ", (d.name, "dim"), "  ", _status_line(d.status))
    if d.status is not None and d.status.last_ok_at is not None:
        head.append(f" · last ok {_hms(d.status.last_ok_at)} UTC", "dim")
    urls = Table.grid(padding=(0, 2))
    urls.add_column(no_wrap=True)
    urls.add_column(ratio=1, overflow="fold")  # fold: a long URL breaks, never "…"
    urls.add_row(Text("docs", "dim"), Text(d.docs_url))
    for e in d.endpoints:
        urls.add_row(Text(f"{e.key} {format_age(e.interval_s)}"), Text(e.url))
    return Group(head, urls)


class DrilldownScreen(Screen[None]):
    """Every reading, endpoint, last fetch, status change and raw body of one bucket.

    The screen never polls: it loads once when shown, and again when the app calls
    :meth:`reload` (at most once per :data:`THROTTLE_S`, never while a load runs).
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back", id="back"),
        Binding("r", "reload", "Reload", id="reload"),
        Binding("v", "bucket_view", "Bucket view", id="bucket-view"),
        Binding("tab", "app.focus_next", "Section", id="next-section"),
        Binding("shift+tab", "app.focus_previous", "Previous section", show=False),
    ]
    # Side by side from 120 columns: the tables left, the raw body right.
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (120, "-wide")]  # noqa: RUF012 (Textual's own type)

    DEFAULT_CSS = """
    DrilldownScreen {
        #dd-title { height: auto; padding: 0 1; background: $panel; }
        #dd-state { height: auto; padding: 0 1; color: $text-muted; }
        #dd-main { height: 1fr; display: none; }
        &.-loaded #dd-main { display: block; }
        #dd-info { height: 3fr; }
        #dd-raw { height: 2fr; min-height: 6; }
        &.-wide #dd-main { layout: horizontal; }
        &.-wide #dd-info, &.-wide #dd-raw { width: 1fr; height: 1fr; }
        .dd-section { height: auto; padding: 0 1; margin-top: 1; text-style: bold; }
        #dd-readings-title { margin-top: 0; }
        #dd-sources { height: auto; }
        .dd-source { height: auto; padding: 0 1; margin-bottom: 1; }
        .dd-source { border-left: outer $primary-muted; }
        .dd-source:last-child { margin-bottom: 0; }
        .dd-source.-missing { border-left: outer $error; }
        .dd-source.-limited { border-left: outer $warning; }
        .dd-source.-stale { text-style: dim; }
        #dd-no-source { height: auto; padding: 0 1; display: none; }
        &.-no-source #dd-no-source { display: block; }
        &.-no-source .dd-has-source, &.-no-source #dd-raw { display: none; }
        #dd-body-title { height: auto; padding: 0 1; text-style: bold; }
        #dd-body { height: 1fr; }
    }
    """

    #: Buckets with a screen of their own (the option chain, the ETF table, ...), opened with v.
    VIEWS: ClassVar[frozenset[str]] = frozenset(
        {"derivatives", "options", "flows", "mining", "macro"}
    )

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "bucket_view":
            return self.key in self.VIEWS
        return True

    async def action_bucket_view(self) -> None:
        """Open this bucket's own screen (the app knows how to build it)."""
        await self.app.run_action(f"bucket_view({self.key!r})")

    def __init__(self, key: str, load: Callable[[], DrilldownView]) -> None:
        """A drill-down of bucket ``key``.

        Args:
            key: the bucket (``price``, ``derivatives``, ...).
            load: builds the view; it blocks (it reads the store), so it runs in a thread.
        """
        super().__init__()
        self.key = key
        """The bucket shown: the app reloads this screen when that bucket's data changes."""
        self._title = next((b.title for b in BUCKETS if b.key == key), key)
        self.monotonic: Callable[[], float] = time.monotonic
        """The clock the reload throttle reads (tests replace it)."""
        self._load = load
        self._worker: Worker[DrilldownView] | None = None
        self._started: float | None = None
        self._view: DrilldownView | None = None
        self._body_key: str | None = None
        self._shown: tuple[str, str] | None = None
        self._rows: dict[str, list[_Row]] = {}
        self._endpoints: dict[str, EndpointView] = {}

    def compose(self) -> ComposeResult:
        yield Static(Content.assemble((self._title, "bold")), id="dd-title")
        yield Static(Content(f"loading {self._title}…"), id="dd-state")
        with Vertical(id="dd-main"):
            with VerticalScroll(id="dd-info"):
                yield Static(id="dd-readings-title", classes="dd-section dd-has-source")
                yield DataTable(
                    id="dd-readings", cursor_type="row", zebra_stripes=True, classes="dd-has-source"
                )
                yield Static("Sources", classes="dd-section")
                yield Static(id="dd-no-source")
                yield Vertical(id="dd-sources", classes="dd-has-source")
                yield Static("Last fetch per endpoint", classes="dd-section dd-has-source")
                yield DataTable(id="dd-endpoints", cursor_type="row", classes="dd-has-source")
                yield Static("Status history", classes="dd-section dd-has-source")
                yield DataTable(id="dd-history", cursor_type="row", classes="dd-has-source")
            with Vertical(id="dd-raw"):
                yield Static("Raw body", id="dd-body-title")
                # Unwrapped: a 256 KB body lays out per visible line, not per wrapped line.
                yield TextArea(
                    id="dd-body",
                    read_only=True,
                    soft_wrap=False,
                    placeholder="nothing stored yet for this endpoint",
                )
        yield Footer()

    def on_mount(self) -> None:
        for selector, columns in _COLUMNS.items():
            self.query_one(selector, DataTable).add_columns(*columns)
        self.query_one("#dd-body", TextArea).cursor_blink = False  # no timer: nothing polls
        self._start_load()

    def on_board_changed(self, _message: BoardChanged) -> None:
        self.reload()

    def reload(self) -> None:
        """Load again, unless a load is running or the last one began under 2 s ago."""
        if not self.is_attached or (self._worker is not None and not self._worker.is_finished):
            return
        if self._started is not None and self.monotonic() - self._started < THROTTLE_S:
            return
        self._readings_title(refreshing=True)
        self._start_load()

    def action_reload(self) -> None:
        self.reload()

    def _start_load(self) -> None:
        self._started = self.monotonic()
        self._worker = self.run_worker(
            self._load,
            name=f"drilldown {self.key}",
            group="drilldown",
            thread=True,
            exclusive=True,
            exit_on_error=False,  # a failed load is a line on this screen, not the app's end
        )

    async def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker = self._worker
        if worker is None or event.worker is not worker:
            return
        if event.state is WorkerState.SUCCESS and worker.result is not None:
            await self._show(worker.result)
        elif event.state is WorkerState.ERROR:
            self._readings_title()
            error = f"could not load {self._title}: {worker.error}"
            self._set_state(Content(f"{GLYPHS['missing']} {error}"))

    def _set_state(self, text: Content) -> None:
        state = self.query_one("#dd-state", Static)
        state.update(text)
        state.display = bool(text.plain)

    async def _show(self, view: DrilldownView) -> None:
        self._view = view
        info = view.bucket
        self.query_one("#dd-title", Static).update(
            Content.assemble((info.title, "bold"), "  ", (info.about, "$text-muted"))
        )
        self._set_state(Content())
        self.set_class(not view.sources, "-no-source")
        providers = ", ".join(info.providers)
        self.query_one("#dd-no-source", Static).update(
            Content(f"no source yet — coming with {providers}" if providers else "no source yet")
        )
        self._readings_title()
        self._fill("#dd-readings", map(_reading_row, view.readings))
        await self._show_sources(view.sources)
        # Each source's recent statuses, newest first, one source after another.
        history = (
            _history_row(d.name, i, s) for d in view.sources for i, s in enumerate(d.history)
        )
        self._fill("#dd-history", history)
        self._endpoints = {f"{d.name}/{e.key}": e for d in view.sources for e in d.endpoints}
        keys = list(self._endpoints)
        if self._body_key not in keys:
            # The first endpoint that has a body, so the pane opens on something to read.
            self._body_key = next(
                (k for k in keys if self._endpoints[k].body), next(iter(keys), None)
            )
        cursor = keys.index(self._body_key) if self._body_key in keys else 0
        self._fill(
            "#dd-endpoints", (_endpoint_row(k, e) for k, e in self._endpoints.items()), cursor
        )
        if not self.has_class("-loaded"):
            self.add_class("-loaded")
            if self.focused is None:  # nothing was focusable while loading
                self.query_one("#dd-info").focus()
        self._show_body()

    def _readings_title(self, *, refreshing: bool = False) -> None:
        # A reload is said in the section title, not on a line of its own: nothing jumps.
        count = len(self._view.readings) if self._view is not None else 0
        text = f"Readings · {count}" + (" · refreshing…" if refreshing else "")
        self.query_one("#dd-readings-title", Static).update(Content(text))

    async def _show_sources(self, sources: Sequence[SourceDetail]) -> None:
        container = self.query_one("#dd-sources", Vertical)
        if len(container.children) != len(sources):
            await container.remove_children()
            await container.mount_all(Static() for _ in sources)
        for card, d in zip(container.query_children(Static), sources, strict=True):
            card.update(_source_card(d))
            card.set_classes(
                f"dd-source -{'pending' if d.status is None else _state(d.status.status)}"
            )

    def _fill(self, selector: str, rows: Iterable[_Row], cursor: int | None = None) -> None:
        """Replace a table's rows, keeping the cursor; unchanged rows are left alone."""
        rows = list(rows)
        if self._rows.get(selector) == rows:
            return
        self._rows[selector] = rows
        table: DataTable[Text] = self.query_one(selector, DataTable)
        row = table.cursor_row if cursor is None else cursor
        table.clear()
        for key, cells, dim in rows:
            style = "dim" if dim else ""
            table.add_row(
                *(c if isinstance(c, Text) else Text(c, style=style) for c in cells), key=key
            )
        if table.row_count:
            table.move_cursor(row=min(row, table.row_count - 1), animate=False)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table.id == "dd-endpoints" and event.row_key.value is not None:
            self._body_key = event.row_key.value
            self._show_body()

    def _show_body(self) -> None:
        """Put the chosen endpoint's body in the text area (only when it changed: 256 KB)."""
        key = self._body_key
        e = None if key is None else self._endpoints.get(key)
        title = self.query_one("#dd-body-title", Static)
        if key is None or e is None:
            title.update(Content("Raw body"))
            return
        where = key.replace("/", " / ")
        if not e.body:
            title.update(Content(f"Raw body · {where} · nothing stored yet"))
        else:
            title.update(Content(f"Raw body · {where} · {_hms(e.fetched_at)} UTC"))
        if self._shown != (key, e.body):
            self._shown = (key, e.body)
            self.query_one("#dd-body", TextArea).load_text(e.body)
