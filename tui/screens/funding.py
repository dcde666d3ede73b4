"""Funding per venue over 1D / 1W / 1M: a chart each on one scale, a zero line, the latest."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import ClassVar, Final

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Footer, Static
from textual.worker import Worker, WorkerState

from tui.core import history
from tui.core.analytics.funding import MAX_GAP, VENUES
from tui.core.config import Settings
from tui.core.history import ChartLine, HistoryChart, HistoryRange, Point
from tui.core.model import CONSENSUS, format_age
from tui.core.panes import sign_glyph
from tui.core.panes.derivatives import STAYS_POSITIVE_H
from tui.core.store import Store
from tui.messages import BoardChanged
from widgets.literal import literal
from widgets.series_chart import SeriesChart

#: The least time between two reloads on new data (each reads five series from the store).
THROTTLE_S: Final = 5.0
RANGES: Final[tuple[HistoryRange, ...]] = ("1D", "1W", "1M")
#: A latest value older than this is shown as stale: a gap this long also breaks a positive run
#: (tui/core/analytics/funding.py), so nobody can say what funding did meanwhile.
STALE_AFTER: Final = MAX_GAP
#: How far back the latest value of a series is looked for before the whole history is read.
LATEST_WINDOW_S: Final = 3600.0
POSITIVE_HOURS: Final = ("funding.positive_hours", CONSENSUS)


@dataclass(frozen=True, slots=True)
class Series:
    """One funding series of the screen."""

    label: str
    id: str
    source: str


#: The OI-weighted consensus first, then each venue in the derivatives pane's order.
SERIES: Final = (
    Series("OI-weighted", "funding.oi_weighted", CONSENSUS),
    *(Series(v.name.capitalize() if v.name != "okx" else "OKX", *v.funding) for v in VENUES),
)


@dataclass(frozen=True, slots=True)
class FundingRow:
    """One series as loaded: its chart over the range and its latest stored value."""

    series: Series
    chart: HistoryChart
    latest: Point | None


@dataclass(frozen=True, slots=True)
class FundingView:
    """What one load gives the screen."""

    range: HistoryRange
    now: datetime
    rows: tuple[FundingRow, ...]
    positive_hours: Point | None
    """The stored ``funding.positive_hours`` (consensus) at ``now``."""


def _pct(value: float) -> str:
    return f"{value:+.4f} %/8h"


def load_funding(
    store: Store, settings: Settings, range_: HistoryRange, now: datetime
) -> FundingView:
    """Every funding series over ``range_`` up to ``now`` (blocking).

    Each chart gets a zero line (unless a checklist threshold already sits at 0), so its scale
    always takes in zero and the sign reads at a glance. Each keeps its own scale: on a shared
    one a venue paying +0.001 % would sit on the zero line in a chart a few rows high.
    """
    rows = []
    for s in SERIES:
        chart = history.load_chart(store, settings, s.id, s.source, range_, now)
        lines = chart.lines
        if all(line.value != 0 for line in lines):
            lines = (ChartLine("0", 0.0, "pivot"), *lines)
        title = f"{s.label} · {s.id} · {s.source}"
        rows.append(
            FundingRow(
                s,
                replace(chart, lines=lines, title=title),
                history.latest_at(store, s.id, s.source, now, LATEST_WINDOW_S),
            )
        )
    positive = history.latest_at(store, *POSITIVE_HOURS, now, LATEST_WINDOW_S)
    return FundingView(range_, now, tuple(rows), positive)


def _waiting(s: Series) -> str:
    if s.source == CONSENSUS:
        return "needs fresh funding and open interest from at least one venue"
    return f"waiting for {s.source}"


def latest_content(row: FundingRow, now: datetime, positive: Point | None) -> Content:
    """``▼ -0.0061 %/8h  OI-weighted  consensus  5m ago`` (+ hours positive for the consensus)."""
    s = row.series
    name = literal(f"  {s.label:<12}", "bold") + literal(f"{s.source:<16}", "$text-muted")
    if row.latest is None:
        return Content.assemble(
            literal(f"{'✕':<2}{'—':>14}", "$missing"),
            name,
            literal(f"no stored value yet: {_waiting(s)}", "$missing"),
        )
    at, value = row.latest
    age = now - at
    stale = age > STALE_AFTER
    hours = positive[1] if positive is not None and s.source == CONSENSUS else None
    if stale:
        tone = "$stale"
    elif value < 0:
        tone = "$bearish"
    elif value > 0 and (s.source != CONSENSUS or (hours or 0.0) >= STAYS_POSITIVE_H):
        tone = "$bullish"
    else:
        tone = "$neutral"
    when = f"{'stale ' if stale else ''}{format_age(age.total_seconds())} ago"
    parts = [
        literal(f"{sign_glyph(value)} {_pct(value):>14}", f"bold {tone}"),
        name,
        literal(f"{when:<12}", "$stale" if stale else "$text-muted"),
    ]
    if s.source == CONSENSUS:
        parts.append(_positive_text(value, hours, positive, now))
    return Content.assemble(*parts)


def _positive_text(
    value: float, hours: float | None, positive: Point | None, now: datetime
) -> Content:
    """``positive for 9.0 h · bullish once ≥ 8 h`` from the stored ``funding.positive_hours``."""
    rule = f" · bullish once ≥ {STAYS_POSITIVE_H:.0f} h"
    if positive is None or hours is None:
        return literal("hours positive: none stored yet", "$missing")
    age = now - positive[0]
    if age > STALE_AFTER:
        return literal(f"hours positive: stale {format_age(age.total_seconds())}", "$stale")
    if value <= 0 or hours <= 0:
        return literal("not positive" + rule, "$text-muted")
    span = f"{hours:.1f} h" if hours < 48 else f"{hours / 24:.1f} d"
    style = "$bullish" if hours >= STAYS_POSITIVE_H else "$neutral"
    return literal(f"positive for {span}", style) + literal(rule, "$text-muted")


class FundingScreen(Screen[None]):
    """Funding of the OI-weighted consensus and each venue, over 1D / 1W / 1M (``[`` ``]``).

    Every store read runs in a thread worker; on new data the screen reloads at most every
    :data:`THROTTLE_S`.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back", id="back"),
        Binding("left_square_bracket", "range(-1)", "Range", key_display="["),
        Binding("right_square_bracket", "range(1)", "Range", key_display="]", show=False),
        Binding("r", "reload", "Reload", show=False),
    ]

    DEFAULT_CSS = """
    FundingScreen {
        #fs-title { height: auto; padding: 0 1; background: $panel; }
        #fs-latest { height: auto; padding: 0 1; }
        #fs-charts { height: 1fr; }
        .fs-chart { height: 1fr; min-height: 7; padding: 0 1; }
    }
    """

    def __init__(
        self,
        store: Store,
        settings: Settings,
        *,
        now: datetime | Callable[[], datetime] | None = None,
    ) -> None:
        """Funding from ``store``.

        Args:
            store: the history (read in thread workers only).
            settings: the rule overrides, for the thresholds drawn on the consensus.
            now: the current time (the demo's clock in a demo), or a function giving it; the
                wall clock by default.
        """
        super().__init__()
        self._store = store
        self._settings = settings
        self._now: Callable[[], datetime] = (
            (lambda: now) if isinstance(now, datetime) else now or (lambda: datetime.now(UTC))
        )
        self.monotonic: Callable[[], float] = time.monotonic
        """The clock the reload throttle reads (tests replace it)."""
        self.range: HistoryRange = "1W"
        """The charts' range, cycled with ``[`` and ``]``."""
        self.view: FundingView | None = None
        """The last load (tests read it)."""
        self._worker: Worker[FundingView] | None = None
        self._started: float | None = None

    def compose(self) -> ComposeResult:
        yield Static(id="fs-title")
        yield Static(literal("loading funding…", "$text-muted"), id="fs-latest")
        with VerticalScroll(id="fs-charts"):
            for s in SERIES:
                yield SeriesChart(id=f"fs-chart-{s.id.replace('.', '-')}", classes="fs-chart")
        yield Footer()

    def on_mount(self) -> None:
        self._show_title()
        self.query_one("#fs-charts").focus()
        self._start_load()

    def _start_load(self) -> None:
        store, settings, range_, now = self._store, self._settings, self.range, self._now()
        self._started = self.monotonic()
        self._worker = self.run_worker(
            lambda: load_funding(store, settings, range_, now), name="funding load",
            group="funding", thread=True, exclusive=True, exit_on_error=False,
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
        if event.state is WorkerState.SUCCESS and isinstance(worker.result, FundingView):
            self._show(worker.result)
        elif event.state is WorkerState.ERROR:
            self.query_one("#fs-latest", Static).update(
                literal(f"could not read funding: {worker.error}", "$missing")
            )

    def _show(self, view: FundingView) -> None:
        self.view = view
        lines = [latest_content(row, view.now, view.positive_hours) for row in view.rows]
        self.query_one("#fs-latest", Static).update(Content("\n").join(lines))
        for row, chart in zip(view.rows, self.query(SeriesChart), strict=True):
            chart.data = row.chart

    def _show_title(self) -> None:
        ranges = Content(" ").join(
            literal(r, "reverse" if r == self.range else "dim") for r in RANGES
        )
        head = literal("Funding", "bold") + literal("  % per 8h · range ", "$text-muted")
        self.query_one("#fs-title", Static).update(head + ranges)

    def action_range(self, step: int) -> None:
        """Cycle the range: 1D → 1W → 1M."""
        self.range = RANGES[(RANGES.index(self.range) + step) % len(RANGES)]
        self._show_title()
        self._start_load()
