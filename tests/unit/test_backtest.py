"""The backtest on a hand-built 60-day history whose forward returns can be checked by hand.

The history (pivot $70,000; every reading stamped at a UTC day close, as a backfill stores
completed days):

====================  =========  ========  ==============  ======================================
days (from 1 Jan 25)  BTC close  funding   ETF out-streak  call
====================  =========  ========  ==============  ======================================
0-19                  80,000     +0.01     0               holding (leverage falling, miners
                                                           easing, price above the pivot)
20                    64,000     -0.01     3               contested: funding stays bullish one
                                                           close (hysteresis), so 1 retest item
21-39                 64,000     -0.01     3               retest risk: funding bearish + outflows
40-44                 (nothing)                            left out: no data at the time
45-59                 72,000     +0.01     0               holding
====================  =========  ========  ==============  ======================================

Every day also has OI 24 h change -1 % (leverage falling) and hashprice $33 (miners neutral: not
squeezed below $32, no relief above $35). Skew, ETF flows and on-chain have no inputs: waiting.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from tui.core import backtest
from tui.core.backtest import DAILY_GAP_S, DailyIndex
from tui.core.config import Settings
from tui.core.model import CONSENSUS, Board, Observation, RowState, RuleResult
from tui.core.rules import DEFAULT_RULES, configured
from tui.core.rules.evaluate import CODES, evaluate
from tui.core.store import Store

START = datetime(2025, 1, 1, tzinfo=UTC)
DAY = timedelta(days=1)
SETTINGS = Settings()  # pivot 70,000
HOLE = range(40, 45)


def close(i: int) -> datetime:
    """The close of day ``i``: the next UTC midnight."""
    return START + (i + 1) * DAY


def price(i: int) -> float | None:
    if i in HOLE:
        return None
    return 80_000.0 if i < 20 else 64_000.0 if i < 40 else 72_000.0


def readings(days: range = range(60)) -> list[Observation]:
    out = []
    for i in days:
        p = price(i)
        if p is None:
            continue
        at = close(i)
        bad = 20 <= i < 40
        out += [
            Observation("btc.price", p, "USD", CONSENSUS, at),
            Observation("funding.oi_weighted", -0.01 if bad else 0.01, "% per 8h", CONSENSUS, at),
            Observation("etf.outflow_streak", 3.0 if bad else 0.0, "days", "farside", at),
            Observation("oi.futures.total.chg_24h", -1.0, "%", CONSENSUS, at),
            Observation("mining.hashprice", 33.0, "USD/PH/s/day", "mempool", at),
        ]
    return out


def hand_store(days: range = range(60)) -> Store:
    """The module docstring's history in an in-memory Store."""
    store = Store.open(None)
    store.write(readings(days))
    return store


def run_all(store: Store) -> backtest.Backtest:
    return backtest.run(store, DEFAULT_RULES, since=START, until=close(59), settings=SETTINGS)


def rows(day: backtest.Day) -> dict[str, RowState]:
    return dict(day.rows)


def test_each_day_is_called_as_the_article_counts_and_the_hole_is_left_out() -> None:
    bt = run_all(hand_store())
    assert [d.date for d in bt.days] == [date(2025, 1, 1) + i * DAY for i in range(60)]
    calls = [d.call for d in bt.days]
    assert calls[:20] == ["holding"] * 20
    assert calls[20] == "contested"
    assert calls[21:40] == ["retest risk"] * 19
    assert calls[40:45] == [None] * 5
    assert calls[45:] == ["holding"] * 15
    assert (bt.judged, bt.left_out) == (55, 5)
    # Funding: a hold of 1-24 h needs two closes in a row; a confirmed state survives one
    # failing close (its exit is 2 h: the failing run began at this very close).
    assert rows(bt.days[0])["funding"] is RowState.NEUTRAL
    assert rows(bt.days[1])["funding"] is RowState.BULLISH
    assert rows(bt.days[20])["funding"] is RowState.BULLISH
    assert rows(bt.days[21])["funding"] is RowState.BEARISH
    assert rows(bt.days[5])["mining"] is RowState.NEUTRAL
    assert rows(bt.days[5])["skew"] is RowState.WAITING
    assert [d.price for d in bt.days[38:46]] == [64_000.0] * 2 + [None] * 5 + [72_000.0]


