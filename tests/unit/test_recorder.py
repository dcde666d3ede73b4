"""The recorder daemon: real processes, a local server; SIGTERM, restart, no row lost or doubled."""

from __future__ import annotations

import asyncio
import io
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from tests.conftest import body
from tests.localserver import LocalServer, Reply
from tui.core import config, recorder
from tui.core.follower import REFRESH_FILE, STATE_FILE, live_recorder, read_state
from tui.core.model import Observation
from tui.core.store import Store

CHILD = Path(__file__).with_name("recorder_child.py")
PREMIUM = "/fapi/v1/premiumIndex"
OPEN_INTEREST = "/fapi/v1/openInterest"
#: The readings each answer of the two Binance endpoints brings.
IDS = ("btc.price.binance_mark", "funding.binance", "oi.futures.binance_btc")
#: A guard against a hung child, not a budget: every wait ends as soon as its condition holds.
WAIT_S = 30.0
# The readings carry Binance's own times, a minute apart, ending a little before the test.
T0 = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(hours=1)


def at(i: int) -> datetime:
    return T0 + timedelta(minutes=i)


def premium(i: int) -> bytes:
    """Binance's documented premiumIndex body, with its time and mark price set to answer i."""
    doc = json.loads(body("binance", "premium_index_docs.json"))
    doc["time"] = int(at(i).timestamp() * 1000)
    doc["markPrice"] = f"{70_000 + i}.5"
    return json.dumps(doc).encode()


def open_interest(i: int) -> bytes:
    """Binance's documented openInterest body, with its time and size set to answer i."""
    doc = json.loads(body("binance", "open_interest_docs.json"))
    doc["time"] = int(at(i).timestamp() * 1000)
    doc["openInterest"] = f"{10_000 + i}.5"
    return json.dumps(doc).encode()


def serve(server: LocalServer, answers: range) -> None:
    server.route(PREMIUM, *(Reply.json(json.loads(premium(i))) for i in answers))
    server.route(OPEN_INTEREST, *(Reply.json(json.loads(open_interest(i))) for i in answers))


def only_binance(folder: Path, base_url: str) -> Path:
    """A config file: every source off but Binance, asked every second at ``base_url``."""
    lines = [f"[sources.{p}]\nenabled = false\n" for p in config.PROVIDERS if p != "binance"]
    lines.append(f'[sources.binance]\nbase_url = "{base_url}"\ninterval = 1\n')
    path = folder / "config.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def wait_for(what: str, condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + WAIT_S
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.05)


@pytest.fixture
def server() -> Iterator[LocalServer]:
    with LocalServer() as s:
        yield s


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


