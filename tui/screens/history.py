"""The signal-history explorer: a series over 1D-all with its thresholds, every flip, exports."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import ClassVar, Final

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen, Screen
from textual.widgets import Footer, OptionList, Static
from textual.widgets.option_list import Option
from textual.worker import Worker, WorkerState

from tui.core import history
from tui.core.config import Settings
from tui.core.history import ExportFormat, Flip, HistoryChart, HistoryRange
from tui.core.model import Observation, RowState
from tui.core.panes.checklist import STATE_GLYPH, STATE_TONE
from tui.core.store import Store
from tui.messages import BoardChanged
from widgets.literal import literal
from widgets.series_chart import SeriesChart

#: The least time between two reloads on new data (each reads the store and re-plots).
THROTTLE_S: Final = 5.0
#: Keys 1..9 pick a row's series: its state, then its inputs.
MAX_SERIES: Final = 9


@dataclass(frozen=True, slots=True)
class _Series:
    id: str
    source: str
    label: str


@dataclass(frozen=True, slots=True)
class _Loaded:
    chart: HistoryChart
    flips: tuple[Flip, ...] | None
    """``None`` for a series that is not a checklist row's."""


def _state_word(state: RowState | None) -> Content:
    if state is None:
        return literal("first judged", "$text-muted")
    return literal(f"{STATE_GLYPH[state]} {state.value}", f"${STATE_TONE[state]}")


def flip_content(flip: Flip) -> Content:
    """``06 Feb 14:00 UTC  ● neutral → ▲ bullish confirmed``, then the readings at that moment."""
    head = Content.assemble(
        literal(f"{flip.at.astimezone(UTC):%d %b %H:%M} UTC  ", "bold"),
        _state_word(flip.previous),
        " → ",
        _state_word(flip.current),
    )
    return Content("\n").join([head, literal(f"  {history.flip_readings_text(flip)}", "dim")])


