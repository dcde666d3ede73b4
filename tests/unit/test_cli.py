"""The real `btcwatch` command against a local server serving published bodies."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.localserver import LocalServer, Reply, closed_port
from tests.unit.test_engine import PRICES, real_bodies
from tui.core.sources import registry

#: Where each source lives on the test server: a path prefix, as behind a proxy.
PREFIX = {
    "coinbase": "/cb",
    "kraken": "/kr/0/public",
    "bitstamp": "/bs/api/v2",
    "deribit": "/db/api/v2",
}
UPSTREAM = {
    "coinbase": "/products/BTC-USD/ticker",
    "kraken": "/0/public/Ticker",
    "bitstamp": "/api/v2/ticker/btcusd/",
    "deribit": "/api/v2/public/get_index_price",
}
LOCAL = {
    "coinbase": "/cb/products/BTC-USD/ticker",
    "kraken": "/kr/0/public/Ticker",
    "bitstamp": "/bs/api/v2/ticker/btcusd/",
    "deribit": "/db/api/v2/public/get_index_price",
}


#: The spot sources these tests serve (the others answer nothing here and say so).
PRICE_NAMES = [s.name for s in registry.ALL if s.bucket == "price"]


def btcwatch(
    *args: str, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("btcwatch", path=str(Path(sys.executable).parent))
    cmd = [exe] if exe else [sys.executable, "-m", "tui.cli"]
    return subprocess.run(
        [*cmd, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
        check=False,
    )


def spot_only() -> dict[str, str]:
    """Every non-spot source disabled: tests about the price path need not wait on the others."""
    return {
        f"BTCWATCH_SOURCES__{s.name.upper()}__ENABLED": "false"
        for s in registry.ALL
        if s.name not in PRICE_NAMES
    }


def base_urls(base: str) -> dict[str, str]:
    return {
        f"BTCWATCH_SOURCES__{name.upper()}__BASE_URL": base + PREFIX.get(name, f"/{name}")
        for name in registry.NAMES
    }


def test_snapshot_json_reads_every_venue_from_a_local_server() -> None:
    bodies = real_bodies(datetime.now(UTC), PRICES)
    with LocalServer() as server:
        for name in PRICE_NAMES:
            server.route(
                LOCAL[name],
                Reply(body=bodies[UPSTREAM[name]], headers={"Content-Type": "application/json"}),
            )
        out = btcwatch("snapshot", "--json", env=base_urls(server.base_url) | spot_only())
        assert server.seen(LOCAL["kraken"])[0].headers["user-agent"].startswith("btcwatch/")
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert set(doc) >= {"generated_at", "mode", "readings", "sources", "checklist", "verdict"}
    assert doc["mode"] == "live"
    rows = {r["row"]: r for r in doc["checklist"]}
    assert list(rows) == ["funding", "skew", "leverage", "flows", "onchain", "mining"]
    assert rows["funding"]["state"] == "waiting"
    assert rows["funding"]["since"] is None
    assert doc["verdict"]["call"] == "no data"  # a price alone judges nothing
    readings = {(r["id"], r["source"]): r for r in doc["readings"]}
    assert readings[("btc.price.coinbase", "coinbase")]["value"] == PRICES["coinbase"]
    assert readings[("btc.price.kraken", "kraken")]["value"] == PRICES["kraken"]
    assert readings[("btc.price.bitstamp", "bitstamp")]["value"] == PRICES["bitstamp"]
    assert readings[("btc.price.deribit_index", "deribit")]["value"] == PRICES["deribit"]
    price = readings[("btc.price", "consensus")]
    assert price["value"] == pytest.approx((69_000 + 69_010) / 2)  # median of the four venues
    assert set(price) == {"id", "value", "unit", "source", "observed_at", "age_s", "stale"}
    assert price["unit"] == "USD"
    assert price["stale"] is False
    sources = {s["name"]: s for s in doc["sources"]}
    assert set(sources) >= set(registry.NAMES)
    assert sources["deribit"]["status"] == "ok"
    assert sources["deribit"]["last_ok_at"] is not None
    # The candle endpoints are not served here: said per endpoint, never a zero reading.
    assert sources["kraken"]["detail"].startswith("ohlc: ")


def test_every_source_unreachable_exits_3_quickly_saying_why() -> None:
    dead = f"http://127.0.0.1:{closed_port()}"
    start = time.monotonic()
    out = btcwatch("snapshot", "--json", env=base_urls(dead))
    elapsed = time.monotonic() - start
    assert out.returncode == 3, out.stderr
    assert elapsed < 15
    doc = json.loads(out.stdout)
    assert doc["readings"] == []
    sources = {s["name"]: s for s in doc["sources"]}
    for spec in registry.ALL:
        got = sources[spec.name]
        assert got["last_ok_at"] is None
        if spec.needs_key:  # never asked without a key, and says where the key goes
            assert (got["status"], got["detail"]) == (
                "needs key",
                f"needs key: config: sources.{spec.name}.api_key",
            )
            continue
        # Every other source is asked (the fallbacks too, since their primary failed).
        assert got["status"] == "offline", spec.name
        assert "refused" in got["detail"]
    assert out.stderr == ""


def test_text_snapshot_says_why_each_source_is_missing() -> None:
    dead = f"http://127.0.0.1:{closed_port()}"
    out = btcwatch("snapshot", env=base_urls(dead))
    assert out.returncode == 3
    assert "BTC  price missing" in out.stdout
    assert "kraken" in out.stdout
    assert "offline" in out.stdout


def test_a_bad_config_value_is_one_line_and_exit_2(tmp_path: Path) -> None:
    cfg = tmp_path / "config.toml"
    cfg.write_text("[sources.kraken]\ninterval = 'often'\n")
    out = btcwatch("snapshot", env={"BTCWATCH_CONFIG": str(cfg)})
    assert out.returncode == 2
    assert out.stdout == ""
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "sources.kraken.interval" in lines[0]
    assert str(cfg) in lines[0]
    assert "Traceback" not in out.stderr


def test_bad_usage_exits_2() -> None:
    out = btcwatch("record", "x.jsonl", "--duration", "soon")
    assert out.returncode == 2
    assert "duration" in out.stderr


def test_version_and_help() -> None:
    out = btcwatch("--version")
    assert out.returncode == 0
    assert out.stdout.startswith("btcwatch ")
    out = btcwatch("snapshot", "--help")
    assert out.returncode == 0
    assert "--json" in out.stdout


def test_sources_lists_configured_base_urls() -> None:
    out = btcwatch("sources", env={"BTCWATCH_SOURCES__KRAKEN__BASE_URL": "http://127.0.0.1:1/k"})
    assert out.returncode == 0
    assert "http://127.0.0.1:1/k/Ticker?pair=XBTUSD" in out.stdout
    assert "https://api.exchange.coinbase.com/products/BTC-USD/ticker" in out.stdout


def test_record_then_replay_gives_back_the_same_readings(tmp_path: Path) -> None:
    bodies = real_bodies(datetime.now(UTC), PRICES)
    rec = tmp_path / "session.jsonl.gz"
    with LocalServer() as server:
        for name in PRICE_NAMES:
            server.route(
                LOCAL[name],
                Reply(body=bodies[UPSTREAM[name]], headers={"Content-Type": "application/json"}),
            )
        env = base_urls(server.base_url) | spot_only()
        out = btcwatch("record", str(rec), "--duration", "3s", env=env)
    assert out.returncode == 0, out.stderr
    assert "fetches recorded" in out.stderr
    # Replayed with nothing listening: every answer comes from the file.
    dead = f"http://127.0.0.1:{closed_port()}"
    out = btcwatch("replay", str(rec), "--speed", "50", "--json", env=base_urls(dead))
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["mode"] == "replay"
    readings = {(r["id"], r["source"]): r["value"] for r in doc["readings"]}
    assert readings[("btc.price.kraken", "kraken")] == PRICES["kraken"]
    assert readings[("btc.price.deribit_index", "deribit")] == PRICES["deribit"]


def test_replay_of_a_broken_file_is_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text("this is not a recording\n")
    out = btcwatch("replay", str(bad))
    assert out.returncode == 2
    assert len(out.stderr.strip().splitlines()) == 1
    assert str(bad) in out.stderr
    assert "Traceback" not in out.stderr


def test_check_says_the_verdict_and_exits_3_when_nothing_answers() -> None:
    dead = f"http://127.0.0.1:{closed_port()}"
    out = btcwatch("check", "--json", env=base_urls(dead))
    assert out.returncode == 3, out.stderr
    doc = json.loads(out.stdout)
    assert set(doc) == {
        "generated_at",
        "mode",
        "btcwatch_version",
        "checklist",
        "verdict",
        "notices",
    }
    assert doc["verdict"]["call"] == "no data"
    text = btcwatch("check", env=base_urls(dead))
    assert text.returncode == 3
    assert "verdict: NO DATA · no consensus price" in text.stdout
    assert "waiting for farside" in text.stdout
