"""Pilot: the checklist in full → a row's history → its flips → exports, and any stored reading."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from textual.app import App
from textual.widgets import OptionList

from tests.tui.conftest import DemoState, screen_text, still_app
from themes import DEFAULT_THEME, SEMANTIC_DEFAULTS, THEMES
from tui.core import paths
from tui.core.config import Settings
from tui.core.model import CONSENSUS, Board, Observation, RowState, RuleResult, Verdict
from tui.core.store import Store
from tui.messages import BoardChanged
from tui.screens.checklist import ChecklistScreen
from tui.screens.history import HistoryScreen, IdPickerModal
from widgets.series_chart import SeriesChart

NOW = datetime(2026, 2, 6, 21, 0, tzinfo=UTC)
H = timedelta(hours=1)
MARKUP = "[bold]not markup[/]"


def history_store() -> Store:
    """Three days of hourly funding (falling, then rising above zero) and three stored states."""
    store = Store.open(None)
    store.write(
        [
            Observation(
                "funding.oi_weighted", (40 - h) / 10_000, "% per 8h", CONSENSUS, NOW - h * H
            )
            for h in range(72)
        ]
    )
    store.write([Observation("btc.price", 70_500.0, "USD", CONSENSUS, NOW - H)])
    store.write(
        [
            Observation("checklist.funding", v, "state", "rules", NOW - h * H)
            for h, v in ((60, -1.0), (36, 0.0), (9, 1.0))
        ]
    )
    return store


def board() -> Board:
    rows = (
        RuleResult(
            "funding", "Funding", RowState.BULLISH,
            f"funding +0.0040 %/8h, above +0.0000 %/8h for 9 h; {MARKUP}",
            NOW - 9 * H, (), "+0.0040 %/8h",
        ),
        RuleResult("skew", "Options skew", RowState.WAITING, "waiting for deribit_options", None),
    )  # fmt: skip
    verdict = Verdict(
        "contested",
        (("macro rebound persisting", None), ("leverage still falling", True)),
        (("options skewed to the downside", False), ("derivatives fragile", True)),
        "above $70,000 by 0.7 %",
        (("macro holds", True), ("ETF outflows slow", None), ("derivatives normalise", False)),
        NOW - 3 * H,
    )
    return Board("demo", NOW, checklist=rows, verdict=verdict)


class Harness(App[None]):
    """The screens on their own, with btcwatch's themes."""

    def __init__(self, store: Store, first: Board) -> None:
        super().__init__()
        self.store = store
        self.board = first

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return {**super().get_theme_variable_defaults(), **SEMANTIC_DEFAULTS}

    def on_mount(self) -> None:
        for theme in THEMES:
            self.register_theme(theme)
        self.theme = DEFAULT_THEME
        self.push_screen(ChecklistScreen(self.board, Settings(), self.store, lambda: self.board))


async def settle(pilot: object, app: App[None]) -> None:
    for _ in range(3):  # a load, then plotext's import, then the plot
        await app.workers.wait_for_complete()
        await pilot.pause(0.05)  # type: ignore[attr-defined]