class IdPickerModal(ModalScreen[tuple[str, str] | None]):
    """Every stored reading id, to chart any of them."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss_none", "Back", id="back"),
    ]

    DEFAULT_CSS = """
    IdPickerModal {
        align: center middle;
        #picker { width: 80%; max-width: 100; height: 80%; border: round $border; }
        #picker-title { height: auto; padding: 0 1; text-style: bold; }
        #picker-list { height: 1fr; }
    }
    """

    def __init__(self, latest: list[Observation]) -> None:
        super().__init__()
        self._latest = latest

    def compose(self) -> ComposeResult:
        with Vertical(id="picker"):
            yield Static(
                Content(f"Chart a stored reading · {len(self._latest)} series · Enter picks"),
                id="picker-title",
            )
            options = [
                Option(
                    Content.assemble(
                        literal(o.id, "bold"),
                        literal(f"  {o.source}"),
                        literal(f"  {o.value:,.6g} {o.unit}", "$text-muted"),
                    ),
                    id=f"{o.id}\t{o.source}",
                )
                for o in self._latest
            ]
            yield OptionList(*options, id="picker-list")

    def on_mount(self) -> None:
        self.query_one("#picker-list", OptionList).focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        id_, _, source = (event.option.id or "").partition("\t")
        self.dismiss((id_, source))

    def action_dismiss_none(self) -> None:
        self.dismiss(None)


class HistoryScreen(Screen[None]):
    """One checklist row (its state and inputs) or any stored reading, over time.

    Every store read runs in a thread worker; the screen reloads on new data at most every
    :data:`THROTTLE_S`.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back", id="back"),
        Binding("left_square_bracket", "range(-1)", "Range", key_display="["),
        Binding("right_square_bracket", "range(1)", "Range", key_display="]", show=False),
        Binding("e", "export('csv')", "Export CSV", id="export-csv"),
        Binding("E", "export('json')", "Export JSON", id="export-json"),
        Binding("slash,o", "pick", "Any reading", key_display="/"),
        Binding("r", "reload", "Reload", show=False),
        *(
            Binding(str(n), f"series({n})", f"Series {n}", show=False)
            for n in range(1, MAX_SERIES + 1)
        ),
    ]

    DEFAULT_CSS = """
    HistoryScreen {
        #hs-title { height: auto; padding: 0 1; background: $panel; }
        #hs-series { height: auto; padding: 0 1; }
        #hs-chart { height: 2fr; min-height: 8; padding: 0 1; }
        #hs-flips-title { height: auto; padding: 0 1; text-style: bold; }
        #hs-flips { height: 1fr; min-height: 4; }
        &.-no-flips #hs-flips, &.-no-flips #hs-flips-title { display: none; }
    }
    """

    def __init__(
        self,
        store: Store,
        settings: Settings,
        key: str | tuple[str, str],
        *,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        """The history of ``key``.

        Args:
            store: the history (read in thread workers only).
            settings: the pivot and the rule overrides, for the thresholds drawn.
            key: a checklist row key (``funding``) or an ``(id, source)`` pair.
            now: the current time (the demo's clock in a demo); the wall clock by default.
        """
        super().__init__()
        self._store = store
        self._settings = settings
        self._now = now or (lambda: datetime.now(UTC))
        self.monotonic: Callable[[], float] = time.monotonic
        """The clock the reload throttle reads (tests replace it)."""
        self.range: HistoryRange = "1W"
        """The chart's range, cycled with ``[`` and ``]``."""
        self.row: str | None = None
        """The checklist row shown, if the key is one."""
        self.series: tuple[_Series, ...] = ()
        self.selected = 0
        """Which of :attr:`series` is charted."""
        self.loaded: _Loaded | None = None
        """The last load (tests read it)."""
        self.exported: list[Path] = []
        """Files written by ``e`` / ``E`` this visit."""
        self._worker: Worker[_Loaded] | None = None
        self._started: float | None = None
        self._set_key(key)

    def _set_key(self, key: str | tuple[str, str]) -> None:
        id_, source = history.target(key)
        row = key if isinstance(key, str) and history.is_row(key) else history.row_of(id_, source)
        self.row = row
        if row is None:
            self.series = (_Series(id_, source, id_),)
        else:
            ins = history.inputs(row, self._settings)
            self.series = (
                _Series(id_, source, "state"),
                *(_Series(i.id, i.source, i.what) for i in ins[: MAX_SERIES - 1]),
            )
        self.selected = 0
        self.loaded = None

    def compose(self) -> ComposeResult:
        yield Static(id="hs-title")
        yield Static(id="hs-series")
        yield SeriesChart(id="hs-chart")
        yield Static(id="hs-flips-title")
        yield OptionList(id="hs-flips")
        yield Footer()

    def on_mount(self) -> None:
        self._show_header()
        self.query_one("#hs-flips", OptionList).focus()
        self._start_load()

    # -- loading -------------------------------------------------------------------------------

    def _start_load(self) -> None:
        s = self.series[self.selected]
        store, settings, range_, row, now = (
            self._store, self._settings, self.range, self.row, self._now(),
        )  # fmt: skip

        def load() -> _Loaded:
            chart = history.load_chart(store, settings, s.id, s.source, range_, now)
            found = None if row is None else tuple(history.flips(store, row, None, settings))
            return _Loaded(chart, found)

        self._started = self.monotonic()
        self._worker = self.run_worker(
            load, name="history load", group="history", thread=True, exclusive=True,
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
        self.reload()

    def action_reload(self) -> None:
        self._start_load()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if worker.group == "history-export":
            self._export_done(worker)
        elif worker.group == "history-pick":
            self._pick_loaded(worker)
        elif worker is self._worker:
            if event.state is WorkerState.SUCCESS and isinstance(worker.result, _Loaded):
                self._show(worker.result)
            elif event.state is WorkerState.ERROR:
                self.notify(
                    f"could not read the history: {worker.error}", severity="error", markup=False
                )

    def _show(self, loaded: _Loaded) -> None:
        self.loaded = loaded
        self.query_one(SeriesChart).data = loaded.chart
        self.set_class(loaded.flips is None, "-no-flips")
        if loaded.flips is None:
            return
        flips = loaded.flips[::-1]  # newest first
        title = f"State flips · {len(flips)}" + (" · newest first" if flips else "")
        self.query_one("#hs-flips-title", Static).update(Content(title))
        options: list[Option] = [
            Option(flip_content(f), id=f"flip-{i}") for i, f in enumerate(flips)
        ]
        if not options:
            options = [Option(literal("no state stored yet for this row", "$missing"))]
        flip_list = self.query_one("#hs-flips", OptionList)
        highlighted = flip_list.highlighted
        flip_list.set_options(options)
        flip_list.highlighted = min(highlighted or 0, len(options) - 1)

    def _show_header(self) -> None:
        s = self.series[self.selected]
        if self.row is not None:
            title = history.rule(self.row, self._settings).title
            head = Content.assemble((title, "bold"), "  ", (f"checklist row {self.row}", "dim"))
        else:
            head = Content.assemble(literal(s.id, "bold"), "  ", literal(s.source, "dim"))
        ranges = Content(" ").join(
            literal(r, "reverse" if r == self.range else "dim") for r in history.HISTORY_RANGES
        )
        self.query_one("#hs-title", Static).update(Content.assemble(head, "   ", ranges))
        if len(self.series) > 1:
            picks = Content(" · ").join(
                literal(f"{n} {x.label}", "bold reverse" if n - 1 == self.selected else "")
                for n, x in enumerate(self.series, 1)
            )
            self.query_one("#hs-series", Static).update(picks)
        else:
            self.query_one("#hs-series", Static).update(literal("/ : chart another reading", "dim"))

    # -- actions -------------------------------------------------------------------------------

    def action_range(self, step: int) -> None:
        """Cycle the range: 1D → 1W → 1M → 3M → all."""
        ranges = history.HISTORY_RANGES
        self.range = ranges[(ranges.index(self.range) + step) % len(ranges)]
        self._show_header()
        self._start_load()

    def action_series(self, n: int) -> None:
        """Chart series ``n`` (1: the row's state, then each input)."""
        if not 1 <= n <= len(self.series) or n - 1 == self.selected:
            return
        self.selected = n - 1
        self._show_header()
        self._start_load()

    def action_export(self, fmt: ExportFormat) -> None:
        """Write the charted series over the range to the data dir's exports folder."""
        s = self.series[self.selected]
        store, range_, now = self._store, self.range, self._now()

        def write() -> Path:
            return history.write_export(store, s.id, s.source, range_, now, fmt)

        self.run_worker(
            write, name=f"export {fmt}", group="history-export", thread=True, exit_on_error=False
        )

    def _export_done(self, worker: Worker[object]) -> None:
        if worker.state is WorkerState.SUCCESS and isinstance(worker.result, Path):
            self.exported.append(worker.result)
            path = worker.result
            self.notify(f"{path.name}\nin {path.parent}", title="exported", markup=False)
        elif worker.state is WorkerState.ERROR:
            self.notify(
                f"export failed: {worker.error}", title="export", severity="error", markup=False
            )

    def action_pick(self) -> None:
        """Choose any stored reading (the list is read in a thread)."""
        store = self._store
        self.run_worker(
            store.latest, name="known ids", group="history-pick", thread=True, exit_on_error=False
        )

    def _pick_loaded(self, worker: Worker[object]) -> None:
        if worker.state is WorkerState.SUCCESS and isinstance(worker.result, list):
            self.app.push_screen(IdPickerModal(worker.result), self._picked)
        elif worker.state is WorkerState.ERROR:
            self.notify(f"could not list the readings: {worker.error}", markup=False)

    def _picked(self, choice: tuple[str, str] | None) -> None:
        if choice is None:
            return
        self._set_key(choice)
        self.query_one(SeriesChart).data = None
        self._show_header()
        self._start_load()
