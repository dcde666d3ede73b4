"""Macro daily closes, `macro.<asset>.close`: Yahoo chart for all eight, FRED CSV for five."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Final
from urllib.parse import quote

from tui.core.backfill.series import Request, Series
from tui.core.model import Json, Observation
from tui.core.sources import fred, yahoo
from tui.core.sources.yahoo import ASSETS, day_start, level

#: Yahoo chart ``range`` values (``meta.validRanges`` of the recorded bodies: 1d 5d 1mo 3mo 6mo
#: 1y 2y 5y 10y ytd max) and their spans in days; the shortest covering the asked days is used.
YAHOO_RANGES: Final = (("1y", 365), ("2y", 730), ("5y", 1826), ("10y", 3652))


def yahoo_range(first: date, last: date) -> str:
    """The shortest ``range`` at least as long as ``[first, last]`` (``max`` beyond 10 years)."""
    days = (last - first).days + 1
    return next((r for r, span in YAHOO_RANGES if span >= days), "max")


def _yahoo_windows(symbol: str) -> Callable[[date, date], list[Request]]:
    path = f"/v8/finance/chart/{quote(symbol, safe='')}"

    def windows(first: date, last: date) -> list[Request]:
        params = (("range", yahoo_range(first, last)), ("interval", "1d"))
        return [Request(path, params, first, last)]

    return windows


def parse_yahoo(body: Json, fetched_at: datetime, asset: str) -> list[Observation]:
    """The ``macro.<asset>.close`` rows of :func:`tui.core.sources.yahoo.parse_chart` (each at
    00:00 UTC of its exchange-local day) before the fetch's UTC day; the last bar is the live
    session and the level and day change are the live source's."""
    today = day_start(fetched_at.astimezone(UTC).date())
    return [
        o
        for o in yahoo.parse_chart(body, fetched_at, asset)
        if o.id == f"macro.{asset}.close" and o.observed_at < today
    ]


def _yahoo_parser(asset: str) -> Callable[[Json, datetime], list[Observation]]:
    def parse(body: Json, fetched_at: datetime) -> list[Observation]:
        return parse_yahoo(body, fetched_at, asset)

    return parse


def _fred_windows(series_id: str) -> Callable[[date, date], list[Request]]:
    def windows(first: date, last: date) -> list[Request]:
        # ``cosd`` (first date) trims the file FRED sends; rows are filtered here anyway.
        params = (("id", series_id), ("cosd", first.isoformat()))
        return [Request("/graph/fredgraph.csv", params, first, last)]

    return windows


def parse_fred(body: Json, fetched_at: datetime, asset: str) -> list[Observation]:
    """``macro.<asset>.close`` for every day of a FRED graph CSV, at 00:00 UTC of the day.

    The same file as the live :func:`tui.core.sources.fred.parse_series` (header
    ``observation_date,<SERIES>`` or ``DATE,<SERIES>``, ``.`` or an empty cell on a holiday:
    missing, never 0), without its 120-day cut. Rows of the fetch's UTC day are left out.

    Raises:
        BlockedError: an HTML challenge page.
        ParseError: another page, a header for another series, or bad rows.
    """
    series = fred.SERIES[asset]
    info, today = ASSETS[asset], fetched_at.astimezone(UTC).date()
    return [
        Observation(
            f"macro.{asset}.close", level(info, cell, f"{series} {day}"), info.unit, fred.NAME,
            day_start(day),
        )
        for _, day, cell in fred.rows(body, asset)
        if day < today
    ]  # fmt: skip


def _fred_parser(asset: str) -> Callable[[Json, datetime], list[Observation]]:
    def parse(body: Json, fetched_at: datetime) -> list[Observation]:
        return parse_fred(body, fetched_at, asset)

    return parse


SERIES: Final = (
    *(
        Series(
            source=yahoo.NAME,
            key=f"yahoo.{asset}",
            title=f"Yahoo {ASSETS[asset].title} closes",
            ids=(f"macro.{asset}.close",),
            windows=_yahoo_windows(symbol),
            parse=_yahoo_parser(asset),
            docs_url=yahoo.SPEC.docs_url,
            single=True,
            # No published limits and 429s by heuristics (SOURCES.md §13): a request every 2 s.
            min_spacing_s=2.0,
            user_agent=yahoo.BROWSER_UA,
        )
        for asset, symbol in yahoo.SYMBOLS.items()
    ),
    *(
        Series(
            source=fred.NAME,
            key=f"fred.{asset}",
            title=f"FRED {series_id} closes",
            ids=(f"macro.{asset}.close",),
            windows=_fred_windows(series_id),
            parse=_fred_parser(asset),
            docs_url=f"https://fred.stlouisfed.org/series/{series_id}",
            format="text",
            single=True,
            min_spacing_s=1.0,
        )
        for asset, series_id in fred.SERIES.items()
    ),
)
