"""The history explorer's core on hand-built stores, and `btcwatch history` as a real command."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.unit.test_cli import btcwatch
from tui.core import history
from tui.core.config import Settings
from tui.core.history import AmbiguousId
from tui.core.model import CONSENSUS, Observation, RowState
from tui.core.store import Store

NOW = datetime(2026, 2, 6, 21, 0, tzinfo=UTC)
H = timedelta(hours=1)
FUNDING = "funding.oi_weighted"
UNIT = "% per 8h"


def state(key: str, at: datetime, value: float) -> Observation:
    return Observation(f"checklist.{key}", value, "state", "rules", at)


def funding(at: datetime, value: float) -> Observation:
    return Observation(FUNDING, value, UNIT, CONSENSUS, at)


def funding_store() -> Store:
    """Funding hourly for 3 days (value = -hours ago / 10,000), and four stored states:
    bearish 60 h ago, neutral 30 h ago, neutral again 20 h ago (a restart), bullish 9 h ago."""
    store = Store.open(None)
    store.write([funding(NOW - h * H, -h / 10_000) for h in range(72)])
    store.write(
        [
            state("funding", NOW - 60 * H, -1.0),
            state("funding", NOW - 30 * H, 0.0),
            state("funding", NOW - 20 * H, 0.0),
            state("funding", NOW - 9 * H, 1.0),
        ]
    )
    return store


def test_flips_list_each_change_with_the_inputs_as_they_were_at_that_moment() -> None:
    store = funding_store()
    # A reading half an hour after the last flip must not count as "at that moment".
    store.write([funding(NOW - 8.5 * H, 0.5)])
    found = history.flips(store, "funding")
    assert [(f.at, f.previous, f.current) for f in found] == [
        (NOW - 60 * H, None, RowState.BEARISH),
        (NOW - 30 * H, RowState.BEARISH, RowState.NEUTRAL),
        (NOW - 9 * H, RowState.NEUTRAL, RowState.BULLISH),
    ]
    last = found[-1].readings
    assert [(o.id, o.source, o.value, o.unit, o.observed_at) for o in last] == [
        (FUNDING, CONSENSUS, -9 / 10_000, UNIT, NOW - 9 * H)
    ]
    assert found[1].readings[0].value == -30 / 10_000
    assert "funding.oi_weighted -0.0030 %/8h (05 Feb 15:00)" in history.flip_readings_text(found[1])


def test_flips_since_keep_the_state_before_it_as_previous() -> None:
    found = history.flips(funding_store(), "funding", since=NOW - 31 * H)
    assert [(f.previous, f.current) for f in found] == [
        (RowState.BEARISH, RowState.NEUTRAL),
        (RowState.NEUTRAL, RowState.BULLISH),
    ]


def test_an_old_reading_is_still_the_latest_at_that_moment_and_says_its_time() -> None:
    store = Store.open(None)
    store.write([funding(NOW - 50 * H, 0.01), funding(NOW + H, 0.02), state("funding", NOW, 1.0)])
    (flip,) = history.flips(store, "funding")
    assert [(o.value, o.observed_at) for o in flip.readings] == [(0.01, NOW - 50 * H)]
    assert "(04 Feb 19:00)" in history.flip_readings_text(flip)
    assert history.latest_at(store, FUNDING, CONSENSUS, NOW - 51 * H, 3600.0) is None
    bare = Store.open(None)
    bare.write([state("funding", NOW, 1.0)])
    (flip,) = history.flips(bare, "funding")
    assert flip.readings == ()
    assert history.flip_readings_text(flip) == "no input readings stored at that moment"


def test_flips_read_every_input_of_a_row_including_the_keyless_fallback() -> None:
    store = Store.open(None)
    store.write(
        [
            Observation("onchain.net_realized_pnl.7d", -1.5e9, "USD/day", "coinmetrics", NOW - H),
            Observation("btc.price", 63_000.0, "USD", CONSENSUS, NOW - 0.5 * H),
            state("onchain", NOW, -1.0),
        ]
    )
    (flip,) = history.flips(store, "onchain")
    assert {(o.id, o.value) for o in flip.readings} == {
        ("onchain.net_realized_pnl.7d", -1.5e9),
        ("btc.price", 63_000.0),
    }
    assert "−$1.50B/day" in history.flip_readings_text(flip)


def test_unknown_row_is_an_error() -> None:
    with pytest.raises(ValueError, match="no checklist row 'nope'"):
        history.flips(Store.open(None), "nope")
    with pytest.raises(ValueError, match="rows: funding, skew"):
        history.thresholds("nope")


def test_thresholds_per_input_follow_the_rules_and_the_config() -> None:
    found = history.thresholds("funding")
    assert list(found) == [FUNDING]
    bullish, bearish = found[FUNDING]
    assert (bullish.side, bullish.op, bullish.value) == ("bullish", ">", 0.0)
    assert (bearish.side, bearish.op, bearish.value) == ("bearish", "<", 0.0)
    assert bullish.label == "bullish: funding above +0.0000 %/8h for 8 h"
    tuned = history.thresholds("funding", Settings(rules={"funding.positive.threshold": 0.01}))
    assert tuned[FUNDING][0].value == 0.01
    assert tuned[FUNDING][0].label.startswith("bullish: funding above +0.0100 %/8h")


def test_price_conditions_take_the_configured_pivot() -> None:
    found = history.thresholds("leverage", Settings(pivot=65_000.0))
    assert set(found) == {"oi.futures.total.chg_24h", "btc.price"}
    (price,) = found["btc.price"]
    assert (price.value, price.pivot, price.kind) == (65_000.0, True, "pivot")
    assert [t.value for t in found["oi.futures.total.chg_24h"]] == [3.0, -3.0, 5.0]


def test_onchain_thresholds_cover_both_variants() -> None:
    found = history.thresholds("onchain")
    assert found["onchain.realized_loss.7d"][1].value == 1.26e9
    assert [t.value for t in found["onchain.net_realized_pnl.7d"]] == [-0.3e9, -1.26e9]


def test_one_line_per_value_on_a_chart() -> None:
    lines = history.chart_lines(history.thresholds_for(FUNDING, CONSENSUS))
    assert len(lines) == 1  # bullish above 0 and bearish below 0 share the zero line
    assert "bullish: funding above" in lines[0].label
    assert "bearish: funding below" in lines[0].label
    (pivot,) = history.chart_lines(history.thresholds_for("btc.price", CONSENSUS))
    assert (pivot.label, pivot.value, pivot.kind) == ("pivot $70,000", 70_000.0, "pivot")


def test_series_for_each_range() -> None:
    store = Store.open(None)
    ages = [0.5, 20, 24 * 5, 24 * 20, 24 * 60, 24 * 200]
    store.write([funding(NOW - a * H, a) for a in ages])
    store.write([funding(NOW + H, -1.0)])  # after "now": never shown as the present
    got = {r: [v for _, v in history.series_for(store, FUNDING, CONSENSUS, r, NOW)] for r in
           history.HISTORY_RANGES}  # fmt: skip
    assert got == {
        "1D": [20, 0.5],
        "1W": [120, 20, 0.5],
        "1M": [480, 120, 20, 0.5],
        "3M": [1440, 480, 120, 20, 0.5],
        "all": [4800, 1440, 480, 120, 20, 0.5],
    }


def test_known_ids_are_every_stored_series() -> None:
    store = funding_store()
    store.write([Observation("btc.price", 70_000.0, "USD", "kraken", NOW)])
    assert history.known_ids(store) == [
        ("btc.price", "kraken"),
        ("checklist.funding", "rules"),
        (FUNDING, CONSENSUS),
    ]


def test_a_state_chart_is_steps_from_the_state_held_at_the_start_up_to_now() -> None:
    chart = history.load_chart(funding_store(), Settings(), "checklist.funding", "rules", "1D", NOW)
    start = (NOW - 24 * H).timestamp()
    assert chart.step
    assert chart.points == (
        (start, 0.0),  # neutral since 30 h ago: the state when the day began
        # (neutral stored again 20 h ago, after a restart: no step)
        ((NOW - 9 * H).timestamp(), 0.0),
        ((NOW - 9 * H).timestamp(), 1.0),
        (NOW.timestamp(), 1.0),
    )
    assert chart.x_range == (start, NOW.timestamp())
    assert chart.ticks == history.STATE_TICKS
    assert chart.note.startswith("now bullish confirmed · since 06 Feb 12:00 UTC")


def test_a_reading_chart_has_its_thresholds_and_is_thinned() -> None:
    chart = history.load_chart(funding_store(), Settings(), FUNDING, CONSENSUS, "all", NOW, 10)
    assert len(chart.points) == 10
    assert chart.points[-1] == (NOW.timestamp(), 0.0)
    assert [line.value for line in chart.lines] == [0.0]
    assert chart.title == "funding.oi_weighted · consensus · % per 8h"
    assert chart.note == "72 stored values"
    empty = history.load_chart(Store.open(None), Settings(), FUNDING, CONSENSUS, "1D", NOW)
    assert empty.points == ()
    assert empty.note == "no stored values of funding.oi_weighted (consensus) in the last 1D"


def test_csv_export_round_trips() -> None:
    points = history.series_for(funding_store(), FUNDING, CONSENSUS, "all", NOW)
    text = history.export_csv(points)
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["observed_at", "value"]
    assert rows[1] == ["2026-02-03T22:00:00.000+00:00", "-0.0071"]
    back = [(datetime.fromisoformat(t), float(v)) for t, v in rows[1:]]
    assert back == points


def test_json_export_round_trips() -> None:
    points = [(NOW - H, 1 / 3), (NOW, -1e-9)]
    doc = json.loads(history.export_json(points, FUNDING, CONSENSUS, UNIT))
    assert (doc["id"], doc["source"], doc["unit"], doc["count"]) == (FUNDING, CONSENSUS, UNIT, 2)
    back = [(datetime.fromisoformat(p["observed_at"]), p["value"]) for p in doc["points"]]
    assert back == points


def test_exports_are_named_by_id_and_time_and_never_overwrite(tmp_path: Path) -> None:
    store = funding_store()
    first = history.write_export(store, FUNDING, CONSENSUS, "1D", NOW, "csv", tmp_path)
    second = history.write_export(store, FUNDING, CONSENSUS, "1D", NOW, "csv", tmp_path)
    assert first.name.startswith("funding.oi_weighted-")
    assert first.suffix == ".csv"
    assert second != first
    assert first.exists()
    assert second.exists()
    assert first.read_text().count("\n") == 1 + 25  # the header and 25 hourly values
    as_json = history.write_export(
        store, "checklist.funding", "rules", "all", NOW, "json", tmp_path
    )
    doc = json.loads(as_json.read_text())
    assert [p["value"] for p in doc["points"]] == [-1.0, 0.0, 0.0, 1.0]
    assert doc["unit"] == "state"
    assert history.export_file("a/b c", "csv", NOW, tmp_path).name == "a_b_c-20260206T210000Z.csv"


def test_exports_go_to_the_data_dir_by_default(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("BTCWATCH_DATA_DIR", str(tmp_path))
    path = history.export_file(FUNDING, "json", NOW)
    assert path == tmp_path / "exports" / "funding.oi_weighted-20260206T210000Z.json"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("7d", NOW - 7 * 24 * H),
        ("24h", NOW - 24 * H),
        ("90m", NOW - 90 * timedelta(minutes=1)),
        (" 1.5h ", NOW - 1.5 * H),
        ("2w", NOW - 14 * 24 * H),
        ("2026-02-05", datetime(2026, 2, 5, tzinfo=UTC)),
        ("2026-02-05T12:30:00+01:00", datetime(2026, 2, 5, 11, 30, tzinfo=UTC)),
        ("2026-02-05T12:30Z", datetime(2026, 2, 5, 12, 30, tzinfo=UTC)),
    ],
)
def test_parse_since(text: str, expected: datetime) -> None:
    assert history.parse_since(text, NOW) == expected


@pytest.mark.parametrize("text", ["", "7", "0d", "-1d", "7x", "7 days", "yesterday", "2026-13-01"])
def test_parse_since_rejects_anything_else(text: str) -> None:
    with pytest.raises(ValueError, match="expected --since like 7d, 24h, 90m or an ISO date"):
        history.parse_since(text, NOW)


def test_resolve_rows_single_sources_and_the_consensus() -> None:
    known = [("btc.price", "kraken"), ("btc.price", CONSENSUS), ("x", "a"), ("x", "b"), ("y", "c")]
    assert history.resolve("funding", None, known) == ("checklist.funding", "rules")
    assert history.resolve("btc.price", None, known) == ("btc.price", CONSENSUS)
    assert history.resolve("btc.price", "kraken", known) == ("btc.price", "kraken")
    assert history.resolve("y", None, known) == ("y", "c")
    with pytest.raises(AmbiguousId, match=r"several sources \(a, b\)"):
        history.resolve("x", None, known)
    with pytest.raises(LookupError, match=r"from z \(stored from: a, b\)"):
        history.resolve("x", "z", known)
    with pytest.raises(LookupError, match="no stored values for nope"):
        history.resolve("nope", None, known)


def test_a_row_key_names_its_state_series_and_back() -> None:
    assert history.target("mining") == ("checklist.mining", "rules")
    assert history.target(("btc.price", CONSENSUS)) == ("btc.price", CONSENSUS)
    assert history.row_of("checklist.mining", "rules") == "mining"
    assert history.row_of("checklist.mining", "other") is None
    assert history.row_of("mining", "rules") is None
    assert [i.id for i in history.inputs("mining")] == ["mining.hashprice", "btc.price"]


# -- the command ---------------------------------------------------------------------------------


def write_data_dir(tmp_path: Path) -> dict[str, str]:
    """A data dir whose history holds the funding store; the env that points btcwatch at it."""
    data = tmp_path / "data"
    data.mkdir()
    with Store.open(data / "history.sqlite3") as store:
        store.write([funding(NOW - h * H, -h / 10_000) for h in range(72)])
        store.write([state("funding", NOW - 60 * H, -1.0), state("funding", NOW - 9 * H, 1.0)])
        store.write([Observation("btc.price", p, "USD", s, NOW) for s, p in
                     (("kraken", 70_001.5), ("coinbase", 70_002.5))])  # fmt: skip
    return {"BTCWATCH_DATA_DIR": str(data)}


def test_history_command_prints_csv_by_default(tmp_path: Path) -> None:
    env = write_data_dir(tmp_path)
    out = btcwatch("history", FUNDING, env=env)
    assert out.returncode == 0, out.stderr
    rows = list(csv.reader(io.StringIO(out.stdout)))
    assert rows[0] == ["observed_at", "value"]
    assert len(rows) == 1 + 72
    assert rows[1] == ["2026-02-03T22:00:00.000+00:00", "-0.0071"]
    # A row key is its state series; --since narrows it.
    out = btcwatch("history", "funding", "--since", "2026-02-06", "--csv", env=env)
    assert out.returncode == 0, out.stderr
    assert out.stdout == "observed_at,value\n2026-02-06T12:00:00.000+00:00,1.0\n"


def test_history_command_prints_json(tmp_path: Path) -> None:
    env = write_data_dir(tmp_path)
    out = btcwatch("history", "btc.price", "--source", "kraken", "--json", env=env)
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc == {
        "id": "btc.price",
        "source": "kraken",
        "unit": "USD",
        "count": 1,
        "points": [{"observed_at": "2026-02-06T21:00:00.000+00:00", "value": 70_001.5}],
    }


def test_history_command_exit_codes(tmp_path: Path) -> None:
    env = write_data_dir(tmp_path)
    nothing = btcwatch("history", "etf.flow.daily", env=env)
    assert (nothing.returncode, nothing.stdout) == (3, "")
    assert nothing.stderr.strip() == "btcwatch: no stored values for etf.flow.daily"
    recent = btcwatch("history", FUNDING, "--since", "1h", env=env)  # the data is from Feb 2026
    assert recent.returncode == 3
    assert recent.stderr.startswith(
        "btcwatch: no stored values for funding.oi_weighted (consensus)"
    )
    bad = btcwatch("history", FUNDING, "--since", "last week", env=env)
    assert (bad.returncode, bad.stdout) == (2, "")
    assert len(bad.stderr.strip().splitlines()) == 1
    assert "expected --since like 7d" in bad.stderr
    ambiguous = btcwatch("history", "btc.price", env=env)
    assert ambiguous.returncode == 2
    assert "several sources (coinbase, kraken)" in ambiguous.stderr
    none = btcwatch("history", FUNDING, env={"BTCWATCH_DATA_DIR": str(tmp_path / "empty")})
    assert none.returncode == 3
    assert "no history yet at" in none.stderr
    assert not (tmp_path / "empty" / "history.sqlite3").exists()  # reading never creates one


def test_history_command_reads_while_another_btcwatch_writes(tmp_path: Path) -> None:
    env = write_data_dir(tmp_path)
    with Store.open(Path(env["BTCWATCH_DATA_DIR"]) / "history.sqlite3") as writer:
        assert not writer.read_only  # this process holds the writer lock
        out = btcwatch("history", "funding", env=env)
        assert out.returncode == 0, out.stderr
        assert out.stdout.count("\n") == 3
        writer.write([funding(NOW + H, 0.002)])  # still the writer: the command took no lock


def test_history_command_help_names_the_exit_codes() -> None:
    out = btcwatch("history", "--help")
    assert out.returncode == 0
    assert "usage: btcwatch history" in out.stdout
    assert "Exit codes: 0 printed, 3 no stored values, 2 usage error" in " ".join(
        out.stdout.split()
    )


def test_the_history_core_never_imports_the_ui() -> None:
    code = (
        "import sys, tui.core.history\n"
        "ui = ('textual', 'plotext', 'pandas', 'widgets')\n"
        "print(','.join(m for m in ui if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == ""
