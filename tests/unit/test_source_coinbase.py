"""Coinbase Exchange parsers on recorded real bodies (tests/data/coinbase/README.md)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from tests.conftest import body
from tui.core.errors import ParseError
from tui.core.model import Json
from tui.core.sources import coinbase

FETCHED = datetime(2026, 6, 19, 16, 43, 34, tzinfo=UTC)


def load(name: str) -> Json:
    parsed: Json = json.loads(body("coinbase", name))
    return parsed


def test_ticker_live_capture_with_nanosecond_time() -> None:
    [obs] = coinbase.parse_ticker(load("ticker.json"), FETCHED)
    assert (obs.id, obs.value, obs.unit, obs.source) == (
        "btc.price.coinbase",
        63212.97,
        "USD",
        "coinbase",
    )
    # "2026-06-19T16:43:33.016274911Z": the body's own time, cut to microseconds.
    assert obs.observed_at == datetime(2026, 6, 19, 16, 43, 33, 16274, tzinfo=UTC)


def test_ticker_with_trade_id_as_text_and_microseconds() -> None:
    [obs] = coinbase.parse_ticker(load("ticker_btc_usdt.json"), FETCHED)
    assert obs.value == 73367.8
    assert obs.observed_at == datetime(2024, 3, 13, 11, 10, 41, 270099, tzinfo=UTC)


@pytest.mark.parametrize("name", ["candles_1m.json", "candles_1h_btc_usdt.json"])
def test_candles_of_another_granularity_are_refused(name: str) -> None:
    with pytest.raises(ParseError, match="not a daily candle"):
        coinbase.parse_candles(load(name), FETCHED)


def test_daily_candles_column_order_and_newest_first() -> None:
    # No published granularity=86400 body was found (README): these are the two real rows of
    # candles_1m.json, newest first as recorded, with only the bucket start moved to the UTC
    # midnights of the fetch day and the day before.
    rows = load("candles_1m.json")
    assert isinstance(rows, list)
    today = int(datetime(2026, 6, 19, tzinfo=UTC).timestamp())
    daily = [[today, *rows[0][1:]], [today - 86400, *rows[1][1:]]]  # type: ignore[index]
    obs = coinbase.parse_candles(daily, FETCHED)
    got = {(o.id, o.observed_at): o.value for o in obs}
    end_of_yesterday = datetime(2026, 6, 19, tzinfo=UTC)
    # Row [time, low, high, open, close, volume]: [.., 63236.17, 63262.46, 63236.18, 63244.77, ..]
    assert got == {
        ("btc.day.open.coinbase", end_of_yesterday): 63236.18,
        ("btc.day.high.coinbase", end_of_yesterday): 63262.46,
        ("btc.day.low.coinbase", end_of_yesterday): 63236.17,
        ("btc.day.close.coinbase", end_of_yesterday): 63244.77,
        ("btc.day.open.coinbase", FETCHED): 63244.78,
        ("btc.day.high.coinbase", FETCHED): 63244.78,
        ("btc.day.low.coinbase", FETCHED): 63234.99,
        ("btc.day.close.coinbase", FETCHED): 63239.75,
    }
    assert {o.source for o in obs} == {"coinbase"}


def _ticker_with(**changes: Json) -> Json:
    ticker = load("ticker.json")
    assert isinstance(ticker, dict)
    return {**ticker, **changes}


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({}, "missing 'price'"),
        ([], "expected an object at the top level"),
        ("<html><title>Just a moment...</title></html>", "expected an object at the top level"),
        (None, "expected an object at the top level"),
        ({"message": "NotFound"}, "Coinbase: NotFound"),
        (_ticker_with(price=None), "price: expected a number, got null"),
        (_ticker_with(price=""), "price: expected a number"),
        (_ticker_with(price="-63212.97"), "outside"),
        (_ticker_with(price="6321297000000"), "outside"),
        (_ticker_with(price=True), "expected a number, got bool"),
        (_ticker_with(time=None), "time: "),
        (_ticker_with(time="2026-06-19T16:43:33"), "time: "),
    ],
)
def test_bad_ticker_bodies_raise_parse_error(bad: Json, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        coinbase.parse_ticker(bad, FETCHED)


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ([], "no candles"),
        ({}, "expected a list of candles"),
        ("<html>", "expected a list of candles"),
        ([[1781827200, 63234.99, 63244.78]], "missing '\\[0\\]\\[3\\]'"),
        ([[1781827200, None, 63244.78, 63244.78, 63239.75]], "\\[0\\] low: expected a number"),
        ([[1781827200, 0, 0, 0, 0, 0]], "outside"),
        ([[1781827200, 63244.78, 63234.99, 63244.78, 63239.75, 1]], "inconsistent"),
        ([["x", 63234.99, 63244.78, 63244.78, 63239.75, 1]], "\\[0\\] time"),
        ([{"time": 1781827200}], "expected a list at '\\[0\\]'"),
    ],
)
def test_bad_candle_bodies_raise_parse_error(bad: Json, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        coinbase.parse_candles(bad, FETCHED)


def test_spec_urls_and_cadence() -> None:
    spec = coinbase.SPEC
    ticker, candles = spec.endpoints
    assert ticker.url(spec.base_url) == "https://api.exchange.coinbase.com/products/BTC-USD/ticker"
    assert candles.url(spec.base_url) == (
        "https://api.exchange.coinbase.com/products/BTC-USD/candles?granularity=86400"
    )
    assert (ticker.interval_s, candles.interval_s) == (15.0, 300.0)
    assert spec.name == "coinbase"
    assert spec.min_spacing_s == 0.1
