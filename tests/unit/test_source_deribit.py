"""Deribit index parser on recorded real bodies and the docs' error example (tests/data/deribit)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from tests.conftest import body
from tui.core.errors import ParseError, RateLimitedError
from tui.core.model import Json, Status
from tui.core.sources import deribit

FETCHED = datetime(2026, 2, 6, 15, 0, 3, tzinfo=UTC)


def load(name: str) -> dict[str, Json]:
    parsed = json.loads(body("deribit", name))
    assert isinstance(parsed, dict)
    return parsed


def index_in_real_envelope() -> dict[str, Json]:
    """The real get_index_price ``result`` (index_price_result.json, stored without its envelope)
    inside the real HTTP envelope of ticker_btc_perpetual.json (jsonrpc, usIn, usOut, ...)."""
    return {**load("ticker_btc_perpetual.json"), "result": load("index_price_result.json")}


def test_index_price_observed_at_us_out() -> None:
    [obs] = deribit.parse_index(index_in_real_envelope(), FETCHED)
    assert (obs.id, obs.value, obs.unit, obs.source) == (
        "btc.price.deribit_index",
        80814.47,
        "USD",
        "deribit",
    )
    # usOut 1736124757228637 µs.
    assert obs.observed_at == datetime(2025, 1, 6, 0, 52, 37, 228637, tzinfo=UTC)


def test_index_price_without_us_out_is_observed_at_fetch_time() -> None:
    bare = {"jsonrpc": "2.0", "result": load("index_price_result.json")}
    [obs] = deribit.parse_index(bare, FETCHED)
    assert (obs.value, obs.observed_at) == (80814.47, FETCHED)


def test_error_object_is_quoted() -> None:
    with pytest.raises(ParseError, match=r"^Deribit: 13009 invalid_token$"):
        deribit.parse_index(load("deribit_error.json"), FETCHED)


def test_too_many_requests_is_a_rate_limit() -> None:
    # The docs' error body with the code its error table gives for an empty credit pool.
    error = load("deribit_error.json")
    error["error"] = {"code": 10028, "message": "too_many_requests"}
    with pytest.raises(RateLimitedError) as caught:
        deribit.parse_index(error, FETCHED)
    assert (caught.value.status_code, caught.value.until) == (200, None)
    assert caught.value.detail == "Deribit: 10028 too_many_requests"
    assert caught.value.missing().reason is Status.RATE_LIMITED


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"result": None}, "expected an object at 'result', got null"),
        ({"result": {}}, "missing 'result.index_price'"),
        ({"result": {"index_price": "abc"}}, "result.index_price: expected a number"),
        ({"result": {"index_price": 0}}, "outside"),
        ({"result": {"index_price": -80814.47}}, "outside"),
        ({"result": {"index_price": 8.1e12}}, "outside"),
        ({"usOut": "later"}, "usOut: "),
        ({"usOut": -1}, "usOut: "),
        ({"error": "too_many_requests"}, "expected an object at 'error'"),
        ({"error": {"code": 10028}}, "missing 'error.message'"),
    ],
)
def test_bad_envelopes_raise_parse_error(change: dict[str, Json], message: str) -> None:
    with pytest.raises(ParseError, match=message):
        deribit.parse_index({**index_in_real_envelope(), **change}, FETCHED)


@pytest.mark.parametrize("bad", [{}, [], "<html>", None, 80814.47])
def test_bodies_without_an_envelope_raise_parse_error(bad: Json) -> None:
    with pytest.raises(ParseError, match=r"'result'|the top level"):
        deribit.parse_index(bad, FETCHED)


def test_spec_url() -> None:
    spec = deribit.SPEC
    [index] = spec.endpoints
    assert index.url(spec.base_url) == (
        "https://www.deribit.com/api/v2/public/get_index_price?index_name=btc_usd"
    )
    assert index.interval_s == 15.0
