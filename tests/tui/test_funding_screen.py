"""Pilot: the funding screen on a store filled here: latest per venue, hours positive, ranges."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, cast

from textual.app import App

from tests.tui.conftest import screen_text as app_text
from themes import DEFAULT_THEME, SEMANTIC_DEFAULTS, THEMES
from tui.core.config import Settings
from tui.core.model import CONSENSUS, Observation
from tui.core.store import Store
from tui.screens.funding import FundingScreen
from widgets.series_chart import SeriesChart

if TYPE_CHECKING:
    from tui.app import BtcwatchApp

NOW = datetime(2026, 2, 6, 21, 0, tzinfo=UTC)
H = timedelta(hours=1)
M = timedelta(minutes=1)
UNIT = "% per 8h"


def funding_store() -> Store:
    """Three days of hourly funding: the consensus turns positive 9 h ago; OKX never answered."""
    store = Store.open(None)
    rows = []
    for h in range(72):
        at = NOW - 5 * M - h * H
        rows.append(
            Observation("funding.oi_weighted", 0.002 if h < 9 else -0.004, UNIT, CONSENSUS, at)
        )
        rows.append(Observation("funding.deribit", -0.0053, UNIT, "deribit_futures", at))
        rows.append(Observation("funding.binance", 0.001, UNIT, "binance", at - 3 * H))
        rows.append(Observation("funding.bybit", 0.0, UNIT, "bybit", at - 5 * M))
    # One Deribit value three weeks back: in the 1M range only.
    rows.append(Observation("funding.deribit", -0.012, UNIT, "deribit_futures", NOW - 21 * 24 * H))
    rows.append(Observation("funding.positive_hours", 9.0, "hours", CONSENSUS, NOW - 5 * M))
    store.write(rows)
    return store


class Harness(App[None]):
    """The screen on its own, over a blank one, with btcwatch's themes."""

    def __init__(self, screen: FundingScreen) -> None:
        super().__init__()
        self.funding = screen

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return {**super().get_theme_variable_defaults(), **SEMANTIC_DEFAULTS}

    def on_mount(self) -> None:
        for theme in THEMES:
            self.register_theme(theme)
        self.theme = DEFAULT_THEME
        self.push_screen(self.funding)


def screen_text(app: App[None]) -> str:
    """What the terminal shows, as plain text."""
    return app_text(cast("BtcwatchApp", app))


async def settle(pilot: object, app: App[None]) -> None:
    for _ in range(3):  # the load, then plotext's import, then the plots
        await app.workers.wait_for_complete()
        await pilot.pause(0.05)  # type: ignore[attr-defined]


def line_of(text: str, label: str) -> str:
    return next(
        line.strip() for line in text.splitlines() if f"{label} " in line and "%/8h" in line
    )


async def test_latest_per_venue_hours_positive_and_ranges() -> None:
    screen = FundingScreen(funding_store(), Settings(), now=NOW)
    app = Harness(screen)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot, app)
        text = screen_text(app)
        assert "Funding  % per 8h · range 1D 1W 1M" in text
        weighted = line_of(text, "OI-weighted")
        assert weighted.startswith("▲   +0.0020 %/8h  OI-weighted consensus")
        assert "5m ago" in weighted
        assert "positive for 9.0 h · bullish once ≥ 8 h" in weighted
        deribit = line_of(text, "Deribit")
        assert deribit.startswith("▼   -0.0053 %/8h  Deribit     deribit_futures 5m ago")
        # Binance's latest is 3 h 5 min old: older than the 2 h a positive run may skip.
        assert line_of(text, "Binance").startswith("▲   +0.0010 %/8h  Binance     binance")
        assert "stale 3h ago" in line_of(text, "Binance")
        assert line_of(text, "Bybit").startswith("●   +0.0000 %/8h  Bybit")
        assert "✕" in text
        assert "OKX         okx             no stored value yet: waiting for okx" in text

        charts = list(screen.query(SeriesChart))
        assert len(charts) == 5
        data = [c.data for c in charts]
        assert all(d is not None for d in data)
        assert [d.title for d in data if d is not None] == [
            "OI-weighted · funding.oi_weighted · consensus",
            "Deribit · funding.deribit · deribit_futures",
            "Binance · funding.binance · binance",
            "Bybit · funding.bybit · bybit",
            "OKX · funding.okx · okx",
        ]
        # A zero line on each, so each chart's scale takes in zero.
        for d in data:
            assert d is not None
            assert any(line.value == 0 for line in d.lines)
        assert sum(c.plot_count for c in charts) >= 4  # OKX has nothing to plot
        assert "Deribit · funding.deribit · deribit_futures · 1W · 72 stored values" in text
        assert "no stored values of funding.okx (okx) in the last 1W" in text

        await pilot.press("right_square_bracket")
        await settle(pilot, app)
        assert screen.range == "1M"
        assert "deribit_futures · 1M · 73 stored values" in screen_text(app)
        await pilot.press("left_square_bracket", "left_square_bracket")
        await settle(pilot, app)
        assert screen.view is not None
        assert screen.view.range == "1D"
        text = screen_text(app)
        assert "deribit_futures · 1D · 24 stored values" in text
        assert "Funding  % per 8h · range 1D 1W 1M" in text

        await pilot.press("escape")
        assert not isinstance(app.screen, FundingScreen)


async def test_an_empty_store_says_what_is_missing() -> None:
    screen = FundingScreen(Store.open(None), Settings(), now=NOW)
    app = Harness(screen)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot, app)
        text = screen_text(app)
        assert (
            "OI-weighted consensus       no stored value yet: needs fresh funding and open" in text
        )
        assert (
            "Deribit     deribit_futures no stored value yet: waiting for deribit_futures" in text
        )
        assert "no stored values of funding.deribit (deribit_futures) in the last 1W" in text
        assert " 0.0000 " not in text  # nothing missing is shown as a zero
        assert all(c.plot_count == 0 for c in screen.query(SeriesChart))