def test_forward_returns_per_call_are_the_hand_computed_ones() -> None:
    bt = run_all(hand_store())
    by = {s.state: s for s in bt.table}
    assert [s.state for s in bt.table] == ["holding", "contested", "retest risk", "all judged"]

    holding = by["holding"]
    assert holding.days == 35
    d7, d30 = holding.forward
    # 7 d: days 0-12 and 45-52 stay flat (0), days 13-19 land on 64,000 (-20 %); 53-59 too late.
    assert (d7.horizon, d7.count, d7.no_price) == (7, 28, 7)
    assert d7.median == 0.0
    assert d7.share_negative == pytest.approx(7 / 28)
    assert d7.worst == pytest.approx(-0.2)
    # 30 d: days 0-9 land on 64,000 (-20 %), 15-19 on 72,000 (-10 %); 10-14 in the hole, 45-59
    # past the end.
    assert (d30.horizon, d30.count, d30.no_price) == (30, 15, 20)
    assert d30.median == pytest.approx(-0.2)
    assert d30.share_negative == 1.0
    assert d30.worst == pytest.approx(-0.2)

    retest = by["retest risk"]
    assert retest.days == 19
    d7, d30 = retest.forward
    # 7 d: days 21-32 flat, 38-39 land on 72,000 (+12.5 %); 33-37 land in the hole.
    assert (d7.count, d7.no_price, d7.median, d7.share_negative, d7.worst) == (14, 5, 0, 0, 0)
    # 30 d: days 21-29 land on 72,000; 30-39 past the end.
    assert (d30.count, d30.no_price) == (9, 10)
    assert d30.median == pytest.approx(0.125)
    assert (d30.share_negative, d30.worst) == (0.0, pytest.approx(0.125))

    contested = by["contested"]
    assert contested.days == 1
    assert [(f.count, f.median) for f in contested.forward] == [(1, 0.0), (1, pytest.approx(0.125))]

    every = by["all judged"]
    assert every.days == 55
    assert [(f.count, f.no_price) for f in every.forward] == [(28 + 1 + 14, 12), (25, 30)]
    assert every.forward[0].share_negative == pytest.approx(7 / 43)
    # 30 d: 10 x -20 %, 5 x -10 %, 10 x +12.5 %: the 13th of 25 is -10 %.
    assert every.forward[1].median == pytest.approx(-0.1)
    assert every.forward[1].share_negative == pytest.approx(15 / 25)


def test_a_call_without_days_has_no_figures() -> None:
    store = hand_store(range(20))  # holding only
    bt = backtest.run(store, DEFAULT_RULES, since=START, until=close(19), settings=SETTINGS)
    retest = next(s for s in bt.table if s.state == "retest risk")
    assert retest.days == 0
    assert all(
        (f.count, f.median, f.share_negative, f.worst, f.no_price) == (0, None, None, None, 0)
        for f in retest.forward
    )


def as_of(at: datetime) -> Store:
    """What the engine would have had stored at ``at``: nothing later."""
    store = Store.open(None)
    store.write([o for o in readings() if o.observed_at <= at])
    return store


@pytest.mark.parametrize("i", [0, 1, 19, 20, 21, 39, 45, 46, 59])
def test_a_day_s_rows_are_what_evaluate_says_at_that_close(i: int) -> None:
    """The same rule code: ``evaluate`` on the Store as it stood at the close, with the Board
    of the latest stored readings, gives the backtest's row states."""
    bt = run_all(hand_store())
    at = close(i)
    store = as_of(at)
    keys = [*backtest.inputs(DEFAULT_RULES), *backtest.VERDICT_INPUTS]
    latest = []
    for id_, source in keys:
        found = store.series(id_, source, until=at)
        if found:
            latest.append(Observation(id_, found[-1][1], "", source, found[-1][0]))
    board = Board("live", at).with_updates(
        now=at, observations=latest, stale_after=backtest.stale_limits(DEFAULT_RULES, keys)
    )
    previous: dict[str, RuleResult] = {}
    for day in bt.days[:i]:
        for key, state in day.rows:
            if state in CODES:
                previous[key] = RuleResult(key, key, state, "", None)
    results = evaluate(
        DEFAULT_RULES, board, store, at, SETTINGS.pivot, previous, min_gap_s=DAILY_GAP_S
    )
    assert tuple((r.key, r.state) for r in results) == bt.days[i].rows


