"""Bybit v5 tickers parser on Bybit's published example and real error bodies (tests/data/bybit)."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import body
from tui.core.errors import FetchError, ParseError, RateLimitedError
from tui.core.model import Json, Observation, Status
from tui.core.sources import bybit

FETCHED = datetime(2026, 2, 6, 15, 0, 7, tzinfo=UTC)
DOCS_TIME = datetime(2025, 10, 13, 10, 46, 9, 814000, tzinfo=UTC)  # time 1760352369814


def load(name: str) -> Json:
    parsed: Json = json.loads(body("bybit", name))
    return parsed


def inverse(**ticker: Json) -> dict[str, Json]:
    """The docs' inverse example with some ticker fields changed."""
    doc = copy.deepcopy(load("tickers_inverse_docs.json"))
    assert isinstance(doc, dict)
    doc["result"]["list"][0].update(ticker)  # type: ignore[call-overload,index,union-attr]
    return doc


def linear(**ticker: Json) -> dict[str, Json]:
    """Test data, labelled: the docs publish no linear example (tests/data/bybit/README.md), so
    the inverse one is relabelled ``linear``/BTCUSDT with BTCUSDT-like values. Same keys and
    types; the docs give one response table for both categories."""
    base: dict[str, Json] = {
        "symbol": "BTCUSDT",
        "markPrice": "62950.10",
        "openInterest": "98000.123",  # BTC, both sides
        "openInterestValue": "6169109742.30",  # USDT, both sides
        "fundingRate": "-0.00004104",
    }
    doc = inverse(**{**base, **ticker})
    doc["result"]["category"] = "linear"  # type: ignore[index]
    return doc


def test_inverse_docs_example_gives_usd_open_interest_only() -> None:
    (oi,) = bybit.parse_tickers(load("tickers_inverse_docs.json"), FETCHED)
    # No single-side field in the docs example: falls back to openInterest, USD ($1 contracts).
    assert oi == Observation("oi.futures.bybit_inverse", 240113967.0, "USD", "bybit", DOCS_TIME)


def test_inverse_prefers_the_single_side_open_interest() -> None:
    doc = inverse(singleOpenInterest="120056983", singleOpenInterestValue="1044.89")
    (oi,) = bybit.parse_tickers(doc, FETCHED)
    assert oi.value == 120056983.0


def test_linear_gives_funding_per_8h_and_usd_open_interest() -> None:
    funding, oi = bybit.parse_tickers(linear(), FETCHED)
    assert (funding.id, funding.unit, funding.source, funding.observed_at) == (
        "funding.bybit",
        "% per 8h",
        "bybit",
        DOCS_TIME,
    )
    assert funding.value == pytest.approx(-0.004104)  # -0.00004104 per 8 h = -0.004104 %
    assert (oi.id, oi.value) == ("oi.futures.bybit_linear", 6169109742.30)


def test_linear_single_side_value_wins_over_both_sides() -> None:
    doc = linear(singleOpenInterest="49000.0615", singleOpenInterestValue="3084554871.15")
    assert bybit.parse_tickers(doc, FETCHED)[1].value == 3084554871.15


@pytest.mark.parametrize(
    ("interval", "expected"), [("1", -0.032832), ("4", -0.008208), ("", -0.004104)]
)
def test_funding_interval_converts_to_8h(interval: str, expected: float) -> None:
    # fundingIntervalHour "1": the rate is per hour, eight of them in 8 h; "" (n/a) means 8 h.
    funding = bybit.parse_tickers(linear(fundingIntervalHour=interval), FETCHED)[0]
    assert funding.value == pytest.approx(expected)


def test_rate_limit_inside_http_200() -> None:
    with pytest.raises(RateLimitedError) as caught:
        bybit.parse_tickers(load("bybit_rate_limited.json"), FETCHED)
    assert (caught.value.status_code, caught.value.until) == (200, None)
    assert caught.value.detail == "Bybit: 10006 Too many visits!"
    assert caught.value.missing().reason is Status.RATE_LIMITED


def test_other_ret_codes_are_quoted() -> None:
    with pytest.raises(ParseError, match=r"^Bybit: 10001 params error: symbol invalid$"):
        bybit.parse_tickers(load("bybit_symbol_invalid.json"), FETCHED)


def _with_result(**result: Json) -> dict[str, Json]:
    doc = inverse()
    doc["result"] = {**doc["result"], **result}  # type: ignore[dict-item]
    return doc


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({}, "missing 'retCode'"),
        ("<html>", "expected an object at the top level"),
        (_with_result(category="spot"), "expected category linear or inverse"),
        (_with_result(list=[]), "expected exactly one ticker"),
        (inverse(symbol="ETHUSD"), "expected symbol BTCUSD"),
        (inverse(openInterest=""), "inverse open interest: expected a number"),
        (inverse(openInterest="-5"), "inverse open interest: .* outside"),
        (linear(fundingRate="0.5"), "fundingRate: .* outside"),
        (linear(fundingIntervalHour="0"), "fundingIntervalHour: .* outside"),
        (linear(fundingRate=""), "fundingRate: expected a number"),
    ],
)
def test_bad_bodies_raise_parse_error(bad: Json, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        bybit.parse_tickers(bad, FETCHED)


def test_spec_urls_cadence_and_bucket() -> None:
    spec = bybit.SPEC
    lin, inv = spec.endpoints
    assert lin.url(spec.base_url) == (
        "https://api.bybit.com/v5/market/tickers?category=linear&symbol=BTCUSDT"
    )
    assert inv.url(spec.base_url) == (
        "https://api.bybit.com/v5/market/tickers?category=inverse&symbol=BTCUSD"
    )
    assert (spec.name, spec.bucket, spec.interval_s) == ("bybit", "derivatives", 60.0)


LEAVES = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8)
TICKER_KEYS = [
    "symbol",
    "openInterest",
    "singleOpenInterestValue",
    "fundingRate",
    "fundingIntervalHour",
]


@settings(max_examples=200, deadline=None, derandomize=True, database=None)
@given(
    category=st.sampled_from(["linear", "inverse"]),
    key=st.sampled_from([*TICKER_KEYS, "retCode", "time", "category"]),
    value=LEAVES | st.lists(LEAVES, max_size=2),
)
def test_any_edit_gives_observations_or_a_fetch_error(category: str, key: str, value: Json) -> None:
    doc = linear() if category == "linear" else inverse()
    if key in TICKER_KEYS:
        doc["result"]["list"][0][key] = value  # type: ignore[call-overload,index]
    elif key == "category":
        doc["result"]["category"] = value  # type: ignore[index]
    else:
        doc[key] = value
    try:
        result = bybit.parse_tickers(doc, FETCHED)
    except FetchError:
        return
    assert all(isinstance(o, Observation) for o in result)
