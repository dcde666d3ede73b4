"""Demo bodies for Farside's ETF flow page: the scenario's 4-6 Feb 2026 outflows, hour by hour.

Called by ``scripts/make_demo.py``. Every body is the real all-data page markup kept in
``tests/data/farside/all_data_2026-10-02.html`` (provenance in the README there): its header row,
its row markup (cells, ``redFont`` negatives, ``-`` for no data) and its summary row, with only
dates and figures changed. The figures follow the article (DOMAIN.md): -$544.9M on 4 Feb,
-$434.1M on 5 Feb, about -$690M for February by 5 Feb; the days before, the per-fund split,
6 Feb and the times at which rows fill in are made up for the scenario. ``MSBT`` shows ``-``
throughout (not trading in the scenario), US holidays are rows of ``-`` with a ``0.0`` total,
and the summary ``Total`` row sums the rows shown (the real page's sums run since Jan 2024).

Timeline (UTC): a day's row appears at 13:00 as a placeholder (every fund ``-``), issuers fill it
in the evening with IBIT last (so the day is provisional for an hour), and it is complete at
23:00. 4 Feb is complete before the demo starts; 5 Feb fills from 21:00, 6 Feb from 22:00.
"""

from __future__ import annotations

import functools
import random
import re
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Final

ROOT: Final = Path(__file__).resolve().parent.parent
TEMPLATE: Final = ROOT / "tests" / "data" / "farside" / "all_data_2026-10-02.html"
SOURCE: Final = "farside"
SOURCES: Final = (SOURCE,)
ENDPOINT: Final = "flows"
INTERVAL: Final = timedelta(hours=1)

FUNDS: Final = (
    "IBIT", "FBTC", "BITB", "ARKB", "BTCO", "EZBC", "BRRR", "HODL", "BTCW", "MSBT", "GBTC", "BTC",
)  # fmt: skip
#: Each fund's usual share of a day's flow (IBIT takes the rounding remainder).
SHARES: Final = {"FBTC": 0.22, "BITB": 0.06, "ARKB": 0.07, "HODL": 0.03, "GBTC": 0.12, "BTC": 0.04}
FIRST_DAY: Final = date(2025, 12, 8)
#: US market holidays inside the window: rows of "-" on the page.
HOLIDAYS: Final = frozenset({date(2025, 12, 25), date(2026, 1, 1), date(2026, 1, 19)})
#: The article's days, and the scenario's around them (US$m).
FIXED: Final = {
    date(2026, 1, 29): -817.9,
    date(2026, 1, 30): -509.7,
    date(2026, 2, 2): 561.8,  # 2 Feb + 3 Feb = +289.0, so February is -690.0 by 5 Feb
    date(2026, 2, 3): -272.8,
    date(2026, 2, 4): -544.9,
    date(2026, 2, 5): -434.1,
    date(2026, 2, 6): -21.6,
}
#: Per-fund figures of the days that fill in during the demo (US$m; IBIT reports last).
SPLITS: Final = {
    date(2026, 2, 5): {"IBIT": -235.7, "FBTC": -98.4, "BITB": -21.3, "ARKB": -27.9, "HODL": -9.6,
                       "GBTC": -31.5, "BTC": -9.7},
    date(2026, 2, 6): {"IBIT": 13.6, "FBTC": -18.4, "BITB": -2.8, "ARKB": -4.1, "GBTC": -9.9},
}  # fmt: skip
#: (placeholder from, partial from, complete from) for the days that fill in during the demo.
FILLS: Final = {
    date(2026, 2, 5): (time(13), time(21), time(23)),
    date(2026, 2, 6): (time(13), time(22), time(23)),
}


def demo_exchanges(t: datetime, price: float) -> list[tuple[str, str, object]]:
    """The Farside page when it is due at ``t`` (hourly), else nothing.

    Args:
        t: the simulated time (UTC).
        price: the scenario's BTC price (flows do not depend on it).
    """
    since_midnight = t - t.replace(hour=0, minute=0, second=0, microsecond=0)
    if since_midnight % INTERVAL:
        return []
    return [(SOURCE, ENDPOINT, page(t))]


