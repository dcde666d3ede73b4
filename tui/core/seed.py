"""The first Board, before the engine has loaded: from the store, or from a recording's head.

Live, the first frame shows what the last run stored, with its age. In a demo or replay, the first
answer of each endpoint goes through the same parsers and the same consensus as in the engine, so
what is painted first is what the engine would have shown; the engine then takes over from it.
Neither path imports httpx.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from importlib.resources.abc import Traversable
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from tui.core.analytics import price
from tui.core.errors import FetchError, RecordingError
from tui.core.model import CONSENSUS, Board, Json, Mode, Observation, SourceStatus, Status
from tui.core.recording import Recording, read_recording
from tui.core.sources.spec import (
    DERIVED_STALE_AFTER,
    Endpoint,
    ParseContext,
    SourceSpec,
    consensus_stale_after,
)
from tui.core.store import Store

#: Exchanges read from the head of a recording: one round of every endpoint, in milliseconds.
HEAD_EXCHANGES = 40


def _key(url: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    """Path and sorted query: the same endpoint whatever the host."""
    parts = urlsplit(url)
    return parts.path, tuple(sorted(parse_qsl(parts.query, keep_blank_values=True)))


def board_from_recording(
    recording: Recording,
    specs: Sequence[SourceSpec],
    pivot: float,
    mode: Mode,
    context: ParseContext | None = None,
) -> Board:
    """The Board after the first answer of every endpoint found in ``recording``.

    Args:
        recording: a recording, or just its head (``read_recording(path, limit=...)``).
        specs: the sources whose endpoints to look for.
        pivot: for ``btc.pivot.distance``.
        mode: ``demo`` or ``replay``, carried on the Board.
        context: the settings parsers read (default: the defaults with ``pivot``).
    """
    context = context or ParseContext(pivot=pivot)
    endpoints: dict[tuple[str, tuple[tuple[str, str], ...]], tuple[SourceSpec, Endpoint]] = {
        _key(ep.url(spec.base_url)): (spec, ep) for spec in specs for ep in spec.endpoints
    }
    observations: list[Observation] = []
    statuses: dict[str, SourceStatus] = {}
    seen: set[tuple[str, str]] = set()
    now = recording.start
    for exchange in recording.exchanges:
        found = endpoints.get(_key(exchange.url))
        if found is None or exchange.status != 200:
            continue
        spec, ep = found
        if (spec.name, ep.key) in seen:
            continue
        seen.add((spec.name, ep.key))
        now = max(now, exchange.fetched_at)
        try:
            text = exchange.body.decode("utf-8")
            body: Json = json.loads(text) if ep.format == "json" else text
            observations.extend(ep.read(body, exchange.fetched_at, context))
        except (ValueError, FetchError):
            continue  # the engine will say what is wrong with it; a seed only shows what it can
        statuses[spec.name] = SourceStatus(
            spec.name,
            Status.OK,
            last_ok_at=exchange.fetched_at,
            last_attempt_at=exchange.fetched_at,
        )
    board = Board(mode, now).with_updates(
        now=now, observations=observations, statuses=statuses.values(), stale_after=_limits(specs)
    )
    derived = price.derive(board.observations, now, board.stale_after, pivot)
    consensus = (
        SourceStatus(CONSENSUS, Status.OK, last_ok_at=now, last_attempt_at=now)
        if derived.missing is None
        else SourceStatus.from_missing(CONSENSUS, derived.missing, last_ok_at=None, at=now)
    )
    return board.with_updates(now=now, replacing=derived.observations, statuses=[consensus])


def board_from_head(
    path: Path | Traversable, specs: Sequence[SourceSpec], pivot: float, mode: Mode
) -> Board | None:
    """:func:`board_from_recording` on the first :data:`HEAD_EXCHANGES` of the file at ``path``.

    ``None`` for a file that cannot be read: the engine reads it again and says what is wrong.
    """
    try:
        head = read_recording(path, limit=HEAD_EXCHANGES)
    except RecordingError:
        return None
    return board_from_recording(head, specs, pivot, mode)


def board_from_store(store: Store, specs: Sequence[SourceSpec], mode: Mode, now: datetime) -> Board:
    """What the last run knew: the latest stored readings and each source's last status."""
    return Board(mode, now).with_updates(
        now=now,
        observations=store.latest(),
        statuses=store.last_statuses().values(),
        stale_after=_limits(specs),
    )


def _limits(specs: Sequence[SourceSpec]) -> dict[str, float]:
    """Each source's stale limit, and the consensus's (the loosest of them)."""
    limits = {s.name: s.stale_after for s in specs}
    limits[CONSENSUS] = consensus_stale_after(specs, limits)
    limits |= DERIVED_STALE_AFTER
    return limits
