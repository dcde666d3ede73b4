"""Coin Metrics parser on real published values and Coin Metrics' error bodies."""

from __future__ import annotations

import copy
import json
import math
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import body
from tui.core.clock import FixedClock
from tui.core.errors import BlockedError, FetchError, ParseError, RateLimitedError
from tui.core.http import HttpClient, HttpSettings
from tui.core.model import Json, Observation, Status
from tui.core.sources import coinmetrics

FETCHED = datetime(2020, 3, 31, 9, 0, tzinfo=UTC)
MARCH = "asset_metrics_btc_2020-03.json"


def load(name: str) -> Json:
    parsed: Json = json.loads(body("coinmetrics", name))
    return parsed


def rows(doc: Json) -> list[dict[str, Json]]:
    assert isinstance(doc, dict)
    data = doc["data"]
    assert isinstance(data, list)
    return [r for r in data if isinstance(r, dict)]


def by_id(obs: list[Observation], id_: str) -> dict[str, float]:
    return {f"{o.observed_at:%m-%d}": o.value for o in obs if o.id == id_}


def test_realized_cap_is_market_cap_over_mvrv() -> None:
    obs = coinmetrics.parse_asset_metrics(load(MARCH), FETCHED)
    caps = by_id(obs, "onchain.realized_cap")
    # Coin Metrics' own CapRealUSD for those days (csv/btc.csv), to MVRV's 8 decimals.
    assert caps["03-09"] == pytest.approx(105_979_150_874.59, rel=1e-8)  # day 03-08, at its end
    assert caps["03-13"] == pytest.approx(103_245_195_959.29, rel=1e-8)  # 12 Mar 2020
    assert caps["03-30"] == pytest.approx(101_441_674_688.99, rel=1e-8)
    assert len(caps) == 22
    assert {(o.unit, o.source) for o in obs if o.id == "onchain.realized_cap"} == {
        ("USD", "coinmetrics")
    }


def test_seven_day_mean_of_net_realized_pnl_less_issuance() -> None:
    doc = load(MARCH)
    obs = coinmetrics.parse_asset_metrics(doc, FETCHED)
    pnl = by_id(obs, "onchain.net_realized_pnl.7d")
    # Worked by hand from the body: realized cap 03-08 = 148086770498.23 / 1.39731984 and
    # 03-15 = 97913564614.60 / 0.9586443; their difference less the issuance of 03-09..03-15
    # (IssTotUSD, $82.8M in all), over 7 days: -$559.38M a day (Black Thursday is 03-12).
    data = rows(doc)
    rc = [float(str(r["CapMrktCurUSD"])) / float(str(r["CapMVRVCur"])) for r in data]
    issued = sum(float(str(r["IssTotUSD"])) for r in data[1:8])
    assert pnl["03-16"] == pytest.approx((rc[7] - rc[0] - issued) / 7)
    assert pnl["03-16"] == pytest.approx(-559_377_337.56, abs=1.0)
    assert pnl["03-30"] == pytest.approx(-5_374_000, abs=1e3)
    # 22 days give 21 daily changes and 15 seven-day means, each observed at its day's end.
    assert len(pnl) == 15
    units = {o.unit for o in obs if o.id == "onchain.net_realized_pnl.7d"}
    assert units == {"USD/day"}


def test_issuance_is_subtracted() -> None:
    doc = load(MARCH)
    base = by_id(coinmetrics.parse_asset_metrics(doc, FETCHED), "onchain.net_realized_pnl.7d")
    for r in rows(doc):
        r["IssTotUSD"] = "0"
    gross = by_id(coinmetrics.parse_asset_metrics(doc, FETCHED), "onchain.net_realized_pnl.7d")
    # About $10M a day of new coins in March 2020 (~1,600 BTC a day at $5,000-8,000):
    # IssTotUSD of 03-09..03-15 adds up to $74.02M.
    assert gross["03-16"] - base["03-16"] == pytest.approx(74_024_056.50 / 7)


