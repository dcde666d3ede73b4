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
