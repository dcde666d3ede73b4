"""BtcwatchApp: wiring only. The engine runs in a worker; its updates arrive as messages."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.resources.abc import Traversable
from pathlib import Path
from time import monotonic
from typing import TYPE_CHECKING, ClassVar

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from themes import DEFAULT_THEME, SEMANTIC_DEFAULTS, THEMES
from tui.core import paths, views
from tui.core.alerts import Alert, AlertTracker
from tui.core.config import Settings
from tui.core.model import Board, Mode, RuleResult, Update
from tui.core.store import Store
from tui.messages import BoardChanged, BoardLoaded, EngineStopped, EngineUpdated
from tui.navigation import backtest_screen, bucket_screen, drilldown_screen
from tui.screens.dashboard import DashboardScreen
from widgets.bucket_pane import BucketPane

if TYPE_CHECKING:
    import httpx

    from tui.core.clock import Clock
    from tui.core.engine import Engine
    from tui.core.follower import Follower
    from tui.core.panes.catalog import Series

#: Redraw the chart and the day's high tests at most this often (seconds of real time): the
#: chart gains a point every 15 s live, and plotting is the costliest thing the UI does.
CHART_EVERY_S: dict[Mode, float] = {"live": 10.0, "demo": 15.0, "replay": 15.0}
#: Paint the dashboard at most this often; a burst of updates becomes one paint of the newest.
#: Live, updates are seconds apart and each shows at once; a 960× demo would repaint all the
#: time, and every paint costs ~10 ms of the UI thread (the idle budget is 2 % of a core).
PAINT_EVERY_S: dict[Mode, float] = {"live": 0.25, "demo": 5.0, "replay": 5.0}
#: How often to check that the controlling terminal is still there (seconds).
TERMINAL_CHECK_S = 5.0
#: On quit, how long the engine may take to stop and write what it has queued.
ENGINE_STOP_S = 2.0
#: After a hang-up, how long a clean shutdown may take before the process just ends.
HANG_UP_GRACE_S = 3.0
#: In a replay, no endpoint is polled more often than this in real time (keeps a 960× demo idle).
REPLAY_MIN_REAL_INTERVAL_S = 5.0


@dataclass(frozen=True, slots=True)
class Session:
    """What to run: live polling, or a recording played back (the demo is one)."""

    settings: Settings
    mode: Mode = "live"
    label: str = ""
    """Banner text; demo and replay always have one."""
    recording: Path | Traversable | None = None
    speed: float = 1.0
    loop: bool = False
    poll: bool = True
    """False: paint what the store has and never poll (tests, snapshots)."""


class BtcwatchApp(App[None]):
    """The btcwatch terminal app."""

    TITLE = "btcwatch"
    # The app starts in the dashboard mode itself: no throwaway default screen, no switch (each
    # switch re-applies the whole stylesheet, a tenth of a second at start-up).
    DEFAULT_MODE = "dashboard"
    CSS_PATH = "../themes/btcwatch.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit"),
        Binding("question_mark,f1", "help", "Help", key_display="?"),
        Binding("r", "refresh", "Refresh"),
        Binding("p", "pause", "Pause"),
        Binding("R", "restart_engine", "Restart engine", show=False),
        Binding("enter", "drill", "Drill down"),
        Binding("b", "backtest", "Backtest", show=False),
    ]

    def __init__(
        self, session: Session, *, store: Store | None = None, board: Board | None = None
    ) -> None:
        super().__init__()
        self.session = session
        self._store = store
        self._own_store = store is None
        """The app opened the store itself, so it closes it."""
        if board is None and session.recording is not None:
            # A price in the first frame: the spot sources' first answers, in milliseconds. The
            # engine's first round brings the rest at once (parsing every source's first answer
            # here too would double the work and hold up the first frame: an ETF page is 50 kB).
            from tui.core.seed import board_from_head
            from tui.core.sources.spot import SPOT

            board = board_from_head(session.recording, SPOT, session.settings.pivot, session.mode)
        self._board = board
        self._engine: Engine | Follower | None = None
        self._follower: Follower | None = None
        """The recorder-following feed built at boot (the engine while it is followed)."""
        self._writer: Store | None = None
        """The history opened for writing after a recorder stopped and ``r`` polled here."""
        self._feed_live: bool | None = None
        """Whether the recorder followed was live at the last update (``None``: not following)."""
        self._closing = False
        self._notices: tuple[str, ...] = ()
        self._store_problem: str | None = None
        self._chart_at = 0.0
        self._chart_empty = True
        self._painted_at = 0.0
        self._paint_due = False
        self._shown_price = False
        self._today: list[tuple[datetime, float]] = []
        self._series: Series = {}
        self._alerts = AlertTracker(session.settings.muted)
        self._judged: tuple[RuleResult, ...] = ()
        has_source = {b.key for b in views.BUCKETS}  # every bucket has its sources now
        self.add_mode(
            "dashboard",
            lambda: DashboardScreen(
                session.settings, sorted(has_source), session.label, self._board
            ),
        )
        for theme in THEMES:
            self.register_theme(theme)
        self.theme = DEFAULT_THEME

    def get_theme_variable_defaults(self) -> dict[str, str]:
        """btcwatch's semantic colours, so every theme (built-in ones too) has them."""
        return {**super().get_theme_variable_defaults(), **SEMANTIC_DEFAULTS}

    @property
    def dashboard(self) -> DashboardScreen:
        """The dashboard screen (the base of the dashboard mode)."""
        screen = self.get_screen_stack("dashboard")[0]
        assert isinstance(screen, DashboardScreen)
        return screen

    def on_mount(self) -> None:
        # A dropped SSH session sends SIGHUP: leave cleanly (no handler on non-Unix loops).
        with contextlib.suppress(NotImplementedError, RuntimeError):
            asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, self._hang_up)
        if sys.__stdin__ is not None and sys.__stdin__.isatty():
            self.set_interval(TERMINAL_CHECK_S, self._check_terminal)
        # After the first frame: the boot thread's imports would otherwise slow it down.
        self.call_after_refresh(self._boot)

    async def on_unmount(self) -> None:
        # Stop polling before the store closes: the engine writes what it has queued on its way
        # out, so quitting loses no reading it already had. A boot still under way (quit in the
        # first second) finishes first, and starts no engine.
        self._closing = True
        for group in ("boot", "engine"):
            workers = [w for w in self.workers if w.group == group and not w.is_finished]
            for worker in workers:
                if group == "engine":
                    worker.cancel()
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(worker.wait(), ENGINE_STOP_S)
        if self._own_store and self._store is not None:
            self._store.close()
        if self._writer is not None:
            self._writer.close()

    # -- start-up: cached readings first, then the engine -----------------------------------

    @work(thread=True, exit_on_error=False, group="boot")
    def _boot(self) -> None:
        """Paint the store's latest readings, then build the engine: all off the UI thread."""
        from tui.core.seed import board_from_store
        from tui.core.sources import registry

        store = self._store
        if store is None:
            path = paths.store_file() if self.session.mode == "live" else None
            store = Store.open(path, self.session.settings.retention)
            self._store = store
        board = self._board
        session = self.session
        if board is None:
            board = board_from_store(store, registry.ALL, session.mode, datetime.now(UTC))
        notices = tuple(n for n in (*self.session.settings.warnings, store.notice) if n)
        recorder = None
        if self.session.poll and self.session.mode == "live" and store.read_only:
            from tui.core.follower import live_recorder

            recorder = live_recorder(paths.data_dir())
        if recorder is not None:
            # A recorder writes the history: read from it, ask no provider (the strip says so).
            notices = tuple(n for n in notices if n != store.notice)
        self.post_message(BoardLoaded(board, notices))
        if self.session.poll:
            engine: Engine | Follower
            if recorder is None:
                engine = self._build_engine(store)
            else:
                from tui.core.follower import Follower

                engine = self._follower = Follower(self.session.settings, store)
            engine.adopt(board)  # what the first frame showed: the store is not read twice
            self.call_from_thread(self._run_engine, engine)

    def _build_engine(self, store: Store) -> Engine:
        """Import the engine (httpx) and read the recording, if any (blocking: a thread)."""
        from tui.core.engine import Engine

        clock, transport = self._clock_and_transport()
        engine = Engine(
            self.session.settings,
            clock,
            store,
            transport=transport,
            mode=self.session.mode,
            min_real_interval_s=REPLAY_MIN_REAL_INTERVAL_S,
        )
        return engine

    def on_board_loaded(self, message: BoardLoaded) -> None:
        self._board = message.board
        self._notices = message.notices
        for notice in message.notices:  # they quote file paths and SQLite's words: no markup
            self.notify(notice, severity="warning", timeout=10, markup=False)
        self._paint(force_chart=True)

    @work(exclusive=True, exit_on_error=False, group="engine")
    async def _run_engine(self, engine: Engine | Follower) -> None:
        """Poll until cancelled; every update becomes a message."""
        if self._closing:  # the boot thread finished after the quit began
            await engine.aclose()
            return
        self._engine = engine

        def publish(update: Update) -> None:
            self.post_message(EngineUpdated(update))

        await engine.run(publish)

    def _clock_and_transport(self) -> tuple[Clock, httpx.AsyncBaseTransport | None]:
        """The engine's clock and transport: the network, or the session's recording."""
        from tui.core.clock import ReplayClock, SystemClock

        if self.session.recording is None:
            return SystemClock(), None
        from tui.core.recording import read_recording
        from tui.core.replay import ReplayTransport

        recording = read_recording(self.session.recording)
        clock = ReplayClock(recording.start, self.session.speed)
        return clock, ReplayTransport(recording, clock, loop=self.session.loop)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group in ("engine", "boot") and event.state is WorkerState.ERROR:
            error = event.worker.error
            self.post_message(EngineStopped(f"{type(error).__name__}: {error}"))

    def on_engine_stopped(self, message: EngineStopped) -> None:
        self._engine = None
        self.notify(
            f"polling stopped: {message.error} — press R to restart",
            title="engine error",
            severity="error",
            timeout=30,
            markup=False,
        )

    # -- updates -------------------------------------------------------------------------------

    def on_engine_updated(self, message: EngineUpdated) -> None:
        self._board = message.update.board
        # A follower reads another btcwatch's history: only an engine writes it.
        problem: str | None = getattr(self._engine, "store_problem", None)
        if problem is not None and problem != self._store_problem:
            self.notify(problem, title="history", severity="warning", timeout=30, markup=False)
        self._store_problem = problem
        follower = self._following()
        if follower is not None:
            self._show_feed(follower)
        if self._board.checklist is not self._judged:
            self._judged = self._board.checklist
            self._alert(self._alerts.update(self._board))
        wait = PAINT_EVERY_S[self.session.mode] - (monotonic() - self._painted_at)
        first_price = not self._shown_price and self._board.reading("btc.price") is not None
        if wait <= 0 or first_price:
            self._paint()
        elif not self._paint_due:
            # A burst of updates becomes one paint: the newest Board, shortly.
            self._paint_due = True
            self.set_timer(wait, self._paint)

    def _following(self) -> Follower | None:
        """The recorder feed, while it is what this dashboard reads from."""
        follower = self._follower
        return follower if follower is not None and self._engine is follower else None

    def _show_feed(self, follower: Follower) -> None:
        """The strip says where the data comes from; a toast when the recorder stops or is back."""
        self.dashboard.set_feed(follower.feed, lost=not follower.live)
        if self._feed_live is not None and follower.live != self._feed_live:
            if follower.live:
                self.notify(follower.feed, title="recorder", markup=False, timeout=10)
            else:
                self.notify(
                    follower.feed, title="recorder", severity="warning", markup=False, timeout=30
                )
        self._feed_live = follower.live

    def _alert(self, alerts: list[Alert]) -> None:
        """Flips: one toast, the bell (it reaches a terminal over SSH), the user's command each."""
        if not alerts:
            return
        title = "checklist flip" if len(alerts) == 1 else f"{len(alerts)} checklist flips"
        self.notify("\n".join(a.text() for a in alerts), title=title, timeout=10, markup=False)
        settings = self.session.settings
        if settings.alert_bell:
            self.bell()
        for alert in alerts:
            # Following a recorder: the recorder runs the command, once per machine.
            if settings.alert_command and self._following() is None:
                self._run_alert_command(settings.alert_command, alert)

    @work(thread=True, group="alerts", exit_on_error=False)
    def _run_alert_command(self, command: str, alert: Alert) -> None:
        from tui.core.alerts import run_command

        problem = run_command(command, alert)
        if problem is not None:
            self.call_from_thread(
                self.notify, problem, title="alert", severity="warning", markup=False
            )

    def _paint(self, *, force_chart: bool = False) -> None:
        self._paint_due = False
        self._painted_at = monotonic()
        if self._closing or self._board is None or self.current_mode != "dashboard":
            return
        self._shown_price = self._board.reading("btc.price") is not None
        self.dashboard.show_board(self._board, self._today, self._series)
        # An empty chart is retried on every paint, so the first history shows at once.
        due = monotonic() - self._chart_at >= CHART_EVERY_S[self.session.mode]
        if force_chart or self._chart_empty or due:
            self._chart_at = monotonic()
            self._load_chart(self.dashboard.chart_range, self._board.generated_at)
        # Whatever screen is on top may care (a drill-down reloads itself, throttled).
        self.screen.post_message(BoardChanged())

    @work(thread=True, exclusive=True, group="chart", exit_on_error=False)
    def _load_chart(self, range_: views.ChartRange, now: datetime) -> None:
        """Read the chart and today's series from the store (a thread: never on the UI)."""
        if self._store is None:
            return
        data = views.load_chart(self._store, self.session.settings, range_, now)
        today = views.today_series(self._store, now)
        from tui.core.panes.catalog import load_series  # a thread, after the first frame

        series = load_series(self._store, now)
        self.call_from_thread(self._show_chart, data, today, series)

    def _show_chart(
        self, data: views.ChartData, today: list[tuple[datetime, float]], series: Series
    ) -> None:
        self._today = today
        self._series = series
        self._chart_empty = not data.points
        self.dashboard.show_chart(data)
        if self._board is not None:
            self.dashboard.show_board(self._board, today, series)

    def on_dashboard_screen_range_changed(self, message: DashboardScreen.RangeChanged) -> None:
        if self._board is not None:
            self._load_chart(message.range, self._board.generated_at)

    # -- actions -------------------------------------------------------------------------------

    def on_bucket_pane_selected(self, message: BucketPane.Selected) -> None:
        self.open_bucket(message.key)

    def action_bucket_view(self, key: str) -> None:
        """Push bucket ``key``'s own screen: funding, the option chain, the ETF table, ..."""
        if (latest := self._latest()) is not None and self._store is not None:
            screen = bucket_screen(key, latest, self._store, self.session.settings)
            if screen is not None:
                self.push_screen(screen)

    def open_bucket(self, key: str) -> None:
        """Push the drill-down of bucket ``key``."""
        if (latest := self._latest()) is not None and self._store is not None:
            self.push_screen(drilldown_screen(key, latest, self._store, self.session.settings))

    def _latest(self) -> Callable[[], Board] | None:
        """The newest Board, for a screen that stays open (``None`` before the first one)."""
        first = self._board
        if first is None:
            return None
        return lambda: self._board or first

    def action_drill(self) -> None:
        """Enter on the focused pane."""
        focused = self.focused
        if isinstance(focused, BucketPane):
            self.open_bucket(focused.info.key)

    def action_help(self) -> None:
        """Every key, every pane, every source."""
        from tui.screens.help import HelpScreen  # on first use: not at start-up

        if isinstance(self.screen, HelpScreen):
            return
        keys = [
            ("q", "quit"),
            ("? / F1", "this help"),
            ("r", "refresh now (every source at once; via the recorder if one runs)"),
            ("p", "pause / resume polling (a paused demo stops its clock; this view only)"),
            ("Tab / arrows / 1-8 / mouse", "focus a pane"),
            ("Enter", "drill down into the focused pane's sources; on the checklist, every row"),
            ("v", "in a drill-down: the bucket's own screen (funding, option chain, ETF, ...)"),
            ("Enter / v", "on the checklist screen: a row's history / the verdict's"),
            ("/ · e · E", "in a history: any reading · export CSV · export JSON"),
            ("b", "backtest: the checklist over the stored daily history (history, not advice)"),
            ("Esc", "back"),
            ("[ / ]", "chart range: 1D, 1W, 1M, 3M"),
            ("Ctrl+P", "command palette: theme, pause, refresh, open a bucket"),
            ("R", "restart polling after an engine error"),
        ]
        from tui.core.sources import registry

        self.push_screen(HelpScreen(keys, views.BUCKETS, registry.ALL))

    def action_refresh(self) -> None:
        """Ask every source now (through the recorder, if one is followed; after it stopped,
        poll from here)."""
        engine, follower = self._engine, self._following()
        if follower is not None and not follower.live:
            self._poll_here()
        elif engine is not None:
            engine.refresh_now()
            who = "the recorder is " if follower is not None else ""
            self.notify(f"{who}refreshing every source", timeout=2)

    @work(thread=True, exit_on_error=False, group="boot")
    def _poll_here(self) -> None:
        """The recorder stopped: take the history's writer lock and poll from this btcwatch.
        Views keep the read-only store, which sees every write (WAL)."""
        writer = Store.open(paths.store_file(), self.session.settings.retention)
        if writer.read_only or writer.in_memory:
            writer.close()
            self.call_from_thread(
                self.notify, f"cannot poll here: {writer.notice}", severity="warning", markup=False
            )
            return
        self._writer = writer
        engine = self._build_engine(writer)
        if self._board is not None:
            engine.adopt(self._board)
        self.call_from_thread(self._start_polling, engine)

    def _start_polling(self, engine: Engine) -> None:
        self._feed_live = None
        self.dashboard.set_feed("")
        self.notify("polling from here", timeout=3)
        self._run_engine(engine)  # exclusive: the follower's worker is cancelled

    def action_backtest(self) -> None:
        """The Backtest screen (it reads the history in a thread of its own)."""
        if (latest := self._latest()) is not None and self._store is not None:
            self.push_screen(backtest_screen(latest, self._store, self.session.settings))

    def action_pause(self) -> None:
        """Pause or resume polling; the status strip says which."""
        engine = self._engine
        if engine is None:
            return
        engine.resume() if engine.paused else engine.pause()
        self.dashboard.set_paused(engine.paused)

    def action_restart_engine(self) -> None:
        """Start polling again after an engine error."""
        if self._engine is None and self.session.poll and self._store is not None:
            self._rebuild_engine(self._store)

    @work(thread=True, exit_on_error=False, group="boot")
    def _rebuild_engine(self, store: Store) -> None:
        engine = self._build_engine(store)
        if self._board is not None:
            engine.adopt(self._board)
        self.call_from_thread(self._run_engine, engine)

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        """The command palette: Textual's own (theme, keys, quit) plus btcwatch's."""
        yield from super().get_system_commands(screen)
        yield SystemCommand(
            "Pause / resume polling", "Stop or restart every source", self.action_pause
        )
        yield SystemCommand("Refresh now", "Ask every source at once", self.action_refresh)
        yield SystemCommand(
            "Backtest the checklist",
            "Verdicts over the stored daily history and what price did next",
            self.action_backtest,
        )
        for info in views.BUCKETS:
            yield SystemCommand(
                f"Open {info.title}", info.about, lambda key=info.key: self.open_bucket(key)
            )

    def _check_terminal(self) -> None:
        """Exit when the controlling terminal has gone (an SSH session that dropped)."""
        try:
            alive = sys.__stdin__ is not None and os.isatty(sys.__stdin__.fileno())
            os.get_terminal_size(sys.__stdout__.fileno() if sys.__stdout__ else 1)
        except (OSError, ValueError):
            alive = False
        if not alive:
            self._hang_up()

    def _hang_up(self) -> None:
        """The terminal is gone: exit. Textual's shutdown can block writing to a dead terminal
        (seen here: the writer queue never drains), so a timer ends the process regardless;
        nothing is lost, the store commits as it goes."""
        watchdog = threading.Timer(HANG_UP_GRACE_S, os._exit, args=(129,))
        watchdog.daemon = True
        watchdog.start()
        self.exit(return_code=129)
