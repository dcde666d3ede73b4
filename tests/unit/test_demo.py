"""The bundled demo: labelled, offline, the article's arc, and in step with its generator."""

from __future__ import annotations

import gzip
import json
import re
import socket
import subprocess
import sys
from importlib.resources import files
from pathlib import Path

import httpx
import pytest

from tui import cli
from tui.core.recording import read_recording

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any real connection raises: the demo must not need one."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the demo tried to reach the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(httpx.AsyncHTTPTransport, "handle_async_request", refuse)


def test_demo_plays_the_article_offline_and_labelled(
    no_network: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["demo"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == cli.DEMO_LABEL
    assert out[-1] == cli.DEMO_LABEL
    tape = {line[:16]: line for line in out if line[:2] in ("05", "06") and " UTC " in line}
    assert len(tape) == 49  # every hour of 5-6 Feb, and the last minute
    # 5 Feb opens near $73,100 above the pivot; 6 Feb bottoms near $60,000 below the band;
    # the rip tests ~$71,422 above the band, and the day ends back under $70,000.
    assert "▲" in tape["05 Feb 00:00 UTC"]
    assert "$ 73,0" in tape["05 Feb 00:00 UTC"] or "$ 73,1" in tape["05 Feb 00:00 UTC"]
    assert "below the band" in tape["06 Feb 07:00 UTC"]
    low = re.search(r"day (\d\d,\d{3})–", tape["06 Feb 08:00 UTC"])
    assert low is not None
    assert 59_800 <= int(low.group(1).replace(",", "")) <= 60_200  # the day touched ~$60,000
    assert "$ 71,4" in tape["06 Feb 16:00 UTC"]
    assert "above the band" in tape["06 Feb 16:00 UTC"]
    last = list(tape.values())[-1]
    assert last.startswith("06 Feb 23:5")  # the recording's last minutes
    assert "▼" in last
    assert "inside the band" in last
    assert any(line.startswith("btc.price ") for line in out)


def test_demo_json_says_demo_mode(no_network: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["demo", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["mode"] == "demo"
    ids = {r["id"] for r in doc["readings"]}
    assert {"btc.price", "btc.day.high", "btc.pivot.distance"} <= ids
    high = next(r for r in doc["readings"] if r["id"] == "btc.day.high")
    assert high["value"] == pytest.approx(71_422, abs=10)
    statuses = {s["name"]: s["status"] for s in doc["sources"]}
    assert statuses.pop("glassnode") == "needs key"  # the demo has no key, and says so
    standby = {s["name"] for s in doc["sources"] if s["detail"].startswith("standby")}
    assert standby == {"stooq", "fred"}  # Yahoo answers: its fallbacks are not asked
    assert {v for k, v in statuses.items() if k not in standby} == {"ok"}, statuses


def test_bundled_recording_is_labelled_as_a_scenario() -> None:
    rec = read_recording(files("tui.demo") / cli.DEMO_FILE)
    assert rec.header.mode == "demo"
    assert rec.header.label == cli.DEMO_LABEL
    assert rec.start.isoformat().startswith("2026-02-05T00:00")


def test_bundled_recording_is_what_the_script_makes(tmp_path: Path) -> None:
    out = tmp_path / "demo.jsonl.gz"
    subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "make_demo.py"), str(out)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    bundled = gzip.decompress((files("tui.demo") / cli.DEMO_FILE).read_bytes()).splitlines()
    fresh = gzip.decompress(out.read_bytes()).splitlines()
    # The header names the version that wrote it; every exchange must be the same.
    assert bundled[1:] == fresh[1:], "run scripts/make_demo.py and commit the result"
