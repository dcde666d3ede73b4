"""tui.core.http against a real HTTP server on 127.0.0.1 (and MockTransport for pure logic)."""

from __future__ import annotations

import asyncio
import json
import random
import socket
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from tests.localserver import LocalServer, Reply, closed_port
from tui import __version__
from tui.core.clock import FixedClock
from tui.core.errors import (
    BlockedError,
    FetchError,
    GeoBlockedError,
    HTTPStatusError,
    OfflineError,
    ParseError,
    RateLimitedError,
    TimeoutError_,
    TooLargeError,
)
from tui.core.http import HttpClient, HttpSettings, Response
from tui.core.model import Status

START = datetime(2026, 2, 5, 14, 0, tzinfo=UTC)
MB = 1024 * 1024
FAST = HttpSettings(connect_timeout_s=0.5, read_timeout_s=0.3)

# Real published bodies (quoted verbatim, trimmed where marked):
# Binance's 451 for a restricted location, as reported from GitHub Actions, a US node and sandboxes
# (e.g. ccxt ExchangeNotAvailable for api.binance.com/api/v3/exchangeInfo).
BINANCE_451 = (
    b'{"code":0,"msg":"Service unavailable from a restricted location according to '
    b"'b. Eligibility' in https://www.binance.com/en/terms. Please contact customer service "
    b'if you believe you received this message in error."}'
)
# Binance error code -1121 INVALID_SYMBOL, answered with HTTP 400 (ccxt's binance error map).
BINANCE_400 = b'{"code":-1121,"msg":"Invalid symbol."}'
# Deribit JSON-RPC error for an unknown instrument (HTTP 400), as quoted in a ccxt user's notes.
DERIBIT_400 = (
    b'{"usOut":1703446335056501,"usIn":1703446335056492,"usDiff":9,"testnet":false,'
    b'"jsonrpc":"2.0","error":{"message":"Invalid params","data":{"reason":"instrument not found",'
    b'"param":"instrument_name"},"code":-32602}}'
)
# A Cloudflare non-interactive challenge page served to python-requests on 18 Jun 2023 (saved in
# GitHub ZhengJie98/Domain-IP-Enrichment, .../https-performance-radar-cloudflare-com-beacon_*.js);
# the head and the challenge script opening, the long tokens cut.
CLOUDFLARE_CHALLENGE = """<!DOCTYPE html>
<html lang="en-US">
<head>
    <title>Just a moment...</title>
    <meta http-equiv="Content-Type" content="text/html; charset=UTF-8">
    <meta name="robots" content="noindex,nofollow">
    <link href="/cdn-cgi/styles/challenges.css" rel="stylesheet">
</head>
<body class="no-js">
<script>
    (function(){
        window._cf_chl_opt={
            cvId: '2',
            cZone: 'performance.radar.cloudflare.com',
            cType: 'non-interactive',
"""


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """A proxy in the environment would swallow requests meant for 127.0.0.1."""
    for name in (
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
    ):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def server() -> Iterator[LocalServer]:
    with LocalServer() as s:
        yield s


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


async def fetch(
    url: str,
    clock: FixedClock,
    settings: HttpSettings = FAST,
    headers: dict[str, str] | None = None,
) -> Response:
    """One GET through a fresh client (the real transport, so the real 127.0.0.1 socket)."""
    async with HttpClient(settings, clock, rng=random.Random(7)) as http:
        return await http.get(url, headers=headers)


# --- success ----------------------------------------------------------------------------------


async def test_200_json_with_user_agent(server: LocalServer, clock: FixedClock) -> None:
    doc = {"price": "70123.45", "time": "2026-02-05T14:00:00.123Z"}
    server.route("/ticker", Reply.json(doc))
    response = await fetch(server.url("/ticker?pair=BTC-USD"), clock)
    assert response.status == 200
    assert response.json() == doc
    assert response.headers["content-type"] == "application/json"
    assert response.fetched_at == START
    assert response.latency_ms > 0
    (seen,) = server.seen("/ticker")
    assert seen.path == "/ticker?pair=BTC-USD"
    assert seen.headers["user-agent"].startswith(f"btcwatch/{__version__} (+https://")


