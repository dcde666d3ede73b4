"""Build the bundled demo recording: a scenario of 5-6 Feb 2026, from real published body shapes.

Run from the repository root: ``python scripts/make_demo.py``. It writes
``tui/demo/scenario-2026-02-05.jsonl.gz``, a recording (the same format ``btcwatch record`` writes)
whose header is labelled ``DEMO · scenario 5–6 Feb 2026 · not live``.

Every body starts from a real published response of that endpoint, kept in
``tests/data/<provider>/`` (provenance in each README there); only the values change. The path
follows the article (DOMAIN.md): 5 Feb opens near $73,100 and closes near $62,600; 6 Feb touches
~$60,000, rips to $71,422, fails to break it three times and slips back under $70,000. The prices
between those points, the venues' small differences and the days before 5 Feb are made up for the
scenario, which is why it is always labelled as one. Deterministic: the same script writes the
same file.
"""

from __future__ import annotations

import copy
import importlib
import itertools
import json
import random
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from tui import __version__  # noqa: E402
from tui.cli import DEMO_FILE, DEMO_LABEL  # noqa: E402
from tui.core.model import Exchange  # noqa: E402
from tui.core.recording import RecordingHeader, RecordingWriter  # noqa: E402
from tui.core.sources import registry  # noqa: E402

#: The other buckets' demo bodies (scripts/demo_*.py): each module has ``SOURCES`` and
#: ``demo_exchanges(t, price)``.
BUCKET_DEMOS = tuple(
    importlib.import_module(name)
    for name in ("demo_deribit", "demo_venues", "demo_farside", "demo_mining", "demo_macro")
)

DATA = ROOT / "tests" / "data"
OUT = ROOT / "tui" / "demo" / DEMO_FILE
START = datetime(2026, 2, 5, tzinfo=UTC)
END = START + timedelta(days=2)
STEP = timedelta(minutes=5)
CANDLE_EVERY = timedelta(minutes=30)
HIGH = 71_422.0

#: (time, consensus price) the scenario passes through; straight lines in between, plus noise.
KEY_POINTS: list[tuple[str, float]] = [
    ("2026-02-05T00:00", 73_100),
    ("2026-02-05T06:00", 72_300),
    ("2026-02-05T11:00", 70_900),
    ("2026-02-05T14:00", 68_600),  # the pivot gives way
    ("2026-02-05T17:30", 65_400),  # ~$1B of longs liquidated
    ("2026-02-05T21:00", 63_300),
    ("2026-02-06T00:00", 62_600),  # close of 5 Feb
    ("2026-02-06T03:30", 61_300),
    ("2026-02-06T07:40", 60_020),  # the low, near $60,000
    ("2026-02-06T10:00", 63_800),
    ("2026-02-06T13:00", 67_900),
    ("2026-02-06T15:00", 70_350),  # back above the pivot
    ("2026-02-06T16:00", HIGH),  # first test of the high
    ("2026-02-06T16:45", 70_650),
    ("2026-02-06T17:40", 71_330),  # second test, rejected
    ("2026-02-06T18:20", 70_560),
    ("2026-02-06T19:10", 71_360),  # third test, rejected
    ("2026-02-06T20:10", 70_280),
    ("2026-02-06T22:00", 69_760),  # slips back under $70,000
    ("2026-02-07T00:00", 69_850),
]
#: The least time between two kept answers of a non-spot endpoint (see ``put``).
THIN_DEFAULT = timedelta(minutes=30)
# The big bodies are kept no more often than the demo asks for them (the chain and the ETF page
# are fetched every ~3 simulated hours at 960x): reading the file is the demo's costliest start-up
# step, and unread answers would only cost CPU and memory.
THIN = {
    ("deribit_options", "chain"): timedelta(hours=3),
    ("farside", "flows"): timedelta(hours=3),
    ("okx", "liq_usdt_swap"): timedelta(hours=2),
    ("okx", "liq_usd_swap"): timedelta(hours=2),
    **{("yahoo", asset): timedelta(hours=2) for asset in ("spx", "ndx", "dji", "sox")},
    **{("yahoo", asset): timedelta(hours=2) for asset in ("gold", "silver", "dxy", "us10y")},
}

#: Each venue's usual small offset from the consensus, in USD.
OFFSETS = {"coinbase": 6.0, "kraken": -4.0, "bitstamp": 9.0, "deribit": 0.0}


