"""The backfill's derive step and the Coin Metrics history: values checked by hand, idempotence,
and a backtest over a backfilled store that judges more than the ETF row."""

from __future__ import annotations

import copy
import io
import json
import statistics
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.conftest import body
from tui.core import backtest
from tui.core.backfill import backfill, coinmetrics, derived
from tui.core.backfill.command import command
from tui.core.backfill.series import day_start
from tui.core.clock import FixedClock
from tui.core.config import Settings, SourceSettings
from tui.core.errors import ParseError
from tui.core.model import CONSENSUS, Json, Observation, RowState
from tui.core.rules import DEFAULT_RULES
from tui.core.sources import coinmetrics as live_coinmetrics
from tui.core.sources import registry
from tui.core.store import Store

DAY = timedelta(days=1)
_S = timedelta(seconds=1)
FIRST, LAST = date(2026, 3, 2), date(2026, 3, 11)


def close_of(d: date) -> datetime:
    return day_start(d) + DAY


def days(first: date, last: date) -> list[date]:
    return [first + i * DAY for i in range((last - first).days + 1)]


def obs(id_: str, value: float, source: str, at: datetime, unit: str = "") -> Observation:
    return Observation(id_, value, unit, source, at)


def candle_closes(store: Store, d: date, **by_venue: float) -> None:
    store.write_backfill(
        [obs(f"btc.day.close.{v}", p, v, close_of(d), "USD") for v, p in by_venue.items()]
    )


def values(store: Store, id_: str, source: str) -> dict[datetime, float]:
    return dict(store.series(id_, source))


# --- the consensus price -----------------------------------------------------------------------


def test_consensus_is_the_median_of_the_venues_closes_and_needs_two() -> None:
    store = Store.open(None)
    candle_closes(store, FIRST, coinbase=100.0, kraken=300.0, bitstamp=200.0)
    candle_closes(store, FIRST + DAY, coinbase=100.0)  # one venue is not a consensus
    candle_closes(store, FIRST + 2 * DAY, coinbase=100.0, kraken=301.0)
    report = derived.derive(store, Settings(), FIRST, FIRST + 2 * DAY)
    assert values(store, "btc.price", CONSENSUS) == {
        close_of(FIRST): 200.0,
        close_of(FIRST + 2 * DAY): 200.5,
    }
    price = next(r for r in report.results if r.id == "btc.price")
    assert price.days == (FIRST, FIRST + 2 * DAY)
    assert price.rows_added == 2
    assert store.backfilled_count("btc.price", CONSENSUS) == 2


# --- hashprice ---------------------------------------------------------------------------------


def mining_store(difficulty_at: datetime) -> Store:
    store = Store.open(None)
    store.write_backfill([obs("mining.difficulty", 1.2e14, "mempool", difficulty_at)])
    for d in days(FIRST, LAST):
        candle_closes(store, d, coinbase=70_000.0, kraken=70_000.0, bitstamp=70_000.0)
        store.write_backfill([obs("mining.reward_144", 3.125, "mempool", close_of(d), "BTC")])
    return store


def test_hashprice_on_a_day_is_the_live_formula() -> None:
    store = mining_store(datetime(2026, 2, 25, 5, tzinfo=UTC))
    # The backfill's adjustment list covers every day from that adjustment to the range's end.
    store.set_backfill_mark("mempool.hashrate", f"2026-02-20/{LAST}", close_of(LAST))
    derived.derive(store, Settings(), FIRST, LAST)
    got = values(store, "mining.hashprice", "mempool")
    # 1e15 H/s x 86,400 s / (1.2e14 x 2^32 hashes a block) = 1.6763806e-4 blocks a PH/s-day;
    # x 3.125 BTC x $70,000 = $36.6708 per PH/s per day.
    assert list(got) == [close_of(d) for d in days(FIRST, LAST)]
    assert got[close_of(FIRST)] == pytest.approx(36.670826, rel=1e-6)


def test_an_old_difficulty_not_covered_by_the_adjustment_list_is_not_used() -> None:
    store = mining_store(datetime(2026, 2, 25, 5, tzinfo=UTC))  # no mark: nothing vouches for it
    report = derived.derive(store, Settings(), FIRST, LAST)
    assert values(store, "mining.hashprice", "mempool") == {}
    assert any(
        line.startswith("derived mining.hashprice: none in 2026-03-02..2026-03-11 (needs")
        for line in report.lines()
    )
    # A value under a day old at the close (a live poll's) is fresh without the list.
    fresh = mining_store(close_of(LAST) - timedelta(hours=6))
    derived.derive(fresh, Settings(), FIRST, LAST)
    assert list(values(fresh, "mining.hashprice", "mempool")) == [close_of(LAST)]


