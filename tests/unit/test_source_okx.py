"""OKX v5 parsers on OKX's published examples, recorded liquidations and real error bodies."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import body
from tui.core.errors import FetchError, ParseError, RateLimitedError
from tui.core.model import Json, Observation, Status
from tui.core.sources import okx
from tui.core.sources.spec import Parser

FETCHED = datetime(2026, 2, 6, 15, 0, 7, tzinfo=UTC)
ALL: list[Parser] = [ep.parse for ep in okx.SPEC.endpoints]


def load(name: str) -> Json:
    parsed: Json = json.loads(body("okx", name))
    return parsed


def ms(value: Json) -> datetime:
    assert isinstance(value, str)
    return datetime.fromtimestamp(int(value) / 1000, UTC)


def rest(*pushes: str) -> dict[str, Json]:
    """Test data, labelled: the ``data`` rows of recorded ``liquidation-orders`` pushes inside
    OKX's REST envelope (tests/data/okx/README.md: no whole REST answer was found)."""
    rows: list[Json] = []
    for name in pushes:
        push = load(name)
        assert isinstance(push, dict)
        assert isinstance(push["data"], list)
        rows += push["data"]
    return {"code": "0", "msg": "", "data": rows}


# --- funding ----------------------------------------------------------------------------------


def test_funding_docs_example_in_percent_per_8h_at_okx_ts() -> None:
    (funding,) = okx.parse_funding_rate(load("funding_rate_docs.json"), FETCHED)
    assert (funding.id, funding.unit, funding.source) == ("funding.okx", "% per 8h", "okx")
    # fundingRate 0.0000182221218054 per 8 h (1743638400000 - 1743609600000 = 28,800,000 ms).
    assert funding.value == pytest.approx(0.00182221218054)
    assert funding.observed_at == ms("1743588686291")


def test_funding_older_body_with_next_period_method() -> None:
    (funding,) = okx.parse_funding_rate(load("funding_rate_docs_2023.json"), FETCHED)
    assert funding.value == pytest.approx(0.0079238688534)
    assert funding.observed_at == ms("1703070685309")


def test_a_shorter_funding_interval_is_scaled_to_8h() -> None:
    doc = copy.deepcopy(load("funding_rate_docs.json"))
    row = doc["data"][0]  # type: ignore[call-overload,index]
    row["nextFundingTime"] = str(int(row["fundingTime"]) + 4 * 3_600_000)  # a 4 h period
    assert okx.parse_funding_rate(doc, FETCHED)[0].value == pytest.approx(2 * 0.00182221218054)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"nextFundingTime": "1743609600000"}, "funding interval 0 h"),
        ({"nextFundingTime": "1743720000000"}, "funding interval 30.6667 h"),
        ({"fundingRate": "0.1"}, "fundingRate: .* outside"),
        ({"fundingRate": ""}, "fundingRate: expected a number"),
        ({"instId": "ETH-USDT-SWAP"}, "expected one row for BTC-USDT-SWAP in 'data', got 0"),
        ({"ts": "soon"}, "ts: expected a number"),
    ],
)
def test_bad_funding_bodies_raise_parse_error(change: dict[str, Json], message: str) -> None:
    doc = copy.deepcopy(load("funding_rate_docs.json"))
    doc["data"][0].update(change)  # type: ignore[call-overload,index,union-attr]
    with pytest.raises(ParseError, match=message):
        okx.parse_funding_rate(doc, FETCHED)


# --- open interest ----------------------------------------------------------------------------


def test_open_interest_uses_okx_own_usd_figure() -> None:
    (oi,) = okx.parse_open_interest_usdt_swap(load("open_interest_docs.json"), FETCHED)
    assert oi == Observation("oi.futures.okx_usdt_swap", 50000.0, "USD", "okx", ms("1597026383085"))


def test_open_interest_of_the_inverse_swap_needs_its_own_row() -> None:
    doc = copy.deepcopy(load("open_interest_docs.json"))
    with pytest.raises(ParseError, match="expected one row for BTC-USD-SWAP"):
        okx.parse_open_interest_usd_swap(doc, FETCHED)
    doc["data"][0]["instId"] = "BTC-USD-SWAP"  # type: ignore[call-overload,index]
    (oi,) = okx.parse_open_interest_usd_swap(doc, FETCHED)
    assert (oi.id, oi.value) == ("oi.futures.okx_usd_swap", 50000.0)


