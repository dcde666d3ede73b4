"""The follower: a viewer that reads a live recorder's store and state file and polls nothing."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tui.core.config import Settings
from tui.core.follower import (
    STATE_FILE,
    Follower,
    RecorderInfo,
    _Read,
    live_recorder,
    read_state,
    write_state,
)
from tui.core.model import (
    CONSENSUS,
    Board,
    Observation,
    RowState,
    RuleResult,
    SourceStatus,
    Status,
    Update,
    Verdict,
)
from tui.core.store import Store

NOW = datetime.now(UTC).replace(microsecond=0)
#: A guard against a hung loop, not a budget: each wait ends as soon as its condition holds.
WAIT_S = 20.0


def price(value: float, at: datetime, venue: str = "kraken") -> Observation:
    return Observation(f"btc.price.{venue}", value, "USD", venue, at)


def recorder_board(now: datetime) -> Board:
    """What a recorder's engine knows beyond the store: statuses, limits, checklist, verdict."""
    kraken = SourceStatus("kraken", Status.OK, "", now - timedelta(seconds=3), now)
    okx = SourceStatus(
        "okx",
        Status.RATE_LIMITED,
        "rate-limited until 14:05 UTC",
        now - timedelta(minutes=9),
        now,
        now + timedelta(minutes=5),
        latency_ms=120.5,
        bytes=2048,
    )
    funding = Observation("funding.oi_weighted", -0.004, "% per 8h", CONSENSUS, now)
    row = RuleResult(
        "funding",
        "Funding",
        RowState.BEARISH,
        "funding -0.0040 %/8h, below +0.0000 %/8h for 9 h",
        now - timedelta(hours=9),
        (funding,),
        "-0.0040 %/8h",
    )
    call = Verdict(
        "retest risk",
        (("macro rebound persisting", None), ("leverage still falling", False)),
        (("options skewed down", True),),
        "$69,012, 1.4 % below the $70,000 pivot",
        (("macro holds", None),),
        now - timedelta(hours=2),
    )
    board = Board("live", now).with_updates(
        now=now, statuses=[kraken, okx], stale_after={"kraken": 60.0, CONSENSUS: 75.0}
    )
    return replace(board, checklist=(row,), verdict=call)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def writer(folder: Path) -> Iterator[Store]:
    """The recorder's side: this process holds the writer lock, as a recorder would."""
    folder.mkdir(parents=True)
    with Store.open(folder / "history.sqlite3") as store:
        assert not store.read_only
        yield store


def beat(folder: Path, board: Board, *, pid: int | None = None, at: datetime | None = None) -> None:
    """Write the recorder's state file, as its heartbeat does."""
    at = at or datetime.now(UTC)
    info = RecorderInfo(
        pid or os.getpid(), at - timedelta(hours=1), at, "0.1.0", str(folder / "history.sqlite3")
    )
    write_state(folder / STATE_FILE, info, board)


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt to reach a host fails the test."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the follower tried to reach the network")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)


def test_the_state_file_round_trips_statuses_checklist_and_verdict(folder: Path) -> None:
    folder.mkdir(parents=True)
    board = recorder_board(NOW)
    beat(folder, board, at=NOW)
    state = read_state(folder / STATE_FILE)
    assert state is not None
    assert state.info.pid == os.getpid()
    assert state.info.heartbeat_at == NOW
    assert {s.name: s for s in state.statuses} == dict(board.statuses)
    assert state.stale_after == dict(board.stale_after)
    assert state.checklist == board.checklist
    assert state.verdict == board.verdict


@pytest.mark.parametrize(
    "content",
    [b"", b"{not json", b'{"format": 99, "pid": 1}', b'{"format": 1, "pid": "x"}', b"[]"],
    ids=["empty", "not-json", "newer-format", "bad-pid", "not-an-object"],
)
def test_a_bad_state_file_is_no_recorder(folder: Path, content: bytes) -> None:
    folder.mkdir(parents=True)
    (folder / STATE_FILE).write_bytes(content)
    assert read_state(folder / STATE_FILE) is None
    assert live_recorder(folder) is None


def test_live_recorder_needs_a_live_pid_a_fresh_heartbeat_and_the_lock(
    folder: Path, writer: Store
) -> None:
    board = recorder_board(NOW)
    assert live_recorder(folder) is None  # no state file
    beat(folder, board)
    info = live_recorder(folder)
    assert info is not None
    assert info.pid == os.getpid()
    # A heartbeat older than 30 s: hung, or the file of a crash.
    beat(folder, board, at=datetime.now(UTC) - timedelta(seconds=31))
    assert live_recorder(folder) is None
    # A pid that has ended (a crash left its file behind).
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], check=True,
                          capture_output=True, text=True)  # fmt: skip
    beat(folder, board, pid=int(done.stdout))
    assert live_recorder(folder) is None
    # A live pid that is not the lock's holder (a pid reused by another program).
    beat(folder, board, pid=os.getppid())
    assert live_recorder(folder) is None


def test_a_file_naming_this_pid_without_the_lock_is_no_recorder(folder: Path) -> None:
    folder.mkdir(parents=True)
    Store.open(folder / "history.sqlite3").close()  # the lock file exists, nobody holds it
    beat(folder, recorder_board(NOW))
    assert live_recorder(folder) is None