# --- OI-weighted funding and the OI total ------------------------------------------------------

OI_FROM = LAST - 3 * DAY  # Binance's daily OI exists for the last 4 days of the range only


def funding_store() -> Store:
    store = Store.open(None)
    rows = []
    for n, d in enumerate(days(FIRST - DAY, LAST)):
        for h in (0, 8, 16):  # Binance settles every 8 h
            at = day_start(d) + timedelta(hours=h, milliseconds=2)
            rows.append(obs("funding.binance", 0.001 * n + 0.0001 * h, "binance", at, "% per 8h"))
        # Deribit's funding is there every hour, but its OI has no history: it cannot weigh in.
        rows += [
            obs("funding.deribit", -0.05, "deribit_futures", day_start(d) + timedelta(hours=h))
            for h in range(24)
        ]
    for n, d in enumerate(days(OI_FROM, LAST)):
        btc = 100_000.0 + 1_000.0 * n
        rows.append(obs("oi.futures.binance_btc", btc, "binance", close_of(d), "BTC"))
        rows.append(obs("oi.futures.binance", btc * 70_000.0, "binance", close_of(d), "USD"))
    store.write_backfill(rows)
    return store


def test_oi_weighted_funding_is_absent_before_the_oi_window_and_binances_inside_it() -> None:
    store = funding_store()
    report = derived.derive(store, Settings(), FIRST, LAST)
    weighted = values(store, "funding.oi_weighted", CONSENSUS)
    # At each close inside the window only Binance has both funding and OI: its 16:00 rate.
    assert weighted == {
        day_start(d) + timedelta(hours=16, milliseconds=2): pytest.approx(0.001 * n + 0.0016)
        for n, d in enumerate(days(FIRST - DAY, LAST))
        if d >= OI_FROM
    }
    total = values(store, "oi.futures.total", CONSENSUS)
    assert total == {close_of(d): (100_000.0 + 1_000.0 * n) * 70_000.0 for n, d in
                     enumerate(days(OI_FROM, LAST))}  # fmt: skip
    chg = values(store, "oi.futures.total.chg_24h", CONSENSUS)
    # The first day of the window has no total a day before; then 101k/100k BTC at one mark.
    assert chg[close_of(OI_FROM + DAY)] == pytest.approx(1.0)
    assert sorted(chg) == [close_of(d) for d in days(OI_FROM + DAY, LAST)]
    assert values(store, "oi.futures.total.chg_7d", CONSENSUS) == {}  # 4 days of OI
    assert values(store, "funding.positive_hours", CONSENSUS) == {}
    lines = report.lines()
    assert (
        "derived funding.oi_weighted: from 2026-03-08 (a venue's funding and open interest; "
        "Binance publishes open interest for its latest 30 days only), 4 of 10 days, +4 rows"
    ) in lines
    assert any(line.startswith("not derived funding.positive_hours: ") for line in lines)


def test_a_venue_with_funding_and_oi_at_the_close_weighs_in() -> None:
    store = funding_store()
    # A live Deribit OI reading an hour before the last close: now Deribit counts.
    store.write([obs("oi.futures.deribit", 3e9, "deribit_futures", close_of(LAST) - 3600 * _S)])
    derived.derive(store, Settings(), LAST, LAST)
    binance_oi = (100_000.0 + 3_000.0) * 70_000.0
    binance_rate = 0.001 * 10 + 0.0016  # LAST is the 11th day of funding_store's rates
    expected = (binance_rate * binance_oi + (-0.05) * 3e9) / (binance_oi + 3e9)
    [(at, value)] = store.series("funding.oi_weighted", CONSENSUS)
    assert value == pytest.approx(expected)
    assert at == day_start(LAST) + timedelta(hours=16, milliseconds=2)  # its oldest input
    # Like for like: Deribit has no OI a day before, so no 24 h change that day.
    assert close_of(LAST) not in values(store, "oi.futures.total.chg_24h", CONSENSUS)


