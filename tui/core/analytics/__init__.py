"""Pure analytics over readings: derived metrics, with no I/O of their own.

A bucket's cross-source metrics come from ``derive(board, history, now, settings)``: the latest
readings on the Board, and stored history through :class:`History` (the Store implements it).
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol


class History(Protocol):
    """Read access to stored series: what derived metrics may ask of the store."""

    def series(
        self, id_: str, source: str, since: datetime | None = None, until: datetime | None = None
    ) -> list[tuple[datetime, float]]:
        """``(observed_at, value)`` of one series, oldest first; both limits inclusive."""
        ...


def midnights(
    history: History, id_: str, source: str, since: datetime, until: datetime
) -> list[tuple[datetime, float]]:
    """The rows of a series in [since, until] observed at a UTC midnight: a daily series'
    completed days (its forming day is observed at each fetch, many rows a day)."""
    from tui.core.store import Store  # the store selects them itself: no row becomes an object

    if isinstance(history, Store):
        return history.midnights(id_, source, since, until)
    return [
        (t, v) for t, v in history.series(id_, source, since, until) if t.timestamp() % 86_400 == 0
    ]