def test_rows_are_observed_at_their_day_end_never_after_the_fetch() -> None:
    fetched = datetime(2020, 3, 29, 18, 0, tzinfo=UTC)  # the 03-29 row is still forming
    obs = coinmetrics.parse_asset_metrics(load(MARCH), fetched)
    latest = max(o.observed_at for o in obs)
    assert latest == fetched
    assert min(o.observed_at for o in obs) == datetime(2020, 3, 9, tzinfo=UTC)


def test_row_order_does_not_matter() -> None:
    doc = load(MARCH)
    assert isinstance(doc, dict)
    shuffled: Json = {"data": list(reversed(rows(doc)))}
    assert coinmetrics.parse_asset_metrics(shuffled, FETCHED) == (
        coinmetrics.parse_asset_metrics(doc, FETCHED)
    )


def test_a_null_day_is_a_gap_that_breaks_the_window() -> None:
    doc = load(MARCH)
    rows(doc)[10]["CapMVRVCur"] = None  # 03-18: "no data in the database" that day
    obs = coinmetrics.parse_asset_metrics(doc, FETCHED)
    pnl = by_id(obs, "onchain.net_realized_pnl.7d")
    assert "03-19" not in by_id(obs, "onchain.realized_cap")
    # Windows touching 03-18 or its change on 03-19 are not formed; none are filled in.
    assert sorted(pnl) == ["03-16", "03-17", "03-18", "03-27", "03-28", "03-29", "03-30"]


def test_the_docs_example_lacks_the_metrics() -> None:
    # Coin Metrics' documented daily example (PriceUSD, SplyBMXNtv): a metric missing from a
    # row means "not supported" (or not on this tier).
    with pytest.raises(ParseError, match=r"missing 'data\[0\]\.CapMrktCurUSD'"):
        coinmetrics.parse_asset_metrics(load("asset_metrics_docs_example.json"), FETCHED)


def test_fewer_than_eight_days_is_a_parse_error() -> None:
    week: list[Json] = list(rows(load(MARCH))[:7])
    doc: Json = {"data": week}
    with pytest.raises(ParseError, match="needs 8 consecutive days for a 7-day mean, got 7"):
        coinmetrics.parse_asset_metrics(doc, FETCHED)


@pytest.mark.parametrize(
    ("edit", "value", "message"),
    [
        ("asset", "eth", "data\\[0\\].asset: expected 'btc'"),
        ("time", "2020-03-08T12:00:00.000000000Z", "not a daily row"),
        ("time", "2020-03-08", "data\\[0\\].time: expected a number"),
        ("CapMVRVCur", "0", "data\\[0\\].CapMVRVCur: 0 outside"),
        ("CapMrktCurUSD", "-1", "CapMrktCurUSD: -1 outside"),
        ("IssTotUSD", "NaN", "IssTotUSD: expected a number"),
    ],
)
def test_bad_rows(edit: str, value: Json, message: str) -> None:
    doc = load(MARCH)
    rows(doc)[0][edit] = value
    with pytest.raises(ParseError, match=message):
        coinmetrics.parse_asset_metrics(doc, FETCHED)


def test_two_different_rows_for_one_day() -> None:
    doc = load(MARCH)
    assert isinstance(doc, dict)
    assert isinstance(doc["data"], list)
    twin = copy.deepcopy(rows(doc)[3])
    twin["CapMVRVCur"] = "1.5"
    doc["data"].append(twin)
    with pytest.raises(ParseError, match="two different rows for 2020-03-11"):
        coinmetrics.parse_asset_metrics(doc, FETCHED)


# --- Coin Metrics' error bodies ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "error", "message"),
    [
        (
            "forbidden_caprealusd.json",
            BlockedError,
            "^Coin Metrics: Requested metric 'CapRealUSD' with frequency '1d' for asset 'btc'",
        ),
        ("forbidden_resource.json", BlockedError, "not available with supplied credentials"),
        ("unauthorized.json", BlockedError, "requires authorization"),
        ("bad_parameter.json", ParseError, "^Coin Metrics: Bad parameter 'assets'"),
    ],
)
def test_error_envelope_inside_a_200(name: str, error: type[FetchError], message: str) -> None:
    with pytest.raises(error, match=message) as info:
        coinmetrics.parse_asset_metrics(load(name), FETCHED)
    assert type(info.value) is error


