"""The first Board from a recording's head: same parsers, same consensus, no engine."""

from __future__ import annotations

import subprocess
import sys
from importlib.resources import files

import pytest

from tui.cli import DEMO_FILE
from tui.core.model import CONSENSUS, Status
from tui.core.recording import read_recording
from tui.core.seed import board_from_recording
from tui.core.sources import registry

DEMO = files("tui.demo") / DEMO_FILE


def test_limit_reads_only_the_head() -> None:
    head = read_recording(DEMO, limit=10)
    assert len(head.exchanges) == 10
    assert head.start == read_recording(DEMO).start


def test_seed_board_has_every_venue_and_the_consensus() -> None:
    board = board_from_recording(read_recording(DEMO, limit=40), registry.ALL, 70_000, "demo")
    assert board.mode == "demo"
    for venue, id_ in (
        ("coinbase", "btc.price.coinbase"),
        ("kraken", "btc.price.kraken"),
        ("bitstamp", "btc.price.bitstamp"),
        ("deribit", "btc.price.deribit_index"),
    ):
        assert board.reading(id_, venue) is not None
        assert board.statuses[venue].status is Status.OK
    price = board.reading("btc.price", CONSENSUS)
    assert price is not None
    assert price.observation.value == pytest.approx(73_100, abs=150)  # 5 Feb opens near $73,100
    assert not price.stale


def test_seed_skips_what_it_cannot_parse_and_says_no_consensus() -> None:
    head = read_recording(DEMO, limit=1)  # one venue only
    board = board_from_recording(head, registry.ALL, 70_000, "demo")
    assert board.reading("btc.price", CONSENSUS) is None
    assert board.statuses[CONSENSUS].status is Status.STALE


def test_seeding_needs_no_httpx() -> None:
    code = (
        "import sys\n"
        "from importlib.resources import files\n"
        "from tui.core.recording import read_recording\n"
        "from tui.core.seed import board_from_recording\n"
        "from tui.core.sources import registry\n"
        f"board_from_recording(read_recording(files('tui.demo') / {DEMO_FILE!r}, limit=40),"
        " registry.ALL, 70000, 'demo')\n"
        "print('httpx' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
