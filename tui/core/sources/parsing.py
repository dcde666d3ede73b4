"""Small shared helpers for the source parsers: navigate, read numbers and times, daily candles."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Final, NamedTuple

from tui.core.errors import ParseError
from tui.core.model import Json, Observation

#: Plausible BTC price in USD (SOURCES.md §0): anything outside is a unit or parse error.
PRICE_RANGE: Final = (1_000.0, 10_000_000.0)

#: Plausible times: after the genesis block, before 2100. Guards the magnitude guess below.
_EARLIEST: Final = datetime(2009, 1, 3, tzinfo=UTC)
_LATEST: Final = datetime(2100, 1, 1, tzinfo=UTC)
_DAY: Final = timedelta(days=1)

# Plain decimal text as providers send it; float() alone would also take "nan", "inf", "1_0".
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
# ISO-8601 with any number of fractional digits (Coinbase sends 6 or 9) and a required offset.
_ISO = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:?\d{2})",
    re.IGNORECASE,
)


def _where(path: Iterable[str | int]) -> str:
    text = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")
    return f"'{text}'" if text else "the top level"


def field(obj: Json, *path: str | int) -> Json:
    """The value at ``path`` (keys for objects, indexes for lists).

    Raises:
        ParseError: naming the first step that is missing or of the wrong type.
    """
    cur = obj
    for i, key in enumerate(path):
        if isinstance(key, str):
            if not isinstance(cur, dict):
                raise ParseError(f"expected an object at {_where(path[:i])}, got {_kind(cur)}")
            if key not in cur:
                raise ParseError(f"missing {_where(path[: i + 1])}")
            cur = cur[key]
        else:
            if not isinstance(cur, list):
                raise ParseError(f"expected a list at {_where(path[:i])}, got {_kind(cur)}")
            if not 0 <= key < len(cur):
                raise ParseError(f"missing {_where(path[: i + 1])}")
            cur = cur[key]
    return cur


def _kind(value: Json) -> str:
    return "null" if value is None else type(value).__name__


def number(value: Json, *, what: str, lo: float, hi: float) -> float:
    """A finite number in ``[lo, hi]`` from a JSON number or a numeric string (SOURCES.md §0).

    Raises:
        ParseError: for bool, null, empty or non-numeric text, NaN/inf, or a value out of range.
    """
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ParseError(f"{what}: expected a number, got {_kind(value)}")
    if isinstance(value, str):
        # str.strip() drops more than float() does (\x1c-\x1f): parse the text that was checked.
        text = value.strip()
        if not _NUMBER.fullmatch(text):
            raise ParseError(f"{what}: expected a number, got {value[:20]!r}")
        value = text
    try:
        result = float(value)
    except OverflowError:  # an int beyond float range
        result = math.inf
    if not math.isfinite(result):
        raise ParseError(f"{what}: not a finite number")
    if not lo <= result <= hi:
        raise ParseError(f"{what}: {result:g} outside {lo:g}..{hi:g}")
    return result


def timestamp(value: Json, *, what: str) -> datetime:
    """A UTC-aware time from epoch seconds/ms/µs (by magnitude, as number or text) or ISO-8601.

    Epoch values above 1e12 are milliseconds and above 1e15 microseconds (Deribit ``usOut``);
    ISO text needs a ``Z`` or an offset, and fractional digits beyond microseconds are cut.

    Raises:
        ParseError: for anything else, or a time before 2009 or after 2099.
    """
    if isinstance(value, str) and (m := _ISO.fullmatch(value.strip())):
        y, mo, d, h, mi, s, frac, tz = m.groups()
        offset = "+00:00" if tz.upper() == "Z" else tz
        iso = f"{y}-{mo}-{d}T{h}:{mi}:{s}.{(frac or '0')[:6]:0<6}{offset}"
        try:
            result = datetime.fromisoformat(iso).astimezone(UTC)
        except (ValueError, OverflowError):
            raise ParseError(f"{what}: not a valid time {value[:40]!r}") from None
    else:
        epoch = number(value, what=what, lo=0.0, hi=1e19)
        scale = 1e6 if epoch > 1e15 else 1e3 if epoch > 1e12 else 1.0
        seconds = epoch / scale
        if not _EARLIEST.timestamp() <= seconds < _LATEST.timestamp():
            raise ParseError(f"{what}: implausible time {epoch:g}")
        result = datetime.fromtimestamp(seconds, UTC)
    if not _EARLIEST <= result < _LATEST:
        raise ParseError(f"{what}: implausible time {result:%Y-%m-%d}")
    return result


def usd(id_: str, value: float, source: str, observed_at: datetime) -> Observation:
    """An observation in USD (every price id of these sources)."""
    return Observation(id_, value, "USD", source, observed_at)


class Candle(NamedTuple):
    """One daily candle, already read: start of its UTC day and O/H/L/C in USD."""

    start: datetime
    open: float
    high: float
    low: float
    close: float


def price(value: Json, what: str) -> float:
    """A BTC price in USD, range-checked with :data:`PRICE_RANGE`."""
    return number(value, what=what, lo=PRICE_RANGE[0], hi=PRICE_RANGE[1])


def check_ohlc(what: str, o: float, h: float, low: float, c: float) -> None:
    """Raise ParseError unless low <= open, close <= high (a corrupt or mixed-up row)."""
    if not low <= min(o, c) <= max(o, c) <= h:
        raise ParseError(f"{what}: inconsistent open/high/low/close")


def day_candles(
    candles: Iterable[Candle], *, venue: str, source: str, fetched_at: datetime
) -> list[Observation]:
    """``btc.day.{open,high,low,close}.<venue>`` for every daily candle.

    A completed day is observed at its end (the next UTC midnight); the still-forming day
    (the one that starts at the UTC midnight of ``fetched_at``) is observed at ``fetched_at``.

    Raises:
        ParseError: no candles, a start that is not a UTC midnight, a day after ``fetched_at``'s,
            or two different candles for one day.
    """
    today = fetched_at.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    by_day: dict[datetime, Candle] = {}
    for c in candles:
        label = f"candle {c.start:%Y-%m-%d %H:%M}"
        if c.start.timestamp() % 86400:
            raise ParseError(f"{label}: not a daily candle (does not start at 00:00 UTC)")
        if c.start > today:
            raise ParseError(f"{label}: starts after the fetch time")
        check_ohlc(label, c.open, c.high, c.low, c.close)
        if by_day.setdefault(c.start, c) != c:
            raise ParseError(f"{label}: two different candles for one day")
    if not by_day:
        raise ParseError("no candles")
    out: list[Observation] = []
    for start, c in sorted(by_day.items()):
        at = fetched_at if start == today else start + _DAY
        for name, value in (("open", c.open), ("high", c.high), ("low", c.low), ("close", c.close)):
            out.append(usd(f"btc.day.{name}.{venue}", value, source, at))
    return out
