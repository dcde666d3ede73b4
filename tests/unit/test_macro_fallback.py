"""Yahoo fails, Stooq serves: the whole path through the engine (MockTransport) to the pane."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from urllib.parse import unquote

import httpx

from tests.conftest import body
from tui.core import config
from tui.core.clock import FixedClock
from tui.core.engine import Engine
from tui.core.http import HttpSettings
from tui.core.model import Status
from tui.core.panes.macro import view
from tui.core.sources import fred, stooq, yahoo
from tui.core.sources.spec import SourceSpec
from tui.core.store import Store

NOW = datetime(2020, 8, 8, 12, 0, tzinfo=UTC)  # the day after the recorded Stooq row


def chart_for(request: httpx.Request) -> httpx.Response:
    """The recorded GC=F chart, relabelled as the symbol asked for (the parser checks it)."""
    symbol = unquote(request.url.path.rsplit("/", 1)[-1])
    doc = json.loads(body("yahoo", "chart_gc_f_1d.json"))
    doc["chart"]["result"][0]["meta"]["symbol"] = symbol
    return httpx.Response(200, json=doc)


def handler(
    yahoo_reply: Callable[[httpx.Request], httpx.Response], asked: list[str]
) -> httpx.MockTransport:
    # The recorded Stooq row is AAPL.US; renamed to ^SPX it is the S&P 500's quote.
    csv = body("stooq", "quote_aapl_us.csv").decode().replace("AAPL.US", "^SPX")

    def handle(request: httpx.Request) -> httpx.Response:
        asked.append(request.url.host)
        if request.url.host == "query1.finance.yahoo.com":
            return yahoo_reply(request)
        if request.url.host == "stooq.com":
            return httpx.Response(200, text=csv, headers={"content-type": "text/csv"})
        return httpx.Response(404, text="not here")

    return httpx.MockTransport(handle)


async def poll(
    reply: Callable[[httpx.Request], httpx.Response],
    primary: SourceSpec = yahoo.SPEC,
    now: datetime = NOW,
) -> tuple[list[str], Engine]:
    asked: list[str] = []
    engine = Engine(
        config.Settings(),
        FixedClock(now),
        Store.open(None),
        transport=handler(reply, asked),
        sources=[primary, stooq.SPEC, fred.SPEC],
        http_settings=HttpSettings(retries=0),
    )
    await engine.poll_once()
    await engine.aclose()
    return asked, engine


async def test_yahoo_rate_limited_in_plain_text_then_stooq_serves_and_the_pane_says_so() -> None:
    def too_many(request: httpx.Request) -> httpx.Response:
        return httpx.Response(429, content=body("yahoo", "rate_limited_429.txt"))

    asked, engine = await poll(too_many)
    board = engine.board
    assert board.statuses["yahoo"].status is Status.RATE_LIMITED
    assert asked.count("query1.finance.yahoo.com") == 1  # the host said stop: no more this round
    assert board.statuses["stooq"].status is Status.OK
    spx = board.reading("macro.spx", "stooq")
    assert spx is not None
    assert spx.observation.value == 444.45
    rows = {r.label: r for r in view(board, config.Settings()).rows}
    assert "stooq (fallback)" in rows["S&P 500"].detail
    assert rows["S&P 500"].value == "444.45"


async def test_while_yahoo_answers_the_fallbacks_are_not_asked() -> None:
    # Gold only: the recorded chart is GC=F's, taken on 20 Feb 2025.
    gold = replace(yahoo.SPEC, endpoints=tuple(e for e in yahoo.SPEC.endpoints if e.key == "gold"))
    asked, engine = await poll(chart_for, gold, datetime(2025, 2, 20, 12, tzinfo=UTC))
    assert engine.board.statuses["yahoo"].status is Status.OK
    assert "stooq.com" not in asked
    assert "fred.stlouisfed.org" not in asked
    assert engine.board.statuses["stooq"].detail == "standby: yahoo answers"
