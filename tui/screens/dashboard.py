"""The dashboard: a pane per bucket of DOMAIN.md, the price pane first, the status strip last."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, ClassVar

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid, Horizontal, Vertical
from textual.lazy import Lazy
from textual.message import Message
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import Footer, Static

from tui.core.config import Settings
from tui.core.model import Board
from tui.core.panes import checklist

if TYPE_CHECKING:
    from tui.core.panes.catalog import Series
from tui.core.views import (
    BUCKETS,
    RANGES,
    ChartData,
    ChartRange,
    bucket,
    price_view,
    status_chips,
)
from widgets.bucket_pane import BucketPane
from widgets.mode_banner import ModeBanner
from widgets.pivot_chart import PivotChart
from widgets.price_pane import PricePane
from widgets.status_strip import StatusStrip

MIN_WIDTH = 60
MIN_HEIGHT = 16


class DashboardScreen(Screen[None]):
    """The main screen. A controller: it turns the Board into widget reactives."""

    DEFAULT_CSS = """
    DashboardScreen { layout: vertical; }
    DashboardScreen #main { height: 1fr; }
    DashboardScreen #top { height: 1fr; }
    DashboardScreen #pane-price { width: 2fr; }
    DashboardScreen #pane-checklist { width: 1fr; }
    DashboardScreen #bucket-row { height: 6; }
    DashboardScreen.-wide #bucket-row, DashboardScreen.-tall #bucket-row { height: 12; }
    DashboardScreen.-wide.-tall #bucket-row { height: 18; }
    DashboardScreen #buckets { grid-size: 3 2; }
    DashboardScreen PricePane { height: auto; }
    DashboardScreen PivotChart { height: 1fr; min-height: 5; }
    DashboardScreen #too-small {
        display: none; width: 1fr; height: 1fr; content-align: center middle;
    }
    DashboardScreen.-too-small #too-small { display: block; }
    DashboardScreen.-too-small #main, DashboardScreen.-too-small Footer,
    DashboardScreen.-too-small ModeBanner { display: none; }
    """

    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (140, "-wide")]  # noqa: RUF012 - Textual types it
    VERTICAL_BREAKPOINTS = [(0, "-short"), (44, "-tall")]  # noqa: RUF012

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("left_square_bracket", "range(-1)", "Range", key_display="["),
        Binding("right_square_bracket", "range(1)", "Range", key_display="]", show=False),
        Binding("right,down", "app.focus_next", "Next pane", show=False),
        Binding("left,up", "app.focus_previous", "Previous pane", show=False),
        *(
            Binding(str(n), f"focus_pane({n})", f"Pane {n}", show=False)
            for n in range(1, len(BUCKETS) + 1)
        ),
    ]

    chart_range: reactive[ChartRange] = reactive("1D")
    """The price chart's range, cycled with ``[`` and ``]``."""

    class RangeChanged(Message):
        """The user asked for another chart range."""

        def __init__(self, range_: ChartRange) -> None:
            self.range = range_
            super().__init__()

    def __init__(
        self,
        settings: Settings,
        has_source: Sequence[str],
        label: str = "",
        board: Board | None = None,
    ) -> None:
        super().__init__()
        # The size classes from the start (Textual's own reckoning, as its resize handler does):
        # a class change once mounted restyles every widget.
        width, height = self.app.size
        self.add_class(
            *self._get_breakpoint_classes(width, self.HORIZONTAL_BREAKPOINTS),
            *self._get_breakpoint_classes(height, self.VERTICAL_BREAKPOINTS),
        )
        self._settings = settings
        self._has_source = frozenset(has_source)
        self._label = label
        self._first = board
        self._shown: tuple[Board, Series] | None = None
        """Shown in the first frame (a seed or cached readings), before any worker ran."""

    def compose(self) -> ComposeResult:
        # The label from the start, so the very first frame already says DEMO / REPLAY.
        banner = ModeBanner(id="banner", classes="-demo" if self._label else "")
        banner.set_reactive(ModeBanner.label, self._label)
        yield banner
        with Vertical(id="main"):
            with Horizontal(id="top"):
                price = PricePane(id="price")
                if self._first is not None:  # shown as it mounts: its tone classes set once
                    price.preset(price_view(self._first, self._settings, ()))
                yield self._pane("price", price, PivotChart(id="chart"))
                yield self._pane("checklist")
            # The bucket panes mount just after the first frame (the price comes first), into
            # the room kept for them: nothing above moves when they arrive.
            with Vertical(id="bucket-row"), Lazy(Grid(id="buckets")):
                for info in BUCKETS[2:]:
                    yield self._pane(info.key)
            yield StatusStrip(id="strip")
        yield Static(id="too-small")
        yield Footer(compact=True)

    def _pane(self, key: str, *children: PricePane | PivotChart) -> BucketPane:
        number = next(i for i, b in enumerate(BUCKETS, 1) if b.key == key)
        return BucketPane(
            bucket(key), *children, number=number, has_source=key in self._has_source,
            id=f"pane-{key}",
        )  # fmt: skip

    def _compositor_refresh(self) -> None:
        # Textual 8 renders a whole frame while a batch holds the display and then throws it away
        # (App._display returns early): at start-up that is 60 ms before the first frame. Held
        # back here, the repaint happens once, when the screen next goes idle outside the batch.
        if self.app._batch_count and not self.app.is_inline:
            self._repaint_required = True
            return
        super()._compositor_refresh()

    def on_mount(self) -> None:
        self.set_banner(self._label)
        if self._first is not None:
            self.show_board(self._first)
        self.query_one("#pane-price", BucketPane).focus()
        self._check_size(self.size.width, self.size.height)

    def on_resize(self, event: events.Resize) -> None:
        self._check_size(event.size.width, event.size.height)

    def _check_size(self, width: int, height: int) -> None:
        small = width < MIN_WIDTH or height < MIN_HEIGHT
        self.set_class(small, "-too-small")
        if small:
            self.query_one("#too-small", Static).update(
                f"btcwatch needs at least {MIN_WIDTH}×{MIN_HEIGHT} (now {width}×{height})"
            )

    def show_board(
        self,
        board: Board,
        today: Sequence[tuple[datetime, float]] = (),
        series: Series | None = None,
    ) -> None:
        """Put ``board`` on screen (``today`` and ``series``: stored history the panes draw)."""
        self.query_one(PricePane).view = price_view(board, self._settings, today)
        self.query_one(StatusStrip).chips = status_chips(board)
        self._shown = (board, series or {})
        for pane in self.query(BucketPane):
            self._fill(pane)

    def _fill(self, pane: BucketPane) -> None:
        """Give ``pane`` its rows from the Board last shown (if it has a view function)."""
        if not pane.has_source or self._shown is None:
            return
        board, series = self._shown
        if pane.info.key == "checklist":
            pane.view = checklist.view(board, self._settings)
            return
        if pane.info.key == "price":
            return  # the price pane's own widgets show it
        # The other panes mount after the first frame: their view modules (and the analytics
        # behind them) are imported then, not before it.
        from tui.core.panes.catalog import VIEWS

        fn = VIEWS.get(pane.info.key)
        if fn is not None:
            pane.view = fn(board, self._settings, series)

    def on_bucket_pane_ready(self, message: BucketPane.Ready) -> None:
        # A pane mounted after the last paint (the lazy grid): fill it now, not on the next one.
        self._fill(message.pane)

    def show_chart(self, data: ChartData) -> None:
        """Put a freshly loaded chart on screen (ignored if the range moved on meanwhile)."""
        if data.range == self.chart_range:
            self.query_one(PivotChart).data = data

    def set_paused(self, paused: bool) -> None:
        """Say on screen whether polling is paused."""
        self.query_one(StatusStrip).paused = paused

    def set_feed(self, text: str, *, lost: bool = False) -> None:
        """Say where the data comes from (a recorder), or that it stopped (``lost``)."""
        strip = self.query_one(StatusStrip)
        strip.feed = text
        strip.feed_lost = lost

    def set_banner(self, label: str) -> None:
        """The demo/replay label (empty hides the banner)."""
        self.query_one(ModeBanner).label = label

    def action_range(self, step: int) -> None:
        """Cycle the chart range: 1D → 1W → 1M → 3M."""
        index = (RANGES.index(self.chart_range) + step) % len(RANGES)
        self.chart_range = RANGES[index]
        self.post_message(self.RangeChanged(self.chart_range))

    def action_focus_pane(self, number: int) -> None:
        """Focus pane ``number`` (1-based, as titled)."""
        panes = list(self.query(BucketPane))
        key = BUCKETS[number - 1].key
        for pane in panes:
            if pane.id == f"pane-{key}":
                pane.focus()
