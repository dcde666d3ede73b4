"""The mining drill-down: hashprice and hashrate over 1M/3M, adjustments, the formula filled in."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import ClassVar, Final

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Footer, Static
from textual.worker import Worker, WorkerState

from tui.core import history
from tui.core.analytics.mining import HASHPRICE, RECORD_LOW, SOURCE, formula
from tui.core.config import Settings
from tui.core.errors import ParseError
from tui.core.history import ChartLine, HistoryChart, HistoryRange
from tui.core.model import Board, Json
from tui.core.panes import PaneRow
from tui.core.panes import mining as mining_pane
from tui.core.sources.parsing import field, number, timestamp
from tui.core.store import Store
from tui.messages import BoardChanged
from widgets.literal import literal
from widgets.series_chart import SeriesChart

#: The ranges ``[`` and ``]`` cycle through.
RANGES: Final[tuple[HistoryRange, ...]] = ("1M", "3M")
#: The least time between two chart reloads on new data (each reads the store).
THROTTLE_S: Final = 5.0
HASHRATE: Final = "mining.hashrate"
#: Past adjustments shown, newest first.
MAX_ADJUSTMENTS: Final = 6
#: ``previousRetarget`` of ``/v1/difficulty-adjustment`` names the adjustment at ``previousTime``:
#: an adjustment in the hashrate body within this of it is the same one.
SAME_ADJUSTMENT: Final = timedelta(hours=6)

_TONE_STYLE: Final[dict[str, str]] = {
    "bullish": "$bullish",
    "bearish": "$bearish",
    "neutral": "$neutral",
    "stale": "$stale",
    "missing": "$missing",
    "plain": "",
}


@dataclass(frozen=True, slots=True)
class Adjustment:
    """One past difficulty adjustment."""

    at: datetime
    height: int
    difficulty: float
    change_pct: float | None
    """Against the adjustment before it; ``None`` when that one is not known."""


@dataclass(frozen=True, slots=True)
class MiningLoaded:
    """One read of the store (tests read it from :attr:`MiningScreen.loaded`)."""

    hashprice: HistoryChart
    hashrate: HistoryChart
    adjustments: tuple[Adjustment, ...]
    """Newest first."""
    adjustments_note: str
    """Where they come from, or why there are none."""


def _body(store: Store, endpoint: str) -> Json:
    """The latest stored answer of a mempool endpoint as JSON (``None`` when none is stored)."""
    exchange = store.latest_exchange(SOURCE, endpoint)
    if exchange is None:
        return None
    try:
        doc: Json = json.loads(exchange.body)
    except ValueError as e:
        raise ParseError(f"{endpoint}: not JSON ({e})") from None
    return doc


def adjustments(store: Store) -> tuple[tuple[Adjustment, ...], str]:
    """The past adjustments in the stored ``/v1/mining/hashrate/1m`` answer, newest first.

    The engine keeps only the current difficulty as a reading; the answer's ``difficulty`` list
    (``{timestamp (s), difficulty, height}`` per adjustment in the interval, mempool's REST docs)
    names each one. The newest one's change comes from ``previousRetarget`` (%) of the stored
    ``/v1/difficulty-adjustment`` answer when only one adjustment is listed.
    """
    try:
        doc = _body(store, "hashrate")
        if doc is None:
            return (), "no mempool hashrate answer stored yet"
        rows = field(doc, "difficulty")
        if not isinstance(rows, list):
            raise ParseError("expected a list at 'difficulty'")
        found: list[tuple[datetime, int, float]] = []
        for i in range(len(rows)):
            at = timestamp(field(doc, "difficulty", i, "timestamp"), what=f"difficulty[{i}]")
            height = number(field(doc, "difficulty", i, "height"), what="height", lo=0, hi=1e8)
            value = number(
                field(doc, "difficulty", i, "difficulty"), what="difficulty", lo=1, hi=1e18
            )
            found.append((at, int(height), value))
        found.sort()
        out: list[Adjustment] = []
        for i, (at, height, value) in enumerate(found):
            change = (value / found[i - 1][2] - 1.0) * 100.0 if i else None
            out.append(Adjustment(at, height, value, change))
        if out and out[-1].change_pct is None:
            out[-1] = replace(out[-1], change_pct=_previous_retarget(store, out[-1].at))
    except ParseError as e:
        return (), f"the stored hashrate answer could not be read: {e}"
    if not out:
        return (), "no adjustment in the last month's hashrate answer"
    return tuple(reversed(out[-MAX_ADJUSTMENTS:])), "mempool.space, /v1/mining/hashrate/1m"


def _previous_retarget(store: Store, at: datetime) -> float | None:
    """``previousRetarget`` when the stored answer dates it at ``at`` (older backends and the
    REST docs example send no ``previousTime``: then it is not known which adjustment it is)."""
    try:
        doc = _body(store, "difficulty")
        if doc is None:
            return None
        when = timestamp(field(doc, "previousTime"), what="previousTime")
        if abs(when - at) > SAME_ADJUSTMENT:
            return None
        return number(field(doc, "previousRetarget"), what="previousRetarget", lo=-75, hi=300)
    except ParseError:
        return None


def load(store: Store, settings: Settings, range_: HistoryRange, now: datetime) -> MiningLoaded:
    """The two charts and the adjustments (blocking: call it from a thread)."""
    price = history.load_chart(store, settings, HASHPRICE, SOURCE, range_, now)
    low = ChartLine(f"record low ${RECORD_LOW:.0f}", RECORD_LOW, "bearish")
    price = replace(
        price, lines=(*price.lines, low), ticks=(*price.ticks, (RECORD_LOW, f"{RECORD_LOW:.0f}"))
    )
    rate = history.load_chart(store, settings, HASHRATE, SOURCE, range_, now)
    found, note = adjustments(store)
    return MiningLoaded(price, rate, found, note)


def pane_row(row: PaneRow) -> Content:
    """``label  ▼ value  detail  age``, as the dashboard pane writes it."""
    style = _TONE_STYLE[row.tone]
    value = f"{row.glyph} {row.value}" if row.glyph else row.value
    parts = [literal(row.label.ljust(16), "dim"), literal(value, f"bold {style}".strip())]
    if row.detail:
        parts.append(literal(row.detail, style))
    if row.age:
        parts.append(literal(row.age, "$stale" if row.tone == "stale" else "dim"))
    return Content("  ").join(parts)


def adjustment_line(a: Adjustment) -> Content:
    """``05 Jan 2026 14:20 UTC  height 931,392  146.47 T  ▲ +1.15 %``."""
    if a.change_pct is None:
        change = literal("change not known", "dim")
    else:
        glyph = "▲" if a.change_pct > 0 else "▼" if a.change_pct < 0 else "●"
        tone = "$bearish" if a.change_pct < 0 else "$bullish" if a.change_pct > 0 else ""
        change = literal(f"{glyph} {a.change_pct:+.2f} %", f"bold {tone}".strip())
    return Content.assemble(
        literal(f"{a.at.astimezone(UTC):%d %b %Y %H:%M} UTC  ", "dim"),
        literal(f"height {a.height:,}  "),
        literal(f"{a.difficulty / 1e12:,.2f} T  "),
        change,
    )


class MiningScreen(Screen[None]):
    """Hashprice and hashrate history, the adjustment readings and the hashprice formula.

    Charts and adjustments are read in a thread worker (reloaded on new data at most every
    :data:`THROTTLE_S`); the readings and the formula come from the latest Board at once.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back", id="back"),
        Binding("left_square_bracket", "range(-1)", "Range", key_display="["),
        Binding("right_square_bracket", "range(1)", "Range", key_display="]", show=False),
        Binding("r", "reload", "Reload", show=False),
    ]

    DEFAULT_CSS = """
    MiningScreen {
        #mn-title { height: auto; padding: 0 1; background: $panel; }
        #mn-charts { height: 1fr; min-height: 8; }
        /* One title line: a wrapped title would push the dates off the chart's bottom. */
        #mn-charts SeriesChart {
            width: 1fr; padding: 0 1; text-wrap: nowrap; text-overflow: ellipsis;
        }
        #mn-info { height: auto; max-height: 60%; }
        .mn-section { height: auto; padding: 0 1; }
        .mn-heading { height: auto; padding: 0 1; text-style: bold; margin-top: 1; }
    }
    """

    def __init__(
        self,
        store: Store,
        board_getter: Callable[[], Board | None],
        settings: Settings,
        *,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        """The mining drill-down.

        Args:
            store: the history (read in thread workers only).
            board_getter: the app's newest Board, read on mount and on each ``BoardChanged``.
            settings: the checklist thresholds drawn on the charts.
            now: the current time; by default the Board's time (the demo's clock in a demo),
                else the wall clock.
        """
        super().__init__()
        self._store = store
        self._board_getter = board_getter
        self._settings = settings
        self._now = now
        self.monotonic: Callable[[], float] = time.monotonic
        """The clock the reload throttle reads (tests replace it)."""
        self.range: HistoryRange = RANGES[0]
        """The charts' range, cycled with ``[`` and ``]``."""
        self.loaded: MiningLoaded | None = None
        """The last load."""
        self._worker: Worker[MiningLoaded] | None = None
        self._started: float | None = None

    def now(self) -> datetime:
        """The time charts end at: ``now()`` if given, else the Board's, else the wall clock."""
        if self._now is not None:
            return self._now()
        board = self._board_getter()
        return board.generated_at if board is not None else datetime.now(UTC)

    def compose(self) -> ComposeResult:
        yield Static(id="mn-title")
        with Horizontal(id="mn-charts"):
            yield SeriesChart(id="mn-hashprice")
            yield SeriesChart(id="mn-hashrate")
        with VerticalScroll(id="mn-info"):
            yield Static(literal("Readings", "bold"), classes="mn-heading")
            yield Static(id="mn-readings", classes="mn-section")
            yield Static(literal("Last adjustments", "bold"), classes="mn-heading")
            yield Static(literal("loading…", "dim"), id="mn-adjustments", classes="mn-section")
            yield Static(literal("Hashprice, today's numbers", "bold"), classes="mn-heading")
            yield Static(id="mn-formula", classes="mn-section")
        yield Footer()

    def on_mount(self) -> None:
        self._show_title()
        self._show_board()
        self.query_one("#mn-info", VerticalScroll).focus()
        self._start_load()

    # -- the Board -----------------------------------------------------------------------------

    def _show_board(self) -> None:
        board = self._board_getter()
        readings = self.query_one("#mn-readings", Static)
        formula_box = self.query_one("#mn-formula", Static)
        if board is None:
            readings.update(literal("no readings yet: waiting for the first answers", "$missing"))
            formula_box.update(literal("no readings yet", "$missing"))
            return
        rows = mining_pane.view(board, self._settings).rows
        readings.update(Content("\n").join(pane_row(r) for r in rows))
        lines = formula(board)
        formula_box.update(
            Content("\n").join(
                literal(line, "dim" if i < 2 else "bold" if line.startswith("hashprice =") else "")
                for i, line in enumerate(lines)
            )
        )

    # -- loading -------------------------------------------------------------------------------

    def _start_load(self) -> None:
        store, settings, range_, now = self._store, self._settings, self.range, self.now()

        def work() -> MiningLoaded:
            return load(store, settings, range_, now)

        self._started = self.monotonic()
        self._worker = self.run_worker(
            work, name="mining load", group="mining", thread=True, exclusive=True,
            exit_on_error=False,
        )  # fmt: skip

    def reload(self) -> None:
        """Load again, unless a load is running or the last began under :data:`THROTTLE_S` ago."""
        if not self.is_attached or (self._worker is not None and not self._worker.is_finished):
            return
        if self._started is not None and self.monotonic() - self._started < THROTTLE_S:
            return
        self._start_load()

    def on_board_changed(self, _message: BoardChanged) -> None:
        self._show_board()
        self.reload()

    def action_reload(self) -> None:
        self._show_board()
        self._start_load()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker is not self._worker:
            return
        if event.state is WorkerState.SUCCESS and isinstance(event.worker.result, MiningLoaded):
            self._show(event.worker.result)
        elif event.state is WorkerState.ERROR:
            self.notify(
                f"could not read the history: {event.worker.error}", severity="error", markup=False
            )

    def _show(self, loaded: MiningLoaded) -> None:
        self.loaded = loaded
        self.query_one("#mn-hashprice", SeriesChart).data = loaded.hashprice
        self.query_one("#mn-hashrate", SeriesChart).data = loaded.hashrate
        box = self.query_one("#mn-adjustments", Static)
        if not loaded.adjustments:
            box.update(literal(loaded.adjustments_note, "$missing"))
            return
        lines = [adjustment_line(a) for a in loaded.adjustments]
        lines.append(literal(loaded.adjustments_note, "dim italic"))
        box.update(Content("\n").join(lines))

    def _show_title(self) -> None:
        ranges = Content(" ").join(
            literal(r, "reverse" if r == self.range else "dim") for r in RANGES
        )
        head = Content.assemble(("Mining", "bold"), "  ", ("mempool.space", "dim"))
        self.query_one("#mn-title", Static).update(Content.assemble(head, "   ", ranges))

    def action_range(self, step: int) -> None:
        """Switch the charts between 1M and 3M."""
        self.range = RANGES[(RANGES.index(self.range) + step) % len(RANGES)]
        self._show_title()
        self._start_load()
