"""Pilot: the option-chain screen on a real stored Deribit chain: marks, keys, empty states."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, cast

import pytest
from textual.app import App

from tests.tui.conftest import screen_text as app_text
from themes import DEFAULT_THEME, SEMANTIC_DEFAULTS, THEMES
from tui.core.config import Band, Settings
from tui.core.model import Exchange
from tui.core.store import Store
from tui.messages import BoardChanged
from tui.screens.option_chain import OptionChainScreen
from widgets.oi_heatmap import OiHeatmap, heat_level, oi_text
from widgets.smile_chart import SmileChart

if TYPE_CHECKING:
    from tui.app import BtcwatchApp

DATA = Path(__file__).resolve().parents[1] / "data" / "deribit"
URL = "https://www.deribit.com/api/v2/public/get_book_summary_by_currency?currency=BTC&kind=option"
#: The real chain's ``usOut``: 2026-07-04 17:34:39 UTC (tests/data/deribit/README.md).
FETCHED = datetime.fromtimestamp(1783186479015243 / 1e6, UTC)
MARKUP = "[bold]not markup[/]"


def chain_store(body: bytes | None, fetched_at: datetime = FETCHED) -> Store:
    """A store holding ``body`` as the latest ``deribit_options`` / ``chain`` answer."""
    store = Store.open(None)
    if body is not None:
        exchange = Exchange("GET", URL, 200, {"content-type": "application/json"}, body, fetched_at)
        store.save_exchange("deribit_options", "chain", exchange)
    return store


def real_chain() -> bytes:
    """Ten real rows on five expiries (tests/data/deribit/README.md)."""
    return (DATA / "book_summary_option_trimmed.json").read_bytes()


class Harness(App[None]):
    """The screen on its own, over a blank one, with btcwatch's themes."""

    def __init__(self, screen: OptionChainScreen) -> None:
        super().__init__()
        self.chain = screen

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return {**super().get_theme_variable_defaults(), **SEMANTIC_DEFAULTS}

    def on_mount(self) -> None:
        for theme in THEMES:
            self.register_theme(theme)
        self.theme = DEFAULT_THEME
        self.push_screen(self.chain)


def screen_text(app: App[None]) -> str:
    """What the terminal shows, as plain text."""
    return app_text(cast("BtcwatchApp", app))


async def settle(pilot: object, app: App[None]) -> None:
    for _ in range(3):  # the load, then plotext's import, then the plot
        await app.workers.wait_for_complete()
        await pilot.pause(0.05)  # type: ignore[attr-defined]


def lines_of(text: str) -> list[str]:
    return [line.rstrip() for line in text.splitlines()]


def row(text: str, strike: str) -> str:
    """The table line of ``strike`` (``56,000``)."""
    return next(
        line.strip() for line in lines_of(text) if line.partition("│")[0].strip(" ▌◀") == strike
    )