async def test_headers_override_user_agent(server: LocalServer, clock: FixedClock) -> None:
    server.route("/chart", Reply.json({}))
    await fetch(server.url("/chart"), clock, headers={"user-agent": "Mozilla/5.0", "X-Test": "1"})
    (seen,) = server.seen("/chart")
    assert seen.headers["user-agent"] == "Mozilla/5.0"
    assert seen.headers["x-test"] == "1"


async def test_redirect_is_followed(server: LocalServer, clock: FixedClock) -> None:
    server.route("/old", Reply(status=301, headers={"Location": "/new"}))
    server.route("/new", Reply.json([1, 2]))
    response = await fetch(server.url("/old"), clock)
    assert response.json() == [1, 2]
    assert response.url == server.url("/new")


async def test_text_replaces_bad_utf8(server: LocalServer, clock: FixedClock) -> None:
    server.route("/csv", Reply(body=b"DATE,DGS10\n2026-02-05,4.2\xff\n"))
    response = await fetch(server.url("/csv"), clock)
    assert response.text() == "DATE,DGS10\n2026-02-05,4.2\ufffd\n"


# --- rate limits ------------------------------------------------------------------------------


async def test_429_retry_after_seconds_is_not_retried(
    server: LocalServer, clock: FixedClock
) -> None:
    server.route("/fapi", Reply(status=429, headers={"Retry-After": "120"}))
    with pytest.raises(RateLimitedError) as info:
        await fetch(server.url("/fapi"), clock)
    until = START + timedelta(seconds=120)
    assert info.value.status_code == 429
    assert info.value.until == until
    assert info.value.missing().text() == f"rate-limited until {until:%H:%M} UTC"
    assert info.value.missing().text() == "rate-limited until 14:02 UTC"
    assert len(server.seen("/fapi")) == 1
    assert clock.now() == START  # no backoff sleep either


async def test_429_retry_after_http_date(server: LocalServer, clock: FixedClock) -> None:
    until = START + timedelta(minutes=7)
    server.route(
        "/x", Reply(status=429, headers={"Retry-After": format_datetime(until, usegmt=True)})
    )
    with pytest.raises(RateLimitedError) as info:
        await fetch(server.url("/x"), clock)
    assert info.value.until == until
    assert len(server.seen("/x")) == 1


async def test_429_without_retry_after_assumes_default(
    server: LocalServer, clock: FixedClock
) -> None:
    # Yahoo's throttle: plain text, no Retry-After (SOURCES.md, Yahoo).
    server.route("/v8", Reply.text("Edge: Too Many Requests", status=429))
    settings = HttpSettings(read_timeout_s=0.3, rate_limit_default_s=90.0)
    with pytest.raises(RateLimitedError) as info:
        await fetch(server.url("/v8"), clock, settings)
    assert info.value.until == START + timedelta(seconds=90)
    assert info.value.detail == "HTTP 429"
    assert len(server.seen("/v8")) == 1


async def test_503_with_retry_after_is_rate_limited(server: LocalServer, clock: FixedClock) -> None:
    server.route("/m", Reply(status=503, headers={"Retry-After": "30"}))
    with pytest.raises(RateLimitedError) as info:
        await fetch(server.url("/m"), clock)
    assert info.value.until == START + timedelta(seconds=30)
    assert len(server.seen("/m")) == 1


@pytest.mark.parametrize(
    ("retry_after", "expected_s"),
    [
        ("0", 0.0),
        ("Thu, 05 Feb 2026 14:05:00 -0000", 300.0),  # parses naive: still GMT
        ("Thu, 05 Feb 2026 13:00:00 GMT", 0.0),  # in the past: ask again now
        ("soon", 60.0),  # unreadable: as if absent
        ("\u00b2", 60.0),  # isdigit() but not a number
        ("99999999999999999999", 7 * 24 * 3600.0),  # capped
    ],
)
async def test_retry_after_forms(clock: FixedClock, retry_after: str, expected_s: float) -> None:
    # Header bytes as they come off the wire (httpx decodes non-ASCII ones as Latin-1).
    header = (b"Retry-After", retry_after.encode("latin-1"))
    transport = httpx.MockTransport(lambda r: httpx.Response(429, headers=[header]))
    async with HttpClient(HttpSettings(), clock, transport=transport) as http:
        with pytest.raises(RateLimitedError) as info:
            await http.get("https://fapi.binance.com/fapi/v1/premiumIndex")
    assert info.value.until == START + timedelta(seconds=expected_s)


