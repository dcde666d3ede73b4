"""The mining pane's rows: hashprice against the record low, the next adjustment, hashrate."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tui.core.config import Settings
from tui.core.model import CONSENSUS, Board, Missing, Observation, SourceStatus, Status
from tui.core.panes import PaneRow, mining

NOW = datetime(2026, 2, 6, 12, 0, tzinfo=UTC)
RETARGET = datetime(2026, 2, 8, 2, 10, tzinfo=UTC)  # 1 d 14 h 10 m after NOW


def o(id_: str, value: float, unit: str, age_s: float = 120.0) -> Observation:
    return Observation(id_, value, unit, "mempool", NOW - timedelta(seconds=age_s))


FULL = (
    o("mining.hashprice", 29.5776, "USD/PH/s/day", age_s=125.0),
    o("mining.difficulty.next_change", -13.37, "%"),
    o("mining.difficulty.blocks_left", 201.0, "blocks"),
    o("mining.difficulty.retarget_at", RETARGET.timestamp(), "unix s"),
    o("mining.hashrate", 908.4, "EH/s"),
    o("mining.reward_144", 3.1402, "BTC"),
    o("mining.difficulty", 146.47e12, ""),
)


def board(*obs: Observation, statuses: tuple[SourceStatus, ...] = ()) -> Board:
    return Board("demo", NOW, stale_after={"mempool": 900.0, CONSENSUS: 60.0}).with_updates(
        now=NOW, observations=obs, statuses=statuses
    )


def rows(b: Board) -> dict[str, PaneRow]:
    return {r.label: r for r in mining.view(b, Settings()).rows}


def test_the_scenario_reads_as_the_article_says() -> None:
    view = mining.view(board(*FULL), Settings())
    assert [r.label for r in view.rows] == [
        "hashprice",
        "next adjustment",
        "hashrate",
        "reward/block",
        "difficulty",
    ]
    hp, adj, rate, reward, diff = view.rows
    assert hp == PaneRow("hashprice", "$29.58/PH/s/day", "bearish", "▼", "record low < $32", "2m")
    assert (adj.value, adj.glyph, adj.age) == ("-13.37 %", "▼", "2m")
    assert adj.detail == "in 201 blocks, ~1d 14h, est. 8 Feb 02:10 UTC"
    assert (rate.value, rate.detail) == ("908 EH/s", "7-day estimate")
    assert reward.value == "3.1402 BTC"
    assert diff.value == "146.47 T"
    assert "hashprice" in view.note


def test_hashprice_above_the_record_low() -> None:
    hp = rows(board(o("mining.hashprice", 33.1, "USD/PH/s/day")))["hashprice"]
    assert (hp.value, hp.tone, hp.glyph, hp.detail) == (
        "$33.10/PH/s/day",
        "neutral",
        "▲",
        "above the $32 record low",
    )


def test_stale_values_look_stale() -> None:
    old = 901.0
    b = board(
        o("mining.hashprice", 29.5, "USD/PH/s/day", age_s=old),
        o("mining.difficulty.next_change", -13.37, "%", age_s=old),
    )
    r = rows(b)
    assert (r["hashprice"].tone, r["hashprice"].age) == ("stale", "stale 15m")
    assert (r["next adjustment"].tone, r["next adjustment"].detail) == ("stale", "estimate")


def test_missing_values_say_why_never_zero() -> None:
    limited = SourceStatus.from_missing(
        "mempool",
        Missing(Status.RATE_LIMITED, "HTTP 429", until=datetime(2026, 2, 6, 12, 5, tzinfo=UTC)),
        last_ok_at=None,
        at=NOW,
    )
    r = rows(board(statuses=(limited,)))
    assert r["hashprice"].value == "mempool: rate-limited until 12:05 UTC"
    assert r["next adjustment"].value == "rate-limited until 12:05 UTC"
    assert {(x.tone, x.glyph, x.age) for x in r.values()} == {("missing", "✕", "")}


def test_hashprice_waits_for_the_consensus_price() -> None:
    no_price = SourceStatus.from_missing(
        CONSENSUS,
        Missing(Status.STALE, "needs 2 fresh venues for a consensus price (fresh: kraken)"),
        last_ok_at=None,
        at=NOW,
    )
    ok = SourceStatus("mempool", Status.OK, last_ok_at=NOW)
    r = rows(board(*FULL[1:], statuses=(ok, no_price)))
    assert r["hashprice"].value == (
        "consensus: stale: needs 2 fresh venues for a consensus price (fresh: kraken)"
    )


def test_a_passed_retarget_time_says_due() -> None:
    b = board(
        o("mining.difficulty.next_change", 1.5, "%"),
        o("mining.difficulty.retarget_at", (NOW - timedelta(minutes=3)).timestamp(), "unix s"),
    )
    adj = rows(b)["next adjustment"]
    assert (adj.value, adj.glyph, adj.detail) == ("+1.50 %", "▲", "due, est. 6 Feb 11:57 UTC")


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "due"), (-5, "due"), (59, "0m"), (14 * 60, "14m"), (5 * 3600 + 720, "5h 12m"),
     (86_400 * 2 + 3_600 * 3 + 60, "2d 3h")],
)  # fmt: skip
def test_countdown(seconds: float, text: str) -> None:
    assert mining.countdown(seconds) == text
