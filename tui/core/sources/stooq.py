"""Stooq: one CSV request for the latest quote of every macro asset; Yahoo's fallback (§13)."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from types import MappingProxyType
from typing import Final

from tui.core.errors import BlockedError, ParseError, RateLimitedError
from tui.core.model import Json, Observation
from tui.core.sources.spec import Endpoint, SourceSpec
from tui.core.sources.yahoo import ASSETS, day_start, level, zone

NAME: Final = "stooq"

#: Stooq symbols (SOURCES.md §13). Futures for gold, silver and the dollar, like Yahoo's
#: ``GC=F``/``SI=F``, so the fallback quotes the same instruments; ``^ndq`` is the Composite.
SYMBOLS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "spx": "^spx",
        "ndx": "^ndq",
        "dji": "^dji",
        "sox": "^sox",
        "gold": "gc.f",
        "silver": "si.f",
        "dxy": "dx.f",
        "us10y": "10usy.b",
    }
)
_BY_SYMBOL: Final = {s.lower(): a for a, s in SYMBOLS.items()}

#: The whole query, written out: ``+`` joins symbols and must reach Stooq as ``+`` (urlencode would
#: send ``%2B``), and ``h`` (header row) is a bare flag.
QUERY: Final = "s=" + "+".join(SYMBOLS.values()) + "&f=sd2t2ohlcv&h&e=csv"

#: Stooq's times are Warsaw local time: real rows of US stocks read ``22:00:02`` on 2020-08-07
#: (CEST) and ``22:00:03`` on 2022-12-09 (CET), both the 16:00 New York close.
_WARSAW: Final = zone("Europe/Warsaw", 1)
#: Over the undocumented daily quota Stooq answers HTTP 200 with this text instead of CSV.
QUOTA_TEXT: Final = "Exceeded the daily hits limit"
#: Words of the HTML proof-of-work page Stooq serves non-browser clients since Jul 2026 (a
#: ``POST /__verify`` handshake: github.com/Verdenroz/finance-query/issues/263).
_CHALLENGE: Final = re.compile(r"__verify|proof.of.work|challenge|captcha", re.IGNORECASE)
_MISSING: Final = "N/D"
_DAY: Final = timedelta(days=1)


def parse_quotes(body: Json, fetched_at: datetime) -> list[Observation]:
    """``macro.<asset>`` (latest quote) and ``macro.<asset>.close`` (its session day) per row.

    Body: ``Symbol,Date,Time,Open,High,Low,Close,Volume`` then one CRLF-ended row per symbol, e.g.
    ``AAPL.US,2020-08-07,22:00:02,452.82,454.7,441.17,444.45,49511403``. An unknown symbol's row
    is all ``N/D``: that asset is missing, the others still count. Stooq gives no previous close,
    so there is no ``chg_1d`` from it.

    Raises:
        RateLimitedError: the daily-quota notice (HTTP 200 text).
        BlockedError: an HTML anti-bot (proof-of-work) page.
        ParseError: any other HTML or text, a bad header, bad numbers, or no usable row.
    """
    if not isinstance(body, str):
        raise ParseError(f"expected CSV text, got {type(body).__name__}")
    text = body.lstrip("\ufeff").strip()
    if not text:
        raise ParseError("Stooq: empty body")
    if QUOTA_TEXT.lower() in text.lower():
        raise RateLimitedError(200, until=None, detail=f"Stooq: {QUOTA_TEXT}")
    if text.startswith("<"):
        if _CHALLENGE.search(text):
            raise BlockedError(200, "Stooq: anti-bot page instead of CSV")
        raise ParseError("Stooq: got an HTML page where CSV was expected")
    try:
        rows = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise ParseError(f"not CSV: {exc}") from None
    header = [h.strip().lower() for h in rows[0]]
    if not header or header[0] != "symbol" or not {"date", "time", "close"} <= set(header):
        raise ParseError(f"Stooq: expected a 'Symbol,Date,Time,...' header, got {text[:40]!r}")
    col = {name: header.index(name) for name in ("symbol", "date", "time", "close")}
    out: list[Observation] = []
    seen = 0
    for n, row in enumerate(rows[1:], start=1):
        if not row:
            continue
        if len(row) < len(header):
            raise ParseError(f"Stooq: row {n} has {len(row)} fields, the header {len(header)}")
        asset = _BY_SYMBOL.get(row[col["symbol"]].strip().lower())
        if asset is None:
            continue
        seen += 1
        raw_date, raw_time, raw_close = (row[col[k]].strip() for k in ("date", "time", "close"))
        if _MISSING in (raw_date, raw_close):
            continue  # unknown symbol or no quote: missing, never 0
        day = _date(raw_date, n)
        at = datetime.combine(day, _time(raw_time, n), _WARSAW).astimezone(UTC)
        if at > fetched_at + _DAY:
            raise ParseError(f"Stooq: row {n} is dated after the fetch time")
        info = ASSETS[asset]
        value = level(info, raw_close, f"{row[col['symbol']].strip()} close")
        out.append(Observation(f"macro.{asset}", value, info.unit, NAME, at))
        out.append(Observation(f"macro.{asset}.close", value, info.unit, NAME, day_start(day)))
    if not out:
        if seen:
            raise ParseError("Stooq: no quotes (every requested symbol is N/D)")
        raise ParseError("Stooq: none of the requested symbols in the answer")
    return out


def _date(text: str, n: int) -> date:
    """``2020-08-07`` (``d2``) or ``20200807`` (``d``)."""
    try:
        if re.fullmatch(r"\d{8}", text):
            return date(int(text[:4]), int(text[4:6]), int(text[6:]))
        return date.fromisoformat(text)
    except ValueError:
        raise ParseError(f"Stooq: row {n}: not a date {text[:12]!r}") from None


def _time(text: str, n: int) -> time:
    """``22:00:02`` (``t2``) or ``220002`` (``t``)."""
    try:
        if re.fullmatch(r"\d{6}", text):
            return time(int(text[:2]), int(text[2:4]), int(text[4:]))
        if re.fullmatch(r"\d{2}:\d{2}:\d{2}", text):
            return time.fromisoformat(text)
    except ValueError:
        pass
    raise ParseError(f"Stooq: row {n}: not a time {text[:12]!r}")


SPEC: Final = SourceSpec(
    name=NAME,
    title="Stooq (CSV quotes)",
    bucket="macro",
    base_url="https://stooq.com",
    endpoints=(Endpoint("quotes", "/q/l/?" + QUERY, parse_quotes, format="text"),),
    # One request covers all eight assets; the daily quota is undocumented, so ask sparingly.
    interval_s=600.0,
    docs_url="https://stooq.com/db/",
    # One request a round; spacing only paces its retries (a round must fit a 12 s snapshot).
    min_spacing_s=1.0,
    fallback_for="yahoo",
)
