"""The ETF flows drill-down: Farside's fund-by-day table for the last 30 trading days, and a bar."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import ClassVar, Final

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Footer, Static
from textual.worker import Worker, WorkerState

from tui.core.analytics import etf
from tui.core.config import Settings
from tui.core.errors import FetchError
from tui.core.model import format_age
from tui.core.panes.flows import usd_m
from tui.core.sources import farside
from tui.core.store import Store
from tui.messages import BoardChanged
from widgets.etf_flow_bars import EtfFlowBars
from widgets.etf_flow_table import EtfFlowTable
from widgets.literal import literal

#: The least time between two reloads on new data (the table changes about once a day).
THROTTLE_S: Final = 10.0
#: Where the engine keeps the page: ``Store.latest_exchange(SOURCE, ENDPOINT)``.
SOURCE: Final = farside.NAME
ENDPOINT: Final = "flows"
EMPTY: Final = "no ETF table stored yet: Farside's page is fetched about once an hour"


@dataclass(frozen=True, slots=True)
class EtfLoaded:
    """One read of the stored page (tests read it from :attr:`EtfFlowsScreen.loaded`)."""

    fetched_at: datetime | None
    """When the page was fetched; ``None`` when none is stored."""
    view: etf.TableView | None
    """The last 30 trading days; ``None`` without a readable table."""
    problem: str = ""
    """Why there is no table (nothing stored, or the stored page could not be read)."""
    five_day: float | None = None
    month: float | None = None
    month_name: str = ""
    streak: int | None = None
    pending: tuple[str, ...] = ()
    """Funds that have not reported the newest day yet (it is provisional while any)."""


def load(store: Store, previous: EtfLoaded | None = None) -> EtfLoaded:
    """Read and parse the latest stored Farside page (blocking: call it from a thread).

    Args:
        store: the history.
        previous: the last load: returned as it is when the stored page has not changed.
    """
    exchange = store.latest_exchange(SOURCE, ENDPOINT)
    if exchange is None:
        return EtfLoaded(None, None, EMPTY)
    if previous is not None and previous.fetched_at == exchange.fetched_at:
        return previous
    try:
        table = farside.parse_table(exchange.body.decode("utf-8", errors="replace"))
    except FetchError as e:
        return EtfLoaded(exchange.fetched_at, None, f"the stored page could not be read: {e}")
    newest = table.newest
    return EtfLoaded(
        exchange.fetched_at,
        etf.table_view(table, etf.VIEW_DAYS),
        five_day=etf.sum_last(table),
        month=etf.month_to_date(table),
        month_name=f"{newest.day:%b}" if newest is not None else "",
        streak=etf.outflow_streak(table),
        pending=table.pending_funds,
    )


def _flow(value: float | None) -> Content:
    if value is None:
        return literal("n/a", "$missing")
    glyph = "▼ " if value < 0 else "▲ " if value > 0 else ""
    return literal(glyph + usd_m(value), "bold $bearish" if value < 0 else "bold")


class EtfFlowsScreen(Screen[None]):
    """Spot BTC ETF flows per fund and day, from the latest stored Farside page.

    The page is read and parsed in a thread worker; the screen reloads on new data at most every
    :data:`THROTTLE_S`, and only re-parses a page fetched since the last load.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back", id="back"),
        Binding("r", "reload", "Reload", show=False),
    ]

    DEFAULT_CSS = """
    EtfFlowsScreen {
        #ef-title { height: auto; padding: 0 1; background: $panel; }
        #ef-summary { height: auto; padding: 0 1; }
        #ef-table { height: 3fr; min-height: 6; }
        #ef-bars { height: 2fr; min-height: 7; padding: 0 1; }
    }
    """

    def __init__(
        self,
        store: Store,
        settings: Settings,
        *,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        """The ETF drill-down.

        Args:
            store: where the engine keeps Farside's latest page (read in thread workers only).
            settings: the user's settings (nothing here depends on them yet).
            now: the current time (the demo's clock in a demo); the wall clock by default.
        """
        super().__init__()
        self._store = store
        self._settings = settings
        self._now = now or (lambda: datetime.now(UTC))
        self.monotonic: Callable[[], float] = time.monotonic
        """The clock the reload throttle reads (tests replace it)."""
        self.loaded: EtfLoaded | None = None
        """The last load."""
        self._worker: Worker[EtfLoaded] | None = None
        self._started: float | None = None

    def compose(self) -> ComposeResult:
        yield Static(
            Content.assemble(
                ("Spot BTC ETF flows", "bold"),
                "  ",
                (f"Farside Investors · US$m · last {etf.VIEW_DAYS} trading days", "dim"),
            ),
            id="ef-title",
        )
        yield Static(literal("loading…", "dim"), id="ef-summary")
        yield EtfFlowTable(id="ef-table")
        yield EtfFlowBars(id="ef-bars")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(EtfFlowTable).focus()
        self._start_load()

    def _start_load(self) -> None:
        store, previous = self._store, self.loaded

        def work() -> EtfLoaded:
            return load(store, previous)

        self._started = self.monotonic()
        self._worker = self.run_worker(
            work, name="etf load", group="etf", thread=True, exclusive=True, exit_on_error=False
        )

    def reload(self) -> None:
        """Load again, unless a load is running or the last began under :data:`THROTTLE_S` ago."""
        if not self.is_attached or (self._worker is not None and not self._worker.is_finished):
            return
        if self._started is not None and self.monotonic() - self._started < THROTTLE_S:
            return
        self._start_load()

    def on_board_changed(self, _message: BoardChanged) -> None:
        self.reload()

    def action_reload(self) -> None:
        self._start_load()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker is not self._worker:
            return
        if event.state is WorkerState.SUCCESS and isinstance(event.worker.result, EtfLoaded):
            self._show(event.worker.result)
        elif event.state is WorkerState.ERROR:
            self.query_one("#ef-summary", Static).update(
                literal(f"could not read the store: {event.worker.error}", "$missing")
            )

    def _show(self, loaded: EtfLoaded) -> None:
        changed = loaded is not self.loaded
        self.loaded = loaded
        summary = self.query_one("#ef-summary", Static)
        table, bars = self.query_one(EtfFlowTable), self.query_one(EtfFlowBars)
        if loaded.view is None:
            summary.update(literal(loaded.problem, "$missing"))
            table.view = None
            bars.bars = ()
            return
        parts = [
            Content.assemble(literal("5 days ", "dim"), _flow(loaded.five_day)),
            Content.assemble(literal(f"{loaded.month_name} to date ", "dim"), _flow(loaded.month)),
        ]
        if loaded.streak is not None:
            days = "day" if loaded.streak == 1 else "days"
            tone = "bold $bearish" if loaded.streak else "bold"
            parts.append(
                Content.assemble(
                    literal("outflow streak ", "dim"), literal(f"{loaded.streak} {days}", tone)
                )
            )
        if loaded.pending:
            waiting = ", ".join(loaded.pending)
            parts.append(literal(f"newest day provisional: {waiting} to report", "italic $warning"))
        if loaded.fetched_at is not None:
            age = format_age((self._now() - loaded.fetched_at).total_seconds())
            parts.append(literal(f"fetched {age} ago", "dim"))
        gaps = sum(1 for r in loaded.view.rows if r.net is None)
        if gaps:
            parts.append(literal(f"{gaps} day{'s' if gaps != 1 else ''} without data (-)", "dim"))
        summary.update(Content("   ").join(parts))
        if changed:  # the same page again: keep the table (and its cursor) as it is
            table.view = loaded.view
            bars.bars = loaded.view.bars