async def test_real_chain_marks_smiles_and_keys() -> None:
    screen = OptionChainScreen(
        chain_store(real_chain()), Settings(), now=FETCHED + timedelta(minutes=3)
    )
    app = Harness(screen)
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot, app)
        text = screen_text(app)
        assert "fetched 04 Jul 17:34 UTC · 3m ago · 10 options on 5 expiries" in text
        header = next(line for line in lines_of(text) if "06 Jul" in line)
        assert [c.strip() for c in header.split("│")[1:]] == [
            "06 Jul 2d", "24 Jul 20d", "28 Aug 55d", "25 Sep 83d", "25 Dec 174d",
        ]  # fmt: skip
        # Max pain per expiry, worked by hand from the ten rows (OI in BTC):
        # 28 Aug: 48k C 37.5, 56k P 655.6, 105k C 161.3 -> payout at 48k 5.24M, 56k 0.30M,
        # 105k 2.14M: 56,000. 25 Sep: puts 35k 846.7, 64k 482.4, 135k 11.5 -> 135,000 pays 0.
        # 25 Dec: 80k C 6874.1, 105k P 109.4 -> 80k pays 2.7M, 105k 172M: 80,000.
        # Single-strike expiries: their strike (06 Jul 54,000; 24 Jul 56,000).
        cells = {s: row(text, s).split("│")[1:] for s in ("54,000", "56,000", "80,000", "135,000")}
        assert cells["54,000"][0].strip() == "◆    75"
        assert cells["56,000"][1].strip() == "◆    24"
        assert cells["56,000"][2].strip() == "◆   656"
        assert cells["135,000"][3].strip() == "◆    12"
        assert cells["80,000"][4].strip() == "◆        6,874"
        # 54k and 56k are inside the default retest band 50k-60k; 48k and 64k are not.
        assert row(text, "54,000").startswith("▌")
        assert row(text, "56,000").startswith("▌")
        assert not row(text, "48,000").startswith("▌")
        assert not row(text, "64,000").startswith("▌")
        assert "▌ retest band $50,000–$60,000" in text
        # Opens on the expiry holding the most OI (25 Dec): its ATM is its strike nearest F.
        assert "Smile 25 Dec 2026 (5/5, 173.6 d) · forward $64,227" in text
        assert row(text, "80,000").split("│")[0].endswith("◀")
        assert "▲ 25Δ call 40.0 at $80,674" in text
        assert "25Δ put: not enough data (no strikes either side of call" in text
        assert "Σ OI BTC │     75        │     24        │    656    199" in text
        chart = screen.query_one(SmileChart)
        assert chart.plot_count >= 1
        assert "▲ 25Δ call 40.0" in text  # the 25Δ point is labelled on the chart too

        await pilot.press("left")
        await settle(pilot, app)
        text = screen_text(app)
        assert "Smile 25 Sep 2026 (4/5, 82.6 d) · forward $63,560 · ATM IV 39.0" in text
        assert "▼ 25Δ put 53.2 at $49,485 · ▲ 25Δ call 47.8 at $101,231 · RR25 -5.4" in text
        assert "◆ max pain $135,000" in text
        assert row(text, "64,000").split("│")[0].endswith("◀")  # 25 Sep's F is 63,560
        assert "▼ 25Δ put 53.2" in "\n".join(lines_of(text)[-12:])  # on the chart

        await pilot.press("left_square_bracket", "left", "left")
        await settle(pilot, app)
        text = screen_text(app)
        assert "Smile 06 Jul 2026 (1/5, 1.6 d)" in text
        assert "no smile for 06 Jul 2026: not enough data (fewer than two usable strikes)" in text
        await pilot.press("left")  # already the first expiry: stays
        assert screen.selected == 0
        await pilot.press("right_square_bracket")
        await settle(pilot, app)
        assert "Smile 24 Jul 2026 (2/5" in screen_text(app)

        # p hides the puts; c then would hide every side, so it shows the puts instead.
        await pilot.press("p")
        await settle(pilot, app)
        text = screen_text(app)
        sub = next(line for line in lines_of(text) if "strike" in line)
        assert "call" in sub
        assert "put" not in sub
        assert "6,874" in row(text, "80,000")
        assert "847" not in row(text, "35,000")
        await pilot.press("c")
        await settle(pilot, app)
        text = screen_text(app)
        sub = next(line for line in lines_of(text) if "strike" in line)
        assert "put" in sub
        assert "call" not in sub
        assert "847" in row(text, "35,000")
        assert "6,874" not in row(text, "80,000")
        await pilot.press("c")
        await settle(pilot, app)
        sub = next(line for line in lines_of(screen_text(app)) if "strike" in line)
        assert "put" in sub
        assert "call" in sub

        await pilot.press("escape")
        assert not isinstance(app.screen, OptionChainScreen)


async def test_heat_shades_by_size_and_keeps_the_number() -> None:
    screen = OptionChainScreen(chain_store(real_chain()), Settings(), now=FETCHED)
    app = Harness(screen)
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot, app)
        content = screen.query_one(OiHeatmap).render()
        plain = content.plain

        def style_at(number: str) -> str:
            at = plain.index(number)
            styles = [str(s.style) for s in content.spans if s.start <= at < s.end]
            return " ".join(styles)

        # The largest OI (25 Dec 80k call) is the darkest call shade; a small put the lightest
        # put shade; the number itself is always there, so NO_COLOR still reads.
        assert "on $bullish 72%" in style_at("6,874")
        assert "on $bearish 28%" in style_at("847")
        assert "on $bearish 12%" in style_at("  12 ")
    assert heat_level(None, 10.0) == 0
    assert heat_level(0.0, 10.0) == 0
    assert heat_level(0.1, 10.0) == 1
    assert heat_level(10.0, 10.0) == 4
    assert [oi_text(v) for v in (None, 0.0, 2.54, 7900.0, 123_456.0)] == [
        "", "0", "2.5", "7,900", "123k",
    ]  # fmt: skip


