"""The declarative shape of a source: its endpoints, cadence, and a pure parser per endpoint."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final, Literal
from urllib.parse import urlencode

from tui.core.config import Settings
from tui.core.model import DAILY, Json, Observation

Parser = Callable[[Json, datetime], list[Observation]]
"""``parse(body, fetched_at)``: pure; returns observations or raises a ``FetchError`` (usually
``ParseError``; ``RateLimitedError`` for providers that say so inside an HTTP 200)."""


@dataclass(frozen=True, slots=True)
class ParseContext:
    """The few user settings some parsers need (the retest band for put OI, the pivot)."""

    pivot: float = 70_000.0
    retest_low: float = 50_000.0
    retest_high: float = 60_000.0


def parse_context(settings: Settings) -> ParseContext:
    """The :class:`ParseContext` for these settings."""
    band = settings.retest_band
    return ParseContext(settings.pivot, band.low, band.high)


ContextParser = Callable[[Json, datetime, ParseContext], list[Observation]]
"""``parse(body, fetched_at, context)``: a :data:`Parser` that also reads user settings."""


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
    parse_with: ContextParser | None = None
    """Set when the parser needs user settings; ``parse`` then uses the defaults."""
    fallback_for: tuple[str, str] | None = None
    """``(source, endpoint key)`` of the endpoint this one stands in for: asked only while that one
    fails (or its source is disabled), as SOURCES.md §16 pairs a primary with its fallbacks."""

    def read(self, body: Json, fetched_at: datetime, context: ParseContext) -> list[Observation]:
        """Parse ``body`` with ``context`` when this endpoint's parser uses it."""
        if self.parse_with is not None:
            return self.parse_with(body, fetched_at, context)
        return self.parse(body, fetched_at)

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
    key_header: str = "X-Api-Key"
    """The request header that carries the user's key (headers never reach a recording)."""
    user_agent: str | None = None
    """Sent instead of ``btcwatch/<version>`` where the provider turns library agents away."""
    blocked_backoff_s: float = 0.0
    """After a block (403, a challenge page), ask again only this much later (0: next interval)."""
    fallback_for: str | None = None
    """Name of the primary source this one stands in for: polled only while that one fails."""

    @property
    def stale_after(self) -> float:
        """Seconds after which a value from this source is stale."""
        if self.stale_after_s is not None:
            return self.stale_after_s
        return max(60.0, 3 * self.interval_s)


#: Stale limits of derived sources that are not providers.
DERIVED_STALE_AFTER: Final = {DAILY: 4 * 86_400.0}

#: Buckets whose cross-venue readings are published as ``consensus`` (the median price, the
#: OI-weighted funding, the OI total): the consensus is stale when the slowest of them would be.
CONSENSUS_BUCKETS: Final = frozenset({"price", "derivatives"})


def consensus_stale_after(specs: Sequence[SourceSpec], limits: Mapping[str, float]) -> float:
    """The stale limit of ``consensus`` readings: the loosest of the sources that feed them."""
    return max(
        (limits[s.name] for s in specs if s.bucket in CONSENSUS_BUCKETS and s.name in limits),
        default=60.0,
    )
