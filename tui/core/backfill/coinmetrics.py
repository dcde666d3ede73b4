"""Coin Metrics Community history: the keyless on-chain proxy's daily metrics, over any range.

Coin Metrics publishes a day about a day late (SOURCES.md §11). A run before yesterday's row has
landed still marks yesterday as loaded (a gap stays a gap, as for every series); the live source
fills it, since each of its answers carries the latest 40 days.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Final

from tui.core.backfill.series import Request, Series
from tui.core.errors import ParseError
from tui.core.model import Json, Observation
from tui.core.sources import coinmetrics

#: A day's 7-day mean needs its own and the 7 days before it (7 daily changes of realized cap),
#: so each request reaches this many days before its first day; those rows are only inputs.
LEAD_DAYS: Final = coinmetrics.WINDOW + 1
#: ``page_size`` "minimum: 1, maximum: 10000" (OpenAPI ``PageSize``, GitHub
#: coinmetrics/api-client-python ``openapi.yaml``). The longest backfill (3650 days) plus the
#: lead is one page, so the 7-day windows never straddle two answers.
PAGE_SIZE: Final = 10_000


def windows(first: date, last: date) -> list[Request]:
    """One request: the days ``[first - LEAD_DAYS, last]``, oldest first, in one page.

    ``start_time``/``end_time`` "refer to the ``time`` field in the response", accept
    ``2006-01-20`` and are inclusive by default; ``paging_from=start`` makes the first page begin
    at the start of the interval (the default is ``end``) (OpenAPI of
    ``/timeseries/asset-metrics``: ``StartTimeMutuallyExclusiveWithHeightAndHash``,
    ``PagingFrom``). Unlike ``page_size`` of the catalog-v2 endpoints, these are not "disabled
    for Community users".
    """
    params = (
        ("assets", "btc"),
        ("metrics", ",".join(coinmetrics.METRICS)),
        ("frequency", "1d"),
        ("start_time", (first - timedelta(days=LEAD_DAYS)).isoformat()),
        ("end_time", last.isoformat()),
        ("page_size", str(PAGE_SIZE)),
        ("paging_from", "start"),
    )
    return [Request("/timeseries/asset-metrics", params, first, last)]


def parse(body: Json, fetched_at: datetime) -> list[Observation]:
    """The live :func:`tui.core.sources.coinmetrics.parse_asset_metrics`: ``onchain.realized_cap``
    (USD) and ``onchain.net_realized_pnl.7d`` (USD/day), each day observed at the 00:00 UTC that
    ends it.

    Raises:
        ParseError: a second page was announced (``next_page_token``): the range outgrew one page,
            and 7-day means across two answers would be lost at the seam; or the live parser's
            errors (a changed shape, fewer than 8 consecutive days).
        BlockedError: a ``forbidden``/``unauthorized`` error body (a metric left the free tier).
    """
    if isinstance(body, dict) and body.get("next_page_token") is not None:
        raise ParseError(f"Coin Metrics: more than {PAGE_SIZE} rows for one request")
    return coinmetrics.parse_asset_metrics(body, fetched_at)


SERIES: Final = (
    Series(
        source=coinmetrics.NAME,
        key="coinmetrics.asset_metrics",
        title="Coin Metrics on-chain proxy",
        ids=("onchain.realized_cap", "onchain.net_realized_pnl.7d"),
        windows=windows,
        parse=parse,
        day_end=True,
        docs_url=coinmetrics.SPEC.docs_url,
        single=True,
        # "10 requests per 6 seconds sliding window for an IP address" (OpenAPI "Rate limits").
        min_spacing_s=1.0,
    ),
)
