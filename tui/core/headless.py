"""Headless commands on top of the Engine: ``snapshot``, ``record``, ``replay`` and the text demo.

Exit codes: 0 when at least one source answered, 3 when none did, 2 for usage or config errors.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Final, TextIO

from tui import __version__
from tui.core import paths
from tui.core.clock import ReplayClock, SystemClock
from tui.core.config import Settings
from tui.core.engine import Engine
from tui.core.model import (
    CONSENSUS,
    Board,
    Mode,
    Observation,
    Reading,
    RowState,
    SourceStatus,
    Status,
    Update,
    format_age,
)
from tui.core.store import Store
from tui.core.views import price_view

EXIT_OK: Final = 0
EXIT_USAGE: Final = 2
EXIT_NO_SOURCE: Final = 3

#: Glyphs that say a status without colour (NO_COLOR, low-colour SSH).
GLYPHS: Final = {
    Status.OK: "●",
    Status.PENDING: "◌",
    Status.DISABLED: "·",
    Status.RATE_LIMITED: "▲",
    Status.NEEDS_KEY: "○",
    Status.STALE: "◐",
}


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a headless command produced: the final board and its exit code."""

    board: Board
    exit_code: int
    notices: tuple[str, ...] = ()


def exit_code(board: Board) -> int:
    """0 when any real source answered this run, else 3."""
    answered = any(s.status is Status.OK for name, s in board.statuses.items() if name != CONSENSUS)
    return EXIT_OK if answered else EXIT_NO_SOURCE


def _iso(t: datetime | None) -> str | None:
    return None if t is None else t.astimezone(UTC).isoformat(timespec="milliseconds")


def snapshot_dict(board: Board, notices: tuple[str, ...] = ()) -> dict[str, object]:
    """The ``snapshot --json`` contract (scripts depend on it: extend it, never break it)."""
    return {
        "generated_at": _iso(board.generated_at),
        "mode": board.mode,
        "btcwatch_version": __version__,
        "readings": [
            {
                "id": r.id,
                "value": r.observation.value,
                "unit": r.observation.unit,
                "source": r.observation.source,
                "observed_at": _iso(r.observation.observed_at),
                "age_s": round(r.age_s, 3),
                "stale": r.stale,
            }
            for r in board.readings()
        ],
        "sources": [
            {
                "name": s.name,
                "status": s.status.value,
                "detail": s.detail,
                "last_ok_at": _iso(s.last_ok_at),
            }
            for s in sorted(board.statuses.values(), key=lambda s: (s.name == CONSENSUS, s.name))
        ],
        "checklist": checklist_list(board),
        "verdict": verdict_dict(board),
        "notices": list(notices),
    }


def checklist_list(board: Board) -> list[dict[str, object]]:
    """The ``checklist`` field of the contract: one object per row, in DOMAIN.md's order."""
    return [
        {
            "row": r.key,
            "title": r.title,
            "state": r.state.value,
            "reason": r.reason,
            "since": _iso(r.since),
            "key_reading": r.key_reading,
            "readings": [_reading_dict(o) for o in r.readings],
        }
        for r in board.checklist
    ]


def _reading_dict(o: Observation) -> dict[str, object]:
    return {
        "id": o.id,
        "source": o.source,
        "value": o.value,
        "unit": o.unit,
        "observed_at": _iso(o.observed_at),
    }


def verdict_dict(board: Board) -> dict[str, object] | None:
    """The ``verdict`` field of the contract (``None`` before the first evaluation)."""
    v = board.verdict
    if v is None:
        return None

    def conds(items: tuple[tuple[str, bool | None], ...]) -> list[dict[str, object]]:
        return [{"condition": name, "holds": ok} for name, ok in items]

    return {
        "call": v.call,
        "since": _iso(v.since),
        "position": v.position,
        "holding": {"count": v.holding_count, "of": len(v.holding), "conditions": conds(v.holding)},
        "retest": {"count": v.retest_count, "of": len(v.retest), "conditions": conds(v.retest)},
        "next_test_needs": conds(v.steps),
    }


#: ``btcwatch check`` exit codes, by the verdict's call (README: "Exit codes").
CHECK_EXIT: Final[dict[str, int]] = {
    "holding": 0,
    "contested": 10,
    "retest risk": 11,
    "no data": EXIT_NO_SOURCE,
}

_STATE_GLYPH: Final = {
    RowState.BULLISH: "▲",
    RowState.BEARISH: "▼",
    RowState.NEUTRAL: "●",
    RowState.WAITING: "◌",
    RowState.STALE: "◐",
}


def check_exit_code(board: Board) -> int:
    """0 holding, 10 contested, 11 retest risk, 3 no data (no source answered or no verdict)."""
    if exit_code(board) != EXIT_OK or board.verdict is None:
        return EXIT_NO_SOURCE
    return CHECK_EXIT[board.verdict.call]


