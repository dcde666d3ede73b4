"""The Backtest screen: the checklist over stored daily history, and what price did next."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, Final

from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.markup import parse_style
from textual.screen import Screen
from textual.widgets import DataTable, Footer, OptionList, Static
from textual.widgets.option_list import Option
from textual.worker import Worker, WorkerState

from tui.core import backtest, paths
from tui.core.backtest import Backtest, DailyIndex, Knob
from tui.core.config import Settings
from tui.core.rules import Rule, configured
from widgets.backtest_chart import BacktestChart
from widgets.literal import literal

if TYPE_CHECKING:
    from textual.theme import Theme

    from tui.core.analytics import History

#: Each table row's glyph and theme variable (every state is also a word).
ROW_STYLE: Final[dict[str, tuple[str, str]]] = {
    "holding": ("▲", "$bullish"),
    "contested": ("●", "$neutral"),
    "retest risk": ("▼", "$bearish"),
    "all judged": ("Σ", "bold"),
}
COLUMNS: Final = (
    "verdict",
    "days",
    *(f"{h}d {name}" for h in backtest.HORIZONS for name in ("n", "median", "neg", "worst")),
)


class BacktestScreen(Screen[None]):
    """The checklist's verdict at every UTC day close of the stored history, the forward
    returns per call, and thresholds to vary; every run in a thread worker."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back", id="back"),
        Binding("plus,equals_sign", "nudge(1)", "Threshold +", key_display="+"),
        Binding("minus", "nudge(-1)", "Threshold −", key_display="-"),
        Binding("0", "reset", "Reset", id="reset-thresholds"),
        Binding("e", "export('csv')", "Export CSV", id="export-csv"),
        Binding("E", "export('parquet')", "Export Parquet", id="export-parquet", show=False),
    ]

    DEFAULT_CSS = """
    BacktestScreen {
        #bt-title { height: auto; padding: 0 1; background: $panel; }
        #bt-chart { height: 1fr; min-height: 8; padding: 0 1; }
        #bt-table { height: auto; max-height: 7; }
        #bt-note { height: auto; padding: 0 1; color: $text-muted; }
        #bt-knobs-title { height: auto; padding: 0 1; text-style: bold; }
        #bt-knobs { height: 8; }
    }
    """

    def __init__(
        self,
        history: History,
        settings: Settings,
        now: datetime | Callable[[], datetime],
        *,
        since: datetime | None = None,
    ) -> None:
        """The backtest of ``history``.

        Args:
            history: the store (read in thread workers only, once: then kept in memory).
            settings: the pivot and the configured rules, the starting thresholds.
            now: the last close judged is the one at or before it (the demo's clock in a demo).
            since: the first day judged follows it; by default the first stored price's day.
        """
        super().__init__()
        self._history = history
        self._settings = settings
        self._now = now if callable(now) else (lambda: now)
        self._since = since
        self._index: DailyIndex | None = None
        self.configured: tuple[Rule, ...] = configured(settings.rules)
        """The rules as configured: ``0`` returns to them."""
        self.rules: tuple[Rule, ...] = self.configured
        """The rules judged, thresholds varied."""
        self.pivot: float = settings.pivot
        self.result: Backtest | None = None
        """The last backtest shown (tests read it)."""
        self.exported: list[Path] = []
        self._worker: Worker[Backtest] | None = None

    def compose(self) -> ComposeResult:
        yield Static(id="bt-title")
        yield BacktestChart(id="bt-chart")
        yield DataTable(id="bt-table", cursor_type="row", zebra_stripes=True)
        yield Static(id="bt-note")
        yield Static(id="bt-knobs-title")
        yield OptionList(id="bt-knobs")
        yield Footer()

    def on_mount(self) -> None:
        self.app.theme_changed_signal.subscribe(self, self._theme_changed)
        table = self.query_one("#bt-table", DataTable)
        for name in COLUMNS:
            table.add_column(name, key=name)
        self._title("judging every UTC day close…")
        self._show_knobs()
        self.query_one("#bt-knobs", OptionList).focus()
        self._start()

    # -- running -------------------------------------------------------------------------------

    def _start(self) -> None:
        history, rules, now, since = self._history, self.rules, self._now(), self._since
        settings = replace(self._settings, pivot=self.pivot)
        index = self._index

        def work() -> Backtest:
            nonlocal index
            if index is None:
                index = DailyIndex(history)
                self._index = index  # kept: a varied threshold re-runs without reading again
            start = since or backtest.default_since(index) or now
            return backtest.run(index, rules, since=start, until=now, settings=settings)

        self._worker = self.run_worker(
            work, name="backtest", group="backtest", thread=True, exclusive=True,
            exit_on_error=False,
        )  # fmt: skip

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if worker.group == "backtest-export":
            self._exported(worker)
        elif worker is self._worker:
            if event.state is WorkerState.SUCCESS and isinstance(worker.result, Backtest):
                self._show(worker.result)
            elif event.state is WorkerState.ERROR:
                self._title(f"the backtest failed: {worker.error}")

    # -- showing -------------------------------------------------------------------------------

    def _title(self, status: str) -> None:
        head = Content.assemble(
            literal("Backtest", "bold"), "  ", literal("History, not advice", "bold $warning")
        )
        self.query_one("#bt-title", Static).update(head + literal(f" · {status}"))

    def _show(self, bt: Backtest) -> None:
        self.result = bt
        self._title(backtest.header(bt).removeprefix("History, not advice · "))
        self.query_one(BacktestChart).data = backtest.timeline(bt)
        self._fill_table()
        self.query_one("#bt-note", Static).update(literal(backtest.no_price_note(bt)))
        self._show_knobs()

    def _theme_changed(self, _theme: Theme) -> None:
        self._fill_table()

    def _style(self, style: str) -> Style:
        return parse_style(style, self.app.theme_variables).rich_style

    def _fill_table(self) -> None:
        bt = self.result
        if bt is None:
            return
        table = self.query_one("#bt-table", DataTable)
        table.clear()
        for s in bt.table:
            glyph, style = ROW_STYLE[s.state]
            cells: list[Text] = [Text(f"{glyph} {s.state}", style=self._style(style))]
            cells.append(Text(str(s.days), justify="right"))
            for f in s.forward:
                worst = self._style("$bearish") if f.worst is not None and f.worst < 0 else ""
                cells += [
                    Text(str(f.count), justify="right"),
                    Text(backtest.pct(f.median), justify="right"),
                    Text(backtest.share(f.share_negative), justify="right"),
                    Text(backtest.pct(f.worst), style=worst, justify="right"),
                ]
            table.add_row(*cells, key=s.state)

    def _show_knobs(self) -> None:
        knobs = backtest.knobs(self.rules, self.pivot)
        base = {k.key: k.value for k in backtest.knobs(self.configured, self._settings.pivot)}
        changed = sum(1 for k in knobs if base.get(k.key) != k.value)
        title = "Thresholds · ↑↓ pick · + / − nudge and run again · 0 back to the config"
        title += f" · {changed} changed" if changed else ""
        self.query_one("#bt-knobs-title", Static).update(literal(title))
        options = self.query_one("#bt-knobs", OptionList)
        highlighted = options.highlighted
        options.set_options(
            Option(
                literal(k.label, "bold $warning" if base.get(k.key) != k.value else ""), id=k.key
            )
            for k in knobs
        )
        options.highlighted = min(highlighted or 0, len(knobs) - 1)

    # -- actions -------------------------------------------------------------------------------

    def _knob(self) -> Knob | None:
        options = self.query_one("#bt-knobs", OptionList)
        if options.highlighted is None:
            return None
        key = options.get_option_at_index(options.highlighted).id
        return next((k for k in backtest.knobs(self.rules, self.pivot) if k.key == key), None)

    def action_nudge(self, steps: int) -> None:
        """Move the highlighted threshold by ``steps`` of its step, and judge every day again."""
        knob = self._knob()
        if knob is None:
            return
        value = knob.moved(steps)
        if knob.key == backtest.PIVOT_KNOB:
            self.pivot = value
        else:
            self.rules = backtest.nudged(self.rules, knob.key, value)
        self._show_knobs()
        self._title("judging every UTC day close again…")
        self._start()

    def action_reset(self) -> None:
        """Back to the configured thresholds and pivot."""
        self.rules, self.pivot = self.configured, self._settings.pivot
        self._show_knobs()
        self._start()

    def action_export(self, fmt: str) -> None:
        """Write the table to ``<data dir>/exports/backtest-<UTC time>.<csv|parquet>``."""
        bt = self.result
        if bt is None:
            return
        stamp = f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}"
        path = paths.data_dir() / "exports" / f"backtest-{stamp}.{fmt}"

        def write() -> Path:
            from tui.core import export

            path.parent.mkdir(parents=True, exist_ok=True)
            return export.export_table(bt, path)

        self.run_worker(
            write, name=f"export {fmt}", group="backtest-export", thread=True, exit_on_error=False
        )

    def _exported(self, worker: Worker[object]) -> None:
        if worker.state is WorkerState.SUCCESS and isinstance(worker.result, Path):
            self.exported.append(worker.result)
            path = worker.result
            self.notify(f"{path.name}\nin {path.parent}", title="exported", markup=False)
        elif worker.state is WorkerState.ERROR:
            self.notify(
                f"export failed: {worker.error}", title="export", severity="error", markup=False
            )
