"""Pilot: the flows, mining and macro drill-downs on stores filled here (real bodies parsed)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from textual.app import App
from textual.screen import Screen

from tests.tui.conftest import screen_text as _screen_text
from themes import DEFAULT_THEME, SEMANTIC_DEFAULTS, THEMES
from tui.core.analytics.mining import formula
from tui.core.config import Settings
from tui.core.model import CONSENSUS, DAILY, Board, Exchange, Observation
from tui.core.store import Store
from tui.screens.etf_flows import EtfFlowsScreen
from tui.screens.macro import MacroScreen
from tui.screens.mining import MiningScreen
from widgets.etf_flow_bars import EtfFlowBars
from widgets.etf_flow_table import EtfFlowTable
from widgets.macro_chart import MacroChart
from widgets.series_chart import SeriesChart

DATA = Path(__file__).resolve().parents[1] / "data"
NOW = datetime(2026, 2, 6, 21, 0, tzinfo=UTC)
DAY = timedelta(days=1)
H = timedelta(hours=1)


class Harness(App[None]):
    """A blank base screen with one drill-down pushed on top, under btcwatch's themes."""

    def __init__(self, make: Callable[[], Screen[None]]) -> None:
        super().__init__()
        self._make = make

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return {**super().get_theme_variable_defaults(), **SEMANTIC_DEFAULTS}

    def on_mount(self) -> None:
        for theme in THEMES:
            self.register_theme(theme)
        self.theme = DEFAULT_THEME
        self.push_screen(self._make())


def screen_text(app: App[None]) -> str:
    """What the terminal shows, as plain text (conftest's helper, typed for any app)."""
    return _screen_text(app)  # type: ignore[arg-type]


async def settle(pilot: object, app: App[None]) -> None:
    for _ in range(3):  # a load, then plotext's import, then the plot
        await app.workers.wait_for_complete()
        await pilot.pause(0.05)  # type: ignore[attr-defined]


def save_page(store: Store, name: str, fetched_at: datetime) -> None:
    body = (DATA / "farside" / name).read_bytes()
    url = "https://farside.co.uk/bitcoin-etf-flow-all-data/"
    store.save_exchange("farside", "flows", Exchange("GET", url, 200, {}, body, fetched_at))


# -- ETF flows ---------------------------------------------------------------------------------


async def test_etf_table_funds_gaps_totals_and_provisional_day() -> None:
    store = Store.open(None)
    fetched = datetime(2026, 10, 2, 22, 0, tzinfo=UTC)
    save_page(store, "all_data_2026-10-02.html", fetched)
    app = Harness(lambda: EtfFlowsScreen(store, Settings(), now=lambda: fetched + 2 * H))
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot, app)
        screen = app.screen
        assert isinstance(screen, EtfFlowsScreen)
        assert screen.loaded is not None
        assert screen.loaded.view is not None
        assert len(screen.loaded.view.rows) == 11
        text = screen_text(app)
        lines = [line.strip() for line in text.splitlines()]
        # Every fund is a column, then the Total; newest day first.
        assert lines[2].split() == [
            "date", "note", "IBIT", "FBTC", "BITB", "ARKB", "BTCO", "EZBC", "BRRR", "HODL",
            "BTCW", "MSBT", "GBTC", "BTC", "Total",
        ]  # fmt: skip
        # 2 Oct is being reported: IBIT's "-" is a gap (not 0.0), the day is labelled.
        assert lines[3].split() == ["Fri", "02", "Oct", "2026", "provisional", "-", "29.3",
                                    *["0.0"] * 7, "2.4", "0.0", "0.0", "31.7"]  # fmt: skip
        # Outflows in Farside's parentheses with a glyph; the day's Total too.
        assert lines[5].split()[:7] == ["Wed", "30", "Sep", "2026", "▼(9.5)", "▼(125.6)", "▼(13.6)"]
        assert lines[5].split()[-1] == "▼(148.7)"
        oldest = next(line for line in lines if line.startswith("Fri 18 Sep 2026"))
        assert oldest.split()[-1] == "433.0"
        assert "5 days ▲ +$82.9M" in text
        assert "Oct to date ▲ +$134.4M" in text
        assert "outflow streak 0 days" in text
        assert "newest day provisional: IBIT to report" in text
        assert "fetched 2h ago" in text
        # The bar: inflows up to +999.0 (21 Sep), one outflow down to -148.7 (30 Sep).
        bars = screen.query_one(EtfFlowBars)
        assert bars.bars is not None
        assert len(bars.bars) == 11
        assert "+999.0" in text
        assert "-148.7" in text
        assert "18 Sep" in text
        assert "02 Oct" in text
        # Reloading the same page keeps the load; a newer page replaces the table.
        first = screen.loaded
        await pilot.press("r")
        await settle(pilot, app)
        assert screen.loaded is first
        save_page(store, "btc_page_2026-07-23.html", fetched + H)
        await pilot.press("r")
        await settle(pilot, app)
        assert screen.loaded is not first
        assert "Thu 23 Jul 2026" in screen_text(app)
        await pilot.press("escape")
        assert not isinstance(app.screen, EtfFlowsScreen)


