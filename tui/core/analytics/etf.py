"""Spot BTC ETF flows: the fund-by-day table, its sums, the outflow streak and the drill-down view.

Pure and HTML-agnostic: :mod:`tui.core.sources.farside` reads the page into a :class:`FlowTable`
and everything here works on that. Values are US$ millions, as Farside publishes them.

Rules (SOURCES.md §10): a cell without a number (``-``) is *missing*, never zero; a day counts as
published only when at least one fund cell is a number (a US-holiday row, or today's placeholder
before issuers report, has none); gaps are never interpolated; sums and the streak count
published days only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Final

#: Days the 5-day sum needs: fewer published days give no value rather than a shorter sum.
SUM_DAYS: Final = 5
#: Trading days the drill-down shows.
VIEW_DAYS: Final = 30


@dataclass(frozen=True, slots=True)
class FlowDay:
    """One dated row of the table."""

    day: date
    """The US trading day."""
    cells: tuple[float | None, ...]
    """Net flow per fund in US$m, in :attr:`FlowTable.funds` order; ``None`` = no figure (``-``)."""
    total: float | None
    """The row's published ``Total`` cell, ``None`` when it shows no number."""

    @property
    def published(self) -> bool:
        """True when at least one fund reported a figure for the day."""
        return any(c is not None for c in self.cells)

    @property
    def net(self) -> float | None:
        """The day's net flow: the published total, else the sum of the reported funds.

        ``None`` for a day nobody reported (a holiday, or today's placeholder), even when its
        ``Total`` cell shows ``0.0``: that zero is not a flow.
        """
        if not self.published:
            return None
        if self.total is not None:
            return self.total
        return sum(c for c in self.cells if c is not None)


@dataclass(frozen=True, slots=True)
class FlowTable:
    """Farside's table, read: funds by column, days oldest first, summary rows left out."""

    funds: tuple[str, ...]
    """Tickers in column order (``IBIT``, ``FBTC``, ...): as many as the page has."""
    days: tuple[FlowDay, ...]
    """Every dated row, oldest first, including unpublished ones (holidays, placeholders)."""

    @property
    def published(self) -> tuple[FlowDay, ...]:
        """The published days, oldest first."""
        return tuple(d for d in self.days if d.published)

    @property
    def newest(self) -> FlowDay | None:
        """The newest published day."""
        pub = self.published
        return pub[-1] if pub else None

    @property
    def pending_funds(self) -> tuple[str, ...]:
        """Funds with no figure yet on the newest published day that had one the day before.

        Issuers report through the US evening, so the newest day fills in fund by fund; while
        this is not empty, that day's figures are provisional. A fund with no figure on either
        day (not trading yet, or closed) does not count.
        """
        pub = self.published
        if len(pub) < 2:
            return ()
        last, before = pub[-1], pub[-2]
        return tuple(
            f
            for f, now, prev in zip(self.funds, last.cells, before.cells, strict=True)
            if now is None and prev is not None
        )

    @property
    def provisional(self) -> bool:
        """True while the newest published day still waits for some funds."""
        return bool(self.pending_funds)

    def fund(self, ticker: str) -> tuple[tuple[date, float], ...]:
        """One fund's reported figures, oldest first (missing days left out)."""
        i = self.funds.index(ticker)
        return tuple((d.day, c) for d in self.days if (c := d.cells[i]) is not None)


def daily_totals(table: FlowTable) -> tuple[tuple[date, float], ...]:
    """``(day, net flow)`` of every published day, oldest first."""
    return tuple((d.day, net) for d in table.days if (net := d.net) is not None)


def sum_last(table: FlowTable, n: int = SUM_DAYS) -> float | None:
    """The sum of the last ``n`` published days, or ``None`` if there are fewer."""
    totals = daily_totals(table)
    if len(totals) < n:
        return None
    return sum(v for _, v in totals[-n:])


def month_to_date(table: FlowTable) -> float | None:
    """The sum of the published days in the newest published day's month, up to it."""
    totals = daily_totals(table)
    if not totals:
        return None
    newest = totals[-1][0]
    return sum(v for d, v in totals if (d.year, d.month) == (newest.year, newest.month))


def outflow_streak(table: FlowTable) -> int | None:
    """Consecutive published days of net outflow, counting back from the newest.

    ``0`` when the newest published day was not an outflow (a flat ``0.0`` day ends a streak);
    ``None`` when nothing is published. Unpublished rows (holidays) are skipped, not breaks.
    """
    totals = daily_totals(table)
    if not totals:
        return None
    streak = 0
    for _, v in reversed(totals):
        if v >= 0:
            break
        streak += 1
    return streak


@dataclass(frozen=True, slots=True)
class ViewRow:
    """One trading day of the drill-down table."""

    day: date
    cells: tuple[float | None, ...]
    """Per fund, in :attr:`TableView.funds` order; ``None`` shows as ``-``."""
    net: float | None
    """The day's net flow; ``None`` for a gap."""
    note: str = ""
    """``no data`` for a gap (holiday, or not reported), ``provisional`` for the newest day
    while funds are pending; empty otherwise."""


@dataclass(frozen=True, slots=True)
class TableView:
    """The fund-by-day table for the last trading days, and the daily totals for a bar."""

    funds: tuple[str, ...]
    """The funds with at least one figure in the window (others would be empty columns)."""
    rows: tuple[ViewRow, ...]
    """Oldest first."""
    bars: tuple[tuple[date, float | None], ...]
    """``(day, net flow)`` per row; ``None`` is a gap, to be drawn as one, never as zero."""


def table_view(table: FlowTable, days: int = VIEW_DAYS) -> TableView:
    """The drill-down: the last ``days`` dated rows (gaps included and labelled).

    Args:
        table: the parsed table.
        days: trading days to show (rows of the table, not calendar days).
    """
    window = table.days[-days:] if days > 0 else ()
    keep = [i for i in range(len(table.funds)) if any(d.cells[i] is not None for d in window)]
    newest = table.newest
    rows: list[ViewRow] = []
    for d in window:
        if not d.published:
            note = "no data"
        elif table.provisional and newest is not None and d.day == newest.day:
            note = "provisional"
        else:
            note = ""
        rows.append(ViewRow(d.day, tuple(d.cells[i] for i in keep), d.net, note))
    return TableView(
        funds=tuple(table.funds[i] for i in keep),
        rows=tuple(rows),
        bars=tuple((r.day, r.net) for r in rows),
    )


def recent_by_day(points: Sequence[tuple[date, float]], n: int) -> tuple[tuple[date, float], ...]:
    """The last ``n`` of ``points`` with one value per day (the last one given), oldest first."""
    by_day: dict[date, float] = {}
    for d, v in points:
        by_day[d] = v
    return tuple(sorted(by_day.items())[-n:]) if n > 0 else ()
