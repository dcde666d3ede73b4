"""Where btcwatch keeps its config, history and cache (platformdirs; env overrides)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Final

import platformdirs

APP: Final = "btcwatch"
ENV_DATA_DIR: Final = "BTCWATCH_DATA_DIR"
ENV_CONFIG: Final = "BTCWATCH_CONFIG"


def config_file() -> Path:
    """The TOML config file: ``$BTCWATCH_CONFIG`` or ``<user config dir>/btcwatch/config.toml``."""
    override = os.environ.get(ENV_CONFIG)
    if override:
        return Path(override).expanduser()
    return Path(platformdirs.user_config_dir(APP, appauthor=False)) / "config.toml"


def data_dir() -> Path:
    """The history store's folder: ``$BTCWATCH_DATA_DIR`` or the user data dir."""
    override = os.environ.get(ENV_DATA_DIR)
    if override:
        return Path(override).expanduser()
    return Path(platformdirs.user_data_dir(APP, appauthor=False))


def cache_dir() -> Path:
    """Disposable files (under the data dir when it is overridden, so tests stay contained)."""
    if os.environ.get(ENV_DATA_DIR):
        return data_dir() / "cache"
    return Path(platformdirs.user_cache_dir(APP, appauthor=False))


def store_file() -> Path:
    """The SQLite history database."""
    return data_dir() / "history.sqlite3"
