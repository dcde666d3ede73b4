"""Yahoo chart v8 parser on recorded real bodies (tests/data/yahoo), the 404/429 path, sessions."""

from __future__ import annotations

import copy
import json
from datetime import UTC, date, datetime

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import body
from tui.core.clock import FixedClock
from tui.core.errors import FetchError, HTTPStatusError, ParseError, RateLimitedError
from tui.core.http import HttpClient, HttpSettings
from tui.core.model import Json, Observation
from tui.core.sources import yahoo

# yahoo-finance2 recorded this body on 2025-02-20: bars of 2020, meta of the recording day.
AAPL_FETCHED = datetime(2025, 2, 20, 11, 47, 42, tzinfo=UTC)


def load(name: str) -> Json:
    parsed: Json = json.loads(body("yahoo", name))
    return parsed


def as_symbol(doc: Json, symbol: str) -> Json:
    """The body with ``meta.symbol`` changed (the parser checks it against the asset's symbol)."""
    out = copy.deepcopy(doc)
    assert isinstance(out, dict)
    out["chart"]["result"][0]["meta"]["symbol"] = symbol  # type: ignore[call-overload,index]
    return out


def result(doc: Json) -> dict[str, Json]:
    assert isinstance(doc, dict)
    chart = doc["chart"]
    assert isinstance(chart, dict)
    results = chart["result"]
    assert isinstance(results, list)
    first = results[0]
    assert isinstance(first, dict)
    return first


def closes_of(doc: Json) -> list[Json]:
    quote = result(doc)["indicators"]
    assert isinstance(quote, dict)
    q = quote["quote"]
    assert isinstance(q, list)
    assert isinstance(q[0], dict)
    c = q[0]["close"]
    assert isinstance(c, list)
    return c


def by_id(obs: list[Observation], id_: str) -> list[Observation]:
    return [o for o in obs if o.id == id_]


def test_daily_chart_gives_level_closes_and_day_change() -> None:
    doc = as_symbol(load("chart_aapl_1d.json"), "^GSPC")
    obs = yahoo.parse_chart(doc, AAPL_FETCHED, "spx")
    (lvl,) = by_id(obs, "macro.spx")
    assert (lvl.value, lvl.unit, lvl.source) == (244.87, "index", "yahoo")  # regularMarketPrice
    assert lvl.observed_at == datetime(2025, 2, 19, 21, 0, 1, tzinfo=UTC)  # regularMarketTime
    closes = by_id(obs, "macro.spx.close")
    assert len(closes) == 49
    # Bars start at the 09:30 New York open; each is dated by that day, at 00:00 UTC.
    assert closes[0].observed_at == datetime(2020, 8, 31, tzinfo=UTC)
    assert closes[-1].observed_at == datetime(2020, 11, 6, tzinfo=UTC)
    assert closes[-1].value == pytest.approx(118.69000244140625)
    # chg_1d from the last two closes (119.03 -> 118.69), not from chartPreviousClose (124.808).
    (chg,) = by_id(obs, "macro.spx.chg_1d")
    assert chg.value == pytest.approx((118.69000244140625 / 119.02999877929688 - 1) * 100)
    assert (chg.unit, chg.observed_at) == ("%", lvl.observed_at)


def test_null_holes_are_skipped_never_zero() -> None:
    doc = as_symbol(load("chart_aapl_1d.json"), "^GSPC")
    closes = closes_of(doc)
    closes[-1] = None  # the live bar without a close yet
    closes[10] = None
    obs = yahoo.parse_chart(doc, AAPL_FETCHED, "spx")
    rows = by_id(obs, "macro.spx.close")
    assert len(rows) == 47
    assert all(o.value > 0 for o in rows)
    assert date(2020, 11, 6) not in {o.observed_at.date() for o in rows}
    (chg,) = by_id(obs, "macro.spx.chg_1d")  # now 4 Nov -> 5 Nov
    assert chg.value == pytest.approx((119.02999877929688 / 114.94999694824219 - 1) * 100)


def test_futures_bar_is_dated_by_its_new_york_day() -> None:
    # GC=F's bar 1577941200 is 2020-01-02 05:00 UTC = 00:00 EST: the futures day, not the open.
    obs = yahoo.parse_chart(load("chart_gc_f_1d.json"), datetime(2025, 2, 20, tzinfo=UTC), "gold")
    assert [(o.id, o.value, o.unit, o.observed_at) for o in obs] == [
        ("macro.gold", 2952.5, "USD/oz", datetime(2025, 2, 20, 11, 35, 11, tzinfo=UTC)),
        ("macro.gold.close", 1524.5, "USD/oz", datetime(2020, 1, 2, tzinfo=UTC)),
    ]  # one bar: no day change
    # A bar stamped 23:30 New York (04:30 UTC the next day) still belongs to the New York day.
    late = load("chart_gc_f_1d.json")
    result(late)["timestamp"] = [1578025800]
    obs = yahoo.parse_chart(late, datetime(2025, 2, 20, tzinfo=UTC), "gold")
    assert [o.observed_at for o in by_id(obs, "macro.gold.close")] == [
        datetime(2020, 1, 2, tzinfo=UTC)
    ]


