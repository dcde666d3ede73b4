"""The options pane: skew with its tone, the ATM term curve in words, put OI in the band, DVOL;
ages on every value, reasons for missing ones, and the demo story end to end."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tui.core.config import Band, Settings
from tui.core.model import Board, Observation, SourceStatus, Status
from tui.core.panes import PaneRow
from tui.core.panes import options as pane
from tui.core.sources import deribit

NOW = datetime(2026, 2, 6, 8, 0, tzinfo=UTC)
SRC = "deribit_options"


def obs(id_: str, value: float, age_s: float = 60.0) -> Observation:
    unit = "BTC" if id_.endswith("retest_band") else "%" if id_.endswith("share") else "vol pts"
    return Observation(id_, value, unit, SRC, NOW - timedelta(seconds=age_s))


def board(*observations: Observation, statuses: tuple[SourceStatus, ...] = ()) -> Board:
    return Board("live", NOW).with_updates(
        now=NOW, observations=observations, statuses=statuses, stale_after={SRC: 900.0}
    )


STORY = (
    obs("options.rr25.7d", -13.2),
    obs("options.rr25.30d", -11.8),
    obs("options.atm_iv.7d", 72.4),
    obs("options.atm_iv.30d", 61.0, age_s=120),
    obs("options.atm_iv.90d", 53.1),
    obs("options.term.slope", 53.1 - 72.4),
    obs("options.put_oi.retest_band", 20_060.0),
    obs("options.put_oi.retest_share", 61.2),
    obs("options.dvol", 62.7, age_s=30),
)


def rows(b: Board, settings: Settings | None = None) -> dict[str, PaneRow]:
    return {r.label: r for r in pane.view(b, settings or Settings()).rows}


def test_the_articles_reading() -> None:
    view = pane.view(board(*STORY), Settings())
    assert [r.label for r in view.rows] == ["RR25 7d", "ATM IV", "puts 50–60k", "RR25 30d", "DVOL"]
    r = rows(board(*STORY))
    assert r["RR25 7d"] == PaneRow(
        "RR25 7d", "−13.2 vol pts", "bearish", "▼", "30d −11.8 vol pts", "1m"
    )
    assert r["ATM IV"] == PaneRow(
        "ATM IV",
        "7d 72.4 ↘ 30d 61.0 ↘ 90d 53.1",
        "bearish",
        "▼",
        "inverted (90d−7d −19.3 vol pts)",
        "2m",  # the oldest of the three
    )
    assert r["puts 50–60k"].value == "20,060 BTC"
    assert r["puts 50–60k"].detail == "61% of puts ≤45d"
    assert r["RR25 30d"].tone == "bearish"
    assert (r["DVOL"].value, r["DVOL"].age) == ("62.7 vol pts", "<1m")
    assert "25Δ" in view.note


def test_normal_term_structure_and_mild_skew() -> None:
    calm = board(
        obs("options.rr25.7d", -2.0),
        obs("options.atm_iv.7d", 45.0),
        obs("options.atm_iv.30d", 47.5),
        obs("options.atm_iv.90d", 49.0),
        obs("options.term.slope", 4.0),
    )
    r = rows(calm)
    assert (r["RR25 7d"].tone, r["RR25 7d"].glyph) == ("neutral", "▼")
    assert r["RR25 7d"].detail == "30d missing"
    assert r["ATM IV"].value == "7d 45.0 ↗ 30d 47.5 ↗ 90d 49.0"
    assert (r["ATM IV"].tone, r["ATM IV"].glyph) == ("neutral", "▲")
    assert r["ATM IV"].detail.startswith("normal")


def test_positive_skew_reads_bullish() -> None:
    r = rows(board(obs("options.rr25.7d", 1.5)))
    assert (r["RR25 7d"].value, r["RR25 7d"].tone, r["RR25 7d"].glyph) == (
        "+1.5 vol pts",
        "bullish",
        "▲",
    )


def test_missing_values_say_why_never_zero() -> None:
    failing = SourceStatus(SRC, Status.PARSE_ERROR, "parse error: option chain: not enough data")
    r = rows(board(statuses=(failing,)))
    for label in ("RR25 7d", "ATM IV", "puts 50–60k", "RR25 30d", "DVOL"):
        assert r[label].tone == "missing"
        assert r[label].value == "parse error: option chain: not enough data"
        assert r[label].age == ""
        assert "0" not in r[label].value
    assert rows(board())["DVOL"].value == "waiting for deribit_options"


def test_a_partial_term_curve_shows_the_gap() -> None:
    r = rows(board(obs("options.atm_iv.7d", 72.4), obs("options.atm_iv.90d", 53.1)))
    assert r["ATM IV"].value == "7d 72.4 30d – 90d 53.1"
    # Without a slope reading the words come from 90d − 7d.
    assert r["ATM IV"].detail.startswith("inverted")


def test_stale_values_look_stale() -> None:
    old = tuple(
        Observation(o.id, o.value, o.unit, o.source, NOW - timedelta(minutes=20)) for o in STORY
    )
    r = rows(board(*old))
    assert {r[k].tone for k in r} == {"stale"}
    assert r["ATM IV"].age == "stale 20m"


def test_the_band_label_follows_the_settings() -> None:
    s = Settings(retest_band=Band(55_000.0, 62_500.0))
    assert "puts 55–62.5k" in rows(board(*STORY), s)


def test_demo_story_on_the_pane() -> None:
    """The demo's 6 Feb chain, parsed and shown: negative skew near −13, inverted curve."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
    import demo_deribit

    t = datetime(2026, 2, 6, 7, 30, tzinfo=UTC)
    out: list[Observation] = []
    for source, key, doc in demo_deribit.demo_exchanges(t, 60_100.0):
        spec = deribit.OPTIONS_SPEC if source == SRC else deribit.FUTURES_SPEC
        [ep] = [e for e in spec.endpoints if e.key == key]
        out.extend(ep.parse(json.loads(json.dumps(doc)), t))
    values = {o.id: o.value for o in out}
    assert values["funding.deribit"] < 0
    assert -16 < values["options.rr25.7d"] < -11
    assert values["options.term.slope"] < 0
    b = Board("demo", t).with_updates(now=t, observations=out, stale_after={SRC: 900.0})
    r = rows(b)
    assert r["RR25 7d"].tone == "bearish"
    assert r["ATM IV"].detail.startswith("inverted")


@pytest.mark.parametrize("minute", [0, 5, 25, 30])
def test_demo_options_every_half_hour(minute: int) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
    import demo_deribit

    t = datetime(2026, 2, 5, 10, minute, tzinfo=UTC)
    keys = [(s, k) for s, k, _ in demo_deribit.demo_exchanges(t, 71_000.0)]
    due = [("deribit_futures", "futures")]
    if minute % 30 == 0:
        due += [(SRC, "chain"), (SRC, "dvol")]
    assert keys == due
