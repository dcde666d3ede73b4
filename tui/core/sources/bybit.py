"""Bybit v5: BTCUSDT funding and open interest, BTCUSD (inverse) open interest (SOURCES.md §7).

One parser reads both ``GET /v5/market/tickers`` answers; ``result.category`` says which:

- ``linear`` BTCUSDT: ``funding.bybit`` (% per 8h) and ``oi.futures.bybit_linear`` (USD);
- ``inverse`` BTCUSD: ``oi.futures.bybit_inverse`` (USD).

``tui.core.analytics.funding.derive`` sums the two into ``oi.futures.bybit``.

Open interest semantics (bybit-exchange/docs ``docs/v5/market/tickers.mdx``, change "add single
side OI fields", 9 Jun 2026): ``openInterest``/``openInterestValue`` are "both sides",
``singleOpenInterest``/``singleOpenInterestValue`` "single side"; the open-interest docs example
shows the first exactly twice the second. Other venues count one side, so the single-side field
is used when present: ``singleOpenInterestValue`` (USDT, taken as USD) for linear,
``singleOpenInterest`` (USD, $1 contracts) for inverse. Bodies without those fields (before June
2026) fall back to ``openInterestValue`` / ``openInterest``; whether those were really doubled is
unconfirmed, so such a value may overstate Bybit by up to 2x.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

from tui.core.analytics.funding import (
    FUNDING_FRACTION_LIMIT,
    FUNDING_UNIT,
    OI_USD_LIMIT,
    pct_per_8h,
)
from tui.core.errors import ParseError, RateLimitedError
from tui.core.model import Json, Observation
from tui.core.sources.parsing import field, number, timestamp
from tui.core.sources.spec import Endpoint, SourceSpec

NAME: Final = "bybit"
#: The symbol asked for in each category.
SYMBOLS: Final = {"linear": "BTCUSDT", "inverse": "BTCUSD"}
#: Used when a ticker has no ``fundingIntervalHour`` (older bodies): Bybit's default interval.
DEFAULT_INTERVAL_H: Final = 8.0
#: retCodes that mean "slow down": 10006 "Too many visits!", 10018 "Exceeded the IP Rate Limit",
#: 10429 system protection (bybit-exchange/docs ``docs/v5/error.mdx``,
#: ``docs/v5/rate-limit/rate-limit.mdx``). The host-wide limit itself answers HTTP 403.
_RATE_LIMITED: Final = frozenset({10006, 10018, 10429})
#: (single-side field, both-sides fallback) of the USD open interest, per category.
_OI_FIELDS: Final = {
    "linear": ("singleOpenInterestValue", "openInterestValue"),
    "inverse": ("singleOpenInterest", "openInterest"),
}


def _check_envelope(body: Json) -> None:
    """Raise for ``retCode`` ≠ 0: ``{"retCode":10006,"retMsg":"Too many visits!",...}``."""
    code = field(body, "retCode")
    if code == 0 and not isinstance(code, bool):
        return
    text = f"Bybit: {code} {field(body, 'retMsg')}"
    if isinstance(code, int) and code in _RATE_LIMITED:
        raise RateLimitedError(200, until=None, detail=text)
    raise ParseError(text)


def _text(value: Json, what: str) -> str:
    if not isinstance(value, str):
        raise ParseError(f"{what}: expected text, got {type(value).__name__}")
    return value


def _present(obj: Json, key: str) -> bool:
    """True when ``obj`` has ``key`` with a value other than ``""`` or null (Bybit's "n/a")."""
    return isinstance(obj, dict) and obj.get(key) not in (None, "")


def parse_tickers(body: Json, fetched_at: datetime) -> list[Observation]:
    """Funding and open interest from ``GET /v5/market/tickers?category=...&symbol=...``.

    Every number is a string; fields that do not apply are ``""``. ``fundingRate`` is a fraction
    per ``fundingIntervalHour`` hours ("This value currently only supports whole hours"), so
    ``funding.bybit`` = rate × 100 × 8 / interval. Observed at the envelope's ``time`` (ms).
    """
    _check_envelope(body)
    category = _text(field(body, "result", "category"), "result.category")
    if category not in SYMBOLS:
        raise ParseError(f"expected category linear or inverse, got {category[:20]!r}")
    items = field(body, "result", "list")
    if not isinstance(items, list) or len(items) != 1:
        raise ParseError("expected exactly one ticker in 'result.list'")
    item = field(body, "result", "list", 0)
    symbol = field(item, "symbol")
    if symbol != SYMBOLS[category]:
        raise ParseError(f"expected symbol {SYMBOLS[category]}, got {str(symbol)[:20]!r}")
    at = timestamp(field(body, "time"), what="time") if _present(body, "time") else fetched_at
    single, both = _OI_FIELDS[category]
    raw_oi = field(item, single) if _present(item, single) else field(item, both)
    oi = number(raw_oi, what=f"{category} open interest", lo=0.0, hi=OI_USD_LIMIT)
    out = [Observation(f"oi.futures.bybit_{category}", oi, "USD", NAME, at)]
    if category == "linear":
        rate = number(
            field(item, "fundingRate"),
            what="fundingRate",
            lo=-FUNDING_FRACTION_LIMIT,
            hi=FUNDING_FRACTION_LIMIT,
        )
        interval = (
            number(field(item, "fundingIntervalHour"), what="fundingIntervalHour", lo=1, hi=24)
            if _present(item, "fundingIntervalHour")
            else DEFAULT_INTERVAL_H
        )
        funding = pct_per_8h(rate, interval)
        out.insert(0, Observation("funding.bybit", funding, FUNDING_UNIT, NAME, at))
    return out


SPEC: Final = SourceSpec(
    name=NAME,
    title="Bybit",
    bucket="derivatives",
    base_url="https://api.bybit.com",
    endpoints=(
        Endpoint(
            "tickers_linear",
            "/v5/market/tickers",
            parse_tickers,
            params={"category": "linear", "symbol": SYMBOLS["linear"]},
        ),
        Endpoint(
            "tickers_inverse",
            "/v5/market/tickers",
            parse_tickers,
            params={"category": "inverse", "symbol": SYMBOLS["inverse"]},
        ),
    ),
    interval_s=60.0,
    docs_url="https://bybit-exchange.github.io/docs/v5/market/tickers",
    # 600 requests per 5 s per IP across the host; past it, HTTP 403 and a 10-minute ban
    # (docs/v5/rate-limit/rate-limit.mdx): two requests a minute are far inside it.
    min_spacing_s=0.1,
)
