"""Deribit futures and options bodies for the demo scenario of 5–6 Feb 2026.

``scripts/make_demo.py`` calls :func:`demo_exchanges` every 5 simulated minutes with the scenario's
BTC price. Every body starts from a real recorded body in ``tests/data/deribit/`` (provenance in its
README): the BTC-PERPETUAL ticker, the futures book summary, the option book summary (its real rows
are the templates of every option row; the names move to Feb 2026 expiries) and the DVOL index
price. Only values change, so that the demo tells the article's story (DOMAIN.md): funding slips
below 0 on 5 Feb and stays there, Deribit's futures OI falls, the 25Δ risk reversal sinks to about
−13 vol points, short-dated IV rises above long-dated IV (an inverted term structure), and put open
interest piles up at the 50k–60k strikes of the 27 Feb 2026 expiry. Deterministic.
"""

from __future__ import annotations

import copy
import itertools
import json
import math
import sys
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Final, NamedTuple

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tui.core.model import Json  # noqa: E402

DATA = ROOT / "tests" / "data" / "deribit"
YEAR = timedelta(days=365)
CHAIN_EVERY = timedelta(minutes=30)

#: The story's key points, straight lines between them:
#: (time, funding fraction per 8h, Deribit futures OI in USD, ATM IV 7d, ATM IV 90d, RR25 7d).
STORY: list[tuple[str, float, float, float, float, float]] = [
    ("2026-02-05T00:00", 0.00004, 1.95e9, 46.0, 48.0, -6.0),
    ("2026-02-05T11:00", 0.00001, 1.90e9, 52.0, 49.0, -8.0),
    ("2026-02-05T14:00", -0.00003, 1.84e9, 60.0, 50.0, -10.0),  # the pivot gives way
    ("2026-02-05T17:30", -0.00012, 1.70e9, 74.0, 53.0, -12.5),  # ~$1B of longs liquidated
    ("2026-02-06T00:00", -0.00009, 1.62e9, 72.0, 53.0, -13.0),
    ("2026-02-06T07:40", -0.00015, 1.55e9, 80.0, 55.0, -14.0),  # the low near $60,000
    ("2026-02-06T16:00", -0.00004, 1.52e9, 66.0, 54.0, -12.5),  # the rip to $71,422
    ("2026-02-07T00:00", -0.00006, 1.50e9, 64.0, 53.0, -13.0),
]
#: The 30-day skew is a little less extreme than the 7-day one.
RR30_OF_RR7 = 0.8
#: Annual basis of Deribit futures over the index in the scenario.
BASIS = 0.05
#: The recorded futures summary's rows renamed to listings of early Feb 2026 (same order).
FUTURE_NAMES = [
    "BTC-24APR26", "BTC-13FEB26", "BTC-27FEB26", "BTC-9FEB26", "BTC-20FEB26", "BTC-25SEP26",
    "BTC-10FEB26", "BTC-PERPETUAL", "BTC-26JUN26", "BTC-11FEB26", "BTC-25DEC26", "BTC-27MAR26",
    "BTC-12FEB26",
]  # fmt: skip
MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
#: Option expiries of the scenario: (day, kind); dailies are listed three days ahead.
EXPIRIES = [
    ("2026-02-05", "daily"), ("2026-02-06", "daily"), ("2026-02-07", "daily"),
    ("2026-02-08", "daily"), ("2026-02-09", "daily"), ("2026-02-13", "weekly"),
    ("2026-02-20", "weekly"), ("2026-02-27", "monthly"), ("2026-03-27", "quarterly"),
    ("2026-06-26", "quarterly"),
]  # fmt: skip
#: Further listings of a full chain (only in the dense chain of the benchmark).
MORE_EXPIRIES = [
    ("2026-04-24", "monthly"), ("2026-09-25", "quarterly"), ("2026-12-25", "quarterly"),
    ("2027-03-26", "quarterly"),
]  # fmt: skip
#: Put OI (BTC) of the 27 Feb 2026 expiry at the retest-band strikes, at the start and the end.
BAND_PUTS = {50_000: (3_800.0, 5_600.0), 55_000: (4_500.0, 6_300.0), 60_000: (5_200.0, 7_900.0)}


class State(NamedTuple):
    """The story at one moment."""

    funding: float
    """Fraction per 8h."""
    oi: float
    """Deribit BTC futures OI, USD."""
    atm7: float
    atm90: float
    rr7: float


#: The sources this module writes demo bodies for (scripts/make_demo.py checks them).
SOURCES: Final = ("deribit_futures", "deribit_options")


def load(name: str) -> Json:
    """A recorded body from tests/data/deribit/."""
    doc: Json = json.loads((DATA / name).read_text())
    return doc


def obj(value: Json) -> dict[str, Json]:
    """``value`` as a JSON object (the templates are known to be ones)."""
    assert isinstance(value, dict)
    return value


