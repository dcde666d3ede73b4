"""Time the options analytics on a full-size BTC chain (~900 instruments): median of 50 runs.

The chain is built from the real recorded option book summary in tests/data/deribit/ (every row is
one of its real rows with name and values changed, see scripts/demo_deribit.py). Run from the
repository root: ``python scripts/bench_options.py``. The budget (issue 5) is 20 ms median for
the analytics; the figure printed first is the whole parser (rows read, analysed, readings made).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

import benchlib  # noqa: E402
from demo_deribit import chain_body  # noqa: E402

from tui.core.analytics import options  # noqa: E402
from tui.core.sources import deribit  # noqa: E402

RUNS = 50
AT = datetime(2026, 2, 5, 12, 0, tzinfo=UTC)
PRICE = 70_900.0


def median_ms(fn: Callable[[], object], runs: int = RUNS) -> float:
    """Median wall time of ``fn`` in ms, over this module's count of runs (benchlib)."""
    return benchlib.median_ms(fn, runs)


def measure() -> dict[str, float]:
    """Median times (ms) of the parser, the analytics alone and the chain-table view."""
    body = chain_body(AT, PRICE, dense=True)
    quotes, _ = deribit.read_chain(body)
    return {
        "instruments": float(len(quotes)),
        "parse_ms": median_ms(lambda: deribit.parse_chain(body, AT)),
        "analyze_ms": median_ms(lambda: options.analyze(quotes, AT)),
        "chain_table_ms": median_ms(lambda: options.chain_table(quotes, AT)),
    }


def main() -> None:
    """Print the median times of the parser, the analytics alone and the chain-table view."""
    body = chain_body(AT, PRICE, dense=True)
    start = time.perf_counter()
    deribit.parse_chain(body, AT)  # names not yet in parse_instrument's cache
    cold = (time.perf_counter() - start) * 1000.0
    quotes, skipped = deribit.read_chain(body)
    assert not skipped
    rows = len(quotes)
    expiries = len({q.expiry for q in quotes})
    parse = median_ms(lambda: deribit.parse_chain(body, AT))
    analyze = median_ms(lambda: options.analyze(quotes, AT))
    table = median_ms(lambda: options.chain_table(quotes, AT))
    print(f"chain: {rows} instruments, {expiries} expiries; median of {RUNS} runs")
    print(f"parse_chain (read + analyze + readings): {parse:.2f} ms (first call {cold:.2f} ms)")
    print(f"analyze: {analyze:.2f} ms")
    print(f"chain_table: {table:.2f} ms")


if __name__ == "__main__":
    main()
