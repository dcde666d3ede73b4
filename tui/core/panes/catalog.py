"""Every bucket pane's view function, by bucket key (the price pane has its own widget)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from tui.core.config import Settings
from tui.core.model import Board
from tui.core.panes import PaneView, checklist

PaneFn = Callable[[Board, Settings], PaneView]

VIEWS: Final[dict[str, PaneFn]] = {
    "checklist": checklist.view,
}
