"""Yahoo Finance chart v8: level, day change and daily closes of the macro assets (§13)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from types import MappingProxyType
from typing import Final, Literal
from urllib.parse import quote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tui.core.errors import ParseError, RateLimitedError
from tui.core.model import Json, Observation
from tui.core.sources.parsing import field, number, timestamp
from tui.core.sources.spec import Endpoint, Parser, SourceSpec

NAME: Final = "yahoo"

Session = Literal["equity", "futures", "cboe"]
"""When an asset trades: NYSE hours, CME/ICE near-24h futures hours, or Cboe's ^TNX hours."""


@dataclass(frozen=True, slots=True)
class Asset:
    """One macro asset of DOMAIN.md (``macro.<key>``): how to name, check and time it."""

    key: str
    title: str
    """How people name it in the pane."""
    unit: str
    """Unit of ``macro.<key>`` and ``macro.<key>.close`` (SOURCES.md §13)."""
    lo: float
    hi: float
    """Plausible level range: anything outside is a unit or parse error."""
    session: Session
    risk_on_up: bool
    """True when a rise reads risk-on (stocks, metals); False for the dollar and yields."""


#: The eight assets, in the article's order. Ranges are generous: they only catch unit errors.
ASSETS: Final[Mapping[str, Asset]] = MappingProxyType(
    {
        a.key: a
        for a in (
            Asset("spx", "S&P 500", "index", 100.0, 100_000.0, "equity", True),
            Asset("ndx", "Nasdaq", "index", 100.0, 200_000.0, "equity", True),
            Asset("dji", "Dow", "index", 1_000.0, 1_000_000.0, "equity", True),
            Asset("sox", "SOX", "index", 10.0, 100_000.0, "equity", True),
            Asset("gold", "Gold", "USD/oz", 100.0, 50_000.0, "futures", True),
            Asset("silver", "Silver", "USD/oz", 1.0, 2_000.0, "futures", True),
            Asset("dxy", "Dollar index", "index", 20.0, 500.0, "futures", False),
            Asset("us10y", "US 10y yield", "%", -5.0, 20.0, "cboe", False),
        )
    }
)

#: Yahoo symbols (SOURCES.md §13). ``^IXIC`` is the Nasdaq Composite, the index the article's
#: "Nasdaq +2.18 %" quotes; ``GC=F``/``SI=F`` are COMEX front months, ``DX-Y.NYB`` the ICE DXY.
SYMBOLS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "spx": "^GSPC",
        "ndx": "^IXIC",
        "dji": "^DJI",
        "sox": "^SOX",
        "gold": "GC=F",
        "silver": "SI=F",
        "dxy": "DX-Y.NYB",
        "us10y": "^TNX",
    }
)

#: ^TNX above this is the legacy ×10 quote (CBOE's old TNX = yield × 10, SOURCES.md §13): a 10-year
#: yield over 20 % is not a reading, 42.8 is 4.28 %.
TNX_X10_ABOVE: Final = 20.0
#: A day move beyond this is a data error, not a market (silver's +8.6 % of 6 Feb is far inside).
MAX_DAY_CHANGE_PCT: Final = 50.0
_DAY: Final = timedelta(days=1)


def zone(name: str, standard_offset_h: int) -> tzinfo:
    """The IANA zone ``name``; without a time-zone database (Windows without the ``tzdata``
    package) its standard-time offset, so sessions are an hour off in summer but nothing fails."""
    try:
        return ZoneInfo(name)
    except ZoneInfoNotFoundError:
        return timezone(timedelta(hours=standard_offset_h), name)


_NEW_YORK: Final = zone("America/New_York", -5)
_CHICAGO: Final = zone("America/Chicago", -6)


def market_open(asset: str, now: datetime) -> bool:
    """Whether ``asset``'s market trades at ``now`` (so an old value is "closed", not stale).

    Sessions, DST-aware and without holidays (a holiday reads as open, so its value turns stale):
    - equities (spx, ndx, dji, sox): NYSE 09:30–16:00 America/New_York, Monday–Friday;
    - gold, silver, dxy: CME/ICE futures, Sunday 18:00 to Friday 17:00 New York time with the
      daily 17:00–18:00 halt (about Sunday 23:00 to Friday 22:00 UTC in winter);
    - us10y (^TNX, a Cboe index): 07:20–14:00 America/Chicago, Monday–Friday, the
      ``currentTradingPeriod.regular`` of a recorded ^TNX body (tests/data/yahoo/README.md).

    Raises:
        KeyError: for an asset not in :data:`ASSETS`.
    """
    session = ASSETS[asset].session
    if session == "equity":
        t = now.astimezone(_NEW_YORK)
        return t.weekday() < 5 and time(9, 30) <= t.time() < time(16)
    if session == "cboe":
        t = now.astimezone(_CHICAGO)
        return t.weekday() < 5 and time(7, 20) <= t.time() < time(14)
    t = now.astimezone(_NEW_YORK)
    day, clock = t.weekday(), t.time()
    if day == 5:  # Saturday
        return False
    if day == 6:  # Sunday: the week opens at 18:00
        return clock >= time(18)
    if day == 4:  # Friday: the week closes at 17:00
        return clock < time(17)
    return not time(17) <= clock < time(18)


