"""Bitstamp: BTC/USD spot ticker and daily OHLC (SOURCES.md §4)."""

from __future__ import annotations

from datetime import datetime
from typing import Final

from tui.core.errors import ParseError
from tui.core.model import Json, Observation
from tui.core.sources.parsing import Candle, day_candles, field, price, timestamp, usd
from tui.core.sources.spec import Endpoint, SourceSpec

NAME: Final = "bitstamp"


def parse_ticker(body: Json, fetched_at: datetime) -> list[Observation]:
    """``btc.price.bitstamp`` (``last``) observed at ``timestamp`` (epoch seconds, as text).

    Every value is a string (www.bitstamp.net/api/, "Ticker").
    """
    value = price(field(body, "last"), "last")
    at = timestamp(field(body, "timestamp"), what="timestamp")
    return [usd("btc.price.bitstamp", value, NAME, at)]


def parse_ohlc(body: Json, fetched_at: datetime) -> list[Observation]:
    """Daily ``btc.day.*.bitstamp`` from ``GET /ohlc/btcusd/?step=86400&limit=30``.

    ``{"data": {"pair", "ohlc": [{timestamp, open, high, low, close, volume}]}}``, strings,
    oldest first (www.bitstamp.net/api/, "OHLC data").
    """
    rows = field(body, "data", "ohlc")
    if not isinstance(rows, list):
        raise ParseError(f"expected a list at 'data.ohlc', got {type(rows).__name__}")
    candles = []
    for i in range(len(rows)):
        at = ("data", "ohlc", i)
        candles.append(
            Candle(
                start=timestamp(field(body, *at, "timestamp"), what=f"data.ohlc[{i}].timestamp"),
                open=price(field(body, *at, "open"), f"data.ohlc[{i}].open"),
                high=price(field(body, *at, "high"), f"data.ohlc[{i}].high"),
                low=price(field(body, *at, "low"), f"data.ohlc[{i}].low"),
                close=price(field(body, *at, "close"), f"data.ohlc[{i}].close"),
            )
        )
    return day_candles(candles, venue=NAME, source=NAME, fetched_at=fetched_at)


SPEC: Final = SourceSpec(
    name=NAME,
    title="Bitstamp",
    bucket="price",
    base_url="https://www.bitstamp.net/api/v2",
    endpoints=(
        Endpoint("ticker", "/ticker/btcusd/", parse_ticker, interval_s=15.0),
        Endpoint(
            "ohlc",
            "/ohlc/btcusd/",
            parse_ohlc,
            params={"step": "86400", "limit": "30"},
            interval_s=300.0,
            # Kraken's OHLC is the daily history's primary (SOURCES.md §16).
            fallback_for=("kraken", "ohlc"),
        ),
    ),
    interval_s=15.0,
    docs_url="https://www.bitstamp.net/api/",
    # "No more than 8000 requests per 10 minutes" (older docs; SOURCES.md §4): 600 s / 8000.
    min_spacing_s=0.075,
)
