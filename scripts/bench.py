"""Benchmark btcwatch on this machine: first frame against a bare Textual app, idle CPU, RSS.

Usage: ``python scripts/bench.py [--runs 5] [--idle 30] [--json bench.json] [--quick]``

Each run starts the program in a real pseudo-terminal (100×30) and reads what it draws:
- first frame: seconds from exec until the screen shows the marker (btcwatch: the price pane's
  "pivot" line, which appears only once a price is on screen; the bare app: its footer);
- idle: after btcwatch's first frame, CPU seconds used over ``--idle`` seconds (from
  /proc/<pid>/stat) as a share of one core, and the peak resident set size (VmHWM).
The two programs alternate (A B A B ...), so a drift in the machine's speed hits both; the table
gives each figure's median and the ratio of the medians, and checks them against the budgets of
the dashboard issue: first frame <= 1.5x the bare app, idle <= 2 % of a core, RSS <= 120 MB.

Without ``--quick`` it then runs the hardening issue's figures, each from its own module (each also
runs alone: ``python scripts/bench_<name>.py``): live idle CPU with every source polling a local
server and the requests of a full refresh (bench_live), the 30-day chart query and RSS on 30 days
of history (bench_store), a 24 h replay through the whole engine (bench_replay), a 365-day
backfill (bench_backfill) and a 3-year backtest (bench_backtest). About ten minutes in all.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import select
import shutil
import signal
import statistics
import struct
import sys
import tempfile
import time
from pathlib import Path

BARE_APP = """
from textual.app import App
from textual.widgets import Footer, Header


class Bare(App[None]):
    def compose(self):
        yield Header()
        yield Footer()


Bare().run()
"""
sys.path.insert(0, str(Path(__file__).resolve().parent))
bench_options = importlib.import_module("bench_options")

BUDGET_FIRST_FRAME_RATIO = 1.5
BUDGET_IDLE_PCT = 2.0
BUDGET_RSS_MB = 120.0
#: Issue 5: the options analytics on a ~900-instrument chain, median.
BUDGET_OPTIONS_MS = 20.0
SIZE = (30, 100)  # rows, columns


def spawn(argv: list[str], env: dict[str, str]) -> tuple[int, int]:
    """Start ``argv`` on a new pseudo-terminal; return (pid, master fd)."""
    import fcntl
    import pty
    import termios

    pid, fd = pty.fork()
    if pid == 0:  # the child
        os.execvpe(argv[0], argv, env)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", SIZE[0], SIZE[1], 0, 0))
    return pid, fd


def wait_for(fd: int, marker: bytes, timeout: float) -> bool:
    """Read the terminal until ``marker`` shows (True) or ``timeout`` passes (False)."""
    seen = b""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        ready, _, _ = select.select([fd], [], [], 0.05)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                return False
            seen = (seen + chunk)[-65536:]
            if marker in seen:
                return True
    return False


def drain(fd: int, seconds: float) -> None:
    """Keep reading (a terminal that is not read would block the app) for ``seconds``."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                os.read(fd, 65536)
            except OSError:
                return


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of ``pid`` so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def peak_rss_mb(pid: int) -> float:
    """Peak resident set size of ``pid`` in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def stop(pid: int, fd: int) -> None:
    """End the program and reap it."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            break
        drain(fd, 0.3)
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done:
            break
    os.close(fd)