def day_start(d: date) -> datetime:
    """00:00 UTC of ``d``: the ``observed_at`` of a daily close row (``macro.<asset>.close``)."""
    return datetime(d.year, d.month, d.day, tzinfo=UTC)


def level(asset: Asset, value: Json, what: str, *, tnx_guard: bool = False) -> float:
    """A level of ``asset``, range-checked; ``tnx_guard`` undoes ^TNX's legacy ×10 quote.

    Raises:
        ParseError: not a finite number, or outside the asset's range.
    """
    v = number(value, what=what, lo=-1e12, hi=1e12)
    if tnx_guard and asset.key == "us10y" and v > TNX_X10_ABOVE:
        v /= 10.0
    if not asset.lo <= v <= asset.hi:
        raise ParseError(f"{what}: {v:g} outside {asset.lo:g}..{asset.hi:g} {asset.unit}")
    return v


def day_change(
    asset: str, closes: list[tuple[date, float]], at: datetime, source: str
) -> Observation:
    """``macro.<asset>.chg_1d`` in % from the last two closes (oldest first, at least two).

    Raises:
        ParseError: a previous close of zero, or a move beyond :data:`MAX_DAY_CHANGE_PCT`.
    """
    (_, prev), (_, last) = closes[-2], closes[-1]
    if prev == 0:
        raise ParseError(f"{asset}: previous close is zero")
    pct = (last / prev - 1.0) * 100.0
    if abs(pct) > MAX_DAY_CHANGE_PCT:
        raise ParseError(f"{asset}: day change {pct:+.1f} % is not plausible")
    return Observation(f"macro.{asset}.chg_1d", pct, "%", source, at)


def parse_chart(body: Json, fetched_at: datetime, asset: str) -> list[Observation]:
    """``macro.<asset>``, ``macro.<asset>.chg_1d`` and the daily ``macro.<asset>.close`` rows.

    From ``GET /v8/finance/chart/<symbol>?range=3mo&interval=1d``: the level is
    ``meta.regularMarketPrice`` at ``meta.regularMarketTime``; closes are
    ``indicators.quote[0].close`` with ``null`` holes skipped, each dated by its bar's calendar
    day in ``meta.exchangeTimezoneName`` (equity bars start at the session open, futures bars at
    00:00 New York time) and observed at 00:00 UTC of that day. The last bar is the live session.
    ``chg_1d`` comes from the last two closes: ``meta.chartPreviousClose`` is the close before the
    *range*, not yesterday's (SOURCES.md §13). A body of another granularity (an intraday chart)
    gives the level only.

    Raises:
        ParseError: ``chart.error`` (unknown symbol: "Not Found"), no result, no bars (an empty
            chart: the fallback should serve), another symbol, or bad numbers and times.
        RateLimitedError: a ``chart.error`` that says "Too Many Requests".
    """
    info = ASSETS[asset]
    chart = field(body, "chart")
    if not isinstance(chart, dict):
        raise ParseError(f"expected an object at 'chart', got {type(chart).__name__}")
    error = chart.get("error")
    if error is not None:
        raise _chart_error(error)
    results = chart.get("result")
    if not isinstance(results, list) or not results:
        raise ParseError("Yahoo: empty chart (no result)")
    meta = field(results, 0, "meta")
    if not isinstance(meta, dict):
        raise ParseError(f"expected an object at 'result[0].meta', got {type(meta).__name__}")
    symbol = meta.get("symbol")
    if not isinstance(symbol, str) or symbol.upper() != SYMBOLS[asset].upper():
        raise ParseError(f"Yahoo: expected symbol {SYMBOLS[asset]}, got {str(symbol)[:20]!r}")
    price = level(
        info, field(meta, "regularMarketPrice"), "meta.regularMarketPrice", tnx_guard=True
    )
    at = timestamp(field(meta, "regularMarketTime"), what="meta.regularMarketTime")
    closes = _closes(results[0], meta, info, fetched_at)
    out = [Observation(f"macro.{asset}", price, info.unit, NAME, at)]
    if meta.get("dataGranularity") != "1d":
        return out
    out.extend(
        Observation(f"macro.{asset}.close", v, info.unit, NAME, day_start(d)) for d, v in closes
    )
    if len(closes) >= 2:
        out.append(day_change(asset, closes, at, NAME))
    return out