def test_tnx_is_percent_and_an_intraday_chart_gives_the_level_only() -> None:
    fetched = datetime(2026, 2, 2, 20, 5, tzinfo=UTC)
    obs = yahoo.parse_chart(load("chart_tnx_5m.json"), fetched, "us10y")
    assert [(o.id, o.value, o.unit) for o in obs] == [("macro.us10y", 4.275, "%")]


def test_tnx_legacy_times_ten_quote_is_scaled() -> None:
    doc = load("chart_tnx_5m.json")
    meta = result(doc)["meta"]
    assert isinstance(meta, dict)
    meta["regularMarketPrice"] = 42.75
    (obs,) = yahoo.parse_chart(doc, datetime(2026, 2, 2, 20, 5, tzinfo=UTC), "us10y")
    assert obs.value == pytest.approx(4.275)


def test_unknown_symbol_404_body_is_a_parse_error_naming_yahoos_words() -> None:
    with pytest.raises(ParseError, match="Not Found: No data found, symbol may be delisted"):
        yahoo.parse_chart(load("chart_not_found_404.json"), AAPL_FETCHED, "spx")


def test_empty_chart_without_bars_fails_so_the_fallback_serves() -> None:
    doc = as_symbol(load("chart_aapl_1m_no_bars.json"), "^GSPC")
    with pytest.raises(ParseError, match="empty chart"):
        yahoo.parse_chart(doc, AAPL_FETCHED, "spx")
    with pytest.raises(ParseError, match="empty chart"):
        yahoo.parse_chart({"chart": {"result": [], "error": None}}, AAPL_FETCHED, "spx")
    all_null = as_symbol(load("chart_aapl_1d.json"), "^GSPC")
    closes = closes_of(all_null)
    closes[:] = [None] * len(closes)
    with pytest.raises(ParseError, match="every close is null"):
        yahoo.parse_chart(all_null, AAPL_FETCHED, "spx")


def test_another_symbol_and_out_of_range_values_are_refused() -> None:
    with pytest.raises(ParseError, match=r"expected symbol \^GSPC, got 'AAPL'"):
        yahoo.parse_chart(load("chart_aapl_1d.json"), AAPL_FETCHED, "spx")
    # 244.87 is no 10-year yield (even as a x10 quote it would be 24.5 %).
    doc = as_symbol(load("chart_aapl_1d.json"), "^TNX")
    with pytest.raises(ParseError, match="outside"):
        yahoo.parse_chart(doc, AAPL_FETCHED, "us10y")


def test_rate_limit_inside_the_envelope_is_rate_limited() -> None:
    # Not seen from Yahoo (its 429 is plain text, below); the envelope is read first all the same.
    doc: Json = {"chart": {"result": None, "error": {"code": "Too Many Requests"}}}
    with pytest.raises(RateLimitedError):
        yahoo.parse_chart(doc, AAPL_FETCHED, "spx")


async def test_the_plain_text_429_and_the_404_never_reach_the_parser() -> None:
    """What the fetch path does with Yahoo's two failure bodies (tui/core/http.py)."""
    now = datetime(2026, 2, 6, 15, tzinfo=UTC)
    answers = {
        "/v8/finance/chart/%5EGSPC": httpx.Response(
            429, text=body("yahoo", "rate_limited_429.txt").decode()
        ),
        "/v8/finance/chart/%5EIXIC": httpx.Response(
            404, content=body("yahoo", "chart_not_found_404.json")
        ),
        "/v8/finance/chart/%5EDJI": httpx.Response(200, text="Edge: Too Many Requests"),
    }

    def handler(request: httpx.Request) -> httpx.Response:
        return answers[request.url.raw_path.decode().split("?")[0]]

    urls = {ep.key: ep.url(yahoo.SPEC.base_url) for ep in yahoo.SPEC.endpoints}
    async with HttpClient(
        HttpSettings(retries=0), FixedClock(now), transport=httpx.MockTransport(handler)
    ) as client:
        with pytest.raises(RateLimitedError) as limited:
            await client.get(urls["spx"])
        # No Retry-After: the default minute; the text body is never decoded.
        assert limited.value.until is not None
        assert (limited.value.until - now).total_seconds() == 60
        with pytest.raises(HTTPStatusError) as missing:
            await client.get(urls["ndx"])
        assert missing.value.status_code == 404
        assert missing.value.detail == "HTTP 404"
        # The same text with a 200 (a proxy, say) fails to decode as JSON: a parse error.
        response = await client.get(urls["dji"])
        with pytest.raises(ParseError, match="not JSON"):
            response.json()


def test_spec_encodes_the_symbols_and_asks_for_three_months_of_days() -> None:
    urls = {ep.key: ep.url(yahoo.SPEC.base_url) for ep in yahoo.SPEC.endpoints}
    assert list(urls) == ["spx", "ndx", "dji", "sox", "gold", "silver", "dxy", "us10y"]
    base = "https://query1.finance.yahoo.com/v8/finance/chart/"
    assert urls["spx"] == base + "%5EGSPC?range=3mo&interval=1d"
    assert urls["gold"] == base + "GC%3DF?range=3mo&interval=1d"
    assert urls["dxy"] == base + "DX-Y.NYB?range=3mo&interval=1d"
    assert (yahoo.SPEC.bucket, yahoo.SPEC.interval_s, yahoo.SPEC.fallback_for) == (
        "macro",
        300,
        None,
    )