def test_rate_limit_type_inside_a_200() -> None:
    # No real Coin Metrics 429 body was found: only the documented envelope shape is used.
    doc: Json = {"error": {"type": "too_many_requests", "message": "slow down"}}
    with pytest.raises(RateLimitedError):
        coinmetrics.parse_asset_metrics(doc, FETCHED)


async def test_the_real_403_becomes_blocked_with_coin_metrics_words() -> None:
    # What the fetch path makes of the community tier's 403 (SOURCES.md §11): a status that
    # names the metric, never a zero reading.
    answer = body("coinmetrics", "forbidden_caprealusd.json")
    transport = httpx.MockTransport(lambda r: httpx.Response(403, content=answer))
    url = coinmetrics.SPEC.endpoints[0].url(coinmetrics.SPEC.base_url)
    async with HttpClient(HttpSettings(), FixedClock(FETCHED), transport=transport) as http:
        with pytest.raises(BlockedError) as info:
            await http.get(url)
    assert info.value.missing().reason is Status.BLOCKED
    assert "HTTP 403: Requested metric 'CapRealUSD'" in info.value.detail


async def test_a_429_without_retry_after_waits_the_default() -> None:
    # Coin Metrics sends X-RateLimit-* headers (its own client sleeps x-ratelimit-reset
    # seconds), not Retry-After; the fetch path then assumes its default wait.
    headers = {"x-ratelimit-limit": "10", "x-ratelimit-remaining": "0", "x-ratelimit-reset": "4"}
    transport = httpx.MockTransport(lambda r: httpx.Response(429, headers=headers))
    async with HttpClient(HttpSettings(), FixedClock(FETCHED), transport=transport) as http:
        with pytest.raises(RateLimitedError) as info:
            await http.get("https://community-api.coinmetrics.io/v4/timeseries/asset-metrics")
    assert info.value.until == FETCHED + timedelta(seconds=60)


def test_spec_static_query_of_the_latest_forty_days() -> None:
    spec = coinmetrics.SPEC
    (ep,) = spec.endpoints
    url = urlsplit(ep.url(spec.base_url))
    assert f"{url.scheme}://{url.netloc}{url.path}" == (
        "https://community-api.coinmetrics.io/v4/timeseries/asset-metrics"
    )
    assert parse_qs(url.query) == {
        "assets": ["btc"],
        "metrics": ["CapMrktCurUSD,CapMVRVCur,IssTotUSD"],
        "frequency": ["1d"],
        "page_size": ["40"],
        "paging_from": ["end"],
    }
    assert "CapRealUSD" not in url.query
    assert (spec.bucket, spec.needs_key, spec.interval_s) == ("onchain", False, 6 * 3600.0)
    assert spec.stale_after == 3 * 86_400.0


# --- any body: observations or a FetchError --------------------------------------------------

LEAVES = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=8)
    | st.sampled_from(
        ["btc", "nan", "1e400", "0", "1.2", "2020-03-08T00:00:00.000000000Z", "forbidden"]
    )
)
JSON = st.recursive(
    LEAVES,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner),
    max_leaves=6,
)
KEYS = st.sampled_from(["asset", "time", "CapMrktCurUSD", "CapMVRVCur", "IssTotUSD", "x"])


def edited(index: int, key: str, value: Json) -> Json:
    doc = load(MARCH)
    data = rows(doc)
    data[index % len(data)][key] = value
    return doc


@settings(max_examples=200, deadline=None, derandomize=True, database=None)
@given(doc=st.one_of(JSON, st.builds(edited, st.integers(0, 30), KEYS, JSON)))
def test_any_body_gives_observations_or_a_fetch_error(doc: Json) -> None:
    try:
        out = coinmetrics.parse_asset_metrics(doc, FETCHED)
    except FetchError:
        return
    assert out
    assert all(isinstance(o, Observation) and math.isfinite(o.value) for o in out)
