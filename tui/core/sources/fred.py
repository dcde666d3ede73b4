"""FRED graph CSV: daily closes of yields and US indices, a lagging fallback for Yahoo (§13)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Mapping
from datetime import date, datetime, timedelta
from types import MappingProxyType
from typing import Final

from tui.core.errors import BlockedError, ParseError
from tui.core.model import Json, Observation
from tui.core.sources.spec import Endpoint, Parser, SourceSpec
from tui.core.sources.yahoo import ASSETS, day_change, day_start, level

NAME: Final = "fred"

#: FRED series per asset (SOURCES.md §13). Gold, silver (LBMA series removed Jan 2022) and SOX
#: are not on FRED; ``SP500`` covers the last ten years only.
SERIES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "us10y": "DGS10",
        "spx": "SP500",
        "ndx": "NASDAQCOM",
        "dji": "DJIA",
        "dxy": "DTWEXBGS",
    }
)
#: Series that are not the asset itself: the pane names them.
PROXIES: Final[Mapping[str, str]] = MappingProxyType(
    {"dxy": "broad dollar index (FRED DTWEXBGS), not ICE DXY"}
)
#: Rows older than this (before the fetch) are not kept: the file holds decades, the correlation
#: and the macro state need weeks.
HISTORY_DAYS: Final = 120
_DATE_COLUMNS: Final = frozenset({"observation_date", "date"})
#: Missing days: ``.`` in older files, an empty cell in current ones (seen in 2026 downloads).
_MISSING: Final = frozenset({"", "."})


def rows(body: Json, asset: str) -> Iterator[tuple[int, date, str]]:
    """``(row number, day, cell)`` of a FRED graph CSV of ``asset``'s series, oldest first, after
    the page, header and row checks; holiday cells (``.`` or empty: missing, never 0) left out.

    Raises:
        BlockedError: an HTML challenge page.
        ParseError: another HTML page, not CSV, a header for another series, or a bad row.
    """
    if not isinstance(body, str):
        raise ParseError(f"expected CSV text, got {type(body).__name__}")
    text = body.lstrip("\ufeff").strip()
    series = SERIES[asset]
    if text.startswith("<"):
        if "challenge" in text.lower() or "captcha" in text.lower():
            raise BlockedError(200, "FRED: challenge page instead of CSV")
        raise ParseError("FRED: got an HTML page where CSV was expected")
    try:
        table = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise ParseError(f"not CSV: {exc}") from None
    header = [h.strip() for h in table[0]] if table else []
    if len(header) != 2 or header[0].lower() not in _DATE_COLUMNS:
        raise ParseError(f"FRED: expected an 'observation_date,{series}' header, got {text[:40]!r}")
    if header[1].upper() != series:
        raise ParseError(f"FRED: expected series {series}, got {header[1][:20]!r}")
    for n, row in enumerate(table[1:], start=1):
        if not row:
            continue
        if len(row) != 2:
            raise ParseError(f"FRED: row {n} has {len(row)} fields, expected 2")
        try:
            day = date.fromisoformat(row[0].strip())
        except ValueError:
            raise ParseError(f"FRED: row {n}: not a date {row[0][:12]!r}") from None
        if row[1].strip() not in _MISSING:
            yield n, day, row[1].strip()


def parse_series(body: Json, fetched_at: datetime, asset: str) -> list[Observation]:
    """``macro.<asset>.close`` per day, the latest as ``macro.<asset>``, and ``chg_1d``.

    From ``GET /graph/fredgraph.csv?id=<SERIES>``: header ``observation_date,<SERIES>`` (older
    files: ``DATE,<SERIES>``), one ``YYYY-MM-DD,value`` row per day. Each value is that day's
    close, observed at 00:00 UTC of the day (FRED gives no time; ``DGS10`` posts the next
    business day and ``DTWEXBGS`` weekly, so the latest row is days old).

    Raises:
        BlockedError: an HTML challenge page.
        ParseError: another HTML page, a header for another series, bad rows, or no value.
    """
    series = SERIES[asset]
    info = ASSETS[asset]
    first = fetched_at.date() - timedelta(days=HISTORY_DAYS)
    by_day: dict[date, float] = {}
    for n, day, cell in rows(body, asset):
        if day > fetched_at.date() + timedelta(days=1):
            raise ParseError(f"FRED: row {n} is dated after the fetch time")
        if day >= first:
            by_day[day] = level(info, cell, f"{series} {day}")
    if not by_day:
        raise ParseError(f"FRED: no {series} values in the last {HISTORY_DAYS} days")
    closes = sorted(by_day.items())
    last_day, last = closes[-1]
    at = day_start(last_day)
    out = [Observation(f"macro.{asset}.close", v, info.unit, NAME, day_start(d)) for d, v in closes]
    out.append(Observation(f"macro.{asset}", last, info.unit, NAME, at))
    if len(closes) >= 2:
        out.append(day_change(asset, closes, at, NAME))
    return out


def series_parser(asset: str) -> Parser:
    """The :data:`Parser` of ``asset``'s FRED series."""

    def parse(body: Json, fetched_at: datetime) -> list[Observation]:
        return parse_series(body, fetched_at, asset)

    parse.__name__ = f"parse_series_{asset}"
    return parse


SPEC: Final = SourceSpec(
    name=NAME,
    title="FRED (St. Louis Fed, graph CSV)",
    bucket="macro",
    base_url="https://fred.stlouisfed.org",
    endpoints=tuple(
        Endpoint(
            asset, "/graph/fredgraph.csv", series_parser(asset), params={"id": s}, format="text"
        )
        for asset, s in SERIES.items()
    ),
    # Daily series that post the next business day (DTWEXBGS weekly): more often is wasted.
    interval_s=6 * 3600.0,
    docs_url="https://fred.stlouisfed.org/series/DGS10",
    min_spacing_s=1.0,
    fallback_for="yahoo",
)
