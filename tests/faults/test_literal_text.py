"""Text from the network is shown as typed: Textual markup is not read, escapes never reach the
terminal (a hostile provider message, a hostile fund name, through the engine to the screen)."""

from __future__ import annotations

import dataclasses

from tests.conftest import body
from tests.faults.bodies import MOMENT, ok_bodies
from tests.faults.conftest import SourceServer
from tests.localserver import Reply
from tests.tui.conftest import screen_text
from tui.app import BtcwatchApp, Session
from tui.core import config
from tui.core.clock import FixedClock
from tui.core.engine import Engine
from tui.core.http import HttpSettings
from tui.core.model import Board, Status
from tui.core.sources import registry
from tui.core.store import Store
from tui.screens.drilldown import DrilldownScreen

#: Markup that would style, click (quit the app) or fail to parse; escapes that would clear the
#: screen, retitle the terminal window and colour the rest (the C1 form of CSI).
MARKUP = ("[bold red]x[/]", "[@click=app.quit]q[/]", "[/")
ESCAPES = ("\x1b[2J", "\x1b]0;pwned\x07", "\x9b31m")
HOSTILE = " ".join((*MARKUP, *ESCAPES))
SPECS = tuple(
    dataclasses.replace(registry.by_name(n), min_spacing_s=0.0)
    for n in ("coinbase", "kraken", "farside")
)
HTTP = HttpSettings(connect_timeout_s=1.0, read_timeout_s=1.0, retries=0)


def hostile_farside_page() -> bytes:
    """The recorded Farside page with one fund's ticker (FBTC) replaced by the hostile text."""
    page = body("farside", "btc_page_2026-07-23.html").decode()
    assert page.count("FBTC</span>") == 1
    return page.replace("FBTC</span>", HOSTILE + "</span>").encode()


async def hostile_board(server: SourceServer, store: Store) -> Board:
    """One poll: Coinbase answers 400 with the hostile text as its message, Farside's table
    names a hostile fund, Kraken answers normally."""
    coinbase, kraken, farside = SPECS
    server.serve(coinbase, {"ticker": [Reply.json({"message": HOSTILE}, status=400)]})
    server.serve(kraken, {k: [Reply(200, b)] for k, b in ok_bodies(kraken).items()})
    server.serve(farside, {"flows": [Reply(200, hostile_farside_page())]})
    sources = {s.name: config.SourceSettings(base_url=server.base_for(s)) for s in SPECS}
    engine = Engine(
        config.Settings(sources=sources),
        FixedClock(MOMENT),
        store,
        sources=SPECS,
        http_settings=HTTP,
    )
    board = await engine.poll_once(deadline_s=10.0)
    await engine.aclose()
    return board


async def test_the_hostile_text_reaches_the_statuses_as_plain_words(server: SourceServer) -> None:
    board = await hostile_board(server, Store.open(None))
    coinbase = board.statuses["coinbase"]
    assert coinbase.status is Status.HTTP_ERROR
    for piece in MARKUP:
        assert piece in coinbase.detail  # kept: shown literally, not dropped
    farside = board.statuses["farside"]
    assert farside.status is Status.PARSE_ERROR
    assert "[bold red]x[/]" in farside.detail  # the fund name is quoted, not obeyed
    for status in (coinbase, farside):
        assert not any(ch in status.detail for ch in "\x1b\x07\x9b"), status.detail


def assert_literal(text: str) -> None:
    assert "[bold red]x[/]" in text
    assert "[@click=app.quit]q[/]" in text
    assert not any(ch in text for ch in "\x1b\x07\x9b")


async def test_status_strip_and_drill_down_show_it_literally(server: SourceServer) -> None:
    store = Store.open(None)
    board = await hostile_board(server, store)
    app = BtcwatchApp(Session(config.Settings(), "live", poll=False), store=store, board=board)
    async with app.run_test(size=(240, 60)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert_literal(screen_text(app))
        await pilot.press("enter")  # the price bucket: Coinbase's status history and raw body
        assert isinstance(app.screen, DrilldownScreen)
        await app.workers.wait_for_complete()
        await pilot.pause(0.2)
        assert_literal(screen_text(app))
        # A click where the link would be does nothing: there is no link.
        await pilot.click(offset=(0, 0))
        assert app.is_running


def escaped_app() -> BtcwatchApp:
    """The app on a Board whose Coinbase status carries the hostile text, escapes included (as
    any path that quotes a body into a status would bring them: a parser's message)."""
    from tui.core.model import SourceStatus

    store = Store.open(None)
    status = SourceStatus("coinbase", Status.PARSE_ERROR, "parse error: " + HOSTILE, None, MOMENT)
    store.record_status(status)
    board = Board("live", MOMENT).with_updates(now=MOMENT, statuses=[status])
    return BtcwatchApp(Session(config.Settings(), "live", poll=False), store=store, board=board)


async def test_escapes_in_a_status_are_visible_stand_ins_on_the_dashboard() -> None:
    app = escaped_app()
    async with app.run_test(size=(240, 60)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        text = screen_text(app)
        assert_literal(text)
        assert "\u241b[2J" in text  # ␛[2J: visible, inert


async def test_escapes_in_a_status_are_visible_stand_ins_in_the_drill_down() -> None:
    app = escaped_app()
    async with app.run_test(size=(240, 60)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.press("enter")
        assert isinstance(app.screen, DrilldownScreen)
        await app.workers.wait_for_complete()
        await pilot.pause(0.2)
        text = screen_text(app)
        assert "[@click=app.quit]q[/]" in text
        assert "\u241b[2J" in text
        assert_literal(text)
