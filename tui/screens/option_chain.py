"""The option chain: put and call OI by strike × expiry, the retest band, max pain, IV smiles."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import ClassVar, Final, Literal

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Footer, Static
from textual.worker import Worker, WorkerState

from tui.core.analytics import options
from tui.core.analytics.options import ChainExpiry, ChainTable, DeltaPoint, MaxPain, NotEnough
from tui.core.config import Settings
from tui.core.errors import FetchError
from tui.core.model import format_age
from tui.core.sources import deribit
from tui.core.store import Store
from tui.messages import BoardChanged
from widgets.literal import literal
from widgets.oi_heatmap import ATM_GLYPH, BAND_GLYPH, MAX_PAIN_GLYPH, OiHeatmap, atm_strike
from widgets.smile_chart import SmileChart

#: The least time between two reloads on new data (each parses the whole stored chain).
THROTTLE_S: Final = 5.0
ENDPOINT: Final = "chain"
Side = Literal["put", "call"]


@dataclass(frozen=True, slots=True)
class ChainView:
    """What one load of the stored chain gives the screen."""

    fetched_at: datetime | None
    """When Deribit answered; ``None`` when no chain is stored."""
    table: ChainTable | None
    """``None`` with :attr:`problem` saying why."""
    problem: str | None = None
    """Why there is no table, in words (no chain stored yet, not enough data, unreadable)."""
    quotes: int = 0
    skipped: int = 0


def load_chain(store: Store, settings: Settings) -> ChainView:
    """Read and analyse the latest stored ``deribit_options`` / ``chain`` answer (blocking).

    ``T`` runs from the answer's fetch time, as when it was parsed; the retest band is the
    user's. Never raises for a missing or broken body: the view says what is wrong.
    """
    exchange = store.latest_exchange(deribit.OPTIONS, ENDPOINT)
    if exchange is None:
        return ChainView(
            None,
            None,
            "no chain stored yet: Deribit's option book summary is fetched every 5 min",
        )
    at = exchange.fetched_at
    try:
        quotes, skipped = deribit.read_chain(json.loads(exchange.body))
    except (ValueError, FetchError) as e:  # bad JSON, an error envelope, no result list
        return ChainView(at, None, f"the stored chain cannot be read: {e}")
    band = settings.retest_band
    table = options.chain_table(quotes, at, band.low, band.high)
    if isinstance(table, NotEnough):
        return ChainView(at, None, f"not enough data: {table.reason}", len(quotes), skipped)
    return ChainView(at, table, None, len(quotes), skipped)


def _usd(value: float) -> str:
    return f"${value:,.0f}"


def _iv(value: float | NotEnough) -> str:
    return f"{value:.1f}" if isinstance(value, float) else "—"


def expiry_content(e: ChainExpiry) -> Content:
    """The selected expiry in one line: forward, ATM IV, 25Δ points, RR, max pain."""
    parts: list[Content] = [
        literal(f" · forward {_usd(e.forward) if e.forward > 0 else '—'}"),
        literal(f" · ATM IV {_iv(e.atm_iv)}"),
    ]
    put, call = e.put25, e.call25
    if isinstance(put, DeltaPoint):
        parts.append(literal(f" · ▼ 25Δ put {put.iv:.1f} at {_usd(put.strike)}", "$bearish"))
    if isinstance(call, DeltaPoint):
        parts.append(literal(f" · ▲ 25Δ call {call.iv:.1f} at {_usd(call.strike)}", "$bullish"))
    if isinstance(put, DeltaPoint) and isinstance(call, DeltaPoint):
        parts.append(literal(f" · RR25 {call.iv - put.iv:+.1f}"))
    elif isinstance(put, NotEnough) and isinstance(call, NotEnough) and put == call:
        parts.append(literal(f" · 25Δ: not enough data ({put.reason})", "$missing"))
    else:
        for name, point in (("put", put), ("call", call)):
            if isinstance(point, NotEnough):
                text = f" · 25Δ {name}: not enough data ({point.reason})"
                parts.append(literal(text, "$missing"))
    pain = e.max_pain
    if isinstance(pain, MaxPain):
        parts.append(literal(f" · {MAX_PAIN_GLYPH} max pain {_usd(pain.strike)}", "$pivot"))
    else:
        parts.append(literal(f" · max pain: not enough data ({pain.reason})", "$missing"))
    return Content.assemble(*parts)


def legend_content(table: ChainTable, e: ChainExpiry) -> Content:
    """What the table's marks mean, with this chain's band and the selected forward."""
    atm = atm_strike(e)
    return Content.assemble(
        literal(BAND_GLYPH, "$retest"),
        literal(f" retest band {_usd(table.band_low)}–{_usd(table.band_high)} · "),
        literal(ATM_GLYPH, "bold $accent"),
        literal(
            f" ATM {_usd(atm)} (the {e.expiry:%d %b} forward {_usd(e.forward)}) · "
            if atm is not None
            else " ATM: no forward · "
        ),
        literal(MAX_PAIN_GLYPH, "bold $pivot"),
        literal(" max pain · OI in BTC, shaded by size · blank: not listed"),
    )


class OptionChainScreen(Screen[None]):
    """Deribit's BTC option chain as last stored: OI heat map, marks, and one expiry's smile.

    ``←`` ``→`` (or ``[`` ``]``) pick the expiry whose smile is drawn and whose ATM strike is
    marked; ``p`` and ``c`` show or hide puts and calls; ↑ ↓ scroll the strikes. The store is
    read in a thread worker; on new data the screen reloads at most every :data:`THROTTLE_S`.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back", id="back"),
        Binding("left,left_square_bracket", "expiry(-1)", "Expiry", key_display="←"),
        Binding("right,right_square_bracket", "expiry(1)", "Expiry", key_display="→"),
        Binding("p", "side('put')", "Puts", id="toggle-puts"),
        Binding("c", "side('call')", "Calls", id="toggle-calls"),
        Binding("r", "reload", "Reload", show=False),
    ]

    # A short terminal gives the smile fewer rows, so the table keeps a useful height.
    VERTICAL_BREAKPOINTS = [(0, "-short"), (36, "-tall")]  # noqa: RUF012 (Textual's own type)

    DEFAULT_CSS = """
    OptionChainScreen {
        #oc-title, #oc-legend { text-wrap: nowrap; text-overflow: ellipsis; }
        #oc-title { height: auto; padding: 0 1; background: $panel; }
        #oc-state { height: auto; padding: 0 1; }
        #oc-main { height: 1fr; display: none; }
        &.-loaded #oc-main { display: block; }
        &.-loaded #oc-state { display: none; }
        #oc-legend { height: auto; padding: 0 1; color: $text-muted; }
        #oc-table { height: 1fr; padding: 0 1; }
        #oc-expiry { height: auto; padding: 0 1; }
        #oc-smile { height: 11; padding: 0 1; }
        &.-short #oc-smile { height: 7; }
    }
    """

    def __init__(
        self,
        store: Store,
        settings: Settings,
        *,
        now: datetime | Callable[[], datetime] | None = None,
    ) -> None:
        """The chain stored in ``store``.

        Args:
            store: the history (read in thread workers only).
            settings: the retest band marked in the table.
            now: the current time for the chain's age (the demo's clock in a demo), or a
                function giving it; the wall clock by default.
        """
        super().__init__()
        self._store = store
        self._settings = settings
        self._now: Callable[[], datetime] = (
            (lambda: now) if isinstance(now, datetime) else now or (lambda: datetime.now(UTC))
        )
        self.monotonic: Callable[[], float] = time.monotonic
        """The clock the reload throttle reads (tests replace it)."""
        self.view: ChainView | None = None
        """The last load (tests read it)."""
        self.selected = 0
        """Index of the expiry whose smile is shown."""
        self._worker: Worker[ChainView] | None = None
        self._started: float | None = None

    def compose(self) -> ComposeResult:
        yield Static(Content.assemble(("Deribit BTC option chain", "bold")), id="oc-title")
        yield Static(literal("loading the stored chain…", "$text-muted"), id="oc-state")
        with Vertical(id="oc-main"):
            yield Static(id="oc-legend")
            yield OiHeatmap(id="oc-table")
            yield Static(id="oc-expiry")
            yield SmileChart(id="oc-smile")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(OiHeatmap).focus()
        self._start_load()

    # -- loading -------------------------------------------------------------------------------

    def _start_load(self) -> None:
        store, settings = self._store, self._settings
        self._started = self.monotonic()
        self._worker = self.run_worker(
            lambda: load_chain(store, settings), name="option chain load", group="option-chain",
            thread=True, exclusive=True, exit_on_error=False,
        )  # fmt: skip

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
        worker = event.worker
        if worker is not self._worker:
            return
        if event.state is WorkerState.SUCCESS and isinstance(worker.result, ChainView):
            self._show(worker.result)
        elif event.state is WorkerState.ERROR:
            self._problem(f"could not read the stored chain: {worker.error}")

    def _problem(self, text: str) -> None:
        self.remove_class("-loaded")
        self.query_one("#oc-state", Static).update(literal(text, "$missing"))

    def _show(self, view: ChainView) -> None:
        previous = self.view
        self.view = view
        self._show_title(view)
        table = view.table
        if table is None:
            self._problem(view.problem or "no chain")
            return
        old = previous.table if previous is not None else None
        if old is not None and self.selected < len(old.expiries):
            # Keep the same expiry selected across reloads, if it is still listed.
            expiry = old.expiries[self.selected].expiry
            dates = [e.expiry for e in table.expiries]
            self.selected = dates.index(expiry) if expiry in dates else 0
        else:
            # First load: the expiry holding the most open interest (the one that matters).
            totals = [e.put_oi + e.call_oi for e in table.expiries]
            self.selected = totals.index(max(totals))
        heatmap = self.query_one(OiHeatmap)
        heatmap.table = table
        self.add_class("-loaded")
        if self.focused is None:  # nothing was shown to focus while loading
            heatmap.focus()
        self._show_expiry()

    def _show_title(self, view: ChainView) -> None:
        head = Content.assemble(("Deribit BTC option chain", "bold"))
        at = view.fetched_at
        if at is None:
            self.query_one("#oc-title", Static).update(head)
            return
        age = format_age((self._now() - at).total_seconds())
        info = f"  fetched {at.astimezone(UTC):%d %b %H:%M} UTC · {age} ago"
        if view.table is not None:
            n = len(view.table.expiries)
            info += f" · {view.quotes} options on {n} expir{'y' if n == 1 else 'ies'}"
        if view.skipped:
            info += f" · {view.skipped} rows skipped"
        self.query_one("#oc-title", Static).update(head + literal(info, "$text-muted"))

    def _show_expiry(self) -> None:
        view = self.view
        if view is None or view.table is None:
            return
        table = view.table
        e = table.expiries[self.selected]
        self.query_one(OiHeatmap).selected = self.selected
        self.query_one("#oc-legend", Static).update(legend_content(table, e))
        self.query_one("#oc-expiry", Static).update(
            literal(f"Smile {e.expiry:%d %b %Y}", "bold")
            + literal(f" ({self.selected + 1}/{len(table.expiries)}, {e.days:.1f} d)")
            + expiry_content(e)
        )
        self.query_one(SmileChart).expiry = e

    # -- actions -------------------------------------------------------------------------------

    def action_expiry(self, step: int) -> None:
        """Show the previous or next expiry's smile."""
        view = self.view
        if view is None or view.table is None:
            return
        self.selected = max(0, min(self.selected + step, len(view.table.expiries) - 1))
        self._show_expiry()

    def action_side(self, side: Side) -> None:
        """Show or hide one side; hiding the only side shown shows the other instead."""
        heatmap = self.query_one(OiHeatmap)
        puts, calls = heatmap.show_puts, heatmap.show_calls
        if side == "put":
            puts = not puts
        else:
            calls = not calls
        if not (puts or calls):
            puts, calls = side == "call", side == "put"
        heatmap.show_puts, heatmap.show_calls = puts, calls
