"""Each dashboard widget in a tiny app, fed hand-made views, asserting what reaches the screen."""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime

import pytest
from rich.console import Console
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.pilot import Pilot
from textual.widget import Widget
from textual.widgets import Digits

from themes import DEFAULT_THEME, SEMANTIC_DEFAULTS, THEMES
from tui.core.config import Band
from tui.core.views import BUCKETS, ChartData, ChartLine, PriceView, StatusChip, VenueQuote
from widgets.bucket_pane import BucketPane
from widgets.literal import literal, printable
from widgets.mode_banner import ModeBanner
from widgets.pivot_chart import PivotChart, lines_in_view
from widgets.plotext_chart import plot_colour
from widgets.price_pane import PricePane
from widgets.status_strip import StatusStrip

# The article's 6 Feb 2026: open 62,625, low 60,020, three failed breaks of 71,422, close 69,816.
VIEW = PriceView(
    mode="live",
    price=69_816.0,
    age_s=4.0,
    stale=False,
    missing=None,
    pivot=70_000.0,
    distance_pct=-0.26,
    absorption=Band(66_900.0, 70_600.0, "Glassnode, Feb 2026"),
    absorption_position="inside",
    retest=Band(50_000.0, 60_000.0),
    retest_position="above",
    day_open=62_625.0,
    day_high=71_422.0,
    day_low=60_020.0,
    day_close=69_816.0,
    day_change_pct=11.48,
    off_low_pct=16.32,
    high_rejections=3,
    high_tolerance_pct=0.3,
    spread_usd=12.0,
    venues=(
        VenueQuote("coinbase", 69_823.0, 4.0, False),
        VenueQuote("kraken", 69_810.0, 5.0, False),
        VenueQuote("bitstamp", 69_811.0, 420.0, True),
        VenueQuote("deribit", None, None, False),
    ),
)
LINES = (
    ChartLine("pivot 70,000", 70_000.0, "pivot"),
    ChartLine("band 70,600", 70_600.0, "band"),
    ChartLine("band 66,900", 66_900.0, "band"),
    ChartLine("retest 60,000", 60_000.0, "retest"),
    ChartLine("retest 50,000", 50_000.0, "retest"),
)
MIDNIGHT = datetime(2026, 2, 6, tzinfo=UTC).timestamp()
UNTRUSTED = "[bold red]x[/] \x1b[31mred"


def day_points() -> tuple[tuple[float, float], ...]:
    """6 Feb 2026 every 10 minutes: down to ~60,000 by morning, then the rip towards 71,422."""
    out = []
    for i in range(144):
        price = 62_600 - 2_600 * i / 40 if i < 40 else 60_000 + 11_400 * (i - 40) / 104
        out.append((MIDNIGHT + i * 600, price))
    return tuple(out)


class Harness(App[None]):
    """The app's theme set-up (themes, semantic defaults) around the widgets under test."""

    def __init__(self, make: Callable[[], Iterator[Widget]]) -> None:
        super().__init__()
        self._make = make
        self.selected: list[str] = []
        for theme in THEMES:
            self.register_theme(theme)
        self.theme = DEFAULT_THEME

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return {**super().get_theme_variable_defaults(), **SEMANTIC_DEFAULTS}

    def compose(self) -> ComposeResult:
        yield from self._make()

    def on_bucket_pane_selected(self, message: BucketPane.Selected) -> None:
        self.selected.append(message.key)


def screen(app: App[None], *, styles: bool = False) -> str:
    """What the terminal shows (plain text, or with its escape codes when ``styles``)."""
    console = Console(
        width=app.size.width,
        height=app.size.height,
        file=io.StringIO(),
        record=True,
        force_terminal=True,
        color_system="truecolor",
    )
    console.print(app.screen._compositor.render_update(full=True))
    return console.export_text(styles=styles)


@dataclass(frozen=True)
class Shown:
    """What a price pane showed: the screen, its state classes and its big digits."""

    text: str
    classes: frozenset[str]
    digits: str | None
    """The big digits' value, ``None`` when they were hidden."""


async def show_price(view: PriceView | None, size: tuple[int, int]) -> Shown:
    app = Harness(lambda: iter([PricePane()]))
    async with app.run_test(size=size) as pilot:
        pane = app.query_one(PricePane)
        pane.view = view
        await pilot.pause()
        digits = pane.query_one(Digits)
        return Shown(screen(app), frozenset(pane.classes), digits.value if digits.display else None)


