"""A second btcwatch for test_store: holds the store's write lock, or writes batches until killed.

Usage: ``store_writer_child.py hold PATH`` (write batch 0, print ``ready``, wait until stdin closes)
or ``store_writer_child.py write PATH SIZE`` (write batches 0, 1, 2, ... of SIZE rows each, printing
each batch number once it is committed).
"""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tui.core.model import Observation
from tui.core.store import Store

T0 = datetime(2026, 2, 5, tzinfo=UTC)
ID = "test.batch"
SOURCE = "child"
MAX_SECONDS = 30.0  # never outlive a test that forgot to kill us


def batch(n: int, size: int) -> list[Observation]:
    """Batch ``n``: ``size`` rows valued ``n``, one a second from ``n * size`` seconds after T0."""
    return [
        Observation(ID, float(n), "n", SOURCE, T0 + timedelta(seconds=n * size + i))
        for i in range(size)
    ]


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def main(argv: list[str]) -> int:
    mode, path = argv[1], Path(argv[2])
    store = Store.open(path)
    if store.read_only or store.in_memory:
        say(f"error: {store.notice}")
        return 1
    if mode == "hold":
        store.write(batch(0, 10))
        say("ready")
        sys.stdin.read()
        store.close()
        return 0
    size = int(argv[3])
    deadline = time.monotonic() + MAX_SECONDS
    n = 0
    while time.monotonic() < deadline:
        store.write(batch(n, size))
        say(str(n))
        n += 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
