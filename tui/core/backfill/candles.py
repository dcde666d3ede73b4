"""Daily BTC candles from Coinbase, Kraken and Bitstamp: ``btc.day.{open,high,low,close}.<venue>``.

The live parsers read every page (same ids, same stamps: a completed day at the 00:00 UTC that
ends it); an empty page is a gap in the venue's data, not an error.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Final

from tui.core.backfill.series import Request, Series, day_start, iso, split_back
from tui.core.model import Json, Observation
from tui.core.sources import bitstamp, coinbase, kraken

IDS: Final = tuple(f"btc.day.{f}" for f in ("open", "high", "low", "close"))

#: At most 300 candles per request; a wider start/end span is rejected (SOURCES.md §2, from
#: docs.cdp.coinbase.com/api-reference/exchange-api/rest-api/products/get-product-candles).
COINBASE_PAGE_DAYS: Final = 300
#: Bitstamp OHLC ``limit``: 1..1000 (www.bitstamp.net/api/, "OHLC data").
BITSTAMP_PAGE_DAYS: Final = 1000
#: Kraken's OHLC "Returns up to 720 of the most recent entries (older data cannot be retrieved,
#: regardless of the value of `since`)" (docs.kraken.com/api-reference/market-data/get-ohlc-data):
#: 720 daily rows, the newest of them today's forming candle, so 719 completed days.
KRAKEN_MAX_DAYS: Final = 719


def coinbase_windows(first: date, last: date) -> list[Request]:
    """Pages of at most 300 daily candles; ``start`` and ``end`` name the first and last candle
    (both included, ISO-8601), so a full page asks for exactly 300 buckets."""
    return [
        Request(
            "/products/BTC-USD/candles",
            (("granularity", "86400"), ("start", iso(day_start(lo))), ("end", iso(day_start(hi)))),
            lo,
            hi,
        )
        for lo, hi in split_back(first, last, COINBASE_PAGE_DAYS)
    ]


def parse_coinbase(body: Json, fetched_at: datetime) -> list[Observation]:
    """:func:`tui.core.sources.coinbase.parse_candles`; ``[]`` (no trades in the range) is none."""
    return [] if body == [] else coinbase.parse_candles(body, fetched_at)


def kraken_windows(first: date, last: date) -> list[Request]:
    """One request: ``since`` a second before the first day (Kraken returns rows after it)."""
    since = int(day_start(first).timestamp()) - 1
    params = (("pair", "XBTUSD"), ("interval", "1440"), ("since", str(since)))
    return [Request("/OHLC", params, first, last)]


def parse_kraken(body: Json, fetched_at: datetime) -> list[Observation]:
    """:func:`tui.core.sources.kraken.parse_ohlc`; a pair entry with no rows is none."""
    if isinstance(body, dict) and isinstance(result := body.get("result"), dict):
        rows = [v for k, v in result.items() if k != "last"]
        if rows == [[]] and body.get("error") == []:
            return []
    return kraken.parse_ohlc(body, fetched_at)


def bitstamp_windows(first: date, last: date) -> list[Request]:
    """Pages of at most 1000 days with ``start``, ``end`` and a ``limit`` of exactly the days
    between them, so the page is the same whichever of ``start``/``end`` Bitstamp goes by."""
    out = []
    for lo, hi in split_back(first, last, BITSTAMP_PAGE_DAYS):
        params = (
            ("step", "86400"),
            ("limit", str((hi - lo).days + 1)),
            ("start", str(int(day_start(lo).timestamp()))),
            ("end", str(int(day_start(hi).timestamp()))),
        )
        out.append(Request("/ohlc/btcusd/", params, lo, hi))
    return out


def parse_bitstamp(body: Json, fetched_at: datetime) -> list[Observation]:
    """:func:`tui.core.sources.bitstamp.parse_ohlc`; an empty ``ohlc`` list is none."""
    data = body.get("data") if isinstance(body, dict) else None
    if isinstance(data, dict) and data.get("ohlc") == []:
        return []
    return bitstamp.parse_ohlc(body, fetched_at)


SERIES: Final = (
    Series(
        source=coinbase.NAME,
        key="coinbase.candles",
        title="Coinbase daily candles",
        ids=tuple(f"{i}.coinbase" for i in IDS),
        windows=coinbase_windows,
        parse=parse_coinbase,
        day_end=True,
        docs_url="https://docs.cdp.coinbase.com/api-reference/exchange-api/rest-api/products/get-product-candles",
        # 10 requests/s per IP (docs.cdp.coinbase.com/exchange/rest-api/rate-limits); the docs
        # also ask not to poll candles often, so history pages go well below that.
        min_spacing_s=0.5,
    ),
    Series(
        source=kraken.NAME,
        key="kraken.ohlc",
        title="Kraken daily OHLC",
        ids=tuple(f"{i}.kraken" for i in IDS),
        windows=kraken_windows,
        parse=parse_kraken,
        day_end=True,
        docs_url="https://docs.kraken.com/api-reference/market-data/get-ohlc-data",
        single=True,
        max_days=KRAKEN_MAX_DAYS,
        reach_note="Kraken serves only its latest 720 daily candles, whatever 'since' says",
        # "1 call per second or less" (support.kraken.com/articles/206548367).
        min_spacing_s=1.0,
    ),
    Series(
        source=bitstamp.NAME,
        key="bitstamp.ohlc",
        title="Bitstamp daily OHLC",
        ids=tuple(f"{i}.bitstamp" for i in IDS),
        windows=bitstamp_windows,
        parse=parse_bitstamp,
        day_end=True,
        docs_url="https://www.bitstamp.net/api/#tag/Market-info/operation/GetOHLCData",
        min_spacing_s=0.5,
    ),
)
