"""Config: defaults, TOML, environment nesting, one-line errors naming field and origin."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tui.core import config
from tui.core.errors import ConfigError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text)
    path.chmod(0o600)
    return path


def test_defaults_follow_the_article(tmp_path: Path) -> None:
    s = config.load(tmp_path / "absent.toml", environ={})
    assert s.pivot == 70_000
    assert (s.absorption_band.low, s.absorption_band.high) == (66_900, 70_600)
    assert s.absorption_band.note == "Glassnode, Feb 2026"
    assert (s.retest_band.low, s.retest_band.high) == (50_000, 60_000)
    assert s.source("kraken").enabled is True
    assert s.source("kraken").base_url is None
    assert s.config_path is None


def test_file_then_environment_precedence(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "pivot = 71000\n[retest_band]\nlow = 52000\nhigh = 61000\n"
        '[sources.kraken]\ninterval = 30\nbase_url = "http://127.0.0.1:9/proxy/0/public"\n'
        "[store]\nraw_days = 3\n",
    )
    s = config.load(
        path,
        environ={
            "BTCWATCH_PIVOT": "72000",
            "BTCWATCH_SOURCES__COINBASE__ENABLED": "false",
            "BTCWATCH_SOURCES__KRAKEN__STALE_AFTER": "90",
        },
    )
    assert s.pivot == 72_000  # env beats file
    assert (s.retest_band.low, s.retest_band.high) == (52_000, 61_000)
    assert s.retest_band.note == ""
    assert s.source("kraken").interval == 30
    assert s.source("kraken").stale_after == 90
    assert s.source("kraken").base_url == "http://127.0.0.1:9/proxy/0/public"
    assert s.source("coinbase").enabled is False
    assert s.retention.raw_days == 3
    assert s.config_path == path


@pytest.mark.parametrize(
    ("text", "field", "fragment"),
    [
        ("pivot = 'abc'", "pivot", "expected a number"),
        ("pivot = -5", "pivot", "from 1 to"),
        ("pivot = true", "pivot", "expected a number"),
        ("[sources.kraken]\ninterval = 0", "sources.kraken.interval", "seconds"),
        ("[sources.kraken]\nenabled = 'maybe'", "sources.kraken.enabled", "true or false"),
        ("[sources.kraken]\nbase_url = 'ftp://x'", "sources.kraken.base_url", "http://"),
        ("[sources.krakn]\nenabled = true", "sources.krakn", "unknown source"),
        ("colour = 'red'", "colour", "unknown setting"),
        ("[retest_band]\nlow = 70000\nhigh = 60000", "retest_band", "must be below"),
    ],
)
def test_bad_file_values_name_field_and_file(
    tmp_path: Path, text: str, field: str, fragment: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        config.load(path, environ={})
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"config error: {field}:")
    assert fragment in message
    assert str(path) in message


def test_bad_environment_value_names_the_variable(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        config.load(
            tmp_path / "absent.toml", environ={"BTCWATCH_SOURCES__KRAKEN__INTERVAL": "soon"}
        )
    assert "sources.kraken.interval" in str(info.value)
    assert "environment BTCWATCH_SOURCES__KRAKEN__INTERVAL" in str(info.value)


def test_invalid_toml_is_one_line(tmp_path: Path) -> None:
    path = write(tmp_path, "pivot = = 3\n")
    with pytest.raises(ConfigError, match="invalid TOML") as info:
        config.load(path, environ={})
    assert "\n" not in str(info.value)


def test_explicit_missing_file_is_an_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    with pytest.raises(ConfigError, match="no such file"):
        config.load(environ={"BTCWATCH_CONFIG": str(missing)})


def test_paths_and_debug_variables_are_not_settings(tmp_path: Path) -> None:
    s = config.load(
        tmp_path / "absent.toml",
        environ={"BTCWATCH_DATA_DIR": str(tmp_path), "BTCWATCH_DEBUG": "1"},
    )
    assert s.pivot == 70_000


def test_readable_key_file_warns_and_key_is_not_in_repr(tmp_path: Path) -> None:
    path = write(tmp_path, '[sources.glassnode]\napi_key = "SECRET-KEY-123"\n')
    os.chmod(path, 0o644)
    s = config.load(path, environ={})
    assert s.source("glassnode").api_key == "SECRET-KEY-123"
    assert len(s.warnings) == 1
    assert "chmod 600" in s.warnings[0]
    assert "SECRET-KEY-123" not in repr(s)
    assert "SECRET-KEY-123" not in s.warnings[0]
    os.chmod(path, 0o600)
    assert config.load(path, environ={}).warnings == ()


def test_empty_api_key_error_does_not_echo_secret_shape(tmp_path: Path) -> None:
    path = write(tmp_path, '[sources.glassnode]\napi_key = "  "\n')
    with pytest.raises(ConfigError) as info:
        config.load(path, environ={})
    assert "secret" in str(info.value)
