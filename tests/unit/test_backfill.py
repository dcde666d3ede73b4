"""The backfill runner: pagination, rate limits, gaps, resuming, idempotence, the command."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx

from tests.conftest import body
from tests.localserver import LocalServer, Reply
from tui.core.backfill import BackfillReport, backfill, candles, deribit
from tui.core.backfill.command import command
from tui.core.backfill.series import Series, day_start
from tui.core.clock import FixedClock
from tui.core.config import Settings, SourceSettings
from tui.core.model import Observation
from tui.core.store import Store

NOW = datetime(2026, 2, 6, 12, 0, tzinfo=UTC)
TODAY = NOW.date()
COINBASE = candles.SERIES[0]
KRAKEN = candles.SERIES[1]
DVOL = deribit.SERIES[1]
# The real 1-minute rows of tests/data/coinbase/candles_1m.json, re-stamped to UTC midnights by
# the fake server below (no published daily body exists: tests/data/coinbase/README.md).
REAL_ROWS = json.loads(body("coinbase", "candles_1m.json"))

Handler = Callable[[httpx.Request], httpx.Response]


def settings(**sources: SourceSettings) -> Settings:
    base = {
        "coinbase": SourceSettings(base_url="http://coinbase.test"),
        "kraken": SourceSettings(base_url="http://kraken.test/0/public"),
        "deribit_options": SourceSettings(base_url="http://deribit.test/api/v2"),
    }
    return Settings(sources=base | sources)


def coinbase_rows(first: date, last: date, skip: frozenset[date] = frozenset()) -> list[object]:
    rows: list[object] = []
    d = last
    while d >= first:  # newest first, as Coinbase sends them
        if d not in skip:
            rows.append([int(day_start(d).timestamp()), *REAL_ROWS[d.toordinal() % 2][1:]])
        d -= timedelta(days=1)
    return rows


class FakeCoinbase:
    """Answers candle pages for the asked start/end; scripted failures by request number."""

    def __init__(
        self, gap: frozenset[date] = frozenset(), fail: dict[int, httpx.Response] | None = None
    ) -> None:
        self.gap = gap
        self.fail = fail or {}
        self.asked: list[tuple[date, date]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        q = parse_qs(urlsplit(str(request.url)).query)
        first = datetime.fromisoformat(q["start"][0]).date()
        last = datetime.fromisoformat(q["end"][0]).date()
        self.asked.append((first, last))
        scripted = self.fail.pop(len(self.asked), None)
        if scripted is not None:
            return scripted
        return httpx.Response(200, json=coinbase_rows(first, last, self.gap))


async def run(
    store: Store,
    handler: Handler,
    *,
    days: int = 365,
    clock: FixedClock | None = None,
    series: tuple[Series, ...] = (COINBASE,),
    conf: Settings | None = None,
) -> BackfillReport:
    return await backfill(
        store,
        conf or settings(),
        days=days,
        clock=clock or FixedClock(NOW),
        transport=httpx.MockTransport(handler),
        series=series,
    )


def closes(store: Store) -> dict[date, float]:
    return {
        (t - timedelta(days=1)).date(): v
        for t, v in store.series("btc.day.close.coinbase", "coinbase")
    }


async def test_pages_walk_back_without_gaps_or_overlaps_and_every_day_is_stored() -> None:
    store, fake = Store.open(None), FakeCoinbase()
    report = await run(store, fake)
    first, last = TODAY - timedelta(days=365), TODAY - timedelta(days=1)
    assert fake.asked == [(last - timedelta(days=299), last), (first, last - timedelta(days=300))]
    assert report.requests == 2
    assert not report.failures
    assert report.rows_added == 365 * 4
    assert sorted(closes(store)) == [first + timedelta(days=i) for i in range(365)]
    assert store.backfilled_count("btc.day.open.coinbase", "coinbase") == 365
    assert store.backfill_mark("coinbase.candles") == f"{first}/{last}"
    assert report.series[0].covered == (first, last)


async def test_a_gap_in_the_providers_data_stays_a_gap() -> None:
    hole = TODAY - timedelta(days=40)
    store = Store.open(None)
    report = await run(store, FakeCoinbase(gap=frozenset({hole})))
    days = closes(store)
    assert hole not in days
    assert hole - timedelta(days=1) in days
    assert hole + timedelta(days=1) in days
    assert report.rows_added == 364 * 4
    # The mark covers the hole: a rerun does not ask for it again.
    again = await run(store, FakeCoinbase())
    assert again.requests == 0
    assert hole not in closes(store)


async def test_a_429_mid_way_waits_out_retry_after_on_the_clock_then_resumes() -> None:
    clock = FixedClock(NOW)
    limited = httpx.Response(429, headers={"Retry-After": "30"}, json={"message": "slow down"})
    fake = FakeCoinbase(fail={2: limited})
    store = Store.open(None)
    report = await run(store, fake, clock=clock)
    assert not report.failures
    assert report.requests == 3  # the refused page was asked again, once
    assert fake.asked[1] == fake.asked[2]
    assert clock.now() - NOW >= timedelta(seconds=30)
    assert len(closes(store)) == 365


async def test_a_long_ban_fails_that_series_only_and_says_when_to_rerun() -> None:
    banned = httpx.Response(429, headers={"Retry-After": "7200"})

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "coinbase.test":
            return banned
        rows = [[int(day_start(TODAY - timedelta(days=1)).timestamp()), *ohlc_row()]]
        return httpx.Response(200, json={"error": [], "result": {"XXBTZUSD": rows, "last": 1}})

    store = Store.open(None)
    report = await run(store, handler, series=(COINBASE, KRAKEN))
    [failed] = report.failures
    assert failed.key == "coinbase.candles"
    assert failed.failure is not None
    assert "rate-limited until 14:00 UTC" in failed.failure
    assert "rerun" in failed.failure
    assert store.backfill_mark("coinbase.candles") is None
    kraken = next(s for s in report.series if s.key == "kraken.ohlc")
    assert kraken.failure is None
    assert kraken.rows_added == 4


def ohlc_row() -> list[object]:
    """The published Kraken daily row of tests/data/kraken/ohlc.json, without its time."""
    doc = json.loads(body("kraken", "ohlc.json"))
    row: list[object] = doc["result"]["XXBTZUSD"][0][1:]
    return row


async def test_an_interrupted_run_resumes_without_asking_for_done_pages_again() -> None:
    clean = Store.open(None)
    await run(clean, FakeCoinbase())
    store = Store.open(None)
    broken = FakeCoinbase(fail={2: httpx.Response(404, json={"message": "NotFound"})})
    first = await run(store, broken)
    [failed] = first.failures
    assert failed.failure == "http error: HTTP 404: NotFound"
    assert first.rows_added == 300 * 4  # the first page was written before the failure
    resumed = FakeCoinbase()
    second = await run(store, resumed)
    assert resumed.asked == [broken.asked[1]]  # only the page that was lost
    assert not second.failures
    assert closes(store) == closes(clean)


async def test_a_second_run_adds_nothing_and_a_later_day_asks_only_for_it() -> None:
    store = Store.open(None)
    await run(store, FakeCoinbase())
    again = FakeCoinbase()
    report = await run(store, again)
    assert (again.asked, report.rows_added) == ([], 0)
    # With the mark gone every page is asked for again, and still nothing is added.
    store.set_backfill_mark("coinbase.candles", "", NOW)
    report = await run(store, FakeCoinbase())
    assert (report.requests, report.rows_added) == (2, 0)
    # The next day: one page, for the one new completed day.
    tomorrow = FakeCoinbase()
    report = await run(store, tomorrow, clock=FixedClock(NOW + timedelta(days=1)))
    assert tomorrow.asked == [(TODAY, TODAY)]
    assert report.rows_added == 4


async def test_a_live_row_is_never_overwritten() -> None:
    store = Store.open(None)
    day = TODAY - timedelta(days=3)
    live = Observation(
        "btc.day.close.coinbase", 1234.5, "USD", "coinbase", day_start(day + timedelta(days=1))
    )
    store.write([live])
    report = await run(store, FakeCoinbase())
    assert closes(store)[day] == 1234.5
    assert report.rows_added == 365 * 4 - 1
    assert store.first_live("btc.day.close.coinbase", "coinbase") == live.observed_at


async def test_a_cursor_page_moves_the_mark_only_when_the_window_is_whole() -> None:
    seen: list[dict[str, str]] = []
    start = int(day_start(TODAY - timedelta(days=10)).timestamp() * 1000)

    def handler(request: httpx.Request) -> httpx.Response:
        q = {k: v[0] for k, v in parse_qs(urlsplit(str(request.url)).query).items()}
        seen.append(q)
        end = int(q["end_timestamp"])
        # Two candles per answer, newest first back from end; a continuation while older remain.
        stamps = [end - end % 86_400_000 - i * 86_400_000 for i in range(2)]
        data = [[t, 40.0, 41.0, 39.0, 40.5] for t in stamps if t >= start]
        cont = stamps[-1] - 1 if stamps[-1] > start else None
        return httpx.Response(
            200, json={"jsonrpc": "2.0", "result": {"data": data, "continuation": cont}}
        )

    store = Store.open(None)
    report = await run(store, handler, days=10, series=(DVOL,))
    assert not report.failures
    ends = [int(q["end_timestamp"]) for q in seen]
    assert ends == sorted(ends, reverse=True)
    assert len(seen) == 5
    dvol = store.series("options.dvol", "deribit_options")
    assert [t.date() for t, _ in dvol] == [TODAY - timedelta(days=9 - i) for i in range(10)]
    assert (
        store.backfill_mark("deribit_options.dvol")
        == f"{TODAY - timedelta(days=10)}/{TODAY - timedelta(days=1)}"
    )


async def test_disabled_sources_are_skipped_and_history_less_readings_say_since_when() -> None:
    store = Store.open(None)
    first_seen = datetime(2026, 1, 20, 9, tzinfo=UTC)
    store.write([Observation("options.rr25.30d", -9.0, "vol pts", "deribit_options", first_seen)])
    conf = settings(coinbase=SourceSettings(enabled=False))
    report = await run(store, FakeCoinbase(), conf=conf)
    assert report.series == ()
    assert ("coinbase", "disabled in config") in report.skipped
    assert report.no_history == (
        "options skew (RR25), ATM term structure, put OI: no history before 2026-01-20"
        " (first recorded day)",
    )
    assert ("glassnode", "needs a key; no history loader yet") in report.skipped


# --- the command, against a real server on 127.0.0.1 -----------------------------------------


def kraken_body(days: int) -> bytes:
    rows = [
        [int(day_start(TODAY - timedelta(days=d)).timestamp()), *ohlc_row()]
        for d in range(days, -1, -1)
    ]
    return json.dumps({"error": [], "result": {"XXBTZUSD": rows, "last": rows[-1][0]}}).encode()


def only_kraken(server: LocalServer) -> Settings:
    from tui.core.sources import registry

    off = {name: SourceSettings(enabled=False) for name in registry.NAMES}
    return Settings(sources=off | {"kraken": SourceSettings(base_url=server.url("/0/public"))})


def test_command_prints_a_line_per_series_and_exits_0(tmp_path: Path) -> None:
    out, err = io.StringIO(), io.StringIO()
    with LocalServer() as server:
        server.route("/0/public/OHLC", Reply(status=200, body=kraken_body(20)))
        code = command(
            10,
            out=out,
            err=err,
            settings=only_kraken(server),
            store_path=tmp_path / "h.db",
            clock=FixedClock(NOW),
            tty=False,
        )
        [seen] = server.seen("/0/public/OHLC")
    assert code == 0, err.getvalue()
    assert "since=" in seen.path
    assert "interval=1440" in seen.path
    text = out.getvalue()
    assert "Kraken daily OHLC: +40 rows, 1 requests, 2026-01-27..2026-02-05" in text
    assert "backfill 10 days (2026-01-27..2026-02-05): 1 requests, +40 rows" in text
    with Store.open(tmp_path / "h.db") as store:
        assert store.backfilled_count("btc.day.close.kraken", "kraken") == 10


def test_command_lists_failures_and_exits_1_and_bad_days_exit_2(tmp_path: Path) -> None:
    out, err = io.StringIO(), io.StringIO()
    with LocalServer() as server:
        server.route("/0/public/OHLC", Reply(status=404))
        code = command(
            10,
            out=out,
            err=err,
            settings=only_kraken(server),
            store_path=tmp_path / "h.db",
            clock=FixedClock(NOW),
            tty=False,
        )
    assert code == 1
    assert err.getvalue() == "btcwatch: Kraken daily OHLC failed: http error: HTTP 404\n"
    assert "kraken.ohlc: http error: HTTP 404" in out.getvalue()
    assert command(0, out=out, err=err, settings=Settings(), store_path=tmp_path / "x.db") == 2


def test_a_read_only_store_says_so_in_one_line(tmp_path: Path) -> None:
    out, err = io.StringIO(), io.StringIO()
    with Store.open(tmp_path / "h.db"), LocalServer() as server:  # another writer holds it
        code = command(
            10,
            out=out,
            err=err,
            settings=only_kraken(server),
            store_path=tmp_path / "h.db",
            clock=FixedClock(NOW),
            tty=False,
        )
        assert server.requests == []
    assert code == 1
    lines = err.getvalue().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("btcwatch: cannot backfill, history is being")
    assert "reads only" in lines[0]


def test_the_tty_progress_bar_ends_with_the_report(tmp_path: Path) -> None:
    out, err = io.StringIO(), io.StringIO()
    with LocalServer() as server:
        server.route("/0/public/OHLC", Reply(status=200, body=kraken_body(5)))
        code = command(
            3,
            out=out,
            err=err,
            settings=only_kraken(server),
            store_path=tmp_path / "h.db",
            clock=FixedClock(NOW),
            tty=True,
        )
    assert code == 0
    assert "Kraken daily OHLC: +12 rows" in out.getvalue()
    assert out.getvalue().rstrip().splitlines()[-1].startswith("skipped")
