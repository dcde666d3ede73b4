"""A long replay through the whole engine: memory stays flat, the store stays within retention.

The recording (scripts/make_long_recording.py) answers every endpoint at its live interval with
bodies made from real published responses. The engine runs on a virtual clock
(scripts/benchlib.py) that moves only when the engine is idle, so it polls every endpoint exactly
as often as live polling would, whatever the machine's speed. Retention is shortened so that it
bites within the run: minute rows after a quarter of the run, hour rows after half of it.

Bounds (stated here, checked below): after a warm-up of a third of the run, the objects the
garbage collector tracks grow by fewer than ``OBJECTS_BOUND``, the RSS by less than
``RSS_BOUND_MB`` and (slow run, tracemalloc from the warm-up on) the Python heap by less than
``HEAP_BOUND_MB``; no series keeps more than one row per UTC hour in the hour band or per UTC
minute in the minute band; the raw answers table holds at most one answer per endpoint; the Board
holds exactly one reading per (id, source) ever published.
"""

from __future__ import annotations

import gc
import sqlite3
import sys
import tracemalloc
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Final

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

import make_long_recording  # noqa: E402
from benchlib import SimClock, drive  # noqa: E402

from tui.core.config import Settings  # noqa: E402
from tui.core.engine import Engine  # noqa: E402
from tui.core.model import Update  # noqa: E402
from tui.core.recording import read_recording  # noqa: E402
from tui.core.replay import ReplayTransport  # noqa: E402
from tui.core.sources import registry  # noqa: E402
from tui.core.store import Retention, Store  # noqa: E402

#: Growth allowed between the end of the warm-up (a third of the run) and any later hour: of the
#: Python heap (tracemalloc, in the slow run), of the objects the collector tracks (a leak of one
#: object per fetch would add thousands), and of the resident set (SQLite's page cache included).
HEAP_BOUND_MB: Final = 5.0
OBJECTS_BOUND: Final = 2_000
RSS_BOUND_MB: Final = 10.0
HOUR_MS: Final = 3_600_000
MINUTE_MS: Final = 60_000


