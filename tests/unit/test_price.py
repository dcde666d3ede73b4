"""Consensus price, the UTC day and the pivot distance."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tui.core.analytics.price import derive
from tui.core.model import CONSENSUS, Observation, Status

NOW = datetime(2026, 2, 6, 15, 0, tzinfo=UTC)
STALE = {"coinbase": 60.0, "kraken": 60.0, "bitstamp": 60.0, "deribit": 60.0}


def price(source: str, value: float, age_s: float = 5.0) -> Observation:
    id_ = "btc.price.deribit_index" if source == "deribit" else f"btc.price.{source}"
    return Observation(id_, value, "USD", source, NOW - timedelta(seconds=age_s))


def latest(*obs: Observation) -> dict[tuple[str, str], Observation]:
    return {(o.id, o.source): o for o in obs}


def values(result_obs: tuple[Observation, ...]) -> dict[str, float]:
    return {o.id: o.value for o in result_obs}


def test_median_of_fresh_venues_and_pivot_distance() -> None:
    result = derive(
        latest(
            price("coinbase", 69_000),
            price("kraken", 69_100, age_s=20),
            price("bitstamp", 68_900),
            price("deribit", 90_000, age_s=300),  # stale: left out
        ),
        NOW,
        STALE,
        pivot=70_000,
    )
    got = values(result.observations)
    assert got["btc.price"] == 69_000
    assert got["btc.pivot.distance"] == pytest.approx(-1000 / 70_000 * 100)
    assert sorted(result.venues) == ["bitstamp", "coinbase", "kraken"]
    assert result.missing is None
    consensus = next(o for o in result.observations if o.id == "btc.price")
    assert consensus.source == CONSENSUS
    assert consensus.observed_at == NOW - timedelta(seconds=20)  # as old as its oldest input


def test_even_count_median_is_the_mean_of_the_middle_two() -> None:
    result = derive(latest(price("coinbase", 70_000), price("kraken", 71_000)), NOW, STALE, 70_000)
    assert values(result.observations)["btc.price"] == 70_500


def test_one_venue_is_not_a_consensus() -> None:
    result = derive(latest(price("kraken", 69_000)), NOW, STALE, 70_000)
    assert "btc.price" not in values(result.observations)
    assert result.missing is not None
    assert result.missing.reason is Status.STALE
    assert "fresh: kraken" in result.missing.text()


def test_only_old_venue_prices_say_stale() -> None:
    result = derive(latest(price("kraken", 69_000, age_s=600)), NOW, STALE, 70_000)
    assert result.missing is not None
    assert result.missing.reason is Status.STALE
    assert "fresh: none" in result.missing.text()


def test_no_venue_says_offline() -> None:
    result = derive({}, NOW, STALE, 70_000)
    assert result.observations == ()
    assert result.missing is not None
    assert result.missing.reason is Status.OFFLINE


def day(source: str, o: float, h: float, low: float, c: float, at: datetime) -> list[Observation]:
    return [
        Observation(f"btc.day.{f}.{source}", v, "USD", source, at)
        for f, v in zip(("open", "high", "low", "close"), (o, h, low, c), strict=True)
    ]


def test_day_prefers_kraken_then_falls_back_to_today_candles() -> None:
    kraken = day("kraken", 62_700, 71_422, 60_000, 69_800, NOW - timedelta(seconds=5))
    coinbase = day("coinbase", 62_600, 71_400, 60_100, 69_700, NOW - timedelta(seconds=30))
    got = values(derive(latest(*kraken, *coinbase), NOW, STALE, 70_000).observations)
    assert (got["btc.day.open"], got["btc.day.high"], got["btc.day.low"]) == (
        62_700,
        71_422,
        60_000,
    )
    got = values(derive(latest(*coinbase), NOW, STALE, 70_000).observations)
    assert got["btc.day.high"] == 71_400


def test_yesterdays_completed_candle_is_never_today() -> None:
    midnight = NOW.replace(hour=0)
    yesterday = day("coinbase", 73_100, 73_200, 62_000, 62_600, midnight)
    got = values(
        derive(
            latest(*yesterday),
            NOW.replace(minute=0, hour=0, second=30),
            {"coinbase": 600.0},
            70_000,
        ).observations
    )
    assert "btc.day.open" not in got
