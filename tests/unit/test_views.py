"""Views and day analytics: the numbers the dashboard shows, formed outside the UI."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tui.core.analytics.day import high_rejections, pct_change, spread
from tui.core.config import Settings
from tui.core.model import CONSENSUS, Board, Observation, SourceStatus, Status
from tui.core.store import Store
from tui.core.views import (
    chart_lines,
    drilldown,
    load_chart,
    position,
    pretty_body,
    price_view,
    status_chips,
)

NOW = datetime(2026, 2, 6, 21, 0, tzinfo=UTC)


def series(*prices: float) -> list[tuple[datetime, float]]:
    return [(NOW - timedelta(minutes=len(prices) - i), p) for i, p in enumerate(prices)]


def test_three_failed_breaks_of_the_high_count_three() -> None:
    # The article: three failed attempts at ~71,422, each pushed back.
    path = series(69_000, 71_422, 70_600, 71_330, 70_500, 71_380, 70_200, 69_800)
    assert high_rejections(path, 71_422, 0.3) == 3


def test_chop_at_the_edge_is_one_test_and_a_test_under_way_is_not_counted() -> None:
    edge = 71_422 * (1 - 0.003)
    path = series(70_000, edge + 5, edge - 5, edge + 5, edge - 5, 70_000, 71_400)
    assert high_rejections(path, 71_422, 0.3) == 1


def test_pct_change_and_spread() -> None:
    assert pct_change(62_600, 70_112) == pytest.approx(12.0, abs=0.01)  # the article's +12 %
    assert pct_change(60_000, 70_200) == pytest.approx(17.0)
    assert spread([69_810, 69_830, 69_821]) == 20
    assert spread([69_810]) is None


def test_positions_against_the_bands() -> None:
    s = Settings()
    assert position(70_700, s.absorption_band) == "above"
    assert position(68_000, s.absorption_band) == "inside"
    assert position(66_000, s.absorption_band) == "below"
    assert position(55_000, s.retest_band) == "inside"


def board_with(*obs: Observation, statuses: tuple[SourceStatus, ...] = ()) -> Board:
    return Board("live", NOW).with_updates(
        now=NOW,
        observations=obs,
        statuses=statuses,
        stale_after={"kraken": 60.0, CONSENSUS: 60.0, "coinbase": 60.0},
    )


def obs(id_: str, value: float, source: str = CONSENSUS, age_s: float = 1.0) -> Observation:
    return Observation(id_, value, "USD", source, NOW - timedelta(seconds=age_s))


def test_price_view_forms_every_figure_of_the_pane() -> None:
    board = board_with(
        obs("btc.price", 70_112),
        obs("btc.day.open", 62_600),
        obs("btc.day.high", 71_422),
        obs("btc.day.low", 60_000),
        obs("btc.day.close", 70_112),
        obs("btc.price.kraken", 70_100, "kraken"),
        obs("btc.price.coinbase", 70_124, "coinbase"),
    )
    v = price_view(board, Settings(), series(70_000, 71_422, 70_500, 70_112))
    assert v.price == 70_112
    assert v.distance_pct == pytest.approx(0.16)
    assert v.absorption_position == "inside"
    assert v.retest_position == "above"
    assert v.day_change_pct == pytest.approx(12.0, abs=0.01)
    assert v.off_low_pct == pytest.approx(16.85, abs=0.01)
    assert v.high_rejections == 1
    assert v.spread_usd == 24
    assert [q.name for q in v.venues] == ["coinbase", "kraken", "bitstamp", "deribit"]
    assert v.venues[2].price is None  # a missing venue stays missing


def test_price_view_without_a_price_says_why() -> None:
    board = board_with(
        statuses=(SourceStatus(CONSENSUS, Status.OFFLINE, "offline: needs 2 fresh venues"),)
    )
    v = price_view(board, Settings())
    assert v.price is None
    assert v.distance_pct is None
    assert v.missing == "offline: needs 2 fresh venues"


def test_status_chips_show_age_reason_and_staleness() -> None:
    until = NOW + timedelta(minutes=5)
    board = board_with(
        statuses=(
            SourceStatus("coinbase", Status.OK, last_ok_at=NOW - timedelta(seconds=4)),
            SourceStatus(
                "kraken", Status.RATE_LIMITED, "rate-limited until 21:05 UTC", until=until
            ),
            SourceStatus("bitstamp", Status.OK, last_ok_at=NOW - timedelta(minutes=7)),
            SourceStatus("deribit", Status.PENDING, "waiting for the first answer"),
        )
    )
    board = Board(
        "live", NOW, board.observations, board.statuses, {"coinbase": 60.0, "bitstamp": 60.0}
    )
    chips = {c.name: c for c in status_chips(board)}
    assert (chips["coinbase"].glyph, chips["coinbase"].text, chips["coinbase"].state) == (
        "●",
        "4s",
        "ok",
    )
    assert chips["kraken"].state == "limited"
    assert chips["kraken"].text == "rate-limited until 21:05 UTC"
    assert chips["bitstamp"].state == "stale"
    assert chips["bitstamp"].text == "stale 7m"
    assert chips["deribit"].state == "pending"


def test_chart_reads_the_store_and_draws_the_reference_lines() -> None:
    store = Store.open(None)
    store.write([obs("btc.price", 69_000 + i, age_s=600 - i * 10) for i in range(60)])
    data = load_chart(store, Settings(), "1D", NOW, max_points=20)
    assert len(data.points) == 20
    assert data.points[-1][1] == 69_059  # the newest point always kept
    labels = [line.label for line in chart_lines(Settings())]
    assert labels == [
        "pivot 70,000",
        "band 70,600",
        "band 66,900",
        "retest 60,000",
        "retest 50,000",
    ]
    empty = load_chart(Store.open(None), Settings(), "3M", NOW)
    assert empty.points == ()
    assert "no 3M history yet" in empty.note


def test_month_chart_uses_daily_closes_then_the_consensus() -> None:
    store = Store.open(None)
    midnight = NOW.replace(hour=0)
    closes = [
        Observation(
            "btc.day.close.kraken", 70_000 - d * 100, "USD", "kraken", midnight - timedelta(days=d)
        )
        for d in range(10)
    ]
    store.write([*closes, obs("btc.price", 69_500, age_s=60)])
    data = load_chart(store, Settings(), "1M", NOW)
    assert [p[1] for p in data.points][-2:] == [70_000, 69_500]
    assert len(data.points) == 11
    assert "daily closes (kraken)" in data.note


def test_drilldown_gathers_readings_endpoints_bodies_and_history() -> None:
    from tui.core.model import Exchange
    from tui.core.sources import registry

    store = Store.open(None)
    store.save_exchange(
        "kraken",
        "ticker",
        Exchange(
            "GET",
            "https://api.kraken.com/0/public/Ticker?pair=XBTUSD",
            200,
            {},
            b'{"error":[],"result":{}}',
            NOW,
            42.0,
        ),
    )
    store.record_status(
        SourceStatus(
            "kraken", Status.RATE_LIMITED, "rate-limited until 21:05 UTC", last_attempt_at=NOW
        )
    )
    board = board_with(obs("btc.price.kraken", 70_100, "kraken"), obs("btc.price", 70_110))
    view = drilldown(board, store, registry.ALL, Settings(), "price")
    assert {r.id for r in view.readings} == {"btc.price.kraken", "btc.price"}
    kraken = next(s for s in view.sources if s.name == "kraken")
    ticker = next(e for e in kraken.endpoints if e.key == "ticker")
    assert ticker.url == "https://api.kraken.com/0/public/Ticker?pair=XBTUSD"
    assert (ticker.status, ticker.latency_ms, ticker.bytes) == (200, 42.0, 24)
    assert '"error": []' in ticker.body
    assert kraken.history[0].status is Status.RATE_LIMITED
    # A bucket's drill-down shows its own sources only.
    assert [s.name for s in drilldown(board, store, registry.ALL, Settings(), "flows").sources] == [
        "farside"
    ]


def test_pretty_body_cuts_huge_bodies_and_keeps_non_json() -> None:
    assert pretty_body(b"<html>blocked</html>") == "<html>blocked</html>"
    huge = b'{"a": "' + b"x" * 400_000 + b'"}'
    assert "cut at 256 KB of 390 KB" in pretty_body(huge)