def rows_of(value: Json) -> list[dict[str, Json]]:
    """``value`` as a list of JSON objects."""
    assert isinstance(value, list)
    return [obj(v) for v in value]


@cache
def _templates() -> dict[str, Json]:
    return {
        "futures": load("book_summary_future_result.json"),
        "chain": load("book_summary_option_trimmed.json"),
        "dvol": load("index_price_btcdvol.json"),
    }


def story(t: datetime) -> State:
    """The story's state at ``t`` (straight lines between the key points)."""
    points = [(datetime.fromisoformat(k).replace(tzinfo=UTC), State(*v)) for k, *v in STORY]
    if t <= points[0][0]:
        return points[0][1]
    for (t0, v0), (t1, v1) in itertools.pairwise(points):
        if t0 <= t <= t1:
            w = (t - t0) / (t1 - t0)
            return State(*(a + (b - a) * w for a, b in zip(v0, v1, strict=True)))
    return points[-1][1]


def _envelope(doc: dict[str, Json], at: datetime) -> dict[str, Json]:
    us = int(at.timestamp() * 1_000_000)
    return doc | {"usIn": us - 190, "usOut": us, "usDiff": 190}


def _ms(t: datetime) -> int:
    return int(t.timestamp() * 1000)


def futures_body(t: datetime, price: float) -> dict[str, Json]:
    """The futures book summary at ``t``: the recorded rows renamed, scaled to the story's OI."""
    now = story(t)
    rows = rows_of(copy.deepcopy(_templates()["futures"]))
    recorded = [r["open_interest"] for r in rows]
    scale = now.oi / sum(v for v in recorded if isinstance(v, int | float))
    for r, name, oi in zip(rows, FUTURE_NAMES, recorded, strict=True):
        assert isinstance(oi, int | float)
        perp = name == "BTC-PERPETUAL"
        t_years = 0.0 if perp else max(0.0, (_expiry(name.split("-")[1]) - t) / YEAR)
        mark = round(price * (1 + BASIS * t_years), 2)
        r |= {
            "instrument_name": name,
            "open_interest": round(oi * scale, -1),
            "mark_price": mark,
            "bid_price": round(mark - 2.5, 1),
            "ask_price": round(mark + 2.5, 1),
            "mid_price": mark,
            "last": round(mark, 1),
            "high": round(mark * 1.02, 1),
            "low": round(mark * 0.97, 1),
            "creation_timestamp": _ms(t),
            "estimated_delivery_price": price,
        }
        if perp:
            r["funding_8h"] = round(now.funding, 8)
    doc: dict[str, Json] = {"jsonrpc": "2.0", "result": list[Json](rows), "testnet": False}
    return _envelope(doc, t + timedelta(milliseconds=9))


def _expiry(code: str) -> datetime:
    day, month, year = int(code[:-5]), MONTHS.index(code[-5:-2]) + 1, 2000 + int(code[-2:])
    return datetime(year, month, day, 8, tzinfo=UTC)


def _code(expiry: datetime) -> str:
    return f"{expiry.day}{MONTHS[expiry.month - 1]}{expiry:%y}"


def _n(x: float) -> float:
    return 0.5 * math.erfc(-x / math.sqrt(2.0))


def _premium_btc(f: float, k: float, sigma: float, t: float, call: bool) -> float:
    """Black-76 premium of an inverse option, in BTC (USD premium / forward)."""
    sd = sigma * math.sqrt(t)
    d1 = (math.log(f / k) + 0.5 * sd * sd) / sd
    d2 = d1 - sd
    usd = f * _n(d1) - k * _n(d2) if call else k * _n(-d2) - f * _n(-d1)
    return max(usd, 0.0) / f


def smile_iv(t: datetime, f: float, k: float, t_years: float) -> float:
    """The scenario's mark IV (vol points) at strike ``k``: a term curve and a put skew."""
    _, _, a7, a90, rr7 = story(t)
    days = max(t_years * 365.0, 0.5)
    w = (math.log(days) - math.log(7)) / (math.log(90) - math.log(7))
    atm = a7 + (a90 - a7) * w
    rr = rr7 * (1 + (RR30_OF_RR7 - 1) * (math.log(days / 7) / math.log(30 / 7)))
    # 25Δ points sit near ±0.65 standard deviations of moneyness: RR ≈ skew × 1.3.
    x = math.log(k / f) / (atm / 100.0 * math.sqrt(t_years))
    iv = atm + rr / 1.3 * x + 1.2 * x * x
    return min(max(iv, 15.0), 250.0)


def _strikes(kind: str, price: float, dense: bool) -> list[int]:
    if kind == "daily":
        step, span = (500, 16) if dense else (1000, 4)
        mid = round(price / step) * step
        return [mid + i * step for i in range(-span, span + 1)]
    if kind == "weekly":
        step, span = (1000, 20) if dense else (2000, 5)
        mid = round(price / step) * step
        return [mid + i * step for i in range(-span, span + 1)]
    if kind == "monthly":
        return list(range(40_000, 100_001, 2_500 if dense else 5_000))
    return list(range(30_000, 130_001, 2_500 if dense else 10_000))