async def test_etf_holiday_row_is_a_labelled_gap_in_table_and_bar() -> None:
    store = Store.open(None)
    fetched = datetime(2026, 7, 23, 17, 30, tzinfo=UTC)
    # The /btc/ page saved on 23 Jul 2026: 23 Jul is today's placeholder, every fund "-".
    save_page(store, "btc_page_2026-07-23.html", fetched)
    app = Harness(lambda: EtfFlowsScreen(store, Settings(), now=lambda: fetched))
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot, app)
        text = screen_text(app)
        top = next(line for line in text.splitlines() if "23 Jul 2026" in line).split()
        assert top == ["Thu", "23", "Jul", "2026", "no", "data", *["-"] * 12, "-"]
        assert "1 day without data (-)" in text
        bars = app.screen.query_one(EtfFlowBars)
        assert bars.bars is not None
        assert bars.bars[-1][1] is None  # drawn as a gap, never a zero bar
        assert "× on the axis: no data" in text
        axis = next(line.rstrip() for line in text.splitlines() if line.strip().startswith("0 ─"))
        assert axis.endswith("─×")
        assert "-424.7" in text  # 13 Jul, the largest outflow of the window, bottoms the axis
        assert "5 days ▲ +$710.5M" in text


async def test_etf_empty_and_unreadable_states() -> None:
    store = Store.open(None)
    app = Harness(lambda: EtfFlowsScreen(store, Settings()))
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot, app)
        assert "no ETF table stored yet" in screen_text(app)
        assert app.screen.query_one(EtfFlowTable).row_count == 0
    save_page(store, "cloudflare_just_a_moment_2024-01-08.html", NOW)
    app = Harness(lambda: EtfFlowsScreen(store, Settings()))
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot, app)
        text = screen_text(app)
        assert "the stored page could not be read: " in text
        assert "Cloudflare challenge" in text


# -- mining ------------------------------------------------------------------------------------

DIFFICULTY = 146.47e12


def mining_board() -> Board:
    obs = [
        Observation("mining.difficulty", DIFFICULTY, "", "mempool", NOW - 2 * H),
        Observation("mining.reward_144", 3.14, "BTC", "mempool", NOW - H),
        Observation("btc.price", 69_850.0, "USD", CONSENSUS, NOW),
        Observation("mining.hashrate", 906.0, "EH/s", "mempool", NOW - H),
        Observation("mining.hashprice", 30.12, "USD/PH/s/day", "mempool", NOW - 2 * H),
        Observation("mining.difficulty.next_change", -13.37, "%", "mempool", NOW),
        Observation("mining.difficulty.blocks_left", 201.0, "blocks", "mempool", NOW),
        Observation(
            "mining.difficulty.retarget_at",
            (NOW + timedelta(hours=23, minutes=10)).timestamp(),
            "unix s",
            "mempool",
            NOW,
        ),
    ]
    return Board("live", NOW, {(o.id, o.source): o for o in obs})