def test_no_look_ahead_later_history_does_not_change_earlier_days() -> None:
    whole = run_all(hand_store())
    first_half = backtest.run(
        hand_store(range(30)), DEFAULT_RULES, since=START, until=close(59), settings=SETTINGS
    )
    for a, b in zip(whole.days[:30], first_half.days[:30], strict=True):
        assert (a.rows, a.call, a.price) == (b.rows, b.call, b.price)
    # Only the outcome differs: what price did next is not known to the shorter history.
    assert whole.days[25].forward[0] == 0.0
    assert first_half.days[25].forward[0] is None


def test_the_index_keeps_the_last_reading_of_each_utc_day() -> None:
    store = Store.open(None)
    at = START + 5 * DAY
    store.write(
        [
            Observation("btc.price", 1.0, "USD", CONSENSUS, at - timedelta(hours=23)),
            Observation("btc.price", 2.0, "USD", CONSENSUS, at),  # midnight: that day's close
            Observation("btc.price", 3.0, "USD", CONSENSUS, at + timedelta(hours=1)),
            Observation("btc.price", 4.0, "USD", CONSENSUS, at + timedelta(hours=9)),
            Observation("btc.price", 5.0, "USD", CONSENSUS, at + 3 * DAY),
        ]
    )
    index = DailyIndex(store)
    assert index.series("btc.price", CONSENSUS) == [
        (at, 2.0),
        (at + timedelta(hours=9), 4.0),
        (at + 3 * DAY, 5.0),
    ]
    assert index.series("btc.price", CONSENSUS, since=at + DAY, until=at + 3 * DAY) == [
        (at + 3 * DAY, 5.0)
    ]
    assert index.close("btc.price", CONSENSUS, at) == 2.0
    assert index.close("btc.price", CONSENSUS, at + DAY) == 4.0
    assert index.close("btc.price", CONSENSUS, at + 2 * DAY) is None  # a day without a price
    assert index.first("btc.price", CONSENSUS) == at
    assert index.first("funding.oi_weighted", CONSENSUS) is None


def test_closes_are_the_midnights_after_since_up_to_until() -> None:
    got = backtest.closes(START + timedelta(hours=5), START + 3 * DAY)
    assert got == [START + DAY, START + 2 * DAY, START + 3 * DAY]
    assert backtest.closes(START, START + DAY - timedelta(seconds=1)) == []


def test_varying_a_threshold_changes_only_that_condition_and_the_table() -> None:
    store = hand_store()
    index = DailyIndex(store)
    knobs = {k.key: k for k in backtest.knobs(DEFAULT_RULES, SETTINGS.pivot)}
    negative = knobs["funding.0.bearish.negative"]
    assert negative.value == 0.0
    assert negative.step == 0.001
    assert negative.label == "Funding · bearish: funding below +0.0000 %/8h"
    assert knobs["pivot"].value == SETTINGS.pivot
    # The on-chain row's Glassnode rule and its keyless proxy are separate knobs.
    assert knobs["onchain.0.bullish.losses_fading"].value == 0.63e9
    assert knobs["onchain.1.bullish.losses_fading"].value == -0.3e9
    assert "(proxy, not realized loss)" in knobs["onchain.1.bullish.losses_fading"].label

    # Funding at -0.01 is no longer "below -0.02": never bearish, so no retest risk at all.
    varied = backtest.nudged(DEFAULT_RULES, negative.key, -0.02)
    funding = varied[0]
    assert funding.bearish[0].threshold == -0.02
    assert funding.bullish == DEFAULT_RULES[0].bullish
    assert varied[1:] == DEFAULT_RULES[1:]
    before = backtest.run(index, DEFAULT_RULES, since=START, until=close(59), settings=SETTINGS)
    after = backtest.run(index, varied, since=START, until=close(59), settings=SETTINGS)
    days = {s.state: s.days for s in before.table}
    assert (days["retest risk"], days["contested"]) == (19, 1)
    days = {s.state: s.days for s in after.table}
    assert (days["retest risk"], days["contested"]) == (0, 20)

    proxy = backtest.nudged(DEFAULT_RULES, "onchain.1.bullish.losses_fading", -0.2e9)[4]
    assert proxy.fallback is not None
    assert proxy.fallback.bullish[0].threshold == -0.2e9
    assert proxy.bullish[0].threshold == 0.63e9  # config would change both (see the report)
    with pytest.raises(ValueError, match="no threshold"):
        backtest.nudged(DEFAULT_RULES, "nope.0.bullish.x", 1.0)
    with pytest.raises(ValueError, match="no bearish condition"):
        backtest.nudged(DEFAULT_RULES, "funding.0.bearish.positive", 1.0)


