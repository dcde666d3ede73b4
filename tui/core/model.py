"""The data model: observations, missing values with their reasons, source statuses, the Board."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Final, Literal, TypeVar

#: A decoded JSON document, as parsers receive it.
Json = dict[str, "Json"] | list["Json"] | str | int | float | bool | None

Mode = Literal["live", "demo", "replay"]

#: The source name under which derived (cross-venue) readings are published.
CONSENSUS: Final = "consensus"
#: The source name of readings derived from daily closes (``macro.corr30d.*``): as old as their
#: last common trading day, so they have a stale limit of their own (a long weekend).
DAILY: Final = "daily"


class Status(StrEnum):
    """Why a source has, or has not, a fresh value. The words are what users read."""

    OK = "ok"
    PENDING = "pending"
    """Enabled but not answered yet (start-up)."""
    DISABLED = "disabled"
    OFFLINE = "offline"
    """Connection refused, DNS failure, network unreachable."""
    TIMEOUT = "timeout"
    RATE_LIMITED = "rate-limited"
    BLOCKED = "blocked"
    """403 or a challenge page (Cloudflare, WAF)."""
    GEO_BLOCKED = "geo-blocked"
    """451: the provider refuses this location."""
    NEEDS_KEY = "needs key"
    HTTP_ERROR = "http error"
    TOO_LARGE = "too large"
    PARSE_ERROR = "parse error"
    STALE = "stale"
    """The last value is older than the source's stale limit."""


@dataclass(frozen=True, slots=True)
class Observation:
    """One value a parser read from a provider, or the engine derived.

    Units are fixed per id (DOMAIN.md's signal catalogue); the UI formats them.
    """

    id: str
    """Stable catalogue id, e.g. ``btc.price.kraken``."""
    value: float
    unit: str
    """``USD``, ``%``, ``% per 8h``, ``vol pts``, ..."""
    source: str
    """Lower-case provider name, or ``consensus`` for derived readings."""
    observed_at: datetime
    """When the value was true: the provider's timestamp if it gives one, else the fetch time."""

    def __post_init__(self) -> None:
        if self.observed_at.tzinfo is None:
            raise ValueError(f"{self.id}: observed_at must be timezone-aware")
        if not math.isfinite(self.value):
            raise ValueError(f"{self.id}: value must be finite, got {self.value!r}")

    def age_s(self, now: datetime) -> float:
        """Seconds between ``observed_at`` and ``now`` (never negative)."""
        return max(0.0, (now - self.observed_at).total_seconds())


@dataclass(frozen=True, slots=True)
class Missing:
    """Why a value is absent. Never shown as zero: shown as its ``text()``."""

    reason: Status
    detail: str = ""
    """Short, single-line, plain text (HTTP status, the parse failure, ...)."""
    until: datetime | None = None
    """For rate limits: when the provider said we may ask again."""
    age_s: float | None = None
    """For stale values: how old the last value is."""

    def text(self) -> str:
        """One line for people: ``rate-limited until 14:05``, ``parse error: expected 'result'``."""
        if self.reason is Status.RATE_LIMITED and self.until is not None:
            return f"rate-limited until {self.until.astimezone(UTC):%H:%M} UTC"
        if self.reason is Status.STALE and self.age_s is not None:
            return f"stale {format_age(self.age_s)}"
        if self.detail:
            return f"{self.reason.value}: {self.detail}"
        return self.reason.value


@dataclass(frozen=True, slots=True)
class Reading:
    """An observation as shown at a moment: with its age and whether it is stale."""

    observation: Observation
    age_s: float
    stale: bool

    @property
    def id(self) -> str:
        """The catalogue id."""
        return self.observation.id


@dataclass(frozen=True, slots=True)
class SourceStatus:
    """The state of one source (or ``consensus``) after its last attempt."""

    name: str
    status: Status
    detail: str = ""
    """One plain line; for rate limits it includes the time (``Missing.text()``)."""
    last_ok_at: datetime | None = None
    last_attempt_at: datetime | None = None
    until: datetime | None = None
    """Rate-limited until this time; the engine does not ask before."""
    latency_ms: float | None = None
    """Of the last completed request."""
    bytes: int | None = None
    """Body size of the last completed request."""

    @classmethod
    def from_missing(
        cls, name: str, missing: Missing, *, last_ok_at: datetime | None, at: datetime
    ) -> SourceStatus:
        """A failed attempt, keeping the last success time."""
        return cls(
            name=name,
            status=missing.reason,
            detail=missing.text(),
            last_ok_at=last_ok_at,
            last_attempt_at=at,
            until=missing.until,
        )

    @property
    def ok(self) -> bool:
        """True when the last attempt answered."""
        return self.status is Status.OK


