"""What a person sees: SVG snapshots of the dashboard at 80×24 and 160×48 (frozen demo state)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from textual.pilot import Pilot

from tests.tui.conftest import DemoState, step_demo, still_app

SnapCompare = Callable[..., bool]


async def _settle(pilot: Pilot[Any]) -> None:
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def test_dashboard_80x24(snap_compare: SnapCompare, demo_state: DemoState) -> None:
    assert snap_compare(still_app(demo_state), terminal_size=(80, 24), run_before=_settle)


def test_dashboard_160x48(snap_compare: SnapCompare, demo_state: DemoState) -> None:
    assert snap_compare(still_app(demo_state), terminal_size=(160, 48), run_before=_settle)


def test_drilldown_160x48(snap_compare: SnapCompare, demo_state: DemoState) -> None:
    async def drill(pilot: Pilot[Any]) -> None:
        await _settle(pilot)
        await pilot.press("enter")
        await _settle(pilot)

    assert snap_compare(still_app(demo_state), terminal_size=(160, 48), run_before=drill)


def test_help_80x24(snap_compare: SnapCompare, demo_state: DemoState) -> None:
    async def help_(pilot: Pilot[Any]) -> None:
        await _settle(pilot)
        await pilot.press("question_mark")
        await _settle(pilot)

    assert snap_compare(still_app(demo_state), terminal_size=(80, 24), run_before=help_)


def test_option_chain_160x48(snap_compare: SnapCompare, demo_state: DemoState) -> None:
    from tui.core.config import Settings
    from tui.screens.option_chain import OptionChainScreen

    async def chain(pilot: Pilot[Any]) -> None:
        await _settle(pilot)
        screen = OptionChainScreen(demo_state.store, Settings(), now=demo_state.board.generated_at)
        await pilot.app.push_screen(screen)
        for _ in range(3):  # the load, then plotext's import, then the smile
            await _settle(pilot)

    assert snap_compare(still_app(demo_state), terminal_size=(160, 48), run_before=chain)


#: The evening of 5 Feb: price near $63k after the pivot gave way; the checklist's rows bearish.
LOW = datetime(2026, 2, 5, 21, 0, 5, tzinfo=UTC)


@pytest.fixture(scope="module")
def low_state() -> DemoState:
    return step_demo(LOW)


def test_dashboard_5_feb_evening_120x40(snap_compare: SnapCompare, low_state: DemoState) -> None:
    assert snap_compare(still_app(low_state), terminal_size=(120, 40), run_before=_settle)
