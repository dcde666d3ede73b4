"""Painting: the dashboard shows the newest Board, throttled, and reloads its chart in a thread."""

from __future__ import annotations

from datetime import datetime
from time import monotonic
from typing import TYPE_CHECKING, Final

from textual import work

from tui.core import views
from tui.core.model import Mode
from tui.host import AppHost
from tui.messages import BoardChanged
from tui.screens.dashboard import DashboardScreen

if TYPE_CHECKING:
    from tui.core.panes.catalog import Series

#: Redraw the chart and the day's high tests at most this often (seconds of real time). Live, a
#: point comes every 15 s but the 1D chart's columns are ~15 minutes wide: a minute loses nothing,
#: and plotting is the costliest thing the UI does (the price itself shows at once in its pane).
CHART_EVERY_S: Final[dict[Mode, float]] = {"live": 60.0, "demo": 15.0, "replay": 15.0}
#: Paint the dashboard at most this often; a burst of updates becomes one paint of the newest.
#: Live, the spot venues answer within a second of each other every 15 s: one paint for the
#: round. A 960× demo would repaint all the time. A paint of the whole dashboard costs ~50 ms of
#: the UI thread at 120×40 (idle budgets: 2 % of a core for the demo, 0.5 % live).
PAINT_EVERY_S: Final[dict[Mode, float]] = {"live": 1.0, "demo": 5.0, "replay": 5.0}
#: After a quiet spell, how long an update waits for the rest of its burst before it is painted.
GATHER_S: Final[dict[Mode, float]] = {"live": 0.3, "demo": 0.0, "replay": 0.0}


class Painting(AppHost):
    """BtcwatchApp's part that paints the dashboard (a mixin: see tui/host.py)."""

    def __init__(self) -> None:
        super().__init__()
        self._chart_at = 0.0
        self._chart_empty = True
        self._painted_at = 0.0
        self._paint_due = False
        self._shown_price = False
        self._today: list[tuple[datetime, float]] = []
        self._series: Series = {}

    def _paint_soon(self) -> None:
        """Paint the newest Board now, or once shortly if the last paint was too recent."""
        wait = PAINT_EVERY_S[self.session.mode] - (monotonic() - self._painted_at)
        board = self._board
        first_price = (
            not self._shown_price and board is not None and board.reading("btc.price") is not None
        )
        if first_price:
            self._paint()
        elif not self._paint_due:
            # A burst of updates becomes one paint: the newest Board, shortly (live, the polls of
            # one interval come due together, and their answers within a moment of each other).
            self._paint_due = True
            self.set_timer(max(wait, GATHER_S[self.session.mode]), self._paint)

    def _paint(self, *, force_chart: bool = False) -> None:
        self._paint_due = False
        self._painted_at = monotonic()
        if self._closing or self._board is None or self._dashboard is None:
            return
        self._shown_price = self._board.reading("btc.price") is not None
        # An empty chart is retried on every paint, so the first history shows at once.
        due = monotonic() - self._chart_at >= CHART_EVERY_S[self.session.mode]
        if not due or force_chart or self._chart_empty:
            self.dashboard.show_board(self._board, self._today, self._series)
        # else: the chart's arrival, a moment from now, paints the board with the fresh series
        # (one repaint of the dashboard, not two).
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