def render_check(board: Board, settings: Settings, notices: tuple[str, ...] = ()) -> str:
    """The checklist and the verdict for people (``btcwatch check`` without ``--json``)."""
    lines = [f"btcwatch {__version__} · {board.mode} · {board.generated_at:%Y-%m-%d %H:%M:%S} UTC"]
    lines.extend(f"! {n}" for n in notices)
    v = board.verdict
    if v is None:
        lines.append("verdict: not judged (no data)")
    else:
        since = ""
        if v.since is not None and v.call != "no data":  # "no data since" says nothing
            since = f" since {v.since:%d %b %H:%M} UTC"
        lines.append(f"verdict: {v.call.upper()}{since} · {v.position}")
        counts = f"holding {v.holding_count}/{len(v.holding)}"
        lines.append(f"  {counts} · retest {v.retest_count}/{len(v.retest)}")
        for title, items in (("holding $70k needs", v.holding), ("retest likely while", v.retest)):
            lines.append(f"  {title}: " + ", ".join(f"{_tick(ok)} {n}" for n, ok in items))
        lines.append(
            "  next test needs, in order: " + " → ".join(f"{_tick(ok)} {n}" for n, ok in v.steps)
        )
    lines.append("")
    width = max((len(r.title) for r in board.checklist), default=0)
    for r in board.checklist:
        since = "" if r.since is None else f" (since {r.since:%d %b %H:%M})"
        lines.append(
            f"{_STATE_GLYPH[r.state]} {r.title:<{width}}  {r.state.value}{since}  {r.key_reading}"
        )
        lines.append(f"  {' ' * width}{r.reason}")
    return "\n".join(lines)


def _tick(ok: bool | None) -> str:
    return "✓" if ok else "?" if ok is None else "✗"


def render_text(board: Board, settings: Settings, notices: tuple[str, ...] = ()) -> str:
    """A compact, readable table of the board for people (``snapshot`` without ``--json``)."""
    lines = [f"btcwatch {__version__} · {board.mode} · {board.generated_at:%Y-%m-%d %H:%M:%S} UTC"]
    lines.extend(f"! {n}" for n in notices)
    lines.append(headline(board, settings))
    lines.append("")
    rows = [
        (r.id, f"{r.observation.value:,.2f} {r.observation.unit}", r.observation.source, _age(r))
        for r in board.readings()
    ]
    if rows:
        widths = [max(len(row[i]) for row in rows) for i in range(3)]
        for row in rows:
            lines.append(
                f"{row[0]:<{widths[0]}}  {row[1]:>{widths[1]}}  {row[2]:<{widths[2]}}  {row[3]}"
            )
    else:
        lines.append("no readings: every source is missing (see below)")
    lines.append("")
    for s in sorted(board.statuses.values(), key=lambda s: (s.name == CONSENSUS, s.name)):
        lines.append(f"{GLYPHS.get(s.status, '✕')} {s.name:<10} {_status_text(s, board)}")
    return "\n".join(lines)


def headline(board: Board, settings: Settings) -> str:
    """``BTC $68,412 ▼ 2.27% below the $70,000 pivot`` or why there is no price."""
    v = price_view(board, settings)
    if v.price is None or v.distance_pct is None:
        return f"BTC  price missing: {v.missing}"
    arrow, side = ("▲", "above") if v.distance_pct >= 0 else ("▼", "below")
    band = v.absorption
    stale = f" · stale {format_age(v.age_s or 0)}" if v.stale else ""
    return (
        f"BTC  ${v.price:,.0f}  {arrow} {abs(v.distance_pct):.2f}% {side} the ${v.pivot:,.0f} pivot"
        f" · {v.absorption_position} the ${band.low:,.0f}–${band.high:,.0f} band{stale}"
    )


def _age(r: Reading) -> str:
    return f"stale {format_age(r.age_s)}" if r.stale else format_age(r.age_s)


def _status_text(s: SourceStatus, board: Board) -> str:
    if s.status is Status.OK:
        age = (
            ""
            if s.last_ok_at is None
            else format_age((board.generated_at - s.last_ok_at).total_seconds())
        )
        return f"ok {age}".strip() + (f" · {s.detail}" if s.detail else "")
    last = (
        ""
        if s.last_ok_at is None
        else f" (last ok {format_age((board.generated_at - s.last_ok_at).total_seconds())} ago)"
    )
    return (s.detail or s.status.value) + last


async def snapshot(settings: Settings, *, deadline_s: float = 12.0) -> Outcome:
    """Poll every enabled source once, on top of the cached readings in the store."""
    store = Store.open(paths.store_file(), settings.retention)
    notices = tuple(n for n in (*settings.warnings, store.notice) if n)
    engine = Engine(settings, SystemClock(), store, mode="live")
    try:
        await asyncio.to_thread(engine.load_cached)
        board = await engine.poll_once(deadline_s=deadline_s)
    finally:
        await engine.aclose()
        store.close()
    return Outcome(board, exit_code(board), notices)