def start(conf: Path, data_dir: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "BTCWATCH_CONFIG": str(conf), "BTCWATCH_DATA_DIR": str(data_dir)}
    return subprocess.Popen(
        [sys.executable, str(CHILD)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def record_rounds(
    child: subprocess.Popen[str], server: LocalServer, data_dir: Path, rounds: int
) -> None:
    """Let ``child`` take every distinct answer, then SIGTERM it; check it stopped cleanly.

    A source's endpoints are asked one after another and its next round starts only when the
    last has been parsed and queued for the store: once request ``rounds + 1`` of this run has
    arrived, every distinct answer of the run is in the recorder's hands and must be stored.
    """
    before = len(server.seen(PREMIUM))
    try:
        wait_for("the recorder's state file", lambda: live_recorder(data_dir) is not None)
        info = live_recorder(data_dir)
        assert info is not None
        assert info.pid == child.pid
        wait_for("every answer", lambda: len(server.seen(PREMIUM)) >= before + rounds + 1)
        child.send_signal(signal.SIGTERM)
        out, err = child.communicate(timeout=WAIT_S)
    finally:
        if child.poll() is None:
            child.kill()
            child.communicate()
    assert (child.returncode, out, err) == (0, "", "")
    assert not (data_dir / STATE_FILE).exists()
    assert live_recorder(data_dir) is None


@pytest.mark.parametrize(
    "rounds",
    [1, pytest.param(4, marks=pytest.mark.slow)],
    ids=["one-answer-a-run", "four-answers-a-run"],
)
def test_daemon_records_stops_on_sigterm_and_resumes_with_no_row_lost_or_doubled(
    server: LocalServer, data_dir: Path, tmp_path: Path, rounds: int
) -> None:
    """Distinct answers per run (then the last repeats: the same rows again)."""
    conf = only_binance(tmp_path, server.base_url)
    serve(server, range(rounds))
    record_rounds(start(conf, data_dir), server, data_dir, rounds)
    serve(server, range(rounds, 2 * rounds))
    record_rounds(start(conf, data_dir), server, data_dir, rounds)

    with Store.open_read_only(data_dir / "history.sqlite3") as store:
        for id_ in IDS:
            times = [t for t, _ in store.series(id_, "binance")]
            assert times == [at(i) for i in range(2 * rounds)], id_
        marks = [v for _, v in store.series("btc.price.binance_mark", "binance")]
        assert marks == [70_000.5 + i for i in range(2 * rounds)]
        # The restart asked again and found Binance as it left it: no second "ok" row.
        [status] = store.status_history("binance")
        assert (status.name, status.status.value) == ("binance", "ok")
        last = store.latest_exchange("binance", "premium_index")
        assert last is not None
        assert last.body == premium(2 * rounds - 1)
    log = (data_dir / recorder.LOG_FILE).read_text(encoding="utf-8")
    assert log.count("recording to ") == 2
    assert log.count("stopped after ") == 2
    assert "(SIGTERM)" in log
    assert "binance: ok" in log


def test_a_second_recorder_says_who_records_and_exits_2(
    server: LocalServer, data_dir: Path, tmp_path: Path
) -> None:
    conf = only_binance(tmp_path, server.base_url)
    serve(server, range(1))
    first = start(conf, data_dir)
    try:
        wait_for("the first recorder", lambda: live_recorder(data_dir) is not None)
        second = start(conf, data_dir)
        out, err = second.communicate(timeout=WAIT_S)
        assert (second.returncode, out) == (2, "")
        assert err == f"btcwatch: another btcwatch is recording (pid {first.pid})\n"
        info = live_recorder(data_dir)  # the refusal left the first one's file alone
        assert info is not None
        assert info.pid == first.pid
    finally:
        first.send_signal(signal.SIGTERM)
        first.communicate(timeout=WAIT_S)
    assert first.returncode == 0


# -- in process: a MockTransport, a stop event ---------------------------------------------------


class Binance:
    """Answers the two Binance endpoints with answer n on the n-th request of each."""

    def __init__(self) -> None:
        self.asked: dict[str, int] = {PREMIUM: 0, OPEN_INTEREST: 0}
        self.round = asyncio.Event()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path not in self.asked:
            return httpx.Response(404)
        n = self.asked[path]
        self.asked[path] += 1
        if path == OPEN_INTEREST:
            self.round.set()
        data = premium(n) if path == PREMIUM else open_interest(n)
        return httpx.Response(200, content=data, headers={"content-type": "application/json"})


def settings_for(tmp_path: Path) -> config.Settings:
    return config.load(only_binance(tmp_path, "https://fapi.binance.com"), environ={})


async def next_round(binance: Binance) -> None:
    binance.round.clear()
    await asyncio.wait_for(binance.round.wait(), WAIT_S)


async def test_run_daemon_stores_every_answer_and_cleans_up_on_stop(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A slow disk: the stop comes while the engine's writes are still queued.
    write = Store.write

    def slow_write(self: Store, observations: Sequence[Observation]) -> int:
        time.sleep(0.2)
        return write(self, observations)

    monkeypatch.setattr(Store, "write", slow_write)
    binance = Binance()
    stop = asyncio.Event()
    err = io.StringIO()
    settings = settings_for(tmp_path)
    task = asyncio.create_task(
        recorder.run_daemon(
            settings, data_dir=data_dir, transport=httpx.MockTransport(binance), stop=stop, err=err
        )
    )
    await next_round(binance)
    state = read_state(data_dir / STATE_FILE)
    assert state is not None
    assert state.info.pid == os.getpid()
    # A second recorder on the same data dir (here: the same process, another lock) refuses.
    second = await recorder.run_daemon(
        settings, data_dir=data_dir, transport=httpx.MockTransport(binance), err=err
    )
    assert second == 2
    assert err.getvalue() == f"btcwatch: another btcwatch is recording (pid {os.getpid()})\n"
    await next_round(binance)
    await next_round(binance)
    # Round 3 has asked for open interest: its premium answer, and everything before, has been
    # parsed and queued behind the slow writes. The stop must let every queued write land.
    stop.set()
    assert await asyncio.wait_for(task, WAIT_S) == 0
    assert not (data_dir / STATE_FILE).exists()
    rounds = binance.asked[OPEN_INTEREST]
    assert rounds >= 3
    # The stop may have come after the next round's premium request, before its open interest.
    assert binance.asked[PREMIUM] in (rounds, rounds + 1)
    with Store.open_read_only(data_dir / "history.sqlite3") as store:
        marks = [t for t, _ in store.series("btc.price.binance_mark", "binance")]
        sizes = [t for t, _ in store.series("oi.futures.binance_btc", "binance")]
    # Every premium answer of a round that went on to ask for open interest was parsed and
    # queued before that request: all of them landed.
    assert marks[:rounds] == [at(i) for i in range(rounds)]
    # The open interest asked last may have been cut short by the stop; none before it.
    assert sizes[: rounds - 1] == [at(i) for i in range(rounds - 1)]
    assert len(sizes) in (rounds - 1, rounds)


async def test_a_viewers_refresh_request_makes_the_recorder_ask_at_once(
    data_dir: Path, tmp_path: Path
) -> None:
    binance = Binance()
    stop = asyncio.Event()
    # Binance every hour: only a refresh can bring a second round within the test.
    conf = only_binance(tmp_path, "https://fapi.binance.com")
    conf.write_text(conf.read_text().replace("interval = 1", "interval = 3600"))
    settings = config.load(conf, environ={})
    task = asyncio.create_task(
        recorder.run_daemon(
            settings, data_dir=data_dir, transport=httpx.MockTransport(binance), stop=stop
        )
    )
    try:
        await next_round(binance)
        assert binance.asked[PREMIUM] == 1
        from tui.core.follower import request_refresh

        request_refresh(data_dir)
        await next_round(binance)
        assert binance.asked[PREMIUM] == 2
        assert (data_dir / REFRESH_FILE).exists()
    finally:
        stop.set()
        assert await asyncio.wait_for(task, WAIT_S) == 0
    assert "refresh requested by a viewer" in (data_dir / recorder.LOG_FILE).read_text()


@pytest.fixture
def damaged(data_dir: Path) -> Path:
    data_dir.mkdir(parents=True)
    (data_dir / "history.sqlite3").write_bytes(b"this is not a database" * 100)
    return data_dir


async def test_a_damaged_history_is_refused_not_recorded_into_memory(
    damaged: Path, tmp_path: Path
) -> None:
    data_dir = damaged
    err = io.StringIO()
    code = await recorder.run_daemon(
        settings_for(tmp_path),
        data_dir=data_dir,
        transport=httpx.MockTransport(Binance()),
        stop=asyncio.Event(),
        err=err,
    )
    assert code == 2
    line = err.getvalue()
    assert line.startswith("btcwatch: history file ")
    assert "damaged" in line
    assert line.count("\n") == 1
    assert not (data_dir / STATE_FILE).exists()