def chart_parser(asset: str) -> Parser:
    """The :data:`Parser` of ``asset``'s chart endpoint."""

    def parse(body: Json, fetched_at: datetime) -> list[Observation]:
        return parse_chart(body, fetched_at, asset)

    parse.__name__ = f"parse_chart_{asset}"
    return parse


def _chart_error(error: Json) -> ParseError | RateLimitedError:
    """Yahoo's error envelope ``{"code", "description"}`` as one of our errors."""
    if isinstance(error, dict):
        parts = [str(error.get(k)) for k in ("code", "description") if error.get(k)]
        text = ": ".join(parts) or "error"
    else:
        text = str(error)
    if "too many requests" in text.lower():
        return RateLimitedError(200, until=None, detail=f"Yahoo: {text}")
    return ParseError(f"Yahoo: {text}")


def _zone(meta: dict[str, Json]) -> tzinfo:
    """The exchange's time zone: its IANA name, else the fixed ``gmtoffset``, else UTC."""
    name = meta.get("exchangeTimezoneName")
    if isinstance(name, str):
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    offset = meta.get("gmtoffset")
    if isinstance(offset, int) and not isinstance(offset, bool) and abs(offset) < 86_400:
        return timezone(timedelta(seconds=offset))
    return UTC


def _closes(
    result: Json, meta: dict[str, Json], info: Asset, fetched_at: datetime
) -> list[tuple[date, float]]:
    """Non-null closes by exchange-local date, oldest first (a repeated date keeps the later bar).

    Raises:
        ParseError: no bars, arrays of different lengths, or a bar more than a day after the fetch.
    """
    times = result.get("timestamp") if isinstance(result, dict) else None
    if not isinstance(times, list) or not times:
        raise ParseError("Yahoo: empty chart (no bars)")
    closes = field(result, "indicators", "quote", 0, "close")
    if not isinstance(closes, list) or len(closes) != len(times):
        raise ParseError("Yahoo: 'close' and 'timestamp' differ in length")
    zone = _zone(meta)
    by_day: dict[date, float] = {}
    for i, (t, c) in enumerate(zip(times, closes, strict=True)):
        if c is None:  # a hole (no trade that day, or a Yahoo gap): missing, never 0
            continue
        when = timestamp(t, what=f"timestamp[{i}]")
        if when > fetched_at + _DAY:
            raise ParseError(f"timestamp[{i}]: bar after the fetch time")
        by_day[when.astimezone(zone).date()] = level(info, c, f"close[{i}]", tnx_guard=True)
    if not by_day:
        raise ParseError("Yahoo: empty chart (every close is null)")
    return sorted(by_day.items())


#: A current desktop browser's User-Agent (Firefox ESR 140 on Linux).
BROWSER_UA: Final = "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0"

SPEC: Final = SourceSpec(
    name=NAME,
    title="Yahoo Finance chart v8 (unofficial)",
    bucket="macro",
    base_url="https://query1.finance.yahoo.com",
    endpoints=tuple(
        Endpoint(
            asset,
            # SOURCES.md §13: encode ^ and = in the path (%5EGSPC, GC%3DF).
            f"/v8/finance/chart/{quote(symbol, safe='')}",
            chart_parser(asset),
            params={"range": "3mo", "interval": "1d"},
        )
        for asset, symbol in SYMBOLS.items()
    ),
    interval_s=300.0,
    # Yahoo publishes no docs for chart v8; this is the best public description of its body.
    docs_url="https://github.com/gadicc/yahoo-finance2/blob/dev/docs/modules/chart.md",
    # No published limits; eight requests a cycle, spaced so they do not arrive as one burst
    # (and a whole round fits in a 12 s snapshot).
    min_spacing_s=1.0,
    # SOURCES.md §13: library User-Agents get 429 on the first call; working clients send a
    # current browser's.
    user_agent=BROWSER_UA,
)
