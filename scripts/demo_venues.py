"""Demo bodies for Binance, Bybit and OKX: funding, open interest and liquidations on 5-6 Feb 2026.

``scripts/make_demo.py`` calls :func:`demo_exchanges` every 5 simulated minutes with the
scenario's BTC mid price. Every body starts from a real published one in ``tests/data/<provider>/``
(provenance in each README there); only values change. The story follows the article (DOMAIN.md):

- funding slightly negative on every venue through 6 Feb, with one brief positive blip (about
  1.5 h) while price rips back above $70k on the afternoon of 6 Feb: a blip, not "staying positive";
- futures OI of these three venues falls from ~$59B to ~$47B over the two days (with Deribit's
  ~$2B from scripts/demo_deribit.py the four-venue total goes from ~$61B to ~$49B), fastest in
  the 5 Feb afternoon flush;
- OKX liquidations: longs heavy on 5 Feb (the cascade from ~14:00 to ~22:00 UTC), shorts during
  the 6 Feb short squeeze. OKX's share is a made-up slice of the article's ~$1B market-wide.

Between those anchors every number is made up for the scenario, which is always labelled as one.
Deterministic: the same ``t`` gives the same bodies.
"""

from __future__ import annotations

import copy
import itertools
import json
import math
import random
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any, Final

DATA: Final = Path(__file__).resolve().parent.parent / "tests" / "data"
EIGHT_H: Final = timedelta(hours=8)

#: USD open interest of each instrument at 5 Feb 00:00 (sums to $59B; Deribit's demo adds ~$2B).
OI_START: Final = {
    "binance": 26.4e9,
    "bybit_linear": 16.0e9,
    "bybit_inverse": 1.9e9,
    "okx_usdt_swap": 11.0e9,
    "okx_usd_swap": 3.7e9,
}
#: Fraction of the starting OI left, through the two days (5 Feb 00:00 -> 7 Feb 00:00).
OI_PATH: Final = [
    ("2026-02-05T00:00", 1.000),
    ("2026-02-05T12:00", 0.985),
    ("2026-02-05T18:00", 0.905),  # the flush: forced selling closes positions
    ("2026-02-06T00:00", 0.870),
    ("2026-02-06T08:00", 0.850),
    ("2026-02-06T16:00", 0.815),  # short covering into the rally
    ("2026-02-07T00:00", 0.800),
]
#: Funding, fraction per 8 h, common to the venues (each adds a small offset). Negative through
#: 6 Feb but for ~14:40-16:15 on 6 Feb, when price rips back above $70k: a 1.5 h blip.
FUNDING_PATH: Final = [
    ("2026-02-05T00:00", -0.000020),
    ("2026-02-05T12:00", -0.000030),
    ("2026-02-05T18:00", -0.000080),
    ("2026-02-06T00:00", -0.000070),
    ("2026-02-06T08:00", -0.000090),
    ("2026-02-06T14:00", -0.000030),
    ("2026-02-06T15:00", 0.000015),
    ("2026-02-06T16:00", 0.000015),
    ("2026-02-06T16:30", -0.000020),
    ("2026-02-07T00:00", -0.000040),
]
FUNDING_OFFSET: Final = {"binance": 0.0, "bybit": -0.000004, "okx": 0.000004}
#: OKX liquidations, USD per hour (both swap families together), longs and shorts.
LONG_LIQ_PATH: Final = [
    ("2026-02-05T00:00", 0.4e6),
    ("2026-02-05T13:00", 1.0e6),
    ("2026-02-05T17:30", 16.0e6),  # ~$1B of longs market-wide on 5 Feb
    ("2026-02-05T22:00", 3.0e6),
    ("2026-02-06T04:00", 5.0e6),  # the slide to ~$60,000
    ("2026-02-06T08:00", 1.0e6),
    ("2026-02-07T00:00", 0.6e6),
]
SHORT_LIQ_PATH: Final = [
    ("2026-02-05T00:00", 0.3e6),
    ("2026-02-06T09:00", 0.3e6),
    ("2026-02-06T13:00", 7.0e6),  # forced short covering into the rebound
    ("2026-02-06T16:30", 2.0e6),
    ("2026-02-07T00:00", 0.4e6),
]
#: Share of OKX liquidations on the USDT-margined swap (the rest on the coin-margined one).
LINEAR_SHARE: Final = 0.8
POLL: Final = timedelta(minutes=5)
#: A liquidation answer holds the newest ``LIQ_LIMIT`` rows of at most the last ``LIQ_KEPT``.
LIQ_LIMIT: Final = 100
LIQ_KEPT: Final = timedelta(hours=24)


#: The sources this module writes demo bodies for (scripts/make_demo.py checks them).
SOURCES: Final = ("binance", "bybit", "okx")


def _template(provider: str, name: str) -> dict[str, Any]:
    """A fresh copy of a recorded body from tests/data (Any: its structure is known)."""
    return copy.deepcopy(_read(provider, name))


