"""Deribit index parser on recorded real bodies and the docs' error example (tests/data/deribit)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import body
from tui.core.errors import FetchError, ParseError, RateLimitedError
from tui.core.model import Json, Observation, Status
from tui.core.sources import deribit
from tui.core.sources.spec import ParseContext, Parser

#: Keys the Deribit parsers look at, so random bodies reach past the first check.
KEYS = [
    "result", "error", "usOut", "instrument_name", "funding_8h", "timestamp", "open_interest",
    "quote_currency", "creation_timestamp", "mark_iv", "underlying_price", "bid_price",
    "index_price", "data", "code", "message",
]  # fmt: skip

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


# --- deribit_futures: perpetual funding and futures OI ---------------------------------------

FUTURES_SPEC = deribit.FUTURES_SPEC
OPTIONS_SPEC = deribit.OPTIONS_SPEC


def load_list(name: str) -> list[Json]:
    parsed = json.loads(body("deribit", name))
    assert isinstance(parsed, list)
    return parsed


def futures_in_real_envelope() -> dict[str, Json]:
    """The real ``kind=future`` result (book_summary_future_result.json, stored without its
    envelope) inside the real HTTP envelope of ticker_btc_perpetual.json."""
    return {
        **load("ticker_btc_perpetual.json"),
        "result": load_list("book_summary_future_result.json"),
    }


def funding_of(doc: dict[str, Json]) -> Observation:
    [obs] = [o for o in deribit.parse_futures(doc, FETCHED) if o.id == "funding.deribit"]
    return obs


def with_perp(change: dict[str, Json]) -> dict[str, Json]:
    """The real futures summary with the BTC-PERPETUAL row changed."""
    doc = futures_in_real_envelope()
    rows = doc["result"]
    assert isinstance(rows, list)
    doc["result"] = [
        {**r, **change} if isinstance(r, dict) and r["instrument_name"] == "BTC-PERPETUAL" else r
        for r in rows
    ]
    return doc


def test_perp_funding_from_the_summary_in_percent_per_8h() -> None:
    obs = funding_of(futures_in_real_envelope())
    # The perpetual's funding_8h 1.583e-05 is a fraction per 8h: 0.001583 % per 8h.
    assert (obs.id, obs.unit, obs.source) == ("funding.deribit", "% per 8h", "deribit_futures")
    assert obs.value == pytest.approx(0.001583)
    # Its row's creation_timestamp 1789939036004 ms.
    assert obs.observed_at == datetime.fromtimestamp(1789939036.004, UTC)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"funding_8h": 0.06}, "funding_8h: 0.06 outside"),
        ({"funding_8h": "soon"}, "funding_8h"),
        ({"creation_timestamp": "soon"}, "creation_timestamp"),
    ],
)
def test_perp_funding_refuses_odd_values(change: dict[str, Json], message: str) -> None:
    with pytest.raises(ParseError, match=message):
        deribit.parse_futures(with_perp(change), FETCHED)


def test_a_perpetual_without_funding_still_gives_the_open_interest() -> None:
    [obs] = deribit.parse_futures(with_perp({"funding_8h": None}), FETCHED)
    assert obs.id == "oi.futures.deribit"


def test_negative_funding_stays_negative() -> None:
    assert funding_of(with_perp({"funding_8h": -1.2e-4})).value == pytest.approx(-0.012)


def test_futures_open_interest_is_the_usd_sum() -> None:
    [obs, _funding] = deribit.parse_futures(futures_in_real_envelope(), FETCHED)
    # 13 inverse rows incl. BTC-PERPETUAL (787,799,210): $1,698,036,020.
    assert (obs.id, obs.unit, obs.source) == ("oi.futures.deribit", "USD", "deribit_futures")
    assert obs.value == 1_698_036_020
    assert obs.observed_at == datetime.fromtimestamp(1789939036.004, UTC)


def test_futures_leave_out_rows_not_in_usd() -> None:
    doc = futures_in_real_envelope()
    rows = doc["result"]
    assert isinstance(rows, list)
    perp = rows[7]
    assert isinstance(perp, dict)
    # Test-made: the perpetual's row as a linear contract, whose OI would be in BTC.
    linear = {**perp, "instrument_name": "BTC_USDC-PERPETUAL", "quote_currency": "USDC"}
    doc["result"] = [*rows, linear]
    [obs, _funding] = deribit.parse_futures(doc, FETCHED)
    assert obs.value == 1_698_036_020


@pytest.mark.parametrize(
    ("result", "message"),
    [
        ([], "no BTC inverse futures"),
        ({}, "expected a list at 'result'"),
        ([1], r"expected an object at 'result\[0\]'"),
        ([{"instrument_name": "BTC-PERPETUAL", "open_interest": -5}], "outside"),
        ([{"instrument_name": "BTC-PERPETUAL"}], "missing 'open_interest'"),
    ],
)
def test_futures_refuse_odd_results(result: Json, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        deribit.parse_futures({**futures_in_real_envelope(), "result": result}, FETCHED)


@pytest.mark.parametrize("parse", [deribit.parse_futures, deribit.parse_dvol])
def test_error_envelopes_of_every_parser(parse: Parser) -> None:
    with pytest.raises(ParseError, match="13009 invalid_token"):
        parse(load("deribit_error.json"), FETCHED)
    error = load("deribit_error.json")
    error["error"] = {"code": 10028, "message": "too_many_requests"}
    with pytest.raises(RateLimitedError):
        parse(error, FETCHED)


# --- deribit_options: the chain and DVOL -----------------------------------------------------


def chain() -> tuple[dict[str, Json], datetime]:
    doc = load("book_summary_option_trimmed.json")
    us_out = doc["usOut"]
    assert isinstance(us_out, int)
    return doc, datetime.fromtimestamp(us_out / 1e6, UTC)


def test_chain_readings_from_a_real_body() -> None:
    """The real (trimmed) chain: every reading the analytics can form, checked by hand in
    tests/unit/test_options.py::test_real_chain_end_to_end."""
    doc, fetched = chain()
    out = {o.id: o for o in deribit.parse_chain(doc, fetched)}
    assert set(out) == {
        "options.rr25.7d",
        "options.rr25.30d",
        "options.atm_iv.7d",
        "options.atm_iv.30d",
        "options.atm_iv.90d",
        "options.term.slope",
        "options.put_oi.retest_band",
        "options.put_oi.retest_share",
        "options.max_pain.2026-07-06",
        "options.max_pain.2026-07-24",
        "options.max_pain.2026-08-28",
        "options.max_pain.2026-09-25",
        "options.max_pain.2026-12-25",
    }
    assert {o.source for o in out.values()} == {"deribit_options"}
    # Observed at the rows' creation_timestamp (1783186478644 ms).
    assert {o.observed_at for o in out.values()} == {datetime.fromtimestamp(1783186478.644, UTC)}
    units = {i: o.unit for i, o in out.items()}
    assert units["options.rr25.7d"] == units["options.atm_iv.90d"] == "vol pts"
    assert (units["options.put_oi.retest_band"], units["options.put_oi.retest_share"]) == (
        "BTC",
        "%",
    )
    assert units["options.max_pain.2026-08-28"] == "USD"
    assert out["options.put_oi.retest_band"].value == pytest.approx(99.1)  # 75.3 + 23.8
    assert out["options.max_pain.2026-08-28"].value == 56_000
    assert out["options.term.slope"].value == pytest.approx(
        out["options.atm_iv.90d"].value - out["options.atm_iv.7d"].value
    )


def test_chain_reads_the_retest_band_from_settings() -> None:
    doc, fetched = chain()
    narrow = ParseContext(retest_low=55_000, retest_high=60_000)
    out = {o.id: o.value for o in deribit.parse_chain_with(doc, fetched, narrow)}
    # Only the 24 Jul 56000 put (23.8) of the 99.1 BTC of puts within 45 days.
    assert out["options.put_oi.retest_band"] == pytest.approx(23.8)
    assert out["options.put_oi.retest_share"] == pytest.approx(23.8 / 99.1 * 100)
    [chain_ep] = [ep for ep in OPTIONS_SPEC.endpoints if ep.key == "chain"]
    via_endpoint = {o.id: o.value for o in chain_ep.read(doc, fetched, narrow)}
    assert via_endpoint == out


def test_bad_option_rows_are_skipped_not_fatal() -> None:
    doc, fetched = chain()
    rows = doc["result"]
    assert isinstance(rows, list)
    first = rows[0]
    assert isinstance(first, dict)
    # Test-made rows: a broken IV, a future's name, a non-object and a missing forward.
    doc["result"] = [
        *rows,
        {**first, "instrument_name": "BTC-28AUG26-50000-P", "mark_iv": "abc"},
        {**first, "instrument_name": "BTC-28AUG26"},
        "row",
        {**first, "instrument_name": "BTC-28AUG26-52000-P", "underlying_price": None},
    ]
    quotes, skipped = deribit.read_chain(doc)
    assert (len(quotes), skipped) == (10, 4)
    assert {o.id for o in deribit.parse_chain(doc, fetched)} == {
        o.id for o in deribit.parse_chain(chain()[0], fetched)
    }


@pytest.mark.parametrize(
    ("rows", "reason"),
    [
        ([], "empty chain"),
        (["x", {"instrument_name": "BTC-PERPETUAL"}], "empty chain"),
    ],
)
def test_a_chain_without_readings_says_why(rows: list[Json], reason: str) -> None:
    doc, fetched = chain()
    with pytest.raises(ParseError, match=rf"not enough data \({reason}"):
        deribit.parse_chain({**doc, "result": rows}, fetched)


def test_an_expired_chain_says_why() -> None:
    doc, _ = chain()
    with pytest.raises(ParseError, match="every expiry in the chain has passed"):
        deribit.parse_chain(doc, datetime(2027, 1, 1, tzinfo=UTC))


def test_a_chain_without_iv_or_open_interest_says_why() -> None:
    doc, fetched = chain()
    rows = doc["result"]
    assert isinstance(rows, list)
    blind = [{**r, "mark_iv": None, "open_interest": 0.0} for r in rows if isinstance(r, dict)]
    with pytest.raises(ParseError, match="not enough data"):
        deribit.parse_chain({**doc, "result": blind}, fetched)


def test_dvol_from_the_index_price() -> None:
    [obs] = deribit.parse_dvol(load("index_price_btcdvol.json"), FETCHED)
    assert (obs.id, obs.value, obs.unit, obs.source) == (
        "options.dvol",
        38.68,
        "vol pts",
        "deribit_options",
    )
    # usOut 1783186480233407 µs.
    assert obs.observed_at == datetime.fromtimestamp(1783186480.233407, UTC)


def test_dvol_candles_in_vol_points() -> None:
    doc = {**load("index_price_btcdvol.json"), "result": load("volatility_index_result.json")}
    out = deribit.parse_dvol(doc, FETCHED)
    assert len(out) == 15
    assert (out[-1].value, out[-1].observed_at) == (35.47, datetime.fromtimestamp(1789905600, UTC))
    assert out[0].value == 38.89


def test_dvol_candles_as_fractions_are_scaled() -> None:
    # The OpenAPI example publishes DVOL as a fraction (0.21...): read as 21... vol points.
    out = deribit.parse_dvol(load("volatility_index_docs.json"), FETCHED)
    assert [round(o.value, 7) for o in out] == [21.2860821, 21.2987527, 21.2992597]


@pytest.mark.parametrize(
    ("result", "message"),
    [
        ({"index_price": 0.001}, "outside 1..500"),
        ({"index_price": 900}, "outside"),
        ({"index_price": None}, "expected a number"),
        ({"data": []}, "expected candles"),
        ({"data": [[1789905600000, 1, 2]]}, r"missing 'data\[0\]\[4\]'|missing '\[0\]\[4\]'"),
    ],
)
def test_dvol_refuses_odd_values(result: Json, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        deribit.parse_dvol({**load("index_price_btcdvol.json"), "result": result}, FETCHED)


# --- the specs -------------------------------------------------------------------------------


def test_futures_spec() -> None:
    spec = deribit.FUTURES_SPEC
    assert (spec.name, spec.bucket, spec.interval_s) == ("deribit_futures", "derivatives", 60.0)
    urls = {ep.key: ep.url(spec.base_url) for ep in spec.endpoints}
    # One request for funding and OI: the perpetual's row carries funding_8h.
    assert urls == {
        "futures": "https://www.deribit.com/api/v2/public/get_book_summary_by_currency"
        "?currency=BTC&kind=future",
    }


def test_options_spec() -> None:
    spec = deribit.OPTIONS_SPEC
    assert (spec.name, spec.bucket, spec.interval_s) == ("deribit_options", "options", 300.0)
    urls = {ep.key: ep.url(spec.base_url) for ep in spec.endpoints}
    assert urls == {
        "chain": "https://www.deribit.com/api/v2/public/get_book_summary_by_currency"
        "?currency=BTC&kind=option",
        "dvol": "https://www.deribit.com/api/v2/public/get_index_price?index_name=btcdvol_usdc",
    }
    chain_ep = spec.endpoints[0]
    assert chain_ep.parse_with is deribit.parse_chain_with
    # Two requests per 5 minutes: the whole chain, not one ticker per instrument.
    assert len(spec.endpoints) == 2


def test_the_index_spec_is_unchanged() -> None:
    assert (deribit.SPEC.name, deribit.SPEC.bucket) == ("deribit", "price")
    assert [ep.key for ep in deribit.SPEC.endpoints] == ["index"]


# --- any body: observations or a FetchError, nothing else -----------------------------------

LEAVES = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=12)
    | st.sampled_from(["BTC-PERPETUAL", "BTC-27FEB26-60000-P", "BTC-6JUL26-54000-C", "nan", ""])
    | st.sampled_from([1783186478644, 1736124757228637, 63358.41, 48.58, -1, 10**30, 0.0001])
)
JSON = st.recursive(
    LEAVES,
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.sampled_from(KEYS), inner, max_size=6)
    ),
    max_leaves=12,
)

PARSERS: list[Parser] = [
    deribit.parse_futures,
    deribit.parse_chain,
    deribit.parse_dvol,
]
REAL_BODIES = [
    ("book_summary_option_trimmed.json", deribit.parse_chain),
    ("index_price_btcdvol.json", deribit.parse_dvol),
]


def only_observations(parse: Parser, doc: Json, fetched: datetime) -> None:
    try:
        out = parse(doc, fetched)
    except FetchError:
        return
    assert all(isinstance(o, Observation) for o in out)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(PARSERS), JSON, st.sampled_from([FETCHED, datetime(2026, 7, 4, tzinfo=UTC)]))
def test_any_json_gives_observations_or_a_fetch_error(
    parse: Parser, doc: Json, fetched: datetime
) -> None:
    only_observations(parse, {"jsonrpc": "2.0", "result": doc}, fetched)
    only_observations(parse, doc, fetched)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(REAL_BODIES), st.data())
def test_mutated_real_bodies_give_observations_or_a_fetch_error(
    case: tuple[str, Parser], data: st.DataObject
) -> None:
    name, parse = case
    doc = load(name)
    result = doc["result"]
    rows = result if isinstance(result, list) else [result]
    target = data.draw(st.sampled_from(rows))
    assert isinstance(target, dict)
    key = data.draw(st.sampled_from(sorted(target)))
    target[key] = data.draw(LEAVES)
    only_observations(parse, doc, datetime.fromtimestamp(1783186479, UTC))
