"""Which screen opens for a bucket: its drill-down (Enter) and its own screen (v in a drill-down).

Screens are imported on first use, never at start-up. ``latest`` gives the newest Board, so a
screen left open keeps up with the engine.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from textual.screen import Screen

from tui.core import views
from tui.core.config import Settings
from tui.core.model import Board
from tui.core.store import Store


def drilldown_screen(
    key: str, latest: Callable[[], Board], store: Store, settings: Settings
) -> Screen[None]:
    """Enter on bucket ``key``: its sources (readings, endpoints, raw bodies), or the checklist."""
    if key == "checklist":  # the checklist has a screen of its own: rows, reasons, history
        from tui.screens.checklist import ChecklistScreen

        return ChecklistScreen(latest(), settings, store, latest=latest)
    from tui.core.sources import registry
    from tui.screens.drilldown import DrilldownScreen

    def load() -> views.DrilldownView:
        return views.drilldown(latest(), store, registry.ALL, settings, key)

    return DrilldownScreen(key, load)


def bucket_screen(
    key: str, latest: Callable[[], Board], store: Store, settings: Settings
) -> Screen[None] | None:
    """``v`` in bucket ``key``'s drill-down: funding, the option chain, the ETF table, ..."""

    def now() -> datetime:
        return latest().generated_at

    if key == "derivatives":
        from tui.screens.funding import FundingScreen

        return FundingScreen(store, settings, now=now)
    if key == "options":
        from tui.screens.option_chain import OptionChainScreen

        return OptionChainScreen(store, settings, now=now)
    if key == "flows":
        from tui.screens.etf_flows import EtfFlowsScreen

        return EtfFlowsScreen(store, settings, now=now)
    if key == "mining":
        from tui.screens.mining import MiningScreen

        return MiningScreen(store, latest, settings)
    if key == "macro":
        from tui.screens.macro import MacroScreen

        return MacroScreen(store, settings, now=now)
    return None


def backtest_screen(latest: Callable[[], Board], store: Store, settings: Settings) -> Screen[None]:
    """``b``: the checklist over the stored daily history and what price did next."""
    from tui.screens.backtest import BacktestScreen

    def now() -> datetime:
        return latest().generated_at

    return BacktestScreen(store, settings, now)