def test_deriving_twice_adds_nothing() -> None:
    store = funding_store()
    for d in days(FIRST, LAST):
        candle_closes(store, d, coinbase=70_000.0, kraken=70_100.0)
    first = derived.derive(store, Settings(), FIRST, LAST)
    assert first.rows_added > 0
    again = derived.derive(store, Settings(), FIRST, LAST)
    assert again.rows_added == 0
    assert [r.days for r in again.results] == [r.days for r in first.results]


# --- ETF sums and streak -----------------------------------------------------------------------


def test_etf_five_day_sum_month_to_date_and_streak_per_published_day() -> None:
    store = Store.open(None)
    trading = [date(2026, 3, d) for d in (2, 3, 4, 5, 6, 9, 10)]  # Mon-Fri, Mon-Tue
    flows = [100.0, -50.0, -60.0, 20.0, -10.0, -30.0, -40.0]
    store.write_backfill(
        [
            obs("etf.flow.daily", v, "farside", datetime(d.year, d.month, d.day, 20, tzinfo=UTC))
            for d, v in zip(trading, flows, strict=True)
        ]
    )
    derived.derive(store, Settings(), FIRST, LAST)
    at = datetime(2026, 3, 10, 20, tzinfo=UTC)
    assert values(store, "etf.outflow_streak", "farside")[at] == 3  # -10, -30, -40
    assert values(store, "etf.flow.5d", "farside")[at] == -60 + 20 - 10 - 30 - 40
    assert values(store, "etf.flow.mtd", "farside")[at] == sum(flows)
    # Five published days are needed for the sum: none before 6 Mar, none on the weekend.
    assert [t.date() for t in values(store, "etf.flow.5d", "farside")] == trading[4:]
    assert values(store, "etf.outflow_streak", "farside")[
        datetime(2026, 3, 5, 20, tzinfo=UTC)
    ] == 0  # fmt: skip


# --- Coin Metrics history ----------------------------------------------------------------------

CM_NOW = datetime(2020, 3, 30, 12, tzinfo=UTC)
CM_DOC: Json = json.loads(body("coinmetrics", "asset_metrics_btc_2020-03.json"))


def coinmetrics_reply(request: httpx.Request) -> httpx.Response:
    """The published rows of 8-29 Mar 2020 inside the asked ``start_time``..``end_time``."""
    q = {k: v[0] for k, v in parse_qs(urlsplit(str(request.url)).query).items()}
    assert q["paging_from"] == "start"
    assert q["page_size"] == "10000"
    assert q["metrics"] == "CapMrktCurUSD,CapMVRVCur,IssTotUSD"
    lo, hi = date.fromisoformat(q["start_time"]), date.fromisoformat(q["end_time"])
    doc = copy.deepcopy(CM_DOC)
    assert isinstance(doc, dict)
    rows = doc["data"]
    assert isinstance(rows, list)
    doc["data"] = [r for r in rows if lo <= _row_day(r) <= hi]
    return httpx.Response(200, json=doc)


def _row_day(row: Json) -> date:
    assert isinstance(row, dict)
    assert isinstance(row["time"], str)
    return date.fromisoformat(row["time"][:10])


async def test_coinmetrics_history_reaches_back_for_the_first_7_day_mean() -> None:
    store = Store.open(None)
    asked: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        asked.append(request)
        return coinmetrics_reply(request)

    conf = Settings(sources={"coinmetrics": SourceSettings(base_url="http://cm.test/v4")})
    report = await backfill(
        store,
        conf,
        days=14,
        clock=FixedClock(CM_NOW),
        transport=httpx.MockTransport(handler),
        series=coinmetrics.SERIES,
        derive_readings=False,
    )
    assert not report.failures
    [request] = asked
    assert request.url.path == "/v4/timeseries/asset-metrics"
    q = parse_qs(urlsplit(str(request.url)).query)
    assert (q["start_time"], q["end_time"]) == (["2020-03-08"], ["2020-03-29"])
    # The live parser on the whole published body gives the same values for the asked days.
    live = live_coinmetrics.parse_asset_metrics(CM_DOC, CM_NOW)
    want = {
        o.observed_at: o.value
        for o in live
        if o.id == "onchain.net_realized_pnl.7d" and o.observed_at > day_start(date(2020, 3, 16))
    }
    got = values(store, "onchain.net_realized_pnl.7d", "coinmetrics")
    assert got == want
    assert sorted(t.date() - DAY for t in got) == days(date(2020, 3, 16), date(2020, 3, 29))
    assert store.backfilled_count("onchain.realized_cap", "coinmetrics") == 14
    assert report.rows_added == 28
    again = await backfill(
        store,
        conf,
        days=14,
        clock=FixedClock(CM_NOW),
        transport=httpx.MockTransport(handler),
        series=coinmetrics.SERIES,
        derive_readings=False,
    )
    assert (again.requests, again.rows_added) == (0, 0)


