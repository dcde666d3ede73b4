"""Kraken: XBT/USD spot ticker (the UTC day's O/H/L/C) and daily OHLC (SOURCES.md §3)."""

from __future__ import annotations

from datetime import datetime
from typing import Final

from tui.core.errors import ParseError, RateLimitedError
from tui.core.model import Json, Observation
from tui.core.sources.parsing import Candle, check_ohlc, day_candles, field, price, timestamp, usd
from tui.core.sources.spec import Endpoint, SourceSpec

NAME: Final = "kraken"

#: Errors that mean "slow down". Kraken sends them in an HTTP 200 (no 429, no Retry-After):
#: docs.kraken.com/exchange/guides/general/errors.
_RATE_LIMITED: Final = frozenset({"EGeneral:Too many requests", "EAPI:Rate limit exceeded"})


def _pair(body: Json, *, skip: str = "") -> str:
    """The key of the single pair entry of ``result``, after the ``error`` array is checked.

    Kraken keys the result by its own pair name (``XXBTZUSD`` for ``pair=XBTUSD``), so the one
    entry is taken whatever its key; ``skip`` names a sibling key to ignore (OHLC's ``last``).
    """
    errors = field(body, "error")
    if not isinstance(errors, list):
        raise ParseError(f"expected a list at 'error', got {type(errors).__name__}")
    if errors:
        text = ", ".join(str(e) for e in errors)
        if any(isinstance(e, str) and e in _RATE_LIMITED for e in errors):
            raise RateLimitedError(200, until=None, detail=f"Kraken: {text}")
        raise ParseError(f"Kraken: {text}")
    result = field(body, "result")
    if not isinstance(result, dict):
        raise ParseError(f"expected an object at 'result', got {type(result).__name__}")
    pairs = [key for key in result if key != skip]
    if len(pairs) != 1:
        raise ParseError(f"expected one pair in 'result', got {len(pairs)}")
    return pairs[0]


def parse_ticker(body: Json, fetched_at: datetime) -> list[Observation]:
    """``btc.price.kraken`` and the UTC day's ``btc.day.*.kraken``, observed at ``fetched_at``.

    Price ``c[0]``; day open ``o``, high ``h[0]``, low ``l[0]``, close ``c[0]``. The body carries
    no time of its own.

    "Today's prices start at midnight UTC"
    (docs.kraken.com/api-reference/market-data/get-ticker-information).
    """
    pair = _pair(body)
    last = price(field(body, "result", pair, "c", 0), "c[0]")
    o = price(field(body, "result", pair, "o"), "o")
    h = price(field(body, "result", pair, "h", 0), "h[0]")
    low = price(field(body, "result", pair, "l", 0), "l[0]")
    check_ohlc("today", o, h, low, last)
    return [
        usd("btc.price.kraken", last, NAME, fetched_at),
        usd("btc.day.open.kraken", o, NAME, fetched_at),
        usd("btc.day.high.kraken", h, NAME, fetched_at),
        usd("btc.day.low.kraken", low, NAME, fetched_at),
        usd("btc.day.close.kraken", last, NAME, fetched_at),
    ]


def parse_ohlc(body: Json, fetched_at: datetime) -> list[Observation]:
    """Daily ``btc.day.*.kraken`` from ``GET /OHLC?pair=XBTUSD&interval=1440``.

    Rows are ``[time, open, high, low, close, vwap, volume, count]`` with string prices, oldest
    first; the last row is the still-forming day
    (docs.kraken.com/api-reference/market-data/get-ohlc-data).
    """
    pair = _pair(body, skip="last")
    rows = field(body, "result", pair)
    if not isinstance(rows, list):
        raise ParseError(f"expected a list at 'result.{pair}', got {type(rows).__name__}")
    candles = [
        Candle(
            start=timestamp(field(body, "result", pair, i, 0), what=f"{pair}[{i}] time"),
            open=price(field(body, "result", pair, i, 1), f"{pair}[{i}] open"),
            high=price(field(body, "result", pair, i, 2), f"{pair}[{i}] high"),
            low=price(field(body, "result", pair, i, 3), f"{pair}[{i}] low"),
            close=price(field(body, "result", pair, i, 4), f"{pair}[{i}] close"),
        )
        for i in range(len(rows))
    ]
    return day_candles(candles, venue=NAME, source=NAME, fetched_at=fetched_at)


SPEC: Final = SourceSpec(
    name=NAME,
    title="Kraken",
    bucket="price",
    base_url="https://api.kraken.com/0/public",
    endpoints=(
        Endpoint("ticker", "/Ticker", parse_ticker, params={"pair": "XBTUSD"}, interval_s=15.0),
        Endpoint(
            "ohlc",
            "/OHLC",
            parse_ohlc,
            params={"pair": "XBTUSD", "interval": "1440"},
            interval_s=300.0,
        ),
    ),
    interval_s=15.0,
    docs_url="https://docs.kraken.com/api-reference/market-data/get-ticker-information",
    # "Calling the public endpoints at a frequency of 1 per second (or less) would remain within
    # the rate limits" (support.kraken.com/articles/206548367-what-are-the-api-rate-limits-).
    min_spacing_s=1.0,
)