def test_open_interest_without_oiusd_is_refused_not_guessed() -> None:
    with pytest.raises(ParseError, match=r"missing 'data\[0\]\.oiUsd'"):
        okx.parse_open_interest_usdt_swap(load("open_interest_docs_no_usd.json"), FETCHED)


# --- liquidations -----------------------------------------------------------------------------


def test_recorded_long_liquidation_in_usd_from_contracts() -> None:
    *rows, window = okx.parse_liquidations_usdt_swap(
        rest("liquidation_ws_btc_usdt_2026.json"), FETCHED
    )
    (row,) = rows
    # posSide long / side sell: a long was liquidated; 8.55 contracts x 0.01 BTC x 82655.7.
    assert (row.id, row.unit, row.source) == ("liq.long_usd.okx_usdt_swap", "USD", "okx")
    assert row.value == pytest.approx(8.55 * 0.01 * 82655.7)
    assert row.observed_at == ms("1791565600771")
    assert window.id == "liq.window_h.okx_usdt_swap"
    assert window.observed_at == FETCHED


def test_recorded_short_liquidation_and_two_rows_in_one_answer() -> None:
    rows = okx.parse_liquidations_usdt_swap(
        rest("liquidation_ws_btc_usdt_2023.json", "liquidation_ws_btc_usdt_2026.json"),
        datetime(2026, 10, 1, tzinfo=UTC),
    )
    assert [(o.id, round(o.value, 4)) for o in rows[:-1]] == [
        ("liq.short_usd.okx_usdt_swap", round(0.01 * 0.01 * 23523.9, 4)),  # buy/short, Jan 2023
        ("liq.long_usd.okx_usdt_swap", round(8.55 * 0.01 * 82655.7, 4)),
    ]


def test_net_mode_reads_the_order_side() -> None:
    doc = rest("liquidation_ws_btc_usdt_2026.json")
    doc["data"][0]["details"][0]["posSide"] = "net"  # type: ignore[index]
    assert okx.parse_liquidations_usdt_swap(doc, FETCHED)[0].id == "liq.long_usd.okx_usdt_swap"
    doc["data"][0]["details"][0]["side"] = "buy"  # type: ignore[index]
    assert okx.parse_liquidations_usdt_swap(doc, FETCHED)[0].id == "liq.short_usd.okx_usdt_swap"


def test_inverse_swap_contracts_are_100_usd() -> None:
    # Test data, labelled: no recorded BTC-USD-SWAP liquidation; the instrument is changed.
    doc = rest("liquidation_ws_btc_usdt_2026.json")
    doc["data"][0]["instId"] = "BTC-USD-SWAP"  # type: ignore[index]
    row = okx.parse_liquidations_usd_swap(doc, FETCHED)[0]
    assert row.id == "liq.long_usd.okx_usd_swap"
    assert row.value == pytest.approx(855.0)  # 8.55 contracts x $100


def test_orders_in_the_same_millisecond_are_summed() -> None:
    doc = rest("liquidation_ws_btc_usdt_2026.json")
    details = doc["data"][0]["details"]  # type: ignore[index]
    details.append(dict(details[0]))  # type: ignore[union-attr]
    (row, _window) = okx.parse_liquidations_usdt_swap(doc, FETCHED)
    assert row.value == pytest.approx(2 * 8.55 * 0.01 * 82655.7)


def test_other_instruments_are_left_out() -> None:
    # The docs' push example is IOST-USDT-SWAP: nothing of it is BTC.
    (window,) = okx.parse_liquidations_usdt_swap(rest("liquidation_orders_ws_docs.json"), FETCHED)
    assert window.id == "liq.window_h.okx_usdt_swap"


