"""Exports (CSV exact text, Parquet or its one-line error) and `btcwatch backtest` / `export`."""

from __future__ import annotations

import importlib.util
import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.unit.test_backtest import SETTINGS, START, close, hand_store, readings
from tui.core import backtest, export
from tui.core.errors import BtcwatchError
from tui.core.model import CONSENSUS, Observation
from tui.core.rules import DEFAULT_RULES
from tui.core.store import Store

HAS_PARQUET = any(importlib.util.find_spec(m) for m in ("pyarrow", "fastparquet"))
NOW = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)
POINTS = [
    (datetime(2026, 2, 6, 21, 0, tzinfo=UTC), 70_412.5),
    (datetime(2026, 2, 6, 21, 0, 15, 250_000, tzinfo=UTC), 0.1 + 0.2),
]
SERIES_CSV = (
    "observed_at,value\n"
    "2026-02-06T21:00:00.000+00:00,70412.5\n"
    "2026-02-06T21:00:15.250+00:00,0.30000000000000004\n"
)


def hand_backtest() -> backtest.Backtest:
    return backtest.run(
        hand_store(), DEFAULT_RULES, since=START, until=close(59), settings=SETTINGS
    )


def test_a_series_exports_to_csv_exactly(tmp_path: Path) -> None:
    path = export.export_series(POINTS, tmp_path / "price.csv")
    assert path.read_text(encoding="utf-8") == SERIES_CSV


def test_the_backtest_table_exports_to_csv_with_the_days_left_out(tmp_path: Path) -> None:
    path = export.export_table(hand_backtest(), tmp_path / "table.CSV")
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0] == (
        "state,days,fwd7_count,fwd7_median,fwd7_share_negative,fwd7_worst,fwd7_no_price,"
        "fwd30_count,fwd30_median,fwd30_share_negative,fwd30_worst,fwd30_no_price"
    )
    assert lines[1] == f"holding,35,28,0.0,0.25,{0.8 - 1!r},7,15,{0.8 - 1!r},1.0,{0.8 - 1!r},20"
    assert lines[3] == f"retest risk,19,14,0.0,0.0,0.0,5,9,{72 / 64 - 1!r},0.0,{72 / 64 - 1!r},10"
    assert lines[-1] == "left out (no data at the time),5,,,,,,,,,,"
    assert len(lines) == 6


def test_parquet_round_trips_or_says_what_it_needs(tmp_path: Path) -> None:
    path = tmp_path / "price.parquet"
    if not HAS_PARQUET:
        with pytest.raises(BtcwatchError) as caught:
            export.export_series(POINTS, path)
        assert str(caught.value) == "parquet needs pyarrow: pip install 'btcwatch[parquet]'"
        assert not path.exists()
        return
    import pandas as pd

    export.export_series(POINTS, path)
    frame = pd.read_parquet(path)
    assert list(frame.columns) == ["observed_at", "value"]
    assert [t.to_pydatetime() for t in frame["observed_at"]] == [t for t, _ in POINTS]
    assert list(frame["value"]) == [v for _, v in POINTS]
    table = tmp_path / "table.parquet"
    export.export_table(hand_backtest(), table)
    back = pd.read_parquet(table)
    assert list(back["state"])[-1] == export.LEFT_OUT
    assert back["fwd30_median"].isna().tolist()[-1]


def test_other_suffixes_are_refused_in_one_line(tmp_path: Path) -> None:
    with pytest.raises(BtcwatchError, match=r"^export: x\.xlsx: name the file \.csv or \.parquet$"):
        export.export_series(POINTS, tmp_path / "x.xlsx")


# -- the commands -------------------------------------------------------------------------------


def store_file(tmp_path: Path, observations: list[Observation]) -> Path:
    path = tmp_path / "history.sqlite3"
    with Store.open(path) as store:
        assert store.notice is None
        store.write(observations)
    return path


def backtest_cmd(
    path: Path, *args: str | None, as_json: bool = False, to: Path | None = None
) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    since, until = (*args, None, None)[:2]
    code = export.backtest_command(
        since, until, as_json=as_json, export=to, out=out, err=err, settings=SETTINGS,
        store_path=path, now=NOW,
    )  # fmt: skip
    return code, out.getvalue(), err.getvalue()


def test_backtest_command_prints_the_table_and_exports_it(tmp_path: Path) -> None:
    path = store_file(tmp_path, readings())
    code, out, err = backtest_cmd(path, "2025-01-01", "2025-03-01", to=tmp_path / "t.csv")
    assert code == 0
    assert out.startswith("Backtest · History, not advice · 55 days · left out 5")
    assert "holding         35 │     28   +0.0%  25%  -20.0%" in out
    assert err == f"btcwatch: wrote the backtest table to {tmp_path / 't.csv'}\n"
    assert (tmp_path / "t.csv").read_text().splitlines()[1].startswith("holding,35,28,")


