"""The engine with MockTransport and a fixed clock: fetch, parse, store, derive, publish."""

from __future__ import annotations

import asyncio
import itertools
import json
import statistics
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import httpx
import pytest

from tests.conftest import body
from tests.faults.bodies import ok_bodies
from tui.core import config
from tui.core.clock import FixedClock, ReplayClock
from tui.core.engine import Engine
from tui.core.errors import ParseError
from tui.core.http import HttpSettings
from tui.core.model import CONSENSUS, Observation, Status, Update
from tui.core.sources import registry
from tui.core.sources.spec import Endpoint, SourceSpec
from tui.core.store import Store

NOW = datetime(2026, 2, 6, 15, 0, tzinfo=UTC)
FAST = HttpSettings(retries=0, connect_timeout_s=1, read_timeout_s=1)

Handler = Callable[[httpx.Request], Awaitable[httpx.Response] | httpx.Response]


def real_bodies(now: datetime, prices: dict[str, float]) -> dict[str, bytes]:
    """The providers' real published bodies, with price and time set to the test's moment."""
    coinbase = json.loads(body("coinbase", "ticker.json"))
    coinbase["price"] = str(prices["coinbase"])
    coinbase["time"] = now.isoformat().replace("+00:00", "Z")
    kraken = json.loads(body("kraken", "ticker.json"))
    (entry,) = kraken["result"].values()
    k = prices["kraken"]
    entry["c"][0] = f"{k:.5f}"
    entry["o"], entry["h"][0], entry["l"][0] = f"{k - 500:.5f}", f"{k + 900:.5f}", f"{k - 800:.5f}"
    bitstamp = json.loads(body("bitstamp", "ticker_btc_usdt.json"))
    bitstamp["last"] = str(prices["bitstamp"])
    bitstamp["timestamp"] = str(int(now.timestamp()))
    envelope = json.loads(body("deribit", "ticker_btc_perpetual.json"))
    envelope["result"] = json.loads(body("deribit", "index_price_result.json"))
    envelope["result"]["index_price"] = prices["deribit"]
    envelope["usOut"] = int(now.timestamp() * 1_000_000)
    return {
        "/products/BTC-USD/ticker": json.dumps(coinbase).encode(),
        "/0/public/Ticker": json.dumps(kraken).encode(),
        "/api/v2/ticker/btcusd/": json.dumps(bitstamp).encode(),
        "/api/v2/public/get_index_price": json.dumps(envelope).encode(),
    }


PRICES = {"coinbase": 69_010.0, "kraken": 69_000.0, "bitstamp": 68_990.0, "deribit": 69_050.0}