# --- PricePane -------------------------------------------------------------------------------


async def test_price_pane_compact_shows_price_pivot_bands_day_and_venues() -> None:
    # 51 columns: the price pane's width inside the 80×24 dashboard.
    shown = await show_price(VIEW, (51, 12))
    text = shown.text
    assert shown.digits == "69,816"
    assert "▼ -0.26% below $70,000 pivot" in text
    assert "inside band $66,900–$70,600" in text
    assert "above retest $50,000–$60,000" in text
    assert "band: Glassnode, Feb 2026" in text
    assert "day O 62,625 H 71,422 L 60,020 C 69,816 · +11.5%" in text
    assert "rejected 3× (±0.3%) · +16.3% off the low" in text
    assert "spread $12 across 2 venues" in text
    assert "coinbase 69,823 · kraken 69,810" in text
    assert "-bearish" in shown.classes
    assert "-bullish" not in shown.classes
    assert max(len(line.rstrip()) for line in text.splitlines()) <= 51


async def test_price_pane_wide_uses_the_room() -> None:
    text = (await show_price(VIEW, (130, 12))).text
    assert "▼ -0.26% below the $70,000 pivot" in text
    assert "inside the $66,900–$70,600 band (Glassnode, Feb 2026)" in text
    assert "above the $50,000–$60,000 retest band" in text
    assert "day O 62,625 H 71,422 L 60,020 C 69,816 · +11.5% · +16.3% off the low" in text
    assert "high 71,422 tested and rejected 3× (±0.3%)" in text
    # Stale venues dimmed with their age, fresh ones with theirs, a missing one never as 0.
    assert "coinbase 69,823 4s · kraken 69,810 5s · bitstamp 69,811 stale 7m · deribit ✕" in text


async def test_price_pane_narrow_drops_the_big_digits_but_keeps_the_price() -> None:
    shown = await show_price(VIEW, (40, 14))
    assert shown.digits is None
    text = shown.text
    assert "$69,816 · ● consensus 4s" in text
    assert "▼ -0.26% below $70,000 pivot" in text


async def test_price_pane_above_pivot_is_bullish() -> None:
    view = replace(VIEW, price=70_147.0, distance_pct=0.21, absorption_position="inside")
    shown = await show_price(view, (130, 12))
    assert "▲ +0.21% above the $70,000 pivot" in shown.text
    assert "-bullish" in shown.classes
    assert "-bearish" not in shown.classes


async def test_missing_price_says_why_and_never_shows_zero() -> None:
    view = replace(
        VIEW, price=None, age_s=None, missing="offline: connection refused", distance_pct=None
    )
    view = replace(view, absorption_position=None, retest_position=None, spread_usd=None)
    shown = await show_price(view, (130, 12))
    text = shown.text
    assert "-missing" in shown.classes
    assert shown.digits is None
    assert "✕ offline: connection refused" in text
    assert "band $66,900–$70,600" in text
    assert "spread: needs 2 fresh venues (2 now)" in text
    assert "$0 " not in text
    assert "0.00%" not in text


async def test_stale_price_says_so_with_its_age() -> None:
    shown = await show_price(replace(VIEW, stale=True, age_s=420.0), (51, 12))
    assert "-stale" in shown.classes
    assert "◐ stale 7m" in shown.text


async def test_price_pane_before_the_first_prices() -> None:
    shown = await show_price(None, (51, 12))
    assert "waiting for the first prices" in shown.text
    assert shown.digits is None
    assert "$0" not in shown.text


async def test_day_without_candles_and_high_without_history() -> None:
    no_day = replace(VIEW, day_open=None, day_high=None, day_low=None, day_close=None)
    no_day = replace(no_day, day_change_pct=None, off_low_pct=None, high_rejections=None)
    assert "day: no candles yet" in (await show_price(no_day, (130, 12))).text
    no_history = replace(VIEW, high_rejections=None)
    text = (await show_price(no_history, (130, 12))).text
    assert "high 71,422: no intraday history yet" in text


# --- untrusted text ----------------------------------------------------------------------------


def test_printable_replaces_every_control_character() -> None:
    assert printable("a\x1b[31mb\x07\n\x7f\x9b") == "a␛[31mb␇␊␡\ufffd"
    assert literal("[b]x[/b]").plain == "[b]x[/b]"


