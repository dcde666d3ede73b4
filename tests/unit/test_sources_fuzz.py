"""Every parser in the registry, on any JSON: observations or a FetchError, nothing else."""

from __future__ import annotations

import copy
import json
import math
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import body
from tui.core.errors import FetchError
from tui.core.model import Json, Observation
from tui.core.sources import registry
from tui.core.sources.spec import Endpoint

#: Real bodies per endpoint (tests/data/<source>/), the seeds of the mutation test.
REAL: dict[tuple[str, str], tuple[str, ...]] = {
    ("coinbase", "ticker"): ("ticker.json", "ticker_btc_usdt.json"),
    ("coinbase", "candles"): ("candles_1m.json", "candles_1h_btc_usdt.json"),
    ("kraken", "ticker"): ("ticker.json", "kraken_rate_limited.json", "kraken_docs_error.json"),
    ("kraken", "ohlc"): ("ohlc.json", "ohlc_1m_docs.json", "kraken_unknown_pair.json"),
    ("bitstamp", "ticker"): ("ticker_btc_usdt.json",),
    ("bitstamp", "ohlc"): ("ohlc_1h_btc_usdt.json",),
    ("deribit", "index"): ("ticker_btc_perpetual.json", "deribit_error.json"),
    ("mempool", "difficulty"): (
        "difficulty_adjustment_docs.json",
        "difficulty_adjustment_ws_mainnet.json",
        "difficulty_adjustment_ws_liquid.json",
        "difficulty_adjustment_cypress_2024.json",
    ),
    ("mempool", "hashrate"): ("hashrate_3d_docs.json", "hashrate_3d_signet_docs.json"),
    ("mempool", "rewards"): ("reward_stats_100_docs.json",),
    ("coinmetrics", "asset_metrics"): (
        "asset_metrics_btc_2020-03.json",
        "asset_metrics_docs_example.json",
        "forbidden_caprealusd.json",
    ),
    ("glassnode", "realized_loss"): (
        "indicators_cdd90_age_adjusted_docs.json",
        "entities_active_count_docs.json",
    ),
    ("deribit_futures", "futures"): ("book_summary_future_result.json", "deribit_error.json"),
    ("deribit_options", "chain"): ("book_summary_option_trimmed.json", "deribit_error.json"),
    ("deribit_options", "dvol"): ("index_price_btcdvol.json", "deribit_error.json"),
    **{
        ("yahoo", asset): ("chart_gc_f_1d.json", "chart_aapl_1d.json", "chart_not_found_404.json")
        for asset in ("spx", "ndx", "dji", "sox", "gold", "silver", "dxy", "us10y")
    },
    ("stooq", "quotes"): ("quote_aapl_us.csv", "quote_unknown_nd.csv", "quota_exceeded.txt"),
    **{
        ("fred", asset): ("dgs10.csv", "dtwexbgs.csv")
        for asset in ("us10y", "spx", "ndx", "dji", "dxy")
    },
    ("binance", "premium_index"): (
        "premium_index_docs.json",
        "binance_rate_limited.json",
        "binance_geo_blocked_451.json",
    ),
    ("binance", "open_interest"): ("open_interest_docs.json", "binance_invalid_symbol.json"),
    ("bybit", "tickers_linear"): ("tickers_inverse_docs.json", "bybit_rate_limited.json"),
    ("bybit", "tickers_inverse"): ("tickers_inverse_docs.json", "bybit_symbol_invalid.json"),
    ("okx", "funding"): ("funding_rate_docs.json", "okx_rate_limited.json"),
    ("okx", "oi_usdt_swap"): ("open_interest_docs.json", "open_interest_docs_no_usd.json"),
    ("okx", "oi_usd_swap"): ("open_interest_docs.json", "okx_instrument_missing.json"),
    # No REST liquidation body is published: the REST error envelopes seed these.
    ("okx", "liq_usdt_swap"): ("okx_family_required.json", "okx_rate_limited.json"),
    ("okx", "liq_usd_swap"): ("okx_family_required.json", "funding_rate_docs.json"),
    ("farside", "flows"): (
        "all_data_2026-10-02.html",
        "btc_page_2026-07-23.html",
        "cloudflare_just_a_moment_2024-01-08.html",
    ),
}

#: Where a source's bodies live when its folder is its provider's (tests/data/<provider>/).
FOLDER = {"deribit_futures": "deribit", "deribit_options": "deribit"}

ENDPOINTS = [
    pytest.param(spec.name, ep, id=f"{spec.name}.{ep.key}")
    for spec in registry.ALL
    for ep in spec.endpoints
]

# Leaves lean towards what parsers look at: numbers as text, epoch-like values, ISO-ish text.
LEAVES = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=12)
    | st.sampled_from(
        ["", "nan", "-inf", "1e400", "0", "70000.5", "1710328241", "2026-02-06T00:00:00.5Z"]
    )
    | st.sampled_from([1710288000, 1736124757228637, 1548115200, 63212.97, -1, 10**30])
)
JSON = st.recursive(
    LEAVES,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=8,
)
FETCHED = st.datetimes(
    min_value=datetime(2010, 1, 1),  # noqa: DTZ001 - hypothesis bounds are naive; timezones= sets UTC
    max_value=datetime(2099, 1, 1),  # noqa: DTZ001
    timezones=st.just(UTC),
)

