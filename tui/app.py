"""BtcwatchApp: wiring only. The engine runs in a worker; its updates arrive as messages."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, ClassVar

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from themes import DEFAULT_THEME, SEMANTIC_DEFAULTS, THEMES
from tui import alerting, terminal
from tui.core import views
from tui.core.alerts import AlertTracker
from tui.core.model import Board, RuleResult, Update
from tui.core.store import Store
from tui.feed import RecorderFeed
from tui.keys import HELP_KEYS, PALETTE
from tui.messages import BoardLoaded, EngineStopped, EngineUpdated
from tui.navigation import backtest_screen, bucket_screen, drilldown_screen
from tui.painting import CHART_EVERY_S, PAINT_EVERY_S, Painting
from tui.screens.dashboard import DashboardScreen
from tui.session import (
    REPLAY_MIN_REAL_INTERVAL_S,
    Session,
    build_engine,
    first_board,
    head_board,
    open_store,
)
from tui.terminal import HANG_UP_GRACE_S, TERMINAL_CHECK_S
from widgets.bucket_pane import BucketPane

if TYPE_CHECKING:
    from tui.core.engine import Engine
    from tui.core.follower import Follower

__all__ = [
    "CHART_EVERY_S",
    "ENGINE_STOP_S",
    "HANG_UP_GRACE_S",
    "PAINT_EVERY_S",
    "REPLAY_MIN_REAL_INTERVAL_S",
    "TERMINAL_CHECK_S",
    "BtcwatchApp",
    "Session",
]

#: On quit, how long the engine may take to stop and write what it has queued.
ENGINE_STOP_S = 2.0


class BtcwatchApp(RecorderFeed, Painting, App[None]):
    """The btcwatch terminal app."""

    TITLE = "btcwatch"
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
        self._board = head_board(session) if board is None else board
        self._engine: Engine | Follower | None = None
        self._closing = False
        self._notices: tuple[str, ...] = ()
        self._store_problem: str | None = None
        self._alerts = AlertTracker(session.settings.muted)
        self._judged: tuple[RuleResult, ...] = ()
        self._dashboard: DashboardScreen | None = None
        for theme in THEMES:
            self.register_theme(theme)
        # Before the app runs there is no stylesheet to re-parse: Textual's theme watcher would
        # re-parse it all anyway (a start-up cost). Set the theme and what the watcher would:
        # the stylesheet's variables, the theme's classes and the ANSI colour filter.
        self.set_reactive(App.theme, DEFAULT_THEME)
        self.stylesheet.set_variables(self.get_css_variables())
        dark = self.current_theme.dark
        self.update_classes(
            {f"-theme-{DEFAULT_THEME}": True, "-dark-mode": dark, "-light-mode": not dark},
            update=False,
        )
        self._refresh_truecolor_filter(self.ansi_theme)

    def get_theme_variable_defaults(self) -> dict[str, str]:
        """btcwatch's semantic colours, so every theme (built-in ones too) has them."""
        return {**super().get_theme_variable_defaults(), **SEMANTIC_DEFAULTS}

    def get_default_screen(self) -> DashboardScreen:
        """The dashboard is the app's first screen (as Textual's default screen: a mode screen
        would make Textual re-parse the whole stylesheet once more at start-up)."""
        has_source = {b.key for b in views.BUCKETS}  # every bucket has its sources now
        self._dashboard = DashboardScreen(
            self.session.settings, sorted(has_source), self.session.label, self._board
        )
        return self._dashboard

    @property
    def dashboard(self) -> DashboardScreen:
        """The dashboard screen (the bottom of the screen stack)."""
        assert self._dashboard is not None, "the app has not started"
        return self._dashboard

    def on_mount(self) -> None:
        terminal.watch_terminal(self)
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
        store = self._store
        if store is None:
            store = self._store = open_store(self.session)
        board, notices, recorder = first_board(self.session, store, self._board)
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
        return build_engine(self.session, store)

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
            alerts = self._alerts.update(self._board)
            # Following a recorder: the recorder runs the command, once per machine.
            run_commands = self._following() is None
            alerting.announce(self, alerts, self.session.settings, run_commands=run_commands)
        self._paint_soon()

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
        from tui.core.sources import registry

        self.push_screen(HelpScreen(HELP_KEYS, views.BUCKETS, registry.ALL))

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
        for title, help_, action in PALETTE:
            callback: Callable[[], None] = getattr(self, f"action_{action}")
            yield SystemCommand(title, help_, callback)
        for info in views.BUCKETS:
            yield SystemCommand(
                f"Open {info.title}", info.about, lambda key=info.key: self.open_bucket(key)
            )
