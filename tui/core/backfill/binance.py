"""Binance USDⓈ-M history: settled BTCUSDT funding rates and daily open interest (30 days)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Final

from tui.core.analytics.funding import (
    FUNDING_FRACTION_LIMIT,
    FUNDING_UNIT,
    OI_USD_LIMIT,
    pct_per_8h,
)
from tui.core.backfill.series import DAY, Request, Series, day_start, ms, split_back
from tui.core.errors import ParseError
from tui.core.model import Json, Observation
from tui.core.sources import binance
from tui.core.sources.parsing import field, number, timestamp

#: ``limit`` "Default 100; max 1000"; settlements every 8 hours make 3 a day, so a page of 333
#: days holds at most 999 (developers.binance.com/docs/derivatives/usds-margined-futures/
#: market-data/rest-api/Get-Funding-Rate-History).
FUNDING_PAGE_DAYS: Final = 333
#: openInterestHist: "Only the data of the latest 30 days is available" (same docs,
#: .../Open-Interest-Statistics). 29 completed days keep the first one inside that reach.
OI_MAX_DAYS: Final = 29


def _rows(body: Json) -> list[Json]:
    """The answer's list, after the live source's check of Binance's ``{"code", "msg"}`` body."""
    binance.check_error(body)
    if not isinstance(body, list):
        raise ParseError(f"expected a list at the top level, got {type(body).__name__}")
    return body


def _span(lo: date, hi: date) -> tuple[tuple[str, str], ...]:
    """``startTime`` and ``endTime`` (ms, both inclusive) of the days ``[lo, hi]``."""
    return (("startTime", str(ms(day_start(lo)))), ("endTime", str(ms(day_start(hi) + DAY) - 1)))


def funding_windows(first: date, last: date) -> list[Request]:
    """Pages of 333 days; Binance returns ``startTime`` + ``limit`` rows, ascending."""
    return [
        Request(
            "/fapi/v1/fundingRate",
            (("symbol", binance.SYMBOL), ("limit", "1000"), *_span(lo, hi)),
            lo,
            hi,
        )
        for lo, hi in split_back(first, last, FUNDING_PAGE_DAYS)
    ]


def parse_funding(body: Json, fetched_at: datetime) -> list[Observation]:
    """``funding.binance`` (% per 8h) per settlement, observed at its ``fundingTime`` (ms).

    Rows ``{symbol, fundingTime, fundingRate, markPrice}``: ``fundingRate`` is the settled
    fraction per 8-hour interval (the live source's assumption for BTCUSDT, see
    :mod:`tui.core.sources.binance`); ``markPrice`` is empty on old rows and not used.
    """
    out = []
    for i, row in enumerate(_rows(body)):
        if not isinstance(row, dict):
            raise ParseError(f"expected an object at '[{i}]', got {type(row).__name__}")
        if row.get("symbol", binance.SYMBOL) != binance.SYMBOL:
            raise ParseError(f"[{i}]: expected symbol {binance.SYMBOL}")
        rate = number(
            field(row, "fundingRate"),
            what=f"[{i}].fundingRate",
            lo=-FUNDING_FRACTION_LIMIT,
            hi=FUNDING_FRACTION_LIMIT,
        )
        at = timestamp(field(row, "fundingTime"), what=f"[{i}].fundingTime")
        pct = pct_per_8h(rate, binance.FUNDING_INTERVAL_H)
        out.append(Observation("funding.binance", pct, FUNDING_UNIT, binance.NAME, at))
    return out


def oi_windows(first: date, last: date) -> list[Request]:
    """One request: ``period=1d``, ``limit=500`` (the max) over the days asked."""
    params = (("symbol", binance.SYMBOL), ("period", "1d"), ("limit", "500"), *_span(first, last))
    return [Request("/futures/data/openInterestHist", params, first, last)]


def parse_open_interest(body: Json, fetched_at: datetime) -> list[Observation]:
    """``oi.futures.binance_btc`` (BTC) and ``oi.futures.binance`` (USD) at each ``timestamp``.

    Rows ``{symbol, sumOpenInterest (BTC), sumOpenInterestValue (USD), timestamp}``, numbers as
    strings; ``timestamp`` is a string in the docs example and an integer in live answers
    (SOURCES.md §6): both are read.
    """
    out = []
    for i, row in enumerate(_rows(body)):
        if not isinstance(row, dict):
            raise ParseError(f"expected an object at '[{i}]', got {type(row).__name__}")
        btc = number(
            field(row, "sumOpenInterest"),
            what=f"[{i}].sumOpenInterest",
            lo=0,
            hi=binance.BTC_SUPPLY,
        )
        value = number(
            field(row, "sumOpenInterestValue"),
            what=f"[{i}].sumOpenInterestValue",
            lo=0,
            hi=OI_USD_LIMIT,
        )
        at = timestamp(field(row, "timestamp"), what=f"[{i}].timestamp")
        out.append(Observation("oi.futures.binance_btc", btc, "BTC", binance.NAME, at))
        out.append(Observation("oi.futures.binance", value, "USD", binance.NAME, at))
    return out


SERIES: Final = (
    Series(
        source=binance.NAME,
        key="binance.funding",
        title="Binance funding history",
        ids=("funding.binance",),
        windows=funding_windows,
        parse=parse_funding,
        docs_url=(
            "https://developers.binance.com/docs/derivatives/usds-margined-futures/market-data/"
            "rest-api/Get-Funding-Rate-History"
        ),
        # "share 500/5min/IP rate limit with GET /fapi/v1/fundingInfo": one every 0.6 s at most.
        min_spacing_s=1.0,
    ),
    Series(
        source=binance.NAME,
        key="binance.open_interest",
        title="Binance open interest (daily)",
        ids=("oi.futures.binance_btc", "oi.futures.binance"),
        windows=oi_windows,
        parse=parse_open_interest,
        docs_url=(
            "https://developers.binance.com/docs/derivatives/usds-margined-futures/market-data/"
            "rest-api/Open-Interest-Statistics"
        ),
        single=True,
        max_days=OI_MAX_DAYS,
        reach_note="Binance publishes open-interest statistics for the latest 30 days only",
        min_spacing_s=1.0,
    ),
)
