"""Exports of any stored series or the backtest table (CSV or Parquet), and their commands.

The format follows the file's suffix: ``.csv`` is written with the csv module (no pandas);
``.parquet`` goes through pandas, imported on use (DESIGN.md: ~0.4 s), and needs pyarrow or
fastparquet, which btcwatch does not install by itself. ``btcwatch backtest`` and ``btcwatch
export`` are here too, in the style of :func:`tui.core.history.command`: ``(…, out, err) -> int``.
"""

from __future__ import annotations

import csv
import importlib.util
import io
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Final, Literal, TextIO

from tui.core import backtest, paths
from tui.core.backtest import HORIZONS, Backtest, DailyIndex
from tui.core.config import Settings
from tui.core.errors import BtcwatchError
from tui.core.history import AmbiguousId, known_ids, parse_since, resolve
from tui.core.model import CONSENSUS
from tui.core.rules import configured
from tui.core.store import Store

Format = Literal["csv", "parquet"]
Cell = str | int | float | datetime | None
Kind = Literal["text", "int", "float", "time"]

PARQUET_MISSING: Final = "parquet needs pyarrow: pip install 'btcwatch[parquet]'"
LEFT_OUT: Final = "left out (no data at the time)"
EXIT_OK: Final = 0
EXIT_USAGE: Final = 2
EXIT_NO_DATA: Final = 3

_DATE: Final = re.compile(r"^\s*\d{4}-\d{2}-\d{2}\s*$")


@dataclass(frozen=True, slots=True)
class Frame:
    """Columns of one kind each, and rows: what both writers take."""

    columns: tuple[tuple[str, Kind], ...]
    rows: tuple[tuple[Cell, ...], ...]


def file_format(path: Path) -> Format:
    """``csv`` or ``parquet``, by ``path``'s suffix.

    Raises:
        BtcwatchError: any other suffix (one line, for the user).
    """
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return "csv"
    if suffix == ".parquet":
        return "parquet"
    raise BtcwatchError(f"export: {path.name}: name the file .csv or .parquet")


def series_frame(points: Sequence[tuple[datetime, float]]) -> Frame:
    """``observed_at,value``: one row per stored reading."""
    return Frame((("observed_at", "time"), ("value", "float")), tuple(points))


def table_frame(bt: Backtest) -> Frame:
    """One row per call (and all judged days), then the days left out.

    Returns are fractions (``-0.05`` is -5 %); ``share_negative`` is 0..1; ``no_price`` counts
    the days without a price N days later.
    """
    columns: list[tuple[str, Kind]] = [("state", "text"), ("days", "int")]
    for h in HORIZONS:
        columns += [
            (f"fwd{h}_count", "int"),
            (f"fwd{h}_median", "float"),
            (f"fwd{h}_share_negative", "float"),
            (f"fwd{h}_worst", "float"),
            (f"fwd{h}_no_price", "int"),
        ]
    rows: list[tuple[Cell, ...]] = []
    for s in bt.table:
        row: list[Cell] = [s.state, s.days]
        for f in s.forward:
            row += [f.count, f.median, f.share_negative, f.worst, f.no_price]
        rows.append(tuple(row))
    rows.append((LEFT_OUT, bt.left_out, *([None] * (len(columns) - 2))))
    return Frame(tuple(columns), tuple(rows))


