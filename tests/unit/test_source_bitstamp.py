"""Bitstamp parsers on recorded real bodies (tests/data/bitstamp/README.md)."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime

import pytest

from tests.conftest import body
from tui.core.errors import ParseError
from tui.core.model import Json
from tui.core.sources import bitstamp

FETCHED = datetime(2024, 3, 13, 11, 10, 45, tzinfo=UTC)


def load(name: str) -> Json:
    parsed: Json = json.loads(body("bitstamp", name))
    return parsed


def test_ticker_last_at_its_timestamp() -> None:
    [obs] = bitstamp.parse_ticker(load("ticker_btc_usdt.json"), FETCHED)
    assert (obs.id, obs.value, obs.unit, obs.source) == (
        "btc.price.bitstamp",
        73285.0,
        "USD",
        "bitstamp",
    )
    # "timestamp": "1710328241", seconds as text.
    assert obs.observed_at == datetime(2024, 3, 13, 11, 10, 41, tzinfo=UTC)


def test_hourly_ohlc_is_refused() -> None:
    with pytest.raises(ParseError, match="not a daily candle"):
        bitstamp.parse_ohlc(load("ohlc_1h_btc_usdt.json"), FETCHED)


def test_daily_ohlc_oldest_first_with_string_values() -> None:
    # No published step=86400 body was found (README): the real hourly row of
    # ohlc_1h_btc_usdt.json, with only its timestamp moved to UTC midnights, twice.
    hourly = load("ohlc_1h_btc_usdt.json")
    row = hourly["data"]["ohlc"][0]  # type: ignore[call-overload,index]
    today = int(datetime(2024, 3, 13, tzinfo=UTC).timestamp())
    daily = copy.deepcopy(hourly)
    daily["data"]["ohlc"] = [  # type: ignore[call-overload,index]
        {**row, "timestamp": str(today - 86400)},
        {**row, "timestamp": str(today)},
    ]
    obs = bitstamp.parse_ohlc(daily, FETCHED)
    midnight = datetime(2024, 3, 13, tzinfo=UTC)
    values = {"open": 73241.0, "high": 73293.0, "low": 73240.0, "close": 73285.0}
    assert {(o.id, o.observed_at): o.value for o in obs} == {
        **{(f"btc.day.{k}.bitstamp", midnight): v for k, v in values.items()},
        **{(f"btc.day.{k}.bitstamp", FETCHED): v for k, v in values.items()},
    }


def _ticker_with(**changes: Json) -> Json:
    ticker = load("ticker_btc_usdt.json")
    assert isinstance(ticker, dict)
    return {**ticker, **changes}


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({}, "missing 'last'"),
        ([], "expected an object at the top level"),
        ("<html>", "expected an object at the top level"),
        (_ticker_with(last=None), "last: expected a number, got null"),
        (_ticker_with(last="73,285"), "last: expected a number"),
        (_ticker_with(last="0"), "outside"),
        (_ticker_with(last="1e300"), "outside"),
        (_ticker_with(timestamp=""), "timestamp: "),
        (_ticker_with(timestamp="0"), "timestamp: "),
    ],
)
def test_bad_ticker_bodies_raise_parse_error(bad: Json, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        bitstamp.parse_ticker(bad, FETCHED)


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({}, "missing 'data'"),
        ({"data": {"pair": "BTC/USD", "ohlc": []}}, "no candles"),
        ({"data": {"pair": "BTC/USD", "ohlc": {}}}, "expected a list at 'data.ohlc'"),
        ({"data": []}, "expected an object at 'data'"),
        ({"data": {"ohlc": [["1710288000"]]}}, "expected an object at 'data.ohlc\\[0\\]'"),
        ({"data": {"ohlc": [{"timestamp": "1710288000"}]}}, "missing 'data.ohlc\\[0\\].open'"),
    ],
)
def test_bad_ohlc_bodies_raise_parse_error(bad: Json, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        bitstamp.parse_ohlc(bad, FETCHED)


def test_spec_urls_and_cadence() -> None:
    spec = bitstamp.SPEC
    ticker, ohlc = spec.endpoints
    assert ticker.url(spec.base_url) == "https://www.bitstamp.net/api/v2/ticker/btcusd/"
    assert ohlc.url(spec.base_url) == (
        "https://www.bitstamp.net/api/v2/ohlc/btcusd/?step=86400&limit=30"
    )
    assert (ticker.interval_s, ohlc.interval_s) == (15.0, 300.0)
