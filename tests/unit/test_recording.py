"""Recording raw HTTP exchanges to JSON Lines and replaying them through httpx."""

from __future__ import annotations

import gzip
import json
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal

import httpx
import pytest

from tui.core.clock import FixedClock, ReplayClock
from tui.core.errors import RecordingError
from tui.core.model import Exchange
from tui.core.recording import (
    KEPT_HEADERS,
    SCHEMA_VERSION,
    Recording,
    RecordingHeader,
    RecordingWriter,
    keep_headers,
    read_recording,
)
from tui.core.replay import RecordingTransport, ReplayTransport

T0 = datetime(2026, 2, 5, 14, 0, 0, tzinfo=UTC)

# Kraken "Get Server Time" (docs.kraken.com/api-reference/market-data/get-server-time, response
# example {"error":[],"result":{"unixtime":1688669448,"rfc1123":"Thu, 06 Jul 23 18:50:48 +0000"}}),
# with the time fields set to each fetch's time so that every recorded body differs.
KRAKEN_TIME = "https://api.kraken.com/0/public/Time"


def kraken_time_body(at: datetime) -> bytes:
    result = {
        "unixtime": int(at.timestamp()),
        "rfc1123": at.strftime("%a, %d %b %y %H:%M:%S +0000"),
    }
    return json.dumps({"error": [], "result": result}).encode()


# Binance USD-M "Open Interest" response example, as published at developers.binance.com/docs/
# derivatives/usds-margined-futures/market-data/rest-api/Open-Interest.
BINANCE_OI_URL = "https://fapi.binance.com/fapi/v1/openInterest?symbol=BTCUSDT"
BINANCE_OI_BODY = b'{"openInterest":"10659.509","symbol":"BTCUSDT","time":1589437530011}'
# Binance "Open Interest Statistics": the answer printed in the binance_futures (Elixir) docs for
# open_interest_hist("BTCUSDT", "5m", nil, nil, 1), hexdocs.pm/binance_futures (open_interest_hist).
BINANCE_OI_HIST_URL = (
    "https://fapi.binance.com/futures/data/openInterestHist?symbol=BTCUSDT&period=5m&limit=1"
)
BINANCE_OI_HIST_BODY = (
    b'[{"sumOpenInterest":"34085.00000000","sumOpenInterestValue":"1927265695.27131325",'
    b'"symbol":"BTCUSDT","timestamp":1616438700000}]'
)


def header(mode: Literal["live", "demo"] = "live", label: str = "") -> RecordingHeader:
    return RecordingHeader(SCHEMA_VERSION, T0, "0.1.0", label, mode)


def kraken(at: datetime, latency_ms: float | None = None) -> Exchange:
    headers = {"content-type": "application/json; charset=utf-8"}
    return Exchange("GET", KRAKEN_TIME, 200, headers, kraken_time_body(at), at, latency_ms)


def write(path: Path, exchanges: list[Exchange], hdr: RecordingHeader | None = None) -> Path:
    with RecordingWriter(path, hdr or header()) as w:
        for x in exchanges:
            w.write(x)
    return path


def file_text(path: Path) -> str:
    data = path.read_bytes()
    return (gzip.decompress(data) if path.name.endswith(".gz") else data).decode()


# ---------------------------------------------------------------- file format


@pytest.mark.parametrize("name", ["rec.jsonl", "rec.jsonl.gz"])
def test_round_trip(tmp_path: Path, name: str) -> None:
    binary = gzip.compress(BINANCE_OI_BODY)  # not UTF-8: must come back byte for byte
    hdr = header("demo", "DEMO · scenario 5-6 Feb 2026 · not live")
    written = [
        kraken(T0 + timedelta(seconds=10), latency_ms=41.5),
        Exchange("GET", BINANCE_OI_URL, 200, {"x-mbx-used-weight-1m": "3"}, binary, T0),
        kraken(T0 + timedelta(seconds=5, milliseconds=250)),
    ]
    path = write(tmp_path / name, written, hdr)

    rec = read_recording(path)

    assert rec.header == hdr
    assert rec.notice == ""
    assert [x.fetched_at for x in rec.exchanges] == sorted(x.fetched_at for x in written)
    by_time = {x.fetched_at: x for x in written}
    for got in rec.exchanges:
        want = by_time[got.fetched_at]
        assert (got.method, got.url, got.status, got.body) == (
            want.method,
            want.url,
            want.status,
            want.body,
        )
        assert dict(got.headers) == dict(want.headers)
        assert got.latency_ms == want.latency_ms
    assert (rec.start, rec.end) == (T0, T0 + timedelta(seconds=10))


