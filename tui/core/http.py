"""The one fetch path: timeouts, a streamed size cap, retries with Retry-After, per-host spacing."""

from __future__ import annotations

import asyncio
import functools
import json
import random
import socket
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Final, cast
from urllib.parse import parse_qsl, urlsplit

import httpx

from tui import __version__
from tui.core.clock import Clock
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
from tui.core.model import Json
from tui.core.redact import REDACTED, SECRET_PARAMS

#: How much of a non-2xx body we keep: enough for a provider message or a challenge page.
ERROR_BODY_LIMIT: Final = 64 * 1024
#: Retry-After values past this are treated as this (Binance 418 bans last up to 3 days).
MAX_RETRY_AFTER_S: Final = 7 * 24 * 3600.0
#: Statuses whose Retry-After means "rate-limited, do not retry now". 418 is Binance's IP ban
#: "for continuing to send requests after receiving 429 codes" (HTTP Return Codes in
#: https://developers.binance.com/docs/derivatives/usds-margined-futures/general-info).
RATE_LIMIT_STATUSES: Final = frozenset({418, 429, 503})
#: Challenge markers. Cloudflare sets ``cf-mitigated: challenge`` on every challenge page
#: (https://developers.cloudflare.com/cloudflare-challenges/challenge-types/challenge-pages/detect-response/);
#: the body markers catch older pages and proxies that drop the header. Real pages carry
#: ``_cf_chl_opt`` / ``__cf_chl_f_tk`` (underscores) more often than ``cf-chl``: both count.
CHALLENGE_MARKERS: Final = (
    b"Just a moment...",
    b"Attention Required! | Cloudflare",
    b"cf-chl",
    b"cf_chl",
)
#: C0 and C1 control characters and DEL: a provider's message must not carry an escape
#: sequence into a terminal (ESC, CSI as U+009B, BEL ending an OSC title), so each becomes a space.
_CONTROLS: Final = {code: " " for code in (*range(0x20), 0x7F, *range(0x80, 0xA0))}


@dataclass(frozen=True, slots=True)
class HttpSettings:
    """Timeouts, size cap and retry policy of the fetch path."""

    connect_timeout_s: float = 5.0
    """Also the wait for a free pooled connection."""
    read_timeout_s: float = 10.0
    """Longest silence between two reads (and for writes)."""
    max_bytes: int = 8 * 1024 * 1024
    """Bodies past this are cut off (TooLargeError); never held whole in memory."""
    retries: int = 2
    """Extra attempts for timeouts, connection errors and 5xx (not 503 with Retry-After)."""
    backoff_base_s: float = 0.5
    """First backoff ceiling; doubles per attempt, with full jitter."""
    backoff_max_s: float = 8.0
    rate_limit_default_s: float = 60.0
    """A 429 without Retry-After: assume this long."""
    total_timeout_s: float = 60.0
    """Whole-attempt deadline, so a body trickling in under the read timeout still ends."""
    user_agent: str = f"btcwatch/{__version__} (+https://github.com/btcwatch/btcwatch)"


@dataclass(frozen=True, slots=True)
class Response:
    """A complete 2xx answer."""

    url: str
    """The final URL (after redirects); may carry a key, so redact it before showing it."""
    status: int
    headers: Mapping[str, str]
    """Case-insensitive (``httpx.Headers``)."""
    body: bytes
    fetched_at: datetime
    """Clock time when the body finished."""
    latency_ms: float
    """Wall time from sending the request to the end of the body."""

    def text(self) -> str:
        """The body as UTF-8, undecodable bytes replaced."""
        return self.body.decode("utf-8", errors="replace")

    def json(self) -> Json:
        """The body decoded as JSON.

        Raises:
            BlockedError: the body is a Cloudflare challenge page.
            ParseError: empty, an HTML page, or not JSON (quoting the first bytes).
        """
        head = self.body.lstrip()
        if not head:
            raise ParseError("empty body")
        if head.startswith(b"<"):
            if _is_challenge(self.headers, self.body):
                raise BlockedError(self.status, "Cloudflare challenge page")
            raise ParseError("got an HTML page where JSON was expected")
        try:  # JSONDecodeError and UnicodeDecodeError are ValueErrors; deep nesting recurses
            return cast(Json, json.loads(self.body))
        except (ValueError, RecursionError):
            raise ParseError(f"not JSON: {self.body[:60]!r}") from None


