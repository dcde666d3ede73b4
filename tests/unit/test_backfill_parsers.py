"""Backfill history parsers on recorded real bodies (README.md of each tests/data/<provider>)."""

from __future__ import annotations

import copy
import itertools
import json
from datetime import UTC, date, datetime, timedelta

import pytest

from tests.conftest import body
from tui.core.backfill import binance, candles, deribit, flows, macro, mining
from tui.core.backfill.series import Request, day_start
from tui.core.errors import GeoBlockedError, ParseError, RateLimitedError
from tui.core.model import Json
from tui.core.sources import farside

FETCHED = datetime(2026, 10, 2, 23, 0, tzinfo=UTC)


def load(provider: str, name: str) -> Json:
    parsed: Json = json.loads(body(provider, name))
    return parsed


def envelope(result: Json) -> Json:
    """A Deribit JSON-RPC answer around a published ``result`` (stored without its envelope)."""
    return {"jsonrpc": "2.0", "result": result, "usIn": 0, "usOut": 0, "usDiff": 0}


# --- Deribit ---------------------------------------------------------------------------------


def test_deribit_funding_history_real_rows_are_percent_per_8h_at_their_hour() -> None:
    obs = deribit.parse_funding(
        envelope(load("deribit", "funding_rate_history_result.json")), FETCHED
    )
    assert len(obs) == 24
    first = obs[0]
    assert (first.id, first.unit, first.source) == (
        "funding.deribit",
        "% per 8h",
        "deribit_futures",
    )
    assert first.value == pytest.approx(0.020037536421028146)  # interest_8h 0.000200... x 100
    assert first.observed_at == datetime(2026, 9, 19, 22, tzinfo=UTC)
    assert [o.observed_at for o in obs] == [
        first.observed_at + timedelta(hours=h) for h in range(24)
    ]


def test_deribit_funding_history_docs_example_negative_rates() -> None:
    obs = deribit.parse_funding(load("deribit", "funding_rate_history_docs.json"), FETCHED)
    assert [round(o.value, 6) for o in obs] == [-0.009234, -0.006721, -0.003544, -0.001404]


def test_deribit_funding_row_without_interest_is_skipped_not_zero() -> None:
    rows = load("deribit", "funding_rate_history_result.json")
    assert isinstance(rows, list)
    assert isinstance(rows[0], dict)
    rows[0]["interest_8h"] = None
    obs = deribit.parse_funding(envelope(rows), FETCHED)
    assert len(obs) == 23
    assert all(o.value != 0 for o in obs)


def test_deribit_errors_inside_200() -> None:
    error = load("deribit", "deribit_error.json")
    with pytest.raises(ParseError, match="13009"):
        deribit.parse_funding(error, FETCHED)
    assert isinstance(error, dict)
    assert isinstance(error["error"], dict)
    error["error"]["code"] = 10028
    with pytest.raises(RateLimitedError):
        deribit.parse_funding(error, FETCHED)


def test_dvol_candles_close_at_the_candle_end_and_the_forming_one_is_left_out() -> None:
    doc = envelope(load("deribit", "volatility_index_result.json"))
    obs = deribit.parse_dvol_candles(doc, FETCHED, 43_200)
    # The real 12-hour candles start 2026-09-13 12:00 UTC at 38.62 and close at 38.89.
    assert obs[0].value == 38.89
    assert obs[0].observed_at == datetime(2026, 9, 14, 0, 0, tzinfo=UTC)
    assert (obs[0].id, obs[0].unit, obs[0].source) == ("options.dvol", "vol pts", "deribit_options")
    early = datetime(2026, 9, 14, 0, 0, tzinfo=UTC)
    assert deribit.parse_dvol_candles(doc, early, 43_200) == obs[:1]


def test_dvol_docs_fractions_become_vol_points_and_empty_data_is_no_rows() -> None:
    obs = deribit.parse_dvol_candles(load("deribit", "volatility_index_docs.json"), FETCHED, 60)
    assert [round(o.value, 4) for o in obs] == [21.2861, 21.2988, 21.2993]
    assert deribit.parse_dvol(envelope({"data": [], "continuation": None}), FETCHED) == []


def test_dvol_continuation_is_followed_inside_the_window_only() -> None:
    [req] = deribit.dvol_windows(date(2026, 1, 1), date(2026, 2, 1))
    start = int(dict(req.params)["start_timestamp"])
    nxt = deribit.follow_dvol(envelope({"data": [], "continuation": start + 86_400_000}), req)
    assert nxt is not None
    assert dict(nxt.params)["end_timestamp"] == str(start + 86_400_000)
    assert deribit.follow_dvol(envelope({"data": [], "continuation": None}), req) is None
    assert deribit.follow_dvol(envelope({"data": [], "continuation": start - 1}), req) is None