async def test_follower_publishes_what_the_recorder_writes_and_asks_no_provider(
    folder: Path, writer: Store, no_network: None
) -> None:
    board = recorder_board(datetime.now(UTC))
    writer.write([price(69_000.0, NOW - timedelta(minutes=1))])
    beat(folder, board)
    reader = Store.open(folder / "history.sqlite3")
    assert reader.read_only
    follower = Follower(Settings(), reader, data_dir=folder, every_s=0.05)
    updates: list[Update] = []
    seen = asyncio.Event()

    def publish(update: Update) -> None:
        updates.append(update)
        seen.set()

    task = asyncio.create_task(follower.run(publish))
    try:
        await asyncio.wait_for(seen.wait(), WAIT_S)
        first = updates[-1].board
        assert first.reading("btc.price.kraken", "kraken") is not None
        assert first.statuses["okx"] == board.statuses["okx"]
        assert first.checklist == board.checklist
        assert first.verdict == board.verdict
        assert first.stale_after["kraken"] == 60.0
        assert follower.live
        assert follower.feed == f"reading from recorder (pid {os.getpid()})"

        # The recorder writes from its own thread; the follower publishes it.
        new = price(69_500.0, NOW)
        await asyncio.to_thread(writer.write, [new])

        def has_new() -> bool:
            return any(new in u.observations for u in updates)

        while not has_new():
            seen.clear()
            await asyncio.wait_for(seen.wait(), WAIT_S)
        r = follower.board.reading("btc.price.kraken", "kraken")
        assert r is not None
        assert r.observation == new
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        reader.close()


async def test_a_late_back_dated_reading_and_a_corrected_value_are_both_seen(
    folder: Path, writer: Store
) -> None:
    """The recorder stores provider times: a day's ETF flow lands after newer prices."""
    beat(folder, recorder_board(datetime.now(UTC)))
    with Store.open(folder / "history.sqlite3") as reader:
        follower = Follower(Settings(), reader, data_dir=folder)
        writer.write([price(69_000.0, NOW)])
        follower.load_cached()
        flow = Observation("etf.flow.daily", -434.1, "USD m", "farside", NOW - timedelta(days=1))
        writer.write([flow])
        follower.load_cached()
        assert follower.board.observations[("etf.flow.daily", "farside")] == flow
        fixed = replace(flow, value=-430.0)  # the provisional newest day, revised
        writer.write([fixed])
        follower.load_cached()
        assert follower.board.observations[("etf.flow.daily", "farside")] == fixed


async def test_a_recorder_that_stops_is_said_and_one_that_starts_is_followed(
    folder: Path, writer: Store
) -> None:
    beat(folder, recorder_board(datetime.now(UTC)))
    with Store.open(folder / "history.sqlite3") as reader:
        follower = Follower(Settings(), reader, data_dir=folder)
        follower.load_cached()
        assert follower.live
        # A clean stop removes the file: stopped now.
        (folder / STATE_FILE).unlink()
        before = datetime.now(UTC)
        follower.load_cached()
        assert not follower.live
        stopped = follower.feed
        assert stopped.startswith(f"recorder (pid {os.getpid()}) stopped at ")
        assert stopped.endswith(" UTC · r polls here")
        assert stopped[-len("HH:MM UTC · r polls here") :][:5] in (
            f"{before:%H:%M}",
            f"{datetime.now(UTC):%H:%M}",
        )
        # A hung one (live pid, old heartbeat) is "not responding since" its last beat.
        old = datetime.now(UTC) - timedelta(minutes=2)
        beat(folder, recorder_board(old), at=old)
        with Store.open(folder / "history.sqlite3") as hung_reader:
            hung = Follower(Settings(), hung_reader, data_dir=folder)
            hung.load_cached()
            assert not hung.live
            assert hung.feed == (
                f"recorder (pid {os.getpid()}) not responding since {old:%H:%M} UTC · r polls here"
            )
        # A recorder (re)starts: followed again.
        beat(folder, recorder_board(datetime.now(UTC)))
        follower.load_cached()
        assert follower.live
        assert follower.feed == f"reading from recorder (pid {os.getpid()})"


async def test_pause_stops_reading_and_refresh_asks_the_recorder(
    folder: Path, writer: Store
) -> None:
    beat(folder, recorder_board(datetime.now(UTC)))
    with Store.open(folder / "history.sqlite3") as reader:
        follower = Follower(Settings(), reader, data_dir=folder, every_s=0.05)
        follower.load_cached()
        follower.pause()
        assert follower.paused
        looked = threading.Event()
        original = follower._read

        def counting() -> _Read:
            looked.set()
            return original()

        follower._read = counting  # type: ignore[method-assign]
        task = asyncio.create_task(follower.run(lambda u: None))
        await asyncio.sleep(0.3)
        assert not looked.is_set()  # paused: nothing read
        follower.refresh_now()
        assert (folder / "recorder.refresh").exists()
        follower.resume()
        assert await asyncio.to_thread(looked.wait, WAIT_S)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


def test_follower_reads_from_threads_while_the_recorder_writes(folder: Path, writer: Store) -> None:
    """The follower's reads and the recorder's writes in parallel: no error, nothing torn."""
    beat(folder, recorder_board(datetime.now(UTC)))
    stop = threading.Event()

    def write() -> None:
        n = 0
        while not stop.is_set():
            writer.write([price(60_000.0 + n, NOW + timedelta(seconds=n))])
            n += 1

    thread = threading.Thread(target=write)
    thread.start()
    try:
        with Store.open(folder / "history.sqlite3") as reader:
            follower = Follower(Settings(), reader, data_dir=folder)
            values = []
            # Read until the writes show (at least 50 reads; a loaded machine may let the writer
            # thread run rarely, so give it up to 10 s rather than a fixed count).
            deadline = time.monotonic() + 10.0
            while len(values) < 50 or (len(set(values)) < 2 and time.monotonic() < deadline):
                follower.load_cached()
                r = follower.board.reading("btc.price.kraken", "kraken")
                if r is not None:
                    values.append(r.observation.value)
                time.sleep(0.001)
    finally:
        stop.set()
        thread.join()
    assert values == sorted(values)
    assert len(set(values)) > 1
