"""The drill-down and help screens, driven by pilot on hand-built views from real bodies."""

from __future__ import annotations

import asyncio
import io
import json
import re
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from rich.console import Console
from rich.text import Text
from textual.app import App
from textual.content import Content
from textual.coordinate import Coordinate
from textual.screen import Screen
from textual.widgets import DataTable, Static, TextArea

from tests.conftest import body
from tui.core.model import Board, SourceStatus, Status
from tui.core.sources import coinbase, kraken, registry
from tui.core.views import BUCKETS, DrilldownView, EndpointView, SourceDetail, bucket, pretty_body
from tui.screens.drilldown import THROTTLE_S, DrilldownScreen
from tui.screens.help import HelpScreen

#: Seven minutes after the recorded Coinbase ticker's own ``time`` (2026-06-19T16:43:33Z).
NOW = datetime(2026, 6, 19, 16, 50, 40, tzinfo=UTC)
MARKUP = "[bold]x[/]"
BINDINGS = [
    ("q", "quit"),
    ("?", "help"),
    ("r", "refresh now"),
    ("p", "pause / resume polling"),
    ("enter", "drill into the focused pane"),
    ("escape", "back"),
    ("[", "previous chart range"),
    ("]", "next chart range"),
]


def _view() -> DrilldownView:
    """The price bucket: Kraken fresh (real ticker body), Coinbase stale with a hostile detail."""
    kraken_raw = body("kraken", "ticker.json")
    coinbase_raw = body("coinbase", "ticker.json")
    kraken_at, coinbase_at = NOW - timedelta(seconds=8), NOW - timedelta(minutes=7, seconds=7)
    obs = [
        *kraken.parse_ticker(json.loads(kraken_raw), kraken_at),
        *coinbase.parse_ticker(json.loads(coinbase_raw), coinbase_at),
    ]
    board = Board("live", NOW, stale_after={"kraken": 60.0, "coinbase": 60.0})
    board = board.with_updates(now=NOW, observations=obs)
    ok = SourceStatus("kraken", Status.OK, last_ok_at=kraken_at, last_attempt_at=kraken_at)
    limited = SourceStatus(
        "kraken",
        Status.RATE_LIMITED,
        detail="rate-limited until 16:49 UTC",
        last_attempt_at=NOW - timedelta(minutes=2),
        until=NOW - timedelta(minutes=1, seconds=30),
    )
    broken = SourceStatus(
        "coinbase", Status.PARSE_ERROR, detail=MARKUP, last_ok_at=coinbase_at, last_attempt_at=NOW
    )
    k, c = kraken.SPEC, coinbase.SPEC
    kraken_ticker = EndpointView(
        "ticker",
        k.endpoints[0].url(k.base_url),
        15.0,
        200,
        123.4,
        len(kraken_raw),
        kraken_at,
        pretty_body(kraken_raw),
    )
    kraken_ohlc = EndpointView(
        "ohlc", k.endpoints[1].url(k.base_url), 300.0, None, None, None, None, ""
    )
    coinbase_ticker = EndpointView(
        "ticker", c.endpoints[0].url(c.base_url), 15.0, 200, 80.0, 9, NOW, '{"oops": '
    )
    return DrilldownView(
        bucket("price"),
        tuple(board.readings()),
        (
            SourceDetail(
                k.name, k.title, k.docs_url, ok, (kraken_ticker, kraken_ohlc), (ok, limited)
            ),
            SourceDetail(c.name, c.title, c.docs_url, broken, (coinbase_ticker,), (broken,)),
        ),
    )


class _Loader:
    """A load function that records its calls and threads, and can be held back."""

    def __init__(self, view: DrilldownView) -> None:
        self.view = view
        self.calls = 0
        self.threads: list[int] = []
        self.gate = threading.Event()
        self.gate.set()

    def __call__(self) -> DrilldownView:
        self.calls += 1
        self.threads.append(threading.get_ident())
        self.gate.wait(5)
        return self.view


class _App(App[None]):
    def __init__(self, make: Callable[[], Screen[None]]) -> None:
        super().__init__()
        self.make = make
        self.animation_level = "none"  # deterministic: no scroll animations to wait for

    def on_mount(self) -> None:
        self.push_screen(self.make())


def _plain(static: Static) -> str:
    """What a Static shows, as plain text (Content as is; Rich renderables rendered wide)."""
    content = static.content
    if isinstance(content, str | Content):
        return str(content)
    console = Console(width=200, file=io.StringIO(), record=True)
    console.print(content)
    return "\n".join(line.rstrip() for line in console.export_text().splitlines())


def _text(screen: Screen[None]) -> str:
    """Every Static's text on the screen (what it renders, not markup)."""
    return "\n".join(_plain(s) for s in screen.query(Static))