@dataclass
class Run:
    """What one long replay left behind."""

    hours: float
    start: datetime
    store: Path
    retention: Retention
    board_keys: set[tuple[str, str]]
    board_ok: bool
    published: set[tuple[str, str]] = field(default_factory=set)
    fetches: Counter[str] = field(default_factory=Counter)
    heap_mb: dict[int, float] = field(default_factory=dict)
    """Python heap (tracemalloc, from the warm-up on) per simulated hour, when traced."""
    rss_mb: dict[int, float] = field(default_factory=dict)
    objects: dict[int, int] = field(default_factory=dict)
    """Objects the garbage collector tracks, per simulated hour (after a collection)."""


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def _long_run(tmp: Path, hours: float, *, cheap: bool, trace: bool) -> Run:
    path = tmp / "long.jsonl"
    make_long_recording.build(path, hours, cheap=cheap)
    recording = read_recording(path)
    day = hours / 24.0
    retention = Retention(raw_days=day / 4, minute_after_days=day / 4, hour_after_days=day / 2)
    settings = Settings(retention=retention)
    store_path = tmp / "history.sqlite3"
    store = Store.open(store_path, retention)
    clock = SimClock(recording.start)
    engine = Engine(
        settings, clock, store, transport=ReplayTransport(recording, clock), mode="replay"
    )
    published: set[tuple[str, str]] = set()
    fetches: Counter[str] = Counter()
    heap: dict[int, float] = {}
    rss: dict[int, float] = {}
    objects: dict[int, int] = {}
    warm_up = int(hours // 3)

    def publish(update: Update) -> None:
        fetches[update.source] += 1
        published.update((o.id, o.source) for o in update.observations)

    def sample(now: datetime) -> None:
        hour = round((now - recording.start).total_seconds() / 3600)
        if trace and hour == warm_up:
            tracemalloc.start()
        if tracemalloc.is_tracing():
            heap[hour] = tracemalloc.get_traced_memory()[0] / 2**20
        gc.collect()
        objects[hour] = len(gc.get_objects())
        rss[hour] = _rss_mb()

    try:
        await drive(
            engine,
            clock,
            recording.start + timedelta(hours=hours),
            publish,
            every=timedelta(hours=1),
            on_tick=sample,
        )
    finally:
        tracemalloc.stop()
        store.close()
    board = engine.board
    return Run(
        hours,
        recording.start,
        store_path,
        retention,
        set(board.observations),
        all(key == (o.id, o.source) for key, o in board.observations.items()),
        published,
        fetches,
        heap,
        rss,
        objects,
    )


def _over_bucket(db: sqlite3.Connection, lo: int, hi: int, size: int) -> list[tuple[str, ...]]:
    """Series with more than one row in a ``size``-ms bucket of [lo, hi)."""
    rows = db.execute(
        "SELECT id, source, observed_at / ? AS b, COUNT(*) FROM readings"
        " WHERE observed_at >= ? AND observed_at < ? GROUP BY id, source, b HAVING COUNT(*) > 1",
        (size, lo, hi),
    ).fetchall()
    return [tuple(str(x) for x in r) for r in rows]


def _check(run: Run) -> None:
    # Memory: flat after the warm-up.
    warm_up = int(run.hours // 3)
    last = max(run.rss_mb)
    assert last >= run.hours - 1, f"sampled only up to hour {last}"
    grown = run.objects[last] - run.objects[warm_up]
    assert grown < OBJECTS_BOUND, f"{grown} more objects after warm-up: {run.objects}"
    rss = max(run.rss_mb[h] for h in run.rss_mb if h >= warm_up) - run.rss_mb[warm_up]
    assert rss < RSS_BOUND_MB, f"RSS grew {rss:.1f} MB after warm-up: {run.rss_mb}"
    if run.heap_mb:
        heap = max(run.heap_mb.values())
        assert heap < HEAP_BOUND_MB, f"heap grew {heap:.1f} MB after warm-up: {run.heap_mb}"
    # Every endpoint polled as live polling would: a spot ticker every 15 s.
    assert run.fetches["coinbase"] >= run.hours * 3600 / 15
    # The store: retention ran every hour; the last run that surely finished is an hour before
    # the end, and every row older than its limits is one per bucket.
    r = run.retention
    ran = int((run.start + timedelta(hours=run.hours - 1)).timestamp() * 1000)
    hour_cut = (ran - round(r.hour_after_days * 86_400_000)) // HOUR_MS * HOUR_MS
    minute_cut = (ran - round(r.minute_after_days * 86_400_000)) // MINUTE_MS * MINUTE_MS
    with sqlite3.connect(run.store) as db:
        assert _over_bucket(db, -(2**62), hour_cut, HOUR_MS) == []
        assert _over_bucket(db, hour_cut, minute_cut, MINUTE_MS) == []
        # Downsampling bites: the busiest series keeps far fewer rows than were fetched.
        (kept,) = db.execute(
            "SELECT COUNT(*) FROM readings WHERE id = 'btc.price.coinbase' AND source = 'coinbase'"
        ).fetchone()
        limit = (run.hours / 2 + (run.hours / 4) * 60 + (run.hours / 4 + 1) * 240) + 2
        assert 0 < kept <= limit
        (answers,) = db.execute("SELECT COUNT(*) FROM exchanges").fetchone()
        endpoints = sum(len(s.endpoints) for s in registry.ALL)
        assert answers <= endpoints
        series = set(db.execute("SELECT DISTINCT id, source FROM readings").fetchall())
    # The Board: one reading per (id, source), for every series the run published or stored.
    assert run.board_ok
    assert run.published <= run.board_keys
    assert run.board_keys == series


async def test_three_hours_through_the_engine(tmp_path: Path) -> None:
    """CI variant: 3 h of exchanges (big bodies made every 30 min) at live cadence, ~15 s."""
    _check(await _long_run(tmp_path, 3.0, cheap=True, trace=False))


@pytest.mark.slow
@pytest.mark.timeout(1800)
async def test_a_day_through_the_engine(tmp_path: Path) -> None:
    """24 h of exchanges, every body at its live interval."""
    _check(await _long_run(tmp_path, 24.0, cheap=False, trace=True))
