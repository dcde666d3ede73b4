"""Deribit history: BTC-PERPETUAL funding (hourly) and the DVOL index (daily candles)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Final

from tui.core.backfill.series import DAY, Request, Series, day_start, ms, split_back
from tui.core.errors import ParseError
from tui.core.model import Json, Observation
from tui.core.sources import deribit
from tui.core.sources.parsing import field, number, timestamp

#: get_funding_rate_history answers at most 720 hourly rows, counted back from
#: ``end_timestamp`` (older ones are dropped, not paged: github.com/ccxt/ccxt/issues/25040 and
#: github.com/deribit/deribit-api-clients/issues/59, "only able to return a months worth"), so a
#: page spans 30 days (30 x 24 = 720).
FUNDING_PAGE_DAYS: Final = 30
#: 365 daily DVOL candles per page; a longer answer carries a ``continuation`` that is followed.
DVOL_PAGE_DAYS: Final = 365


def _result(body: Json) -> Json:
    """``result`` after the live source's JSON-RPC ``error`` check."""
    deribit.check_envelope(body)
    return field(body, "result")


def funding_windows(first: date, last: date) -> list[Request]:
    """30-day pages: ``start_timestamp`` 00:00 UTC of the first day, ``end_timestamp`` the last
    millisecond of the last day (both inclusive, ms)."""
    return [
        Request(
            "/public/get_funding_rate_history",
            (
                ("instrument_name", "BTC-PERPETUAL"),
                ("start_timestamp", str(ms(day_start(lo)))),
                ("end_timestamp", str(ms(day_start(hi) + DAY) - 1)),
            ),
            lo,
            hi,
        )
        for lo, hi in split_back(first, last, FUNDING_PAGE_DAYS)
    ]


def parse_funding(body: Json, fetched_at: datetime) -> list[Observation]:
    """``funding.deribit`` (% per 8h, source ``deribit_futures``) per hourly row.

    ``result`` is ``[{timestamp (ms), index_price, prev_index_price, interest_8h, interest_1h}]``
    (docs.deribit.com/api-reference/market-data/public-get_funding_rate_history): ``interest_8h``
    is the funding fraction over the trailing 8 hours, the same quantity as the ticker's
    ``funding_8h`` that the live source reads, so % per 8h = x 100 (SOURCES.md §0). A row without
    ``interest_8h`` is skipped (missing, never 0).
    """
    rows = _result(body)
    if not isinstance(rows, list):
        raise ParseError(f"expected a list at 'result', got {type(rows).__name__}")
    out = []
    for i, row in enumerate(rows):
        if not isinstance(row, dict):
            raise ParseError(f"expected an object at 'result[{i}]', got {type(row).__name__}")
        if row.get("interest_8h") is None:
            continue
        rate = number(
            row["interest_8h"],
            what=f"result[{i}].interest_8h",
            lo=-deribit.FUNDING_LIMIT,
            hi=deribit.FUNDING_LIMIT,
        )
        at = timestamp(field(row, "timestamp"), what=f"result[{i}].timestamp")
        out.append(Observation("funding.deribit", rate * 100.0, "% per 8h", deribit.FUTURES, at))
    return out


def dvol_windows(first: date, last: date) -> list[Request]:
    """Daily (``resolution=1D``) DVOL candles whose start lies in ``[first, last]``."""
    return [
        Request(
            "/public/get_volatility_index_data",
            (
                ("currency", "BTC"),
                ("resolution", "1D"),
                ("start_timestamp", str(ms(day_start(lo)))),
                ("end_timestamp", str(ms(day_start(hi)))),
            ),
            lo,
            hi,
        )
        for lo, hi in split_back(first, last, DVOL_PAGE_DAYS)
    ]


def parse_dvol_candles(body: Json, fetched_at: datetime, resolution_s: float) -> list[Observation]:
    """``options.dvol`` (vol points, source ``deribit_options``): each candle's close, observed
    when its candle ends (start + ``resolution_s``), like a daily BTC close.

    ``result.data`` is ``[[ts_ms, open, high, low, close]]`` with ``ts`` the candle's start;
    values are read by the live :func:`tui.core.sources.deribit.parse_dvol` (vol points, or a
    fraction x 100). No candles is no rows (a gap). A candle still forming at ``fetched_at`` is
    left out.
    """
    result = _result(body)
    if isinstance(result, dict) and result.get("data") == []:
        return []
    step = timedelta(seconds=resolution_s)
    out = []
    for o in deribit.parse_dvol(body, fetched_at):
        end = o.observed_at + step
        if end <= fetched_at:
            out.append(replace(o, observed_at=end))
    return out


def parse_dvol(body: Json, fetched_at: datetime) -> list[Observation]:
    """:func:`parse_dvol_candles` for the daily (``1D``) candles this backfill asks for."""
    return parse_dvol_candles(body, fetched_at, 86_400.0)


def follow_dvol(body: Json, request: Request) -> Request | None:
    """The next page when ``result.continuation`` is set: "to be used as the ``end_timestamp``
    parameter on the next request. ``NULL`` when no continuation" (the OpenAPI schema of
    ``public/get_volatility_index_data``); followed while it moves back inside the window."""
    result = body.get("result") if isinstance(body, dict) else None
    token = result.get("continuation") if isinstance(result, dict) else None
    if not isinstance(token, int) or isinstance(token, bool):
        return None
    params = dict(request.params)
    if not int(params["start_timestamp"]) <= token < int(params["end_timestamp"]):
        return None
    params["end_timestamp"] = str(token)
    return replace(request, params=tuple(params.items()))


SERIES: Final = (
    Series(
        source=deribit.FUTURES,
        key="deribit_futures.funding",
        title="Deribit funding history",
        ids=("funding.deribit",),
        windows=funding_windows,
        parse=parse_funding,
        docs_url="https://docs.deribit.com/api-reference/market-data/public-get_funding_rate_history",
        # Credit pool: ~20 non-matching-engine calls/s sustained (SOURCES.md §5); history pages
        # are heavier than a ticker, so one every half second.
        min_spacing_s=0.5,
    ),
    Series(
        source=deribit.OPTIONS,
        key="deribit_options.dvol",
        title="Deribit DVOL daily",
        ids=("options.dvol",),
        windows=dvol_windows,
        parse=parse_dvol,
        day_end=True,
        docs_url="https://docs.deribit.com/api-reference/market-data/public-get_volatility_index_data",
        follow=follow_dvol,
        min_spacing_s=0.5,
    ),
)
