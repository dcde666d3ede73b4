"""Demo bodies for the macro bucket: Yahoo charts of the eight assets through 5-6 Feb 2026.

Called by ``scripts/make_demo.py``. Every body is a real recorded Yahoo chart v8 answer kept in
``tests/data/yahoo/`` (provenance in the README there) with only values changed: the ^TNX index
body (``chart_tnx_5m.json``) for the indices, the dollar index and the yield, the COMEX
``GC=F`` body (``chart_gc_f_1d.json``) for gold and silver; symbols, exchange names and times,
the bars and the quote fields are the scenario's, ``dataGranularity`` ``1d`` and ``range``
``3mo`` as btcwatch asks.

The 6 Feb moves are the article's (DOMAIN.md): S&P 500 +1.97 %, Nasdaq +2.18 %, Dow +2.47 %,
SOX +5.7 %, gold +3.9 %, silver +8.6 %, dollar index -0.2 %. The 10-year yield's closes of 4-6 Feb
(4.29, 4.21, 4.22 %) are FRED's DGS10 of those days (tests/data/fred/dgs10.csv). The 5 Feb
risk-off moves, the 60 daily bars before, the levels and the intraday paths are made up for the
scenario, deterministic (seeded), and the demo is always labelled as one.

Timeline (UTC): US indices trade 14:30-21:00, ^TNX 13:20-20:00, futures from 23:00 the evening
before to 22:00; a live session's last bar moves along a smooth path from the previous close to
the day's close, and the Friday close stands after 22:00 on 6 Feb. A body every 30 minutes.
"""

from __future__ import annotations

import copy
import functools
import json
import math
import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Final

from tui.core.sources.yahoo import SYMBOLS

ROOT: Final = Path(__file__).resolve().parent.parent
DATA: Final = ROOT / "tests" / "data" / "yahoo"
SOURCE: Final = "yahoo"
INTERVAL: Final = timedelta(minutes=30)
#: Bars before 4 Feb (about three months of trading days with the three below).
HISTORY_BARS: Final = 60
#: US market holidays in the window: no equity or ^TNX bar (futures keep a bar).
HOLIDAYS: Final = frozenset(
    {date(2025, 11, 27), date(2025, 12, 25), date(2026, 1, 1), date(2026, 1, 19)}
)
FEB4, FEB5, FEB6 = date(2026, 2, 4), date(2026, 2, 5), date(2026, 2, 6)


@dataclass(frozen=True, slots=True)
class Story:
    """One asset's scenario: its 4 Feb close, the 5 and 6 Feb day moves, and how it trades."""

    close_feb4: float
    move_feb5: float
    """% (absolute change in percentage points for the yield: see ``yield_closes``)."""
    move_feb6: float
    vol: float
    """Daily volatility of the made-up history: a fraction (percentage points for the yield)."""
    decimals: int
    kind: str
    """``index`` (NYSE hours), ``tnx`` (Cboe hours) or ``futures``."""
    exchange: tuple[str, str, str]
    """``exchangeName``, ``fullExchangeName``, ``instrumentType``."""
    name: str


STORIES: Final = {
    "spx": Story(6_882.72, -1.23, 1.97, 0.009, 2, "index", ("SNP", "SNP", "INDEX"), "S&P 500"),
    "ndx": Story(22_904.6, -1.59, 2.18, 0.011, 2, "index", ("NIM", "Nasdaq GIDS", "INDEX"),
                 "NASDAQ Composite"),
    "dji": Story(49_410.3, -1.20, 2.47, 0.008, 2, "index", ("DJI", "DJI", "INDEX"),
                 "Dow Jones Industrial Average"),
    "sox": Story(7_790.4, -3.10, 5.70, 0.021, 2, "index", ("NIM", "Nasdaq GIDS", "INDEX"),
                 "PHLX Semiconductor"),
    "gold": Story(4_930.0, -1.90, 3.90, 0.016, 1, "futures", ("CMX", "COMEX", "FUTURE"),
                  "Gold Apr 26"),
    "silver": Story(87.02, -9.50, 8.60, 0.034, 3, "futures", ("CMX", "COMEX", "FUTURE"),
                    "Silver Mar 26"),
    "dxy": Story(97.62, 0.24, -0.20, 0.0035, 3, "futures", ("NYB", "ICE Futures", "INDEX"),
                 "US Dollar Index"),
    "us10y": Story(4.29, 0.0, 0.0, 0.035, 3, "tnx", ("CGI", "Cboe Indices", "INDEX"),
                   "CBOE Interest Rate 10 Year T No"),
}  # fmt: skip
#: FRED DGS10 closes of the scenario days (percent): the yield's path, not a made-up move.
YIELD_CLOSES: Final = {FEB4: 4.29, FEB5: 4.21, FEB6: 4.22}
#: Session (start, end) in UTC per kind; futures start the evening before their bar's date.
SESSIONS: Final = {
    "index": (time(14, 30), time(21)),
    "tnx": (time(13, 20), time(20)),
    "futures": (time(23), time(22)),
}