def _column(table: DataTable[Text], col: int) -> list[str]:
    return [table.get_cell_at(Coordinate(r, col)).plain for r in range(table.row_count)]


async def _loaded(app: _App) -> DrilldownScreen:
    """The drill-down once its load finished and the result was rendered."""
    screen = app.screen
    assert isinstance(screen, DrilldownScreen)
    await screen.workers.wait_for_complete()
    for _ in range(10):  # the StateChanged message, then what rendering it mounts
        if screen.has_class("-loaded"):
            break
        await app.workers.wait_for_complete()
        await screen.workers.wait_for_complete()
        await asyncio.sleep(0.01)
    assert screen.has_class("-loaded")
    return screen


async def test_drilldown_loads_in_a_thread_then_shows_readings_and_body() -> None:
    loader = _Loader(_view())
    loader.gate.clear()
    app = _App(lambda: DrilldownScreen("price", loader))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, DrilldownScreen)
        assert "loading Price…" in _text(screen)
        assert not screen.has_class("-loaded")
        loader.gate.set()
        await screen.workers.wait_for_complete()
        await pilot.pause()
        await pilot.pause()
        assert screen.has_class("-loaded")
        assert "loading" not in _text(screen)
        readings: DataTable[Text] = screen.query_one("#dd-readings", DataTable)
        ids = _column(readings, 0)
        assert "btc.price.kraken" in ids
        assert "btc.price.coinbase" in ids
        values = _column(readings, 1)
        assert "30,303.20 USD" in values  # c[0] of the recorded Kraken ticker
        stale = dict(zip(ids, _column(readings, 5), strict=True))
        assert stale["btc.price.coinbase"] == "◐ stale"
        assert stale["btc.price.kraken"] == ""
        observed = dict(zip(ids, _column(readings, 3), strict=True))
        assert observed["btc.price.coinbase"] == "16:43:33"  # the body's own time, in UTC
        assert dict(zip(ids, _column(readings, 4), strict=True))["btc.price.coinbase"] == "7m"
        body_text = screen.query_one("#dd-body", TextArea).text
        assert '"XXBTZUSD"' in body_text
        assert "Kraken" in _text(screen)
        assert kraken.SPEC.docs_url in _text(screen)
    assert loader.calls == 1
    assert loader.threads[0] != threading.main_thread().ident


async def test_drilldown_lists_endpoints_history_and_literal_text_side_by_side() -> None:
    app = _App(lambda: DrilldownScreen("price", _Loader(_view())))
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        screen = await _loaded(app)
        await pilot.pause()
        endpoints: DataTable[Text] = screen.query_one("#dd-endpoints", DataTable)
        assert _column(endpoints, 0) == ["kraken", "kraken", "coinbase"]
        assert _column(endpoints, 1) == ["ticker", "ohlc", "ticker"]
        assert _column(endpoints, 2) == ["200", "—", "200"]
        assert _column(endpoints, 3) == ["123 ms", "—", "80 ms"]
        text = _text(screen)
        for url in (
            "https://api.kraken.com/0/public/Ticker?pair=XBTUSD",
            kraken.SPEC.endpoints[1].url(kraken.SPEC.base_url),
            coinbase.SPEC.endpoints[0].url(coinbase.SPEC.base_url),
        ):
            assert url in text
        assert "ticker 15s" in text
        assert "ohlc 5m" in text
        history: DataTable[Text] = screen.query_one("#dd-history", DataTable)
        kraken_rows = [
            s
            for s, src in zip(_column(history, 2), _column(history, 1), strict=True)
            if src == "kraken"
        ]
        assert kraken_rows == ["● ok", "▲ rate-limited"]
        # Text from the network is never markup.
        assert MARKUP in _column(history, 3)
        assert f"✕ {MARKUP}" in text
        # The pane opens on the first endpoint with a body, and follows the endpoint cursor.
        raw_body = screen.query_one("#dd-body", TextArea)
        assert '"XXBTZUSD"' in raw_body.text
        endpoints.focus()
        await pilot.press("down")
        await pilot.pause()
        assert raw_body.text == ""
        assert "kraken / ohlc · nothing stored yet" in _text(screen)
        await pilot.press("down")
        await pilot.pause()
        assert raw_body.text == '{"oops": '  # not JSON: shown as it came
        # Wide: the raw body sits beside the tables, not under them.
        info, raw = screen.query_one("#dd-info"), screen.query_one("#dd-raw")
        assert raw.region.x > info.region.x
        assert raw.region.y == info.region.y