async def test_untrusted_text_is_shown_literally_everywhere() -> None:
    view = replace(VIEW, price=None, missing=UNTRUSTED, distance_pct=None)
    view = replace(view, absorption=Band(66_900.0, 70_600.0, UNTRUSTED))
    chip = StatusChip("kraken", "✕", UNTRUSTED, "missing")

    def make() -> Iterator[Widget]:
        yield ModeBanner()
        yield PricePane()
        yield StatusStrip()

    app = Harness(make)
    async with app.run_test(size=(130, 16)) as pilot:
        app.query_one(PricePane).view = view
        app.query_one(StatusStrip).chips = (chip,)
        app.query_one(ModeBanner).label = UNTRUSTED
        await pilot.pause()
        text = screen(app)
        styled = screen(app, styles=True)
    assert text.count("[bold red]x[/] ␛[31mred") == 3
    assert "\x1b[31m" not in styled  # the ESC never reaches the terminal


# --- StatusStrip -------------------------------------------------------------------------------

CHIPS = (
    StatusChip("bitstamp", "◐", "stale 7m", "stale"),
    StatusChip("coinbase", "●", "4s", "ok"),
    StatusChip("deribit", "✕", "offline", "missing"),
    StatusChip("kraken", "▲", "rate-limited until 14:05 UTC", "limited"),
    StatusChip("consensus", "●", "4s", "ok"),
)


async def test_status_strip_shows_every_chip_and_pause() -> None:
    app = Harness(lambda: iter([StatusStrip()]))
    async with app.run_test(size=(160, 5)) as pilot:
        strip = app.query_one(StatusStrip)
        strip.chips = CHIPS
        await pilot.pause()
        assert screen(app).splitlines()[0].startswith("bitstamp ◐ stale 7m  coinbase ● 4s")
        assert "kraken ▲ rate-limited until 14:05 UTC  consensus ● 4s" in screen(app)
        strip.paused = True
        await pilot.pause()
        assert screen(app).splitlines()[0].startswith("⏸ paused  bitstamp ◐ stale 7m")
        assert strip.has_class("-paused")
        strip.paused = False
        await pilot.pause()
        assert "paused" not in screen(app)


async def test_status_strip_wraps_whole_chips_onto_two_lines_at_most() -> None:
    app = Harness(lambda: iter([StatusStrip()]))
    async with app.run_test(size=(60, 10)) as pilot:
        strip = app.query_one(StatusStrip)
        strip.chips = CHIPS
        strip.paused = True
        await pilot.pause()
        assert strip.size.height == 2
        lines = [line.rstrip() for line in screen(app).splitlines()[:2]]
        # Too many for two lines: the sources in trouble stay in full, those that answer fold.
        assert lines[0] == "⏸ paused  bitstamp ◐ stale 7m  deribit ✕ offline"
        assert lines[1] == "kraken ▲ rate-limited until 14:05 UTC  ● 2 ok"
        await pilot.resize_terminal(160, 10)
        await pilot.pause()
        assert strip.size.height == 1
        assert "consensus ● 4s" in screen(app).splitlines()[0]


# --- BucketPane --------------------------------------------------------------------------------


def panes() -> Iterator[Widget]:
    yield BucketPane(BUCKETS[0], Digits("1"), number=1, has_source=True, id="pane-price")
    yield BucketPane(BUCKETS[5], Digits("2"), number=6, has_source=False, id="pane-onchain")


async def test_bucket_pane_title_and_placeholder_without_source() -> None:
    app = Harness(panes)
    async with app.run_test(size=(80, 24)):
        price, onchain = app.query(BucketPane)
        assert price.border_title == "1 Price"
        assert onchain.border_title == "6 On-chain"
        text = screen(app)
    assert "no source yet" in text
    assert "from glassnode, coinmetrics" in text
    assert "Realized loss (7-day mean)" in text
    assert len(onchain.query(Digits)) == 0  # no numbers in a pane without a source


async def test_bucket_pane_posts_selected_on_enter_and_click() -> None:
    app = Harness(panes)
    async with app.run_test(size=(80, 24)) as pilot:
        price, onchain = app.query(BucketPane)
        price.focus()
        await pilot.pause()
        blurred = onchain.styles.border_top
        focused = price.styles.border_top
        assert focused != blurred  # focus is visible
        await pilot.press("enter")
        await pilot.click("#pane-onchain")
        await pilot.pause()
    assert app.selected == ["price", "onchain"]
    assert [b.id for b in BucketPane.BINDINGS if isinstance(b, Binding)] == ["drill"]


# --- ModeBanner --------------------------------------------------------------------------------


