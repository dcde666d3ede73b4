"""A first Board from the head of a recording: a price on screen before the engine has loaded.

The demo's first frame should not wait for httpx and the whole recording. The first answer of
each endpoint goes through the same parsers and the same consensus as in the engine, so what is
painted first is what the engine would have shown; the engine then takes over from it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from urllib.parse import parse_qsl, urlsplit

from tui.core.analytics import price
from tui.core.errors import FetchError
from tui.core.model import CONSENSUS, Board, Json, Mode, Observation, SourceStatus, Status
from tui.core.recording import Recording
from tui.core.sources.spec import Endpoint, SourceSpec


def _key(url: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    """Path and sorted query: the same endpoint whatever the host."""
    parts = urlsplit(url)
    return parts.path, tuple(sorted(parse_qsl(parts.query, keep_blank_values=True)))


def board_from_recording(
    recording: Recording, specs: Sequence[SourceSpec], pivot: float, mode: Mode
) -> Board:
    """The Board after the first answer of every endpoint found in ``recording``.

    Args:
        recording: a recording, or just its head (``read_recording(path, limit=...)``).
        specs: the sources whose endpoints to look for.
        pivot: for ``btc.pivot.distance``.
        mode: ``demo`` or ``replay``, carried on the Board.
    """
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
            observations.extend(ep.parse(body, exchange.fetched_at))
        except (ValueError, FetchError):
            continue  # the engine will say what is wrong with it; a seed only shows what it can
        statuses[spec.name] = SourceStatus(
            spec.name,
            Status.OK,
            last_ok_at=exchange.fetched_at,
            last_attempt_at=exchange.fetched_at,
        )
    stale_after = {s.name: s.stale_after for s in specs}
    stale_after[CONSENSUS] = max(stale_after.values(), default=60.0)
    board = Board(mode, now).with_updates(
        now=now, observations=observations, statuses=statuses.values(), stale_after=stale_after
    )
    derived = price.derive(board.observations, now, board.stale_after, pivot)
    consensus = (
        SourceStatus(CONSENSUS, Status.OK, last_ok_at=now, last_attempt_at=now)
        if derived.missing is None
        else SourceStatus.from_missing(CONSENSUS, derived.missing, last_ok_at=None, at=now)
    )
    return board.with_updates(now=now, observations=derived.observations, statuses=[consensus])
