"""A full disk under the history: the engine keeps polling, the Board keeps moving, nothing that
was committed before is lost, and the user is told in one line."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import os
import sqlite3
import subprocess
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from tests.faults.bodies import MOMENT, ok_bodies
from tests.faults.conftest import SourceServer
from tests.localserver import Reply
from tui.core import config
from tui.core.clock import FixedClock
from tui.core.engine import Engine
from tui.core.errors import StoreError
from tui.core.http import HttpSettings
from tui.core.model import Observation, Status
from tui.core.sources import registry
from tui.core.store import Store

SPEC = dataclasses.replace(registry.by_name("binance"), min_spacing_s=0.0)
HTTP = HttpSettings(connect_timeout_s=1.0, read_timeout_s=1.0, retries=0)
TMPFS_SIZE = "512k"


@contextlib.contextmanager
def tmpfs(where: Path) -> Iterator[Path]:
    """A real tiny tmpfs mounted at ``where`` (needs root and a kernel that lets us)."""
    where.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={TMPFS_SIZE}", "tmpfs", str(where)],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.decode().strip()[:80]})")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def fill(folder: Path) -> None:
    """Take every free byte of ``folder``'s file system."""
    with contextlib.suppress(OSError), (folder / "filler").open("wb") as f:
        while True:
            f.write(b"\0" * 4096)
            f.flush()


def top_up(store: Store) -> StoreError:
    """Write small batches until the database cannot take one more: its last pages are full too,
    so the engine's next write fails. Returns the error that said so."""
    error: StoreError | None = None
    for size in (20, 1):  # big batches first, then single rows into the last gaps
        for n in range(100_000):
            rows = [
                Observation(f"filler.{size}.{n}.{i}", 1.0, "USD", "test", MOMENT)
                for i in range(size)
            ]
            try:
                store.write(rows)
            except StoreError as e:
                error = e
                break
    assert error is not None, "the database never filled up"
    return error


def cap_pages(store: Store) -> None:
    """No tmpfs: the same SQLITE_FULL from a database that may not grow another page."""
    conn: sqlite3.Connection = store._conn  # the test reaches in: no public way to cap it
    (pages,) = conn.execute("PRAGMA page_count").fetchone()
    conn.execute(f"PRAGMA max_page_count = {pages}")


def funding_body(rate: float, n: int) -> bytes:
    """Binance's documented premiumIndex answer with ``lastFundingRate`` set to ``rate``, at the
    ``n``-th round's time (each round two minutes after the last)."""
    doc = json.loads(ok_bodies(SPEC)["premium_index"])
    doc["lastFundingRate"] = f"{rate:.8f}"
    doc["time"] = int((MOMENT + timedelta(seconds=120 * n)).timestamp() * 1000)
    return json.dumps(doc).encode()


@pytest.fixture(params=["tmpfs", "max_page_count"])
def disk(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    if request.param == "tmpfs":
        if os.geteuid() != 0:
            pytest.skip("mounting a tmpfs needs root; max_page_count covers this case")
        with tmpfs(tmp_path / "small") as folder:
            yield request.param, folder
    else:
        yield request.param, tmp_path


async def test_a_full_disk_loses_nothing_committed_and_the_engine_keeps_going(
    server: SourceServer, disk: tuple[str, Path], caplog: pytest.LogCaptureFixture
) -> None:
    how, folder = disk
    store = Store.open(folder / "history.db")
    assert store.notice is None
    clock = FixedClock(MOMENT)
    sources = {SPEC.name: config.SourceSettings(base_url=server.base_for(SPEC))}
    engine = Engine(
        config.Settings(sources=sources), clock, store, sources=[SPEC], http_settings=HTTP
    )
    ok = ok_bodies(SPEC)
    server.serve(SPEC, {"open_interest": [Reply(200, ok["open_interest"])]})
    rates = [0.0001, 0.0002, 0.0003, 0.0004]
    server.serve(
        SPEC, {"premium_index": [Reply(200, funding_body(r, n)) for n, r in enumerate(rates)]}
    )
    before = await engine.poll_once()
    await engine._written()  # the first round is on disk before the disk fills
    committed = store.latest()
    assert committed
    fill(folder) if how == "tmpfs" else cap_pages(store)
    assert "full" in str(top_up(store))
    with caplog.at_level(logging.ERROR, logger="tui.core.engine"):
        for _ in range(3):
            clock.advance(120)
            board = await engine.poll_once()
            await engine._written()
    await engine.aclose()
    # The engine kept polling and the Board kept moving: the last rate is on it.
    assert board.statuses[SPEC.name].status is Status.OK
    funding = board.reading("funding.binance", SPEC.name)
    assert funding is not None
    assert funding.observation.value == pytest.approx(0.04)
    assert board.generated_at == MOMENT + timedelta(seconds=360)
    assert before.reading("funding.binance", SPEC.name) is not None
    # The failures were logged, each on one line, and never raised into a poll loop.
    failures = [r for r in caplog.records if r.name == "tui.core.engine"]
    assert failures
    assert all("full" in str(r.exc_info[1]) for r in failures if r.exc_info)
    # Everything committed before the disk filled is still there and readable.
    kept = {(o.id, o.source, o.observed_at, o.value) for o in store.latest()}
    assert {(o.id, o.source, o.observed_at, o.value) for o in committed} <= kept
    store.close()
    with Store.open_read_only(folder / "history.db") as again:
        assert {(o.id, o.source) for o in committed} <= {(o.id, o.source) for o in again.latest()}


async def test_a_full_disk_is_told_in_one_line(server: SourceServer, tmp_path: Path) -> None:
    store = Store.open(tmp_path / "history.db")
    clock = FixedClock(MOMENT)
    sources = {SPEC.name: config.SourceSettings(base_url=server.base_for(SPEC))}
    engine = Engine(
        config.Settings(sources=sources), clock, store, sources=[SPEC], http_settings=HTTP
    )
    server.serve(SPEC, {"open_interest": [Reply(200, ok_bodies(SPEC)["open_interest"])]})
    rounds = [Reply(200, funding_body(0.0001 * (n + 1), n)) for n in range(3)]
    server.serve(SPEC, {"premium_index": rounds})  # new readings each round: the file must grow
    await engine.poll_once()
    await engine._written()
    cap_pages(store)
    top_up(store)
    for _ in range(2):
        clock.advance(120)
        await engine.poll_once()
        await engine._written()
    await engine.aclose()
    problem = getattr(engine, "store_problem", None)
    store.close()
    assert isinstance(problem, str)
    assert problem.startswith("history disk full")
    assert "\n" not in problem
