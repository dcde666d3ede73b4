"""Consensus spot price, the UTC day's O/H/L/C, and the distance from the pivot (pure)."""

from __future__ import annotations

import statistics
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

from tui.core.model import CONSENSUS, Missing, Observation, Status

#: Venue price ids that make the consensus, by the source that publishes each.
VENUE_PRICES: Final = {
    "coinbase": "btc.price.coinbase",
    "kraken": "btc.price.kraken",
    "bitstamp": "btc.price.bitstamp",
    "deribit": "btc.price.deribit_index",
}
#: Where the UTC day's O/H/L/C comes from, best first (SOURCES.md §1: Kraken's ticker is exactly
#: the UTC day; Coinbase and Bitstamp daily candles are the fallback).
DAY_SOURCES: Final = ("kraken", "coinbase", "bitstamp")
DAY_FIELDS: Final = ("open", "high", "low", "close")
MIN_VENUES: Final = 2


@dataclass(frozen=True, slots=True)
class Consensus:
    """What :func:`derive` found: the derived observations, and why any are missing."""

    observations: tuple[Observation, ...]
    missing: Missing | None
    """Set when ``btc.price`` could not be formed."""
    venues: tuple[str, ...]
    """The fresh venues behind ``btc.price``."""


def derive(
    latest: Mapping[tuple[str, str], Observation],
    now: datetime,
    stale_after: Mapping[str, float],
    pivot: float,
    min_venues: int = MIN_VENUES,
) -> Consensus:
    """Form ``btc.price`` (median of fresh venues), ``btc.day.*`` and ``btc.pivot.distance``.

    Args:
        latest: the latest observation per ``(id, source)``.
        now: the time to judge freshness at.
        stale_after: seconds per source after which its values are not used.
        pivot: the pivot level in USD.
        min_venues: fresh venues needed for a consensus (a single venue is not a consensus).
    """

    def fresh(o: Observation | None) -> Observation | None:
        if o is None:
            return None
        limit = stale_after.get(o.source, 60.0)
        return o if o.age_s(now) <= limit else None

    prices = [
        o for src, id_ in VENUE_PRICES.items() if (o := fresh(latest.get((id_, src)))) is not None
    ]
    out: list[Observation] = []
    missing: Missing | None = None
    if len(prices) >= min_venues:
        price = statistics.median(o.value for o in prices)
        # The consensus is as old as its oldest input: its age never flatters it.
        at = min(o.observed_at for o in prices)
        out.append(Observation("btc.price", price, "USD", CONSENSUS, at))
        distance = (price - pivot) / pivot * 100.0
        out.append(Observation("btc.pivot.distance", distance, "%", CONSENSUS, at))
    else:
        have = ", ".join(o.source for o in prices) or "none"
        # Venue prices that exist but are too old make the consensus stale; none at all, offline.
        known = any((id_, src) in latest for src, id_ in VENUE_PRICES.items())
        missing = Missing(
            Status.STALE if known else Status.OFFLINE,
            f"needs {min_venues} fresh venues for a consensus price (fresh: {have})",
        )
    out.extend(_day(latest, now, fresh))
    return Consensus(tuple(out), missing, tuple(o.source for o in prices))


def _day(
    latest: Mapping[tuple[str, str], Observation],
    now: datetime,
    fresh: Callable[[Observation | None], Observation | None],
) -> list[Observation]:
    """The UTC day's O/H/L/C from the best source that has all four, fresh and from today."""
    midnight = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    for src in DAY_SOURCES:
        row = [fresh(latest.get((f"btc.day.{f}.{src}", src))) for f in DAY_FIELDS]
        # A completed day's candle is observed at its end (midnight), so "today" means strictly
        # after today's midnight: yesterday's close never passes for today's.
        today = [o for o in row if o is not None and o.observed_at > midnight]
        if len(today) == len(DAY_FIELDS):
            return [
                Observation(f"btc.day.{f}", o.value, "USD", CONSENSUS, o.observed_at)
                for f, o in zip(DAY_FIELDS, today, strict=True)
            ]
    return []