def handler_for(bodies: dict[str, bytes], seen: list[str] | None = None) -> Handler:
    def handle(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(request.url.path)
        data = bodies.get(request.url.path)
        if data is None:  # candles and OHLC: not what these tests are about
            return httpx.Response(404, json={"message": "NotFound"})
        return httpx.Response(200, content=data, headers={"content-type": "application/json"})

    return handle


def make_engine(
    handler: Handler,
    *,
    clock: FixedClock | None = None,
    settings: config.Settings | None = None,
    store: Store | None = None,
    sources: Sequence[SourceSpec] = registry.ALL,
) -> Engine:
    return Engine(
        settings or config.Settings(),
        clock or FixedClock(NOW),
        store or Store.open(None),
        transport=httpx.MockTransport(handler),
        http_settings=FAST,
        sources=sources,
    )


async def run_until(engine: Engine, clock: ReplayClock, enough: asyncio.Event) -> None:
    """Run ``engine`` on ``clock`` until ``enough`` is set (at most 30 s), then stop it."""
    engine.clock = clock
    task = asyncio.create_task(engine.run(lambda update: None))
    await asyncio.wait_for(enough.wait(), 30)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_poll_once_reads_every_venue_and_forms_the_consensus() -> None:
    store = Store.open(None)
    engine = make_engine(handler_for(real_bodies(NOW, PRICES)), store=store)
    board = await engine.poll_once()
    await engine.aclose()
    for venue, id_ in (
        ("coinbase", "btc.price.coinbase"),
        ("kraken", "btc.price.kraken"),
        ("bitstamp", "btc.price.bitstamp"),
        ("deribit", "btc.price.deribit_index"),
    ):
        reading = board.reading(id_, venue)
        assert reading is not None
        assert reading.observation.value == PRICES[venue]
    consensus = board.reading("btc.price", CONSENSUS)
    assert consensus is not None
    assert consensus.observation.value == pytest.approx((69_000 + 69_010) / 2)
    distance = board.reading("btc.pivot.distance", CONSENSUS)
    assert distance is not None
    assert distance.observation.value == pytest.approx((69_005 - 70_000) / 70_000 * 100)
    assert board.statuses[CONSENSUS].status is Status.OK
    # Every reading went to the store, and the last raw body is kept for drill-down.
    stored = {(o.id, o.source) for o in store.latest()}
    assert ("btc.price.kraken", "kraken") in stored
    assert ("btc.price", CONSENSUS) in stored
    exchange = store.latest_exchange("kraken", "ticker")
    assert exchange is not None
    assert exchange.status == 200
    assert b"XXBTZUSD" in exchange.body


async def test_a_failing_endpoint_names_itself_and_leaves_other_sources_alone() -> None:
    bodies = real_bodies(NOW, PRICES)
    engine = make_engine(handler_for(bodies))
    board = await engine.poll_once()
    await engine.aclose()
    # Candle endpoints answered 404 in this test: the source says which endpoint failed.
    kraken = board.statuses["kraken"]
    assert kraken.status is Status.HTTP_ERROR
    assert kraken.detail.startswith("ohlc: ")
    assert "404" in kraken.detail
    assert board.statuses["deribit"].status is Status.OK  # one endpoint, answered
    assert board.reading("btc.price.kraken", "kraken") is not None


async def test_rate_limit_inside_http_200_pauses_only_that_source() -> None:
    bodies = real_bodies(NOW, PRICES)
    bodies["/0/public/Ticker"] = body("kraken", "kraken_rate_limited.json")
    engine = make_engine(handler_for(bodies))
    board = await engine.poll_once()
    await engine.aclose()
    kraken = board.statuses["kraken"]
    assert kraken.status is Status.RATE_LIMITED
    assert kraken.until is not None
    assert kraken.until > NOW
    assert f"until {kraken.until:%H:%M} UTC" in kraken.detail
    assert board.reading("btc.price.kraken", "kraken") is None  # never a zero
    assert board.statuses["coinbase"].status in (Status.OK, Status.HTTP_ERROR)
    assert board.reading("btc.price.coinbase", "coinbase") is not None


async def test_every_source_unreachable_is_offline_and_nothing_is_invented() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("[Errno 111] Connection refused", request=request)

    engine = make_engine(refuse)
    board = await engine.poll_once()
    await engine.aclose()
    assert board.readings() == []
    for spec in registry.ALL:
        want = Status.NEEDS_KEY if spec.needs_key else Status.OFFLINE  # never asked without a key
        assert board.statuses[spec.name].status is want, spec.name
    assert board.statuses[CONSENSUS].status is Status.OFFLINE
    assert "fresh: none" in board.statuses[CONSENSUS].detail


async def test_a_hanging_source_times_out_at_the_deadline_without_holding_others() -> None:
    bodies = real_bodies(NOW, PRICES)

    async def handle(request: httpx.Request) -> httpx.Response:
        if request.url.host == "www.bitstamp.net":
            await asyncio.sleep(30)
        return handler_for(bodies)(request)  # type: ignore[return-value]

    engine = make_engine(handle)
    loop = asyncio.get_running_loop()
    start = loop.time()
    board = await engine.poll_once(deadline_s=0.5)
    await engine.aclose()
    assert loop.time() - start < 5
    assert board.statuses["bitstamp"].status is Status.TIMEOUT
    assert "0.5 s" in board.statuses["bitstamp"].detail
    assert board.reading("btc.price.coinbase", "coinbase") is not None


async def test_disabled_source_is_never_asked() -> None:
    seen: list[str] = []
    settings = config.Settings(sources={"deribit": config.SourceSettings(enabled=False)})
    spot = [s for s in registry.ALL if s.bucket == "price"]
    engine = make_engine(
        handler_for(real_bodies(NOW, PRICES), seen), settings=settings, sources=spot
    )
    board = await engine.poll_once()
    await engine.aclose()
    assert board.statuses["deribit"].status is Status.DISABLED
    assert "/api/v2/public/get_index_price" not in seen


async def test_base_url_with_a_path_prefix_is_used() -> None:
    seen: list[str] = []
    settings = config.Settings(
        sources={"kraken": config.SourceSettings(base_url="http://127.0.0.1:9/proxy/kraken")}
    )
    engine = make_engine(handler_for({}, seen), settings=settings)
    await engine.poll_once()
    await engine.aclose()
    assert "/proxy/kraken/Ticker" in seen


async def test_a_parser_bug_becomes_a_status_and_the_loop_goes_on() -> None:
    def broken(body: object, fetched_at: datetime) -> list[Observation]:
        raise ZeroDivisionError("boom")

    spec = registry.by_name("deribit")
    bad = replace(spec, endpoints=(replace(spec.endpoints[0], parse=broken),))
    engine = Engine(
        config.Settings(),
        FixedClock(NOW),
        Store.open(None),
        transport=httpx.MockTransport(handler_for(real_bodies(NOW, PRICES))),
        sources=[bad],
        http_settings=FAST,
    )
    board = await engine.poll_once()
    await engine.aclose()
    assert board.statuses["deribit"].status is Status.PARSE_ERROR
    assert "ZeroDivisionError" in board.statuses["deribit"].detail


async def test_run_never_overlaps_fetches_of_one_source_and_a_slow_one_delays_no_other() -> None:
    bodies = real_bodies(NOW, PRICES)
    in_flight: dict[str, int] = {}
    worst: dict[str, int] = {}

    async def handle(request: httpx.Request) -> httpx.Response:
        host = request.url.host
        in_flight[host] = in_flight.get(host, 0) + 1
        worst[host] = max(worst.get(host, 0), in_flight[host])
        try:
            if host == "www.bitstamp.net":
                await asyncio.sleep(0.5)  # slow provider
            else:
                await asyncio.sleep(0.001)
            return handler_for(bodies)(request)  # type: ignore[return-value]
        finally:
            in_flight[host] -= 1

    clock = FixedClock(NOW)
    # The spot sources: one host each (Deribit's three sources share theirs).
    spot = [s for s in registry.ALL if s.bucket == "price"]
    engine = make_engine(handle, clock=clock, sources=spot)
    updates: list[Update] = []
    task = asyncio.create_task(engine.run(updates.append))
    await asyncio.sleep(0.4)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    by_source = {u.source for u in updates}
    assert {"coinbase", "kraken", "deribit"} <= by_source
    assert sum(u.source == "deribit" for u in updates) > 3  # polled again and again meanwhile
    assert "bitstamp" not in by_source  # still waiting on its first answer
    assert all(n == 1 for n in worst.values()), worst


async def test_load_cached_shows_old_readings_as_stale() -> None:
    store = Store.open(None)
    old = NOW - timedelta(hours=2)
    store.write([Observation("btc.price.kraken", 71_000.0, "USD", "kraken", old)])
    engine = make_engine(handler_for({}), store=store)
    board = engine.load_cached()
    await engine.aclose()
    reading = board.reading("btc.price.kraken", "kraken")
    assert reading is not None
    assert reading.stale
    assert reading.age_s == pytest.approx(7200)


async def test_parse_errors_quote_what_they_saw() -> None:
    bodies = real_bodies(NOW, PRICES)
    bodies["/api/v2/public/get_index_price"] = b"<html><body>Bad gateway</body></html>"
    engine = make_engine(handler_for(bodies))
    board = await engine.poll_once()
    await engine.aclose()
    status = board.statuses["deribit"]
    assert status.status is Status.PARSE_ERROR
    assert "HTML" in status.detail


def test_every_registered_endpoint_parser_is_pure_and_typed() -> None:
    for spec in registry.ALL:
        for ep in spec.endpoints:
            assert isinstance(ep, Endpoint)
            with pytest.raises(ParseError):
                ep.parse({}, NOW)


@pytest.mark.parametrize(
    ("configured", "ticker_every", "candles_every"), [(5.0, 5, 300), (400.0, 400, 400)]
)
async def test_a_configured_interval_paces_the_main_endpoints_and_bounds_the_slower(
    configured: float, ticker_every: int, candles_every: int
) -> None:
    # A clock 200x real time: the engine's loops sleep on it side by side, as they do live.
    clock = ReplayClock(NOW, speed=200.0)
    asked: dict[str, list[float]] = {}
    enough = asyncio.Event()
    candles = ok_bodies(registry.by_name("coinbase"), NOW)["candles"]  # real rows, daily times

    def handle(request: httpx.Request) -> httpx.Response:
        at = (clock.now() - NOW).total_seconds()
        asked.setdefault(request.url.path, []).append(at)
        if at >= 2 * candles_every + 50:  # simulated seconds: both asked at least three times
            enough.set()
        if request.url.path.endswith("/candles"):
            return httpx.Response(200, content=candles)
        return handler_for(real_bodies(clock.now(), PRICES))(request)  # type: ignore[return-value]

    settings = config.Settings(sources={"coinbase": config.SourceSettings(interval=configured)})
    engine = make_engine(handle, settings=settings, sources=[registry.by_name("coinbase")])
    await run_until(engine, clock, enough)
    ticker_gaps = [b - a for a, b in itertools.pairwise(asked["/products/BTC-USD/ticker"])]
    candle_gaps = [b - a for a, b in itertools.pairwise(asked["/products/BTC-USD/candles"])]
    # Polls fall on a grid of the interval (never closer than half of one); a busy machine makes
    # a poll late, so the median says which interval applied.
    for gaps, every in ((ticker_gaps, ticker_every), (candle_gaps, candles_every)):
        assert len(gaps) >= 2
        assert min(gaps) >= every * 0.5, gaps
        assert abs(statistics.median(gaps) - every) < every * 0.3, gaps


@pytest.mark.parametrize("kraken_ohlc_fails", [False, True])
async def test_the_daily_candles_of_coinbase_and_bitstamp_stand_by_while_kraken_ohlc_answers(
    kraken_ohlc_fails: bool,
) -> None:
    spot = [s for s in registry.ALL if s.bucket == "price"]
    paths = {
        spec.name: {ep.key: urlsplit(ep.url(spec.base_url)).path for ep in spec.endpoints}
        for spec in spot
    }
    bodies = real_bodies(NOW, PRICES)
    for spec in spot:
        for key, data in ok_bodies(spec, NOW).items():
            bodies.setdefault(paths[spec.name][key], data)
    if kraken_ohlc_fails:
        del bodies[paths["kraken"]["ohlc"]]  # a 404
    seen: list[str] = []
    engine = make_engine(handler_for(bodies, seen), sources=spot)
    board = await engine.poll_once()
    await engine.aclose()
    fallbacks = {paths["coinbase"]["candles"], paths["bitstamp"]["ohlc"]}
    assert (fallbacks <= set(seen)) is kraken_ohlc_fails
    assert paths["kraken"]["ohlc"] in seen
    # Either way the day's closes are there: Kraken's, or the fallbacks' when Kraken failed.
    venues = {"coinbase", "bitstamp"} if kraken_ohlc_fails else {"kraken"}
    for venue in venues:
        assert board.reading(f"btc.day.close.{venue}", venue) is not None


def test_polls_of_one_interval_come_due_together_on_a_grid() -> None:
    from tui.core.engine import _on_grid

    t = datetime(2026, 2, 6, 15, 0, 3, 400000, tzinfo=UTC)  # a poll answered at :03.4
    assert _on_grid(t, 15.0) == datetime(2026, 2, 6, 15, 0, 15, tzinfo=UTC)
    # Just before a grid point: the one after it, never a poll 0.2 s later.
    assert _on_grid(t.replace(second=14, microsecond=800000), 15.0) == t.replace(
        second=30, microsecond=0
    )
    # Two sources answering a moment apart are next due at the same instant.
    assert _on_grid(t, 60.0) == _on_grid(t + timedelta(seconds=2), 60.0)


async def test_a_source_whose_round_crosses_half_an_interval_keeps_its_endpoints_together() -> None:
    # Binance's two endpoints, every 60 s; open interest answers 40 simulated seconds after the
    # premium index. Timed from each answer, the premium index would be due at the next grid
    # line and open interest at the one after: the source would wake twice a minute.
    clock = ReplayClock(NOW, speed=200.0)
    binance = registry.by_name("binance")
    docs = {
        "/fapi/v1/premiumIndex": body("binance", "premium_index_docs.json"),
        "/fapi/v1/openInterest": body("binance", "open_interest_docs.json"),
    }
    asked: list[str] = []
    enough = asyncio.Event()

    async def handle(request: httpx.Request) -> httpx.Response:
        asked.append(request.url.path.rsplit("/", 1)[-1])
        if request.url.path.endswith("openInterest"):
            await clock.sleep(40.0)
            if asked.count("openInterest") >= 4:
                enough.set()
        return httpx.Response(200, content=docs[request.url.path])

    engine = make_engine(handle, sources=[binance])
    await run_until(engine, clock, enough)
    assert asked[:8] == ["premiumIndex", "openInterest"] * 4