# --- Binance ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "pct", "first_at"),
    [
        (
            "funding_rate_live_2026-08-15.json",
            0.006523,
            datetime(2026, 8, 15, 8, 0, 0, 2000, tzinfo=UTC),
        ),
        ("funding_rate_live_2026-09-15.json", 0.003563, datetime(2026, 9, 15, tzinfo=UTC)),
        ("funding_rate_docs.json", -3.75, datetime(2019, 10, 9, 8, tzinfo=UTC)),
    ],
)
def test_binance_funding_history(name: str, pct: float, first_at: datetime) -> None:
    obs = binance.parse_funding(load("binance", name), FETCHED)
    assert len(obs) == 2
    assert (obs[0].id, obs[0].unit, obs[0].source) == ("funding.binance", "% per 8h", "binance")
    assert obs[0].value == pytest.approx(pct)
    assert obs[0].observed_at == first_at


@pytest.mark.parametrize(
    ("name", "btc", "usd"),
    [
        ("open_interest_hist_live_2026-08-15.json", 111856.664, 7051831069.120872),
        ("open_interest_hist_docs.json", 20403.637, 150570784.07809979),
    ],
)
def test_binance_open_interest_history_integer_or_text_timestamps(
    name: str, btc: float, usd: float
) -> None:
    obs = binance.parse_open_interest(load("binance", name), FETCHED)
    assert len(obs) == 4
    by_id = {o.id: o for o in obs[:2]}
    assert by_id["oi.futures.binance_btc"].value == pytest.approx(btc)
    assert by_id["oi.futures.binance_btc"].unit == "BTC"
    assert by_id["oi.futures.binance"].value == pytest.approx(usd)
    assert by_id["oi.futures.binance"].unit == "USD"


def test_binance_error_bodies() -> None:
    with pytest.raises(GeoBlockedError):
        binance.parse_funding(load("binance", "binance_geo_blocked_451.json"), FETCHED)
    with pytest.raises(RateLimitedError):
        binance.parse_open_interest(load("binance", "binance_rate_limited.json"), FETCHED)
    with pytest.raises(ParseError, match="-1121"):
        binance.parse_funding(load("binance", "binance_invalid_symbol.json"), FETCHED)


# --- candles -----------------------------------------------------------------------------------


def test_coinbase_pages_reuse_the_live_daily_parser_and_an_empty_page_is_a_gap() -> None:
    # No published granularity=86400 body (tests/data/coinbase/README.md): the real 1-minute rows
    # with their bucket start moved to UTC midnights (test code).
    rows = load("coinbase", "candles_1m.json")
    assert isinstance(rows, list)
    d1 = int(day_start(date(2026, 2, 5)).timestamp())
    daily: Json = [[d1, *rows[0][1:]], [d1 - 86_400, *rows[1][1:]]]  # type: ignore[index,misc]
    obs = candles.parse_coinbase(daily, FETCHED)
    closes = {o.observed_at: o.value for o in obs if o.id == "btc.day.close.coinbase"}
    assert closes == {
        datetime(2026, 2, 6, tzinfo=UTC): 63239.75,
        datetime(2026, 2, 5, tzinfo=UTC): 63244.77,
    }
    assert candles.parse_coinbase([], FETCHED) == []


def test_kraken_published_daily_rows_and_an_empty_pair_list() -> None:
    obs = candles.parse_kraken(load("kraken", "ohlc.json"), FETCHED)
    # The published example lists the day of 2019-01-22 twice (identical rows): one day.
    assert {o.observed_at for o in obs} == {datetime(2019, 1, 23, tzinfo=UTC)}
    assert len(obs) == 4
    empty: Json = {"error": [], "result": {"XXBTZUSD": [], "last": 1548111600}}
    assert candles.parse_kraken(empty, FETCHED) == []
    with pytest.raises(RateLimitedError):
        candles.parse_kraken(load("kraken", "kraken_rate_limited.json"), FETCHED)


def test_bitstamp_daily_rows_and_an_empty_ohlc_list() -> None:
    doc = load("bitstamp", "ohlc_1h_btc_usdt.json")
    assert isinstance(doc, dict)
    assert isinstance(doc["data"], dict)
    with pytest.raises(ParseError, match="not a daily candle"):
        candles.parse_bitstamp(doc, FETCHED)
    daily = copy.deepcopy(doc)
    assert isinstance(daily, dict)
    assert isinstance(daily["data"], dict)
    ohlc = daily["data"]["ohlc"]
    assert isinstance(ohlc, list)
    assert isinstance(ohlc[0], dict)
    ohlc[0]["timestamp"] = str(int(day_start(date(2024, 3, 13)).timestamp()))  # re-stamped
    obs = candles.parse_bitstamp(daily, FETCHED)
    assert {o.id: o.value for o in obs}["btc.day.close.bitstamp"] == 73285.0
    doc["data"]["ohlc"] = []
    assert candles.parse_bitstamp(doc, FETCHED) == []