def save_mempool(store: Store, endpoint: str, doc: object) -> None:
    url = f"https://mempool.space/api/{endpoint}"
    body = json.dumps(doc).encode()
    store.save_exchange("mempool", endpoint, Exchange("GET", url, 200, {}, body, NOW))


def mining_store() -> Store:
    store = Store.open(None)
    store.write(
        [
            Observation(
                "mining.hashprice", 40.0 - d * 0.25, "USD/PH/s/day", "mempool", NOW - d * DAY
            )
            for d in range(80, -1, -1)
        ]
        + [
            Observation("mining.hashrate", 1_046.0 - d, "EH/s", "mempool", NOW - d * DAY)
            for d in range(80, -1, -1)
        ]
    )
    return store


async def test_mining_charts_adjustments_readings_and_formula() -> None:
    store = mining_store()
    # The docs' hashrate answer lists one adjustment (13 May 2022, height 736,249); a second,
    # earlier one is added (values changed only) so the change between them shows.
    doc = json.loads((DATA / "mempool" / "hashrate_3d_docs.json").read_text())
    earlier = {"timestamp": 1651259594, "difficulty": 29_897_409_688_552.14, "height": 734_233}
    doc["difficulty"] = [earlier, *doc["difficulty"]]
    save_mempool(store, "hashrate", doc)
    board = mining_board()
    app = Harness(lambda: MiningScreen(store, lambda: board, Settings()))
    async with app.run_test(size=(130, 56)) as pilot:
        await settle(pilot, app)
        screen = app.screen
        assert isinstance(screen, MiningScreen)
        text = screen_text(app)
        # The formula with today's numbers, worked by hand:
        # 10^15 x 86,400 / (146.47e12 x 2^32) = 0.00013734 blocks per PH/s per day,
        # x 3.14 BTC x $69,850 = $30.12; the hashrate form: 144 x 3.14 x 69,850 / 906,000 = 34.86.
        assert "= 10^15 × 86,400 ÷ (146.47 T × 4,294,967,296) = 0.00013734" in text
        assert "reward per block = 144-block total reward ÷ 144 = 3.14000 BTC" in text
        assert "BTC price = $69,850 (consensus)" in text
        assert (
            "hashprice = 0.00013734 × 3.14000 × $69,850 = $30.12 /PH/s/day (record low < $32)"
            in text
        )
        assert "check: 144 × 3.14000 × $69,850 ÷ 906,000 PH/s = $34.86" in text
        # The adjustment readings, as the pane words them.
        assert "▼ -13.37 %" in text
        assert "in 201 blocks, ~23h 10m, est. 7 Feb 20:10 UTC" in text
        # The last adjustments, newest first; 31.25 T / 29.90 T - 1 = +4.53 %.
        assert "13 May 2022 18:58 UTC  height 736,249  31.25 T  ▲ +4.53 %" in text
        assert "29 Apr 2022 19:13 UTC  height 734,233  29.90 T  change not known" in text
        # Both charts over 1M, then 3M.
        assert screen.loaded is not None
        assert screen.loaded.hashprice.range == "1M"
        assert screen.loaded.hashprice.note.startswith("31 stored values since 07 Jan 21:00")
        assert screen.loaded.hashrate.note.startswith("31 stored values since 07 Jan 21:00")
        assert "mining.hashprice · mempool · USD/PH/s/day · 1M · 31 stored" in text
        assert "mining.hashrate · mempool · EH/s · 1M · 31 stored" in text
        assert "07 Jan" in text  # the dates under the charts
        assert "record low $32" in text
        assert screen.query_one("#mn-hashprice", SeriesChart).plot_count >= 1
        await pilot.press("right_square_bracket")
        await settle(pilot, app)
        assert screen.range == "3M"
        assert screen.loaded.hashrate.range == "3M"
        assert screen.loaded.hashrate.note.startswith("81 stored values since 07 Nov")
        assert "mining.hashrate · mempool · EH/s · 3M · 81 stored" in screen_text(app)
        await pilot.press("escape")
        assert not isinstance(app.screen, MiningScreen)


