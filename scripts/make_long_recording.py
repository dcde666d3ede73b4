"""Write a long recording (up to 48 h) with every endpoint answered at its live interval.

Usage: ``python scripts/make_long_recording.py OUT.jsonl [--hours 24] [--cheap]``.

The bodies are the demo's (scripts/make_demo.py and scripts/demo_*.py): each starts from a real
published response in tests/data/<provider>/ and only its values change, along the demo scenario's
price path of 5-6 Feb 2026. Unlike the bundled demo, nothing is thinned: a spot ticker is answered
every 15 s, the option chain every 5 minutes, as ``btcwatch record`` would write a day of live
polling. ``--cheap`` regenerates the big bodies (chain, charts, venues, ETF page) at most every 30
minutes; the replay then serves the latest one in between, as the transport does for any gap. It is
for tests that need many hours quickly; benchmarks use the full file. Keyed sources (Glassnode)
and fallbacks (Stooq, FRED) get nothing, as in the demo. The file is big (about 100 MB for 24 h):
write it to a temporary folder, never into the repository.
"""

from __future__ import annotations

import argparse
import bisect
import copy
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Final

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

import demo_deribit  # noqa: E402
import demo_farside  # noqa: E402
import demo_macro  # noqa: E402
import demo_mining  # noqa: E402
import demo_venues  # noqa: E402
import make_demo  # noqa: E402

from tui import __version__  # noqa: E402
from tui.core.model import Exchange  # noqa: E402
from tui.core.recording import RecordingHeader, RecordingWriter  # noqa: E402
from tui.core.sources import registry  # noqa: E402
from tui.core.sources.yahoo import SYMBOLS  # noqa: E402

START: Final = make_demo.START
#: The scenario's price path ends 48 h after START.
MAX_HOURS: Final = 48.0
#: With ``cheap``, the costly bodies are made at most this often.
CHEAP_EVERY: Final = timedelta(minutes=30)
CHEAP: Final = frozenset(
    {
        ("deribit_options", "chain"),
        ("farside", "flows"),
        ("deribit_futures", "futures"),
        *((name, "*") for name in demo_venues.SOURCES),
        ("yahoo", "*"),
    }
)
LABEL: Final = "scenario 5-6 Feb 2026 at live cadence · not live"

Doc = object
Body = Callable[[datetime, float], Doc]


@dataclass(slots=True)
class _Day:
    """The consensus path of the current UTC day and of the last 24 h (for the tickers' stats)."""

    day: date
    prices: list[float]


class _Prices:
    """The scenario's consensus price at any moment: the 5-minute path, interpolated."""

    def __init__(self) -> None:
        points = make_demo.path()
        self._t = [p[0].timestamp() for p in points]
        self._v = [p[1] for p in points]
        self._past = make_demo.history()
        self._rows: dict[int, list[tuple[datetime, float, float, float, float]]] = {}

    def at(self, t: datetime) -> float:
        x = t.timestamp()
        i = min(max(bisect.bisect_right(self._t, x), 1), len(self._t) - 1)
        t0, t1, v0, v1 = self._t[i - 1], self._t[i], self._v[i - 1], self._v[i]
        return round(v0 + (v1 - v0) * min(1.0, max(0.0, (x - t0) / (t1 - t0))), 2)

    def day_rows(self, t: datetime) -> list[tuple[datetime, float, float, float, float]]:
        """Daily candles (start, open, high, low, close) up to ``t``'s forming day (5-min path)."""
        key = int(t.timestamp()) // 300
        if key not in self._rows:
            rows = list(self._past)
            d = START
            while d <= t:
                lo, hi = d.timestamp(), min(t, d + timedelta(days=1)).timestamp()
                xs = [v for tt, v in zip(self._t, self._v, strict=True) if lo <= tt <= hi]
                xs = xs or [self.at(d)]
                rows.append((d, xs[0], max(xs), min(xs), xs[-1]))
                d += timedelta(days=1)
            self._rows = {key: rows}
        return self._rows[key]