def csv_text(frame: Frame) -> str:
    """The frame as CSV: ISO 8601 UTC times, floats as stored (``repr``), empty when unknown."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(name for name, _ in frame.columns)
    writer.writerows(tuple(_cell(c) for c in row) for row in frame.rows)
    return buf.getvalue()


def _cell(c: Cell) -> str:
    if c is None:
        return ""
    if isinstance(c, datetime):
        return c.astimezone(UTC).isoformat(timespec="milliseconds")
    if isinstance(c, float):
        return repr(c)
    return str(c)


def write(frame: Frame, path: Path) -> Path:
    """Write ``frame`` to ``path`` as its suffix says; returns ``path``.

    Raises:
        BtcwatchError: a suffix other than .csv or .parquet, or Parquet without pyarrow.
        OSError: the file cannot be written.
    """
    if file_format(path) == "csv":
        path.write_text(csv_text(frame), encoding="utf-8")
        return path
    if not any(importlib.util.find_spec(m) for m in ("pyarrow", "fastparquet")):
        raise BtcwatchError(PARQUET_MISSING)
    import pandas as pd  # ~0.4 s: only on this path

    dtypes = {"text": "string", "int": "Int64", "float": "Float64"}
    data = {}
    for i, (name, kind) in enumerate(frame.columns):
        values = [row[i] for row in frame.rows]
        if kind == "time":
            data[name] = pd.to_datetime(pd.Series(values, dtype="object"), utc=True)
        else:
            data[name] = pd.Series(values, dtype=dtypes[kind])
    pd.DataFrame(data).to_parquet(path, index=False)
    return path


def export_series(points: Sequence[tuple[datetime, float]], path: Path) -> Path:
    """Write one series (``observed_at,value``) to ``path`` (.csv or .parquet)."""
    return write(series_frame(points), path)


def export_table(bt: Backtest, path: Path) -> Path:
    """Write the backtest table (per call, and the days left out) to ``path``."""
    return write(table_frame(bt), path)


# -- commands -----------------------------------------------------------------------------------


def _open(store_path: Path | None, err: TextIO) -> Store | None:
    path = store_path if store_path is not None else paths.store_file()
    if not path.exists():
        err.write(f"btcwatch: no history yet at {path}\n")
        return None
    store = Store.open_read_only(path, Settings().retention)
    if store.in_memory:  # the file could not be opened: its notice says why
        err.write(f"btcwatch: {store.notice}\n")
        store.close()
        return None
    return store


def parse_until(text: str, now: datetime | None = None) -> datetime:
    """Like ``--since``, but a bare date means the end of that day (its close is judged).

    Raises:
        ValueError: not a date, a time or a span (one line, for the user).
    """
    at = parse_since(text, now)
    return at + timedelta(days=1) if _DATE.match(text) else at


def backtest_command(
    since: str | None,
    until: str | None,
    *,
    as_json: bool,
    export: Path | None,
    out: TextIO,
    err: TextIO,
    settings: Settings | None = None,
    store_path: Path | None = None,
    now: datetime | None = None,
) -> int:
    """``btcwatch backtest``: the checklist over stored daily history and what price did next.

    0 with at least one day judged, 3 without history or without a judged day, 2 on bad input
    (a date, an export file name, Parquet without pyarrow, a config override).
    """
    settings = settings or Settings()
    end_now = now or datetime.now(UTC)
    try:
        start = None if since is None else parse_since(since, end_now)
        end = end_now if until is None else parse_until(until, end_now)
        if export is not None:
            file_format(export)
        rules = configured(settings.rules)
    except (ValueError, BtcwatchError) as e:
        err.write(f"btcwatch: {e}\n")
        return EXIT_USAGE
    if start is not None and start >= end:
        err.write("btcwatch: --since must come before --until\n")
        return EXIT_USAGE
    store = _open(store_path, err)
    if store is None:
        return EXIT_NO_DATA
    try:
        index = DailyIndex(store)
        if start is None:
            start = backtest.default_since(index)
            if start is None:
                err.write(f"btcwatch: no stored {backtest.PRICE_ID} ({CONSENSUS}) to backtest\n")
                return EXIT_NO_DATA
        bt = backtest.run(index, rules, since=start, until=end, settings=settings)
    finally:
        store.close()
    if not bt.days:
        err.write(
            f"btcwatch: no UTC day closes between {start:%Y-%m-%d %H:%M} and {end:%Y-%m-%d %H:%M}\n"
        )
        return EXIT_NO_DATA
    if bt.judged == 0:
        err.write(
            f"btcwatch: no day from {bt.days[0].date} to {bt.days[-1].date} had data at the "
            f"time ({bt.left_out} left out)\n"
        )
        return EXIT_NO_DATA
    if export is not None:
        try:
            export_table(bt, export)
        except (OSError, BtcwatchError) as e:
            err.write(f"btcwatch: {e}\n")
            return EXIT_USAGE
        err.write(f"btcwatch: wrote the backtest table to {export}\n")
    if as_json:
        out.write(json.dumps(backtest.to_dict(bt), ensure_ascii=False, indent=2) + "\n")
    else:
        out.write(backtest.render_text(bt))
    return EXIT_OK


def command(
    id_: str,
    source: str | None,
    since: str | None,
    file: Path,
    *,
    out: TextIO,
    err: TextIO,
    store_path: Path | None = None,
) -> int:
    """``btcwatch export ID FILE``: one stored series to CSV or Parquet.

    0 written, 3 without stored values, 2 on bad input (a date, the file's suffix, an id stored
    from several sources without ``--source``, Parquet without pyarrow, an unwritable file).
    """
    try:
        start = None if since is None else parse_since(since)
        file_format(file)
    except (ValueError, BtcwatchError) as e:
        err.write(f"btcwatch: {e}\n")
        return EXIT_USAGE
    store = _open(store_path, err)
    if store is None:
        return EXIT_NO_DATA
    try:
        try:
            sid, src = resolve(id_, source, known_ids(store))
        except AmbiguousId as e:
            err.write(f"btcwatch: {e}\n")
            return EXIT_USAGE
        except LookupError as e:
            err.write(f"btcwatch: {e.args[0]}\n")
            return EXIT_NO_DATA
        points = store.series(sid, src, since=start)
    finally:
        store.close()
    if not points:
        when = "" if start is None else f" since {start:%Y-%m-%d %H:%M} UTC"
        err.write(f"btcwatch: no stored values for {sid} ({src}){when}\n")
        return EXIT_NO_DATA
    try:
        export_series(points, file)
    except (OSError, BtcwatchError) as e:
        err.write(f"btcwatch: {e}\n")
        return EXIT_USAGE
    out.write(f"wrote {len(points):,} values of {sid} ({src}) to {file}\n")
    return EXIT_OK
