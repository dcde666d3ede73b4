"""The fault suite's server: every source's endpoints answered from recorded bodies, one faulted."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from urllib.parse import urlsplit

import pytest

from tests.localserver import LocalServer, Reply, Seen
from tui.core.sources.spec import SourceSpec


class SourceServer(LocalServer):
    """A :class:`LocalServer` that tells endpoints apart by path *and* query.

    Several endpoints share a path and differ by query (Deribit's index and DVOL, OKX's two
    swaps, every FRED series), so each source is served under a prefix of its own
    (``/<source>/...``) and each endpoint under its full path and query.
    """

    def __init__(self) -> None:
        super().__init__()
        self._by_url: dict[tuple[str, str], list[Reply]] = {}
        self.times: dict[tuple[str, str], list[float]] = {}
        """When each endpoint was asked (``time.monotonic()``), by path and query."""
        self._guard = threading.Lock()

    def base_for(self, spec: SourceSpec) -> str:
        """The base URL that ``spec`` is served under."""
        return self.url(f"/{spec.name}")

    def serve(self, spec: SourceSpec, replies: Mapping[str, Sequence[Reply]]) -> None:
        """Answer each endpoint key of ``spec`` with its replies in turn (the last repeats)."""
        base = self.base_for(spec)
        for ep in spec.endpoints:
            if ep.key in replies:
                with self._guard:
                    self._by_url[_key(ep.url(base))] = list(replies[ep.key])

    def next_reply(self, seen: Seen) -> Reply:
        """The scripted reply for the request's path and query (404 when none is)."""
        with self._lock:
            self.requests.append(seen)
        key = _key(seen.path)
        with self._guard:
            self.times.setdefault(key, []).append(time.monotonic())
            queue = self._by_url.get(key)
            if not queue:
                return Reply(status=404)
            return queue.pop(0) if len(queue) > 1 else queue[0]

    def asked_at(self, spec: SourceSpec, key: str) -> list[float]:
        """When the endpoint ``key`` of ``spec`` was asked (monotonic seconds)."""
        ep = next(e for e in spec.endpoints if e.key == key)
        with self._guard:
            return list(self.times.get(_key(ep.url(self.base_for(spec))), []))

    def asked(self, spec: SourceSpec) -> list[Seen]:
        """The requests made under ``spec``'s prefix."""
        prefix = f"/{spec.name}/"
        with self._lock:
            return [s for s in self.requests if s.path.startswith(prefix)]


def _key(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.path, parts.query


@pytest.fixture
def server() -> Iterator[SourceServer]:
    s = SourceServer()
    s.start()
    try:
        yield s
    finally:
        s.stop()
