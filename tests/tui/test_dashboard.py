"""Pilot tests: the keys a trader presses, and what the dashboard then shows."""

from __future__ import annotations

import asyncio
from importlib.resources import files
from typing import Any

import pytest

from tests.tui.conftest import DemoState, screen_text, still_app
from tui.app import BtcwatchApp, Session
from tui.cli import DEMO_FILE, DEMO_LABEL
from tui.core.config import Settings
from tui.screens.dashboard import DashboardScreen
from tui.screens.drilldown import DrilldownScreen
from tui.screens.help import HelpScreen
from widgets.mode_banner import ModeBanner
from widgets.pivot_chart import PivotChart
from widgets.status_strip import StatusStrip


async def settle(pilot: object, app: BtcwatchApp) -> None:
    await app.workers.wait_for_complete()
    await pilot.pause()  # type: ignore[attr-defined]


async def test_dashboard_paints_the_stored_state_with_banner_and_sources(
    demo_state: DemoState,
) -> None:
    app = still_app(demo_state)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        assert isinstance(app.screen, DashboardScreen)
        assert app.screen.query_one(ModeBanner).label == DEMO_LABEL
        text = screen_text(app)
        assert "DEMO" in text
        assert "pivot" in text
        assert "kraken" in text
        assert "no source yet" not in text  # every bucket has its sources now
        assert "ETF net flow" in text  # a bucket pane's first row
        chips = {c.name: c for c in app.screen.query_one(StatusStrip).chips}
        assert chips["kraken"].state == "ok"


async def test_enter_drills_into_the_price_sources_and_escape_comes_back(
    demo_state: DemoState,
) -> None:
    app = still_app(demo_state)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, app)
        await pilot.press("enter")
        assert isinstance(app.screen, DrilldownScreen)
        await settle(pilot, app)
        await pilot.pause(0.2)
        text = screen_text(app)
        assert "Raw body · coinbase / ticker" in text
        assert '"price": "70' in text  # the last raw body, pretty-printed
        assert "https://api.exchange.coinbase.com/products/" in text
        assert "btc.price.kraken" in text
        await pilot.press("escape")
        assert isinstance(app.screen, DashboardScreen)


async def test_digits_focus_panes_and_enter_opens_that_bucket(demo_state: DemoState) -> None:
    app = still_app(demo_state)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, app)
        await pilot.press("5")
        assert app.focused is not None
        assert app.focused.id == "pane-flows"
        await pilot.press("enter")
        assert isinstance(app.screen, DrilldownScreen)
        await settle(pilot, app)
        await pilot.pause(0.2)
        text = screen_text(app)
        assert "Farside Investors" in text  # the flows bucket's source
        assert "etf.flow.daily" in text  # its readings
        await pilot.press("v")  # the bucket's own screen: the fund-by-day table
        await settle(pilot, app)
        await pilot.pause(0.3)
        assert type(app.screen).__name__ == "EtfFlowsScreen"
        text = screen_text(app)
        assert "IBIT" in text
        assert "5 Feb" in text
        await pilot.press("escape")
        assert isinstance(app.screen, DrilldownScreen)


async def test_help_lists_the_keys_and_closes(demo_state: DemoState) -> None:
    app = still_app(demo_state)
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot, app)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        text = screen_text(app)
        for key in ("q", "Enter", "Esc"):
            assert key in text
        await pilot.press("escape")
        assert isinstance(app.screen, DashboardScreen)
        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen)


async def test_chart_range_keys_cycle_and_reload(demo_state: DemoState) -> None:
    app = still_app(demo_state)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, app)
        dash = app.screen
        assert isinstance(dash, DashboardScreen)
        assert dash.chart_range == "1D"
        await pilot.press("right_square_bracket")
        await settle(pilot, app)
        assert dash.chart_range == "1W"
        chart = app.screen.query_one(PivotChart)
        assert chart.data is not None
        assert chart.data.range == "1W"
        await pilot.press("left_square_bracket", "left_square_bracket")
        await settle(pilot, app)
        assert dash.chart_range == "3M"
        assert chart.data.range == "3M"


async def test_too_small_says_so_and_recovers(demo_state: DemoState) -> None:
    app = still_app(demo_state)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        await pilot.resize_terminal(40, 10)
        await pilot.pause(0.1)
        # 41 characters on a 40-column screen: it wraps, so compare the words.
        words = " ".join(screen_text(app).split())
        assert "btcwatch needs at least 60×16 (now 40×10)" in words
        await pilot.resize_terminal(80, 24)
        await pilot.pause(0.1)
        text = screen_text(app)
        assert "needs at least" not in text
        assert "pivot" in text


