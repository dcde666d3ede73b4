"""The history store at size: a 30-day chart query on 90 days x 60 series of 1-minute history,
and btcwatch's RSS (live, polling) with 30 days of history of every series the sources emit.

Usage (from the repository root): ``python scripts/bench_store.py [--skip-rss]``.

(a) The store is built in a temporary file as retention leaves it: 60 series (the consensus price
among them) with one row a minute for 90 days (7.8 M rows; those older than 7 days marked as
minute rows), plus 90 daily closes. SQLite writes the rows itself (a recursive CTE), so the
build takes seconds. Timed, median of runs: the history screen's 30-day chart of a 1-minute series
(``history.load_chart``, the heaviest 30-day query: 43,200 rows), the dashboard's 1M and 1W price
charts (``views.load_chart``) and opening the file (``Store.open``, which checks it).
(b) One hour of the live-cadence recording (scripts/make_long_recording.py) is replayed through
the engine to learn every series the sources emit and how often; each is then written for the 30
days up to now at that cadence, one row a minute beyond 7 days (as retention keeps it). The real
``btcwatch`` runs live on that data dir against the local server of scripts/bench_live.py; after
its first frame, the price chart is cycled through its ranges (1D, 1W, 1M, 3M) and the peak RSS is
read. Budgets (issue 9): chart query <= 50 ms, RSS <= 80 MB with 30 days of history.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import random
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Final

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

import bench  # noqa: E402
import bench_live  # noqa: E402
import benchlib  # noqa: E402
import make_long_recording  # noqa: E402
from benchlib import SimClock, drive  # noqa: E402

from tui.core import history, views  # noqa: E402
from tui.core.config import Settings  # noqa: E402
from tui.core.engine import Engine  # noqa: E402
from tui.core.model import CONSENSUS  # noqa: E402
from tui.core.recording import read_recording  # noqa: E402
from tui.core.replay import ReplayTransport  # noqa: E402
from tui.core.store import Store  # noqa: E402

BUDGET_CHART_MS: Final = 50.0
BUDGET_RSS_MB: Final = 80.0
RUNS: Final = 20
DAY_MS: Final = 86_400_000
MINUTE_MS: Final = 60_000
_INDEX: Final = "CREATE INDEX readings_by_resolution ON readings (resolution, observed_at)"


def _ms(t: datetime) -> int:
    return int(t.timestamp() * 1000)


def build_minute_store(path: Path, now: datetime, days: int = 90, series: int = 60) -> None:
    """``series`` series of one row a minute for ``days`` days up to ``now``, as retention
    leaves them (minute rows beyond 7 days), plus the daily closes of one venue."""
    Store.open(path).close()  # the schema, as btcwatch makes it
    end = _ms(now) // MINUTE_MS * MINUTE_MS
    minutes = days * 1440
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA synchronous=OFF")
        db.execute("DROP INDEX readings_by_resolution")  # built once at the end: faster
        ids = [("btc.price", CONSENSUS, "USD")] + [
            (f"bench.series.{i:02d}", "bench", "USD") for i in range(series - 1)
        ]
        db.execute("CREATE TEMP TABLE ids (id TEXT, source TEXT, unit TEXT)")
        db.executemany("INSERT INTO ids VALUES (?, ?, ?)", ids)
        db.execute(
            """INSERT INTO readings (id, source, observed_at, value, unit, resolution)
            WITH RECURSIVE m(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM m WHERE n < ?)
            SELECT ids.id, ids.source, ? - m.n * ?, 70000.0 + (abs(random()) % 400000) / 100.0,
                ids.unit, CASE WHEN m.n * ? > ? THEN 60 ELSE 0 END
            FROM ids CROSS JOIN m ORDER BY ids.id, ids.source, m.n DESC""",
            (minutes - 1, end, MINUTE_MS, MINUTE_MS, 7 * DAY_MS),
        )
        midnight = end // DAY_MS * DAY_MS
        db.executemany(
            "INSERT INTO readings (id, source, observed_at, value, unit, resolution)"
            " VALUES ('btc.day.close.kraken', 'kraken', ?, ?, 'USD', 3600)",
            [(midnight - d * DAY_MS, 70_000.0 + d) for d in range(1, days + 1)],
        )
        db.execute(_INDEX)
        db.execute("ANALYZE")


def median_ms(fn: Callable[[], object], runs: int = RUNS) -> float:
    """Median wall time of ``fn`` in ms, over this module's count of runs (benchlib)."""
    return benchlib.median_ms(fn, runs)


def measure_chart(folder: Path) -> dict[str, float]:
    """Build the 90-day store in ``folder`` and time the chart queries on it."""
    path = folder / "minutes.sqlite3"
    now = datetime.now(UTC)
    start = time.perf_counter()
    build_minute_store(path, now)
    built = time.perf_counter() - start
    start = time.perf_counter()
    store = Store.open(path)
    opened = time.perf_counter() - start
    settings = Settings()
    try:
        rows = store.series("btc.price", CONSENSUS, now - timedelta(days=30), now)
        return {
            "chart_query_ms": median_ms(
                lambda: history.load_chart(store, settings, "btc.price", CONSENSUS, "1M", now)
            ),
            "chart_rows": float(len(rows)),
            "price_chart_1m_ms": median_ms(lambda: views.load_chart(store, settings, "1M", now)),
            "price_chart_1w_ms": median_ms(lambda: views.load_chart(store, settings, "1W", now)),
            "store_90d_open_s": opened,
            "store_90d_mb": path.stat().st_size / 2**20,
            "store_90d_build_s": built,
        }
    finally:
        store.close()


