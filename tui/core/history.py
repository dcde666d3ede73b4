"""The signal-history explorer's data: stored series, state flips, thresholds, exports (no UI).

Every function that takes a :class:`~tui.core.store.Store` blocks on it: screens call them from a
thread worker. Checklist row states are stored as readings ``checklist.<row>`` from source
``rules`` (1 bullish, 0 neutral, -1 bearish, observed when the state began) and the verdict as
``verdict`` from ``rules`` (1 holding, 0 contested, -1 retest risk): both are step series.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Final, Literal, TextIO

from tui.core import paths
from tui.core.config import Settings
from tui.core.model import CONSENSUS, Observation, RowState
from tui.core.rules import DEFAULT_RULES, Cond, Op, Rule, Side, configured
from tui.core.rules.evaluate import RULES_SOURCE, STATES, state_id
from tui.core.rules.evaluate import format_reading as _reading_text
from tui.core.rules.verdict import CALLS
from tui.core.store import Store

HistoryRange = Literal["1D", "1W", "1M", "3M", "all"]
Point = tuple[datetime, float]
"""``(observed_at, value)``, as :meth:`Store.series` gives them."""
ExportFormat = Literal["csv", "json"]
LineKind = Literal["bullish", "bearish", "pivot"]

#: Ranges in the order ``[`` and ``]`` cycle through them.
HISTORY_RANGES: Final[tuple[HistoryRange, ...]] = ("1D", "1W", "1M", "3M", "all")
SPANS: Final[Mapping[HistoryRange, timedelta | None]] = {
    "1D": timedelta(days=1),
    "1W": timedelta(days=7),
    "1M": timedelta(days=30),
    "3M": timedelta(days=91),
    "all": None,
}
#: The stored id of the verdict's call.
VERDICT_ID: Final = "verdict"
ROW_KEYS: Final = tuple(r.key for r in DEFAULT_RULES)
#: How a state series' levels read on the chart's y axis.
STATE_TICKS: Final = ((-1.0, "bearish"), (0.0, "neutral"), (1.0, "bullish"))
VERDICT_TICKS: Final = ((-1.0, "retest risk"), (0.0, "contested"), (1.0, "holding"))
#: At most this many points go to a chart (a week of 15 s prices is 40,000).
MAX_CHART_POINTS: Final = 400
EXIT_OK: Final = 0
EXIT_USAGE: Final = 2
EXIT_NO_DATA: Final = 3

_SINCE: Final = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
_UNIT_S: Final = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 7 * 86_400}
_UNSAFE: Final = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True, slots=True)
class Input:
    """One reading a checklist row's conditions read."""

    id: str
    source: str
    what: str
    """How the row's reason names it (``funding``, ``RR25 30d``)."""


@dataclass(frozen=True, slots=True)
class Threshold:
    """One condition's threshold, to draw as a labelled line on its input's chart."""

    id: str
    source: str
    row: str
    side: Side
    name: str
    """The condition's name in config (``[rules.<row>.<name>]``)."""
    op: Op
    value: float
    label: str
    """``bullish: funding above +0.0000 %/8h for 8 h``."""
    pivot: bool = False
    """The threshold is the configured pivot (conditions on ``btc.price``)."""

    @property
    def kind(self) -> LineKind:
        """How the line is coloured: the pivot, or the side the condition confirms."""
        return "pivot" if self.pivot else self.side


@dataclass(frozen=True, slots=True)
class Flip:
    """A row's change of market state, with what its inputs read at that moment."""

    at: datetime
    previous: RowState | None
    """``None``: the first state stored for the row."""
    current: RowState
    readings: tuple[Observation, ...]
    """The latest value of each input at or before ``at`` (inputs with none are left out)."""


@dataclass(frozen=True, slots=True)
class ChartLine:
    """A labelled horizontal line on a history chart."""

    label: str
    value: float
    kind: LineKind


