"""``btcwatch backfill --days N``: load free history into the store, with progress and a report."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Final, TextIO

import httpx

from tui.core import paths
from tui.core.backfill import MAX_DAYS, BackfillReport, Progress, SeriesResult, backfill
from tui.core.clock import Clock, SystemClock
from tui.core.config import Settings
from tui.core.errors import StoreError
from tui.core.store import Store

EXIT_OK: Final = 0
EXIT_FAILED: Final = 1
EXIT_USAGE: Final = 2


def command(
    days: int,
    *,
    out: TextIO,
    err: TextIO,
    settings: Settings,
    store_path: Path | None = None,
    clock: Clock | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    tty: bool | None = None,
) -> int:
    """Backfill ``days`` days; 0 when every series loaded, 1 when some failed (listed) or the
    history cannot be written, 2 for a bad ``days``.

    On a terminal a progress bar counts requests and rows with an ETA; otherwise one line is
    printed per series as it ends. The report (totals, failures, readings without history,
    skipped sources) goes to ``out``; problems to ``err``.
    """
    if not 1 <= days <= MAX_DAYS:
        err.write(f"btcwatch: --days must be between 1 and {MAX_DAYS}, got {days}\n")
        return EXIT_USAGE
    path = store_path if store_path is not None else paths.store_file()
    store = Store.open(path, settings.retention)
    try:
        if store.read_only or store.in_memory:
            why = store.notice or "the history is open for reading only"
            err.write(f"btcwatch: cannot backfill, {why}\n")
            return EXIT_FAILED
        use_tty = out.isatty() if tty is None else tty
        try:
            report = _run(store, settings, days, clock or SystemClock(), transport, out, use_tty)
        except StoreError as e:
            err.write(f"btcwatch: {e}\n")
            return EXIT_FAILED
    finally:
        store.close()
    write_report(report, out)
    for f in report.failures:
        err.write(f"btcwatch: {f.title} failed: {f.failure}\n")
    return EXIT_FAILED if report.failures else EXIT_OK


def _run(
    store: Store,
    settings: Settings,
    days: int,
    clock: Clock,
    transport: httpx.AsyncBaseTransport | None,
    out: TextIO,
    tty: bool,
) -> BackfillReport:
    def go(progress: Callable[[Progress], None]) -> BackfillReport:
        return asyncio.run(
            backfill(
                store, settings, days=days, clock=clock, transport=transport, progress=progress
            )
        )

    if not tty:

        def line(p: Progress) -> None:
            if p.finished is not None:
                out.write(series_line(p.finished) + "\n")
                out.flush()

        return go(line)
    # rich comes with Textual; it is imported here only, so other commands never load it.
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        TextColumn,
        TimeRemainingColumn,
    )
    from rich.progress import (
        Progress as Bar,
    )

    console = Console(file=out)
    with Bar(
        TextColumn("{task.description:<34}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("requests · +{task.fields[rows]:,} rows"),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task("planning", total=None, rows=0)

        def show(p: Progress) -> None:
            bar.update(
                task, description=p.title, completed=p.done, total=p.planned, rows=p.rows_added
            )
            if p.finished is not None:
                bar.console.print(series_line(p.finished), markup=False, highlight=False)

        return go(show)


def series_line(r: SeriesResult) -> str:
    """One series' outcome on one line."""
    span = f"{r.covered[0]}..{r.covered[1]}" if r.covered else "nothing loaded"
    text = f"{r.title}: +{r.rows_added:,} rows, {r.requests} requests, {span}"
    if r.note:
        text += f" ({r.note})"
    if r.failure:
        text += f"; FAILED: {r.failure}"
    return text


def write_report(report: BackfillReport, out: TextIO) -> None:
    """The run's totals, then failures, the derived readings (from which day each starts, and
    what limits it), readings without history and skipped sources."""
    out.write(
        f"backfill {report.days} days ({report.first}..{report.last}): "
        f"{report.requests} requests, +{report.rows_added:,} rows (marked as backfilled)\n"
    )
    if report.notice:
        out.write(f"nothing loaded: {report.notice}\n")
    if report.failures:
        out.write("failed (rerun to resume):\n")
        for f in report.failures:
            out.write(f"  {f.key}: {f.failure}\n")
    if report.derived is not None:
        d = report.derived
        out.write(f"derived at each day's close: +{d.rows_added:,} rows (marked as backfilled)\n")
        for line in d.lines():
            out.write(f"  {line}\n")
    for line in report.no_history:
        out.write(f"{line}\n")
    for name, reason in report.skipped:
        out.write(f"skipped {name}: {reason}\n")
