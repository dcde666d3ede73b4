"""Farside Investors: spot BTC ETF net flows per fund and day, read from its HTML table (§10)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time
from html.parser import HTMLParser
from typing import Final

from tui.core.analytics import etf
from tui.core.errors import BlockedError, ParseError
from tui.core.model import Json, Observation
from tui.core.sources.spec import Endpoint, SourceSpec

NAME: Final = "farside"
#: Farside publishes US$ millions (SOURCES.md §10; the real page's cumulative row, e.g. IBIT
#: 60,809 since January 2024, only fits millions).
UNIT: Final = "USD m"
#: A day's figure is dated 20:00 UTC of its trading day: the earliest the 16:00 New York close
#: can be (20:00 UTC in US summer time, 21:00 in winter), so a reading is never dated after the
#: moment its figures could exist, and its UTC date is the trading day ("as of 5 Feb").
DAY_TIME: Final = time(20, 0, tzinfo=UTC)
#: No single fund moves anywhere near this in a day (the largest daily total so far is about
#: US$1,374m, the Maximum row of the real page in tests/data/farside): past it, a unit changed.
MAX_ABS_FLOW: Final = 50_000.0
#: The tickers' row is the one holding this fund (the first spot BTC ETF by assets).
ANCHOR: Final = "IBIT"
#: Text Farside shows in a cell without a figure (fund not trading yet, not reported yet, or a
#: holiday). It is missing, never zero; ``0.0`` is a real zero.
NO_DATA: Final = frozenset({"", "-", "\u2013", "\u2014"})
#: Cloudflare challenge markers, as in :data:`tui.core.http.CHALLENGE_MARKERS` (which catches
#: challenges sent with an error status; a challenge sent with HTTP 200 reaches the parser).
CHALLENGE_MARKERS: Final = (
    "Just a moment...",
    "Attention Required! | Cloudflare",
    "cf_chl",
    "cf-chl",
)

_MONTHS: Final = {
    m: i + 1
    for i, m in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
    )
}
# "11 Jan 2024": Farside's date cell (SOURCES.md §10). Parsed by hand: %b depends on the locale.
_DATE = re.compile(r"(\d{1,2}) ([A-Za-z]{3}) (\d{4})")
# "1,119.9", "(95.1)", "0.0", "60,809": thousands separators, negatives in parentheses.
_NUMBER = re.compile(r"(\()?(-)?(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?(\))?")
_TICKER = re.compile(r"[A-Z][A-Z0-9]{1,5}")


class _TableReader(HTMLParser):
    """The cell texts, row by row, of the first ``<table class="etf">``.

    Farside leaves some ``<tr>`` unclosed, so a new ``<tr>`` (or ``<td>``) closes the open one
    instead of waiting for its end tag; cell text is whitespace-collapsed (it pads with NBSPs).
    """

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found = False
        self.rows: list[list[str]] = []
        self._depth = 0
        """Tables open inside and including the etf table (0: outside it)."""
        self._done = False
        self._row: list[str] | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._done:
            return
        if tag == "table":
            if self._depth:
                self._depth += 1
            elif "etf" in (dict(attrs).get("class") or "").split():
                self._depth = 1
                self.found = True
            return
        if self._depth != 1:
            return
        if tag == "tr":
            self._end_row()
            self._row = []
        elif tag in ("td", "th"):
            self._end_cell()
            if self._row is None:
                self._row = []
            self._cell = []
        elif tag == "br" and self._cell is not None:
            self._cell.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if not self._depth or self._done:
            return
        if tag == "table":
            self._depth -= 1
            if not self._depth:
                self._end_row()
                self._done = True
        elif self._depth == 1:
            if tag in ("td", "th"):
                self._end_cell()
            elif tag in ("tr", "thead", "tbody", "tfoot"):
                self._end_row()

    def handle_data(self, data: str) -> None:
        if self._depth == 1 and self._cell is not None:
            self._cell.append(data)

    def close(self) -> None:
        super().close()
        self._end_row()  # a page cut off inside the table

    def _end_cell(self) -> None:
        if self._cell is not None and self._row is not None:
            self._row.append(" ".join("".join(self._cell).split()))
        self._cell = None

    def _end_row(self) -> None:
        self._end_cell()
        if self._row:
            self.rows.append(self._row)
        self._row = None


def _day(text: str) -> date | None:
    """The date of a ``11 Jan 2024`` cell; ``None`` for any other text (Fee, Total, Average...).

    Raises:
        ParseError: for a date-shaped cell that is no real date (``31 Feb 2026``).
    """
    m = _DATE.fullmatch(text)
    if m is None or m.group(2).lower() not in _MONTHS:
        return None
    try:
        return date(int(m.group(3)), _MONTHS[m.group(2).lower()], int(m.group(1)))
    except ValueError:
        raise ParseError(f"not a real date: {text!r}") from None


def flow_value(text: str, *, what: str) -> float | None:
    """A cell in US$m: ``1,119.9`` → 1119.9, ``(95.1)`` → -95.1, ``-`` → ``None`` (no data).

    Raises:
        ParseError: for any other text, or a figure past :data:`MAX_ABS_FLOW`.
    """
    if text in NO_DATA:
        return None
    m = _NUMBER.fullmatch(text)
    if m is None or bool(m.group(1)) != bool(m.group(5)) or (m.group(1) and m.group(2)):
        raise ParseError(f"{what}: expected a number, '(n)' or '-', got {text[:20]!r}")
    value = float(m.group(3).replace(",", "") + (m.group(4) or ""))
    if m.group(1) or m.group(2):
        value = -value
    if abs(value) > MAX_ABS_FLOW:
        raise ParseError(f"{what}: {value:g} US$m is implausible for one day")
    return value + 0.0  # no negative zero from "(0.0)"


def parse_table(html: str) -> etf.FlowTable:
    """Read Farside's flow table from the page.

    The tickers' row is the header row holding ``IBIT``: it starts with ``Date`` (all-data page)
    or an empty cell (the ``/btc/`` page, whose ``Total`` sits in the issuer row above) and ends
    with the ``Total`` column. Funds are the columns in between, however many there are. Rows
    whose first cell is not a date (``Fee``, ``Total``, ``Average``, ``Maximum``, ``Minimum``)
    are skipped.

    Raises:
        BlockedError: no flow table and the page is a Cloudflare challenge.
        ParseError: no flow table, or a table whose layout is not the one described above
            (the message says what was expected).
    """
    reader = _TableReader()
    reader.feed(html)
    reader.close()
    if not reader.found:
        if any(marker in html for marker in CHALLENGE_MARKERS):
            raise BlockedError(200, "Cloudflare challenge page (no flow table)")
        raise ParseError('expected a <table class="etf"> (the flow table); the page has none')
    rows = reader.rows
    at = next((i for i, r in enumerate(rows) if ANCHOR in r), None)
    if at is None:
        raise ParseError(f"expected a header row of fund tickers holding {ANCHOR} in table.etf")
    header = rows[at]
    if header[0] not in ("", "Date"):
        raise ParseError(f"expected 'Date' first in the tickers' row, got {header[0][:20]!r}")
    total_above = any(r[-1] == "Total" and len(r) == len(header) for r in rows[:at])
    if not (header[-1] == "Total" or (header[-1] == "" and total_above)):
        raise ParseError(f"expected the tickers' row to end in 'Total', got {header[-1][:20]!r}")
    funds = tuple(header[1:-1])
    odd = [f for f in funds if not _TICKER.fullmatch(f)]
    if odd or len(set(funds)) != len(funds):
        raise ParseError(f"expected fund tickers between Date and Total, got {header[1:-1]!r}")
    days: dict[date, etf.FlowDay] = {}
    for r in rows[at + 1 :]:
        d = _day(r[0])
        if d is None:
            continue
        label = f"{d:%d %b %Y}"
        if len(r) != len(header):
            raise ParseError(
                f"{label}: expected {len(header)} cells (date, {len(funds)} funds, Total),"
                f" got {len(r)}"
            )
        if d in days:
            raise ParseError(f"{label}: two rows for one day")
        cells = tuple(
            flow_value(text, what=f"{label} {fund}")
            for fund, text in zip(funds, r[1:-1], strict=True)
        )
        days[d] = etf.FlowDay(d, cells, flow_value(r[-1], what=f"{label} Total"))
    if not days:
        raise ParseError(
            "expected rows dated like '11 Jan 2024' under the tickers' row, found none"
        )
    return etf.FlowTable(funds, tuple(days[d] for d in sorted(days)))


def observed_at(day: date) -> datetime:
    """When a trading day's figure is dated: 20:00 UTC that day (see :data:`DAY_TIME`)."""
    return datetime.combine(day, DAY_TIME)