@dataclass(frozen=True, slots=True)
class HistoryChart:
    """One series over one range, ready to plot (the widget does no maths)."""

    id: str
    source: str
    range: HistoryRange
    points: tuple[tuple[float, float], ...]
    """``(epoch seconds, value)``; a state series comes already drawn as steps up to now."""
    x_range: tuple[float, float]
    lines: tuple[ChartLine, ...]
    ticks: tuple[tuple[float, str], ...]
    """Y-axis ticks, most important first (the widget drops those that would share a row)."""
    title: str
    note: str
    """Where the points come from, or why there are none."""
    step: bool = False
    y_range: tuple[float, float] | None = None
    """Fixed y limits (state series); ``None``: fit the points and lines."""


def is_row(key: str) -> bool:
    """Whether ``key`` names a checklist row (``funding``, ``skew``, ...)."""
    return key in ROW_KEYS


def row_of(id_: str, source: str) -> str | None:
    """The row whose state series ``(id_, source)`` is, if it is one."""
    key = id_.removeprefix("checklist.")
    return key if source == RULES_SOURCE and id_ != key and is_row(key) else None


def target(key: str | tuple[str, str]) -> tuple[str, str]:
    """``(id, source)`` of a row key (its state series) or of an ``(id, source)`` pair."""
    if isinstance(key, tuple):
        return key
    if is_row(key):
        return state_id(key), RULES_SOURCE
    if key == VERDICT_ID:
        return VERDICT_ID, RULES_SOURCE
    raise ValueError(f"no checklist row {key!r} (rows: {', '.join(ROW_KEYS)})")


def rule(row_key: str, settings: Settings | None = None) -> Rule:
    """Row ``row_key`` with the config's overrides applied.

    Raises:
        ValueError: no such row.
        ConfigError: a bad ``[rules]`` override.
    """
    rules = configured((settings or Settings()).rules)
    found = next((r for r in rules if r.key == row_key), None)
    if found is None:
        raise ValueError(f"no checklist row {row_key!r} (rows: {', '.join(ROW_KEYS)})")
    return found


def _variants(r: Rule) -> list[Rule]:
    out = [r]
    while (fb := out[-1].fallback) is not None:
        out.append(fb)
    return out


def _conds(r: Rule) -> list[tuple[Side, Cond]]:
    side: list[tuple[Side, Cond]] = []
    for variant in _variants(r):
        side.extend(("bullish", c) for c in variant.bullish)
        side.extend(("bearish", c) for c in variant.bearish)
    return side


def inputs(row_key: str, settings: Settings | None = None) -> tuple[Input, ...]:
    """Every reading row ``row_key`` reads, each once (its keyless fallback's inputs last)."""
    seen: dict[tuple[str, str], Input] = {}
    for _, c in _conds(rule(row_key, settings)):
        seen.setdefault((c.id, c.source), Input(c.id, c.source, c.what))
    return tuple(seen.values())


def _threshold(row: str, side: Side, c: Cond, pivot: float) -> Threshold:
    value = pivot if c.threshold is None else c.threshold
    word = "above" if c.op == ">" else "below"
    if c.hold_n:
        span = f" for {c.hold_n} readings running"
    elif c.hold_s:
        span = f" for {_duration(c.hold_s)}"
    else:
        span = ""
    label = f"{side}: {c.what} {word} {_reading_text(c.id, value)}{span}"
    return Threshold(c.id, c.source, row, side, c.name, c.op, value, label, c.threshold is None)


def thresholds(row_key: str, settings: Settings | None = None) -> dict[str, tuple[Threshold, ...]]:
    """Row ``row_key``'s condition thresholds per input id, as configured.

    Conditions on ``btc.price`` take the configured pivot. A row with a keyless fallback
    (on-chain) lists both variants' inputs.

    Raises:
        ValueError: no such row.
    """
    s = settings or Settings()
    out: dict[str, list[Threshold]] = {}
    for side, c in _conds(rule(row_key, s)):
        t = _threshold(row_key, side, c, s.pivot)
        if t not in out.setdefault(c.id, []):
            out[c.id].append(t)
    return {k: tuple(v) for k, v in out.items()}