async def test_the_band_comes_from_the_settings() -> None:
    settings = Settings(retest_band=Band(60_000.0, 70_000.0))
    app = Harness(OptionChainScreen(chain_store(real_chain()), settings, now=FETCHED))
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot, app)
        text = screen_text(app)
        assert "▌ retest band $60,000–$70,000" in text
        assert row(text, "64,000").startswith("▌")
        assert not row(text, "56,000").startswith("▌")


def error_body(message: str) -> bytes:
    """Deribit's documented error envelope (tests/data/deribit/deribit_error.json), new text."""
    doc = json.loads((DATA / "deribit_error.json").read_text())
    doc["error"]["message"] = message
    return json.dumps(doc).encode()


def empty_chain() -> bytes:
    doc = json.loads(real_chain())
    doc["result"] = []
    return json.dumps(doc).encode()


@pytest.mark.parametrize(
    ("body", "fetched_at", "words"),
    [
        (None, FETCHED, "no chain stored yet: Deribit's option book summary is fetched every 5"),
        (empty_chain(), FETCHED, "not enough data: empty chain"),
        (
            real_chain(),
            datetime(2027, 1, 1, tzinfo=UTC),
            "not enough data: every expiry in the chain has passed",
        ),
        (b"<html>502</html>", FETCHED, "the stored chain cannot be read: Expecting value"),
        (error_body(MARKUP), FETCHED, f"the stored chain cannot be read: Deribit: 13009 {MARKUP}"),
    ],
    ids=["nothing-stored", "empty", "expired", "not-json", "error-envelope"],
)
async def test_empty_states_are_said_in_words(
    body: bytes | None, fetched_at: datetime, words: str
) -> None:
    screen = OptionChainScreen(chain_store(body, fetched_at), Settings(), now=fetched_at)
    app = Harness(screen)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot, app)
        text = screen_text(app)
        assert words in text
        assert not screen.has_class("-loaded")
        assert "strike" not in text  # no empty table pretending to be data
        await pilot.press("left", "p")  # keys on an empty screen do nothing, and do not fail
        await settle(pilot, app)
        await pilot.press("escape")
        assert not isinstance(app.screen, OptionChainScreen)


async def test_one_expiry_without_oi_or_iv_says_not_enough_data() -> None:
    # The real 28 Aug rows with every OI at 0 and every mark IV null.
    doc = json.loads(real_chain())
    doc["result"] = [r for r in doc["result"] if "-28AUG26-" in r["instrument_name"]]
    for r in doc["result"]:
        r["open_interest"] = 0
        r["mark_iv"] = None
    screen = OptionChainScreen(chain_store(json.dumps(doc).encode()), Settings(), now=FETCHED)
    app = Harness(screen)
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot, app)
        text = screen_text(app)
        assert "3 options on 1 expiry" in text
        assert row(text, "56,000").endswith("│      0")  # a listed put with no OI: 0, unshaded
        assert "◆" not in row(text, "56,000")
        assert "max pain: not enough data (no open" in text
        assert "no smile for 28 Aug 2026: not enough data (fewer than two usable strikes)" in text
        assert screen.query_one(SmileChart).plot_count == 0


async def test_reloads_on_new_data_keeping_the_expiry() -> None:
    store = chain_store(real_chain())
    screen = OptionChainScreen(store, Settings(), now=FETCHED)
    app = Harness(screen)
    clock = [0.0]
    screen.monotonic = lambda: clock[0]
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot, app)
        await pilot.press("left")
        await settle(pilot, app)
        assert "Smile 25 Sep 2026" in screen_text(app)
        # A newer chain arrives: 25 Sep's 64k put now holds 5,000 BTC.
        doc = json.loads(real_chain())
        for r in doc["result"]:
            if r["instrument_name"] == "BTC-25SEP26-64000-P":
                r["open_interest"] = 5000.0
        later = FETCHED + timedelta(minutes=5)
        exchange = Exchange("GET", URL, 200, {}, json.dumps(doc).encode(), later)
        store.save_exchange("deribit_options", "chain", exchange)
        screen.post_message(BoardChanged())  # within the throttle: ignored
        await settle(pilot, app)
        assert "5,000" not in row(screen_text(app), "64,000")
        clock[0] = 10.0
        screen.post_message(BoardChanged())
        await settle(pilot, app)
        text = screen_text(app)
        assert "5,000" in row(text, "64,000")
        assert "fetched 04 Jul 17:39 UTC" in text
        assert "Smile 25 Sep 2026" in text  # the same expiry stays selected
