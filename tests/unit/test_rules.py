"""Checklist rules on hand-built histories: persistence, hysteresis, gaps, stale and missing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tui.core.errors import ConfigError
from tui.core.model import (
    CONSENSUS,
    Board,
    Observation,
    RowState,
    RuleResult,
    SourceStatus,
    Status,
)
from tui.core.rules import DEFAULT_RULES, FLOWS, FUNDING, ONCHAIN, Rule, configured
from tui.core.rules.evaluate import (
    RULES_SOURCE,
    Runs,
    changes,
    evaluate,
    evaluate_rule,
    state_observations,
    stored_states,
)
from tui.core.rules.verdict import verdict
from tui.core.store import Store

NOW = datetime(2026, 2, 6, 20, 0, tzinfo=UTC)
H = timedelta(hours=1)
PIVOT = 70_000.0
LIMITS = {CONSENSUS: 180.0, "farside": 36 * 3600.0, "coinmetrics": 2 * 86_400.0, "mempool": 900.0}


def funding_history(values: list[tuple[timedelta, float]]) -> tuple[Board, Store]:
    """Hourly funding.oi_weighted readings at NOW - offset, stored and the newest on the Board."""
    store = Store.open(None)
    obs = [
        Observation("funding.oi_weighted", v, "% per 8h", CONSENSUS, NOW - dt) for dt, v in values
    ]
    store.write(obs)
    board = Board("live", NOW).with_updates(now=NOW, observations=obs, stale_after=LIMITS)
    return board, store


def hourly(hours: int, value: float, start: int = 0) -> list[tuple[timedelta, float]]:
    return [(H * (start + i), value) for i in range(hours)]


def test_funding_positive_for_more_than_eight_hours_is_bullish_since_the_eighth_hour() -> None:
    board, store = funding_history(hourly(10, 0.004) + hourly(5, -0.01, start=10))
    r = evaluate_rule(FUNDING, board, store, NOW, PIVOT)
    assert r.state is RowState.BULLISH
    assert r.since == NOW - 9 * H + 8 * H  # the run began 9 h ago and counts after 8 h
    assert "funding +0.0040 %/8h, above +0.0000 %/8h for 9 h" in r.reason
    assert r.key_reading == "+0.0040 %/8h"


def test_a_two_hour_blip_of_positive_funding_is_not_a_confirmation() -> None:
    board, store = funding_history(hourly(2, 0.004) + hourly(10, -0.01, start=2))
    r = evaluate_rule(FUNDING, board, store, NOW, PIVOT)
    assert r.state is RowState.NEUTRAL
    assert r.since == NOW  # judged afresh: neutral from the first judgement
    assert "bullish needs funding above +0.0000 %/8h for 8 h" in r.reason


def test_steady_negative_funding_is_bearish() -> None:
    board, store = funding_history(hourly(6, -0.01))
    r = evaluate_rule(FUNDING, board, store, NOW, PIVOT)
    assert r.state is RowState.BEARISH
    assert r.since == NOW - 5 * H + H


def test_hysteresis_keeps_a_confirmed_state_through_a_short_dip() -> None:
    dip = [(timedelta(0), -0.001), (timedelta(minutes=30), -0.001)]
    board, store = funding_history([*dip, *hourly(12, 0.004, start=1)])
    was = RuleResult("funding", "Funding", RowState.BULLISH, "", NOW - 4 * H)
    r = evaluate_rule(FUNDING, board, store, NOW, PIVOT, previous=was)
    assert r.state is RowState.BULLISH
    assert r.since == NOW - 4 * H
    assert "kept until a condition has failed for 2 h" in r.reason
    # Once the exit condition has held long enough (2 h), the row leaves the state: here for
    # bearish, since negative funding has also held its hour.
    board, store = funding_history([*hourly(3, -0.001), *hourly(12, 0.004, start=3)])
    r = evaluate_rule(FUNDING, board, store, NOW, PIVOT, previous=was)
    assert r.state is RowState.BEARISH
    assert r.since == NOW - 2 * H + H


def test_a_gap_longer_than_allowed_breaks_the_run() -> None:
    # Positive for 5 h, a 3 h hole, positive for 6 more hours before it: not 8 h in a row.
    board, store = funding_history(hourly(5, 0.004) + hourly(6, 0.004, start=8))
    assert evaluate_rule(FUNDING, board, store, NOW, PIVOT).state is RowState.NEUTRAL
    board, store = funding_history(hourly(5, 0.004) + hourly(6, 0.004, start=5))
    assert evaluate_rule(FUNDING, board, store, NOW, PIVOT).state is RowState.BULLISH


def test_a_stale_input_makes_the_row_stale_and_a_missing_one_waiting_with_the_reason() -> None:
    board, store = funding_history([(H, -0.01)])
    r = evaluate_rule(FUNDING, board, store, NOW, PIVOT)
    assert r.state is RowState.STALE
    assert "stale (1h old" in r.reason
    empty = Board("live", NOW).with_updates(
        now=NOW,
        statuses=[SourceStatus("farside", Status.BLOCKED, "blocked (Cloudflare)")],
        stale_after=LIMITS,
    )
    r = evaluate_rule(FLOWS, empty, Store.open(None), NOW, PIVOT)
    assert r.state is RowState.WAITING
    assert r.reason == "waiting for farside (blocked (Cloudflare))"
    assert r.since is None


def flows(values: list[tuple[datetime, float]]) -> tuple[Board, Store]:
    store = Store.open(None)
    obs = [Observation("etf.flow.daily", v, "USD m", "farside", t) for t, v in values]
    store.write(obs)
    return Board("live", NOW).with_updates(now=NOW, observations=obs, stale_after=LIMITS), store


def test_etf_outflows_over_400m_on_consecutive_trading_days_across_a_weekend_are_bearish() -> None:
    fri = datetime(2026, 2, 6, 21, tzinfo=UTC)
    mon = datetime(2026, 2, 9, 21, tzinfo=UTC)
    now = mon + H
    board, store = flows([(fri - timedelta(days=1), 120.0), (fri, -544.9), (mon, -434.1)])
    board = board.with_updates(now=now)
    r = evaluate_rule(FLOWS, board, store, now, PIVOT)
    assert r.state is RowState.BEARISH
    assert r.since == mon
    assert "for 2 readings running" in r.reason
    board, store = flows([(fri, -544.9), (mon, -120.0)])
    assert evaluate_rule(FLOWS, board.with_updates(now=now), store, now, PIVOT).state is (
        RowState.NEUTRAL
    )


def test_without_a_glassnode_reading_the_keyless_proxy_judges_on_chain_stress_and_says_so() -> None:
    store = Store.open(None)
    obs = [
        Observation("onchain.net_realized_pnl.7d", -1.5e9, "USD/day", "coinmetrics", NOW - 6 * H),
        Observation("btc.price", 64_000.0, "USD", CONSENSUS, NOW),
    ]
    store.write(obs)
    board = Board("live", NOW).with_updates(now=NOW, observations=obs, stale_after=LIMITS)
    r = evaluate_rule(ONCHAIN, board, store, NOW, PIVOT)
    assert r.state is RowState.BEARISH
    assert "net realized P/L 7d −$1.50B/day" in r.reason
    assert r.reason.endswith("proxy, not realized loss")


def test_config_overrides_change_a_threshold_and_bad_ones_are_one_line_errors() -> None:
    rules = configured({"funding.positive.hold_h": 1, "flows.outflows.threshold": -300})
    funding = rules[0]
    assert funding.bullish[0].hold_s == 3600
    board, store = funding_history(hourly(2, 0.004))
    assert evaluate_rule(funding, board, store, NOW, PIVOT).state is RowState.BULLISH
    assert [r.key for r in rules] == [r.key for r in DEFAULT_RULES]
    with pytest.raises(ConfigError, match=r"rules\.fundng\.positive\.hold_h.*no checklist row"):
        configured({"fundng.positive.hold_h": 1})
    with pytest.raises(ConfigError, match="has no condition 'postive'"):
        configured({"funding.postive.hold_h": 1})
    with pytest.raises(ConfigError, match=r"expected rules\.funding\.<condition>"):
        configured({"funding.positive.hours": 1})


def test_states_are_stored_as_readings_and_read_back_as_the_previous_state() -> None:
    board, store = funding_history(hourly(6, -0.01))
    results = evaluate(DEFAULT_RULES, board, store, NOW, PIVOT)
    obs = state_observations(results)
    assert [(o.id, o.value, o.source) for o in obs] == [("checklist.funding", -1.0, RULES_SOURCE)]
    board = board.with_updates(now=NOW, observations=obs)
    prev = stored_states(board, DEFAULT_RULES)
    assert prev["funding"].state is RowState.BEARISH
    assert prev["funding"].since == NOW - 4 * H
    # A later evaluation keeps that since; a flip is reported once, waiting rows never are.
    board2, store2 = funding_history(hourly(12, 0.004))
    board2 = board2.with_updates(now=NOW, observations=obs)
    later = evaluate(DEFAULT_RULES, board2, store2, NOW, PIVOT)
    flips = changes(prev, later)
    assert [(a.state, b.state) for a, b in flips] == [(RowState.BEARISH, RowState.BULLISH)]


def row(key: str, state: RowState) -> RuleResult:
    return RuleResult(key, key, state, "", NOW)


def price_board(price: float, oi_chg: float | None = None) -> Board:
    obs = [Observation("btc.price", price, "USD", CONSENSUS, NOW)]
    if oi_chg is not None:
        obs.append(Observation("oi.futures.total.chg_24h", oi_chg, "%", CONSENSUS, NOW))
    return Board("live", NOW).with_updates(now=NOW, observations=obs, stale_after=LIMITS)


@pytest.mark.parametrize(
    ("price", "oi", "macro", "rows", "call"),
    [
        # 6 Feb evening: skew, funding and flows bearish, price back under the pivot.
        (
            69_000.0, -4.0, True,
            {"skew": RowState.BEARISH, "funding": RowState.BEARISH, "flows": RowState.BEARISH,
             "mining": RowState.BEARISH},
            "retest risk",
        ),
        # Macro, falling OI and easing miners; only skew still bearish; above the pivot.
        (
            71_000.0, -1.0, True,
            {"skew": RowState.BEARISH, "funding": RowState.NEUTRAL, "flows": RowState.NEUTRAL,
             "mining": RowState.NEUTRAL},
            "holding",
        ),
        # The same, but below the pivot: not holding.
        (
            69_000.0, -1.0, True,
            {"skew": RowState.BEARISH, "funding": RowState.NEUTRAL, "flows": RowState.NEUTRAL,
             "mining": RowState.NEUTRAL},
            "contested",
        ),
        (71_000.0, None, None, {}, "no data"),
    ],
)  # fmt: skip
def test_the_verdict_counts_each_side(
    price: float, oi: float | None, macro: bool | None, rows: dict[str, RowState], call: str
) -> None:
    v = verdict([row(k, s) for k, s in rows.items()], price_board(price, oi), PIVOT, macro, NOW)
    assert v.call == call
    assert v.holding_count + v.retest_count <= 6
    assert ("below" in v.position) == (price < PIVOT)


def test_the_next_test_sequence_ticks_each_step_and_unknowns_stay_unknown() -> None:
    rows = [row("flows", RowState.BEARISH), row("funding", RowState.NEUTRAL)]
    v = verdict(rows, price_board(68_000.0), PIVOT, None, NOW)
    assert v.steps == (
        ("macro holds", None),
        ("ETF outflows slow", False),
        ("derivatives normalise", True),
    )
    again = verdict(rows, price_board(68_000.0), PIVOT, None, NOW + H, previous=v)
    assert again.since == v.since


@pytest.mark.parametrize(
    ("call", "code"), [("holding", 0), ("contested", 10), ("retest risk", 11), ("no data", 3)]
)
def test_check_exit_codes_follow_the_call(call: str, code: int) -> None:
    from dataclasses import replace

    from tui.core import headless
    from tui.core.model import SourceStatus, Status, Verdict

    board = price_board(69_000.0).with_updates(
        now=NOW, statuses=[SourceStatus("kraken", Status.OK)]
    )
    v = Verdict(call, (), (), "", (), NOW)  # type: ignore[arg-type]
    assert headless.check_exit_code(replace(board, verdict=v)) == code
    assert headless.check_exit_code(board) == 3  # never judged


def test_a_fast_replay_stretches_the_gap_limit_like_its_poll_intervals() -> None:
    # Readings 3 h apart: gaps live (max 2 h), the normal pace of a fast replay.
    board, store = funding_history([(3 * H * i, 0.004) for i in range(5)])
    assert evaluate_rule(FUNDING, board, store, NOW, PIVOT).state is RowState.NEUTRAL
    r = evaluate_rule(FUNDING, board, store, NOW, PIVOT, min_gap_s=4 * 3600.0)
    assert r.state is RowState.BULLISH


@settings(max_examples=150, deadline=None)
@given(
    rule_and_steps=st.sampled_from(
        [
            # Minutes between readings (some gaps break a run), and how many: the newest reading
            # is never further from the first than the look-back a fresh judgement reads.
            (FUNDING, (5, 150), 10),  # gaps over 2 h break; look-back 26 h
            (FLOWS, (12 * 60, 6 * 24 * 60), 3),  # hold_n = 2; gaps over 5 days break; 15 days
        ]
    ).flatmap(
        lambda rs: st.tuples(
            st.just(rs[0]),
            st.lists(
                st.tuples(
                    st.one_of(st.integers(*rs[1]), st.integers(-3, 0)),
                    st.sampled_from([-1_000.0, -0.01, 0.0, 0.004, 1_000.0]),
                ),
                min_size=1,
                max_size=rs[2],
            ),
        )
    )
)
def test_judging_again_with_runs_agrees_with_judging_from_history_each_time(
    rule_and_steps: tuple[Rule, list[tuple[int, float]]],
) -> None:
    # The engine keeps each condition's run between judgements and reads only newer rows; a
    # judgement from the stored look-back must say the same (the series stay within it).
    rule, steps = rule_and_steps
    store = Store.open(None)
    board = Board("live", NOW)
    runs = Runs()
    t = NOW - timedelta(days=30)
    prev_fresh: RuleResult | None = None
    prev_runs: RuleResult | None = None
    limits = {CONSENSUS: 1e9, "farside": 1e9}
    times: list[datetime] = []
    for minutes, value in steps:
        # A step of 0 revises the newest reading (the consensus price keeps its time while a
        # venue moves it), -k the k-th newest (Farside revises past days).
        if minutes > 0 or not times:
            t += timedelta(minutes=max(minutes, 1))
            times.append(t)
        at = times[max(minutes - 1, -len(times))] if minutes <= 0 else t
        obs = [Observation(c.id, value, "u", c.source, at) for c in rule.conds]
        store.write(obs)
        runs.saw(obs)  # as the engine tells it what it wrote
        board = board.with_updates(now=t, observations=obs, stale_after=limits)
        fresh = evaluate_rule(rule, board, store, t, PIVOT, prev_fresh)
        again = evaluate_rule(rule, board, store, t, PIVOT, prev_runs, runs=runs)
        assert (again.state, again.since, again.reason) == (fresh.state, fresh.since, fresh.reason)
        prev_fresh, prev_runs = fresh, again