class _Spot:
    """The four spot tickers and three daily-candle bodies, as make_demo writes them."""

    def __init__(self, prices: _Prices) -> None:
        self._p = prices
        self._coinbase = make_demo.template("coinbase", "ticker.json")
        self._kraken = make_demo.template("kraken", "ticker.json")
        self._bitstamp = make_demo.template("bitstamp", "ticker_btc_usdt.json")
        env = make_demo.template("deribit", "ticker_btc_perpetual.json")
        env["result"] = make_demo.template("deribit", "index_price_result.json")
        self._deribit = env
        self._kraken_ohlc = make_demo.template("kraken", "ohlc.json")
        self._trade_id = 980_000_000

    def _day(self, t: datetime, offset: float) -> tuple[float, float, float]:
        """Open, high and low of ``t``'s UTC day so far (5-minute path) at a venue's offset."""
        midnight = t.replace(hour=0, minute=0, second=0, microsecond=0)
        rows = self._p.day_rows(t)
        o, h, lo = next((r[1], r[2], r[3]) for r in rows if r[0] == midnight)
        return o + offset, h + offset, lo + offset

    def ticker(self, venue: str) -> Body:
        offset = make_demo.OFFSETS[venue]

        def make(t: datetime, mid: float) -> Doc:
            p = round(mid + offset, 2)
            if venue == "coinbase":
                self._trade_id += 9
                stamp = t.isoformat(timespec="microseconds").replace("+00:00", "Z")
                return self._coinbase | {
                    "price": f"{p:.2f}",
                    "bid": f"{p - 0.01:.2f}",
                    "ask": f"{p + 0.01:.2f}",
                    "time": stamp,
                    "trade_id": self._trade_id,
                }
            if venue == "kraken":
                doc = copy.deepcopy(self._kraken)
                (entry,) = doc["result"].values()  # type: ignore[attr-defined]
                o, h, lo = self._day(t, offset)
                entry["c"][0] = f"{p:.5f}"
                entry["a"][0] = f"{p + 0.1:.5f}"
                entry["b"][0] = f"{p:.5f}"
                entry["o"] = f"{o:.5f}"
                entry["h"] = [f"{max(h, p):.5f}", f"{max(h, p):.5f}"]
                entry["l"] = [f"{min(lo, p):.5f}", f"{min(lo, p):.5f}"]
                entry["p"] = [f"{(o + p) / 2:.5f}", f"{(o + p) / 2:.5f}"]
                return doc
            if venue == "bitstamp":
                o, h, lo = self._day(t, offset)
                return self._bitstamp | {
                    "timestamp": str(int(t.timestamp())),
                    "open": f"{o:.0f}",
                    "high": f"{max(h, p):.0f}",
                    "low": f"{min(lo, p):.0f}",
                    "last": f"{p:.0f}",
                    "bid": f"{p - 1:.0f}",
                    "ask": f"{p + 1:.0f}",
                    "open_24": f"{o:.0f}",
                    "percent_change_24": f"{(p / o - 1) * 100:.2f}",
                }
            doc = copy.deepcopy(self._deribit)
            doc["result"] = {"estimated_delivery_price": p, "index_price": p}
            us = int(t.timestamp() * 1_000_000)
            return doc | {"usIn": us - 180, "usOut": us, "usDiff": 180}

        return make

    def candles(self, venue: str) -> Body:
        def make(t: datetime, mid: float) -> Doc:
            return make_demo.candle_doc(venue, self._p.day_rows(t), self._kraken_ohlc)

        return make


def _pick(rows: Callable[[datetime, float], list[tuple[str, str, Doc]]], key: str) -> Body:
    """One endpoint's body out of a demo module's ``demo_exchanges``-like list."""

    def make(t: datetime, mid: float) -> Doc:
        return next(doc for _, k, doc in rows(t, mid) if k == key)

    return make


