"""The UTC day in numbers: change, move off the low, and how often the day's high was rejected."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime


def pct_change(start: float, end: float) -> float:
    """``(end - start) / start × 100``."""
    return (end - start) / start * 100.0


def high_rejections(
    series: Iterable[tuple[datetime, float]], high: float, tolerance_pct: float = 0.3
) -> int:
    """How many separate times price came within ``tolerance_pct`` of ``high`` and fell back.

    A test starts when price reaches ``high × (1 − tolerance)``; it counts as rejected once price
    falls below ``high × (1 − 2 × tolerance)``. The wider exit band keeps chop around the edge
    from counting one test many times; a test still under way at the end is not (yet) counted.

    Args:
        series: ``(time, price)`` oldest first, the day so far.
        high: the day's high.
        tolerance_pct: how close counts as a test, in percent (the article's breaks of ~71,422).
    """
    enter = high * (1 - tolerance_pct / 100.0)
    leave = high * (1 - 2 * tolerance_pct / 100.0)
    testing = False
    rejected = 0
    for _, price in series:
        if not testing and price >= enter:
            testing = True
        elif testing and price < leave:
            testing = False
            rejected += 1
    return rejected


def spread(prices: Sequence[float]) -> float | None:
    """Highest minus lowest venue price; ``None`` with fewer than two venues."""
    return max(prices) - min(prices) if len(prices) >= 2 else None