async def test_418_ban_is_rate_limited(clock: FixedClock) -> None:
    # Binance answers 418 with Retry-After once an IP ignored its 429s (SOURCES.md §6).
    transport = httpx.MockTransport(lambda r: httpx.Response(418, headers={"Retry-After": "7200"}))
    async with HttpClient(HttpSettings(), clock, transport=transport) as http:
        with pytest.raises(RateLimitedError) as info:
            await http.get("https://fapi.binance.com/fapi/v1/openInterest?symbol=BTCUSDT")
    assert info.value.until == START + timedelta(hours=2)


# --- retries ----------------------------------------------------------------------------------


async def test_503_without_retry_after_is_retried(server: LocalServer, clock: FixedClock) -> None:
    server.route("/fees", Reply(status=503), Reply.json({"fastestFee": 3}))
    response = await fetch(server.url("/fees"), clock)
    assert response.json() == {"fastestFee": 3}
    assert len(server.seen("/fees")) == 2
    assert START < clock.now() <= START + timedelta(seconds=0.5)  # one backoff, within its ceiling


async def test_500_every_time_gives_up_after_retries(
    server: LocalServer, clock: FixedClock
) -> None:
    server.route("/down", Reply(status=500))
    with pytest.raises(HTTPStatusError) as info:
        await fetch(server.url("/down"), clock)
    assert type(info.value) is HTTPStatusError
    assert info.value.status_code == 500
    assert info.value.missing().text() == "http error: HTTP 500"
    assert len(server.seen("/down")) == 1 + FAST.retries


async def test_408_is_retried(clock: FixedClock) -> None:
    # Binance: "HTTP 408 return code is used when a timeout has occurred while waiting for a
    # response from the backend server" (USDS-M futures General Info, HTTP Return Codes).
    answers = iter([httpx.Response(408), httpx.Response(200, json={"ok": True})])
    transport = httpx.MockTransport(lambda r: next(answers))
    async with HttpClient(HttpSettings(), clock, transport=transport) as http:
        response = await http.get("https://fapi.binance.com/fapi/v1/premiumIndex")
    assert response.json() == {"ok": True}


