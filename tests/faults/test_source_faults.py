"""Every source under every network fault, in the real engine against a server on 127.0.0.1.

One source gets the fault; the others get their recorded real answers from the same server. The
faulted source must end in a labelled status with a one-line reason, put nothing on the Board, and
hold up no other source; after the fault heals, polling recovers by itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import itertools
import json
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta

import pytest

from tests.faults.bodies import MOMENT, map_numbers, ok_bodies
from tests.faults.conftest import SourceServer
from tests.localserver import Reply, closed_port
from tui.core import config
from tui.core.clock import FixedClock, SystemClock
from tui.core.engine import Engine
from tui.core.http import HttpSettings
from tui.core.model import Board, Json, Status
from tui.core.sources import registry
from tui.core.sources.spec import SourceSpec
from tui.core.store import Store

#: Small limits, so every fault ends within a fraction of a second.
HTTP = HttpSettings(
    connect_timeout_s=1.0,
    read_timeout_s=0.3,
    total_timeout_s=3.0,
    max_bytes=1024 * 1024,
    retries=0,
    rate_limit_default_s=60.0,
)
#: Requests spaced out per provider would only slow the suite down (spacing has its own tests).
SPECS: tuple[SourceSpec, ...] = tuple(
    dataclasses.replace(s, min_spacing_s=0.0) for s in registry.ALL
)
BY_NAME = {s.name: s for s in SPECS}
#: FRED publishes no recorded SP500/NASDAQCOM/DJIA download here: where FRED has to answer,
#: it is asked for the two series it has (its own cells fault every endpoint anyway).
FRED_RECORDED = dataclasses.replace(
    BY_NAME["fred"],
    endpoints=tuple(e for e in BY_NAME["fred"].endpoints if e.key in ("us10y", "dxy")),
)
FIFTY_MB = 50 * 1024 * 1024
RETRY_AFTER_S = 120
HUGE = (1e308, 10**400)

# --- the faults ---------------------------------------------------------------------------------

_DECIMAL = re.compile(r"\(?(?<![\w.])\d[\d,]*\.\d+\)?")


def _text_numbers(text: str, change: Callable[[str], str]) -> str:
    """``text`` (HTML, CSV) with every decimal figure passed through ``change`` (dates, times and
    whole numbers such as volumes are left alone)."""
    return _DECIMAL.sub(lambda m: change(m.group(0)), text)


def _derived(
    spec: SourceSpec,
    key: str,
    ok: bytes,
    json_change: Callable[[Json], Json],
    text_change: Callable[[str], str],
) -> bytes:
    ep = next(e for e in spec.endpoints if e.key == key)
    if ep.format == "text":
        return _text_numbers(ok.decode(), text_change).encode()
    return json.dumps(map_numbers(json.loads(ok), json_change)).encode()


def _wrong_type(value: Json) -> Json:
    return {"value": value}


def _huge(value: Json) -> Json:
    # Alternate a float at the edge of range and an integer past it (json.loads gives an int).
    return HUGE[hash(str(value)) % 2] if not isinstance(value, str) else "1e400"


def _negative(value: Json) -> Json:
    if isinstance(value, str):
        return value if value.startswith("-") else "-" + value.lstrip("+")
    assert isinstance(value, int | float)
    return -abs(value) if value else -1


def _negative_text(text: str) -> str:
    return "-" + text.strip("()")


@dataclass(frozen=True)
class Fault:
    """A way for one source's answers to go wrong, and the statuses it may end in."""

    name: str
    expect: frozenset[Status]
    replies: Callable[[SourceSpec, dict[str, bytes]], dict[str, list[Reply]]] | None = None
    base_url: Callable[[SourceServer, SourceSpec], str] | None = None

    def __str__(self) -> str:
        return self.name


def _each(
    make: Callable[[SourceSpec, str, bytes], Reply],
) -> Callable[[SourceSpec, dict[str, bytes]], dict[str, list[Reply]]]:
    def replies(spec: SourceSpec, ok: dict[str, bytes]) -> dict[str, list[Reply]]:
        # Endpoints without a recorded body (FRED's) get the fault made from one that has one.
        any_ok = next(iter(ok.values()))
        return {e.key: [make(spec, e.key, ok.get(e.key, any_ok))] for e in spec.endpoints}

    return replies