def test_a_higher_pivot_turns_the_late_holding_days() -> None:
    index = DailyIndex(hand_store())
    high = Settings(pivot=75_000.0)
    bt = backtest.run(index, DEFAULT_RULES, since=START, until=close(59), settings=high)
    # 72,000 is under a 75,000 pivot: with no retest item, contested, not holding.
    assert [d.call for d in bt.days[45:]] == ["contested"] * 15


def test_configured_overrides_reach_the_backtest() -> None:
    rules = configured({"funding.negative.hold_h": 30})  # two daily closes are only 24 h
    bt = backtest.run(hand_store(), rules, since=START, until=close(59), settings=SETTINGS)
    assert rows(bt.days[21])["funding"] is not RowState.BEARISH
    assert rows(bt.days[22])["funding"] is RowState.BEARISH


def test_text_json_and_timeline_say_history_not_advice() -> None:
    bt = run_all(hand_store())
    text = backtest.render_text(bt)
    assert text.startswith(
        "Backtest · History, not advice · 55 days · left out 5 (no data at the time)"
        " · 01 Jan 2025 – 01 Mar 2025\n"
    )
    lines = text.splitlines()
    assert lines[3:8] == [
        "verdict       days │   7d n  median  neg   worst │  30d n  median  neg   worst",
        "holding         35 │     28   +0.0%  25%  -20.0% │     15  -20.0% 100%  -20.0%",
        "contested        1 │      1   +0.0%   0%   +0.0% │      1  +12.5%   0%  +12.5%",
        "retest risk     19 │     14   +0.0%   0%   +0.0% │      9  +12.5%   0%  +12.5%",
        "all judged      55 │     43   +0.0%  16%  -20.0% │     25  -10.0%  60%  -20.0%",
    ]
    assert "12 without a price 7 days later · 30 without a price 30 days later" in text
    doc = backtest.to_dict(bt)
    assert (doc["days_judged"], doc["left_out"], doc["note"]) == (55, 5, "history, not advice")
    days = doc["days"]
    assert isinstance(days, list)
    assert days[20]["call"] == "contested"
    assert days[20]["rows"]["funding"] == "bullish confirmed"
    assert days[40]["call"] is None

    chart = backtest.timeline(bt)
    assert len(chart.points) == 55
    marks = {tone: (glyph, times) for tone, glyph, times in chart.marks}
    assert marks["bullish"][0] == "▲"
    assert len(marks["bullish"][1]) == 35
    assert len(marks["bearish"][1]) == 19
    assert len(marks["missing"][1]) == 5
    assert chart.band < min(p for _, p in chart.points)
    assert chart.y_range[0] < chart.band
    assert chart.pivot == 70_000.0


def test_days_without_a_recorded_consensus_price_take_the_median_of_venue_closes() -> None:
    """A backfill stores daily candles, not the consensus: the median of the venues' closes."""
    store = Store.open(None)
    closes_ = {"coinbase": (100.0, 200.0, 300.0), "kraken": (110.0, 210.0), "bitstamp": (90.0,)}
    for venue, values in closes_.items():
        store.write(
            [
                Observation(f"btc.day.close.{venue}", v, "USD", venue, close(i))
                for i, v in enumerate(values)
            ]
        )
    # The forming day's candle (observed at its fetch, not at a midnight) is not a close.
    store.write([Observation("btc.day.close.kraken", 999.0, "USD", "kraken", close(3) + DAY / 2)])
    store.write([Observation("btc.price", 250.0, "USD", CONSENSUS, close(1) - DAY / 3)])  # live
    index = DailyIndex(store)
    assert [index.close("btc.price", CONSENSUS, close(i)) for i in range(5)] == [
        100.0,  # median of 100, 110, 90
        250.0,  # the recorded consensus wins over the candles' 205
        300.0,
        None,
        None,
    ]