def _open_interest(t: datetime, expiry: datetime, k: int, call: bool, x: float) -> float:
    """Scenario OI in BTC: bell-shaped around the money, puts stacked at 50–60k for 27 Feb."""
    base = {"2026-02-27": 1_400.0, "2026-03-27": 900.0, "2026-06-26": 700.0}.get(
        f"{expiry:%Y-%m-%d}", 260.0
    )
    oi = base * math.exp(-0.35 * x * x) * (0.8 if call else 1.1)
    if not call and f"{expiry:%Y-%m-%d}" == "2026-02-27" and k in BAND_PUTS:
        start, end = BAND_PUTS[k]
        w = min(1.0, max(0.0, (t - datetime(2026, 2, 5, tzinfo=UTC)) / timedelta(days=2)))
        oi = start + (end - start) * w
    return 0.0 if oi < 2 else round(oi, 1)


def chain_body(t: datetime, price: float, *, dense: bool = False) -> dict[str, Json]:
    """The option book summary at ``t``: one row per listed option, each a recorded real row with
    its name, prices, IV, forward and OI set by the story. ``dense`` lists ~900 instruments on 14
    expiries (the size of a real BTC chain, for the benchmark) instead of ~170 on 8."""
    doc = obj(copy.deepcopy(_templates()["chain"]))
    real = rows_of(doc["result"])
    put_row = next(r for r in real if r["instrument_name"] == "BTC-24JUL26-56000-P")
    call_row = next(r for r in real if r["instrument_name"] == "BTC-28AUG26-48000-C")
    daily_row = next(r for r in real if r["underlying_index"] == "index_price")
    rows: list[Json] = []
    for day, kind in EXPIRIES + (MORE_EXPIRIES if dense else []):
        expiry = datetime.fromisoformat(day).replace(hour=8, tzinfo=UTC)
        if expiry <= t or (kind == "daily" and expiry - t > timedelta(days=3)):
            continue
        t_years = (expiry - t) / YEAR
        code = _code(expiry)
        daily = kind == "daily"
        f = price if daily else round(price * (1 + BASIS * t_years), 2)
        for k in _strikes(kind, price, dense):
            iv = round(smile_iv(t, f, k, t_years), 2)
            x = math.log(k / f) / (iv / 100.0 * math.sqrt(t_years))
            for call in (True, False):
                template = daily_row if daily else call_row if call else put_row
                mark = _premium_btc(f, k, iv / 100.0, t_years, call)
                bid = math.floor(mark * 0.96 / 0.0005) * 0.0005 if mark > 0.0006 else None
                ask = max(math.ceil(mark * 1.04 / 0.0005) * 0.0005, 0.0005)
                row = dict(template)
                row.update(
                    {
                        "instrument_name": f"BTC-{code}-{k}-{'C' if call else 'P'}",
                        "mark_price": round(mark, 8),
                        "mark_iv": iv,
                        "bid_price": round(bid, 4) if bid else None,
                        "ask_price": round(ask, 4),
                        "mid_price": round((bid + ask) / 2, 5) if bid else None,
                        "open_interest": _open_interest(t, expiry, k, call, x),
                        "underlying_price": f,
                        "underlying_index": "index_price" if daily else f"BTC-{code}",
                        "estimated_delivery_price": price,
                        "creation_timestamp": _ms(t),
                    }
                )
                if row.get("last") is not None:
                    row["last"] = round(max(mark, 0.0001), 4)
                rows.append(row)
    doc["result"] = rows
    return _envelope(doc, t + timedelta(milliseconds=40))


def dvol_body(t: datetime) -> dict[str, Json]:
    """The DVOL index price at ``t``: about the scenario's 30-day ATM IV."""
    _, _, a7, a90, _ = story(t)
    w = (math.log(30) - math.log(7)) / (math.log(90) - math.log(7))
    dvol = round(a7 + (a90 - a7) * w + 1.5, 2)
    doc = obj(copy.deepcopy(_templates()["dvol"]))
    doc["result"] = {"estimated_delivery_price": dvol, "index_price": dvol}
    return _envelope(doc, t + timedelta(milliseconds=60))


def demo_exchanges(t: datetime, price: float) -> list[tuple[str, str, object]]:
    """The Deribit exchanges due at ``t``: futures every 5 minutes, options every 30 minutes."""
    out: list[tuple[str, str, object]] = [
        ("deribit_futures", "futures", futures_body(t, price)),
    ]
    if (t - datetime(2026, 2, 5, tzinfo=UTC)) % CHAIN_EVERY == timedelta(0):
        out.append(("deribit_options", "chain", chain_body(t, price)))
        out.append(("deribit_options", "dvol", dvol_body(t)))
    return out