def test_page_requests_walk_back_without_gaps_or_overlaps() -> None:
    first, last = date(2025, 2, 6), date(2026, 2, 5)
    for windows, size in (
        (candles.coinbase_windows, 300),
        (deribit.funding_windows, 30),
        (binance.funding_windows, 333),
    ):
        pages: list[Request] = windows(first, last)
        assert pages[0].last == last
        assert pages[-1].first == first
        for newer, older in itertools.pairwise(pages):
            assert older.last + timedelta(days=1) == newer.first
        assert all((p.last - p.first).days + 1 <= size for p in pages)
    [cb_newest, cb_oldest] = candles.coinbase_windows(first, last)
    assert dict(cb_newest.params) == {
        "granularity": "86400",
        "start": "2025-04-12T00:00:00Z",
        "end": "2026-02-05T00:00:00Z",
    }
    assert dict(cb_oldest.params)["end"] == "2025-04-11T00:00:00Z"


# --- Farside, mempool, macro -----------------------------------------------------------------


def test_farside_whole_table_with_every_fund_per_day() -> None:
    html = body("farside", "all_data_2026-10-02.html").decode()
    obs = flows.parse(html, FETCHED)
    daily = {o.observed_at.date(): o.value for o in obs if o.id == "etf.flow.daily"}
    assert len(daily) > 5
    assert all(o.observed_at.hour == 20 for o in obs)
    fund_days = {o.observed_at.date() for o in obs if o.id.startswith("etf.flow.daily.")}
    assert fund_days == set(daily)  # per-fund figures for every day, not only the newest
    assert min(daily) < max(daily)
    # The page's newest day is the fetch's own UTC day: it is the live source's to load.
    newest = farside.parse_table(html).newest
    assert newest is not None
    assert newest.day == FETCHED.date()
    assert newest.day not in daily
    assert max(daily) < newest.day


def test_mempool_hashrate_history_and_difficulty_adjustments() -> None:
    obs = mining.parse_hashrate(load("mempool", "hashrate_3d_docs.json"), FETCHED)
    hashrate = [(o.observed_at.day, round(o.value, 3)) for o in obs if o.id == "mining.hashrate"]
    assert hashrate == [(14, 236.5), (15, 217.473), (16, 189.877)]  # no "now" row
    [diff] = [o for o in obs if o.id == "mining.difficulty"]
    assert diff.value == 31251101365711.12
    assert diff.observed_at == datetime(2022, 5, 13, 18, 58, 50, tzinfo=UTC)
    # Fetched on 16 May: that day's partial average is left to the live source.
    on_the_day = datetime(2022, 5, 16, 12, tzinfo=UTC)
    days = [
        o.observed_at.day
        for o in mining.parse_hashrate(load("mempool", "hashrate_3d_docs.json"), on_the_day)
        if o.id == "mining.hashrate"
    ]
    assert days == [14, 15]


def test_mempool_rewards_daily_mean_in_btc_at_the_end_of_the_day() -> None:
    obs = mining.parse_rewards(load("mempool", "block_rewards_docs.json"), FETCHED)
    got = [(o.observed_at.date(), round(o.value, 6)) for o in obs]
    assert got[0] == (date(2019, 10, 19), 12.605309)  # 1260530933 sats, 18 Oct 2019's bucket
    assert all(o.id == "mining.reward_144" and o.unit == "BTC" for o in obs)
    with pytest.raises(ParseError):
        mining.parse_rewards({"avgRewards": 1}, FETCHED)


def test_mempool_period_is_the_shortest_documented_one() -> None:
    assert mining.period(date(2025, 2, 6), date(2026, 2, 5)) == "1y"
    assert mining.period(date(2026, 1, 6), date(2026, 2, 5)) == "3m"
    assert mining.period(date(2023, 1, 1), date(2026, 2, 5)) == "3y"


def test_yahoo_closes_only_before_the_fetch_day() -> None:
    doc = load("yahoo", "chart_aapl_1d.json")
    assert isinstance(doc, dict)
    doc["chart"]["result"][0]["meta"]["symbol"] = "^GSPC"  # type: ignore[call-overload,index]
    obs = macro.parse_yahoo(doc, datetime(2020, 11, 6, 22, tzinfo=UTC), "spx")
    assert obs
    assert all(o.id == "macro.spx.close" for o in obs)
    assert max(o.observed_at for o in obs) == datetime(2020, 11, 5, tzinfo=UTC)
    assert macro.yahoo_range(date(2025, 2, 6), date(2026, 2, 5)) == "1y"
    assert macro.yahoo_range(date(2024, 2, 7), date(2026, 2, 5)) == "2y"  # 730 days


def test_fred_history_without_the_live_cut_and_holidays_missing() -> None:
    text = body("fred", "dgs10.csv").decode()
    obs = macro.parse_fred(text, datetime(2026, 4, 17, tzinfo=UTC), "us10y")
    days = {o.observed_at.date(): o.value for o in obs}
    assert min(days) == date(2025, 10, 1)  # more than the live parser's 120 days
    assert date(2026, 1, 19) not in days  # an empty cell on a holiday: missing, never 0
    assert days[date(2026, 2, 5)] == 4.21
    with pytest.raises(ParseError, match="expected series DGS10"):
        macro.parse_fred(body("fred", "dtwexbgs.csv").decode(), FETCHED, "us10y")