#: The sources this module writes demo bodies for (scripts/make_demo.py checks them).
SOURCES: Final = ("yahoo",)


def demo_exchanges(t: datetime, price: float) -> list[tuple[str, str, object]]:
    """The eight chart bodies due at ``t`` (every 30 minutes), as Yahoo would answer them."""
    del price  # the macro story does not follow BTC's minute path
    if (t - datetime(2026, 2, 5, tzinfo=UTC)) % INTERVAL:
        return []
    return [(SOURCE, asset, chart(asset, t)) for asset in SYMBOLS]


def chart(asset: str, t: datetime) -> dict[str, object]:
    """Yahoo's ``/v8/finance/chart`` answer for ``asset`` at ``t`` (range 3mo, interval 1d)."""
    story = STORIES[asset]
    bars = _bars(asset, t)
    live_day, live_close, at = _live(asset, t)
    futures = story.kind == "futures"
    doc = copy.deepcopy(_template("chart_gc_f_1d.json" if futures else "chart_tnx_5m.json"))
    result = _obj(_list(_obj(doc["chart"])["result"])[0])
    meta = _obj(result["meta"])
    chicago = story.kind == "tnx"
    offset = -21_600 if chicago else -18_000
    start, end = _session(story, live_day)
    zone = "CST" if chicago else "EST"
    closes = [c for _, c in bars]

    def period(a: int, b: int) -> dict[str, object]:
        return {"timezone": zone, "start": a, "end": b, "gmtoffset": offset}

    meta |= {
        "symbol": SYMBOLS[asset],
        "exchangeName": story.exchange[0],
        "fullExchangeName": story.exchange[1],
        "instrumentType": story.exchange[2],
        "regularMarketTime": int(at.timestamp()),
        "gmtoffset": offset,
        "timezone": zone,
        "exchangeTimezoneName": "America/Chicago" if chicago else "America/New_York",
        "regularMarketPrice": live_close,
        "fiftyTwoWeekHigh": round(max(closes) * 1.04, story.decimals),
        "fiftyTwoWeekLow": round(min(closes) * 0.81, story.decimals),
        "regularMarketDayHigh": round(max(live_close, bars[-2][1]) * 1.003, story.decimals),
        "regularMarketDayLow": round(min(live_close, bars[-2][1]) * 0.997, story.decimals),
        "shortName": story.name,
        "chartPreviousClose": _history(asset)[0],
        "currentTradingPeriod": {
            "pre": period(start, start),
            "regular": period(start, end),
            "post": period(end, end),
        },
        "dataGranularity": "1d",
        "range": "3mo",
    }
    if "longName" in meta:
        meta["longName"] = story.name
    if "previousClose" in meta:
        meta["previousClose"] = bars[-2][1]
    if "tradingPeriods" in meta:
        meta["tradingPeriods"] = [[period(start, end)]]
    result["timestamp"] = [_bar_time(story, d) for d, _ in bars]
    opens = [bars[0][1], *closes[:-1]]
    pairs = list(zip(opens, closes, strict=True))
    indicators = _obj(result["indicators"])
    quote = _obj(_list(indicators["quote"])[0])
    quote["open"] = opens
    quote["close"] = closes
    quote["high"] = [round(max(o, c) * 1.002, story.decimals) for o, c in pairs]
    quote["low"] = [round(min(o, c) * 0.998, story.decimals) for o, c in pairs]
    quote["volume"] = [150_000 + 1_000 * (i % 37) if futures else 0 for i in range(len(bars))]
    if "adjclose" in indicators:
        indicators["adjclose"] = [{"adjclose": closes}]
    return doc


