"""Shared fixtures: every test runs with its own data dir and no user config."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"


@pytest.fixture(autouse=True)
def _isolated_dirs(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No test reads the user's config or writes the user's history."""
    home = tmp_path_factory.mktemp("btcwatch-home")
    for name in list(os.environ):
        if name.startswith("BTCWATCH_"):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("BTCWATCH_DATA_DIR", str(home / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))


def body(provider: str, name: str) -> bytes:
    """A recorded real body from tests/data/<provider>/<name>."""
    return (DATA / provider / name).read_bytes()