async def test_checklist_history_flips_and_exports() -> None:
    store = history_store()
    app = Harness(store, board())
    async with app.run_test(size=(120, 44), notifications=True) as pilot:
        await settle(pilot, app)
        assert isinstance(app.screen, ChecklistScreen)
        text = screen_text(app)
        assert "● CONTESTED  since 3 h · above $70,000 by 0.7 %" in text
        assert (
            "holding $70k needs (1/2): ? macro rebound persisting   ✓ leverage still falling"
            in text
        )
        assert "retest likely while (1/2): ✗ options skewed to the downside" in text
        assert (
            "next test needs, in order: ✓ macro holds → ? ETF outflows slow → ✗ derivatives" in text
        )
        assert "▲ bullish confirmed   Funding" in text
        assert "+0.0040 %/8h  since 9 h" in text
        assert MARKUP in text  # a reason is shown as written, never read as markup
        assert "◌ waiting" in text

        await pilot.press("enter")
        assert isinstance(app.screen, HistoryScreen)
        screen = app.screen
        await settle(pilot, app)
        assert screen.row == "funding"
        assert screen.loaded is not None
        assert screen.loaded.chart.id == "checklist.funding"
        text = screen_text(app)
        assert "1 state · 2 funding" in text
        assert "now bullish confirmed · since 06 Feb 12:00 UTC" in text
        assert "bullish┤" in text  # the state chart's levels are named
        # Every flip, newest first, with the inputs as they read at that moment.
        assert "State flips · 3 · newest first" in text
        lines = [line.strip("▊▎ ") for line in text.splitlines()]
        first = lines.index("06 Feb 12:00 UTC  ● neutral → ▲ bullish confirmed")
        assert lines[first + 1] == "funding.oi_weighted +0.0031 %/8h (06 Feb 12:00)"
        assert lines[first + 2] == "05 Feb 09:00 UTC  ▼ bearish continuing → ● neutral"
        assert lines[first + 3] == "funding.oi_weighted +0.0004 %/8h (05 Feb 09:00)"
        assert lines[first + 4] == "04 Feb 09:00 UTC  first judged → ▼ bearish continuing"

        # The input, with its thresholds drawn and labelled; then a longer range.
        await pilot.press("2")
        await settle(pilot, app)
        chart = screen.query_one(SeriesChart)
        assert chart.data is not None
        assert chart.data.id == "funding.oi_weighted"
        assert chart.plot_count >= 1
        text = screen_text(app)
        assert "funding.oi_weighted · consensus · % per 8h · 1W · 72 stored values" in text
        assert "bullish: funding above +0.0000 %/8h for 8 h" in text
        await pilot.press("right_square_bracket")
        await settle(pilot, app)
        assert screen.range == "1M"
        assert chart.data.range == "1M"

        # Exports: CSV with e, JSON with E, into the data dir, with a toast naming the file.
        await pilot.press("e")
        await settle(pilot, app)
        await pilot.press("E")
        await settle(pilot, app)
        csv_file, json_file = screen.exported
        exports = paths.data_dir() / "exports"
        assert csv_file.parent == exports
        assert csv_file.name.startswith("funding.oi_weighted-")
        assert csv_file.suffix == ".csv"
        rows = list(csv.reader(io.StringIO(csv_file.read_text())))
        assert rows[0] == ["observed_at", "value"]
        assert len(rows) == 1 + 72
        assert rows[-1] == ["2026-02-06T21:00:00.000+00:00", "0.004"]
        doc = json.loads(json_file.read_text())
        assert (doc["id"], doc["source"], doc["unit"], doc["count"]) == (
            "funding.oi_weighted", CONSENSUS, "% per 8h", 72,
        )  # fmt: skip
        assert doc["points"][0] == {
            "observed_at": "2026-02-03T22:00:00.000+00:00",
            "value": -0.0031,
        }
        toast = screen_text(app)
        assert json_file.name in toast
        assert "exported" in toast

        # Any stored reading: the picker lists them all; the price has no flips to list.
        await pilot.press("slash")
        await settle(pilot, app)
        assert isinstance(app.screen, IdPickerModal)
        picker = app.screen.query_one(OptionList)
        ids = [picker.get_option_at_index(i).id for i in range(picker.option_count)]
        assert ids == [
            "btc.price\tconsensus",
            "checklist.funding\trules",
            "funding.oi_weighted\tconsensus",
        ]
        await pilot.press("enter")
        await settle(pilot, app)
        assert app.screen is screen
        assert screen.row is None
        assert chart.data.id == "btc.price"
        assert screen.has_class("-no-flips")
        assert "pivot $70,000" in screen_text(app)

        await pilot.press("escape")
        assert isinstance(app.screen, ChecklistScreen)


async def test_checklist_refreshes_on_board_changed_and_opens_the_verdict() -> None:
    store = history_store()
    store.write([Observation("verdict", -1.0, "call", "rules", NOW - 2 * H)])
    app = Harness(store, board())
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, app)
        screen = app.screen
        assert isinstance(screen, ChecklistScreen)
        flipped = replace(app.board.checklist[0], state=RowState.NEUTRAL, reason="now neutral")
        app.board = replace(app.board, checklist=(flipped, *app.board.checklist[1:]))
        screen.post_message(BoardChanged())
        await settle(pilot, app)
        text = screen_text(app)
        assert "● neutral" in text
        assert "now neutral" in text
        await pilot.press("v")
        await settle(pilot, app)
        assert isinstance(app.screen, HistoryScreen)
        chart = app.screen.query_one(SeriesChart).data
        assert chart is not None
        assert chart.id == "verdict"
        assert chart.note.startswith("now retest risk")


async def test_checklist_and_history_in_the_app_on_the_demo(demo_state: DemoState) -> None:
    app = still_app(demo_state)
    async with app.run_test(size=(120, 44)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        app.push_screen(ChecklistScreen(demo_state.board, Settings(), demo_state.store))
        await settle(pilot, app)
        text = screen_text(app)
        assert "▼ bearish continuing  Miners" in text
        rows = app.screen.query_one(OptionList)
        rows.highlighted = [r.key for r in demo_state.board.checklist].index("mining")
        await pilot.press("enter")
        await settle(pilot, app)
        assert isinstance(app.screen, HistoryScreen)
        text = screen_text(app)
        # Judged neutral first (stored from its first judgement), then bearish: a flip.
        assert "→ ▼ bearish continuing" in text
        assert "mining.hashprice $" in text  # the input as it read at the flip
        assert "1 state · 2 hashprice · 3 BTC" in text