async def test_demo_polls_pauses_and_resumes() -> None:
    app = BtcwatchApp(
        Session(Settings(), "demo", DEMO_LABEL, files("tui.demo") / DEMO_FILE, 960.0, loop=True)
    )
    async with app.run_test(size=(100, 30)) as pilot:
        for _ in range(100):
            await pilot.pause(0.1)
            if (
                app._engine is not None
                and app._board is not None
                and app._board.reading("btc.price") is not None
            ):
                break
        assert app._engine is not None
        assert app._board is not None
        assert app._board.reading("btc.price") is not None
        await pilot.press("p")
        assert app._engine.paused
        assert app.screen.query_one(StatusStrip).paused
        assert "paused" in screen_text(app)
        frozen = app._engine.clock.now()
        await asyncio.sleep(0.3)
        assert app._engine.clock.now() == frozen  # a paused demo stops its clock
        await pilot.press("p")
        assert not app._engine.paused
        assert not app.screen.query_one(StatusStrip).paused


async def test_live_start_paints_what_the_last_run_stored_with_its_age() -> None:
    from datetime import UTC, datetime, timedelta

    from tui.core import paths
    from tui.core.model import CONSENSUS, Observation, SourceStatus, Status
    from tui.core.store import Store

    old = datetime.now(UTC) - timedelta(minutes=7)
    with Store.open(paths.store_file()) as store:
        store.write(
            [
                Observation("btc.price", 68_000.0, "USD", CONSENSUS, old),
                Observation("btc.price.kraken", 68_010.0, "USD", "kraken", old),
            ]
        )
        store.record_status(SourceStatus("kraken", Status.OK, last_ok_at=old, last_attempt_at=old))
    app = BtcwatchApp(Session(Settings(), "live", poll=False))
    async with app.run_test(size=(100, 30)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        text = screen_text(app)
        assert "-2.86%" in text  # (68,000 - 70,000) / 70,000, from the cache, before any fetch
        assert "stale 7m" in text
        chips = {c.name: c for c in app.screen.query_one(StatusStrip).chips}
        assert chips["kraken"].state == "stale"
        assert "DEMO" not in text  # live data carries no banner


@pytest.mark.parametrize(
    ("digit", "screen_name", "shows"),
    [
        ("3", "FundingScreen", "funding.oi_weighted"),
        ("4", "OptionChainScreen", "max pain"),
        ("7", "MiningScreen", "hashprice"),
        ("8", "MacroScreen", "S&P 500"),
    ],
)
async def test_v_in_a_drill_down_opens_the_buckets_own_screen(
    demo_state: DemoState, digit: str, screen_name: str, shows: str
) -> None:
    app = still_app(demo_state)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot, app)
        await pilot.press(digit, "enter")
        await settle(pilot, app)
        await pilot.press("v")
        await settle(pilot, app)
        await pilot.pause(0.3)
        assert type(app.screen).__name__ == screen_name
        assert shows in screen_text(app)


async def test_no_frame_is_rendered_to_be_thrown_away_and_the_theme_is_set_before_start(
    demo_state: DemoState, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Textual discards what is rendered while a batch holds the display (start-up is one, where
    # the terminal's first resize lands): the dashboard holds its repaint back until the batch
    # ends, so every frame rendered is a frame shown.
    from textual._compositor import Compositor

    app = still_app(demo_state)
    batched: list[int] = []
    render_update = Compositor.render_update

    def spy(self: Compositor, *args: Any, **kwargs: Any) -> Any:
        batched.append(app._batch_count)
        return render_update(self, *args, **kwargs)

    monkeypatch.setattr(Compositor, "render_update", spy)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, app)
        assert batched
        assert set(batched) == {0}, batched
        batched.clear()
        with app.batch_update():
            app.dashboard._compositor_refresh()  # as Textual's layout refresh does
            assert batched == []
        await pilot.pause()
        assert batched  # the repaint, once the batch ended (and nothing rendered inside it)
        assert set(batched) == {0}, batched
        assert "pivot" in screen_text(app)
        # The theme was set before the app ran (no re-parse): its colours are the stylesheet's.
        assert app.theme == "btcwatch-dark"
        assert app.stylesheet._variables["primary"] == app.get_css_variables()["primary"]
        assert app.has_class("-theme-btcwatch-dark", "-dark-mode")
