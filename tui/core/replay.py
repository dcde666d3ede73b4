"""Recording and replaying through httpx: a transport that records, one that answers from a file."""

from __future__ import annotations

import time
from bisect import bisect_right
from datetime import datetime, timedelta
from typing import Final
from urllib.parse import parse_qsl, urlsplit

import httpx

from tui.core.clock import Clock, ReplayClock
from tui.core.model import Exchange
from tui.core.recording import Recording, RecordingWriter, keep_headers
from tui.core.redact import REDACTED, SECRET_HEADERS, SECRET_PARAMS, redact_url

#: A gap is skipped to this long before the next exchange, so the engine's next poll lands on it.
_GAP_LEAD: Final = timedelta(seconds=1)
#: Shorter request secrets are not scrubbed from bodies: too likely to be ordinary text.
_MIN_SECRET_LEN: Final = 8
_FRAMING: Final = frozenset({"content-encoding", "content-length", "transfer-encoding"})


def _request_secrets(request: httpx.Request) -> list[str]:
    """Credential values a request carries, to scrub from what the provider echoes back."""
    found = [v for k, v in request.url.params.multi_items() if k.lower() in SECRET_PARAMS]
    for k, v in request.headers.items():
        if k.lower() in SECRET_HEADERS:
            found += [v, v.split()[-1] if v.split() else v]
    return [s for s in found if len(s) >= _MIN_SECRET_LEN]


class RecordingTransport(httpx.AsyncBaseTransport):
    """Wraps a transport and writes every answered request to a :class:`RecordingWriter`.

    Only :func:`keep_headers` response headers are written; the URL is redacted, and request
    credentials the provider echoes in a body or URL are replaced by ``REDACTED``. Transport errors
    (connect failure, timeout) are re-raised and not recorded.

    Args:
        max_bytes: a longer body is neither read further nor recorded; the caller gets what was
            read, so the fetch path's own size cap trips on it.
    """

    def __init__(
        self,
        inner: httpx.AsyncBaseTransport,
        writer: RecordingWriter,
        clock: Clock,
        *,
        max_bytes: int = 64 * 2**20,
    ) -> None:
        self._inner, self._writer, self._clock = inner, writer, clock
        self._max_bytes = max_bytes

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Forward, read the whole body, record it, and answer with the same status/headers/body."""
        started = time.perf_counter()
        response = await self._inner.handle_async_request(request)
        chunks: list[bytes] = []
        size = 0
        try:
            async for chunk in response.aiter_bytes():
                chunks.append(chunk)
                size += len(chunk)
                if size > self._max_bytes:
                    break
        finally:
            await response.aclose()
        latency_ms, body = (time.perf_counter() - started) * 1000.0, b"".join(chunks)
        # The body is decoded now, so the framing headers no longer describe it; httpx sets length.
        headers = [(k, v) for k, v in response.headers.multi_items() if k.lower() not in _FRAMING]
        answer = httpx.Response(
            response.status_code, headers=headers, content=body, request=request
        )
        if len(body) > self._max_bytes:
            return answer
        url, stored = redact_url(str(request.url)), body
        for secret in _request_secrets(request):
            url = url.replace(secret, REDACTED)
            stored = stored.replace(secret.encode("utf-8"), REDACTED.encode("ascii"))
        kept = keep_headers(response.headers)
        at = self._clock.now()
        self._writer.write(
            Exchange(request.method, url, response.status_code, kept, stored, at, latency_ms)
        )
        return answer

    async def aclose(self) -> None:
        """Close the wrapped transport (the writer belongs to the caller)."""
        await self._inner.aclose()


_Key = tuple[str, str, tuple[tuple[str, str], ...]]


def _loose_key(method: str, url: str) -> _Key:
    """Method, path and sorted query: the same request under another scheme or host."""
    parts = urlsplit(url)
    return method.upper(), parts.path, tuple(sorted(parse_qsl(parts.query, keep_blank_values=True)))


class ReplayTransport(httpx.AsyncBaseTransport):
    """Answers requests from a recording, as it stood at the replay clock's time.

    A request gets the latest exchange of its URL fetched at or before ``clock.now()`` (before the
    first one, the first one). URLs match exactly after redaction, else by method, path and query,
    so a base-URL override still replays. An unknown URL answers 404 ``not in recording``. Gaps
    longer than ``max_gap_s`` (default 15 min: a recorder that stopped, not a slow endpoint) are
    skipped; past the end the clock restarts when ``loop`` is set.
    """

    def __init__(
        self,
        recording: Recording,
        clock: ReplayClock,
        *,
        loop: bool = False,
        max_gap_s: float = 900.0,
    ) -> None:
        self._recording, self._clock = recording, clock
        self._loop, self._max_gap_s = loop, max_gap_s
        self._exact: dict[tuple[str, str], list[Exchange]] = {}
        self._loose: dict[_Key, list[Exchange]] = {}
        for x in recording.exchanges:  # already sorted by fetched_at
            self._exact.setdefault((x.method.upper(), redact_url(x.url)), []).append(x)
            self._loose.setdefault(_loose_key(x.method, x.url), []).append(x)
        self._times = [x.fetched_at for x in recording.exchanges]

    @property
    def finished(self) -> bool:
        """True once the clock is past the recording's end (never when looping)."""
        return not self._loop and self._clock.now() > self._recording.end

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """The recorded answer for this request at the clock's time, or a 404."""
        t = self._clock.now()
        url = redact_url(str(request.url))
        candidates = self._exact.get((request.method.upper(), url)) or self._loose.get(
            _loose_key(request.method, url)
        )
        if candidates:
            i = bisect_right(candidates, t, key=lambda x: x.fetched_at) - 1
            x = candidates[max(i, 0)]
            response = httpx.Response(
                x.status, headers=dict(x.headers), content=x.body, request=request
            )
        else:
            response = httpx.Response(404, text="not in recording", request=request)
        self._advance(t)
        return response

    def _advance(self, t: datetime) -> None:
        """Skip a long gap after ``t``, or restart a looping replay that has run out."""
        i = bisect_right(self._times, t)
        if i == len(self._times):
            if self._loop and self._times:
                self._clock.restart(self._recording.start)
        elif (self._times[i] - t).total_seconds() > self._max_gap_s:
            self._clock.skip_to(self._times[i] - _GAP_LEAD)