async def test_mode_banner_hidden_until_labelled() -> None:
    app = Harness(lambda: iter([ModeBanner()]))
    async with app.run_test(size=(80, 5)) as pilot:
        banner = app.query_one(ModeBanner)
        await pilot.pause()
        assert not banner.display
        banner.label = "DEMO · scenario 5–6 Feb 2026 · not live"
        await pilot.pause()
        assert banner.display
        assert banner.has_class("-demo")
        top = screen(app).splitlines()[0]
        assert top.strip() == "DEMO · scenario 5–6 Feb 2026 · not live"  # centred, never cut
        banner.label = ""
        await pilot.pause()
        assert not banner.display


# --- PivotChart --------------------------------------------------------------------------------


async def ready(pilot: Pilot[None], app: App[None]) -> None:
    """Let the chart's one-off plotext import finish and the frame after it render."""
    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.pause()


async def test_chart_plots_price_with_labelled_lines() -> None:
    app = Harness(lambda: iter([PivotChart()]))
    async with app.run_test(size=(100, 24)) as pilot:
        chart = app.query_one(PivotChart)
        chart.data = ChartData("1D", day_points(), LINES, "consensus price")
        await ready(pilot, app)
        text = screen(app)
    assert text.splitlines()[0].startswith("1D · consensus price")
    assert "pivot 70,000" in text
    assert "retest 60,000" in text
    assert "00:00" in text  # a time axis, not epoch seconds
    top = max(price for _, price in day_points())
    assert f"{top:,.0f}┤" in text  # the price's top as a tick, formatted like money
    assert re.search(r"[⠁-⣿]", text)  # the braille price line


async def test_chart_without_points_is_one_note_and_no_axes() -> None:
    app = Harness(lambda: iter([PivotChart()]))
    async with app.run_test(size=(100, 24)) as pilot:
        chart = app.query_one(PivotChart)
        note = "no 1W history yet: it builds up while btcwatch runs"
        chart.data = ChartData("1W", (), LINES, note)
        await ready(pilot, app)
        text = screen(app)
    assert text.splitlines()[0].strip() == note
    assert "┤" not in text
    assert text.strip() == note
    assert chart.plot_count == 0


async def test_chart_replots_on_theme_and_size_but_caches_otherwise() -> None:
    app = Harness(lambda: iter([PivotChart()]))
    async with app.run_test(size=(100, 24)) as pilot:
        chart = app.query_one(PivotChart)
        chart.data = ChartData("1D", day_points(), LINES, "consensus price")
        await ready(pilot, app)
        first = chart.plot_count
        before = screen(app, styles=True)
        assert first >= 1
        chart.refresh()
        await pilot.pause()
        assert chart.plot_count == first  # same data, size and theme: the cached plot
        app.theme = "btcwatch-light"
        await pilot.pause()
        await pilot.pause()
        assert chart.plot_count == first + 1
        assert screen(app, styles=True) != before
        await pilot.resize_terminal(120, 30)
        await pilot.pause()
        assert chart.plot_count == first + 2


def test_lines_near_the_price_only() -> None:
    # A quiet day near $70k: the pivot and the band's top show, the $50k–$60k retest does not.
    quiet = tuple((MIDNIGHT + i * 600, 69_500 + 5 * i) for i in range(140))
    shown = {line.label for line in lines_in_view(ChartData("1D", quiet, LINES, ""), 30)}
    assert shown == {"pivot 70,000", "band 70,600"}
    # The article's day spans 60,000–71,400, so every line but the $50k edge is near.
    shown = {line.label for line in lines_in_view(ChartData("1D", day_points(), LINES, ""), 40)}
    assert shown == {"pivot 70,000", "band 70,600", "band 66,900", "retest 60,000"}
    # Four rows leave room for one line: the pivot.
    shown = {line.label for line in lines_in_view(ChartData("1D", day_points(), LINES, ""), 4)}
    assert shown == {"pivot 70,000"}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("ansi_red", 1),
        ("ansi_bright_black", 8),
        ("#F7931A", (247, 147, 26)),
        ("ansi_default", None),
    ],
)
def test_plot_colour_keeps_ansi_as_palette_indices(
    value: str, expected: int | tuple[int, int, int] | None
) -> None:
    assert plot_colour(value) == expected
    assert plot_colour("auto 87%") is None


def test_literal_styles_with_theme_variables() -> None:
    content = literal("▼ -0.26%", "$bearish")
    assert isinstance(content, Content)
    assert [span.style for span in content.spans] == ["$bearish"]