def format_age(seconds: float) -> str:
    """``4s``, ``7m``, ``3h``, ``2d``: the compact age used everywhere."""
    s = int(max(0.0, seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m"
    if s < 86400:
        return f"{s // 3600}h"
    return f"{s // 86400}d"


class RowState(StrEnum):
    """A checklist row's state; the words are what users read."""

    BULLISH = "bullish confirmed"
    BEARISH = "bearish continuing"
    NEUTRAL = "neutral"
    WAITING = "waiting"
    """An input has no reading yet (its source is missing or not built)."""
    STALE = "stale"
    """An input's latest reading is too old to judge by."""


@dataclass(frozen=True, slots=True)
class RuleResult:
    """One checklist row, evaluated: its state, why, and since when."""

    key: str
    """The row's id in config and the store (``funding``, ``skew``, ...)."""
    title: str
    state: RowState
    reason: str
    """One plain sentence: ``funding -0.004 %/8h OI-weighted, negative for 11 h``."""
    since: datetime | None
    """When the row entered this state (``None``: waiting, or unknown)."""
    readings: tuple[Observation, ...] = ()
    """The readings behind the state, as they were when it was judged."""
    key_reading: str = ""
    """The one figure the pane shows beside the state (formatted)."""


Call = Literal["holding", "contested", "retest risk", "no data"]


@dataclass(frozen=True, slots=True)
class Verdict:
    """The article's hold-versus-retest framework, counted."""

    call: Call
    holding: tuple[tuple[str, bool | None], ...]
    """The conditions for holding $70k, each held (True), not (False) or unknown (None)."""
    retest: tuple[tuple[str, bool | None], ...]
    """The conditions for a retest, likewise."""
    position: str
    """Where price is against the pivot: ``above $70,000 by 1.2 %``, or why unknown."""
    steps: tuple[tuple[str, bool | None], ...]
    """What the next test of the pivot needs, in order, each ticked or not."""
    since: datetime | None = None

    @property
    def holding_count(self) -> int:
        """How many holding conditions hold."""
        return sum(1 for _, ok in self.holding if ok)

    @property
    def retest_count(self) -> int:
        """How many retest conditions hold."""
        return sum(1 for _, ok in self.retest if ok)


K = TypeVar("K")
V = TypeVar("V")


def _frozen(data: Mapping[K, V]) -> Mapping[K, V]:
    return MappingProxyType(dict(data))


@dataclass(frozen=True, slots=True)
class Board:
    """The whole latest state, immutable: what every screen and ``snapshot`` renders.

    ``observations`` holds the latest observation per ``(id, source)``; ``stale_after`` says, per
    source, how old a value may be before it is stale.
    """

    mode: Mode
    generated_at: datetime
    observations: Mapping[tuple[str, str], Observation] = field(default_factory=dict)
    statuses: Mapping[str, SourceStatus] = field(default_factory=dict)
    stale_after: Mapping[str, float] = field(default_factory=dict)
    checklist: tuple[RuleResult, ...] = ()
    """The checklist rows, as last evaluated (empty until the first evaluation)."""
    verdict: Verdict | None = None

    def with_updates(
        self,
        *,
        now: datetime,
        observations: Iterable[Observation] = (),
        statuses: Iterable[SourceStatus] = (),
        stale_after: Mapping[str, float] | None = None,
        replacing: Iterable[Observation] = (),
    ) -> Board:
        """A new Board with these observations and statuses applied (newer values win).

        ``replacing``: readings derived afresh from the Board itself (the consensus). They
        replace the old ones whatever their time: a consensus is as old as its oldest input, so
        one formed from more venues can carry an earlier time than the one it corrects.
        """
        obs = dict(self.observations)
        for o in observations:
            key = (o.id, o.source)
            old = obs.get(key)
            if old is None or o.observed_at >= old.observed_at:
                obs[key] = o
        for o in replacing:
            obs[(o.id, o.source)] = o
        sts = dict(self.statuses)
        for s in statuses:
            sts[s.name] = s
        stale = dict(self.stale_after) if stale_after is None else dict(stale_after)
        return replace(
            self,
            generated_at=now,
            observations=_frozen(obs),
            statuses=_frozen(sts),
            stale_after=_frozen(stale),
        )

    def reading(self, id_: str, source: str | None = None) -> Reading | None:
        """The latest reading of ``id_`` (from ``source``, or the first source that has it)."""
        if source is not None:
            o = self.observations.get((id_, source))
        else:
            o = next((v for (i, _), v in self.observations.items() if i == id_), None)
        return None if o is None else self.as_reading(o)

    def as_reading(self, o: Observation) -> Reading:
        """``o`` with its age at ``generated_at`` and its staleness."""
        age = o.age_s(self.generated_at)
        limit = self.stale_after.get(o.source)
        return Reading(o, age, stale=limit is not None and age > limit)

    def readings(self) -> list[Reading]:
        """Every latest reading, sorted by id then source."""
        return [self.as_reading(o) for _, o in sorted(self.observations.items())]


@dataclass(frozen=True, slots=True)
class Exchange:
    """One HTTP request and its answer, as recorded, stored for drill-down, and replayed."""

    method: str
    url: str
    """Already redacted (no API keys)."""
    status: int
    headers: Mapping[str, str]
    """A chosen few response headers (content-type, retry-after, date, rate-limit ones)."""
    body: bytes
    fetched_at: datetime
    latency_ms: float | None = None


@dataclass(frozen=True, slots=True)
class Update:
    """What the engine publishes after each fetch: the new Board and what changed."""

    source: str
    board: Board
    status: SourceStatus
    observations: tuple[Observation, ...] = ()