def _obj(value: object) -> dict[str, object]:
    assert isinstance(value, dict), "the template changed shape"
    return value


def _list(value: object) -> list[object]:
    assert isinstance(value, list), "the template changed shape"
    return value


@functools.cache
def _template(name: str) -> dict[str, object]:
    doc = json.loads((DATA / name).read_text())
    return _obj(doc)


def _trading_days(asset: str, until: date, count: int) -> list[date]:
    """The ``count`` trading days up to ``until`` (weekdays; equities skip US holidays)."""
    days: list[date] = []
    d = until
    futures = STORIES[asset].kind == "futures"
    while len(days) < count:
        if d.weekday() < 5 and (futures or d not in HOLIDAYS):
            days.append(d)
        d -= timedelta(days=1)
    return days[::-1]


@functools.cache
def _history(asset: str) -> tuple[float, ...]:
    """Closes of the made-up bars before 4 Feb plus 4 Feb's (oldest first; the first is the
    ``chartPreviousClose``), walked back from 4 Feb's close with a seeded random walk."""
    story = STORIES[asset]
    rng = random.Random(f"btcwatch-macro-{asset}")
    closes = [story.close_feb4]
    for _ in range(HISTORY_BARS):
        step = rng.gauss(0.0, story.vol)
        prev = closes[-1] - step if asset == "us10y" else closes[-1] / math.exp(step)
        closes.append(round(prev, story.decimals))
    return tuple(closes[::-1])


def _final(asset: str, day: date) -> float:
    """The scenario's close of 4, 5 or 6 Feb."""
    story = STORIES[asset]
    if asset == "us10y":
        return YIELD_CLOSES[day]
    c = story.close_feb4
    if day >= FEB5:
        c *= 1 + story.move_feb5 / 100
    if day >= FEB6:
        c *= 1 + story.move_feb6 / 100
    return round(c, story.decimals)


def _session(story: Story, day: date) -> tuple[int, int]:
    """Start and end (epoch s) of ``day``'s regular session."""
    start, end = SESSIONS[story.kind]
    first = day - timedelta(days=1) if story.kind == "futures" else day
    return (
        int(datetime.combine(first, start, UTC).timestamp()),
        int(datetime.combine(day, end, UTC).timestamp()),
    )


def _live(asset: str, t: datetime) -> tuple[date, float, datetime]:
    """(the latest bar's day, its close at ``t``, ``regularMarketTime``) during the demo."""
    story = STORIES[asset]
    for day in (FEB6, FEB5):
        start, end = (datetime.fromtimestamp(s, UTC) for s in _session(story, day))
        if t >= start:
            prev, final = _final(asset, day - timedelta(days=1)), _final(asset, day)
            if t >= end:
                return day, final, end
            x = (t - start) / (end - start)
            # A smooth path from the previous close to the day's close, with a little chop.
            shape = x + 0.22 * math.sin(3 * math.pi * x) * x * (1 - x)
            return day, round(prev + (final - prev) * shape, story.decimals), t
    return FEB4, _final(asset, FEB4), datetime.fromtimestamp(_session(story, FEB4)[1], UTC)


def _bars(asset: str, t: datetime) -> list[tuple[date, float]]:
    """Daily (day, close) bars at ``t``: the history, then 5 and 6 Feb as far as they exist."""
    past = _history(asset)[1:]
    days = _trading_days(asset, FEB4, len(past))
    bars = list(zip(days, past, strict=True))
    live_day, live_close, _ = _live(asset, t)
    for day in (FEB5, FEB6):
        if day < live_day:
            bars.append((day, _final(asset, day)))
        elif day == live_day:
            bars.append((day, live_close))
    return bars


def _bar_time(story: Story, day: date) -> int:
    """A bar's timestamp: the session open for indices and ^TNX, 00:00 New York for futures."""
    at = time(5) if story.kind == "futures" else SESSIONS[story.kind][0]
    return int(datetime.combine(day, at, UTC).timestamp())