def bodies(prices: _Prices) -> dict[tuple[str, str], Body]:
    """A body maker per (source, endpoint) of every keyless primary source."""
    spot = _Spot(prices)
    out: dict[tuple[str, str], Body] = {}
    for venue in make_demo.OFFSETS:
        out[(venue, "index" if venue == "deribit" else "ticker")] = spot.ticker(venue)
    for venue in ("coinbase", "kraken", "bitstamp"):
        out[(venue, "candles" if venue == "coinbase" else "ohlc")] = spot.candles(venue)
    out[("deribit_futures", "futures")] = demo_deribit.futures_body
    out[("deribit_options", "chain")] = demo_deribit.chain_body
    out[("deribit_options", "dvol")] = lambda t, mid: demo_deribit.dvol_body(t)
    out[("farside", "flows")] = lambda t, mid: demo_farside.page(t)
    out[("mempool", "difficulty")] = lambda t, mid: demo_mining.difficulty(t)
    out[("mempool", "hashrate")] = lambda t, mid: demo_mining.hashrate(t)
    out[("mempool", "rewards")] = lambda t, mid: demo_mining.rewards(t)
    out[("coinmetrics", "asset_metrics")] = lambda t, mid: demo_mining.asset_metrics(t)
    for asset in SYMBOLS:

        def chart(t: datetime, mid: float, a: str = asset) -> Doc:
            return demo_macro.chart(a, t)

        out[("yahoo", asset)] = chart
    venue_cache: dict[datetime, list[tuple[str, str, Doc]]] = {}

    def venues(t: datetime, mid: float) -> list[tuple[str, str, Doc]]:
        if t not in venue_cache:  # one call makes all three venues' bodies of that moment
            venue_cache.clear()
            venue_cache[t] = demo_venues.demo_exchanges(t, mid)
        return venue_cache[t]

    def liquidations(linear: bool) -> Body:
        # The demo draws each 5-minute window's liquidations once, keyed by the window's end: a
        # poll between two ends answers the windows up to the last one, so polls a minute apart
        # share their orders as OKX's would (a new end for every poll would make every order new).
        def make(t: datetime, mid: float) -> Doc:
            end = START + (t - START) // demo_venues.POLL * demo_venues.POLL
            return demo_venues._liquidations(end, mid, linear=linear)

        return make

    for spec in registry.ALL:
        if spec.name in demo_venues.SOURCES:
            for ep in spec.endpoints:
                out[(spec.name, ep.key)] = _pick(venues, ep.key)
    out[("okx", "liq_usdt_swap")] = liquidations(linear=True)
    out[("okx", "liq_usd_swap")] = liquidations(linear=False)
    return out


def build(out: Path, hours: float = 24.0, *, cheap: bool = False) -> int:
    """Write ``hours`` of live-cadence answers from the scenario's start to ``out``.

    Returns:
        The number of exchanges written.
    """
    if not 0 < hours <= MAX_HOURS:
        raise ValueError(f"hours must be in (0, {MAX_HOURS:g}]")
    prices = _Prices()
    makers = bodies(prices)
    # Every keyless primary endpoint, with its live interval (the endpoint's own, else its
    # source's), as the engine polls it; keyed and fallback sources are never answered.
    plan: list[tuple[str, str, str, str, timedelta]] = []
    for spec in registry.ALL:
        if spec.needs_key or spec.fallback_for:
            continue
        for ep in spec.endpoints:
            every = timedelta(seconds=ep.interval_s or spec.interval_s)
            if cheap and ({(spec.name, ep.key), (spec.name, "*")} & CHEAP):
                every = max(every, CHEAP_EVERY)
            plan.append((spec.name, ep.key, ep.url(spec.base_url), ep.format, every))
    missing = {(s, k) for s, k, *_ in plan} - set(makers)
    assert not missing, f"no body maker for {sorted(missing)}"
    header = RecordingHeader(1, START, __version__, LABEL, "demo")
    end = START + timedelta(hours=hours)
    step = timedelta(seconds=15)  # the shortest live interval: every interval is a multiple
    count = 0
    with RecordingWriter(out, header) as writer:
        t = START
        while t < end:
            mid = prices.at(t)
            n = 0
            for source, key, url, fmt, every in plan:
                if (t - START) % every:
                    continue
                n += 1
                at = t + timedelta(milliseconds=150 * n)  # one after another, as a round goes
                # A ticker carries the moment it was answered; the other makers are keyed by the
                # round's time (one call makes all three derivatives venues' bodies).
                doc = makers[(source, key)](at if key in ("ticker", "index") else t, mid)
                if fmt == "text":
                    assert isinstance(doc, str)
                    body = doc.encode()
                    kind = "text/html; charset=utf-8"
                else:
                    body = json.dumps(doc, separators=(",", ":")).encode()
                    kind = "application/json"
                writer.write(Exchange("GET", url, 200, {"content-type": kind}, body, at, 80.0))
                count += 1
            t += step
    return count


def main() -> None:
    """Write the recording named on the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--hours", type=float, default=24.0)
    parser.add_argument("--cheap", action="store_true")
    args = parser.parse_args()
    count = build(args.out, args.hours, cheap=args.cheap)
    size = args.out.stat().st_size
    print(f"wrote {count} exchanges to {args.out} ({size:,} bytes)")


if __name__ == "__main__":
    main()