def path() -> list[tuple[datetime, float]]:
    """The consensus price each minute."""
    rng = random.Random(20260205)
    points = [(datetime.fromisoformat(t).replace(tzinfo=UTC), p) for t, p in KEY_POINTS]
    out: list[tuple[datetime, float]] = []
    noise = 0.0
    t = START
    while t < END:
        (t0, p0), (t1, p1) = next((a, b) for a, b in itertools.pairwise(points) if a[0] <= t < b[0])
        base = p0 + (p1 - p0) * (t - t0) / (t1 - t0)
        noise = 0.8 * noise + rng.gauss(0, 18)  # a little autocorrelated chop
        price = base + noise
        # The three tests of 6 Feb's high: the first touches it, none breaks it.
        if t >= points[9][0]:
            price = HIGH if t == points[12][0] else min(price, HIGH - 25)
        out.append((t, round(price, 2)))
        t += STEP
    return out


def history() -> list[tuple[datetime, float, float, float, float]]:
    """Daily candles (start, open, high, low, close) for the 40 days before 5 Feb: scenario data."""
    rng = random.Random(2026)
    days: list[tuple[datetime, float, float, float, float]] = []
    price = 94_500.0
    for i in range(40, 0, -1):
        day = START - timedelta(days=i)
        close = 73_100.0 if i == 1 else price * (1 + rng.gauss(-0.006, 0.018))
        high = max(price, close) * (1 + abs(rng.gauss(0, 0.008)))
        low = min(price, close) * (1 - abs(rng.gauss(0, 0.008)))
        days.append((day, round(price, 2), round(high, 2), round(low, 2), round(close, 2)))
        price = close
    return days


def template(provider: str, name: str) -> dict[str, object]:
    doc = json.loads((DATA / provider / name).read_text())
    assert isinstance(doc, dict)
    return doc


def candle_doc(
    venue: str, rows: list[tuple[datetime, float, float, float, float]], kraken: dict[str, object]
) -> object:
    """Daily candles ``(day, open, high, low, close)``, oldest first, as ``venue`` publishes them
    (``kraken``: its published OHLC answer, whose rows are replaced)."""
    if venue == "coinbase":
        # Coinbase's column order: [time, low, high, open, close, volume], newest first.
        return [[int(d.timestamp()), lo, hi, o, c, 812.5] for d, o, hi, lo, c in rows[::-1]]
    if venue == "kraken":
        doc = copy.deepcopy(kraken)
        doc["result"] = {
            "XXBTZUSD": [
                [int(d.timestamp()), f"{o:.1f}", f"{hi:.1f}", f"{lo:.1f}", f"{c:.1f}",
                 f"{(hi + lo) / 2:.1f}", "1520.21", 41234]
                for d, o, hi, lo, c in rows
            ],
            "last": int(rows[-2][0].timestamp()),
        }  # fmt: skip
        return doc
    return {
        "data": {
            "pair": "BTC/USD",
            "ohlc": [
                {"timestamp": str(int(d.timestamp())), "open": f"{o:.0f}",
                 "high": f"{hi:.0f}", "low": f"{lo:.0f}", "close": f"{c:.0f}",
                 "volume": "301.50000000"}
                for d, o, hi, lo, c in rows[-30:]
            ],
        }
    }  # fmt: skip