def thresholds_for(
    id_: str, source: str, settings: Settings | None = None
) -> tuple[Threshold, ...]:
    """Every checklist threshold on reading ``(id_, source)``, across rows, each label once."""
    s = settings or Settings()
    out: list[Threshold] = []
    for r in configured(s.rules):
        for side, c in _conds(r):
            if (c.id, c.source) == (id_, source):
                t = _threshold(r.key, side, c, s.pivot)
                if all((o.value, o.side, o.label) != (t.value, t.side, t.label) for o in out):
                    out.append(t)
    return tuple(out)


def _unit(store: Store, id_: str, source: str) -> str | None:
    """The unit of a stored series (units are fixed per id), or ``None`` when nothing is stored."""
    return next((o.unit for o in store.latest() if (o.id, o.source) == (id_, source)), None)


def chart_lines(found: Iterable[Threshold]) -> tuple[ChartLine, ...]:
    """One labelled line per threshold value: the pivot says so; others name every condition."""
    by_value: dict[float, list[Threshold]] = {}
    for t in found:
        by_value.setdefault(t.value, []).append(t)
    out = []
    for value, group in by_value.items():
        if any(t.pivot for t in group):
            out.append(ChartLine(f"pivot {_reading_text(group[0].id, value)}", value, "pivot"))
        else:
            label = " · ".join(dict.fromkeys(t.label for t in group))
            out.append(ChartLine(label, value, group[0].kind))
    return tuple(out)


def _since(range_: HistoryRange, now: datetime) -> datetime | None:
    span = SPANS[range_]
    return None if span is None else now - span


def series_for(
    store: Store, id_: str, source: str, range_: HistoryRange, now: datetime
) -> list[Point]:
    """The stored ``(observed_at, value)`` of one series over ``range_`` up to ``now``."""
    return store.series(id_, source, since=_since(range_, now), until=now)


def state_at(store: Store, id_: str, source: str, at: datetime) -> Point | None:
    """The last stored point of ``(id_, source)`` at or before ``at``."""
    # State series hold one row per change: reading them whole is cheap.
    older = store.series(id_, source, until=at)
    return older[-1] if older else None


def flips(
    store: Store,
    row_key: str,
    since: datetime | None = None,
    settings: Settings | None = None,
) -> list[Flip]:
    """Every change of row ``row_key``'s stored state at or after ``since``, oldest first.

    The first stored state is a flip from ``None``. Each flip carries the latest reading of each
    of the row's inputs at or before the flip, with its own time (so an old one shows its age).

    Raises:
        ValueError: no such row.
    """
    windows: dict[tuple[str, str], float] = {}
    for _, c in _conds(rule(row_key, settings)):
        key = (c.id, c.source)
        windows[key] = max(windows.get(key, 0.0), c.max_gap_s)
    units = {(o.id, o.source): o.unit for o in store.latest()}
    out: list[Flip] = []
    previous: RowState | None = None
    for at, value in store.series(state_id(row_key), RULES_SOURCE):
        current = STATES.get(value)
        if current is None or current == previous:
            continue  # an unknown code, or the same state stored again (a restart): no flip
        if since is None or at >= since:
            readings = []
            for (id_, source), gap in windows.items():
                found = latest_at(store, id_, source, at, gap)
                if found is not None:
                    t, v = found
                    readings.append(Observation(id_, v, units.get((id_, source), ""), source, t))
            out.append(Flip(at, previous, current, tuple(readings)))
        previous = current
    return out


def latest_at(store: Store, id_: str, source: str, at: datetime, window_s: float) -> Point | None:
    """The last stored point of a series at or before ``at``.

    Looks back ``window_s`` first, then a day, a week, and all history: a 15 s price series
    holds 40,000 points a week, and the reading is nearly always within the first window.
    """
    for back in (window_s, 86_400.0, 7 * 86_400.0, None):
        since = None if back is None else at - timedelta(seconds=back)
        found = store.series(id_, source, since=since, until=at)
        if found:
            return found[-1]
    return None