HTML_PAGE = (
    b"<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head>"
    b"<body><h1>Bad Gateway</h1><p>nginx</p></body></html>"
)
PARSE = frozenset({Status.PARSE_ERROR})
FAULTS: tuple[Fault, ...] = (
    Fault(
        "429-retry-after",
        frozenset({Status.RATE_LIMITED}),
        _each(lambda s, k, b: Reply(429, b"", {"Retry-After": str(RETRY_AFTER_S)})),
    ),
    Fault("429", frozenset({Status.RATE_LIMITED}), _each(lambda s, k, b: Reply(429, b""))),
    Fault(
        "refused",
        frozenset({Status.OFFLINE}),
        base_url=lambda srv, spec: f"http://127.0.0.1:{closed_port()}/{spec.name}",
    ),
    Fault(
        "dns",
        frozenset({Status.OFFLINE}),
        base_url=lambda srv, spec: f"http://nonexistent.invalid:{srv.port}/{spec.name}",
    ),
    Fault(
        "stall-mid-body",
        frozenset({Status.TIMEOUT}),
        _each(lambda s, k, b: Reply(200, b, stall_after=len(b) // 2, stall_s=30.0)),
    ),
    Fault(
        "html",
        PARSE,
        _each(lambda s, k, b: Reply(200, HTML_PAGE, {"Content-Type": "text/html"})),
    ),
    Fault("empty", PARSE, _each(lambda s, k, b: Reply(200, b""))),
    Fault("truncated", PARSE, _each(lambda s, k, b: Reply(200, b[: len(b) // 2]))),
    Fault(
        "wrong-types",
        PARSE,
        _each(lambda s, k, b: Reply(200, _derived(s, k, b, _wrong_type, lambda t: "abc"))),
    ),
    Fault(
        "huge-numbers",
        PARSE,
        _each(lambda s, k, b: Reply(200, _derived(s, k, b, _huge, lambda t: "1" + "0" * 400))),
    ),
    Fault(
        "negative",
        PARSE,
        _each(lambda s, k, b: Reply(200, _derived(s, k, b, _negative, _negative_text))),
    ),
    Fault(
        "50mb-chunked",
        frozenset({Status.TOO_LARGE}),
        _each(lambda s, k, b: Reply(200, b"[1,", size=FIFTY_MB, chunked=True)),
    ),
    Fault(
        "50mb-declared",
        frozenset({Status.TOO_LARGE}),
        _each(lambda s, k, b: Reply(200, b"[1,", size=FIFTY_MB)),
    ),
)
FAULT_BY_NAME = {f.name: f for f in FAULTS}

# --- the engine ---------------------------------------------------------------------------------


def serve_ok(server: SourceServer, specs: Sequence[SourceSpec]) -> None:
    for spec in specs:
        server.serve(spec, {k: [Reply(200, b)] for k, b in ok_bodies(spec, MOMENT).items()})


def engine_for(
    server: SourceServer,
    specs: Sequence[SourceSpec],
    faulted: dict[str, Fault],
    *,
    clock: FixedClock | None = None,
    http: HttpSettings = HTTP,
) -> Engine:
    """An engine over ``specs`` against ``server``: OK answers, except ``faulted`` sources'."""
    serve_ok(server, specs)
    sources: dict[str, config.SourceSettings] = {}
    for spec in specs:
        base = server.base_for(spec)
        fault = faulted.get(spec.name)
        if fault is not None and fault.replies is not None:
            server.serve(spec, fault.replies(spec, ok_bodies(spec, MOMENT)))
        if fault is not None and fault.base_url is not None:
            base = fault.base_url(server, spec)
        key = "test-key-1234" if spec.needs_key else None
        sources[spec.name] = config.SourceSettings(base_url=base, api_key=key)
    return Engine(
        config.Settings(sources=sources),
        clock or FixedClock(MOMENT),
        Store.open(None),
        sources=specs,
        http_settings=http,
    )


def specs_with(name: str) -> list[SourceSpec]:
    """The sources a cell runs: all of them; for a fallback's cell without its primary (a
    fallback is asked only while its primary fails) and with FRED's recorded series only."""
    specs = [FRED_RECORDED if s.name == "fred" and name != "fred" else s for s in SPECS]
    primary = BY_NAME[name].fallback_for
    if primary is not None:
        specs = [s for s in specs if s.name != primary]
    else:  # the fallbacks stand by while their primary answers: they are not asked at all
        specs = [s for s in specs if s.fallback_for is None]
    return specs


def assert_labelled(board: Board, name: str, fault: Fault) -> None:
    status = board.statuses[name]
    assert status.status in fault.expect, (status.status, status.detail)
    detail = status.detail
    # The label leads the line, after the endpoint's key when only some endpoints failed.
    keys = {e.key for e in BY_NAME[name].endpoints}
    head, _, rest = detail.partition(": ")
    label = rest if head in keys else detail
    assert label.startswith(status.status.value), detail
    assert "\n" not in detail
    assert len(detail) <= 200
    for junk in ("None", "Traceback", "Error(", "internal error", "<html", "\x1b"):
        assert junk not in detail, detail


def assert_nothing_from(board: Board, name: str) -> None:
    """A faulted source shows nothing: no zero, no garbage, no reading at all."""
    assert [o for o in board.observations.values() if o.source == name] == []


# --- the matrix ---------------------------------------------------------------------------------

#: Faults whose surviving readings may be negative: the values they negate can be (fund flows,
#: funding, a yield), and the parser says nothing is wrong.
SIGNED_IDS = re.compile(r"^(etf\.|funding\.|macro\.us10y|onchain\.realized_loss)")


def assert_fault_outcome(board: Board, name: str, fault: Fault) -> None:
    """The faulted source: its labelled status, and nothing (or only sound values) on the Board."""
    status = board.statuses[name]
    readings = [o for o in board.observations.values() if o.source == name]
    if fault.name == "negative":
        # Negated figures: prices, OI, levels are refused; signed series may stand.
        assert [o.id for o in readings if not SIGNED_IDS.match(o.id)] == []
        if status.status is Status.OK:
            assert readings
            return
    assert_labelled(board, name, fault)
    if fault.name != "negative":
        assert_nothing_from(board, name)


def assert_others(board: Board, specs: Sequence[SourceSpec], faulted: dict[str, Fault]) -> None:
    """Every source without a fault answered, and shows readings."""
    healthy = [s for s in specs if s.name not in faulted]
    waiting = {
        s.name: board.statuses[s.name].detail
        for s in healthy
        if board.statuses[s.name].status is not Status.OK
    }
    assert waiting == {}
    for spec in healthy:
        assert any(o.source == spec.name for o in board.observations.values()), spec.name


async def poll(engine: Engine, caplog: pytest.LogCaptureFixture) -> Board:
    """One poll; no error may reach the engine's log (a parser bug is logged there)."""
    with caplog.at_level(logging.ERROR, logger="tui.core.engine"):
        board = await engine.poll_once(deadline_s=10.0)
    await engine.aclose()
    assert [r.getMessage() for r in caplog.records if r.name == "tui.core.engine"] == []
    return board


def assert_cut_off(server: SourceServer, specs: Sequence[SourceSpec]) -> None:
    """The client stopped each 50 MB body at its cap: nowhere near all of it went out."""
    assert server.wait_idle()
    for spec in specs:
        sent = [s.bytes_sent for s in server.asked(spec)]
        assert sent, spec.name
        assert max(sent) < FIFTY_MB // 4, spec.name


#: Every source in every round of the CI variant; the fallbacks take their primary's fault (a
#: fallback is asked only while Yahoo fails, so a healthy Yahoo means they stand by).
ROUND_SPECS: tuple[SourceSpec, ...] = tuple(FRED_RECORDED if s.name == "fred" else s for s in SPECS)
HEALTHY = len(FAULTS)  # the index after the last fault: no fault


def round_faults(r: int) -> dict[str, Fault]:
    """Round ``r`` of a cyclic Latin square: source *i* gets fault ``(i + r) mod (faults + 1)``,
    so over the rounds every source meets every fault once, and is healthy once."""
    plan: dict[str, int] = {}
    primaries = [s for s in ROUND_SPECS if s.fallback_for is None]
    for i, spec in enumerate(primaries):
        plan[spec.name] = (i + r) % (len(FAULTS) + 1)
    for spec in ROUND_SPECS:
        if spec.fallback_for is not None:
            plan[spec.name] = plan[spec.fallback_for]
    return {n: FAULTS[k] for n, k in plan.items() if k != HEALTHY}


@pytest.mark.parametrize("r", range(len(FAULTS) + 1))
async def test_every_source_under_its_own_fault_at_once(
    server: SourceServer, r: int, caplog: pytest.LogCaptureFixture
) -> None:
    faulted = round_faults(r)
    engine = engine_for(server, ROUND_SPECS, faulted)
    board = await poll(engine, caplog)
    for name, fault in faulted.items():
        assert_fault_outcome(board, name, fault)
    standing_by = {s.name for s in ROUND_SPECS if s.fallback_for is not None} - set(faulted)
    for name in standing_by:  # their primary answered: they were not asked
        assert board.statuses[name].status is Status.DISABLED
        assert "standby" in board.statuses[name].detail
    assert_others(board, [s for s in ROUND_SPECS if s.name not in standing_by], faulted)
    assert_cut_off(server, [BY_NAME[n] for n, f in faulted.items() if f.name.startswith("50mb")])
    for name, fault in faulted.items():
        if fault.name == "429-retry-after":
            assert board.statuses[name].until == MOMENT + timedelta(seconds=RETRY_AFTER_S)


def test_the_rounds_cover_every_source_and_fault() -> None:
    met = {(n, f.name) for r in range(len(FAULTS) + 1) for n, f in round_faults(r).items()}
    assert met == {(s.name, f.name) for s in SPECS for f in FAULTS}


MATRIX = [
    pytest.param(spec.name, fault, id=f"{spec.name}-{fault.name}")
    for spec in SPECS
    for fault in FAULTS
]


@pytest.mark.slow
@pytest.mark.parametrize(("name", "fault"), MATRIX)
async def test_one_fault_and_every_other_source_answers(
    server: SourceServer, name: str, fault: Fault, caplog: pytest.LogCaptureFixture
) -> None:
    specs = specs_with(name)
    board = await poll(engine_for(server, specs, {name: fault}), caplog)
    assert_fault_outcome(board, name, fault)
    assert_others(board, specs, {name: fault})
    if fault.name.startswith("50mb"):
        assert_cut_off(server, [BY_NAME[name]])
    if fault.name == "429-retry-after":
        assert board.statuses[name].until == MOMENT + timedelta(seconds=RETRY_AFTER_S)


def test_an_integer_past_float_range_in_an_option_row_skips_the_row() -> None:
    # Found by the huge-numbers fault: float(10**400) raised OverflowError out of the parser.
    from tui.core.sources import deribit

    doc = json.loads(ok_bodies(BY_NAME["deribit_options"])["chain"])
    rows = doc["result"]
    rows[0]["open_interest"] = 10**400
    quotes, skipped = deribit.read_chain(json.loads(json.dumps(doc)))
    assert skipped == 1
    assert len(quotes) == len(rows) - 1


# --- the running engine: backing off and recovering by itself ------------------------------------

#: The run() tests: the faulted source and two bystanders, every endpoint on a short interval.
INTERVAL_S = 0.1


def quick(spec: SourceSpec) -> SourceSpec:
    """``spec`` with every endpoint on the source's (configured) interval."""
    endpoints = tuple(dataclasses.replace(e, interval_s=None) for e in spec.endpoints)
    return dataclasses.replace(spec, endpoints=endpoints)


RUN_SPECS = tuple(quick(BY_NAME[n]) for n in ("binance", "deribit", "mempool"))
FAULTED = RUN_SPECS[0]


class Running:
    """``engine.run()`` in a task, its updates collected."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.updates: list[tuple[float, str, Status]] = []
        self.task: asyncio.Task[None] | None = None

    def publish(self, update: object) -> None:
        from tui.core.model import Update

        assert isinstance(update, Update)
        loop = asyncio.get_running_loop()
        self.updates.append((loop.time(), update.source, update.status.status))

    async def until(self, done: Callable[[], bool], limit_s: float = 20.0) -> None:
        """Wait for ``done()`` (the limit only keeps a broken engine from hanging the suite)."""
        async with asyncio.timeout(limit_s):
            while not done():
                assert self.task is not None
                if self.task.done():
                    self.task.result()  # an exception escaped the engine: raise it here
                    pytest.fail("the engine stopped")
                await asyncio.sleep(0.02)

    def ok_count(self, name: str) -> int:
        return sum(1 for _, n, s in self.updates if n == name and s is Status.OK)

    async def __aenter__(self) -> Running:
        self.task = asyncio.create_task(self.engine.run(self.publish))
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.task is not None
        failed = self.task.done() and not self.task.cancelled() and self.task.exception()
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task
        assert not failed, failed


def running(server: SourceServer, storm: list[Reply], http: HttpSettings = HTTP) -> Running:
    """Binance's premium index answers ``storm`` in turn, then its real body for ever."""
    serve_ok(server, RUN_SPECS)
    ok = ok_bodies(FAULTED)
    server.serve(FAULTED, {"premium_index": [*storm, Reply(200, ok["premium_index"])]})
    sources = {
        s.name: config.SourceSettings(base_url=server.base_for(s), interval=INTERVAL_S)
        for s in RUN_SPECS
    }
    engine = Engine(
        config.Settings(sources=sources),
        SystemClock(),
        Store.open(None),
        sources=RUN_SPECS,
        http_settings=http,
    )
    return Running(engine)


def gaps(times: list[float]) -> list[float]:
    return [b - a for a, b in itertools.pairwise(times)]


async def test_a_429_storm_with_retry_after_is_waited_out_then_recovers(
    server: SourceServer,
) -> None:
    storm = [Reply(429, b"", {"Retry-After": "1"})] * 2
    async with running(server, storm) as run:
        await run.until(lambda: run.ok_count(FAULTED.name) >= 1)
        during_storm = {n: run.ok_count(n) for n in ("deribit", "mempool")}
    asked = server.asked_at(FAULTED, "premium_index")
    assert len(asked) >= 3
    # Retry-After: 1 is honoured: no request within the second after each 429.
    assert all(gap >= 0.9 for gap in gaps(asked)[:2]), gaps(asked)
    statuses = [s for _, n, s in run.updates if n == FAULTED.name]
    assert statuses[:2] == [Status.RATE_LIMITED] * 2
    assert statuses[-1] is Status.OK
    # Nothing else waited for it: the bystanders kept answering through the storm.
    assert min(during_storm.values()) >= 5, during_storm


async def test_a_429_storm_without_retry_after_waits_the_default_then_recovers(
    server: SourceServer,
) -> None:
    http = dataclasses.replace(HTTP, rate_limit_default_s=0.5)
    async with running(server, [Reply(429, b"")] * 3, http) as run:
        await run.until(lambda: run.ok_count(FAULTED.name) >= 1)
    asked = server.asked_at(FAULTED, "premium_index")
    assert all(gap >= 0.45 for gap in gaps(asked)[:3]), gaps(asked)


@pytest.mark.parametrize(
    "fault",
    [
        pytest.param(Reply(200, HTML_PAGE, {"Content-Type": "text/html"}), id="html"),
        pytest.param(Reply(200, b'{"symbol":"BTCU'), id="truncated"),
        pytest.param(Reply(502, b"bad gateway"), id="502"),
        pytest.param(Reply(200, b"[1,", size=FIFTY_MB), id="50mb"),
    ],
)
async def test_polling_recovers_by_itself_when_the_server_heals(
    server: SourceServer, fault: Reply
) -> None:
    async with running(server, [fault] * 3) as run:
        await run.until(lambda: run.ok_count(FAULTED.name) >= 1)
        board = run.engine.board
    assert board.statuses[FAULTED.name].status is Status.OK
    assert board.reading("funding.binance", FAULTED.name) is not None
    statuses = [s for _, n, s in run.updates if n == FAULTED.name]
    assert statuses[0] is not Status.OK  # the storm was seen, and said so
    assert len(server.asked_at(FAULTED, "premium_index")) >= 4  # 3 faults, then the real body


async def test_the_retry_spacing_grows_while_a_source_keeps_failing(server: SourceServer) -> None:
    async with running(server, [Reply(502, b"bad gateway")] * 4) as run:
        await run.until(lambda: run.ok_count(FAULTED.name) >= 1)
    spacing = gaps(server.asked_at(FAULTED, "premium_index"))[:4]
    assert len(spacing) == 4
    assert spacing[-1] >= 4 * spacing[0], spacing
