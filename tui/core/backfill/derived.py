"""The derive step: the cross-source daily readings the checklist reads, at each backfilled close.

A backfill loads each venue's raw series; the rules read readings the engine derives live
(``btc.price``, ``mining.hashprice``, ``funding.oi_weighted``, ``oi.futures.total`` and its
changes, ``etf.outflow_streak``...). Here the engine's own analytics run once per completed UTC
day of the range, at its close (00:00 UTC after it, where a daily candle is observed), on a Board
of the latest stored readings at that instant and a view of the store that ends there (no
look-ahead). What they return is written with ``Store.write_backfill`` (marked, never over a row
held), stamped as the analytics stamp it: re-running adds nothing, so the step runs after every
backfill, whether or not anything new was fetched.

Freshness. The live stale limits are minutes, for minute data. On this Board every reading up
to :data:`DAILY_STALE_S` (one day) old at the close is fresh: a funding settlement, an open-interest
snapshot, yesterday's block rewards, all of which a daily history publishes once a day at most.
Older ones are stale, as live, and the analytics leave them out.

Per reading (nothing is invented: a day whose inputs are missing has no value):

- ``btc.price``: :func:`tui.core.analytics.price.derive` over the venues' daily closes at the
  close (Coinbase, Kraken, Bitstamp candles, each as that venue's price then): the median of at
  least two.
- ``mining.hashprice``: :func:`tui.core.analytics.mining.derive` on the difficulty in force at
  the close, the day's mean block reward and that ``btc.price``. The difficulty is a step: live,
  every poll reads the one in force and stamps it with the poll's time, so the adjustment in force
  is put on the Board at the close, when the backfill's adjustment list covers the days between
  (else only an adjustment under a day old counts). mempool lists the adjustments inside the
  asked days, so hashprice starts at the first adjustment of the range (up to two weeks in).
- ``funding.oi_weighted``, ``oi.futures.total``, ``.chg_24h``, ``.chg_7d``:
  :func:`tui.core.analytics.funding.derive` on each venue's latest funding and open interest.
  Binance's daily open-interest history gives ``sumOpenInterest`` (BTC) and
  ``sumOpenInterestValue`` (USD); the analytics value the BTC at Binance's mark price, so the mark
  at that snapshot is ``value / BTC`` (Binance's own valuation), and the venue's USD OI is exactly
  the published value. Only Binance's OI has free history (its latest 30 days), so these start
  there and weigh Binance alone, as ``derive`` does with one venue.
- ``etf.flow.5d``, ``etf.flow.mtd``, ``etf.outflow_streak``: :mod:`tui.core.analytics.etf` over
  the stored daily totals up to each published day, at that day's 20:00 UTC, as the live Farside
  parser stamps them.

Not derived: ``funding.positive_hours`` (a run is proven only by values at most 2 h apart; daily
values cannot show one, and a 0 would be a claim), options skew and term structure (no free
history), the on-chain proxy (its series loads already derived: :mod:`.coinmetrics`).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from types import MappingProxyType
from typing import Final

from tui.core.analytics import History, etf, funding, mining, price
from tui.core.backfill.series import DAY, day_start, parse_mark
from tui.core.config import Settings
from tui.core.model import CONSENSUS, Board, Observation
from tui.core.sources import farside
from tui.core.store import Store

#: On the Board at a close, a reading up to this old is fresh (see the module docstring).
DAILY_STALE_S: Final = 86_400.0
#: How far before the first close inputs are read: a day of freshness, and the difficulty
#: adjustment in force (about two weeks apart; a month covers a slow epoch).
LOOKBACK: Final = timedelta(days=35)
#: The venues whose daily candle closes make the consensus (``btc.price.<venue>`` of each).
CANDLE_VENUES: Final = ("coinbase", "kraken", "bitstamp")
#: The backfill mark of the mempool adjustment list (:mod:`tui.core.backfill.mining`).
DIFFICULTY_MARK: Final = "mempool.hashrate"
#: The funding analytics' outputs that are kept (the rules and the verdict read them).
FUNDING_IDS: Final = (
    "funding.oi_weighted",
    "oi.futures.total",
    "oi.futures.total.chg_24h",
    "oi.futures.total.chg_7d",
)
ETF_IDS: Final = ("etf.flow.5d", "etf.flow.mtd", "etf.outflow_streak")
_OI_REACH: Final = "Binance publishes open interest for its latest 30 days only"
#: What each derived reading needs, said beside the day its history starts.
NEEDS: Final[Mapping[str, str]] = {
    "btc.price": "the median of 2+ venues' daily closes",
    "mining.hashprice": "difficulty in force, that day's block rewards and btc.price",
    "funding.oi_weighted": f"a venue's funding and open interest; {_OI_REACH}",
    "oi.futures.total": _OI_REACH,
    "oi.futures.total.chg_24h": f"the total a day before; {_OI_REACH}",
    "oi.futures.total.chg_7d": f"the total 7 days before; {_OI_REACH}",
    "etf.flow.5d": "5 published Farside days",
    "etf.flow.mtd": "published Farside days",
    "etf.outflow_streak": "published Farside days",
}
#: Readings the rules read that this step does not form, and why.
NOT_DERIVED: Final = (
    ("funding.positive_hours", "a run needs values at most 2 h apart; daily history has none"),
)
_KEYS: Final = (
    ("btc.price", CONSENSUS),
    ("mining.hashprice", mining.SOURCE),
    *((i, CONSENSUS) for i in FUNDING_IDS),
    *((i, farside.NAME) for i in ETF_IDS),
)


@dataclass(frozen=True, slots=True)
class DerivedResult:
    """One derived reading over the range: which days have it, and what was added."""

    id: str
    source: str
    days: tuple[date, ...]
    """The days of the range it has a value for (a day: the one a close ends, or an ETF day)."""
    rows_added: int
    needs: str
    """What it needs (and what limits its history), for the summary."""

    @property
    def first(self) -> date | None:
        """The first day with a value."""
        return self.days[0] if self.days else None


@dataclass(frozen=True, slots=True)
class DeriveReport:
    """What the derive step found over ``[first, last]``."""

    first: date
    last: date
    results: tuple[DerivedResult, ...] = ()
    not_derived: tuple[tuple[str, str], ...] = NOT_DERIVED

    @property
    def rows_added(self) -> int:
        """Rows newly stored in all."""
        return sum(r.rows_added for r in self.results)

    def lines(self) -> tuple[str, ...]:
        """One line per reading: from when, on how many days, and what limits it."""
        total = (self.last - self.first).days + 1
        out = []
        for r in self.results:
            if r.first is None:
                out.append(f"derived {r.id}: none in {self.first}..{self.last} (needs {r.needs})")
            else:
                out.append(
                    f"derived {r.id}: from {r.first} ({r.needs}), "
                    f"{len(r.days)} of {total} days, +{r.rows_added:,} rows"
                )
        out.extend(f"not derived {i}: {why}" for i, why in self.not_derived)
        return tuple(out)


@dataclass(frozen=True, slots=True)
class _AsOf:
    """The store as it stood at ``now``: nothing later is visible to the analytics."""

    history: History
    now: datetime

    def series(
        self, id_: str, source: str, since: datetime | None = None, until: datetime | None = None
    ) -> list[tuple[datetime, float]]:
        end = self.now if until is None or until > self.now else until
        return self.history.series(id_, source, since=since, until=end)


@dataclass(slots=True)
class _Inputs:
    """Stored series read once each between ``since`` and ``until``, then bisected per close."""

    store: Store
    since: datetime
    until: datetime
    _cache: dict[tuple[str, str], tuple[list[datetime], list[float]]] = field(default_factory=dict)

    def _get(self, id_: str, source: str) -> tuple[list[datetime], list[float]]:
        got = self._cache.get((id_, source))
        if got is None:
            points = self.store.series(id_, source, since=self.since, until=self.until)
            got = ([t for t, _ in points], [v for _, v in points])
            self._cache[(id_, source)] = got
        return got

    def at(self, id_: str, source: str, when: datetime, unit: str = "") -> Observation | None:
        """The latest stored reading at or before ``when``."""
        times, values = self._get(id_, source)
        i = bisect_right(times, when)
        return Observation(id_, values[i - 1], unit, source, times[i - 1]) if i else None


def closes(first: date, last: date) -> list[datetime]:
    """The close of every day of ``[first, last]``: 00:00 UTC after it."""
    return [day_start(first) + (i + 1) * DAY for i in range((last - first).days + 1)]


def derive(store: Store, settings: Settings, first: date, last: date) -> DeriveReport:
    """Derive the checklist's daily readings for every completed day of ``[first, last]``.

    Args:
        store: the history (read, and written with ``write_backfill``).
        settings: the pivot (the price analytics form the pivot distance, not stored here).
        first: the first day.
        last: the last day (a completed one: its close is at or before now).

    Raises:
        StoreError: the store cannot be read or written.
    """
    at_closes = closes(first, last)
    found: dict[tuple[str, str], dict[date, Observation]] = {k: {} for k in _KEYS}
    if at_closes:
        inputs = _Inputs(store, at_closes[0] - LOOKBACK, at_closes[-1])
        covered = parse_mark(store.backfill_mark(DIFFICULTY_MARK))
        for close in at_closes:
            day = (close - DAY).date()
            for o in _at_close(close, inputs, store, settings, covered):
                found[(o.id, o.source)].setdefault(day, o)
        for o in _etf(store, first, last):
            found[(o.id, o.source)].setdefault(o.observed_at.date(), o)
    results = []
    for key, by_day in found.items():
        added = store.write_backfill(_unique(by_day.values()))
        results.append(DerivedResult(*key, tuple(sorted(by_day)), added, NEEDS[key[0]]))
    return DeriveReport(first, last, tuple(results))


def _unique(observations: Iterable[Observation]) -> list[Observation]:
    """One row per stamp (two closes may stamp the same input's time): the first one formed."""
    seen: dict[datetime, Observation] = {}
    for o in observations:
        seen.setdefault(o.observed_at, o)
    return list(seen.values())


def _board(close: datetime, observations: Iterable[Observation | None]) -> Board:
    obs = {(o.id, o.source): o for o in observations if o is not None}
    limits = {source: DAILY_STALE_S for _, source in obs}
    return Board("replay", close, MappingProxyType(obs), stale_after=MappingProxyType(limits))


def _at_close(
    close: datetime,
    inputs: _Inputs,
    store: Store,
    settings: Settings,
    covered: tuple[date, date] | None,
) -> list[Observation]:
    """Everything derived at one close."""
    out: list[Observation] = []
    consensus = _price(close, inputs, settings)
    if consensus is not None:
        out.append(consensus)
    history = _AsOf(store, close)
    board = _board(
        close,
        (
            _difficulty(close, inputs, covered),
            inputs.at("mining.reward_144", mining.SOURCE, close, "BTC"),
            consensus,
        ),
    )
    out += mining.derive(board, history, close, settings)
    board = _board(close, _derivatives(close, inputs))
    out += [o for o in funding.derive(board, history, close, settings) if o.id in FUNDING_IDS]
    return out


def _price(close: datetime, inputs: _Inputs, settings: Settings) -> Observation | None:
    """``btc.price``: the price analytics' median over each venue's daily close at ``close``."""
    latest = {}
    for venue in CANDLE_VENUES:
        o = inputs.at(f"btc.day.close.{venue}", venue, close, "USD")
        if o is not None and o.observed_at == close:  # the candle of the day this close ends
            id_ = price.VENUE_PRICES[venue]
            latest[(id_, venue)] = Observation(id_, o.value, "USD", venue, close)
    limits = dict.fromkeys(CANDLE_VENUES, DAILY_STALE_S)
    derived = price.derive(latest, close, limits, settings.pivot)
    return next((o for o in derived.observations if o.id == "btc.price"), None)


def _difficulty(
    close: datetime, inputs: _Inputs, covered: tuple[date, date] | None
) -> Observation | None:
    """The difficulty in force at ``close``, observed then (as a poll at that moment would).

    The latest stored value before the close is in force when the adjustment list loaded by the
    backfill covers every day from it to the close (no adjustment can hide between), or when it
    is under a day old (a live poll's).
    """
    o = inputs.at("mining.difficulty", mining.SOURCE, close)
    if o is None:
        return None
    listed = (
        covered is not None
        and covered[0] <= o.observed_at.date()
        and (close - DAY).date() <= covered[1]
    )
    if not listed and (close - o.observed_at).total_seconds() > DAILY_STALE_S:
        return None
    return Observation(o.id, o.value, o.unit, o.source, close)


def _derivatives(close: datetime, inputs: _Inputs) -> list[Observation | None]:
    """Each venue's latest funding and OI parts; Binance's mark implied by its OI snapshot."""
    out: list[Observation | None] = []
    for v in funding.VENUES:
        out.append(inputs.at(*v.funding, close, funding.FUNDING_UNIT))
        if v.name == "binance":
            btc = inputs.at("oi.futures.binance_btc", "binance", close, "BTC")
            mark = inputs.at("btc.price.binance_mark", "binance", close, "USD")
            out += [btc, _newer(mark, _implied_mark(btc, inputs))]
        elif v.oi_parts:
            out += [inputs.at(i, s, close, "USD") for i, s in v.oi_parts]
        else:
            out.append(inputs.at(f"oi.futures.{v.name}", v.source, close, "USD"))
    return out


def _implied_mark(btc: Observation | None, inputs: _Inputs) -> Observation | None:
    """Binance's mark at an open-interest snapshot: ``sumOpenInterestValue / sumOpenInterest``."""
    if btc is None or btc.value <= 0:
        return None
    usd = inputs.at("oi.futures.binance", "binance", btc.observed_at, "USD")
    if usd is None or usd.observed_at != btc.observed_at:
        return None
    return Observation(
        "btc.price.binance_mark", usd.value / btc.value, "USD", "binance", usd.observed_at
    )


def _newer(a: Observation | None, b: Observation | None) -> Observation | None:
    if a is None or b is None:
        return a or b
    return a if a.observed_at >= b.observed_at else b


def _etf(store: Store, first: date, last: date) -> list[Observation]:
    """The 5-day sum, month to date and outflow streak as of each published day in range."""
    totals = store.series("etf.flow.daily", farside.NAME, until=farside.observed_at(last))
    by_day: dict[date, float] = {}
    for t, v in totals:  # one total a trading day (the last stored, should two be)
        by_day[t.date()] = v
    days = sorted(by_day)
    out: list[Observation] = []
    month_start = run_start = 0
    for n, d in enumerate(days):
        if n and (d.year, d.month) != (days[n - 1].year, days[n - 1].month):
            month_start = n
        if by_day[d] >= 0:
            run_start = n  # an outflow run counted back from a later day stops here
        if d < first:
            continue
        # The days the three figures read (the month so far, the last five, the outflow run):
        # the same answers as the whole table, without re-reading two years at every day.
        table = _table(
            days[max(0, min(month_start, n - etf.SUM_DAYS + 1, run_start)) : n + 1], by_day
        )
        at = farside.observed_at(d)
        five = etf.sum_last(table)
        if five is not None:
            out.append(Observation("etf.flow.5d", round(five, 6), farside.UNIT, farside.NAME, at))
        mtd = etf.month_to_date(table)
        if mtd is not None:
            out.append(Observation("etf.flow.mtd", round(mtd, 6), farside.UNIT, farside.NAME, at))
        streak = etf.outflow_streak(table)
        if streak is not None:
            out.append(Observation("etf.outflow_streak", float(streak), "days", farside.NAME, at))
    return out


def _table(days: Sequence[date], totals: Mapping[date, float]) -> etf.FlowTable:
    """A Farside table of the daily totals alone (one column): what the sums and the streak
    read, as :func:`tui.core.analytics.etf.daily_totals` gives them."""
    return etf.FlowTable(("total",), tuple(etf.FlowDay(d, (totals[d],), totals[d]) for d in days))