async def test_backoff_is_jittered_and_capped() -> None:
    sleeps: list[float] = []

    class Recording(FixedClock):
        async def sleep(self, seconds: float) -> None:
            sleeps.append(seconds)
            await super().sleep(seconds)

    settings = HttpSettings(retries=6, backoff_base_s=0.5, backoff_max_s=4.0)
    transport = httpx.MockTransport(lambda r: httpx.Response(502))
    async with HttpClient(
        settings, Recording(START), transport=transport, rng=random.Random(1)
    ) as h:
        with pytest.raises(HTTPStatusError):
            await h.get("https://mempool.space/api/v1/fees/recommended")
    ceilings = [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    assert len(sleeps) == len(ceilings)
    assert all(0 <= s <= c for s, c in zip(sleeps, ceilings, strict=True))
    assert len(set(sleeps)) == len(sleeps)  # jitter: not a fixed schedule


async def test_unexpected_httpx_error_becomes_offline(clock: FixedClock) -> None:
    calls = 0

    def broken(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        raise httpx.RemoteProtocolError("peer closed connection", request=request)

    async with HttpClient(HttpSettings(), clock, transport=httpx.MockTransport(broken)) as http:
        with pytest.raises(OfflineError, match="RemoteProtocolError"):
            await http.get("https://www.deribit.com/api/v2/public/get_index_price")
    assert calls == 3


# --- timeouts ---------------------------------------------------------------------------------


async def test_slow_headers_time_out(server: LocalServer, clock: FixedClock) -> None:
    server.route("/slow", Reply.json({}, delay_s=3.0))
    settings = HttpSettings(connect_timeout_s=0.5, read_timeout_s=0.3, retries=1)
    started = time.monotonic()
    with pytest.raises(TimeoutError_) as info:
        await fetch(server.url("/slow"), clock, settings)
    assert time.monotonic() - started < 1.5
    assert info.value.missing().reason is Status.TIMEOUT
    assert info.value.detail == "read timed out"
    assert len(server.seen("/slow")) == 2  # timeouts are retried


async def test_body_stalling_midway_times_out(server: LocalServer, clock: FixedClock) -> None:
    body = json.dumps({"result": [{"mark_price": 70000.5}] * 50}).encode()
    server.route("/book", Reply(body=body, stall_after=100, stall_s=3.0))
    settings = HttpSettings(read_timeout_s=0.3, retries=0)
    started = time.monotonic()
    with pytest.raises(TimeoutError_, match="read timed out"):
        await fetch(server.url("/book"), clock, settings)
    assert time.monotonic() - started < 1.5
    assert server.wait_idle()
    (seen,) = server.seen("/book")
    assert seen.bytes_sent == 100
    assert not seen.complete


async def test_trickling_body_hits_total_deadline(server: LocalServer, clock: FixedClock) -> None:
    # Each piece arrives within the read timeout, so only the whole-attempt deadline ends it.
    server.route("/drip", Reply(body=b"[1,", endless=True, piece_size=3, drip_s=0.1))
    settings = HttpSettings(read_timeout_s=0.3, total_timeout_s=0.5, retries=0)
    started = time.monotonic()
    with pytest.raises(TimeoutError_, match=r"no full answer in 0\.5 s"):
        await fetch(server.url("/drip"), clock, settings)
    assert time.monotonic() - started < 1.5


# --- size cap ---------------------------------------------------------------------------------


async def test_declared_oversize_body_is_refused_unread(
    server: LocalServer, clock: FixedClock
) -> None:
    size = 20 * MB
    server.route("/huge", Reply(size=size, headers={"Content-Type": "application/json"}))
    with pytest.raises(TooLargeError) as info:
        await fetch(server.url("/huge"), clock, HttpSettings(read_timeout_s=2.0))
    assert str(info.value) == "body over 8.0 MB, cut off"
    assert info.value.missing().reason is Status.TOO_LARGE
    assert server.wait_idle()
    (seen,) = server.seen("/huge")
    assert not seen.complete
    # Only what the kernel's socket buffers took got out (~0.3 MB here): not even the cap's worth.
    assert seen.bytes_sent < HttpSettings().max_bytes


async def test_chunked_body_without_length_is_capped(
    server: LocalServer, clock: FixedClock
) -> None:
    server.route("/endless", Reply(body=b'{"a":1},', endless=True))
    settings = HttpSettings(read_timeout_s=2.0, max_bytes=1 * MB)
    with pytest.raises(TooLargeError, match=r"^body over 1\.0 MB, cut off$"):
        await fetch(server.url("/endless"), clock, settings)
    assert server.wait_idle()
    (seen,) = server.seen("/endless")
    assert not seen.complete  # the client hung up; an endless reply only ends that way here
    assert seen.bytes_sent < 8 * MB  # the 1 MB read plus what the socket buffers held


async def test_chunked_body_under_cap_is_whole(server: LocalServer, clock: FixedClock) -> None:
    server.route("/chunks", Reply(body=b"0123456789", size=MB - 1, chunked=True))
    response = await fetch(server.url("/chunks"), clock, HttpSettings(max_bytes=MB))
    assert len(response.body) == MB - 1
    assert response.body.startswith(b"0123456789012")
    assert "content-length" not in response.headers


@pytest.mark.parametrize(("size", "fits"), [(1000, True), (1001, False)])
async def test_cap_boundary_on_a_stream(clock: FixedClock, size: int, fits: bool) -> None:
    async def pieces() -> AsyncIterator[bytes]:  # no Content-Length: only the running total counts
        for _ in range(size // 100):
            yield b"7" * 100
        yield b"7" * (size % 100)

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=pieces())

    settings = HttpSettings(max_bytes=1000)
    async with HttpClient(settings, clock, transport=httpx.MockTransport(answer)) as http:
        if fits:
            assert len((await http.get("https://x.test/")).body) == size
        else:
            with pytest.raises(TooLargeError):
                await http.get("https://x.test/")


# --- connection errors ------------------------------------------------------------------------


async def test_connection_refused_is_offline(clock: FixedClock) -> None:
    with pytest.raises(OfflineError) as info:
        await fetch(f"http://127.0.0.1:{closed_port()}/api/v1/prices", clock)
    assert info.value.detail == "connection refused"
    assert info.value.missing().text() == "offline: connection refused"


async def test_dns_failure_is_offline(clock: FixedClock) -> None:
    # The chain httpx raises when getaddrinfo fails (checked against a real lookup of *.invalid).
    def no_dns(request: httpx.Request) -> httpx.Response:
        try:
            raise socket.gaierror(-2, "Name or service not known")
        except socket.gaierror as exc:
            raise httpx.ConnectError(str(exc), request=request) from exc

    async with HttpClient(HttpSettings(), clock, transport=httpx.MockTransport(no_dns)) as http:
        with pytest.raises(OfflineError) as info:
            await http.get("https://mempool.example.invalid/api/v1/prices")
    assert info.value.detail == "DNS lookup failed for mempool.example.invalid"


# --- refusals ---------------------------------------------------------------------------------


async def test_403_cloudflare_page_is_blocked(server: LocalServer, clock: FixedClock) -> None:
    server.route("/btc/", Reply.text(CLOUDFLARE_CHALLENGE, status=403, content_type="text/html"))
    with pytest.raises(BlockedError) as info:
        await fetch(server.url("/btc/"), clock)
    assert "Cloudflare" in str(info.value)
    assert info.value.missing().text() == "blocked: Cloudflare challenge"
    assert len(server.seen("/btc/")) == 1


async def test_503_challenge_header_is_blocked_not_retried(
    server: LocalServer, clock: FixedClock
) -> None:
    server.route("/flows", Reply(status=503, headers={"cf-mitigated": "challenge"}))
    with pytest.raises(BlockedError, match="Cloudflare challenge"):
        await fetch(server.url("/flows"), clock)
    assert len(server.seen("/flows")) == 1


async def test_plain_403_is_blocked(server: LocalServer, clock: FixedClock) -> None:
    server.route("/v5/market/tickers", Reply.text("Forbidden", status=403))
    with pytest.raises(BlockedError) as info:
        await fetch(server.url("/v5/market/tickers"), clock)
    assert info.value.detail == "HTTP 403"
    assert "Cloudflare" not in str(info.value)


async def test_451_is_geo_blocked_with_the_provider_message(
    server: LocalServer, clock: FixedClock
) -> None:
    server.route("/fapi/v1/premiumIndex", Reply(status=451, body=BINANCE_451))
    with pytest.raises(GeoBlockedError) as info:
        await fetch(server.url("/fapi/v1/premiumIndex?symbol=BTCUSDT"), clock)
    assert info.value.status_code == 451
    assert info.value.detail.startswith("HTTP 451: Service unavailable from a restricted location")
    assert info.value.missing().reason is Status.GEO_BLOCKED
    assert len(server.seen("/fapi/v1/premiumIndex")) == 1


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (BINANCE_400, "HTTP 400: Invalid symbol."),
        (DERIBIT_400, "HTTP 400: Invalid params (instrument not found)"),
        (b"<html><body>Bad Request</body></html>", "HTTP 400"),
    ],
    ids=["binance", "deribit", "html"],
)
async def test_4xx_detail(server: LocalServer, clock: FixedClock, body: bytes, detail: str) -> None:
    server.route("/q", Reply(status=400, body=body))
    with pytest.raises(HTTPStatusError) as info:
        await fetch(server.url("/q"), clock)
    assert type(info.value) is HTTPStatusError
    assert info.value.detail == detail
    assert len(server.seen("/q")) == 1  # 4xx are not retried