@cache
def _read(provider: str, name: str) -> dict[str, Any]:
    doc = json.loads((DATA / provider / name).read_text())
    assert isinstance(doc, dict)
    return doc


def _at(points: list[tuple[str, float]], t: datetime) -> float:
    """The piecewise-linear value of ``points`` at ``t`` (flat outside them)."""
    ts = [(datetime.fromisoformat(s).replace(tzinfo=UTC), v) for s, v in points]
    if t <= ts[0][0]:
        return ts[0][1]
    for (t0, v0), (t1, v1) in itertools.pairwise(ts):
        if t0 <= t <= t1:
            return v0 + (v1 - v0) * ((t - t0) / (t1 - t0))
    return ts[-1][1]


def _ms(t: datetime) -> int:
    return int(t.timestamp() * 1000)


def _next_funding(t: datetime) -> datetime:
    """The next 00:00 / 08:00 / 16:00 UTC settlement after ``t``."""
    day = t.replace(hour=0, minute=0, second=0, microsecond=0)
    return day + EIGHT_H * (1 + (t - day) // EIGHT_H)


def _oi(key: str, t: datetime) -> float:
    # A slow wobble (+-0.2 %) so consecutive readings are not a straight line.
    wobble = 1 + 0.002 * math.sin(t.timestamp() / 3700 + len(key))
    return OI_START[key] * _at(OI_PATH, t) * wobble


def _funding(venue: str, t: datetime) -> float:
    return _at(FUNDING_PATH, t) + FUNDING_OFFSET[venue] + 0.000002 * math.sin(t.timestamp() / 1900)


def _binance(t: datetime, price: float) -> list[tuple[str, str, object]]:
    mark = price - 8.0  # perp a little under spot: negative funding
    premium = _template("binance", "premium_index_docs.json")
    premium |= {
        "markPrice": f"{mark:.8f}",
        "indexPrice": f"{price:.8f}",
        "estimatedSettlePrice": f"{price - 2:.8f}",
        "lastFundingRate": f"{_funding('binance', t):.8f}",
        "nextFundingTime": _ms(_next_funding(t)),
        "time": _ms(t) - 120,
    }
    oi = _template("binance", "open_interest_docs.json")
    oi |= {"openInterest": f"{_oi('binance', t) / mark:.3f}", "time": _ms(t) - 80}
    return [("binance", "premium_index", premium), ("binance", "open_interest", oi)]


def _bybit_ticker(t: datetime, price: float, category: str) -> dict[str, Any]:
    doc = _template("bybit", "tickers_inverse_docs.json")
    result = doc["result"]
    assert isinstance(result, dict)
    (ticker,) = result["list"]
    mark = price - 6.0
    key = f"bybit_{category}"
    usd = _oi(key, t)
    if category == "linear":
        # Single-side fields as the docs' table lists them (added 9 Jun 2026); both sides = 2x.
        single, single_value = usd / mark, usd
        both, both_value = 2 * single, 2 * single_value
        oi_fields = {
            "openInterest": f"{both:.3f}",
            "openInterestValue": f"{both_value:.2f}",
            "singleOpenInterest": f"{single:.3f}",
            "singleOpenInterestValue": f"{single_value:.2f}",
        }
    else:  # inverse: openInterest in USD ($1 contracts), openInterestValue in BTC
        oi_fields = {
            "openInterest": f"{2 * usd:.0f}",
            "openInterestValue": f"{2 * usd / mark:.2f}",
            "singleOpenInterest": f"{usd:.0f}",
            "singleOpenInterestValue": f"{usd / mark:.2f}",
        }
    ticker |= {
        "symbol": "BTCUSDT" if category == "linear" else "BTCUSD",
        "lastPrice": f"{price - 5:.2f}",
        "indexPrice": f"{price:.2f}",
        "markPrice": f"{mark:.2f}",
        "prevPrice24h": f"{price * 1.04:.2f}",
        "price24hPcnt": "-0.038462",
        "highPrice24h": f"{price * 1.05:.2f}",
        "lowPrice24h": f"{price * 0.97:.2f}",
        "prevPrice1h": f"{price * 1.003:.2f}",
        "fundingRate": f"{_funding('bybit', t):.8f}",
        "nextFundingTime": str(_ms(_next_funding(t))),
        "bid1Price": f"{price - 5.5:.2f}",
        "ask1Price": f"{price - 4.5:.2f}",
        **oi_fields,
    }
    result["category"] = category
    doc["time"] = _ms(t) - 60
    return doc


def _okx(t: datetime, price: float) -> list[tuple[str, str, object]]:
    funding = _template("okx", "funding_rate_docs.json")
    (row,) = funding["data"]
    settle = _next_funding(t)
    rate = _funding("okx", t)
    row |= {
        "fundingRate": f"{rate:.16f}",
        "fundingTime": str(_ms(settle)),
        "nextFundingTime": str(_ms(settle + EIGHT_H)),
        "premium": f"{rate * 5:.16f}",
        "settFundingRate": f"{_funding('okx', settle - EIGHT_H):.16f}",
        "ts": str(_ms(t) - 150),
    }
    funding["data"] = [row]
    out: list[tuple[str, str, object]] = [("okx", "funding", funding)]
    for key, inst, usd_per_contract in (
        ("okx_usdt_swap", "BTC-USDT-SWAP", 0.01 * price),
        ("okx_usd_swap", "BTC-USD-SWAP", 100.0),
    ):
        oi = _template("okx", "open_interest_docs.json")
        (oi_row,) = oi["data"]
        usd = _oi(key, t)
        oi_row |= {
            "instId": inst,
            "oi": f"{usd / usd_per_contract:.2f}",
            "oiCcy": f"{usd / price:.4f}",
            "oiUsd": f"{usd:.2f}",
            "ts": str(_ms(t) - 100),
        }
        oi["data"] = [oi_row]
        out.append(("okx", f"oi_{key[4:]}", oi))
    out += [
        ("okx", "liq_usdt_swap", _liquidations(t, price, linear=True)),
        ("okx", "liq_usd_swap", _liquidations(t, price, linear=False)),
    ]
    return out


@cache
def _window_draws(end: datetime, linear: bool) -> tuple[tuple[str, float, int, float], ...]:
    """(side, USD, ts ms, bankruptcy price / market) of one family's liquidations in the 5
    minutes before ``end``: deterministic, so every poll that reaches a window sees the same."""
    rng = random.Random(_ms(end) * 2 + int(linear))
    share = LINEAR_SHARE if linear else 1 - LINEAR_SHARE
    out: list[tuple[str, float, int, float]] = []
    for side, path in (("long", LONG_LIQ_PATH), ("short", SHORT_LIQ_PATH)):
        budget = _at(path, end) * share * (POLL / timedelta(hours=1))
        while budget > 0:
            usd = min(budget, rng.uniform(20e3, 250e3))
            budget -= usd
            at = _ms(end) - rng.randint(1500, int(POLL.total_seconds() * 1000))
            # A long is closed by a sell at its bankruptcy price, below the market; a short by a buy
            factor = (0.996 if side == "long" else 1.004) * rng.uniform(0.999, 1.001)
            out.append((side, usd, at, factor))
    return tuple(out)


def _window_orders(end: datetime, price: float, linear: bool) -> list[dict[str, str]]:
    """One family's liquidation rows in the 5 minutes before ``end``, as OKX writes them."""
    template = _read("okx", "liquidation_ws_btc_usdt_2026.json")["data"][0]["details"][0]
    orders: list[dict[str, str]] = []
    for side, usd, at, factor in _window_draws(end, linear):
        bk_px = price * factor
        contracts = usd / (0.01 * bk_px) if linear else usd / 100.0
        orders.append(
            dict(template)
            | {
                "bkPx": f"{bk_px:.1f}",
                "posSide": side,
                "side": "sell" if side == "long" else "buy",
                "sz": f"{contracts:.2f}" if linear else f"{max(1, round(contracts))}",
                "ts": str(at),
            }
        )
    return orders


def _liquidations(t: datetime, price: float, *, linear: bool) -> dict[str, Any]:
    """An answer of ``liquidation-orders``: its newest ``LIQ_LIMIT`` rows, newest first.

    The body is the documented REST envelope around the ``data`` row of a recorded push
    (tests/data/okx/README.md). Earlier windows are drawn at the price of ``t`` (a small
    liberty: their USD values are the same, only ``bkPx`` differs).
    """
    orders: list[dict[str, str]] = []
    end = t
    while end > t - LIQ_KEPT and len(orders) < LIQ_LIMIT:
        orders += _window_orders(end, price, linear)
        end -= POLL
    orders.sort(key=lambda d: int(d["ts"]), reverse=True)
    push = _template("okx", "liquidation_ws_btc_usdt_2026.json")
    item = dict(push["data"][0])
    family = "BTC-USDT" if linear else "BTC-USD"
    item |= {
        "details": orders[:LIQ_LIMIT],
        "instFamily": family,
        "instId": f"{family}-SWAP",
        "uly": family,
    }
    return {"code": "0", "msg": "", "data": [item]}


def demo_exchanges(t: datetime, price: float) -> list[tuple[str, str, object]]:
    """Every Binance, Bybit and OKX endpoint's body at ``t`` (all are due every 5 minutes).

    Args:
        t: the simulated time (UTC).
        price: the scenario's BTC mid price at ``t`` in USD.

    Returns:
        ``(source, endpoint key, decoded JSON body)`` for each endpoint.
    """
    return [
        *_binance(t, price),
        ("bybit", "tickers_linear", _bybit_ticker(t, price, "linear")),
        ("bybit", "tickers_inverse", _bybit_ticker(t, price, "inverse")),
        *_okx(t, price),
    ]