async def test_mining_empty_states() -> None:
    store = Store.open(None)
    app = Harness(lambda: MiningScreen(store, lambda: None, Settings(), now=lambda: NOW))
    async with app.run_test(size=(120, 44)) as pilot:
        await settle(pilot, app)
        text = screen_text(app)
        assert "no readings yet: waiting for the first answers" in text
        assert "no mempool hashrate answer stored yet" in text
        assert "mining.hashprice · mempool · 1M · no stored values of" in text
    # The docs' difficulty answer names no previousTime: the one adjustment's change is unknown.
    save_mempool(
        store, "hashrate", json.loads((DATA / "mempool" / "hashrate_3d_docs.json").read_text())
    )
    save_mempool(
        store,
        "difficulty",
        json.loads((DATA / "mempool" / "difficulty_adjustment_docs.json").read_text()),
    )
    board = Board("live", NOW)
    app = Harness(lambda: MiningScreen(store, lambda: board, Settings()))
    async with app.run_test(size=(120, 44)) as pilot:
        await settle(pilot, app)
        text = screen_text(app)
        assert "13 May 2022 18:58 UTC  height 736,249  31.25 T  change not known" in text
        assert "hashprice = ? (an input is missing)" in text
        assert "difficulty: ?" in text
        assert "waiting for mempool" in text
    # The WebSocket docs' answer dates its previousRetarget (+4.43 %); moved (value changed only)
    # onto the listed adjustment, it gives that adjustment's change.
    doc = json.loads((DATA / "mempool" / "difficulty_adjustment_ws_mainnet.json").read_text())
    doc["previousTime"] = 1652468330
    save_mempool(store, "difficulty", doc)
    app = Harness(lambda: MiningScreen(store, lambda: board, Settings()))
    async with app.run_test(size=(120, 44)) as pilot:
        await settle(pilot, app)
        text = screen_text(app)
        assert "13 May 2022 18:58 UTC  height 736,249  31.25 T  ▲ +4.43 %" in text


# -- macro -------------------------------------------------------------------------------------


def weekdays(first: date, last: date) -> list[date]:
    days = [first + i * DAY for i in range((last - first).days + 1)]
    return [d for d in days if d.weekday() < 5]


def at(d: date) -> datetime:
    return datetime(d.year, d.month, d.day, tzinfo=UTC)


def macro_store() -> Store:
    """Nasdaq 20,000 → 20,436 (+2.18 %) and BTC 90,000 → 69,850 over the month to 6 Feb."""
    store = Store.open(None)
    days = weekdays(date(2026, 1, 8), date(2026, 2, 6))
    obs = [
        Observation("macro.ndx.close", 20_000.0 + 436.0 * i / (len(days) - 1), "index", "yahoo",
                    at(d))
        for i, d in enumerate(days)
    ]  # fmt: skip
    # Gold only from the fallback.
    obs += [Observation("macro.gold.close", 4_000.0 + i, "USD/oz", "stooq", at(d))
            for i, d in enumerate(days)]  # fmt: skip
    # BTC: each completed UTC day's close at 00:00 the next day; 6 Feb still forming at 20:55.
    btc_days = [date(2026, 1, 7) + i * DAY for i in range(30)]  # 7 Jan .. 5 Feb
    obs += [
        Observation("btc.day.close.kraken", 90_000.0 - 500.0 * max(0, (d - date(2026, 1, 8)).days),
                    "USD", "kraken", at(d) + DAY)
        for d in btc_days
    ]  # fmt: skip
    obs.append(Observation("btc.day.close.kraken", 69_850.0, "USD", "kraken", NOW - H / 12))
    obs += [
        Observation("macro.corr30d.ndx", 0.12 + 0.01 * i, "corr", DAILY, at(d) + DAY)
        for i, d in enumerate(days[:-1])
    ]
    store.write(obs)
    return store


