"""Farside's whole ETF table: the net flow of every published day, and every fund's figure."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Final

from tui.core.analytics import etf
from tui.core.backfill.series import Request, Series
from tui.core.errors import ParseError
from tui.core.model import Json, Observation
from tui.core.sources import farside


def windows(first: date, last: date) -> list[Request]:
    """The one page: it holds every day since the first spot ETFs traded (11 Jan 2024)."""
    return [Request("/bitcoin-etf-flow-all-data/", (), first, last)]


def parse(body: Json, fetched_at: datetime) -> list[Observation]:
    """``etf.flow.daily`` and ``etf.flow.daily.<ticker>`` (US$m) for every published day.

    The page is read by the live :func:`tui.core.sources.farside.parse_table` and dated like the
    live readings (20:00 UTC of the trading day, :func:`tui.core.sources.farside.observed_at`);
    the live source keeps per-fund figures for the newest day only, the table has them all. A
    ``-`` cell stays missing. The newest day is left out while a fund has yet to report (its
    figures are provisional) or when it is the fetch's own UTC day: the live source loads it.

    Raises:
        BlockedError: a Cloudflare challenge page.
        ParseError: a changed layout, no published day, or a day after the fetch.
    """
    if not isinstance(body, str):
        raise ParseError(f"expected the HTML page as text, got {type(body).__name__}")
    table = farside.parse_table(body)
    newest = table.newest
    today = fetched_at.astimezone(UTC).date()
    if newest is None:
        raise ParseError("no published day: every fund cell of every row is '-'")
    if newest.day > today:
        raise ParseError(f"{newest.day.isoformat()} is published but after the fetch time")
    skip = {today} | ({newest.day} if table.pending_funds else set())
    out = [
        Observation("etf.flow.daily", net, farside.UNIT, farside.NAME, farside.observed_at(d))
        for d, net in etf.daily_totals(table)
        if d not in skip
    ]
    for row in table.days:
        if row.day in skip:
            continue
        at = farside.observed_at(row.day)
        out.extend(
            Observation(f"etf.flow.daily.{fund.lower()}", v, farside.UNIT, farside.NAME, at)
            for fund, v in zip(table.funds, row.cells, strict=True)
            if v is not None
        )
    return out


SERIES: Final = (
    Series(
        source=farside.NAME,
        key="farside.flows",
        title="Farside ETF flows (whole table)",
        ids=("etf.flow.daily", "etf.flow.daily.*"),
        windows=windows,
        parse=parse,
        docs_url="https://farside.co.uk/bitcoin-etf-flow-all-data/",
        format="text",
        single=True,
        # The table is loaded whole, whatever --days says: it is one page either way.
        clip=False,
        min_spacing_s=1.0,
    ),
)