def flip_readings_text(flip: Flip) -> str:
    """``funding +0.0040 %/8h (14:00) · BTC $70,412 (13:59)``, or ``no input readings``."""
    parts = [
        f"{o.id} {_reading_text(o.id, o.value)} ({o.observed_at.astimezone(UTC):%d %b %H:%M})"
        for o in flip.readings
    ]
    return " · ".join(parts) if parts else "no input readings stored at that moment"


def known_ids(store: Store) -> list[tuple[str, str]]:
    """Every ``(id, source)`` with a stored value, sorted."""
    return [(o.id, o.source) for o in store.latest()]


class AmbiguousId(ValueError):
    """An id stored from several sources, none of them the consensus: the user must choose."""


def resolve(id_: str, source: str | None, known: Iterable[tuple[str, str]]) -> tuple[str, str]:
    """The series a command-line ID names.

    A checklist row key (``funding``) names its state series. Without ``source``, an id stored
    from one source takes it; from several, the consensus wins, else the user must choose.

    Raises:
        LookupError: nothing is stored under that id (and source); one line, for the user.
        AmbiguousId: stored from several sources and none was named.
    """
    if source is None and is_row(id_):
        return state_id(id_), RULES_SOURCE
    sources = sorted(s for i, s in known if i == id_)
    if source is not None:
        if source in sources:
            return id_, source
        stored = f" (stored from: {', '.join(sources)})" if sources else ""
        raise LookupError(f"no stored values for {id_} from {source}{stored}")
    if not sources:
        raise LookupError(f"no stored values for {id_}")
    if len(sources) == 1:
        return id_, sources[0]
    if CONSENSUS in sources:
        return id_, CONSENSUS
    raise AmbiguousId(
        f"{id_} is stored from several sources ({', '.join(sources)}): pick one with --source"
    )


def parse_since(text: str, now: datetime | None = None) -> datetime:
    """``7d``, ``24h``, ``90m``, ``30s``, ``2w`` back from ``now``, or an ISO date or time (UTC
    when no offset is given).

    Raises:
        ValueError: anything else (one line, for the user).
    """
    m = _SINCE.match(text)
    if m is not None and float(m.group(1)) > 0:
        seconds = float(m.group(1)) * _UNIT_S[m.group(2)]
        return (now or datetime.now(UTC)) - timedelta(seconds=seconds)
    try:
        at = datetime.fromisoformat(text.strip())
    except ValueError:
        at = None
    if m is not None or at is None:
        raise ValueError(
            f"expected --since like 7d, 24h, 90m or an ISO date such as 2026-02-05, got {text!r}"
        )
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def _iso(t: datetime) -> str:
    return t.astimezone(UTC).isoformat(timespec="milliseconds")