def test_coinmetrics_a_second_page_is_refused_rather_than_cut_at_the_seam() -> None:
    doc: Json = json.loads(body("coinmetrics", "asset_metrics_docs_example.json"))
    with pytest.raises(ParseError, match="more than 10000 rows"):
        coinmetrics.parse(doc, CM_NOW)


# --- a backfill of every served source, then a backtest ---------------------------------------

COINBASE_ROWS = json.loads(body("coinbase", "candles_1m.json"))
KRAKEN_ROW = json.loads(body("kraken", "ohlc.json"))["result"]["XXBTZUSD"][0][1:]
BITSTAMP_ROW = json.loads(body("bitstamp", "ohlc_1h_btc_usdt.json"))["data"]["ohlc"][0]
HASHRATE_DOC = json.loads(body("mempool", "hashrate_3d_docs.json"))
REWARD_ROWS = json.loads(body("mempool", "block_rewards_docs.json"))
FUNDING_ROWS = [
    *json.loads(body("binance", "funding_rate_live_2026-08-15.json")),
    *json.loads(body("binance", "funding_rate_live_2026-09-15.json")),
]
OI_ROWS = json.loads(body("binance", "open_interest_hist_live_2026-08-15.json"))
#: Mempool lists the adjustments of its period; these fall inside the asked range.
ADJUSTMENTS = (datetime(2020, 2, 20, 1, tzinfo=UTC), datetime(2020, 3, 5, 1, tzinfo=UTC))


def _ts(d: date) -> int:
    return int(day_start(d).timestamp())


def _query(request: httpx.Request) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(str(request.url)).query).items()}


def _day_ms(value: str) -> date:
    return datetime.fromtimestamp(int(value) / 1000, UTC).date()


def served(request: httpx.Request) -> httpx.Response:
    """Every served provider's real rows, re-stamped to the asked days (as test_backfill does):
    the published values, cycled, at the times each provider uses."""
    host, path, q = request.url.host, request.url.path, _query(request)
    today = CM_NOW.date()
    if host == "cm.test":
        return coinmetrics_reply(request)
    if host == "coinbase.test":
        lo = datetime.fromisoformat(q["start"]).date()
        hi = datetime.fromisoformat(q["end"]).date()
        rows = [[_ts(d), *COINBASE_ROWS[d.toordinal() % 2][1:]] for d in reversed(days(lo, hi))]
        return httpx.Response(200, json=rows)
    if host == "kraken.test":
        lo = datetime.fromtimestamp(int(q["since"]) + 1, UTC).date()
        rows = [[_ts(d), *KRAKEN_ROW] for d in days(lo, today)]  # today's candle is forming
        return httpx.Response(200, json={"error": [], "result": {"XXBTZUSD": rows, "last": 1}})
    if host == "bitstamp.test":
        lo = datetime.fromtimestamp(int(q["start"]), UTC).date()
        hi = datetime.fromtimestamp(int(q["end"]), UTC).date()
        ohlc = [dict(BITSTAMP_ROW, timestamp=str(_ts(d))) for d in days(lo, hi)]
        return httpx.Response(200, json={"data": {"pair": "BTC/USD", "ohlc": ohlc}})
    if host == "mempool.test" and "/hashrate/" in path:
        period = days(today - 91 * DAY, today)  # the test asks 40 days: mempool's "3m"
        doc = dict(HASHRATE_DOC)
        doc["hashrates"] = [
            dict(HASHRATE_DOC["hashrates"][d.toordinal() % 3], timestamp=_ts(d)) for d in period
        ]
        doc["difficulty"] = [
            dict(HASHRATE_DOC["difficulty"][0], timestamp=int(t.timestamp())) for t in ADJUSTMENTS
        ]
        return httpx.Response(200, json=doc)
    if host == "mempool.test":
        period = days(today - 91 * DAY, today)
        buckets = [
            dict(REWARD_ROWS[(d.toordinal() + i) % len(REWARD_ROWS)], timestamp=_ts(d) + i * 28_800)
            for d in period
            for i in range(3)
        ]
        return httpx.Response(200, json=buckets)
    if path == "/fapi/v1/fundingRate":
        lo, hi = _day_ms(q["startTime"]), _day_ms(q["endTime"])
        settlements = [
            dict(
                FUNDING_ROWS[(d.toordinal() + i) % 4], fundingTime=(_ts(d) + i * 28_800) * 1000 + 2
            )
            for d in days(lo, hi)
            for i in range(3)
        ]
        return httpx.Response(200, json=settlements)
    if path == "/futures/data/openInterestHist":
        lo, hi = _day_ms(q["startTime"]), _day_ms(q["endTime"])
        snapshots = [
            dict(OI_ROWS[d.toordinal() % 2], timestamp=_ts(d) * 1000) for d in days(lo, hi)
        ]
        return httpx.Response(200, json=snapshots)
    return httpx.Response(404, json={"message": f"not served: {request.url}"})