async def _learn(path: Path, folder: Path) -> Path:
    """Replay ``path`` into a store in ``folder`` (the series the sources emit, and how often)."""
    recording = read_recording(path)
    clock = SimClock(recording.start)
    settings = Settings()
    store_path = folder / "learn.sqlite3"
    store = Store.open(store_path, settings.retention)
    engine = Engine(
        settings, clock, store, transport=ReplayTransport(recording, clock), mode="replay"
    )
    try:
        await drive(engine, clock, recording.end, lambda u: None)
    finally:
        store.close()
    return store_path


def _month(
    learned: Path, now: datetime, days: int
) -> Iterator[tuple[str, str, int, float, str, int]]:
    """30 days of every learned series up to ``now``: its cadence in the last 7 days, one row a
    minute (at most) before; rows the hour did not repeat (daily values) are moved to ``now``."""
    rng = random.Random(9)
    with sqlite3.connect(learned) as db:
        (t0, t1) = db.execute(
            "SELECT MIN(observed_at), MAX(observed_at) FROM readings WHERE id = 'btc.price'"
        ).fetchone()
        shift = _ms(now) - t1
        series = db.execute(
            "SELECT id, source, unit, COUNT(*), AVG(value) FROM readings"
            " WHERE observed_at BETWEEN ? AND ? GROUP BY id, source",
            (t0, t1),
        ).fetchall()
        periodic = {(i, s) for i, s, _, n, _ in series if n >= 2}
        for id_, source, at, value, unit in db.execute(
            "SELECT id, source, observed_at, value, unit FROM readings"
        ):
            if (id_, source) not in periodic:
                yield id_, source, at + shift, value, unit, 0
    span = t1 - t0
    end = _ms(now)
    for id_, source, unit, n, mean in series:
        if n < 2:
            continue
        step = max(1000, span // (n - 1))
        recent = end - 7 * DAY_MS
        t = end - days * DAY_MS
        while t <= end:
            value = mean * (1 + 0.01 * math.sin(t / 3.6e6)) + rng.random() * 1e-6
            if t < recent:
                yield id_, source, t // MINUTE_MS * MINUTE_MS, value, unit, 60
                t += max(step, MINUTE_MS)
            else:
                yield id_, source, t, value, unit, 0
                t += step


def build_month_store(data_dir: Path, folder: Path, days: int = 30) -> tuple[int, float]:
    """The data dir's history: ``days`` of every series at live cadence; (rows, MB)."""
    recording = folder / "hour.jsonl"
    make_long_recording.build(recording, 1.0)
    learned = asyncio.run(_learn(recording, folder))
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / "history.sqlite3"
    Store.open(path).close()
    now = datetime.now(UTC)
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA synchronous=OFF")
        db.execute("DROP INDEX readings_by_resolution")
        db.executemany(
            "INSERT OR REPLACE INTO readings (id, source, observed_at, value, unit, resolution)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            _month(learned, now, days),
        )
        db.execute(_INDEX)
        db.execute("ANALYZE")
        (rows,) = db.execute("SELECT COUNT(*) FROM readings").fetchone()
    return int(rows), path.stat().st_size / 2**20


def measure_rss(folder: Path) -> dict[str, float]:
    """Peak RSS of the live dashboard on 30 days of history, after every chart range loaded."""
    data_dir = folder / "data"
    rows, size = build_month_store(data_dir, folder)
    with bench_live.serving(folder) as (_server, config):
        env = bench_live.btcwatch_env(data_dir, config)
        start = time.monotonic()
        pid, fd = bench.spawn([bench_live.btcwatch()], env)
        try:
            if not bench.wait_for(fd, b"pivot", timeout=60):
                raise SystemExit("btcwatch (live, 30 days of history) never drew its price")
            first_frame = time.monotonic() - start
            at_first_frame = bench.peak_rss_mb(pid)
            bench.drain(fd, 5.0)
            settled = bench.peak_rss_mb(pid)
            for _ in range(4):  # ] cycles the price chart: 1W, 1M, 3M, back to 1D
                os.write(fd, b"]")
                bench.drain(fd, 2.0)
            rss = bench.peak_rss_mb(pid)
        finally:
            bench.stop(pid, fd)
    return {
        "rss_30d_mb": rss,
        "rss_30d_at_first_frame_mb": at_first_frame,
        "rss_30d_after_first_round_mb": settled,
        "rss_30d_first_frame_s": first_frame,
        "store_30d_rows": float(rows),
        "store_30d_mb": size,
    }


def measure(rss: bool = True) -> dict[str, float]:
    """Both parts (``rss=False``: the chart query only); see the module docstring."""
    with tempfile.TemporaryDirectory(prefix="btcwatch-store-") as tmp:
        out = measure_chart(Path(tmp))
        if rss:
            out |= measure_rss(Path(tmp))
    return out


def main() -> int:
    """Print the figures; exit 1 when a budget is missed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-rss", action="store_true")
    args = parser.parse_args()
    got = measure(rss=not args.skip_rss)
    for name, value in got.items():
        print(f"{name:<24} {value:12.2f}")
    met = got["chart_query_ms"] <= BUDGET_CHART_MS and got.get("rss_30d_mb", 0) <= BUDGET_RSS_MB
    print(f"budgets {'met' if met else 'NOT met'}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
