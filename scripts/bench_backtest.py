"""Time a backtest of every checklist rule over 3 years of daily history: median of several runs.

The history is synthetic but shaped like the real thing, written to an in-memory Store (the
backtest reads it through the same SQL as a file): a daily BTC close on a random walk that
crosses the $70k pivot, OI-weighted funding, the 30-day risk reversal, the OI 24 h change, ETF
net flows on weekdays only (with the outflow streak), the keyless on-chain proxy and hashprice.
Each run builds the in-memory index from the Store (one query per series) and judges every day.
Run from the repository root: ``python scripts/bench_backtest.py``. Budget (issue 10): 1 s.
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tui.core import backtest  # noqa: E402
from tui.core.config import Settings  # noqa: E402
from tui.core.model import CONSENSUS, Observation  # noqa: E402
from tui.core.rules import DEFAULT_RULES  # noqa: E402
from tui.core.store import Store  # noqa: E402

RUNS = 5
DAYS = 3 * 365
END = datetime(2026, 2, 6, tzinfo=UTC)
BUDGET_S = 1.0


def synthetic_store(days: int = DAYS, end: datetime = END, seed: int = 10) -> Store:
    """``days`` daily readings of every checklist input, stamped at each UTC close up to ``end``."""
    rnd = random.Random(seed)
    store = Store.open(None)
    obs: list[Observation] = []
    price, funding, rr, pnl, hashprice, streak = 45_000.0, 0.0, -3.0, 0.0, 40.0, 0
    for i in range(days + 40):
        at = end - timedelta(days=days + 40 - i)
        price *= 1 + rnd.gauss(0.0008, 0.03)
        funding = 0.8 * funding + rnd.gauss(0.0005, 0.004)
        rr = 0.9 * rr + rnd.gauss(-0.3, 2.0)
        pnl = 0.85 * pnl + rnd.gauss(0.0, 0.4e9)
        hashprice = max(20.0, hashprice + rnd.gauss(0.0, 1.5))
        obs += [
            Observation("btc.price", price, "USD", CONSENSUS, at),
            Observation("funding.oi_weighted", funding, "% per 8h", CONSENSUS, at),
            Observation("options.rr25.30d", rr, "vol pts", "deribit_options", at),
            Observation("oi.futures.total.chg_24h", rnd.gauss(0.0, 3.5), "%", CONSENSUS, at),
            Observation("onchain.net_realized_pnl.7d", pnl, "USD/day", "coinmetrics", at),
            Observation("mining.hashprice", hashprice, "USD/PH/s/day", "mempool", at),
        ]
        if at.weekday() < 5:  # Farside publishes trading days only
            flow = rnd.gauss(50.0, 350.0)
            streak = streak + 1 if flow < 0 else 0
            obs += [
                Observation("etf.flow.daily", flow, "USD m", "farside", at),
                Observation("etf.outflow_streak", float(streak), "days", "farside", at),
            ]
    store.write(obs)
    return store


def median_s(store: Store, runs: int = RUNS) -> tuple[float, float, int]:
    """Median wall and CPU seconds of a whole backtest (the index built from the Store each
    time), and the days judged. CPU time shows what the wall time owes to other processes on
    this shared 2-core machine."""
    settings = Settings()
    since = END - timedelta(days=DAYS)
    wall, cpu = [], []
    judged = 0
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        bt = backtest.run(store, DEFAULT_RULES, since=since, until=END, settings=settings)
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
        judged = bt.judged
    return statistics.median(wall), statistics.median(cpu), judged


def measure() -> dict[str, float]:
    """Median wall and CPU seconds of a 3-year backtest of every rule, and the days it judged."""
    store = synthetic_store()
    wall, cpu, judged = median_s(store)
    return {"backtest_3y_s": wall, "backtest_3y_cpu_s": cpu, "backtest_days": float(judged)}


def main() -> None:
    """Print the median time against the budget."""
    figures = measure()
    verdict = "ok" if figures["backtest_3y_s"] <= BUDGET_S else "OVER BUDGET"
    print(
        f"backtest: {figures['backtest_days']:.0f} days x {len(DEFAULT_RULES)} rules in "
        f"{figures['backtest_3y_s']:.3f} s median of {RUNS} "
        f"(CPU {figures['backtest_3y_cpu_s']:.3f} s; budget {BUDGET_S:.1f} s): {verdict}"
    )


if __name__ == "__main__":
    main()
