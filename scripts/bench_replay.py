"""Replay 24 h of live-cadence exchanges through the whole engine, as fast as it goes.

Usage (from the repository root): ``python scripts/bench_replay.py [--hours 24]``.

The recording (scripts/make_long_recording.py: every endpoint at its live interval, bodies made
from real published responses) is written to a temporary folder, read back, and replayed through
the real :class:`~tui.core.engine.Engine` (fetch through the replay transport, parse, store to a
history file, derive, rules) on a :class:`benchlib.SimClock`: recorded time jumps to the next
wake-up as soon as the engine is idle, so every endpoint is polled exactly as often as live and
the wall time is what the engine needs. Budget (issue 9): >= 500x real time.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Final

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

import make_long_recording  # noqa: E402
from benchlib import SimClock, drive  # noqa: E402

from tui.core.config import Settings  # noqa: E402
from tui.core.engine import Engine  # noqa: E402
from tui.core.model import CONSENSUS, Update  # noqa: E402
from tui.core.recording import read_recording  # noqa: E402
from tui.core.replay import ReplayTransport  # noqa: E402
from tui.core.store import Store  # noqa: E402

BUDGET_SPEED_X: Final = 500.0


class _Counter:
    """Counts the fetches the engine published (one Update per endpoint answered or failed)."""

    def __init__(self) -> None:
        self.fetches = 0
        self.derived = 0

    def __call__(self, update: Update) -> None:
        if update.source == CONSENSUS:
            self.derived += 1
        else:
            self.fetches += 1


async def _replay(path: Path, data: Path, hours: float) -> tuple[float, _Counter]:
    recording = read_recording(path)
    clock = SimClock(recording.start)
    settings = Settings()
    store = Store.open(data / "history.sqlite3", settings.retention)
    engine = Engine(
        settings, clock, store, transport=ReplayTransport(recording, clock), mode="replay"
    )
    counter = _Counter()
    start = time.perf_counter()
    try:
        await drive(engine, clock, recording.start + timedelta(hours=hours), counter)
    finally:
        store.close()
    return time.perf_counter() - start, counter


def measure(hours: float = 24.0) -> dict[str, float]:
    """Build, read and replay ``hours`` of live-cadence exchanges; return the figures.

    Returns:
        ``replay_speed_x`` (recorded seconds per wall second of the replay), ``replay_wall_s``,
        ``exchanges_per_s`` (endpoint fetches per wall second), ``exchanges`` (in the file),
        ``fetches`` (the engine made), ``read_s`` (reading the file) and ``file_mb``.
    """
    with tempfile.TemporaryDirectory(prefix="btcwatch-replay-") as tmp:
        path = Path(tmp) / "day.jsonl"
        count = make_long_recording.build(path, hours)
        start = time.perf_counter()
        read_recording(path)
        read_s = time.perf_counter() - start
        wall, counter = asyncio.run(_replay(path, Path(tmp), hours))
        size = path.stat().st_size / 2**20
    return {
        "replay_speed_x": hours * 3600.0 / wall,
        "replay_wall_s": wall,
        "exchanges_per_s": counter.fetches / wall,
        "exchanges": float(count),
        "fetches": float(counter.fetches),
        "read_s": read_s,
        "file_mb": size,
    }


def main() -> int:
    """Print the figures; exit 1 when the budget is missed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, default=24.0)
    args = parser.parse_args()
    got = measure(args.hours)
    for name, value in got.items():
        print(f"{name:<16} {value:12.2f}")
    met = got["replay_speed_x"] >= BUDGET_SPEED_X
    print(f"budget >= {BUDGET_SPEED_X:g}x: {'met' if met else 'NOT met'}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