class HttpClient:
    """One ``httpx.AsyncClient`` behind the error tree of :mod:`tui.core.errors`.

    Args:
        settings: timeouts, size cap and retry policy.
        clock: backoff and spacing sleep on it, so a FixedClock makes them instant.
        transport: MockTransport in tests, recording or replay; ``None`` for the network.
        rng: jitter source (seed it for reproducible tests).
    """

    def __init__(
        self,
        settings: HttpSettings,
        clock: Clock,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.settings = settings
        self._clock = clock
        self._rng = rng or random.Random()
        self._locks: dict[str, asyncio.Lock] = {}
        self._last_start: dict[str, datetime] = {}
        timeout = httpx.Timeout(
            connect=settings.connect_timeout_s,
            read=settings.read_timeout_s,
            write=settings.read_timeout_s,
            pool=settings.connect_timeout_s,
        )
        self._client = httpx.AsyncClient(
            timeout=timeout,
            follow_redirects=True,
            transport=transport,
            verify=_ssl_context() if transport is None else True,
            headers={"User-Agent": settings.user_agent},
        )

    async def __aenter__(self) -> HttpClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool (and the transport)."""
        await self._client.aclose()

    async def get(
        self,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        min_spacing_s: float = 0.0,
        spacing_key: str | None = None,
    ) -> Response:
        """GET ``url`` and return its complete 2xx answer.

        Args:
            url: the full URL (keys in its query never reach an error message).
            headers: extra request headers; they override the defaults (User-Agent too).
            min_spacing_s: at least this long between the starts of two requests to this host.
            spacing_key: whose requests are spaced out together (default: the host's). The
                engine passes the source's name, so one source's spacing never holds back
                another source that shares the host (a proxy, a local test server).

        Raises:
            FetchError: one of its subclasses, and nothing else.
        """
        try:
            parsed = httpx.URL(url)
        except (httpx.InvalidURL, TypeError) as exc:
            raise OfflineError(f"invalid URL ({type(exc).__name__})") from None
        host = f"{parsed.host}:{parsed.port}" if parsed.port else parsed.host
        if spacing_key is not None:
            host = f"{host}|{spacing_key}"
        attempt = 0
        while True:
            await self._space(host, min_spacing_s)
            try:
                return await self._attempt(parsed, headers, url)
            except (TimeoutError_, OfflineError, HTTPStatusError) as exc:
                if attempt >= self.settings.retries or not _retryable(exc):
                    raise
            attempt += 1
            ceiling = self.settings.backoff_base_s * 2 ** (attempt - 1)
            await self._clock.sleep(self._rng.uniform(0, min(self.settings.backoff_max_s, ceiling)))

    async def _space(self, host: str, min_spacing_s: float) -> None:
        """Wait until ``min_spacing_s`` has passed since the last request to ``host`` started."""
        async with self._locks.setdefault(host, asyncio.Lock()):
            last = self._last_start.get(host)
            if last is not None and min_spacing_s > 0:
                wait = min_spacing_s - (self._clock.now() - last).total_seconds()
                if wait > 0:
                    await self._clock.sleep(wait)
            self._last_start[host] = self._clock.now()

    async def _attempt(
        self, url: httpx.URL, headers: Mapping[str, str] | None, raw_url: str
    ) -> Response:
        started = time.monotonic()
        cap = self.settings.max_bytes
        try:
            async with (
                asyncio.timeout(self.settings.total_timeout_s),
                self._client.stream("GET", url, headers=headers) as resp,
            ):
                if resp.is_success:
                    # Refuse a declared oversize body before reading any of it.
                    declared = resp.headers.get("content-length", "")
                    too_big = _is_number(declared) and int(declared) > cap
                    body = None if too_big else await _read(resp, cap)
                    if body is None:
                        raise TooLargeError(f"body over {cap / 2**20:.1f} MB, cut off")
                else:
                    body = await _read(resp, ERROR_BODY_LIMIT, truncate=True) or b""
                fetched_at = self._clock.now()
        except httpx.TimeoutException as exc:
            raise TimeoutError_(_TIMEOUT_WORDS.get(type(exc), "timed out")) from exc
        except TimeoutError as exc:  # the whole-attempt deadline
            raise TimeoutError_(f"no full answer in {self.settings.total_timeout_s:g} s") from exc
        except httpx.ConnectError as exc:
            raise OfflineError(_connect_problem(exc, url.host)) from exc
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise OfflineError(type(exc).__name__) from exc
        if not resp.is_success:
            raise self._status_error(resp.status_code, resp.headers, body, raw_url)
        latency_ms = (time.monotonic() - started) * 1000.0
        return Response(str(resp.url), resp.status_code, resp.headers, body, fetched_at, latency_ms)

    def _status_error(
        self, status: int, headers: httpx.Headers, body: bytes, url: str
    ) -> FetchError:
        """The error a non-2xx answer stands for."""
        if _is_challenge(headers, body):
            return BlockedError(status, "Cloudflare challenge")
        detail = _scrub(_provider_message(status, body), url)
        now = self._clock.now()
        delay = _retry_after_s(headers.get("retry-after"), now)
        if status in RATE_LIMIT_STATUSES and (delay is not None or status != 503):
            delay = self.settings.rate_limit_default_s if delay is None else delay
            return RateLimitedError(
                status, now + timedelta(seconds=min(MAX_RETRY_AFTER_S, delay)), detail
            )
        if status == 403:
            return BlockedError(status, detail)
        if status == 451:
            return GeoBlockedError(status, detail)
        return HTTPStatusError(status, detail)


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    """One shared context: loading the CA bundle costs ~50 ms for every client otherwise."""
    return httpx.create_ssl_context()


_TIMEOUT_WORDS: Final[Mapping[type[httpx.TimeoutException], str]] = {
    httpx.ConnectTimeout: "connect timed out",
    httpx.ReadTimeout: "read timed out",
    httpx.WriteTimeout: "write timed out",
    httpx.PoolTimeout: "no free connection in time",
}


async def _read(resp: httpx.Response, limit: int, *, truncate: bool = False) -> bytes | None:
    """Up to ``limit`` decoded bytes. A longer body stops the reading there: its first ``limit``
    bytes when ``truncate``, else ``None``."""
    parts: list[bytes] = []
    total = 0
    async for chunk in resp.aiter_bytes():
        if total + len(chunk) > limit:
            if not truncate:
                return None
            parts.append(chunk[: limit - total])
            break
        parts.append(chunk)
        total += len(chunk)
    return b"".join(parts)


def _retryable(exc: FetchError) -> bool:
    """Timeouts, connection errors, plain 5xx and 408 are worth another try; refusals are not."""
    if isinstance(exc, TimeoutError_ | OfflineError):
        return True
    # Binance answers 408 when its backend timed out (same general-info page): a retry is fine.
    return type(exc) is HTTPStatusError and (exc.status_code >= 500 or exc.status_code == 408)


def _is_challenge(headers: Mapping[str, str], body: bytes) -> bool:
    if headers.get("cf-mitigated", "").strip().lower() == "challenge":
        return True
    return any(marker in body for marker in CHALLENGE_MARKERS)


def _retry_after_s(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from Retry-After: delay-seconds or an HTTP-date (RFC 9110 §10.2.3)."""
    if value is None:
        return None
    value = value.strip()
    if _is_number(value):
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:  # "-0000" parses naive; an HTTP-date is always GMT
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


def _provider_message(status: int, body: bytes) -> str:
    """``HTTP 400: <provider's message>`` when the body is JSON that has one, else ``HTTP 400``."""
    try:
        doc = json.loads(body)
    except (ValueError, RecursionError):
        return f"HTTP {status}"
    if isinstance(doc, dict):
        for key in ("message", "msg", "retMsg", "error"):
            value = doc.get(key)
            if isinstance(value, dict):  # Deribit: {"error": {"message", "data": {"reason"}}}
                data, value = value.get("data"), value.get("message")
                reason = data.get("reason") if isinstance(data, dict) else None
                if isinstance(value, str) and isinstance(reason, str):
                    value = f"{value} ({reason})"
            if isinstance(value, list):  # Kraken: {"error": ["EGeneral:..."]}
                value = "; ".join(v for v in value if isinstance(v, str))
            if isinstance(value, str) and value.translate(_CONTROLS).strip():
                return f"HTTP {status}: {value.translate(_CONTROLS).strip()[:120]}"
    return f"HTTP {status}"


def _scrub(text: str, url: str) -> str:
    """Replace any secret query value of ``url`` that a provider echoed back in ``text``."""
    for key, value in parse_qsl(urlsplit(url).query):
        if key.lower() in SECRET_PARAMS and len(value) >= 4:
            text = text.replace(value, REDACTED)
    return text


def _connect_problem(exc: BaseException, host: str) -> str:
    """A short reason for a failed connection, from the OS errors under httpx's."""
    causes: list[BaseException] = []
    cause: BaseException | None = exc
    while cause is not None and cause not in causes:  # httpx <- httpcore <- OSError <- ...
        causes.append(cause)
        cause = cause.__cause__ or cause.__context__
    if any(isinstance(c, socket.gaierror) for c in causes):
        return f"DNS lookup failed for {host}"
    if any(isinstance(c, ConnectionRefusedError) for c in causes):
        return "connection refused"
    reasons = [c.strerror for c in causes if isinstance(c, OSError) and c.strerror]
    return reasons[0].lower() if reasons else "could not connect"


def _is_number(text: str) -> bool:
    """ASCII digits only (``str.isdigit`` also accepts ``²``, which ``int()`` refuses)."""
    return text.isascii() and text.isdigit()
