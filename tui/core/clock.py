"""Clocks: the wall clock, a fixed clock for tests, and a replay clock that runs at any speed."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """What the engine needs of time: ``now()`` (UTC-aware) and an async ``sleep``."""

    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` of this clock's time."""
        ...


class SystemClock:
    """The wall clock."""

    def now(self) -> datetime:
        """Now, in UTC."""
        return datetime.now(UTC)

    async def sleep(self, seconds: float) -> None:
        """Sleep in real time."""
        await asyncio.sleep(max(0.0, seconds))


class FixedClock:
    """A clock that only moves when told to; ``sleep`` advances it and yields once."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("FixedClock needs a timezone-aware start")
        self._now = start.astimezone(UTC)

    def now(self) -> datetime:
        """The fixed time."""
        return self._now

    def advance(self, seconds: float) -> None:
        """Move the clock forward."""
        self._now += timedelta(seconds=seconds)

    async def sleep(self, seconds: float) -> None:
        """Advance by ``seconds`` and let other tasks run."""
        self.advance(max(0.0, seconds))
        await asyncio.sleep(0)


class ReplayClock:
    """Recorded time played back ``speed`` times faster than real time.

    ``now()`` starts at ``start`` and moves with the monotonic clock times ``speed``; ``skip_to``
    jumps over a gap in a recording (time never goes backwards).
    """

    def __init__(self, start: datetime, speed: float = 1.0) -> None:
        if start.tzinfo is None:
            raise ValueError("ReplayClock needs a timezone-aware start")
        if speed <= 0:
            raise ValueError("speed must be > 0")
        self.speed = speed
        self._origin = start.astimezone(UTC)
        self._t0 = time.monotonic()
        self._paused_at: datetime | None = None

    def now(self) -> datetime:
        """Recorded time now."""
        if self._paused_at is not None:
            return self._paused_at
        elapsed = (time.monotonic() - self._t0) * self.speed
        return self._origin + timedelta(seconds=elapsed)

    @property
    def paused(self) -> bool:
        """True while recorded time stands still."""
        return self._paused_at is not None

    def pause(self) -> None:
        """Stop recorded time (a paused demo stays where it is)."""
        if self._paused_at is None:
            self._paused_at = self.now()

    def resume(self) -> None:
        """Let recorded time run again from where it stopped."""
        if self._paused_at is not None:
            self._origin, self._t0 = self._paused_at, time.monotonic()
            self._paused_at = None

    def skip_to(self, when: datetime) -> None:
        """Jump forward to ``when`` (no-op if it is in the past)."""
        now = self.now()
        if when > now:
            self._origin += when - now
            if self._paused_at is not None:
                self._paused_at = when

    def restart(self, start: datetime) -> None:
        """Go back to ``start`` (for a looping demo)."""
        self._origin = start.astimezone(UTC)
        self._t0 = time.monotonic()
        if self._paused_at is not None:
            self._paused_at = self._origin

    async def sleep(self, seconds: float) -> None:
        """Sleep ``seconds`` of recorded time, i.e. ``seconds / speed`` of real time."""
        await asyncio.sleep(max(0.0, seconds) / self.speed)