def export_csv(points: Sequence[Point]) -> str:
    """``observed_at,value`` rows (ISO 8601 UTC, the value as stored), with a header."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(("observed_at", "value"))
    writer.writerows((_iso(t), repr(v)) for t, v in points)
    return buf.getvalue()


def export_json(points: Sequence[Point], id_: str, source: str, unit: str | None = None) -> str:
    """``{"id", "source", "unit", "count", "points": [{"observed_at", "value"}]}``."""
    doc: dict[str, object] = {"id": id_, "source": source}
    if unit is not None:
        doc["unit"] = unit
    doc["count"] = len(points)
    doc["points"] = [{"observed_at": _iso(t), "value": v} for t, v in points]
    return json.dumps(doc, ensure_ascii=False, indent=2) + "\n"


def export_file(id_: str, fmt: ExportFormat, at: datetime, directory: Path | None = None) -> Path:
    """``<data dir>/exports/<id>-<UTC timestamp>.<csv|json>`` (the id made safe for a file name)."""
    folder = directory if directory is not None else paths.data_dir() / "exports"
    stem = f"{_UNSAFE.sub('_', id_)}-{at.astimezone(UTC):%Y%m%dT%H%M%SZ}"
    path = folder / f"{stem}.{fmt}"
    n = 2
    while path.exists():  # two exports in one second: never overwrite the first
        path = folder / f"{stem}-{n}.{fmt}"
        n += 1
    return path


def write_export(
    store: Store,
    id_: str,
    source: str,
    range_: HistoryRange,
    now: datetime,
    fmt: ExportFormat,
    directory: Path | None = None,
) -> Path:
    """Write the series over ``range_`` as CSV or JSON into the exports folder; returns the file.

    The file is named by the wall clock, not ``now`` (which is the demo's clock in a demo).

    Raises:
        OSError: the folder or file cannot be written.
    """
    points = series_for(store, id_, source, range_, now)
    path = export_file(id_, fmt, datetime.now(UTC), directory)
    if fmt == "csv":
        text = export_csv(points)
    else:
        text = export_json(points, id_, source, _unit(store, id_, source))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def load_chart(
    store: Store,
    settings: Settings,
    id_: str,
    source: str,
    range_: HistoryRange,
    now: datetime,
    max_points: int = MAX_CHART_POINTS,
) -> HistoryChart:
    """The chart of ``(id_, source)`` over ``range_`` with its thresholds (blocking)."""
    since = _since(range_, now)
    unit = _unit(store, id_, source) or ""
    row = row_of(id_, source)
    title = f"{id_} · {source}" + (f" · {unit}" if unit else "")
    if row is not None or (id_, source) == (VERDICT_ID, RULES_SOURCE):
        points = series_for(store, id_, source, range_, now)  # a row per change: small
        return _state_chart(store, id_, source, range_, since, now, points, row, title)
    if since is None:
        points = series_for(store, id_, source, range_, now)
        stored = len(points)
    else:
        # A month of a 1-minute series is 43,200 rows: read the points drawn, count the rest.
        points = store.sampled(id_, source, since, now, max_points)
        stored = store.count(id_, source, since, now)
    end = now if since is not None else (points[-1][0] if points else now)
    start = since if since is not None else (points[0][0] if points else now)
    if start >= end:  # one point over all time: a little room either side
        start, end = start - timedelta(minutes=30), end + timedelta(minutes=30)
    lines = chart_lines(thresholds_for(id_, source, settings))
    if points:
        values = [v for _, v in points]
        hi, lo = max(values), min(values)
        ticks = [(v, _tick(id_, v)) for v in (hi, lo)]
        ticks += [(line.value, _tick(id_, line.value)) for line in lines]
        note = f"{stored:,} stored values" + (
            f" since {start:%d %b %H:%M} UTC" if since is not None else ""
        )
    else:
        ticks = []
        note = f"no stored values of {id_} ({source}) in {_range_words(range_)}"
    return HistoryChart(
        id_,
        source,
        range_,
        tuple((t.timestamp(), v) for t, v in _thin(points, max_points)),
        (start.timestamp(), end.timestamp()),
        lines,
        tuple(ticks),
        title,
        note,
    )


def _state_chart(
    store: Store,
    id_: str,
    source: str,
    range_: HistoryRange,
    since: datetime | None,
    now: datetime,
    points: list[Point],
    row: str | None,
    title: str,
) -> HistoryChart:
    """A state series as steps: the state held when the range began, each change, up to now."""
    ticks = STATE_TICKS if row is not None else VERDICT_TICKS
    if since is not None:
        before = state_at(store, id_, source, since)
        if before is not None and (not points or points[0][0] > since):
            points = [(since, before[1]), *points]
    if not points:
        note = f"no stored state in {_range_words(range_)}: the checklist is judged every 30 s"
        start = since or now
        return HistoryChart(
            id_, source, range_, (), (start.timestamp(), now.timestamp()), (), ticks, title, note,
            step=True, y_range=(-1.3, 1.3),
        )  # fmt: skip
    # The same state stored again (after a restart) is no change: one step per change.
    points = [p for i, p in enumerate(points) if i == 0 or p[1] != points[i - 1][1]]
    end = max(now, points[-1][0])
    steps: list[tuple[float, float]] = []
    for i, (t, v) in enumerate(points):
        if i:
            steps.append((t.timestamp(), points[i - 1][1]))
        steps.append((t.timestamp(), v))
    steps.append((end.timestamp(), points[-1][1]))
    start = since or points[0][0]
    names = STATES if row is not None else CALLS
    last = names.get(points[-1][1])
    note = f"now {last.value if isinstance(last, RowState) else last or '?'}"
    note += f" · since {points[-1][0]:%d %b %H:%M} UTC"
    return HistoryChart(
        id_, source, range_, tuple(steps), (start.timestamp(), end.timestamp()), (), ticks,
        title, note, step=True, y_range=(-1.3, 1.3),
    )  # fmt: skip


def _range_words(range_: HistoryRange) -> str:
    return "all the history" if range_ == "all" else f"the last {range_}"


def _thin(points: Sequence[Point], n: int) -> list[Point]:
    """At most ``n`` points, evenly picked, always keeping the last."""
    if len(points) <= n:
        return list(points)
    step = len(points) / n
    return [*(points[int(i * step)] for i in range(n - 1)), points[-1]]


def _tick(id_: str, v: float) -> str:
    """A compact y-axis label: ``70,412``, ``-1.26B``, ``0.0040``."""
    a = abs(v)
    if a >= 1e9:
        return f"{v / 1e9:.2f}B"
    if a >= 1e6:
        return f"{v / 1e6:.1f}M"
    if a >= 1000:
        return f"{v:,.0f}"
    if id_.startswith("funding."):
        return f"{v:.4f}"
    return f"{v:.4g}"


def _duration(seconds: float) -> str:
    if seconds >= 2 * 86_400:
        return f"{seconds / 86_400:.0f} d"
    if seconds >= 3600:
        return f"{seconds / 3600:.0f} h"
    return f"{seconds / 60:.0f} min"


def command(
    id_: str,
    source: str | None,
    since: str | None,
    *,
    as_json: bool,
    out: TextIO,
    err: TextIO,
    store_path: Path | None = None,
) -> int:
    """``btcwatch history``: print one stored series; 0, or 3 without values, 2 on bad input.

    The store is opened for reading only, so a dashboard starting meanwhile still writes.
    """
    try:
        start = None if since is None else parse_since(since)
    except ValueError as e:
        err.write(f"btcwatch: {e}\n")
        return EXIT_USAGE
    path = store_path if store_path is not None else paths.store_file()
    if not path.exists():
        err.write(f"btcwatch: no history yet at {path}\n")
        return EXIT_NO_DATA
    store = Store.open_read_only(path, Settings().retention)
    try:
        if store.in_memory:  # the file could not be opened: its notice says why
            err.write(f"btcwatch: {store.notice}\n")
            return EXIT_NO_DATA
        try:
            sid, src = resolve(id_, source, known_ids(store))
        except AmbiguousId as e:
            err.write(f"btcwatch: {e}\n")
            return EXIT_USAGE
        except LookupError as e:
            err.write(f"btcwatch: {e.args[0]}\n")
            return EXIT_NO_DATA
        points = store.series(sid, src, since=start)
        unit = _unit(store, sid, src)
    finally:
        store.close()
    if not points:
        when = "" if start is None else f" since {_iso(start)}"
        err.write(f"btcwatch: no stored values for {sid} ({src}){when}\n")
        return EXIT_NO_DATA
    out.write(export_json(points, sid, src, unit) if as_json else export_csv(points))
    return EXIT_OK
