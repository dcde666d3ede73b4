"""Engine stages past fetch and parse: derived metrics, fallback sources, keyed sources."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta

import httpx
import pytest

from tests.unit.test_engine import FAST, NOW, PRICES, handler_for, real_bodies
from tui.core import config
from tui.core.analytics import History, derived
from tui.core.clock import FixedClock
from tui.core.engine import Engine
from tui.core.model import CONSENSUS, Board, Observation, Status, Update
from tui.core.sources import registry
from tui.core.sources.spec import SourceSpec
from tui.core.store import Store

INDEX = registry.by_name("deribit")


async def until(predicate: Callable[[], bool], timeout_s: float = 10.0) -> None:
    """Wait for ``predicate`` (a loaded machine makes fixed sleeps flaky)."""
    end = asyncio.get_running_loop().time() + timeout_s
    while not predicate():
        assert asyncio.get_running_loop().time() < end, "timed out"
        await asyncio.sleep(0.01)


KRAKEN = registry.by_name("kraken")


def engine_for(
    sources: list[SourceSpec],
    handler: httpx.MockTransport,
    settings: config.Settings | None = None,
    store: Store | None = None,
) -> Engine:
    return Engine(
        settings or config.Settings(),
        FixedClock(NOW),
        store or Store.open(None),
        transport=handler,
        sources=sources,
        http_settings=FAST,
    )


async def test_a_derived_metric_runs_after_its_source_answers_and_reads_history(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[tuple[float, int]] = []

    def double(
        board: Board, history: History, now: datetime, s: config.Settings
    ) -> list[Observation]:
        r = board.reading("btc.price.deribit_index", "deribit")
        assert r is not None
        past = history.series("test.doubled", CONSENSUS)
        seen.append((r.observation.value, len(past)))
        return [Observation("test.doubled", r.observation.value * 2, "USD", CONSENSUS, now)]

    monkeypatch.setattr(derived, "_table", lambda: ((frozenset({"deribit"}), double),))
    store = Store.open(None)
    store.write([Observation("test.doubled", 1.0, "USD", CONSENSUS, NOW.replace(hour=1))])
    engine = engine_for(
        [INDEX], httpx.MockTransport(handler_for(real_bodies(NOW, PRICES))), store=store
    )
    updates: list[Update] = []
    board = await engine.poll_once(publish=updates.append)
    await engine.aclose()
    doubled = board.reading("test.doubled", CONSENSUS)
    assert doubled is not None
    assert doubled.observation.value == PRICES["deribit"] * 2
    assert seen == [(PRICES["deribit"], 1)]  # it saw the Board and the stored history
    assert any(o.id == "test.doubled" for u in updates for o in u.observations)
    assert len(store.series("test.doubled", CONSENSUS)) == 2  # written like any reading


async def test_a_failing_deriver_is_skipped_and_the_others_still_run(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(
        board: Board, history: History, now: datetime, s: config.Settings
    ) -> list[Observation]:
        raise KeyError("boom")

    def fine(
        board: Board, history: History, now: datetime, s: config.Settings
    ) -> list[Observation]:
        return [Observation("test.fine", 1.0, "x", CONSENSUS, now)]

    table = ((frozenset({"deribit"}), broken), (frozenset({"deribit"}), fine))
    monkeypatch.setattr(derived, "_table", lambda: table)
    engine = engine_for([INDEX], httpx.MockTransport(handler_for(real_bodies(NOW, PRICES))))
    board = await engine.poll_once()
    await engine.aclose()
    assert board.reading("test.fine", CONSENSUS) is not None
    assert board.statuses["deribit"].status is Status.OK


async def test_a_fallback_stands_by_while_its_primary_answers_and_serves_when_it_fails() -> None:
    bodies = real_bodies(NOW, PRICES)
    asked: list[str] = []
    primary_up = True

    def handle(request: httpx.Request) -> httpx.Response:
        asked.append(request.url.host)
        if request.url.host == "api.kraken.com" and not primary_up:
            return httpx.Response(503, text="down")
        return handler_for(bodies)(request)  # type: ignore[return-value]

    kraken = replace(KRAKEN, endpoints=KRAKEN.endpoints[:1])
    fallback = replace(INDEX, fallback_for="kraken", interval_s=0.05)
    engine = engine_for([kraken, fallback], httpx.MockTransport(handle))
    await engine.poll_once()  # the primary answers first
    updates: list[Update] = []
    task = asyncio.create_task(engine.run(updates.append))
    await until(lambda: engine.board.statuses["deribit"].status is Status.DISABLED)
    assert "www.deribit.com" not in asked
    standby = engine.board.statuses["deribit"]
    assert "standby" in standby.detail
    primary_up = False
    engine.refresh_now()
    await until(lambda: engine.board.statuses["deribit"].status is Status.OK)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert engine.board.statuses["kraken"].status is not Status.OK
    assert "www.deribit.com" in asked  # the fallback served once the primary failed


async def test_a_source_that_needs_a_key_asks_nothing_without_one_and_sends_it_as_a_header() -> (
    None
):
    keyed = replace(INDEX, needs_key=True, key_header="X-Api-Key")
    headers: list[httpx.Headers] = []

    def handle(request: httpx.Request) -> httpx.Response:
        headers.append(request.headers)
        return handler_for(real_bodies(NOW, PRICES))(request)  # type: ignore[return-value]

    engine = engine_for([keyed], httpx.MockTransport(handle))
    board = await engine.poll_once()
    await engine.aclose()
    assert headers == []
    status = board.statuses["deribit"]
    assert status.status is Status.NEEDS_KEY
    assert "sources.deribit.api_key" in status.detail

    secret = "s3cr3t-key-value"
    settings = config.Settings(sources={"deribit": config.SourceSettings(api_key=secret)})
    store = Store.open(None)
    engine = engine_for([keyed], httpx.MockTransport(handle), settings, store)
    board = await engine.poll_once()
    await engine.aclose()
    assert board.statuses["deribit"].status is Status.OK
    assert headers[-1]["x-api-key"] == secret
    exchange = store.latest_exchange("deribit", "index")
    assert exchange is not None
    assert secret not in exchange.url
    assert all(secret not in v for v in exchange.headers.values())


async def test_one_poll_judges_the_checklist_and_says_what_each_row_waits_for() -> None:
    engine = engine_for([INDEX, KRAKEN], httpx.MockTransport(handler_for(real_bodies(NOW, PRICES))))
    board = await engine.poll_once()
    await engine.aclose()
    rows = {r.key: r for r in board.checklist}
    assert list(rows) == ["funding", "skew", "leverage", "flows", "onchain", "mining"]
    assert all(r.state.value == "waiting" for r in rows.values())
    assert rows["funding"].reason == "waiting for funding (from the derivatives sources)"
    assert rows["flows"].reason == "waiting for farside"
    assert board.verdict is not None
    assert board.verdict.call == "no data"
    assert "below the $70,000 pivot" in board.verdict.position


async def test_a_blocked_provider_is_not_asked_again_for_hours() -> None:
    from tests.conftest import body

    page = body("farside", "cloudflare_just_a_moment_2024-01-08.html")
    asked: list[datetime] = []

    def handle(request: httpx.Request) -> httpx.Response:
        asked.append(engine.clock.now())
        return httpx.Response(403, content=page, headers={"content-type": "text/html"})

    farside = registry.by_name("farside")
    engine = engine_for([farside], httpx.MockTransport(handle))
    await engine.poll_once()
    status = engine.board.statuses["farside"]
    assert status.status is Status.BLOCKED
    assert "next try 19:00 UTC" in status.detail  # NOW is 15:00 UTC; four hours on
    task = asyncio.create_task(engine.run(lambda u: None))
    await asyncio.sleep(0.2)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    # A FixedClock sleep moves time on: every next ask comes four hours after the last.
    assert len(asked) > 2
    gaps = {(b - a).total_seconds() for a, b in itertools.pairwise(asked)}
    assert min(gaps) >= 4 * 3600


async def test_an_unchanged_body_is_not_parsed_again_unless_its_readings_are_fetch_timed() -> None:
    calls: list[str] = []
    spec = registry.by_name("deribit")
    real = spec.endpoints[0].parse

    def counting(body: object, fetched_at: datetime) -> list[Observation]:
        calls.append("parse")
        return real(body, fetched_at)  # type: ignore[arg-type]

    counted = replace(spec, endpoints=(replace(spec.endpoints[0], parse=counting),))
    earlier = real_bodies(NOW - timedelta(seconds=2), PRICES)  # Deribit's usOut: before the fetch
    engine = engine_for([counted], httpx.MockTransport(handler_for(earlier)))
    first = await engine.poll_once()
    second = await engine.poll_once()
    await engine.aclose()
    # The index carries Deribit's own time (usOut): the same body is the same reading.
    assert calls == ["parse"]
    assert first.reading("btc.price.deribit_index", "deribit") is not None
    assert second.statuses["deribit"].status is Status.OK

    # Kraken's ticker has no time of its own (stamped with the fetch time): parsed every time,
    # so its age stays true.
    kraken = replace(KRAKEN, endpoints=KRAKEN.endpoints[:1])
    real_k = kraken.endpoints[0].parse
    kcalls: list[str] = []

    def counting_k(body: object, fetched_at: datetime) -> list[Observation]:
        kcalls.append("parse")
        return real_k(body, fetched_at)  # type: ignore[arg-type]

    kraken = replace(kraken, endpoints=(replace(kraken.endpoints[0], parse=counting_k),))
    engine = engine_for([kraken], httpx.MockTransport(handler_for(real_bodies(NOW, PRICES))))
    await engine.poll_once()
    await engine.poll_once()
    await engine.aclose()
    assert kcalls == ["parse", "parse"]


async def test_a_consensus_from_more_venues_replaces_one_from_fewer_even_if_it_is_older() -> None:
    # Bitstamp stamps whole seconds, so the four-venue consensus (as old as its oldest input)
    # is a second older than the three-venue one formed before Bitstamp answered.
    bodies = real_bodies(NOW, PRICES)
    bodies |= {
        k: v for k, v in real_bodies(NOW - timedelta(seconds=1), PRICES).items() if "btcusd" in k
    }

    async def handle(request: httpx.Request) -> httpx.Response:
        if request.url.host == "www.bitstamp.net":
            await asyncio.sleep(0.2)  # answers last
        return handler_for(bodies)(request)  # type: ignore[return-value]

    spot = [s for s in registry.ALL if s.bucket == "price"]
    engine = engine_for(spot, httpx.MockTransport(handle))
    board = await engine.poll_once()
    await engine.aclose()
    consensus = board.reading("btc.price", CONSENSUS)
    assert consensus is not None
    assert consensus.observation.value == pytest.approx((69_000 + 69_010) / 2)  # all four