def test_backtest_command_defaults_to_all_history_and_prints_json(tmp_path: Path) -> None:
    path = store_file(tmp_path, readings())
    code, out, _ = backtest_cmd(path, as_json=True)
    assert code == 0
    doc = json.loads(out)
    # From the first stored price (the close of 1 Jan) up to NOW (10 Mar, noon): 9 more days
    # after the history's last close, all without data.
    assert doc["days"][0]["date"] == "2025-01-01"
    assert doc["days"][-1]["date"] == "2025-03-09"
    assert (doc["days_judged"], doc["left_out"]) == (55, 5 + 8)
    assert doc["table"][0]["state"] == "holding"
    assert doc["table"][0]["forward"][0] == {
        "horizon_days": 7, "count": 28, "median": 0.0, "share_negative": 0.25,
        "worst": pytest.approx(-0.2), "no_price": 7,
    }  # fmt: skip


def test_backtest_command_until_a_date_judges_that_day(tmp_path: Path) -> None:
    path = store_file(tmp_path, readings())
    code, out, _ = backtest_cmd(path, "2025-01-01", "2025-01-10", as_json=True)
    assert code == 0
    days = json.loads(out)["days"]
    assert (days[0]["date"], days[-1]["date"], len(days)) == ("2025-01-01", "2025-01-10", 10)


def test_backtest_command_exit_codes(tmp_path: Path) -> None:
    path = store_file(tmp_path, readings())
    code, out, err = backtest_cmd(path, "yesterday-ish")
    assert (code, out) == (2, "")
    assert err.startswith("btcwatch: expected --since like 7d")
    assert backtest_cmd(path, "2025-02-01", "2025-01-01")[::2] == (
        2, "btcwatch: --since must come before --until\n",
    )  # fmt: skip
    code, _, err = backtest_cmd(path, "2025-01-01", to=tmp_path / "t.txt")
    assert (code, err) == (2, "btcwatch: export: t.txt: name the file .csv or .parquet\n")
    code, _, err = backtest_cmd(tmp_path / "none.sqlite3")
    assert (code, err) == (3, f"btcwatch: no history yet at {tmp_path / 'none.sqlite3'}\n")
    # Days in range, none with data: 3, saying how many were left out.
    code, _, err = backtest_cmd(path, "2025-02-10", "2025-02-14")
    assert (code, err) == (
        3, "btcwatch: no day from 2025-02-10 to 2025-02-14 had data at the time (5 left out)\n",
    )  # fmt: skip
    other = tmp_path / "other"
    other.mkdir()
    code, _, err = backtest_cmd(path, "2025-01-01T01:00", "2025-01-01T05:00")
    assert (code, err) == (
        3,
        "btcwatch: no UTC day closes between 2025-01-01 01:00 and 2025-01-01 05:00\n",
    )
    empty = store_file(
        other, [Observation("funding.oi_weighted", 0.01, "% per 8h", CONSENSUS, START)]
    )
    code, _, err = backtest_cmd(empty)
    assert (code, err) == (3, "btcwatch: no stored btc.price (consensus) to backtest\n")
    if not HAS_PARQUET:
        code, _, err = backtest_cmd(path, "2025-01-01", to=tmp_path / "t.parquet")
        assert (code, err) == (2, f"btcwatch: {export.PARQUET_MISSING}\n")


def export_cmd(path: Path, id_: str, file: Path, source: str | None = None) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = export.command(id_, source, None, file, out=out, err=err, store_path=path)
    return code, out.getvalue(), err.getvalue()


def test_export_command_writes_a_series(tmp_path: Path) -> None:
    obs = [Observation("btc.price", v, "USD", CONSENSUS, t) for t, v in POINTS]
    obs.append(Observation("btc.price", 1.0, "USD", "kraken", POINTS[0][0]))
    path = store_file(tmp_path, obs)
    code, out, err = export_cmd(path, "btc.price", tmp_path / "p.csv")
    assert (code, err) == (0, "")
    assert out == f"wrote 2 values of btc.price (consensus) to {tmp_path / 'p.csv'}\n"
    assert (tmp_path / "p.csv").read_text() == SERIES_CSV
    code, _, _ = export_cmd(path, "btc.price", tmp_path / "k.csv", source="kraken")
    assert code == 0
    assert (tmp_path / "k.csv").read_text().splitlines()[1:] == [
        "2026-02-06T21:00:00.000+00:00,1.0"
    ]


def test_export_command_exit_codes(tmp_path: Path) -> None:
    obs = [
        Observation("etf.flow.daily", 1.0, "USD m", "farside", START),
        Observation("etf.flow.daily", 2.0, "USD m", "other", START),
    ]
    path = store_file(tmp_path, obs)
    code, _, err = export_cmd(path, "etf.flow.daily", tmp_path / "f.csv")
    assert code == 2
    assert "pick one with --source" in err
    code, _, err = export_cmd(path, "nothing.here", tmp_path / "f.csv")
    assert (code, err) == (3, "btcwatch: no stored values for nothing.here\n")
    code, _, err = export_cmd(path, "etf.flow.daily", tmp_path / "f.json", "farside")
    assert code == 2
    code, _, err = export_cmd(path, "etf.flow.daily", tmp_path / "no" / "dir" / "f.csv", "farside")
    assert code == 2
    assert "No such file or directory" in err
    code, _, _ = export_cmd(tmp_path / "none.sqlite3", "etf.flow.daily", tmp_path / "f.csv")
    assert code == 3