async def record(
    settings: Settings, path: Path, duration_s: float, *, out: TextIO = sys.stderr
) -> Outcome:
    """Poll live for ``duration_s``, writing every exchange to ``path`` (JSON Lines, gz by name)."""
    import httpx

    from tui.core.recording import RecordingHeader, RecordingWriter
    from tui.core.replay import RecordingTransport

    clock = SystemClock()
    header = RecordingHeader(1, clock.now(), __version__, "", "live")
    store = Store.open(paths.store_file(), settings.retention)
    count = 0

    def tick(update: Update) -> None:
        nonlocal count
        count += 1

    with RecordingWriter(path, header) as writer:
        transport = RecordingTransport(httpx.AsyncHTTPTransport(), writer, clock)
        engine = Engine(settings, clock, store, transport=transport)
        print(f"recording to {path} for {format_age(duration_s)} (Ctrl-C stops early)", file=out)
        try:
            await _run_for(engine, tick, lambda: False, duration_s)
        finally:
            store.close()
    print(f"{count} fetches recorded in {path}", file=out)
    return Outcome(engine.board, exit_code(engine.board))


async def replay(
    settings: Settings,
    path: Path | Traversable,
    *,
    speed: float,
    mode: Mode = "replay",
    on_update: Callable[[Update], None] | None = None,
) -> Outcome:
    """Play a recording through the same engine, parsers and rules, with an in-memory store."""
    from tui.core.recording import read_recording
    from tui.core.replay import ReplayTransport

    recording = read_recording(path)
    clock = ReplayClock(recording.start, speed)
    transport = ReplayTransport(recording, clock)
    store = Store.open(None, settings.retention)
    engine = Engine(settings, clock, store, transport=transport, mode=mode)
    try:
        await _run_for(engine, on_update or (lambda u: None), lambda: transport.finished, None)
    finally:
        store.close()
    return Outcome(engine.board, exit_code(engine.board))


async def _run_for(
    engine: Engine,
    publish: Callable[[Update], None],
    finished: Callable[[], bool],
    duration_s: float | None,
) -> None:
    """Run the engine until ``finished()`` or ``duration_s`` of real time or Ctrl-C."""
    task = asyncio.create_task(engine.run(publish))
    loop = asyncio.get_running_loop()
    start = loop.time()
    try:
        while not task.done() and not finished():
            if duration_s is not None and loop.time() - start >= duration_s:
                break
            await asyncio.sleep(0.05)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def tape(
    settings: Settings,
    path: Path | Traversable,
    *,
    step_s: float,
    mode: Mode = "demo",
    out: TextIO = sys.stdout,
) -> Outcome:
    """Step through a recording: at every ``step_s`` of recorded time, poll once and print a line.

    Deterministic and quick whatever the recording's length: the clock jumps from step to step and
    each step is one ``poll_once`` (the text demo until the dashboard lands).
    """
    from tui.core.recording import read_recording
    from tui.core.replay import ReplayTransport

    recording = read_recording(path)
    clock = ReplayClock(recording.start, speed=1.0)
    store = Store.open(None, settings.retention)
    engine = Engine(settings, clock, store, transport=ReplayTransport(recording, clock), mode=mode)
    # Each step lands a few seconds past its mark, so the answers recorded at the mark are served.
    lead = timedelta(seconds=5)
    marks = []
    at = recording.start
    while at + lead < recording.end:
        marks.append(at + lead)
        at += timedelta(seconds=step_s)
    marks.append(recording.end)
    try:
        for at in marks:
            clock.skip_to(at)
            board = await engine.poll_once()
            print(tape_line(board, settings), file=out, flush=True)
    finally:
        await engine.aclose()
        store.close()
    return Outcome(engine.board, exit_code(engine.board))


def tape_line(board: Board, settings: Settings) -> str:
    """``06 Feb 16:00 UTC  $71,422  ▲ +2.03% vs pivot · day 60,016–71,422 · above the band``."""
    when = f"{board.generated_at:%d %b %H:%M} UTC"
    v = price_view(board, settings)
    if v.price is None or v.distance_pct is None:
        return f"{when}  price missing: {v.missing}"
    arrow = "▲" if v.distance_pct >= 0 else "▼"
    day = (
        ""
        if v.day_low is None or v.day_high is None
        else f" · day {v.day_low:,.0f}–{v.day_high:,.0f}"
    )
    return (
        f"{when}  ${v.price:>7,.0f}  {arrow} {v.distance_pct:+.2f}% vs pivot{day}"
        f" · {v.absorption_position} the band"
    )


def tape_printer(settings: Settings, out: TextIO) -> Callable[[Update], None]:
    """An ``on_update`` printing a :func:`tape_line` each time the consensus price changes."""
    last: list[float] = []

    def on_update(update: Update) -> None:
        r = update.board.reading("btc.price", CONSENSUS)
        if r is None or (last and last[-1] == r.observation.value):
            return
        last[:] = [r.observation.value]
        print(tape_line(update.board, settings), file=out, flush=True)

    return on_update


def dumps(data: dict[str, object]) -> str:
    """JSON for scripts: stable key order as built, UTF-8 kept."""
    return json.dumps(data, ensure_ascii=False, indent=2)