#: Derandomized and without an example database: the same run every time, nothing written.
DEFAULT = settings(max_examples=200, deadline=None, derandomize=True, database=None)
SLOW = settings(max_examples=10_000, deadline=None, database=None)


def check(ep: Endpoint, document: Json, fetched_at: datetime) -> None:
    """The property: a list of sane observations, or a FetchError (anything else fails)."""
    try:
        result = ep.parse(document, fetched_at)
    except FetchError:
        return
    assert isinstance(result, list)
    for o in result:
        assert isinstance(o, Observation)
        assert math.isfinite(o.value)
        assert o.observed_at.tzinfo is not None


def paths(node: Json, prefix: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    """Every path in a JSON document, the root included."""
    out = [prefix]
    if isinstance(node, dict):
        for k, v in node.items():
            out += paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += paths(v, (*prefix, i))
    return out


def replaced(document: Json, path: tuple[str | int, ...], value: Json) -> Json:
    if not path:
        return value
    doc = copy.deepcopy(document)
    node = doc
    for key in path[:-1]:
        node = node[key]  # type: ignore[index,call-overload]
    node[path[-1]] = value  # type: ignore[index]
    return doc


def edited(seed: Json, edits: list[tuple[int, Json]]) -> Json:
    """``seed`` with each edit's path (chosen by index among the current paths) replaced."""
    doc = seed
    for n, value in edits:
        every = paths(doc)
        doc = replaced(doc, every[n % len(every)], value)
    return doc


def cut(seed: str, start: int, end: int, text: str) -> str:
    """``seed`` with the span between two positions replaced by ``text`` (truncation too)."""
    a, b = sorted((start % (len(seed) + 1), end % (len(seed) + 1)))
    return seed[:a] + text + seed[b:]


def documents(source: str, key: str) -> st.SearchStrategy[Json]:
    """Any JSON value, or a real body of this endpoint with one to three fields replaced.

    For a text endpoint (HTML, CSV): any text, or a real body with a span cut or replaced.
    """
    ep = next(e for e in registry.by_name(source).endpoints if e.key == key)
    if ep.format == "text":
        texts = [body(FOLDER.get(source, source), n).decode() for n in REAL[(source, key)]]
        spans = st.integers(0, 10**6)
        noise = st.text(max_size=40) | st.sampled_from(["(1,234.5)", "-", "<tr>", "</table>", ""])
        return st.one_of(
            st.text(max_size=200), st.builds(cut, st.sampled_from(texts), spans, spans, noise)
        )
    seeds = [json.loads(body(FOLDER.get(source, source), n)) for n in REAL[(source, key)]]
    edits = st.lists(st.tuples(st.integers(0, 10_000), JSON), min_size=1, max_size=3)
    return st.one_of(JSON, st.builds(edited, st.sampled_from(seeds), edits))


#: Built once: strategies made inside a test are re-validated on every example (slow).
DOCUMENTS = {key: documents(*key) for key in REAL}


def test_every_endpoint_has_real_seed_bodies() -> None:
    assert {(p.values[0], p.values[1].key) for p in ENDPOINTS} == set(REAL)


@pytest.mark.parametrize(("source", "ep"), ENDPOINTS)
@DEFAULT
@given(data=st.data(), fetched_at=FETCHED)
def test_parser_never_fails_otherwise(
    source: str, ep: Endpoint, data: st.DataObject, fetched_at: datetime
) -> None:
    check(ep, data.draw(DOCUMENTS[(source, ep.key)]), fetched_at)


@pytest.mark.slow
@pytest.mark.parametrize(("source", "ep"), ENDPOINTS)
@SLOW
@given(data=st.data(), fetched_at=FETCHED)
def test_parser_never_fails_otherwise_slow(
    source: str, ep: Endpoint, data: st.DataObject, fetched_at: datetime
) -> None:
    check(ep, data.draw(DOCUMENTS[(source, ep.key)]), fetched_at)


# --- the registry -----------------------------------------------------------------------------


def test_registry_order_names_and_lookup() -> None:
    assert registry.NAMES[:4] == ("coinbase", "kraken", "bitstamp", "deribit")
    assert tuple(spec.name for spec in registry.ALL) == registry.NAMES
    for spec in registry.ALL:
        assert registry.by_name(spec.name) is spec
        assert spec.docs_url.startswith("https://")
        assert spec.min_spacing_s > 0
    with pytest.raises(KeyError, match="nosuch"):
        registry.by_name("nosuch")


def test_every_registered_source_can_be_configured() -> None:
    from tui.core import config

    assert set(registry.NAMES) <= set(config.PROVIDERS)