def served_settings() -> Settings:
    off = {name: SourceSettings(enabled=False) for name in registry.NAMES}
    on = {
        "coinbase": SourceSettings(base_url="http://coinbase.test"),
        "kraken": SourceSettings(base_url="http://kraken.test/0/public"),
        "bitstamp": SourceSettings(base_url="http://bitstamp.test/api/v2"),
        "mempool": SourceSettings(base_url="http://mempool.test/api"),
        "binance": SourceSettings(base_url="http://binance.test"),
        "coinmetrics": SourceSettings(base_url="http://cm.test/v4"),
    }
    return Settings(sources=off | on)


def test_a_backtest_over_a_backfilled_store_judges_more_than_flows(tmp_path: Path) -> None:
    out, err = io.StringIO(), io.StringIO()
    path = tmp_path / "h.db"
    code = command(
        40,
        out=out,
        err=err,
        settings=served_settings(),
        store_path=path,
        clock=FixedClock(CM_NOW),
        transport=httpx.MockTransport(served),
        tty=False,
    )
    assert code == 0, err.getvalue()
    text = out.getvalue()
    # Binance's OI reaches back to 1 Mar; its 00:00 snapshot that day is the close of 29 Feb.
    assert "derived funding.oi_weighted: from 2020-02-29 (" in text
    assert "derived mining.hashprice: from 2020-02-20 (" in text  # the first adjustment listed
    assert "derived btc.price: from 2020-02-19 (" in text
    assert "derived etf.outflow_streak: none in 2020-02-19..2020-03-29" in text
    with Store.open(path) as store:
        closes = {
            t: v for t, v in store.series("btc.price", CONSENSUS) if t.date() == date(2020, 3, 21)
        }
        # The median of that day's re-stamped Coinbase close, Kraken's 3,539.4, Bitstamp's 73,285.
        coinbase_close = COINBASE_ROWS[date(2020, 3, 20).toordinal() % 2][4]
        median = statistics.median([coinbase_close, 3539.4, 73285.0])
        assert closes == {close_of(date(2020, 3, 20)): median}
        bt = backtest.run(
            store,
            DEFAULT_RULES,
            since=day_start(date(2020, 2, 19)),
            until=close_of(date(2020, 3, 29)),
            settings=Settings(),
        )
    by_day = {d.date: dict(d.rows) for d in bt.days}
    market = {RowState.BULLISH, RowState.BEARISH, RowState.NEUTRAL}
    inside = days(date(2020, 3, 17), date(2020, 3, 29))
    for d in inside:  # every range covers these days: only flows and skew have no history
        rows = by_day[d]
        assert {rows[k] for k in ("funding", "leverage", "onchain", "mining")} <= market, d
        assert rows["flows"] is RowState.WAITING
        assert rows["skew"] is RowState.WAITING
    before = by_day[date(2020, 2, 25)]  # before Binance's OI window and the proxy's first mean
    assert before["mining"] in market
    assert before["funding"] is RowState.WAITING
    assert before["onchain"] is RowState.WAITING
    assert all(d.call not in (None, "no data") for d in bt.days if d.date in inside)
