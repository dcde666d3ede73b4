"""Binance USDⓈ-M futures: BTCUSDT funding, mark price and open interest (SOURCES.md §6).

The two endpoints are parsed on their own, so this module publishes *parts*:
``funding.binance`` (% per 8h) and ``btc.price.binance_mark`` (USD) from ``premiumIndex``, and
``oi.futures.binance_btc`` (BTC) from ``openInterest``. ``tui.core.analytics.funding.derive``
joins the last two into ``oi.futures.binance`` (USD) when both are fresh.

Funding interval: ``premiumIndex`` gives ``lastFundingRate`` per interval but not the interval.
``GET /fapi/v1/fundingInfo`` "only returns symbols whose fundingRateCap/Floor or
fundingIntervalHours were specially adjusted" (developers.binance.com/docs/derivatives/
usds-margined-futures/market-data/rest-api/Get-Funding-Rate-Info); BTCUSDT is not expected there,
so its interval is taken as the default 8 h. If Binance ever shortens it, BTCUSDT would appear in
``fundingInfo`` and this assumption must become a fetch of that endpoint.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

from tui.core.analytics.funding import FUNDING_FRACTION_LIMIT, FUNDING_UNIT, pct_per_8h
from tui.core.errors import GeoBlockedError, ParseError, RateLimitedError
from tui.core.model import Json, Observation
from tui.core.sources.parsing import field, number, price, timestamp, usd
from tui.core.sources.spec import Endpoint, SourceSpec

NAME: Final = "binance"
SYMBOL: Final = "BTCUSDT"
#: The default USDⓈ-M funding interval; see the module docstring.
FUNDING_INTERVAL_H: Final = 8.0
#: All BTC that will ever exist: open interest in BTC above this is a unit error.
BTC_SUPPLY: Final = 21_000_000.0
#: "-1003 TOO_MANY_REQUESTS" (developers.binance.com/docs/derivatives/usds-margined-futures/
#: error-code); normally sent with HTTP 429/418, which the http layer turns into a rate limit.
_TOO_MANY_REQUESTS: Final = -1003


def check_error(body: Json) -> None:
    """Raise for Binance's error body ``{"code": <int>, "msg": "..."}`` if that is what came.

    Errors normally arrive with HTTP 4xx and never reach a parser (the http layer maps 418/429
    to a rate limit and 451 to geo-blocked); a proxy or cache can still hand one over as 200.
    The 451 body is ``{"code":0,"msg":"Service unavailable from a restricted location ..."}``.
    """
    if not (isinstance(body, dict) and "code" in body and "msg" in body):
        return
    code, msg = body["code"], body["msg"]
    text = f"Binance: {code} {msg}"
    if isinstance(msg, str) and "restricted location" in msg:
        raise GeoBlockedError(451, text)
    if code == _TOO_MANY_REQUESTS:
        raise RateLimitedError(200, until=None, detail=text)
    raise ParseError(text)


def _checked(body: Json) -> dict[str, Json]:
    """The body as an object, after the error check, for the symbol we asked for."""
    check_error(body)
    if not isinstance(body, dict):
        raise ParseError(f"expected an object at the top level, got {type(body).__name__}")
    symbol = body.get("symbol", SYMBOL)
    if symbol != SYMBOL:
        raise ParseError(f"expected symbol {SYMBOL}, got {str(symbol)[:20]!r}")
    return body


def parse_premium_index(body: Json, fetched_at: datetime) -> list[Observation]:
    """``funding.binance`` (% per 8h) and ``btc.price.binance_mark`` (USD) at Binance's ``time``.

    ``GET /fapi/v1/premiumIndex?symbol=BTCUSDT``: ``lastFundingRate`` is the live estimate, a
    fraction per funding interval, for ``nextFundingTime``; ``markPrice`` in USDT, taken as USD
    (developers.binance.com/docs/derivatives/usds-margined-futures/market-data/rest-api/Mark-Price).
    """
    doc = _checked(body)
    rate = number(
        field(doc, "lastFundingRate"),
        what="lastFundingRate",
        lo=-FUNDING_FRACTION_LIMIT,
        hi=FUNDING_FRACTION_LIMIT,
    )
    mark = price(field(doc, "markPrice"), "markPrice")
    at = timestamp(field(doc, "time"), what="time")
    funding = pct_per_8h(rate, FUNDING_INTERVAL_H)
    return [
        Observation("funding.binance", funding, FUNDING_UNIT, NAME, at),
        usd("btc.price.binance_mark", mark, NAME, at),
    ]


def parse_open_interest(body: Json, fetched_at: datetime) -> list[Observation]:
    """``oi.futures.binance_btc`` (BTC) from ``GET /fapi/v1/openInterest?symbol=BTCUSDT``.

    ``openInterest`` is in the base asset, BTC (developers.binance.com/docs/derivatives/
    usds-margined-futures/market-data/rest-api/Open-Interest); ``time`` in ms when present.
    """
    doc = _checked(body)
    btc = number(field(doc, "openInterest"), what="openInterest", lo=0.0, hi=BTC_SUPPLY)
    at = timestamp(doc["time"], what="time") if doc.get("time") is not None else fetched_at
    return [Observation("oi.futures.binance_btc", btc, "BTC", NAME, at)]


SPEC: Final = SourceSpec(
    name=NAME,
    title="Binance USDⓈ-M futures",
    bucket="derivatives",
    base_url="https://fapi.binance.com",
    endpoints=(
        Endpoint(
            "premium_index", "/fapi/v1/premiumIndex", parse_premium_index, params={"symbol": SYMBOL}
        ),
        Endpoint(
            "open_interest", "/fapi/v1/openInterest", parse_open_interest, params={"symbol": SYMBOL}
        ),
    ),
    interval_s=60.0,
    docs_url=(
        "https://developers.binance.com/docs/derivatives/usds-margined-futures/market-data/"
        "rest-api/Mark-Price"
    ),
    # Weight 1 each against 2,400 weight a minute per IP (SOURCES.md §6): spacing is courtesy.
    min_spacing_s=0.1,
)