async def test_macro_rebased_against_btc_and_correlation() -> None:
    store = macro_store()
    app = Harness(lambda: MacroScreen(store, Settings(), now=lambda: NOW))
    async with app.run_test(size=(150, 44)) as pilot:
        await settle(pilot, app)
        screen = app.screen
        assert isinstance(screen, MacroScreen)
        assert screen.loaded is not None
        ndx = screen.loaded.assets["ndx"]
        assert ndx.base_day == date(2026, 1, 8)
        text = screen_text(app)
        row = next(line for line in text.splitlines() if "Nasdaq" in line)
        # 20,436 / 20,000 = 102.18; BTC 69,850 / 90,000 = 77.61; 102.18 - 77.61 = +24.57 pp.
        assert "yahoo" in row
        assert "20,436.00 06 Feb" in row
        assert "▲  102.2" in row
        assert "▼   77.6" in row
        assert "+24.6 pp" in row
        assert row.rstrip().endswith("+0.32")  # the latest 30-day correlation: 0.12 + 0.01 x 20
        gold = next(line for line in text.splitlines() if "Gold" in line)
        assert "stooq (fallback)" in gold
        silver = next(line for line in text.splitlines() if "Silver" in line)
        assert "no stored closes in the last 1M (yahoo, stooq, fred)" in silver
        # S&P 500 is charted first and has no closes: the chart says so; 2 picks the Nasdaq.
        assert "no stored closes of S&P 500 in the last 1M" in text
        await pilot.press("2")
        await settle(pilot, app)
        perf = screen.query_one("#mc-perf", MacroChart)
        corr = screen.query_one("#mc-corr", MacroChart)
        assert perf.data is not None
        assert corr.data is not None
        assert [t.label for t in perf.data.traces] == ["Nasdaq", "BTC"]
        assert perf.data.traces[0].points[0][1] == 100.0
        assert perf.data.traces[1].points[0][1] == 100.0
        text = screen_text(app)
        assert "Rebased to 100  ━ Nasdaq  ━ BTC  · on 08 Jan · yahoo, BTC kraken" in text
        assert "30-day correlation with BTC  ━ Nasdaq  · now +0.32" in text
        assert "100.0" in text  # the baseline's label
        assert perf.plot_count >= 1
        assert corr.plot_count >= 1
        await pilot.press("right_square_bracket")
        await settle(pilot, app)
        assert screen.range == "3M"
        assert screen.loaded.range == "3M"
        # Over 3M too: the Nasdaq's closes start on 8 Jan.
        assert screen.loaded.assets["ndx"].base_day == date(2026, 1, 8)
        await pilot.press("escape")
        assert not isinstance(app.screen, MacroScreen)


async def test_macro_empty_states() -> None:
    store = Store.open(None)
    app = Harness(lambda: MacroScreen(store, Settings(), now=lambda: NOW))
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot, app)
        text = screen_text(app)
        assert "no macro closes stored yet in the last 1M (yahoo, stooq, fred)" in text
        perf = app.screen.query_one("#mc-perf", MacroChart)
        corr = app.screen.query_one("#mc-corr", MacroChart)
        assert perf.data is not None
        assert corr.data is not None
        assert perf.data.note == "no stored closes of S&P 500 in the last 1M"
        assert corr.data.note == "none stored in the last 1M: it needs 20 days both trade"
        assert "Rebased to 100    · no stored closes of S&P 500 in the last 1M" in text
    store.write([Observation("macro.spx.close", 6_900.0, "index", "yahoo", at(date(2026, 2, 5)))])
    app = Harness(lambda: MacroScreen(store, Settings(), now=lambda: NOW))
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot, app)
        text = screen_text(app)
        assert "no BTC daily closes stored yet (kraken, coinbase, bitstamp)" in text
        assert "no BTC daily closes stored" in text


def test_formula_reads_the_board_used_by_the_screen() -> None:
    assert formula(mining_board())[-2].startswith("hashprice = 0.00013734")
