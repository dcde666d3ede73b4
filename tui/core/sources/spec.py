"""The declarative shape of a source: its endpoints, cadence, and a pure parser per endpoint."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal
from urllib.parse import urlencode

from tui.core.model import Json, Observation

Parser = Callable[[Json, datetime], list[Observation]]
"""``parse(body, fetched_at)``: pure; returns observations or raises a ``FetchError`` (usually
``ParseError``; ``RateLimitedError`` for providers that say so inside an HTTP 200)."""


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One request a source makes, and how to read its answer."""

    key: str
    """Short stable name within the source (``ticker``, ``candles``): used in the store and UI."""
    path: str
    """Appended to the source's base URL (which may carry a path prefix, as behind a proxy)."""
    parse: Parser
    params: Mapping[str, str] = field(default_factory=dict)
    interval_s: float | None = None
    """How often to fetch it; ``None`` means the source's interval."""
    format: Literal["json", "text"] = "json"
    """``json``: the parser gets the decoded document; ``text``: the body as ``str``."""

    def url(self, base_url: str) -> str:
        """The full URL under ``base_url``."""
        url = base_url.rstrip("/") + "/" + self.path.lstrip("/")
        return f"{url}?{urlencode(dict(self.params))}" if self.params else url


@dataclass(frozen=True, slots=True)
class SourceSpec:
    """A provider: name, bucket, endpoints and defaults. Config may override the defaults."""

    name: str
    """Lower-case provider name from SOURCES.md; the config section ``[sources.<name>]``."""
    title: str
    """How people name it (``Coinbase Exchange``)."""
    bucket: str
    """DOMAIN.md bucket: ``price``, ``derivatives``, ``options``, ``flows``, ``onchain``, ..."""
    base_url: str
    endpoints: tuple[Endpoint, ...]
    interval_s: float
    """Default seconds between fetches of an endpoint without its own interval."""
    docs_url: str
    """Where the provider documents these endpoints (shown in the drill-down)."""
    stale_after_s: float | None = None
    """Values older than this are stale; ``None`` means three intervals, at least 60 s."""
    min_spacing_s: float = 0.0
    """Minimum seconds between two requests to this provider's host (its published limits)."""
    needs_key: bool = False

    @property
    def stale_after(self) -> float:
        """Seconds after which a value from this source is stale."""
        if self.stale_after_s is not None:
            return self.stale_after_s
        return max(60.0, 3 * self.interval_s)
