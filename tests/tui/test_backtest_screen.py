"""Pilot: the Backtest screen on the hand-built history (vary a threshold, the table changes) and
its snapshot on the frozen demo state."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from textual.app import App
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import DataTable, OptionList, Static

from tests.tui.conftest import DemoState, screen_text, still_app
from tests.unit.test_backtest import close, hand_store
from themes import DEFAULT_THEME, SEMANTIC_DEFAULTS, THEMES
from tui.core.config import Settings
from tui.core.store import Store
from tui.screens.backtest import BacktestScreen
from widgets.backtest_chart import BacktestChart

SnapCompare = Callable[..., bool]
NOW = close(59) + timedelta(hours=12)


class Harness(App[None]):
    """A plain first screen, then the Backtest screen on top, with btcwatch's themes."""

    def __init__(self, store: Store) -> None:
        super().__init__()
        self.store = store

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return {**super().get_theme_variable_defaults(), **SEMANTIC_DEFAULTS}

    def on_mount(self) -> None:
        for theme in THEMES:
            self.register_theme(theme)
        self.theme = DEFAULT_THEME
        self.push_screen(Screen(id="below"))
        self.push_screen(BacktestScreen(self.store, Settings(), NOW))


async def settle(pilot: Pilot[Any]) -> None:
    for _ in range(3):  # the backtest, then plotext's import, then the plot
        await pilot.app.workers.wait_for_complete()
        await pilot.pause(0.05)


def table_rows(screen: BacktestScreen) -> list[list[str]]:
    table = screen.query_one("#bt-table", DataTable)
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


async def test_backtest_screen_shows_the_table_and_a_varied_threshold_changes_it() -> None:
    app = Harness(hand_store())
    async with app.run_test(size=(120, 44), notifications=True) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, BacktestScreen)
        assert screen.result is not None
        text = screen_text(app)
        title = "Backtest  History, not advice · 55 days · left out 5 (no data at the time)"
        assert title in text
        assert table_rows(screen) == [
            ["▲ holding", "35", "28", "+0.0%", "25%", "-20.0%", "15", "-20.0%", "100%", "-20.0%"],
            ["● contested", "1", "1", "+0.0%", "0%", "+0.0%", "1", "+12.5%", "0%", "+12.5%"],
            ["▼ retest risk", "19", "14", "+0.0%", "0%", "+0.0%", "9", "+12.5%", "0%", "+12.5%"],
            ["Σ all judged", "55", "43", "+0.0%", "16%", "-20.0%", "25", "-10.0%", "60%", "-20.0%"],
        ]
        assert "12 without a price 7 days later · 30 without a price 30 days later" in text
        chart = screen.query_one(BacktestChart)
        assert chart.data is not None
        assert chart.plot_count >= 1
        assert (
            "verdict: ▲ holding  ● contested  ▼ retest risk  · no data · 55 closes of btc.price"
            in text
        )
        assert "verdict┤" in text  # the timeline's row is named on the y axis

        # Funding's bearish threshold, nudged down past -0.01: funding is never bearish again,
        # so no day has two retest conditions: retest risk empties into contested.
        knobs = screen.query_one("#bt-knobs", OptionList)
        ids = [knobs.get_option_at_index(i).id for i in range(knobs.option_count)]
        knobs.highlighted = ids.index("funding.0.bearish.negative")
        for _ in range(11):
            await pilot.press("minus")
        await settle(pilot)
        assert screen.rules[0].bearish[0].threshold == -0.011
        rows = table_rows(screen)
        assert rows[1][:2] == ["● contested", "20"]
        assert rows[2][:3] == ["▼ retest risk", "0", "0"]
        assert rows[2][3:6] == ["–", "–", "–"]
        text = screen_text(app)
        assert "Funding · bearish: funding below -0.0110 %/8h" in text
        assert "1 changed" in text

        # Back to the configured thresholds; then the pivot, which moves every call.
        await pilot.press("0")
        await settle(pilot)
        assert table_rows(screen)[2][:2] == ["▼ retest risk", "19"]
        knobs.highlighted = ids.index("pivot")
        for _ in range(3):
            await pilot.press("plus")
        await settle(pilot)
        assert screen.pivot == 73_000.0
        # 72,000 is under the pivot now: the last 15 days are contested, not holding.
        assert table_rows(screen)[0][:2] == ["▲ holding", "20"]

        await pilot.press("e")
        await settle(pilot)
        (exported,) = screen.exported
        assert exported.read_text().splitlines()[1].startswith("holding,20,")

        await pilot.press("escape")
        assert app.screen.id == "below"


async def test_backtest_screen_without_history_says_so() -> None:
    app = Harness(Store.open(None))
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, BacktestScreen)
        assert screen.result is not None
        assert screen.result.days == ()
        title = str(screen.query_one("#bt-title", Static).render())
        assert "History, not advice · 0 days · left out 0 (no data at the time) · no days" in title
        assert "no daily closes of btc.price (consensus) in this range" in screen_text(app)


def test_backtest_screen_on_the_demo_120x40(
    snap_compare: SnapCompare, demo_state: DemoState
) -> None:
    """The demo: a day of live readings, with some 40 days of venue candles, ETF flows and the
    on-chain proxy before it. Those days are judged on what there is: most rows wait for inputs
    the demo never had that far back, so every day is contested; nothing follows 6 Feb yet."""

    async def open_backtest(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        now = demo_state.board.generated_at
        await pilot.app.push_screen(BacktestScreen(demo_state.store, Settings(), now))
        await settle(pilot)

    assert snap_compare(still_app(demo_state), terminal_size=(120, 40), run_before=open_backtest)
