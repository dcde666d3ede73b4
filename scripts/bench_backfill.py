"""Time a 365-day backfill of every source against local servers: requests made and wall time.

One :class:`tests.localserver.LocalServer` per provider host (so hosts run side by side as they
do live), each scripted with the pages the planner asks for, in order, shaped like the real
bodies of tests/data (times and values generated for each day). The run writes to an in-memory
Store. Spacing between requests is what makes a real backfill slow, so it is reported apart:
``wall_s`` is the run with spacing waits skipped (the work itself), ``polite_floor_s`` the least
time the configured spacing needs on the slowest host. Run from the repository root:
``python scripts/bench_backfill.py``.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.localserver import LocalServer, Reply  # noqa: E402
from tui.core.backfill import SERIES, backfill, derived, plan, want_range  # noqa: E402
from tui.core.backfill.series import Request, Series, day_start  # noqa: E402
from tui.core.config import Settings, SourceSettings  # noqa: E402
from tui.core.sources import fred, registry, yahoo  # noqa: E402
from tui.core.store import Store  # noqa: E402

DAYS = 365
DATA = ROOT / "tests" / "data"
_DAY_MS = 86_400_000


class _NoWaitClock:
    """Wall-clock time whose sleeps return at once: measures the work, not the spacing."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(0)


def _days(req: Request) -> list[date]:
    return [req.first + timedelta(days=i) for i in range((req.last - req.first).days + 1)]


def _ts(d: date) -> int:
    return int(day_start(d).timestamp())


def _page(series: Series, req: Request) -> Reply:
    """A body for ``req`` in the provider's published shape."""
    days, key = _days(req), series.key
    rows: list[object]
    if key == "coinbase.candles":
        rows = [[_ts(d), 68000.0, 71000.0, 69000.0, 70000.0, 1.5] for d in reversed(days)]
        return Reply.json(rows)
    if key == "kraken.ohlc":
        rows = [
            [_ts(d), "69000.0", "71000.0", "68000.0", "70000.0", "69900.0", "1.5", 100]
            for d in days
        ]
        return Reply.json({"error": [], "result": {"XXBTZUSD": rows, "last": _ts(days[-1])}})
    if key == "bitstamp.ohlc":
        ohlc: list[object] = [
            {
                "timestamp": str(_ts(d)),
                "open": "69000",
                "high": "71000",
                "low": "68000",
                "close": "70000",
                "volume": "1.5",
            }
            for d in days
        ]
        return Reply.json({"data": {"pair": "BTC/USD", "ohlc": ohlc}})
    if key == "deribit_futures.funding":
        start = _ts(req.first) * 1000
        rows = [
            {
                "timestamp": start + h * 3_600_000,
                "index_price": 70000.0,
                "prev_index_price": 69990.0,
                "interest_8h": 0.0001,
                "interest_1h": 0.0000125,
            }
            for h in range(24 * len(days))
        ]
        return Reply.json({"jsonrpc": "2.0", "result": rows})
    if key == "deribit_options.dvol":
        data = [[_ts(d) * 1000, 40.0, 41.0, 39.0, 40.5] for d in days]
        return Reply.json({"jsonrpc": "2.0", "result": {"data": data, "continuation": None}})
    if key == "binance.funding":
        rows = [
            {
                "symbol": "BTCUSDT",
                "fundingTime": _ts(d) * 1000 + i * 28_800_000,
                "fundingRate": "0.00010000",
                "markPrice": "70000.0",
                "rateType": "Regular",
            }
            for d in days
            for i in range(3)
        ]
        return Reply.json(rows)
    if key == "binance.open_interest":
        rows = [
            {
                "symbol": "BTCUSDT",
                "sumOpenInterest": "100000.0",
                "sumOpenInterestValue": "7000000000.0",
                "CMCCirculatingSupply": "20070287.0",
                "timestamp": _ts(d) * 1000,
            }
            for d in days
        ]
        return Reply.json(rows)
    if key == "farside.flows":
        html = (DATA / "farside" / "all_data_2026-10-02.html").read_text()
        return Reply.text(html, content_type="text/html")
    if key == "mempool.hashrate":
        doc = {
            "hashrates": [{"timestamp": _ts(d), "avgHashrate": 9.0e20} for d in days],
            "difficulty": [
                {"timestamp": _ts(d) + 3600, "difficulty": 1.2e14, "height": 900_000}
                for d in days[::14]
            ],
            "currentHashrate": 9.0e20,
            "currentDifficulty": 1.2e14,
        }
        return Reply.json(doc)
    if key == "mempool.rewards":
        rows = [
            {"avgHeight": 900_000, "timestamp": _ts(d) + i * 28_800, "avgRewards": 316_000_000}
            for d in days
            for i in range(3)
        ]
        return Reply.json(rows)
    if key == "coinmetrics.asset_metrics":
        lead = req.first - timedelta(days=8)  # the backfill asks 8 more days (7-day means)
        cm_days = [lead + timedelta(days=i) for i in range((req.last - lead).days + 1)]
        data = [
            {
                "asset": "btc",
                "time": f"{d.isoformat()}T00:00:00.000000000Z",
                "CapMrktCurUSD": f"{1.4e12 + i * 1e9:.4f}",
                "CapMVRVCur": "2.0",
                "IssTotUSD": "40000000.0",
            }
            for i, d in enumerate(cm_days)
        ]
        return Reply.json({"data": data})
    if key.startswith("yahoo."):
        asset = key.split(".", 1)[1]
        info = yahoo.ASSETS[asset]
        level = (info.lo + info.hi) / 2
        meta = {
            "symbol": yahoo.SYMBOLS[asset],
            "regularMarketPrice": level,
            "regularMarketTime": _ts(req.last) + 72_000,
            "exchangeTimezoneName": "UTC",
            "dataGranularity": "1d",
        }
        result = {
            "meta": meta,
            "timestamp": [_ts(d) + 52_200 for d in days],
            "indicators": {"quote": [{"close": [level for _ in days]}]},
        }
        return Reply.json({"chart": {"result": [result], "error": None}})
    if key.startswith("fred."):
        series_id = fred.SERIES[key.split(".", 1)[1]]
        info = yahoo.ASSETS[key.split(".", 1)[1]]
        level = (info.lo + info.hi) / 2
        lines = [f"observation_date,{series_id}", *(f"{d},{level:.2f}" for d in days)]
        return Reply.text("\n".join(lines) + "\n", content_type="text/csv")
    raise ValueError(f"no bench body for {key}")