async def test_404_without_message(server: LocalServer, clock: FixedClock) -> None:
    with pytest.raises(HTTPStatusError) as info:  # no route: an empty 404
        await fetch(server.url("/api/nope"), clock)
    assert str(info.value) == "HTTP 404"


# --- bodies that are not JSON -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "error", "message"),
    [
        (
            b"\n  <!DOCTYPE html><html><head><title>Page</title>",
            ParseError,
            "got an HTML page where JSON was expected",
        ),
        (CLOUDFLARE_CHALLENGE.encode(), BlockedError, "Cloudflare challenge page"),
        (
            b"Exceeded the daily hits limit",
            ParseError,
            "not JSON: b'Exceeded the daily hits limit'",
        ),
        (b"  \r\n", ParseError, "empty body"),
        (b"", ParseError, "empty body"),
    ],
    ids=["html", "cloudflare", "stooq-quota-text", "blank", "empty"],
)
async def test_json_refuses(
    server: LocalServer, clock: FixedClock, body: bytes, error: type[FetchError], message: str
) -> None:
    server.route("/doc", Reply(body=body))
    response = await fetch(server.url("/doc"), clock)
    with pytest.raises(error) as info:
        response.json()
    assert type(info.value) is error
    assert str(info.value) == message


def test_json_garbage_is_quoted_short_and_safe() -> None:
    body = b"\x00\xff\xfe garbage " * 20
    response = Response("https://x.test/", 200, {}, body, START, 1.0)
    with pytest.raises(ParseError) as info:
        response.json()
    assert str(info.value).startswith("not JSON: b'\\x00\\xff\\xfe garbage ")
    assert repr(body[:60]) in str(info.value)
    assert "\n" not in str(info.value)


