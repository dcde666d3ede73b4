"""A dashboard opened while a recorder runs follows it, and says when it stops (pilot)."""

from __future__ import annotations

import asyncio
import os
from datetime import UTC, datetime, timedelta

from tui.app import BtcwatchApp, Session
from tui.core import paths
from tui.core.config import Settings
from tui.core.follower import STATE_FILE, Follower, RecorderInfo, write_state
from tui.core.model import Board, Observation, SourceStatus, Status
from tui.core.store import Store
from widgets.status_strip import StatusStrip


async def wait(cond, what: str) -> None:
    for _ in range(400):
        if cond():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(what)


async def test_viewer_follows_a_live_recorder_and_says_when_it_stops() -> None:
    paths.data_dir().mkdir(parents=True, exist_ok=True)
    writer = Store.open(paths.store_file())
    now = datetime.now(UTC)
    writer.write([Observation("btc.price.kraken", 69_000.0, "USD", "kraken", now)])
    board = Board("live", now).with_updates(
        now=now, statuses=[SourceStatus("kraken", Status.OK, "", now, now)]
    )
    info = RecorderInfo(os.getpid(), now, now, "0.1.0", str(paths.store_file()))
    write_state(paths.data_dir() / STATE_FILE, info, board)
    app = BtcwatchApp(Session(Settings(), "live"))
    async with app.run_test(size=(120, 40)) as pilot:
        await wait(lambda: isinstance(app._engine, Follower), "follower")
        strip = app.dashboard.query_one(StatusStrip)
        await wait(lambda: strip.feed == f"reading from recorder (pid {os.getpid()})", "feed")
        assert not strip.feed_lost
        assert not any("being written" in n.message for n in app._notifications)
        writer.write(
            [Observation("btc.price.kraken", 69_100.0, "USD", "kraken", now + timedelta(seconds=1))]
        )
        await wait(
            lambda: app._board.reading("btc.price.kraken").observation.value == 69_100.0, "new"
        )
        (paths.data_dir() / STATE_FILE).unlink()
        await wait(lambda: strip.feed_lost, "lost")
        assert strip.feed.startswith(f"recorder (pid {os.getpid()}) stopped at ")
        writer.close()  # the recorder's lock goes: r polls here
        from tui.core.clock import SystemClock
        from tui.core.engine import Engine

        app._build_engine = lambda store: Engine(Settings(), SystemClock(), store, sources=())
        await pilot.press("r")
        await wait(
            lambda: app._engine is not None and not isinstance(app._engine, Follower), "engine"
        )
        assert strip.feed == ""
        assert app._writer is not None
        assert not app._writer.read_only