def parse(body: Json, fetched_at: datetime) -> list[Observation]:
    """``etf.*`` readings from ``GET /bitcoin-etf-flow-all-data/`` (US$m).

    History: ``etf.flow.daily`` for every published day of the table, each at its own
    :func:`observed_at`. For the newest published day: ``etf.flow.5d`` (last five published
    days), ``etf.flow.mtd`` (its month so far), ``etf.outflow_streak`` (days),
    ``etf.flow.pending_funds`` (funds that reported the day before but not yet this day: while
    above 0 the day is provisional) and ``etf.flow.daily.<ticker>`` per reporting fund.

    Raises:
        BlockedError: a Cloudflare challenge page instead of the table.
        ParseError: not text, a changed layout, or a published day after the fetch.
    """
    if not isinstance(body, str):
        raise ParseError(f"expected the HTML page as text, got {type(body).__name__}")
    table = parse_table(body)
    newest = table.newest
    if newest is None:
        raise ParseError("no published day: every fund cell of every row is '-'")
    if newest.day > fetched_at.astimezone(UTC).date():
        raise ParseError(f"{newest.day.isoformat()} is published but after the fetch time")
    out = [
        Observation("etf.flow.daily", net, UNIT, NAME, observed_at(d))
        for d, net in etf.daily_totals(table)
    ]
    at = observed_at(newest.day)
    five = etf.sum_last(table)
    if five is not None:
        out.append(Observation("etf.flow.5d", round(five, 6), UNIT, NAME, at))
    mtd = etf.month_to_date(table)
    if mtd is not None:
        out.append(Observation("etf.flow.mtd", round(mtd, 6), UNIT, NAME, at))
    streak = etf.outflow_streak(table)
    if streak is not None:
        out.append(Observation("etf.outflow_streak", float(streak), "days", NAME, at))
    out.append(
        Observation("etf.flow.pending_funds", float(len(table.pending_funds)), "funds", NAME, at)
    )
    out.extend(
        Observation(f"etf.flow.daily.{fund.lower()}", v, UNIT, NAME, at)
        for fund, v in zip(table.funds, newest.cells, strict=True)
        if v is not None
    )
    return out


SPEC: Final = SourceSpec(
    name=NAME,
    title="Farside Investors",
    bucket="flows",
    base_url="https://farside.co.uk",
    endpoints=(
        # The table changes about once a day, filling in through the US evening; Cloudflare
        # fronts the site, so ask rarely (SOURCES.md §10: at most every 30-60 min).
        Endpoint("flows", "/bitcoin-etf-flow-all-data/", parse, interval_s=3600.0, format="text"),
    ),
    interval_s=3600.0,
    docs_url="https://farside.co.uk/bitcoin-etf-flow-all-data/",
    # Cloudflare blocks many plain clients: after a block, wait hours, never fight the challenge.
    blocked_backoff_s=4 * 3600.0,
    # Daily figures: Friday's is the newest until Monday's comes in on Monday evening (US), so
    # a figure is stale only when older than a weekend: 20:00 UTC Friday + 80 h = 04:00 UTC
    # Tuesday. (A Monday holiday makes Friday's figure look stale for Tuesday's day.)
    stale_after_s=80 * 3600.0,
    # Farside publishes no rate limit; its one request an hour is the courtesy (spacing is per
    # host and holds other requests to the same host back, so it stays short).
    min_spacing_s=1.0,
)
