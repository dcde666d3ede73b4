"""Coinbase Exchange: BTC-USD spot ticker and daily candles (SOURCES.md §2)."""

from __future__ import annotations

from datetime import datetime
from typing import Final

from tui.core.errors import ParseError
from tui.core.model import Json, Observation
from tui.core.sources.parsing import Candle, day_candles, field, price, timestamp, usd
from tui.core.sources.spec import Endpoint, SourceSpec

NAME: Final = "coinbase"


def parse_ticker(body: Json, fetched_at: datetime) -> list[Observation]:
    """``btc.price.coinbase`` from ``GET /products/BTC-USD/ticker``, observed at its ``time``.

    ``price`` is a string, ``time`` ISO-8601 with 6 to 9 fractional digits
    (docs.cdp.coinbase.com/api-reference/exchange-api/rest-api/products/get-product-ticker).
    """
    if isinstance(body, dict) and "price" not in body and isinstance(body.get("message"), str):
        # Coinbase's error bodies are {"message": "..."}: quote it rather than "missing 'price'".
        raise ParseError(f"Coinbase: {body['message']}")
    value = price(field(body, "price"), "price")
    at = timestamp(field(body, "time"), what="time")
    return [usd("btc.price.coinbase", value, NAME, at)]


def parse_candles(body: Json, fetched_at: datetime) -> list[Observation]:
    """Daily ``btc.day.*.coinbase`` from ``GET /products/BTC-USD/candles?granularity=86400``.

    Rows are ``[time, low, high, open, close, volume]`` (note the order), numbers, newest first
    (docs.cdp.coinbase.com/api-reference/exchange-api/rest-api/products/get-product-candles).
    """
    if not isinstance(body, list):
        raise ParseError(f"expected a list of candles, got {type(body).__name__}")
    candles = [
        Candle(
            start=timestamp(field(body, i, 0), what=f"[{i}] time"),
            low=price(field(body, i, 1), f"[{i}] low"),
            high=price(field(body, i, 2), f"[{i}] high"),
            open=price(field(body, i, 3), f"[{i}] open"),
            close=price(field(body, i, 4), f"[{i}] close"),
        )
        for i in range(len(body))
    ]
    return day_candles(candles, venue=NAME, source=NAME, fetched_at=fetched_at)


SPEC: Final = SourceSpec(
    name=NAME,
    title="Coinbase Exchange",
    bucket="price",
    base_url="https://api.exchange.coinbase.com",
    endpoints=(
        Endpoint("ticker", "/products/BTC-USD/ticker", parse_ticker, interval_s=15.0),
        # The docs ask not to poll candles often: every 5 minutes is plenty for a daily bar.
        Endpoint(
            "candles",
            "/products/BTC-USD/candles",
            parse_candles,
            params={"granularity": "86400"},
            interval_s=300.0,
            # Kraken's OHLC is the daily history's primary (SOURCES.md §16).
            fallback_for=("kraken", "ohlc"),
        ),
    ),
    interval_s=15.0,
    docs_url="https://docs.cdp.coinbase.com/api-reference/exchange-api/rest-api/products/get-product-ticker",
    # Public endpoints: 10 requests/s per IP (docs.cdp.coinbase.com/exchange/rest-api/rate-limits).
    min_spacing_s=0.1,
)