def test_window_reaches_back_to_the_oldest_row_or_what_okx_keeps() -> None:
    doc = rest("liquidation_ws_btc_usdt_2026.json")
    at = ms("1791565600771")
    # Fewer rows than the limit: the answer holds all OKX keeps, at least RETAINED_H back.
    assert okx.parse_liquidations_usdt_swap(doc, at + timedelta(hours=1))[-1].value == 12.0
    assert okx.parse_liquidations_usdt_swap(doc, at + timedelta(hours=20))[-1].value == 20.0
    # A full answer may have cut older rows: it only reaches its oldest row.
    details = doc["data"][0]["details"]  # type: ignore[index]
    details.extend(dict(details[0]) for _ in range(okx.LIQ_LIMIT - 1))  # type: ignore[union-attr]
    assert okx.parse_liquidations_usdt_swap(doc, at + timedelta(hours=1))[-1].value == 1.0


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"side": "buy"}, "side 'buy' does not close a long position"),
        ({"posSide": "both", "side": "sell"}, "unexpected liquidation side"),
        ({"sz": "-1"}, "sz: .* outside"),
        ({"bkPx": ""}, "bkPx: expected a number"),
        ({"ts": None}, "ts: expected a number"),
    ],
)
def test_bad_liquidation_rows_raise_parse_error(change: dict[str, Json], message: str) -> None:
    doc = rest("liquidation_ws_btc_usdt_2026.json")
    doc["data"][0]["details"][0].update(change)  # type: ignore[index,union-attr]
    with pytest.raises(ParseError, match=message):
        okx.parse_liquidations_usdt_swap(doc, FETCHED)


# --- envelope ---------------------------------------------------------------------------------


@pytest.mark.parametrize("parse", ALL)
def test_rate_limit_in_any_answer(parse: Parser) -> None:
    with pytest.raises(RateLimitedError) as caught:
        parse(load("okx_rate_limited.json"), FETCHED)
    assert caught.value.detail == "OKX: 50011 Too Many Requests"
    assert caught.value.missing().reason is Status.RATE_LIMITED


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("okx_family_required.json", "^OKX: 50015 Either parameter uly or instFamily is required$"),
        ("okx_instrument_missing.json", "^OKX: 51001 Instrument ID does not exist$"),
    ],
)
@pytest.mark.parametrize("parse", ALL)
def test_other_codes_are_quoted(parse: Parser, name: str, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        parse(load(name), FETCHED)


@pytest.mark.parametrize("parse", ALL)
@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({}, "missing 'code'"),
        ({"code": "0"}, "missing 'data'"),
        ({"code": "0", "data": {}}, "list"),
    ],
)
def test_broken_envelopes_raise_parse_error(parse: Parser, bad: Json, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        parse(bad, FETCHED)


def test_spec_urls_cadence_and_bucket() -> None:
    spec = okx.SPEC
    urls = [ep.url(spec.base_url) for ep in spec.endpoints]
    base = "https://www.okx.com/api/v5/public"
    assert urls == [
        f"{base}/funding-rate?instId=BTC-USDT-SWAP",
        f"{base}/open-interest?instType=SWAP&instId=BTC-USDT-SWAP",
        f"{base}/open-interest?instType=SWAP&instId=BTC-USD-SWAP",
        f"{base}/liquidation-orders?instType=SWAP&instFamily=BTC-USDT&state=filled&limit=100",
        f"{base}/liquidation-orders?instType=SWAP&instFamily=BTC-USD&state=filled&limit=100",
    ]
    assert (spec.name, spec.bucket, spec.interval_s) == ("okx", "derivatives", 60.0)


LEAVES = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8)
SEEDS: list[Json] = [
    load("funding_rate_docs.json"),
    load("open_interest_docs.json"),
    rest("liquidation_ws_btc_usdt_2026.json"),
]


@settings(max_examples=200, deadline=None, derandomize=True, database=None)
@given(
    seed=st.sampled_from(SEEDS),
    key=st.sampled_from(
        ["code", "instId", "fundingRate", "fundingTime", "oiUsd", "ts", "sz", "bkPx", "posSide"]
    ),
    value=LEAVES | st.lists(LEAVES, max_size=2),
)
def test_any_edit_gives_observations_or_a_fetch_error(seed: Json, key: str, value: Json) -> None:
    doc = copy.deepcopy(seed)
    assert isinstance(doc, dict)
    row = doc["data"][0]  # type: ignore[index,call-overload]
    if key == "code":
        doc["code"] = value
    elif key in row:
        row[key] = value
    elif "details" in row:
        row["details"][0][key] = value
    for parse in ALL:
        try:
            result = parse(doc, FETCHED)
        except FetchError:
            continue
        assert all(isinstance(o, Observation) for o in result)
