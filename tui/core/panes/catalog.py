"""Every bucket pane's view function, by bucket key (the price pane has its own widget)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Final

from tui.core.analytics import History
from tui.core.config import Settings
from tui.core.model import Board
from tui.core.panes import (
    PaneView,
    checklist,
    derivatives,
    flows,
    macro,
    mining,
    onchain,
    options,
)

Series = Mapping[tuple[str, str], Sequence[tuple[datetime, float]]]
"""Stored series a pane draws from (a sparkline), by ``(id, source)``."""
PaneFn = Callable[[Board, Settings, Series], PaneView]

#: The stored series panes draw, and how far back (read in a thread with the chart).
PANE_SERIES: Final[Mapping[tuple[str, str], timedelta]] = {
    ("etf.flow.daily", "farside"): timedelta(days=21),
}


def _flows(board: Board, settings: Settings, series: Series) -> PaneView:
    return flows.view(board, settings, series.get(("etf.flow.daily", "farside"), ()))


def _plain(fn: Callable[[Board, Settings], PaneView]) -> PaneFn:
    def view(board: Board, settings: Settings, series: Series) -> PaneView:
        return fn(board, settings)

    return view


VIEWS: Final[dict[str, PaneFn]] = {
    "checklist": _plain(checklist.view),
    "flows": _flows,
    "derivatives": _plain(derivatives.view),
    "options": _plain(options.view),
    "onchain": _plain(onchain.view),
    "mining": _plain(mining.view),
    "macro": _plain(macro.view),
}


def load_series(
    history: History, now: datetime
) -> dict[tuple[str, str], list[tuple[datetime, float]]]:
    """Every series of :data:`PANE_SERIES` (blocking: reads the store)."""
    return {key: history.series(*key, since=now - span) for key, span in PANE_SERIES.items()}
