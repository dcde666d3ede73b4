"""Shared by the benchmarks and the long-run test: a virtual clock that drives the real Engine.

:class:`SimClock` is recorded time that moves only when the engine has nothing left to do: every
poll loop and the retention loop sleep on it, no parse or rule evaluation is running in a thread,
and the derive loop waits for fresh readings. Then it jumps to the earliest wake-up. A replay
driven by it polls every endpoint exactly as often as live polling would, however fast or slow the
machine is, and its wall time is the time the whole engine needs for that much recorded time.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import statistics
import threading
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any, Final, ParamSpec, TypeVar

from tui.core.clock import ReplayClock
from tui.core.engine import Engine
from tui.core.model import Update

P = ParamSpec("P")
T = TypeVar("T")

#: Event-loop turns with nothing new before the engine counts as idle.
QUIET_TURNS: Final = 3


class CountingExecutor(ThreadPoolExecutor):
    """The loop's default executor (``asyncio.to_thread``), keeping the jobs not yet done."""

    def __init__(self, max_workers: int = 4) -> None:
        super().__init__(max_workers, thread_name_prefix="sim-worker")
        self._jobs: set[Future[Any]] = set()
        self._lock = threading.Lock()

    def submit(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        """Run ``fn`` and keep its future until it is done."""
        job = super().submit(fn, *args, **kwargs)
        with self._lock:
            self._jobs.add(job)
        job.add_done_callback(self._done)
        return job

    def _done(self, job: Future[Any]) -> None:
        with self._lock:
            self._jobs.discard(job)

    def pending(self) -> list[Future[Any]]:
        """The jobs still running or queued."""
        with self._lock:
            return list(self._jobs)


class SimClock(ReplayClock):
    """Recorded time that the driver (:func:`drive`) moves from one wake-up to the next.

    A :class:`ReplayClock` to the engine and the replay transport (which may ``skip_to`` over a
    gap), so nothing of theirs changes; only real time no longer matters.
    """

    def __init__(self, start: datetime) -> None:
        super().__init__(start, speed=1.0)
        self._now = self._origin
        self._heap: list[tuple[datetime, int, asyncio.Future[None]]] = []
        self._seq = 0
        self.pushes = 0
        """Sleeps started so far (the driver watches it to see the engine still moving)."""

    def now(self) -> datetime:
        """The recorded time."""
        return self._now

    def pause(self) -> None:
        """Nothing to do: time moves only when driven."""

    def resume(self) -> None:
        """Nothing to do: time moves only when driven."""

    def skip_to(self, when: datetime) -> None:
        """Jump forward to ``when`` (no-op if it is in the past)."""
        self._now = max(self._now, when)

    def restart(self, start: datetime) -> None:
        """Looping is not simulated: the recording simply ends."""

    async def sleep(self, seconds: float) -> None:
        """Wait until the driver moves the clock ``seconds`` on."""
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._seq += 1
        self.pushes += 1
        wake = self._now + timedelta(seconds=max(0.0, seconds))
        heapq.heappush(self._heap, (wake, self._seq, waiter))
        await waiter

    def sleepers(self) -> int:
        """Sleeps under way (cancelled ones do not count)."""
        return sum(1 for _, _, w in self._heap if not w.done())

    def advance(self) -> bool:
        """Jump to the earliest wake-up and wake everything due then; False when none is left."""
        while self._heap and self._heap[0][2].done():
            heapq.heappop(self._heap)
        if not self._heap:
            return False
        self._now = max(self._now, self._heap[0][0])
        while self._heap and self._heap[0][0] <= self._now:
            _, _, waiter = heapq.heappop(self._heap)
            if not waiter.done():
                waiter.set_result(None)
        return True


def _waits_for_fresh(task: asyncio.Task[Any] | None) -> bool:
    """True when the engine's derive task waits for new readings (an ``Event.wait``)."""
    if task is None:
        return True
    coro: Any = task.get_coro()
    while coro is not None:
        if getattr(coro, "__qualname__", "") == "Event.wait":
            return True
        coro = getattr(coro, "cr_await", None)
    return False


async def _settle(clock: SimClock, executor: CountingExecutor, sleepers: int) -> None:
    """Return once the engine is idle: all ``sleepers`` asleep, no thread job, derive waiting."""
    derive = next((t for t in asyncio.all_tasks() if t.get_name() == "derive"), None)
    quiet = 0
    while quiet < QUIET_TURNS:
        jobs = executor.pending()
        if jobs:
            quiet = 0
            await asyncio.wait([asyncio.wrap_future(j) for j in jobs])
            continue
        pushes = clock.pushes
        await asyncio.sleep(0)
        idle = clock.pushes == pushes and clock.sleepers() >= sleepers and _waits_for_fresh(derive)
        quiet = quiet + 1 if idle else 0
        if not idle and clock.sleepers() >= sleepers and not executor.pending():
            # The store thread (a write the derive loop waits for): give it real time.
            await asyncio.sleep(0.0005)


async def drive(
    engine: Engine,
    clock: SimClock,
    until: datetime,
    publish: Callable[[Update], None],
    *,
    every: timedelta | None = None,
    on_tick: Callable[[datetime], Awaitable[None] | None] | None = None,
) -> None:
    """Run ``engine`` on ``clock`` until ``until`` (recorded time), as fast as it can.

    Args:
        engine: an engine built with ``clock`` (and a replay transport on it).
        clock: the virtual clock.
        until: stop once recorded time reaches it.
        publish: gets every :class:`Update`, as the UI would.
        every: call ``on_tick`` each time recorded time passes another ``every``.
        on_tick: called (with the recorded time) while the engine is idle.
    """
    loop = asyncio.get_running_loop()
    executor = CountingExecutor()
    loop.set_default_executor(executor)
    sleepers = len(engine.sources) + 1  # a poll loop per source, and the retention loop
    task = asyncio.create_task(engine.run(publish), name="engine")
    next_tick = None if every is None else clock.now() + every
    try:
        while clock.now() < until and not task.done():
            await _settle(clock, executor, sleepers)
            if next_tick is not None and every is not None and on_tick is not None:
                while clock.now() >= next_tick:
                    result = on_tick(clock.now())
                    if result is not None:
                        await result
                    next_tick += every
            if not clock.advance():
                break
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        executor.shutdown(wait=True)


def median_ms(fn: Callable[[], object], runs: int) -> float:
    """Median wall time of ``fn`` over ``runs`` calls, in milliseconds (after one warm-up)."""
    fn()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000.0)
    return statistics.median(times)
