"""OKX v5: BTC-USDT-SWAP funding, swap open interest and swap liquidations (SOURCES.md §8).

Readings, all ``source="okx"``:

- ``funding.okx`` (% per 8h) from ``public/funding-rate?instId=BTC-USDT-SWAP``;
- ``oi.futures.okx_usdt_swap`` / ``oi.futures.okx_usd_swap`` (USD, ``oiUsd``) from
  ``public/open-interest``; ``tui.core.analytics.funding.derive`` sums them into
  ``oi.futures.okx``;
- per liquidation time, ``liq.long_usd.<family>`` / ``liq.short_usd.<family>`` (USD) from
  ``public/liquidation-orders`` (instFamily BTC-USDT and BTC-USD, ``state=filled``), plus one
  ``liq.window_h.<family>`` per poll: how many hours back that answer reached. ``derive`` sums
  the stored rows into ``liq.long_usd_24h`` / ``liq.short_usd_24h``: OKX only, never the market.

The liquidation REST endpoint is no longer in the 2026 docs (SOURCES.md §8): undocumented, it
answers the documented shape of the WebSocket ``liquidation-orders`` channel inside the usual
``{"code","msg","data"}`` envelope. Side semantics, from OKX's docs: ``posSide`` is "long: Hedge
mode long, short: Hedge mode short, net: Net mode"; "sell/long: Close long; buy/short: Close
short" (www.okx.com/docs-v5/en/#public-data-websocket-liquidation-orders-channel and the REST
"Get liquidation orders" field table). So a long was liquidated when ``posSide`` is ``long``, or,
in net mode, when the liquidation order ``side`` is ``sell``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import datetime
from typing import Final

from tui.core.analytics.funding import (
    FUNDING_FRACTION_LIMIT,
    FUNDING_UNIT,
    HOURS_UNIT,
    OI_USD_LIMIT,
    pct_per_8h,
)
from tui.core.errors import ParseError, RateLimitedError
from tui.core.model import Json, Observation
from tui.core.sources.parsing import field, number, price, timestamp
from tui.core.sources.spec import Endpoint, Parser, SourceSpec

NAME: Final = "okx"
FUNDING_INST: Final = "BTC-USDT-SWAP"
#: "50011 Rate limit reached" (www.okx.com/docs-v5/en/#error-code-rest-api-public); usually
#: sent with HTTP 429 as ``{"code":"50011","msg":"Too Many Requests"}``, some saw it in a 200.
_RATE_LIMITED: Final = frozenset({"50011"})
#: Contract values (www.okx.com/docs-v5/en/#public-data-rest-api-get-instruments, ``ctVal``):
#: BTC-USDT-SWAP is linear, 0.01 BTC a contract; BTC-USD-SWAP inverse, 100 USD a contract.
CT_VAL_USDT_SWAP_BTC: Final = 0.01
CT_VAL_USD_SWAP_USD: Final = 100.0
#: Rows asked for per liquidation request (the maximum); a full answer may have cut older rows.
LIQ_LIMIT: Final = 100
#: How far back OKX keeps liquidations at the least: one report saw ~14 h on a busy contract,
#: another paged BTC-USDT back 24 h. An answer shorter than LIQ_LIMIT holds all that OKX keeps.
RETAINED_H: Final = 12.0
#: Liquidation sizes in contracts: more than this in one order is a unit error.
MAX_CONTRACTS: Final = 1e9


def _data(body: Json) -> list[Json]:
    """``data`` after the envelope check: ``code`` is ``"0"``, else the body is an error."""
    code = field(body, "code")
    if code != "0":
        msg = body.get("msg", "") if isinstance(body, dict) else ""
        text = f"OKX: {code} {msg}".strip()
        if isinstance(code, str) and code in _RATE_LIMITED:
            raise RateLimitedError(200, until=None, detail=text)
        raise ParseError(text)
    data = field(body, "data")
    if not isinstance(data, list):
        raise ParseError(f"expected a list at 'data', got {type(data).__name__}")
    return data


def _row(body: Json, inst_id: str) -> int:
    """Index of the one ``data`` row for ``inst_id``."""
    data = _data(body)
    found = [
        i for i, row in enumerate(data) if isinstance(row, dict) and row.get("instId") == inst_id
    ]
    if len(found) != 1:
        raise ParseError(f"expected one row for {inst_id} in 'data', got {len(found)}")
    return found[0]


def parse_funding_rate(body: Json, fetched_at: datetime) -> list[Observation]:
    """``funding.okx`` (% per 8h) at OKX's ``ts``.

    ``fundingRate`` is the forecast for the next settlement, a fraction per period; "the
    settlement period is usually 8 hours but may be adjusted; determine it from the difference
    between fundingTime and nextFundingTime" (www.okx.com/docs-v5/en/
    #public-data-rest-api-get-funding-rate).
    """
    i = _row(body, FUNDING_INST)
    rate = number(
        field(body, "data", i, "fundingRate"),
        what="fundingRate",
        lo=-FUNDING_FRACTION_LIMIT,
        hi=FUNDING_FRACTION_LIMIT,
    )
    funding_time = timestamp(field(body, "data", i, "fundingTime"), what="fundingTime")
    next_time = timestamp(field(body, "data", i, "nextFundingTime"), what="nextFundingTime")
    interval_h = (next_time - funding_time).total_seconds() / 3600.0
    if not 0 < interval_h <= 24:
        raise ParseError(f"funding interval {interval_h:g} h: nextFundingTime - fundingTime")
    at = timestamp(field(body, "data", i, "ts"), what="ts")
    return [Observation("funding.okx", pct_per_8h(rate, interval_h), FUNDING_UNIT, NAME, at)]


def _open_interest(inst_id: str, key: str) -> Parser:
    def parse(body: Json, fetched_at: datetime) -> list[Observation]:
        i = _row(body, inst_id)
        usd = number(field(body, "data", i, "oiUsd"), what="oiUsd", lo=0.0, hi=OI_USD_LIMIT)
        at = timestamp(field(body, "data", i, "ts"), what="ts")
        return [Observation(f"oi.futures.okx_{key}", usd, "USD", NAME, at)]

    parse.__doc__ = (
        f"``oi.futures.okx_{key}`` (USD) from ``public/open-interest?instId={inst_id}``: "
        "``oiUsd`` is OKX's own USD figure (``oi`` is contracts, ``oiCcy`` BTC)."
    )
    return parse


parse_open_interest_usdt_swap: Final = _open_interest("BTC-USDT-SWAP", "usdt_swap")
parse_open_interest_usd_swap: Final = _open_interest("BTC-USD-SWAP", "usd_swap")


def _liquidated_side(side: Json, pos_side: Json) -> str:
    """``long`` or ``short``: the position that was liquidated (see the module docstring)."""
    closing = {"long": "sell", "short": "buy"}
    if isinstance(pos_side, str) and pos_side in closing:
        if side != closing[pos_side]:
            raise ParseError(f"liquidation side {side!r} does not close a {pos_side} position")
        return pos_side
    if pos_side in ("net", "", None):
        if side == "sell":
            return "long"
        if side == "buy":
            return "short"
    raise ParseError(f"unexpected liquidation side {side!r} / posSide {pos_side!r}")


def _liquidations(inst_id: str, key: str, usd_of: Callable[[float, float], float]) -> Parser:
    def parse(body: Json, fetched_at: datetime) -> list[Observation]:
        sums: defaultdict[tuple[str, datetime], float] = defaultdict(float)
        oldest: datetime | None = None
        count = 0
        for i, item in enumerate(_data(body)):
            if field(body, "data", i, "instId") != inst_id:
                continue  # another instrument of the family (there should be none for SWAP)
            details = field(item, "details")
            if not isinstance(details, list):
                raise ParseError(f"expected a list at 'data[{i}].details'")
            for j in range(len(details)):
                d = field(details, j)
                what = f"data[{i}].details[{j}]"
                at = timestamp(field(d, "ts"), what=f"{what}.ts")
                contracts = number(field(d, "sz"), what=f"{what}.sz", lo=0.0, hi=MAX_CONTRACTS)
                bk_px = price(field(d, "bkPx"), f"{what}.bkPx")
                liquidated = _liquidated_side(field(d, "side"), field(d, "posSide"))
                # Orders sharing a millisecond are summed: the store keeps one row per time.
                sums[(liquidated, at)] += usd_of(contracts, bk_px)
                oldest = at if oldest is None else min(oldest, at)
                count += 1
        reach_h = 0.0 if oldest is None else max(0.0, (fetched_at - oldest).total_seconds() / 3600)
        if count < LIQ_LIMIT:
            reach_h = max(reach_h, RETAINED_H)  # the answer holds all that OKX keeps
        out = [
            Observation(f"liq.{side}_usd.{key}", usd, "USD", NAME, at)
            for (side, at), usd in sorted(sums.items(), key=lambda kv: (kv[0][1], kv[0][0]))
        ]
        out.append(
            Observation(f"liq.window_h.{key}", min(reach_h, 48.0), HOURS_UNIT, NAME, fetched_at)
        )
        return out

    parse.__doc__ = (
        f"Liquidations of {inst_id} in USD, summed per side and millisecond, and the hours the "
        "answer reaches back (``liq.window_h``), observed at the fetch."
    )
    return parse


parse_liquidations_usdt_swap: Final = _liquidations(
    "BTC-USDT-SWAP", "okx_usdt_swap", lambda contracts, px: contracts * CT_VAL_USDT_SWAP_BTC * px
)
parse_liquidations_usd_swap: Final = _liquidations(
    "BTC-USD-SWAP", "okx_usd_swap", lambda contracts, px: contracts * CT_VAL_USD_SWAP_USD
)


def _liq_params(family: str) -> dict[str, str]:
    return {"instType": "SWAP", "instFamily": family, "state": "filled", "limit": str(LIQ_LIMIT)}


SPEC: Final = SourceSpec(
    name=NAME,
    title="OKX",
    bucket="derivatives",
    base_url="https://www.okx.com",
    endpoints=(
        Endpoint(
            "funding",
            "/api/v5/public/funding-rate",
            parse_funding_rate,
            params={"instId": FUNDING_INST},
        ),
        Endpoint(
            "oi_usdt_swap",
            "/api/v5/public/open-interest",
            parse_open_interest_usdt_swap,
            params={"instType": "SWAP", "instId": "BTC-USDT-SWAP"},
        ),
        Endpoint(
            "oi_usd_swap",
            "/api/v5/public/open-interest",
            parse_open_interest_usd_swap,
            params={"instType": "SWAP", "instId": "BTC-USD-SWAP"},
        ),
        Endpoint(
            "liq_usdt_swap",
            "/api/v5/public/liquidation-orders",
            parse_liquidations_usdt_swap,
            params=_liq_params("BTC-USDT"),
        ),
        Endpoint(
            "liq_usd_swap",
            "/api/v5/public/liquidation-orders",
            parse_liquidations_usd_swap,
            params=_liq_params("BTC-USD"),
        ),
    ),
    interval_s=60.0,
    docs_url="https://www.okx.com/docs-v5/en/#public-data-rest-api-get-funding-rate",
    # funding-rate 10 req/2 s, open-interest 20 req/2 s per IP and instrument (SOURCES.md §8).
    min_spacing_s=0.2,
)