def page(t: datetime) -> str:
    """The page as the scenario has it at ``t``."""
    head, row, total, tail = _template()
    rows: list[tuple[date, list[float | None], float]] = []
    for d, cells in _history():
        state = _state(d, t)
        if state == "absent":
            continue
        if state == "placeholder":
            cells = [None] * len(FUNDS)
        elif state == "partial":
            cells = [None if f == "IBIT" else c for f, c in zip(FUNDS, cells, strict=True)]
        rows.append((d, cells, round(sum(c for c in cells if c is not None), 1)))
    body = "".join(_row(row, f"{d:%d %b %Y}", [*cells, tot]) for d, cells, tot in rows)
    sums = [sum(r[1][i] or 0.0 for r in rows) for i in range(len(FUNDS))]
    return head + body + _row(total, "Total", [*sums, sum(sums)], whole=True) + tail


def _state(d: date, t: datetime) -> str:
    fill = FILLS.get(d)
    if fill is None:
        return "complete" if d < t.date() else "absent"
    at = [datetime.combine(d, x, tzinfo=t.tzinfo) for x in fill]
    if t < at[0]:
        return "absent"
    return "placeholder" if t < at[1] else "partial" if t < at[2] else "complete"


@functools.cache
def _history() -> tuple[tuple[date, list[float | None]], ...]:
    """Every row of the scenario (per-fund US$m; ``None`` = ``-``), oldest first."""
    rng = random.Random(20260204)
    out: list[tuple[date, list[float | None]]] = []
    d = FIRST_DAY
    last = max(FILLS)
    while d <= last:
        if d.weekday() < 5:
            if d in HOLIDAYS:
                out.append((d, [None] * len(FUNDS)))
            else:
                total = FIXED.get(d)
                if total is None:
                    # December mixed, January leaning to outflows: scenario figures.
                    bias = 40.0 if d.month == 12 else -110.0
                    total = round(rng.gauss(bias, 260.0), 1)
                out.append((d, _split(d, total, rng)))
        d += timedelta(days=1)
    return tuple(out)


def _split(d: date, total: float, rng: random.Random) -> list[float | None]:
    """A day's total spread over the funds, in whole tenths that add up exactly."""
    given = SPLITS.get(d)
    if given is not None:
        assert round(sum(given.values()), 1) == total, d
        return [None if f == "MSBT" else given.get(f, 0.0) for f in FUNDS]
    tenths = round(total * 10)
    parts = {f: round(tenths * share * rng.uniform(0.6, 1.4)) for f, share in SHARES.items()}
    parts["IBIT"] = tenths - sum(parts.values())
    return [None if f == "MSBT" else parts.get(f, 0) / 10 for f in FUNDS]


@functools.cache
def _template() -> tuple[str, str, str, str]:
    """The real page cut into: everything up to the header's end, one data row, the ``Total``
    row, and the rest."""
    html = TEMPLATE.read_text(encoding="utf-8")
    rows = list(re.finditer(r"<tr[ >].*?</tr>", html, re.DOTALL))
    header, first, total = rows[0], rows[1], rows[-1]
    assert "Total" in total.group(0)
    assert "18 Sep 2026" in first.group(0)
    return html[: header.end()], first.group(0), total.group(0), html[total.end() :]


_CELL = re.compile(r'(<span class="tabletext">)(.*?)(</span></div></td>)')
_DATE = re.compile(r'(<td><span class="tabletext">)[^<]*(</span></td>)')


def _row(markup: str, label: str, values: list[float | None], *, whole: bool = False) -> str:
    """``markup`` (a real row) with its first cell set to ``label`` and its figures to ``values``.

    Figures as Farside writes them: one decimal (whole numbers in the summary row), thousands
    separators, negatives in parentheses inside ``redFont``, ``-`` for no figure.
    """
    it = iter(values)

    def cell(m: re.Match[str]) -> str:
        v = next(it)
        if v is None:
            text = "-"
        else:
            text = f"{abs(v):,.0f}" if whole else f"{abs(v):,.1f}"
            if v < 0 and text.strip("0.,"):
                text = f'<span class="redFont">({text})</span>'
        return m.group(1) + text + m.group(3)

    out = _CELL.sub(cell, _DATE.sub(lambda m: m.group(1) + label + m.group(2), markup, count=1))
    assert next(it, "done") == "done", "a value left over: the row has fewer cells"
    return out
