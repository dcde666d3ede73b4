"""The demo tells the article's story: checklist rows flip while it plays, and the verdict moves."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from tests.tui.conftest import step_demo
from tui.core.rules import DEFAULT_RULES
from tui.core.rules.evaluate import RULES_SOURCE, state_id


def test_at_least_two_checklist_rows_flip_during_the_demo() -> None:
    start = datetime(2026, 2, 5, 0, 5, tzinfo=UTC)
    state = step_demo(datetime(2026, 2, 6, 23, 55, tzinfo=UTC), timedelta(minutes=30), start)
    flipped = []
    for rule in DEFAULT_RULES:
        values = [v for _, v in state.store.series(state_id(rule.key), RULES_SOURCE)]
        if any(a != b for a, b in itertools.pairwise(values)):
            flipped.append(rule.key)
    assert len(flipped) >= 2, flipped
    calls = [v for _, v in state.store.series("verdict", RULES_SOURCE)]
    assert -1.0 in calls  # retest risk at some point of 5-6 Feb