def test_json_too_deep_is_a_parse_error() -> None:
    response = Response("https://x.test/", 200, {}, b"[" * 100_000, START, 1.0)
    with pytest.raises(ParseError, match=r"^not JSON: b'\[\[\["):
        response.json()


# --- spacing ----------------------------------------------------------------------------------


async def test_per_host_spacing(server: LocalServer, clock: FixedClock) -> None:
    server.route("/a", Reply.json(1))
    async with HttpClient(FAST, clock) as http:
        await http.get(server.url("/a"), min_spacing_s=1.0)
        assert clock.now() == START  # the first request does not wait
        await http.get(server.url("/a"), min_spacing_s=1.0)
    assert clock.now() - START >= timedelta(seconds=1.0)
    assert len(server.seen("/a")) == 2


async def test_spacing_is_per_host_and_queues_concurrent_requests(clock: FixedClock) -> None:
    starts: list[tuple[str, datetime]] = []

    def answer(request: httpx.Request) -> httpx.Response:
        starts.append((request.url.host, clock.now()))
        return httpx.Response(200, json={})

    async with HttpClient(HttpSettings(), clock, transport=httpx.MockTransport(answer)) as http:
        await asyncio.gather(
            *(
                http.get(f"https://api.kraken.com/0/public/Ticker?n={i}", min_spacing_s=2.0)
                for i in range(3)
            ),
            http.get("https://www.bitstamp.net/api/v2/ticker/btcusd/", min_spacing_s=2.0),
        )
    kraken = sorted(t for host, t in starts if host == "api.kraken.com")
    assert [(t - START).total_seconds() for t in kraken] == [0.0, 2.0, 4.0]
    assert len(starts) == 4


# --- secrets ----------------------------------------------------------------------------------

KEY = "gn-SECRET-9f8e7d6c5b4a"


@pytest.mark.parametrize(
    "reply",
    [
        Reply.json({"message": f"invalid api_key {KEY}"}, status=401),
        Reply.json({"error": f"unknown key {KEY}"}, status=500),
        Reply.json({"msg": KEY}, status=429),
        Reply(status=451, body=json.dumps({"msg": f"restricted ({KEY})"}).encode()),
        Reply(status=200, delay_s=2.0),
    ],
)
async def test_api_key_never_in_error(server: LocalServer, clock: FixedClock, reply: Reply) -> None:
    server.route("/v1/metrics/indicators/realized_loss", reply)
    url = server.url(f"/v1/metrics/indicators/realized_loss?a=BTC&api_key={KEY}")
    with pytest.raises(FetchError) as info:
        await fetch(url, clock, HttpSettings(read_timeout_s=0.3, retries=0))
    for text in (str(info.value), repr(info.value), info.value.detail, info.value.missing().text()):
        assert KEY not in text
    assert len(server.seen("/v1/metrics/indicators/realized_loss")) == 1


async def test_api_key_not_in_offline_error(clock: FixedClock) -> None:
    with pytest.raises(OfflineError) as info:
        await fetch(f"http://127.0.0.1:{closed_port()}/v1?api_key={KEY}", clock)
    assert KEY not in str(info.value)


async def test_invalid_url_is_offline(clock: FixedClock) -> None:
    with pytest.raises(OfflineError) as info:
        await fetch(f"http://[bad-host/?api_key={KEY}", clock)
    assert KEY not in str(info.value)
