"""Which derived metrics each source's new readings feed, and running them off the event loop."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from functools import cache

from tui.core.analytics import History
from tui.core.config import Settings
from tui.core.model import Board, Observation

log = logging.getLogger(__name__)

Deriver = Callable[[Board, History, datetime, Settings], list[Observation]]
"""``derive(board, history, now, settings)``: pure but for reading stored history."""


@cache
def _table() -> tuple[tuple[frozenset[str], Deriver], ...]:
    # Imported on first use: the engine loads after the first frame, and these modules follow it.
    from tui.core.analytics import funding, macro, mining

    return (
        (frozenset(funding.SOURCES), funding.derive),
        (frozenset({"mempool"}), mining.derive),
        (frozenset({"yahoo", "stooq", "fred"}), macro.derive),
    )


def triggered_by(source: str) -> tuple[Deriver, ...]:
    """The derivers whose inputs include ``source``'s readings."""
    return tuple(fn for sources, fn in _table() if source in sources)


def run(
    fns: Sequence[Deriver], board: Board, history: History, now: datetime, settings: Settings
) -> list[Observation]:
    """Every deriver's readings; one that fails is logged and skipped (the others still run)."""
    out: list[Observation] = []
    for fn in fns:
        try:
            out.extend(fn(board, history, now, settings))
        except Exception:
            log.exception("derived metrics %s failed", getattr(fn, "__module__", fn))
    return out
