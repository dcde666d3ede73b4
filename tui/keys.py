"""The keys the help screen lists, and btcwatch's own command palette entries, as data."""

from __future__ import annotations

from typing import Final

#: The help screen's key list: (key, what it does), in the order shown.
HELP_KEYS: Final[tuple[tuple[str, str], ...]] = (
    ("q", "quit"),
    ("? / F1", "this help"),
    ("r", "refresh now (every source at once; via the recorder if one runs)"),
    ("p", "pause / resume polling (a paused demo stops its clock; this view only)"),
    ("Tab / arrows / 1-8 / mouse", "focus a pane"),
    ("Enter", "drill down into the focused pane's sources; on the checklist, every row"),
    ("v", "in a drill-down: the bucket's own screen (funding, option chain, ETF, ...)"),
    ("Enter / v", "on the checklist screen: a row's history / the verdict's"),
    ("/ · e · E", "in a history: any reading · export CSV · export JSON"),
    ("b", "backtest: the checklist over the stored daily history (history, not advice)"),
    ("Esc", "back"),
    ("[ / ]", "chart range: 1D, 1W, 1M, 3M"),
    ("Ctrl+P", "command palette: theme, pause, refresh, open a bucket"),
    ("R", "restart polling after an engine error"),
)

#: btcwatch's command palette entries after Textual's own: (title, help, action name). Every
#: bucket adds an "Open <bucket>" entry after these.
PALETTE: Final[tuple[tuple[str, str, str], ...]] = (
    ("Pause / resume polling", "Stop or restart every source", "pause"),
    ("Refresh now", "Ask every source at once", "refresh"),
    (
        "Backtest the checklist",
        "Verdicts over the stored daily history and what price did next",
        "backtest",
    ),
)
