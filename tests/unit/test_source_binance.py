"""Binance USDⓈ-M parsers on Binance's published examples and real error bodies."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import body
from tui.core.errors import FetchError, GeoBlockedError, ParseError, RateLimitedError
from tui.core.model import Json, Observation, Status
from tui.core.sources import binance
from tui.core.sources.spec import Parser

FETCHED = datetime(2026, 2, 6, 15, 0, 7, tzinfo=UTC)
PARSERS = [binance.parse_premium_index, binance.parse_open_interest]


def load(name: str) -> Json:
    parsed: Json = json.loads(body("binance", name))
    return parsed


def with_(name: str, **changes: Json) -> Json:
    doc = load(name)
    assert isinstance(doc, dict)
    return {**doc, **changes}


def test_premium_index_gives_funding_per_8h_and_the_mark_at_binance_time() -> None:
    funding, mark = binance.parse_premium_index(load("premium_index_docs.json"), FETCHED)
    at = datetime(2020, 8, 14, 2, 1, 35, 2000, tzinfo=UTC)  # time 1597370495002
    # lastFundingRate 0.00038246 per 8 h interval = 0.038246 % per 8 h.
    assert (funding.id, funding.unit, funding.source, funding.observed_at) == (
        "funding.binance",
        "% per 8h",
        "binance",
        at,
    )
    assert funding.value == pytest.approx(0.038246)
    assert mark == Observation("btc.price.binance_mark", 11793.63104562, "USD", "binance", at)


def test_open_interest_is_in_btc_at_binance_time() -> None:
    (oi,) = binance.parse_open_interest(load("open_interest_docs.json"), FETCHED)
    assert (oi.id, oi.value, oi.unit, oi.source) == (
        "oi.futures.binance_btc",
        10659.509,
        "BTC",
        "binance",
    )
    assert oi.observed_at == datetime(2020, 5, 14, 6, 25, 30, 11000, tzinfo=UTC)


def test_open_interest_without_time_is_observed_at_the_fetch() -> None:
    doc = load("open_interest_docs.json")
    assert isinstance(doc, dict)
    del doc["time"]
    assert binance.parse_open_interest(doc, FETCHED)[0].observed_at == FETCHED


@pytest.mark.parametrize("parse", PARSERS)
def test_geo_block_body_is_geo_blocked(parse: Parser) -> None:
    with pytest.raises(GeoBlockedError) as caught:
        parse(load("binance_geo_blocked_451.json"), FETCHED)
    assert caught.value.status_code == 451
    assert caught.value.missing().reason is Status.GEO_BLOCKED
    assert "restricted location" in caught.value.detail


@pytest.mark.parametrize("parse", PARSERS)
def test_weight_limit_body_is_rate_limited(parse: Parser) -> None:
    with pytest.raises(RateLimitedError) as caught:
        parse(load("binance_rate_limited.json"), FETCHED)
    assert caught.value.detail.startswith("Binance: -1003 Too much request weight used")


@pytest.mark.parametrize("parse", PARSERS)
def test_other_error_bodies_are_quoted(parse: Parser) -> None:
    with pytest.raises(ParseError, match=r"^Binance: -1121 Invalid symbol\.$"):
        parse(load("binance_invalid_symbol.json"), FETCHED)


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (with_("premium_index_docs.json", symbol="ETHUSDT"), "expected symbol BTCUSDT"),
        (with_("premium_index_docs.json", lastFundingRate="0.06"), "lastFundingRate: .* outside"),
        (
            with_("premium_index_docs.json", lastFundingRate=""),
            "lastFundingRate: expected a number",
        ),
        (
            with_("premium_index_docs.json", lastFundingRate="nan"),
            "lastFundingRate: expected a number",
        ),
        (with_("premium_index_docs.json", markPrice="0.5"), "markPrice: .* outside"),
        (with_("premium_index_docs.json", time=None), "time: expected a number"),
        ([load("premium_index_docs.json")], "expected an object at the top level"),
    ],
)
def test_bad_premium_index_bodies_raise_parse_error(bad: Json, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        binance.parse_premium_index(bad, FETCHED)


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (with_("open_interest_docs.json", openInterest="-1"), "openInterest: .* outside"),
        (with_("open_interest_docs.json", openInterest="3e7"), "openInterest: .* outside"),
        ({"symbol": "BTCUSDT"}, "missing 'openInterest'"),
    ],
)
def test_bad_open_interest_bodies_raise_parse_error(bad: Json, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        binance.parse_open_interest(bad, FETCHED)


def test_spec_urls_cadence_and_bucket() -> None:
    spec = binance.SPEC
    premium, oi = spec.endpoints
    assert (
        premium.url(spec.base_url) == "https://fapi.binance.com/fapi/v1/premiumIndex?symbol=BTCUSDT"
    )
    assert oi.url(spec.base_url) == "https://fapi.binance.com/fapi/v1/openInterest?symbol=BTCUSDT"
    assert (spec.name, spec.bucket, spec.interval_s) == ("binance", "derivatives", 60.0)


LEAVES = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8)


@settings(max_examples=200, deadline=None, derandomize=True, database=None)
@given(
    name=st.sampled_from(["premium_index_docs.json", "open_interest_docs.json"]),
    key=st.sampled_from(["symbol", "markPrice", "lastFundingRate", "time", "openInterest", "code"]),
    value=LEAVES | st.lists(LEAVES, max_size=2),
)
def test_any_edit_gives_observations_or_a_fetch_error(name: str, key: str, value: Json) -> None:
    doc = with_(name, **{key: value})
    for parse in PARSERS:
        try:
            result = parse(doc, FETCHED)
        except FetchError:
            continue
        assert all(isinstance(o, Observation) for o in result)