async def test_drilldown_stacks_at_80_columns_and_escape_goes_back() -> None:
    app = _App(lambda: DrilldownScreen("price", _Loader(_view())))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        screen = await _loaded(app)
        await pilot.pause()
        info, raw = screen.query_one("#dd-info"), screen.query_one("#dd-raw")
        assert raw.region.y > info.region.y
        assert raw.region.height >= 6
        # Tab walks the sections, from the scrolling info column to the raw body and round.
        assert screen.focused is info
        order = []
        for _ in range(5):
            await pilot.press("tab")
            assert screen.focused is not None
            order.append(screen.focused.id)
        assert order == ["dd-readings", "dd-endpoints", "dd-history", "dd-body", "dd-info"]
        await pilot.press("shift+tab")
        assert screen.focused is not None
        assert screen.focused.id == "dd-body"
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, DrilldownScreen)


async def test_reload_is_throttled_and_never_overlaps() -> None:
    loader = _Loader(_view())
    clock = [1000.0]
    screen = DrilldownScreen("price", loader)
    screen.monotonic = lambda: clock[0]
    app = _App(lambda: screen)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await _loaded(app)
        assert loader.calls == 1
        clock[0] += THROTTLE_S - 0.1
        screen.reload()
        await screen.workers.wait_for_complete()
        assert loader.calls == 1
        clock[0] += 0.2
        loader.gate.clear()
        screen.reload()
        await pilot.pause()
        assert loader.calls == 2
        # A load is running: even long after, no second one starts.
        clock[0] += 60
        screen.reload()
        await pilot.press("r")
        assert loader.calls == 2
        assert "refreshing…" in _text(screen)
        loader.gate.set()
        await screen.workers.wait_for_complete()
        await pilot.pause()
        assert "refreshing" not in _text(screen)
        await pilot.press("r")
        await screen.workers.wait_for_complete()
        assert loader.calls == 3


async def test_a_failed_load_is_a_line_not_a_crash() -> None:
    def fail() -> DrilldownView:
        raise OSError("database is locked")

    app = _App(lambda: DrilldownScreen("price", fail))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await app.screen.workers.wait_for_complete()
        await pilot.pause()
        assert "could not load Price: database is locked" in _text(app.screen)
        assert app.is_running


async def test_bucket_without_sources_says_so() -> None:
    info = bucket("derivatives")
    app = _App(lambda: DrilldownScreen("derivatives", _Loader(DrilldownView(info, (), ()))))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        screen = await _loaded(app)
        await pilot.pause()
        assert "no source yet — coming with deribit, binance, bybit, okx" in _text(screen)
        assert not screen.query_one("#dd-raw").display
        assert not screen.query_one("#dd-endpoints").display


async def test_help_lists_every_key_bucket_and_source() -> None:
    app = _App(lambda: HelpScreen(BINDINGS, BUCKETS, registry.ALL))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        text = _text(app.screen)
        keys = _plain(app.screen.query_one("#help-keys", Static)).splitlines()
        width = max(len(k) for k, _ in BINDINGS)
        assert keys == [f"{k:<{width}}  {what}" for k, what in BINDINGS]  # every key, in order
        panes = _plain(app.screen.query_one("#help-panes", Static))
        for i, b in enumerate(BUCKETS, start=1):
            title, about = re.escape(f"{i} {b.title}"), re.escape(b.about)
            assert re.search(rf"^{title} +{about}$", panes, re.MULTILINE)
            feeds = re.escape(", ".join(b.providers))
            assert re.search(rf"^ +from {feeds}", panes, re.MULTILINE)
        for s in registry.ALL:
            assert s.title in text
            assert s.docs_url in text
            for ep in s.endpoints:
                assert ep.url(s.base_url) in text
        glyphs = _plain(app.screen.query_one("#help-glyphs", Static)).splitlines()
        for glyph, word in zip(
            "●◐✕▲◌○·",
            ("ok", "stale", "missing", "rate-limited", "waiting", "needs a key", "disabled"),
            strict=True,
        ):
            assert any(line.startswith(f"{glyph}  {word}: ") for line in glyphs), glyph
        assert any(line.startswith("Demo and replay data are labelled") for line in glyphs)


async def test_help_closes_on_escape_question_mark_q_and_f1() -> None:
    app = _App(lambda: HelpScreen(BINDINGS, BUCKETS, registry.ALL))
    async with app.run_test(size=(80, 24)) as pilot:
        for key in ("escape", "question_mark", "q", "f1"):
            await pilot.pause()
            assert isinstance(app.screen, HelpScreen)
            await pilot.press(key)
            await pilot.pause()
            assert not isinstance(app.screen, HelpScreen), key
            app.push_screen(HelpScreen(BINDINGS, BUCKETS, registry.ALL))
