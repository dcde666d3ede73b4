"""Kraken parsers on Kraken's published examples and real error bodies (tests/data/kraken)."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime

import pytest

from tests.conftest import body
from tui.core.errors import ParseError, RateLimitedError
from tui.core.model import Json, Status
from tui.core.sources import kraken
from tui.core.sources.spec import Parser

FETCHED = datetime(2026, 2, 6, 15, 0, 7, tzinfo=UTC)


def load(name: str) -> Json:
    parsed: Json = json.loads(body("kraken", name))
    return parsed


def test_ticker_gives_the_price_and_the_utc_day_at_fetch_time() -> None:
    obs = kraken.parse_ticker(load("ticker.json"), FETCHED)
    assert [(o.id, o.value) for o in obs] == [
        ("btc.price.kraken", 30303.2),  # c[0]
        ("btc.day.open.kraken", 30502.8),  # o
        ("btc.day.high.kraken", 31631.0),  # h[0]
        ("btc.day.low.kraken", 29868.3),  # l[0]
        ("btc.day.close.kraken", 30303.2),  # c[0]
    ]
    # The body has no time of its own.
    assert {(o.observed_at, o.unit, o.source) for o in obs} == {(FETCHED, "USD", "kraken")}


def test_ticker_takes_the_single_entry_whatever_its_key() -> None:
    ticker = load("ticker.json")
    assert isinstance(ticker, dict)
    assert isinstance(ticker["result"], dict)
    renamed = {**ticker, "result": {"XBTUSD": ticker["result"]["XXBTZUSD"]}}
    assert kraken.parse_ticker(renamed, FETCHED) == kraken.parse_ticker(ticker, FETCHED)


def test_ohlc_daily_candle_completed_and_forming() -> None:
    # ohlc.json holds the day starting 1548115200 (2019-01-22 00:00 UTC) twice, and `last`.
    completed = kraken.parse_ohlc(load("ohlc.json"), datetime(2019, 1, 25, 9, tzinfo=UTC))
    assert [(o.id, o.value, o.observed_at) for o in completed] == [
        ("btc.day.open.kraken", 3533.4, datetime(2019, 1, 23, tzinfo=UTC)),
        ("btc.day.high.kraken", 3543.7, datetime(2019, 1, 23, tzinfo=UTC)),
        ("btc.day.low.kraken", 3530.7, datetime(2019, 1, 23, tzinfo=UTC)),
        ("btc.day.close.kraken", 3539.4, datetime(2019, 1, 23, tzinfo=UTC)),
    ]
    fetched_that_day = datetime(2019, 1, 22, 18, 30, tzinfo=UTC)
    forming = kraken.parse_ohlc(load("ohlc.json"), fetched_that_day)
    assert {o.observed_at for o in forming} == {fetched_that_day}


def test_ohlc_of_the_docs_one_minute_example_is_refused() -> None:
    with pytest.raises(ParseError, match="not a daily candle"):
        kraken.parse_ohlc(load("ohlc_1m_docs.json"), FETCHED)


@pytest.mark.parametrize("parse", [kraken.parse_ticker, kraken.parse_ohlc])
def test_rate_limit_inside_http_200(parse: Parser) -> None:
    with pytest.raises(RateLimitedError) as caught:
        parse(load("kraken_rate_limited.json"), FETCHED)
    err = caught.value
    assert (err.status_code, err.until, err.detail) == (
        200,
        None,
        "Kraken: EGeneral:Too many requests",
    )
    assert err.missing().reason is Status.RATE_LIMITED


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("kraken_unknown_pair.json", "^Kraken: EQuery:Unknown asset pair$"),
        ("kraken_docs_error.json", "^Kraken: EAPI:Invalid key$"),
    ],
)
def test_other_envelope_errors_are_quoted(name: str, message: str) -> None:
    for parse in (kraken.parse_ticker, kraken.parse_ohlc):
        with pytest.raises(ParseError, match=message):
            parse(load(name), FETCHED)


def _ticker_with(path: tuple[str, ...], value: Json) -> Json:
    ticker = copy.deepcopy(load("ticker.json"))
    node = ticker
    for key in path[:-1]:
        node = node[key]  # type: ignore[index,call-overload]
    node[path[-1]] = value  # type: ignore[index]
    return ticker


PAIR = ("result", "XXBTZUSD")


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({}, "missing 'error'"),
        ([], "expected an object at the top level"),
        ("<!DOCTYPE html>", "expected an object at the top level"),
        ({"error": "EGeneral:Too many requests"}, "expected a list at 'error'"),
        ({"error": []}, "missing 'result'"),
        ({"error": [], "result": {}}, "expected one pair in 'result', got 0"),
        ({"error": [], "result": []}, "expected an object at 'result'"),
        (_ticker_with(("result", "XXBTZUSD2"), {}), "expected one pair in 'result', got 2"),
        (_ticker_with((*PAIR, "c"), []), "missing 'result.XXBTZUSD.c\\[0\\]'"),
        (_ticker_with((*PAIR, "c"), [None, "1"]), "c\\[0\\]: expected a number, got null"),
        (_ticker_with((*PAIR, "o"), "-30502.8"), "o: .* outside"),
        (_ticker_with((*PAIR, "h"), ["1e9", "1e9"]), "h\\[0\\]: .* outside"),
        (_ticker_with((*PAIR, "l"), ["31700.0", "1"]), "inconsistent"),
        (_ticker_with(("error",), [{"not": "a string"}]), "Kraken: {'not': 'a string'}"),
    ],
)
def test_bad_ticker_bodies_raise_parse_error(bad: Json, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        kraken.parse_ticker(bad, FETCHED)


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({"error": [], "result": {"last": 1548111600}}, "expected one pair in 'result', got 0"),
        ({"error": [], "result": {"XXBTZUSD": [], "last": 1}}, "no candles"),
        (
            {"error": [], "result": {"XXBTZUSD": {}, "last": 1}},
            "expected a list at 'result.XXBTZUSD'",
        ),
        (
            {"error": [], "result": {"XXBTZUSD": [[1548115200, "3533.4"]]}},
            "missing 'result.XXBTZUSD\\[0\\]\\[2\\]'",
        ),
        (
            {"error": [], "result": {"XXBTZUSD": [[None, "1", "1", "1", "1"]]}},
            "XXBTZUSD\\[0\\] time",
        ),
    ],
)
def test_bad_ohlc_bodies_raise_parse_error(bad: Json, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        kraken.parse_ohlc(bad, FETCHED)


def test_spec_urls_cadence_and_spacing() -> None:
    spec = kraken.SPEC
    ticker, ohlc = spec.endpoints
    assert ticker.url(spec.base_url) == "https://api.kraken.com/0/public/Ticker?pair=XBTUSD"
    assert ohlc.url(spec.base_url) == (
        "https://api.kraken.com/0/public/OHLC?pair=XBTUSD&interval=1440"
    )
    assert (ticker.interval_s, ohlc.interval_s) == (15.0, 300.0)
    assert spec.min_spacing_s == 1.0
