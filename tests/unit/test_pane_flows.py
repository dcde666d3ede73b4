"""The flows pane: latest day "as of" its date, sums, streak, sparkline, and missing or stale."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.conftest import body
from tui.core.config import Settings
from tui.core.errors import BlockedError
from tui.core.model import Board, Observation, SourceStatus
from tui.core.panes import flows
from tui.core.sources import farside

ALL = body("farside", "all_data_2026-10-02.html").decode("utf-8")
FETCHED = datetime(2026, 10, 3, 2, 0, tzinfo=UTC)


def board(obs: list[Observation], now: datetime, statuses: tuple[SourceStatus, ...] = ()) -> Board:
    return Board("live", now).with_updates(
        now=now,
        observations=obs,
        statuses=statuses,
        stale_after={"farside": farside.SPEC.stale_after},
    )


def feb(day: int, value: float) -> Observation:
    return Observation("etf.flow.daily", value, "USD m", "farside", farside.observed_at(
        datetime(2026, 2, day, tzinfo=UTC).date()
    ))  # fmt: skip


def article_board(now: datetime) -> Board:
    """5 Feb 2026 as the article has it, complete."""
    at = feb(5, 0).observed_at
    return board(
        [
            feb(4, -544.9),
            feb(5, -434.1),
            Observation("etf.flow.5d", -1199.7, "USD m", "farside", at),
            Observation("etf.flow.mtd", -690.0, "USD m", "farside", at),
            Observation("etf.outflow_streak", 3.0, "days", "farside", at),
            Observation("etf.flow.pending_funds", 0.0, "funds", "farside", at),
        ],
        now,
    )


def test_the_articles_5_feb_the_morning_after() -> None:
    rows = flows.view(article_board(datetime(2026, 2, 6, 9, tzinfo=UTC)), Settings()).rows
    daily, five, month, streak, spark = rows
    assert (daily.label, daily.value, daily.tone, daily.glyph, daily.age) == (
        "ETF net flow", "-$434.1M", "bearish", "▼", "as of 5 Feb",
    )  # fmt: skip
    assert daily.detail == ""
    assert (five.value, five.tone) == ("-$1,199.7M", "bearish")
    assert (month.label, month.value, month.age) == ("Feb to date", "-$690.0M", "as of 5 Feb")
    assert (streak.value, streak.tone, streak.glyph) == ("3 days", "bearish", "▼")
    assert (spark.value, spark.tone) == ("no history yet", "missing")


def test_fridays_figure_is_not_stale_on_monday_but_is_a_week_later() -> None:
    monday = flows.view(article_board(datetime(2026, 2, 8, 23, tzinfo=UTC)), Settings())
    assert monday.rows[0].tone == "bearish"
    later = flows.view(article_board(datetime(2026, 2, 12, tzinfo=UTC)), Settings())
    assert (later.rows[0].tone, later.rows[0].age) == ("stale", "stale, as of 5 Feb")
    assert later.rows[3].tone == "stale"


def test_a_provisional_day_says_so() -> None:
    # The real page of 2 Oct 2026: IBIT had not reported yet.
    view = flows.view(board(farside.parse(ALL, FETCHED), FETCHED), Settings())
    daily = view.rows[0]
    assert (daily.value, daily.tone, daily.glyph) == ("+$31.7M", "bullish", "▲")
    assert (daily.detail, daily.age) == ("provisional, 1 fund to report", "as of 2 Oct")
    assert view.rows[1].value == "+$82.9M"
    assert view.rows[2].label == "Oct to date"
    assert (view.rows[3].value, view.rows[3].tone, view.rows[3].glyph) == ("none", "neutral", "●")
    assert "still filling in" in view.note


def test_an_older_pending_count_does_not_mark_a_newer_day() -> None:
    b = article_board(datetime(2026, 2, 6, 9, tzinfo=UTC))
    old = Observation("etf.flow.pending_funds", 2.0, "funds", "farside", feb(4, 0).observed_at)
    b = b.with_updates(now=b.generated_at, observations=[old])  # older: the Board keeps 5 Feb's
    assert flows.view(b, Settings()).rows[0].detail == ""


def test_missing_says_why_never_zero() -> None:
    now = datetime(2026, 2, 6, 9, tzinfo=UTC)
    blocked = SourceStatus.from_missing(
        "farside", BlockedError(200, "Cloudflare challenge page").missing(), last_ok_at=None, at=now
    )
    view = flows.view(board([], now, (blocked,)), Settings())
    for row in view.rows[:4]:
        assert (row.value, row.tone, row.age) == (
            "blocked: Cloudflare challenge page", "missing", "",
        )  # fmt: skip
    assert view.rows[2].label == "month to date"
    waiting = flows.view(board([], now), Settings())
    assert waiting.rows[0].value == "waiting for farside"


def test_sparkline_from_stored_daily_totals() -> None:
    recent = [(feb(d, 0).observed_at, v) for d, v in ((2, 561.8), (3, -272.8), (4, -544.9))]
    recent += [
        (feb(5, 0).observed_at - timedelta(hours=2), -198.4),
        (feb(5, 0).observed_at, -434.1),
    ]
    row = flows.view(article_board(datetime(2026, 2, 6, tzinfo=UTC)), Settings(), recent).rows[4]
    # One glyph per day (5 Feb once, its last value), outflows low, inflows high.
    assert row.value == "█▃▁▁"  # -198.4 (an earlier value of 5 Feb) would be ▃
    assert (row.detail, row.age) == ("3 of 4 out", "as of 5 Feb")


@pytest.mark.parametrize(
    ("values", "line"),
    [
        ([100.0, -100.0, 0.0], "█▁▅"),
        ([10.0, 30.0, -10.0, -30.0], "▆█▃▁"),
        ([0.0, 0.0], "▅▅"),
        ([], ""),
    ],
)
def test_sparkline_reads_its_sign_from_the_height(values: list[float], line: str) -> None:
    assert flows.sparkline(values) == line


@pytest.mark.parametrize(
    ("value", "text"),
    [(-434.1, "-$434.1M"), (1016.25, "+$1,016.2M"), (0.0, "$0.0M"), (-0.04, "-$0.0M")],
)
def test_usd_m(value: float, text: str) -> None:
    assert flows.usd_m(value) == text