def test_file_is_readable_json_lines(tmp_path: Path) -> None:
    binary = gzip.compress(BINANCE_OI_BODY)
    path = write(
        tmp_path / "rec.jsonl",
        [kraken(T0), Exchange("GET", BINANCE_OI_URL, 200, {}, binary, T0)],
    )
    first, text_line, binary_line = (json.loads(x) for x in file_text(path).splitlines())

    assert first["type"] == "header"
    assert first["schema_version"] == SCHEMA_VERSION
    assert text_line["type"] == "exchange"
    assert json.loads(text_line["body_text"]) == json.loads(kraken_time_body(T0))
    assert "body_text" not in binary_line
    assert "body_b64" in binary_line
    assert text_line["fetched_at"] == "2026-02-05T14:00:00.000Z"


def test_killed_recorder_plain_last_partial_line_is_skipped(tmp_path: Path) -> None:
    src = tmp_path / "live.jsonl"
    exchanges = [kraken(T0 + timedelta(seconds=s)) for s in (0, 10, 20)]
    with RecordingWriter(src, header()) as w:
        for x in exchanges:
            w.write(x)
        data = src.read_bytes()  # what is on disk while the recorder still runs
    last_start = data.rstrip(b"\n").rfind(b"\n") + 1
    cut = tmp_path / "killed.jsonl"
    cut.write_bytes(data[: last_start + (len(data) - last_start) // 2])

    rec = read_recording(cut)

    assert [x.body for x in rec.exchanges] == [x.body for x in exchanges[:2]]
    assert f"{cut}:4:" in rec.notice


def test_killed_recorder_gz_replays_what_was_flushed(tmp_path: Path) -> None:
    src = tmp_path / "live.jsonl.gz"
    exchanges = [kraken(T0 + timedelta(seconds=s)) for s in (0, 10, 20)]
    sizes = []
    with RecordingWriter(src, header()) as w:
        for x in exchanges:
            w.write(x)
            sizes.append(src.stat().st_size)
        data = src.read_bytes()  # no gzip trailer yet: the recorder is still running
    whole, cut = tmp_path / "whole.jsonl.gz", tmp_path / "cut.jsonl.gz"
    whole.write_bytes(data)
    cut.write_bytes(data[: (sizes[1] + sizes[2]) // 2])

    assert [x.body for x in read_recording(whole).exchanges] == [x.body for x in exchanges]
    rec = read_recording(cut)
    assert [x.body for x in rec.exchanges] == [x.body for x in exchanges[:2]]
    assert rec.notice


def test_broken_line_in_the_middle_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path / "rec.jsonl", [kraken(T0 + timedelta(seconds=s)) for s in (0, 10, 20)])
    lines = path.read_bytes().splitlines(keepends=True)
    lines[2] = lines[2][: len(lines[2]) // 2] + b"\n"
    path.write_bytes(b"".join(lines))

    with pytest.raises(RecordingError) as err:
        read_recording(path)

    assert f"{path}:3:" in str(err.value)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize(
    ("name", "content", "problem"),
    [
        ("page.jsonl", b"<!DOCTYPE html>\n<html><body>Just a moment...</body></html>\n", ":1:"),
        ("page.jsonl", b"Just a moment...", ":1:"),
        ("rec.jsonl", gzip.compress(b'{"type":"header"}\n', mtime=0), ":1:"),
        ("rec.jsonl.gz", b'{"type":"header"}\n', "cannot read"),
        ("empty.jsonl", b"", "no header"),
        ("rec.jsonl", b'{"type":"exchange"}\n', ":1:"),
        ("rec.jsonl", b"[1, 2]\n", ":1:"),
    ],
    ids=["html", "one-line", "gzip-unnamed", "gz-not-gzip", "empty", "no-header", "not-object"],
)
def test_not_a_recording(tmp_path: Path, name: str, content: bytes, problem: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)

    with pytest.raises(RecordingError) as err:
        read_recording(path)

    assert str(path) in str(err.value)
    assert problem in str(err.value)
    assert "\n" not in str(err.value)


def edit_line(path: Path, lineno: int, **changes: object) -> None:
    lines = path.read_text().splitlines()
    doc = json.loads(lines[lineno - 1]) | changes
    lines[lineno - 1] = json.dumps({k: v for k, v in doc.items() if v is not None})
    path.write_text("\n".join(lines) + "\n")


@pytest.mark.parametrize(
    ("lineno", "changes", "problem"),
    [
        (1, {"schema_version": SCHEMA_VERSION + 1}, "newer"),
        (1, {"mode": "replay"}, "mode"),
        (2, {"fetched_at": "2026-02-05T14:00:00"}, "time zone"),
        (2, {"status": "200"}, "status"),
        (2, {"body_text": None}, "body"),
        (2, {"body_b64": "%%%", "body_text": None}, ""),
        (2, {"type": "header"}, "header"),
        (3, {"type": "note"}, "unknown type"),
    ],
)
def test_bad_fields_name_the_line(
    tmp_path: Path, lineno: int, changes: dict[str, object], problem: str
) -> None:
    path = write(tmp_path / "rec.jsonl", [kraken(T0), kraken(T0 + timedelta(seconds=10))])
    edit_line(path, lineno, **changes)

    with pytest.raises(RecordingError) as err:
        read_recording(path)

    assert f"{path}:{lineno}:" in str(err.value)
    assert problem in str(err.value)


def test_reads_from_a_package_resource(tmp_path: Path) -> None:
    """The demo ships inside the package: a Traversable (here a zip member) must read too."""
    rec_path = write(tmp_path / "demo.jsonl.gz", [kraken(T0)], header("demo", "DEMO"))
    archive = tmp_path / "pkg.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.write(rec_path, "tui/demo/demo.jsonl.gz")

    rec = read_recording(zipfile.Path(archive, "tui/demo/demo.jsonl.gz"))

    assert rec.header.mode == "demo"
    assert [x.body for x in rec.exchanges] == [kraken_time_body(T0)]


def test_writer_after_close_raises(tmp_path: Path) -> None:
    w = RecordingWriter(tmp_path / "rec.jsonl", header())
    w.close()
    w.close()
    with pytest.raises(RecordingError):
        w.write(kraken(T0))


# ---------------------------------------------------------------- recording transport


def binance_handler(request: httpx.Request) -> httpx.Response:
    return httpx.Response(
        200,
        headers=[
            ("Content-Type", "application/json"),
            ("X-MBX-USED-WEIGHT-1M", "7"),
            ("X-RateLimit-Reset", "30"),
            ("Server", "Tengine"),
            ("Set-Cookie", "aws-waf-token=abc; Path=/"),
            ("X-Cache", "Miss from cloudfront"),
        ],
        content=BINANCE_OI_BODY,
    )


async def test_recording_transport_writes_the_exchange_with_kept_headers(tmp_path: Path) -> None:
    clock = FixedClock(T0)
    path = tmp_path / "rec.jsonl"
    with RecordingWriter(path, header()) as w:
        transport = RecordingTransport(httpx.MockTransport(binance_handler), w, clock)
        async with httpx.AsyncClient(transport=transport) as client:
            response = await client.get(BINANCE_OI_URL)

    # The caller sees the provider's answer unchanged ...
    assert response.status_code == 200
    assert response.content == BINANCE_OI_BODY
    assert response.headers["server"] == "Tengine"
    assert response.headers["set-cookie"].startswith("aws-waf-token")
    # ... and the recording keeps only the chosen headers.
    (x,) = read_recording(path).exchanges
    assert (x.method, x.url, x.status, x.body, x.fetched_at) == (
        "GET",
        BINANCE_OI_URL,
        200,
        BINANCE_OI_BODY,
        T0,
    )
    assert dict(x.headers) == {
        "content-type": "application/json",
        "x-mbx-used-weight-1m": "7",
        "x-ratelimit-reset": "30",
    }
    assert x.latency_ms is not None
    assert x.latency_ms >= 0


@pytest.mark.parametrize("name", ["rec.jsonl", "rec.jsonl.gz"])
async def test_recording_never_writes_request_secrets(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    with RecordingWriter(path, header()) as w:
        transport = RecordingTransport(httpx.MockTransport(binance_handler), w, FixedClock(T0))
        async with httpx.AsyncClient(transport=transport) as client:
            await client.get(
                BINANCE_OI_URL + "&api_key=SECRET",
                headers={"Authorization": "Bearer SECRET", "X-Api-Key": "SECRET"},
            )

    text = file_text(path)
    assert "SECRET" not in text
    (x,) = read_recording(path).exchanges
    assert x.url == BINANCE_OI_URL + "&api_key=REDACTED"


async def test_recording_scrubs_a_key_the_provider_echoes(tmp_path: Path) -> None:
    key = "f3c1d2e4a5b6c7d8e9f0"

    def echo(request: httpx.Request) -> httpx.Response:  # a deliberately careless provider
        return httpx.Response(401, text=f"invalid api key: {request.url.params['api_key']}")

    path = tmp_path / "rec.jsonl"
    with RecordingWriter(path, header()) as w:
        transport = RecordingTransport(httpx.MockTransport(echo), w, FixedClock(T0))
        async with httpx.AsyncClient(transport=transport) as client:
            response = await client.get(KRAKEN_TIME, params={"api_key": key})

    assert key in response.text  # the caller still sees the real answer
    assert key not in file_text(path)
    assert read_recording(path).exchanges[0].body == b"invalid api key: REDACTED"


async def test_recording_stores_the_decoded_body_of_a_gzip_answer(tmp_path: Path) -> None:
    def gzipped(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200,
            headers={"Content-Encoding": "gzip", "Content-Type": "application/json"},
            content=gzip.compress(BINANCE_OI_BODY),
        )

    path = tmp_path / "rec.jsonl"
    with RecordingWriter(path, header()) as w:
        transport = RecordingTransport(httpx.MockTransport(gzipped), w, FixedClock(T0))
        async with httpx.AsyncClient(transport=transport) as client:
            response = await client.get(BINANCE_OI_URL)

    assert response.json()["openInterest"] == "10659.509"
    (x,) = read_recording(path).exchanges
    assert x.body == BINANCE_OI_BODY
    assert "content-encoding" not in x.headers


async def test_transport_error_is_raised_and_not_recorded(tmp_path: Path) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    path = tmp_path / "rec.jsonl"
    with RecordingWriter(path, header()) as w:
        transport = RecordingTransport(httpx.MockTransport(refuse), w, FixedClock(T0))
        async with httpx.AsyncClient(transport=transport) as client:
            with pytest.raises(httpx.ConnectError):
                await client.get(BINANCE_OI_URL)

    assert read_recording(path).exchanges == ()


async def test_body_over_the_cap_is_passed_on_but_not_recorded(tmp_path: Path) -> None:
    path = tmp_path / "rec.jsonl"
    with RecordingWriter(path, header()) as w:
        transport = RecordingTransport(
            httpx.MockTransport(binance_handler), w, FixedClock(T0), max_bytes=20
        )
        async with httpx.AsyncClient(transport=transport) as client:
            response = await client.get(BINANCE_OI_URL)

    assert response.status_code == 200
    assert len(response.content) > 20  # the fetch path's own cap sees an oversized body
    assert read_recording(path).exchanges == ()


def test_keep_headers_never_keeps_credentials() -> None:
    kept = keep_headers(
        {"Authorization": "Bearer x", "Cookie": "a=b", "Set-Cookie": "a=b", "Retry-After": "5"}
    )
    assert kept == {"retry-after": "5"}
    assert not {"authorization", "cookie", "set-cookie", "content-encoding"} & KEPT_HEADERS


# ---------------------------------------------------------------- replay


def recording(*exchanges: Exchange) -> Recording:
    return Recording(header(), tuple(sorted(exchanges, key=lambda x: x.fetched_at)))


THREE = recording(*(kraken(T0 + timedelta(seconds=s)) for s in (0, 10, 20)))


async def replay_get(transport: ReplayTransport, url: str) -> httpx.Response:
    async with httpx.AsyncClient(transport=transport) as client:
        return await client.get(url)


@pytest.mark.parametrize(
    ("at_s", "served_s"),
    [(-5, 0), (0, 0), (9, 0), (10, 10), (15, 10), (25, 20)],
)
async def test_replay_serves_the_latest_exchange_at_the_clock_time(
    at_s: float, served_s: float
) -> None:
    # speed 100: a 50 ms margin before t0+20 s even on a busy machine
    clock = ReplayClock(T0 - timedelta(seconds=5), speed=100)
    clock.skip_to(T0 + timedelta(seconds=at_s))

    response = await replay_get(ReplayTransport(THREE, clock), KRAKEN_TIME)

    assert response.status_code == 200
    assert response.content == kraken_time_body(T0 + timedelta(seconds=served_s))
    assert response.headers["content-type"] == "application/json; charset=utf-8"


async def test_replay_at_speed_walks_through_the_recording() -> None:
    clock = ReplayClock(T0, speed=1000)
    transport = ReplayTransport(THREE, clock)
    bodies = []
    async with httpx.AsyncClient(transport=transport) as client:
        for target in (0, 15, 25):
            clock.skip_to(T0 + timedelta(seconds=target))
            bodies.append((await client.get(KRAKEN_TIME)).content)

    assert bodies == [kraken_time_body(T0 + timedelta(seconds=s)) for s in (0, 10, 20)]
    assert transport.finished


async def test_replay_skips_long_gaps() -> None:
    later = T0 + timedelta(hours=6)
    rec = recording(kraken(T0), kraken(later))
    clock = ReplayClock(T0, speed=1000)
    transport = ReplayTransport(rec, clock, max_gap_s=120)

    first = await replay_get(transport, KRAKEN_TIME)

    assert first.content == kraken_time_body(T0)
    assert later - timedelta(seconds=60) < clock.now() < later
    await clock.sleep(2)
    second = await replay_get(transport, KRAKEN_TIME)
    assert second.content == kraken_time_body(later)


async def test_replay_does_not_skip_short_gaps() -> None:
    rec = recording(kraken(T0), kraken(T0 + timedelta(seconds=60)))
    clock = ReplayClock(T0, speed=1000)

    await replay_get(ReplayTransport(rec, clock, max_gap_s=120), KRAKEN_TIME)

    assert clock.now() < T0 + timedelta(seconds=30)


async def test_replay_matches_another_host_and_query_order() -> None:
    oi = Exchange("GET", BINANCE_OI_HIST_URL, 200, {}, BINANCE_OI_HIST_BODY, T0)
    clock = ReplayClock(T0, speed=1000)
    transport = ReplayTransport(recording(oi), clock)

    moved = "http://127.0.0.1:8080/futures/data/openInterestHist?limit=1&period=5m&symbol=BTCUSDT"
    response = await replay_get(transport, moved)

    assert response.status_code == 200
    assert response.content == BINANCE_OI_HIST_BODY


async def test_replay_unknown_url_is_404() -> None:
    transport = ReplayTransport(THREE, ReplayClock(T0, speed=1000))

    wrong_path = await replay_get(transport, "https://api.kraken.com/0/public/Ticker?pair=XBTUSD")
    wrong_query = await replay_get(transport, BINANCE_OI_HIST_URL.replace("limit=1", "limit=2"))

    assert wrong_path.status_code == 404
    assert wrong_path.text == "not in recording"
    assert wrong_query.status_code == 404


async def test_replay_loop_restarts_at_the_start() -> None:
    clock = ReplayClock(T0, speed=100)
    transport = ReplayTransport(THREE, clock, loop=True)
    clock.skip_to(T0 + timedelta(seconds=30))

    last = await replay_get(transport, KRAKEN_TIME)
    again = await replay_get(transport, KRAKEN_TIME)

    assert last.content == kraken_time_body(T0 + timedelta(seconds=20))
    assert again.content == kraken_time_body(T0)
    assert clock.now() < T0 + timedelta(seconds=10)
    assert not transport.finished


async def test_replay_without_loop_stays_at_the_end() -> None:
    clock = ReplayClock(T0, speed=100)
    transport = ReplayTransport(THREE, clock)
    assert not transport.finished
    clock.skip_to(T0 + timedelta(seconds=30))

    await replay_get(transport, KRAKEN_TIME)

    assert clock.now() >= T0 + timedelta(seconds=30)
    assert transport.finished


async def test_record_then_replay(tmp_path: Path) -> None:
    """What RecordingTransport writes, ReplayTransport serves back."""
    path = tmp_path / "rec.jsonl.gz"
    with RecordingWriter(path, header()) as w:
        transport = RecordingTransport(httpx.MockTransport(binance_handler), w, FixedClock(T0))
        async with httpx.AsyncClient(transport=transport) as client:
            await client.get(BINANCE_OI_URL + "&api_key=SECRET")

    replay = ReplayTransport(read_recording(path), ReplayClock(T0, speed=1000))
    async with httpx.AsyncClient(transport=replay) as client:
        response = await client.get(BINANCE_OI_URL + "&api_key=OTHER")

    assert response.status_code == 200
    assert response.content == BINANCE_OI_BODY
    assert response.headers["x-mbx-used-weight-1m"] == "7"
