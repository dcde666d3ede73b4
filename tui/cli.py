"""The ``btcwatch`` command. Headless commands never import Textual (the TUI is imported lazily)."""

from __future__ import annotations

import argparse
import asyncio
import io
import logging
import os
import re
import sys
from collections.abc import Sequence
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING, Final

from tui import __version__

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

    from tui.core.config import Settings
    from tui.core.headless import Outcome
    from tui.core.model import Mode

DEMO_FILE: Final = "scenario-2026-02-05.jsonl.gz"
DEMO_LABEL: Final = "DEMO · scenario 5–6 Feb 2026 · not live"
#: The demo's two days in about three minutes.
DEMO_SPEED: Final = 960.0
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$")


def _duration(text: str) -> float:
    """``90``, ``30s``, ``10m``, ``2h``, ``1d`` → seconds."""
    m = _DURATION.match(text)
    if m is None or float(m.group(1)) <= 0:
        raise argparse.ArgumentTypeError(f"expected a duration like 30s, 10m or 2h, got {text!r}")
    return float(m.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)]


def _speed(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not 0 < value <= 100_000:
        raise argparse.ArgumentTypeError(f"expected a speed from 0 to 100000, got {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (also used by the tests)."""
    p = argparse.ArgumentParser(
        prog="btcwatch",
        description="Is BTC holding $70k, or is a retest of $60k-$50k coming? A terminal monitor.",
        epilog="Config: $BTCWATCH_CONFIG or the user config dir (config.toml); "
        "history: $BTCWATCH_DATA_DIR or the user data dir.",
    )
    p.add_argument("--version", action="version", version=f"btcwatch {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    s = sub.add_parser("snapshot", help="poll every enabled source once and print the readings")
    s.add_argument("--json", action="store_true", help="print the JSON contract for scripts")
    s.add_argument(
        "--deadline", type=_duration, default=12.0, help="give up on sources after this (12s)"
    )
    c = sub.add_parser(
        "check",
        help="poll once, then print the checklist and the verdict; the exit code is the verdict",
        description="Exit codes: 0 holding, 10 contested, 11 retest risk, 3 no data, "
        "2 usage or config error.",
    )
    c.add_argument("--json", action="store_true", help="the checklist and verdict as JSON")
    c.add_argument(
        "--deadline", type=_duration, default=12.0, help="give up on sources after this (12s)"
    )
    h = sub.add_parser(
        "history",
        help="print one stored series from the history (CSV, or JSON)",
        description="ID is a reading id (btc.price, funding.oi_weighted) or a checklist row "
        "(funding, skew, leverage, flows, onchain, mining: its state, 1 bullish, 0 neutral, "
        "-1 bearish, from the time each state began). Exit codes: 0 printed, 3 no stored values, "
        "2 usage error (a bad --since, an id stored from several sources without --source).",
    )
    h.add_argument("id", metavar="ID", help="a reading id or a checklist row key")
    h.add_argument(
        "--source", help="the source of the reading (default: its only one, or consensus)"
    )
    h.add_argument("--since", help="7d, 24h, 90m or an ISO date such as 2026-02-05 (default: all)")
    h_format = h.add_mutually_exclusive_group()
    h_format.add_argument("--csv", action="store_true", help="observed_at,value rows (the default)")
    h_format.add_argument("--json", action="store_true", help="one JSON document")
    ex = sub.add_parser(
        "export",
        help="write one stored series to a .csv or .parquet file",
        description="Exit codes: 0 written, 3 no stored values, 2 usage error.",
    )
    ex.add_argument("id", metavar="ID", help="a reading id or a checklist row key")
    ex.add_argument("file", type=Path, metavar="FILE", help="where to write (.csv or .parquet)")
    ex.add_argument(
        "--source", help="the source of the reading (default: its only one, or consensus)"
    )
    ex.add_argument("--since", help="7d, 24h or an ISO date (default: all)")
    bf = sub.add_parser(
        "backfill",
        help="load each free source's daily history into the history (resumable)",
        description="Loads the daily history each free source publishes (candles, funding, DVOL, "
        "Binance OI for 30 days, the whole Farside table, mempool hashrate and rewards, Coin "
        "Metrics' on-chain proxy, macro closes), marked as backfilled, then derives the "
        "checklist's readings at each day's close; a rerun resumes and adds nothing twice. "
        "Needs the history's writer lock (close the dashboard and the recorder first). "
        "Exit codes: 0 done, 1 some series failed (listed: rerun to resume) or the history "
        "cannot be written, 2 usage.",
    )
    bf.add_argument(
        "--days",
        type=int,
        default=365,
        metavar="N",
        help="completed UTC days back from yesterday (1-3650, default 365)",
    )
    bt = sub.add_parser(
        "backtest",
        help="the checklist over stored daily history and what price did next (not advice)",
        description="Judges the checklist at each stored day's close with the live rules, then "
        "tabulates 7- and 30-day forward returns per verdict. History, not advice. Exit codes: "
        "0 printed, 3 no stored history or no day with data, 2 usage error.",
    )
    bt.add_argument(
        "--since", help="an ISO date such as 2025-01-01, or 90d (default: the first stored price)"
    )
    bt.add_argument("--until", help="an ISO date (that day is judged) or time (default: now)")
    bt.add_argument("--json", action="store_true", help="the table and every day as JSON")
    bt.add_argument(
        "--export", type=Path, metavar="FILE", help="also write the table (.csv or .parquet)"
    )
    r = sub.add_parser(
        "record",
        help="record every HTTP exchange to FILE; or, with --daemon, keep the history written",
        description="record FILE: poll live for --duration and write every HTTP exchange to FILE. "
        "record --daemon: no TUI; poll every enabled source on its schedule and write the history "
        "until SIGTERM or SIGINT (exit 0). It does not detach: run it under systemd, tmux or "
        "nohup. It logs to <data dir>/recorder.log, never to the terminal; dashboards opened "
        "meanwhile read from it instead of polling. Exit 2 if another btcwatch writes the history.",
    )
    r.add_argument("file", type=Path, nargs="?", help="JSON Lines; gzip when the name ends .gz")
    r.add_argument("--duration", type=_duration, default=600.0, help="how long (default 10m)")
    r.add_argument(
        "--daemon",
        action="store_true",
        help="no TUI: keep recording the history until stopped (see above); no FILE",
    )
    rp = sub.add_parser("replay", help="play a recording back through the same parsers")
    rp.add_argument("file", type=Path)
    rp.add_argument("--speed", type=_speed, default=60.0, help="times real time (default 60)")
    rp.add_argument("--text", action="store_true", help="print a price tape, not the dashboard")
    rp.add_argument("--json", action="store_true", help="print the final snapshot as JSON")
    d = sub.add_parser("demo", help="the dashboard on the bundled 5-6 Feb 2026 scenario (offline)")
    d.add_argument(
        "--speed", type=_speed, default=DEMO_SPEED, help="times real time (default 960: ~3 min)"
    )
    d.add_argument(
        "--text", action="store_true", help="print an hourly price tape, not the dashboard"
    )
    d.add_argument(
        "--step", type=_duration, default=3600.0, help="with --text: a line every STEP (1h)"
    )
    d.add_argument("--json", action="store_true", help="print the scenario's final snapshot")
    sub.add_parser("live", help="the dashboard on live data (the default)")
    sub.add_parser("sources", help="list the sources, their endpoints and settings")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``btcwatch`` script. Returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "record" and (args.file is None) != args.daemon:
        parser.error("record needs FILE, or --daemon (not both)")
    _quiet_logging()
    try:
        return _dispatch(args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`btcwatch snapshot --json | head`): stop quietly, as Unix tools do.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141
    except Exception as exc:
        from tui.core.errors import BtcwatchError

        if isinstance(exc, BtcwatchError):
            print(f"btcwatch: {exc}", file=sys.stderr)
            return 2
        if os.environ.get("BTCWATCH_DEBUG"):
            raise
        print(
            f"btcwatch: internal error: {type(exc).__name__}: {exc} "
            "(BTCWATCH_DEBUG=1 shows the traceback)",
            file=sys.stderr,
        )
        return 1


def _dispatch(args: argparse.Namespace) -> int:
    from tui.core import config

    settings = config.load()
    for warning in settings.warnings:
        print(f"btcwatch: warning: {warning}", file=sys.stderr)
    if args.command == "sources":
        return _sources(settings)
    if args.command == "history":
        from tui.core import history

        return history.command(
            args.id, args.source, args.since, as_json=args.json, out=sys.stdout, err=sys.stderr
        )
    if args.command == "export":
        from tui.core import export

        return export.command(
            args.id, args.source, args.since, args.file, out=sys.stdout, err=sys.stderr
        )
    if args.command == "backtest":
        from tui.core import export

        return export.backtest_command(
            args.since,
            args.until,
            as_json=args.json,
            export=args.export,
            out=sys.stdout,
            err=sys.stderr,
            settings=settings,
        )
    if args.command == "backfill":
        from tui.core.backfill.command import command as backfill

        return backfill(args.days, out=sys.stdout, err=sys.stderr, settings=settings)
    if args.command == "record" and args.daemon:
        from tui.core import recorder

        return recorder.command(settings, err=sys.stderr)
    if args.command in (None, "live"):
        return _dashboard(settings, "live")
    to_terminal = not (getattr(args, "json", False) or getattr(args, "text", False))
    if to_terminal and sys.stdout.isatty():
        # The dashboard: the headless module (and httpx with it) is not imported on this path.
        if args.command == "replay":
            label = f"REPLAY · {args.file.name} · {args.speed:g}× · not live"
            return _dashboard(settings, "replay", label, args.file, args.speed)
        if args.command == "demo":
            demo_file = files("tui.demo") / DEMO_FILE
            return _dashboard(settings, "demo", DEMO_LABEL, demo_file, args.speed, loop=True)
    return _headless(args, settings)


def _headless(args: argparse.Namespace, settings: Settings) -> int:
    from tui.core import headless

    if args.command == "snapshot":
        outcome = asyncio.run(headless.snapshot(settings, deadline_s=args.deadline))
    elif args.command == "check":
        outcome = asyncio.run(headless.snapshot(settings, deadline_s=args.deadline))
        if args.json:
            data = headless.snapshot_dict(outcome.board, outcome.notices)
            keep = ("generated_at", "mode", "btcwatch_version", "checklist", "verdict", "notices")
            print(headless.dumps({k: data[k] for k in keep}))
        else:
            print(headless.render_check(outcome.board, settings, outcome.notices))
        return headless.check_exit_code(outcome.board)
    elif args.command == "record":
        return asyncio.run(headless.record(settings, args.file, args.duration)).exit_code
    elif args.command == "replay":
        tape = None if args.json else headless.tape_printer(settings, sys.stdout)
        outcome = asyncio.run(
            headless.replay(settings, args.file, speed=args.speed, on_update=tape)
        )
    elif args.command == "demo" and args.json:
        demo = files("tui.demo") / DEMO_FILE
        outcome = asyncio.run(headless.tape(settings, demo, step_s=args.step, out=io.StringIO()))
    elif args.command == "demo":
        print(DEMO_LABEL, flush=True)
        demo = files("tui.demo") / DEMO_FILE
        outcome = asyncio.run(headless.tape(settings, demo, step_s=args.step))
        print()
        _print_board(outcome, settings, as_json=False)
        print(DEMO_LABEL)
        return outcome.exit_code
    else:
        raise AssertionError(args.command)  # argparse only gives the commands above
    _print_board(outcome, settings, as_json=getattr(args, "json", False))
    return outcome.exit_code


def _dashboard(
    settings: Settings,
    mode: Mode,
    label: str = "",
    recording: Path | Traversable | None = None,
    speed: float = 1.0,
    *,
    loop: bool = False,
) -> int:
    """Run the Textual dashboard (imported only now: headless commands never load Textual)."""
    from tui.app import BtcwatchApp, Session

    app = BtcwatchApp(Session(settings, mode, label, recording, speed, loop))
    app.run()
    return app.return_code or 0


def _print_board(outcome: Outcome, settings: Settings, *, as_json: bool) -> None:
    from tui.core import headless

    if as_json:
        print(headless.dumps(headless.snapshot_dict(outcome.board, outcome.notices)))
    else:
        print(headless.render_text(outcome.board, settings, outcome.notices))


def _sources(settings: Settings) -> int:
    from tui.core.sources import registry

    for spec in registry.ALL:
        conf = settings.source(spec.name)
        base = conf.base_url or spec.base_url
        state = "enabled" if conf.enabled else "disabled"
        every = conf.interval or spec.interval_s
        print(f"{spec.name:<16} {spec.bucket:<12} {state:<9} every {every:g}s  {base}")
        for ep in spec.endpoints:
            standby = f"  (only while {'/'.join(ep.fallback_for)} fails)" if ep.fallback_for else ""
            print(f"  {ep.key:<15} every {(ep.interval_s or every):g}s  {ep.url(base)}{standby}")
    return 0


def _quiet_logging() -> None:
    """Log warnings to a file in the data dir, never to the terminal (no tracebacks for users)."""
    root = logging.getLogger()
    if root.handlers:
        return
    if os.environ.get("BTCWATCH_DEBUG"):
        logging.basicConfig(level=logging.DEBUG)
        return
    from tui.core import paths

    try:
        paths.data_dir().mkdir(parents=True, exist_ok=True)
        handler: logging.Handler = logging.FileHandler(
            paths.data_dir() / "btcwatch.log", delay=True
        )
    except OSError:
        handler = logging.NullHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    root.setLevel(logging.WARNING)


if __name__ == "__main__":
    sys.exit(main())