def run_once(
    argv: list[str], marker: bytes, env: dict[str, str], idle_s: float, settle_s: float = 1.0
) -> dict[str, float]:
    """One run: first-frame seconds and, when ``idle_s`` > 0, idle CPU share and peak RSS."""
    start = time.monotonic()
    pid, fd = spawn(argv, env)
    try:
        if not wait_for(fd, marker, timeout=30):
            raise SystemExit(f"{argv} never drew {marker!r}")
        result = {"first_frame_s": time.monotonic() - start}
        if idle_s > 0:
            drain(fd, settle_s)  # the window starts this long after the first frame
            before, t0 = cpu_seconds(pid), time.monotonic()
            drain(fd, idle_s)
            used, elapsed = cpu_seconds(pid) - before, time.monotonic() - t0
            result["idle_cpu_pct"] = used / elapsed * 100
            result["rss_mb"] = peak_rss_mb(pid)
        return result
    finally:
        stop(pid, fd)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--idle", type=float, default=30.0, help="idle window in seconds")
    parser.add_argument(
        "--settle", type=float, default=1.0, help="seconds after the first frame before it"
    )
    parser.add_argument("--json", type=Path, default=Path("bench.json"))
    parser.add_argument(
        "--quick",
        action="store_true",
        help="start-up, demo idle and options only (skips live, store, replay, backfill, backtest)",
    )
    args = parser.parse_args()
    btcwatch = shutil.which("btcwatch", path=str(Path(sys.executable).parent)) or "btcwatch"
    with tempfile.TemporaryDirectory() as home:
        env = {
            **os.environ,
            "TERM": "xterm-256color",
            "BTCWATCH_DATA_DIR": home,
            "TEXTUAL_ANIMATIONS": "none",
        }
        # An installed btcwatch runs from compiled bytecode, as the bare app's Textual does; with
        # PYTHONDONTWRITEBYTECODE set (as on this machine) every start would compile our sources.
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        bare = Path(home) / "bare_app.py"
        bare.write_text(BARE_APP)
        # One unmeasured start each writes the bytecode caches.
        run_once([btcwatch, "demo"], b"pivot", env, 0.0, 0.0)
        run_once([sys.executable, str(bare)], b"palette", env, 0.0, 0.0)
        runs: dict[str, list[dict[str, float]]] = {"btcwatch": [], "bare": []}
        for i in range(args.runs):
            idle = args.idle if i == 0 else 0.0  # idle and RSS once: they are slow and steady
            runs["btcwatch"].append(run_once([btcwatch, "demo"], b"pivot", env, idle, args.settle))
            runs["bare"].append(run_once([sys.executable, str(bare)], b"palette", env, 0.0))
            print(f"run {i + 1}/{args.runs}: "
                  f"btcwatch {runs['btcwatch'][-1]['first_frame_s']:.3f}s, "
                  f"bare {runs['bare'][-1]['first_frame_s']:.3f}s", file=sys.stderr)  # fmt: skip
    med = {k: statistics.median(r["first_frame_s"] for r in v) for k, v in runs.items()}
    chain = bench_options.measure()
    first = runs["btcwatch"][0]
    ratio = med["btcwatch"] / med["bare"]
    rows = [
        ("first frame, btcwatch demo (s)", f"{med['btcwatch']:.3f}", ""),
        ("first frame, bare Textual app (s)", f"{med['bare']:.3f}", ""),
        ("ratio", f"{ratio:.2f}x", f"<= {BUDGET_FIRST_FRAME_RATIO}x"),
        (f"idle CPU over {args.idle:g}s (% of a core)", f"{first['idle_cpu_pct']:.2f}",
         f"<= {BUDGET_IDLE_PCT}"),
        ("peak RSS (MB)", f"{first['rss_mb']:.1f}", f"<= {BUDGET_RSS_MB:g}"),
        (f"options analytics, {chain['instruments']:.0f}-instrument chain (ms)",
         f"{chain['analyze_ms']:.2f}", f"<= {BUDGET_OPTIONS_MS:g}"),
        ("option chain parse + analytics + readings (ms)", f"{chain['parse_ms']:.2f}", ""),
    ]  # fmt: skip
    met = (
        ratio <= BUDGET_FIRST_FRAME_RATIO
        and first["idle_cpu_pct"] <= BUDGET_IDLE_PCT
        and first["rss_mb"] <= BUDGET_RSS_MB
        and chain["analyze_ms"] <= BUDGET_OPTIONS_MS
    )
    report: dict[str, object] = {
        "runs": runs,
        "median_first_frame_s": med,
        "ratio": ratio,
        "options": chain,
    }
    if not args.quick:
        # The hardening issue's figures (each module also runs on its own).
        import bench_backfill
        import bench_backtest
        import bench_live
        import bench_replay
        import bench_store

        print("live, store, replay, backfill and backtest: a few minutes...", file=sys.stderr)
        live = bench_live.measure(seconds=60.0)
        store = bench_store.measure()
        replay = bench_replay.measure(hours=24.0)
        backfill = bench_backfill.measure()
        backtest = bench_backtest.measure()
        rows += [
            ("idle CPU, live, every source polling, 60 s (% of a core)",
             f"{live['live_idle_pct']:.2f}", f"<= {bench_live.BUDGET_IDLE_PCT:g}"),
            ("HTTP requests per full refresh", f"{live['requests_per_refresh']:.0f}",
             f"<= {bench_live.BUDGET_REQUESTS}"),
            ("peak RSS, live, 30 days of history (MB)", f"{store['rss_30d_mb']:.1f}",
             f"<= {bench_store.BUDGET_RSS_MB:g}"),
            ("30-day chart, 90 d x 60 ids of 1-min history (ms)",
             f"{store['chart_query_ms']:.1f}", f"<= {bench_store.BUDGET_CHART_MS:g}"),
            ("replay of 24 h of exchanges (x real time)", f"{replay['replay_speed_x']:.0f}",
             f">= {bench_replay.BUDGET_SPEED_X:g}"),
            ("backfill, 365 days, every source: requests",
             f"{backfill['backfill_365d_requests']:.0f}", ""),
            ("backfill, 365 days: wall s (no spacing waits)",
             f"{backfill['backfill_365d_wall_s']:.2f}", ""),
            ("backtest, 3 years, every rule (s)", f"{backtest['backtest_3y_s']:.2f}", "<= 1"),
        ]  # fmt: skip
        met = met and (
            live["live_idle_pct"] <= bench_live.BUDGET_IDLE_PCT
            and live["requests_per_refresh"] <= bench_live.BUDGET_REQUESTS
            and store["rss_30d_mb"] <= bench_store.BUDGET_RSS_MB
            and store["chart_query_ms"] <= bench_store.BUDGET_CHART_MS
            and replay["replay_speed_x"] >= bench_replay.BUDGET_SPEED_X
            and backtest["backtest_3y_s"] <= 1.0
        )
        report |= {
            "live": live,
            "store": store,
            "replay": replay,
            "backfill": backfill,
            "backtest": backtest,
        }
    report["met"] = met
    width = max(len(r[0]) for r in rows)
    print(f"{'figure':<{width}}  {'median':>8}  budget")
    for name, value, budget in rows:
        print(f"{name:<{width}}  {value:>8}  {budget}")
    args.json.write_text(json.dumps(report, indent=2))
    print(f"budgets {'met' if met else 'NOT met'}; details in {args.json}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