def _serve(now: datetime) -> tuple[list[LocalServer], Settings, dict[str, float]]:
    """Local servers scripted with every planned page; settings pointing at them; the spacing
    floor per host."""
    store = Store.open(None)
    today = now.date()
    want = want_range(today, DAYS)
    servers: dict[str, LocalServer] = {}
    routes: dict[tuple[str, str], list[Reply]] = defaultdict(list)
    floor: dict[str, float] = defaultdict(float)
    sources: dict[str, SourceSettings] = {}
    for s in SERIES:
        spec = registry.by_name(s.source)
        host = urlsplit(spec.base_url).netloc
        server = servers.get(host) or servers.setdefault(host, LocalServer().start())
        prefix = urlsplit(spec.base_url).path
        sources[s.source] = SourceSettings(base_url=server.url(prefix))
        _, pages, _ = plan(s, store, want, today)
        for req in pages:
            routes[(host, prefix + req.path)].append(_page(s, req))
            floor[host] += max(s.min_spacing_s, spec.min_spacing_s)
    for (host, path), replies in routes.items():
        servers[host].route(path, *replies)
    store.close()
    return list(servers.values()), Settings(sources=sources), dict(floor)


def measure() -> dict[str, float]:
    """One 365-day backfill of every source: requests, rows, wall time and the spacing floor."""
    clock = _NoWaitClock()
    servers, settings, floor = _serve(clock.now())
    store = Store.open(None)
    try:
        started = time.perf_counter()
        report = asyncio.run(backfill(store, settings, days=DAYS, clock=clock))
        wall = time.perf_counter() - started
        # The derive step alone, again over the same range: what every later run pays for it.
        started = time.perf_counter()
        rerun = derived.derive(store, settings, report.first, report.last)
        derive_s = time.perf_counter() - started
    finally:
        store.close()
        for server in servers:
            server.stop()
    if report.failures:
        raise RuntimeError("; ".join(f"{f.key}: {f.failure}" for f in report.failures))
    out = {
        "backfill_365d_requests": float(report.requests),
        "backfill_365d_rows": float(report.rows_added),
        "backfill_365d_wall_s": round(wall, 3),
        "backfill_365d_polite_floor_s": round(max(floor.values()), 1),
        "derive_365d_rows": float(report.derived.rows_added if report.derived else 0),
        "derive_365d_rerun_s": round(derive_s, 3),
        "derive_365d_rerun_rows": float(rerun.rows_added),
    }
    for s in report.series:
        out[f"requests.{s.key}"] = float(s.requests)
    return out


def main() -> None:
    print(json.dumps(measure(), indent=2))


if __name__ == "__main__":
    main()