@pytest.mark.parametrize(
    ("asset", "when", "is_open"),
    [
        ("spx", datetime(2026, 2, 6, 14, 30, tzinfo=UTC), True),  # 09:30 EST, Friday
        ("spx", datetime(2026, 2, 6, 14, 29, tzinfo=UTC), False),
        ("spx", datetime(2026, 2, 6, 21, 0, tzinfo=UTC), False),  # 16:00 EST: closed
        ("spx", datetime(2026, 2, 7, 16, 0, tzinfo=UTC), False),  # Saturday
        ("spx", datetime(2026, 7, 6, 13, 35, tzinfo=UTC), True),  # 09:35 EDT: DST-aware
        ("spx", datetime(2026, 7, 6, 20, 5, tzinfo=UTC), False),  # 16:05 EDT
        ("gold", datetime(2026, 2, 8, 22, 59, tzinfo=UTC), False),  # Sunday 17:59 EST
        ("gold", datetime(2026, 2, 8, 23, 0, tzinfo=UTC), True),  # Sunday 18:00 EST
        ("gold", datetime(2026, 2, 9, 22, 30, tzinfo=UTC), False),  # Monday halt 17:30 EST
        ("dxy", datetime(2026, 2, 6, 21, 59, tzinfo=UTC), True),  # Friday 16:59 EST
        ("dxy", datetime(2026, 2, 6, 22, 0, tzinfo=UTC), False),  # Friday 17:00: weekend
        ("silver", datetime(2026, 7, 5, 22, 0, tzinfo=UTC), True),  # Sunday 18:00 EDT
        ("us10y", datetime(2026, 2, 6, 13, 20, tzinfo=UTC), True),  # 07:20 CST
        ("us10y", datetime(2026, 2, 6, 20, 0, tzinfo=UTC), False),  # 14:00 CST
    ],
)
def test_market_open(asset: str, when: datetime, is_open: bool) -> None:
    assert yahoo.market_open(asset, when) is is_open


def test_demo_bodies_tell_the_articles_6_feb() -> None:
    from scripts import demo_macro

    after_close = datetime(2026, 2, 7, tzinfo=UTC)
    exchanges = demo_macro.demo_exchanges(after_close, 69_850.0)
    assert [(s, k) for s, k, _ in exchanges] == [("yahoo", a) for a in yahoo.SYMBOLS]
    moves = {}
    for _, asset, doc in exchanges:
        decoded: Json = json.loads(json.dumps(doc))
        obs = yahoo.parse_chart(decoded, after_close, asset)
        (chg,) = by_id(obs, f"macro.{asset}.chg_1d")
        moves[asset] = round(chg.value, 2)
        assert len(by_id(obs, f"macro.{asset}.close")) >= 60
    assert moves | {"us10y": 0} == {
        "spx": 1.97, "ndx": 2.18, "dji": 2.47, "sox": 5.7,
        "gold": 3.9, "silver": 8.6, "dxy": -0.2, "us10y": 0,
    }  # fmt: skip
    assert demo_macro.demo_exchanges(datetime(2026, 2, 5, 0, 5, tzinfo=UTC), 70_000.0) == []


REAL = ("chart_aapl_1d.json", "chart_gc_f_1d.json", "chart_tnx_5m.json", "chart_not_found_404.json")
LEAF = (
    st.none() | st.integers(-(10**13), 10**13) | st.floats() | st.text(max_size=8) | st.booleans()
)


def _mutate(doc: Json, draw: st.DrawFn) -> Json:
    """Replace some leaves of ``doc`` with odd values (numbers as text, nulls, huge ints)."""
    if isinstance(doc, dict):
        return {k: _mutate(v, draw) for k, v in doc.items() if draw(st.integers(0, 19))}
    if isinstance(doc, list):
        return [_mutate(v, draw) for v in doc[: draw(st.integers(0, len(doc)))]]
    return draw(LEAF) if draw(st.integers(0, 9)) == 0 else doc


@st.composite
def mutated(draw: st.DrawFn) -> tuple[Json, str]:
    name = draw(st.sampled_from(REAL))
    asset = draw(st.sampled_from(list(yahoo.SYMBOLS)))
    doc = as_symbol(load(name), yahoo.SYMBOLS[asset]) if name != REAL[3] else load(name)
    return _mutate(doc, draw), asset


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_any_mutated_body_gives_observations_or_a_fetch_error(case: tuple[Json, str]) -> None:
    doc, asset = case
    try:
        obs = yahoo.parse_chart(doc, AAPL_FETCHED, asset)
    except FetchError:
        return
    assert all(isinstance(o, Observation) and o.id.startswith(f"macro.{asset}") for o in obs)