def main(out: Path = OUT) -> None:
    """Write the demo recording to ``out``."""
    specs = {s.name: s for s in registry.ALL}
    url = {(s.name, ep.key): ep.url(s.base_url) for s in registry.ALL for ep in s.endpoints}
    price_sources = {s.name for s in registry.ALL if s.bucket == "price"}
    assert price_sources == set(OFFSETS), "a new price source needs a demo body"
    demo_sources = set(OFFSETS) | {name for m in BUCKET_DEMOS for name in m.SOURCES}
    # Keyed sources show "needs key" in the demo; fallbacks stand by while their primary answers.
    quiet = {s.name for s in registry.ALL if s.needs_key or s.fallback_for}
    assert set(specs) - quiet == demo_sources, "every keyless primary source needs demo bodies"
    formats = {(s.name, ep.key): ep.format for s in registry.ALL for ep in s.endpoints}
    coinbase_t = template("coinbase", "ticker.json")
    kraken_t = template("kraken", "ticker.json")
    bitstamp_t = template("bitstamp", "ticker_btc_usdt.json")
    deribit_env = template("deribit", "ticker_btc_perpetual.json")
    deribit_env["result"] = template("deribit", "index_price_result.json")
    kraken_ohlc_t = template("kraken", "ohlc.json")
    minutes = path()
    past = history()
    header = RecordingHeader(1, START, __version__, DEMO_LABEL, "demo")
    count = 0
    trade_id = 980_000_000
    with RecordingWriter(out, header) as writer:
        kept: dict[tuple[str, str], datetime] = {}

        def put(source: str, endpoint: str, at: datetime, doc: object) -> None:
            nonlocal count
            if source not in OFFSETS:
                # The demo polls an endpoint at most every ~48 simulated minutes (3 s real at
                # 960x): answers closer together than THIN would never be seen, only carried.
                gap = THIN.get((source, endpoint), THIN_DEFAULT)
                last = kept.get((source, endpoint))
                if last is not None and at - last < gap:
                    return
                kept[(source, endpoint)] = at
            if formats[(source, endpoint)] == "text":
                assert isinstance(doc, str)
                body = doc.encode()
                kind = "text/html; charset=utf-8" if doc.lstrip().startswith("<") else "text/csv"
            else:
                body = json.dumps(doc, separators=(",", ":")).encode()
                kind = "application/json"
            ex = Exchange(
                "GET", url[(source, endpoint)], 200, {"content-type": kind}, body, at, 80.0
            )
            writer.write(ex)
            count += 1

        for i, (t, mid) in enumerate(minutes):
            day_start = t.replace(hour=0, minute=0)
            today = [(tt, p) for tt, p in minutes[: i + 1] if tt >= day_start]
            last_24h = [p for tt, p in minutes[max(0, i - 1439) : i + 1]]
            for venue, offset in OFFSETS.items():
                p = round(mid + offset, 2)
                at = t + timedelta(milliseconds=150 * (1 + list(OFFSETS).index(venue)))
                if venue == "coinbase":
                    trade_id += 37
                    doc = dict(coinbase_t)
                    doc |= {
                        "price": f"{p:.2f}",
                        "bid": f"{p - 0.01:.2f}",
                        "ask": f"{p + 0.01:.2f}",
                        "time": at.isoformat(timespec="microseconds").replace("+00:00", "Z"),
                        "trade_id": trade_id,
                    }
                    put("coinbase", "ticker", at, doc)
                elif venue == "kraken":
                    doc = copy.deepcopy(kraken_t)
                    (entry,) = doc["result"].values()  # type: ignore[union-attr]
                    day = [pp + offset for _, pp in today]
                    day24 = [pp + offset for pp in last_24h]
                    entry["c"][0] = f"{p:.5f}"
                    entry["a"][0] = f"{p + 0.1:.5f}"
                    entry["b"][0] = f"{p:.5f}"
                    entry["o"] = f"{day[0]:.5f}"
                    entry["h"] = [f"{max(day):.5f}", f"{max(day24):.5f}"]
                    entry["l"] = [f"{min(day):.5f}", f"{min(day24):.5f}"]
                    entry["p"] = [f"{sum(day) / len(day):.5f}", f"{sum(day24) / len(day24):.5f}"]
                    put("kraken", "ticker", at, doc)
                elif venue == "bitstamp":
                    day24 = [pp + offset for pp in last_24h]
                    doc = dict(bitstamp_t)
                    doc |= {
                        "timestamp": str(int(at.timestamp())),
                        "open": f"{today[0][1] + offset:.0f}",
                        "high": f"{max(day24):.0f}",
                        "low": f"{min(day24):.0f}",
                        "last": f"{p:.0f}",
                        "bid": f"{p - 1:.0f}",
                        "ask": f"{p + 1:.0f}",
                        "open_24": f"{day24[0]:.0f}",
                        "percent_change_24": f"{(p / day24[0] - 1) * 100:.2f}",
                    }
                    put("bitstamp", "ticker", at, doc)
                else:
                    doc = copy.deepcopy(deribit_env)
                    doc["result"] = {"estimated_delivery_price": p, "index_price": p}
                    us = int(at.timestamp() * 1_000_000)
                    doc |= {"usIn": us - 180, "usOut": us, "usDiff": 180}
                    put("deribit", "index", at, doc)
            for module in BUCKET_DEMOS:
                # Each bucket's bodies, a little after the spot tickers of the same step.
                for n, (source, endpoint, doc) in enumerate(module.demo_exchanges(t, mid)):
                    put(source, endpoint, t + timedelta(seconds=1, milliseconds=50 * n), doc)
            if (t - START) % CANDLE_EVERY == timedelta(0):
                forming = [pp for _, pp in today]
                rows = [*past]
                for d in (START, START + timedelta(days=1)):
                    ps = [pp for tt, pp in minutes[: i + 1] if d <= tt < d + timedelta(days=1)]
                    if ps:
                        rows.append((d, ps[0], max(ps), min(ps), ps[-1]))
                assert forming
                at = t + timedelta(seconds=2)
                for venue, endpoint in (
                    ("coinbase", "candles"),
                    ("kraken", "ohlc"),
                    ("bitstamp", "ohlc"),
                ):
                    put(venue, endpoint, at, candle_doc(venue, rows, kraken_ohlc_t))
    print(f"wrote {count} exchanges to {out} ({out.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT)
