"""Settings from the TOML config file and ``BTCWATCH_*`` environment variables.

Precedence: built-in defaults < config file < environment. Every bad value is a
``ConfigError`` whose one line names the field and where the value came from (the file, or the
environment variable).

Example ``config.toml``::

    pivot = 70000
    high_test_tolerance_pct = 0.3   # how close to the day's high counts as a test of it

    [absorption_band]          # on-chain cost-basis cluster (Glassnode, Feb 2026): config, not live
    low = 66900
    high = 70600

    [retest_band]
    low = 50000
    high = 60000

    [store]                    # retention of the history database
    raw_days = 7               # raw response bodies kept for drill-down
    minute_after_days = 7      # readings older than this keep one value a minute
    hour_after_days = 90       # ... and older than this one value an hour

    [sources.kraken]
    enabled = true
    interval = 15              # seconds between fetches (default: the source's own)
    base_url = "https://api.kraken.com/0/public"   # may carry a path prefix, as behind a proxy
    stale_after = 60           # seconds before a value is shown as stale
    # api_key = "..."          # only for sources that need one; never logged or shown

    [rules.funding.positive]   # a checklist condition (rows and names: tui/core/rules)
    threshold = 0              # % per 8h
    hold_h = 8                 # hours it must hold (hold_n: the last n readings, daily series)
    [rules.funding]
    exit_h = 2                 # a confirmed state is left after its condition failed this long

    [alerts]
    command = "notify-send btcwatch \"$BTCWATCH_ALERT_ID: $BTCWATCH_ALERT_CUR\""
    bell = true
    [alerts.mute]
    mining = true              # no alert when this row flips

The same as environment: ``BTCWATCH_PIVOT=70000``, ``BTCWATCH_RETEST_BAND__LOW=50000``,
``BTCWATCH_SOURCES__KRAKEN__BASE_URL=http://127.0.0.1:8080/0/public``.
"""

from __future__ import annotations

import os
import stat
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Final

from tui.core import paths
from tui.core.errors import ConfigError
from tui.core.rules import DEFAULT_RULES, configured
from tui.core.store import Retention

#: Provider names of SOURCES.md, lower case: the valid ``[sources.<name>]`` sections.
PROVIDERS: Final = (
    "coinbase",
    "kraken",
    "bitstamp",
    "deribit",
    "deribit_futures",
    "deribit_options",
    "binance",
    "bybit",
    "okx",
    "farside",
    "glassnode",
    "coinmetrics",
    "bgeometrics",
    "mempool",
    "yahoo",
    "fred",
    "stooq",
)
ENV_PREFIX: Final = "BTCWATCH_"
#: Environment variables that are not settings (paths, switches read elsewhere).
#: Alert commands run with these set (``BTCWATCH_ALERT_ID`` ...): a btcwatch they start must not
#: take them for settings.
ALERT_ENV: Final = (
    "BTCWATCH_ALERT_ID",
    "BTCWATCH_ALERT_PREV",
    "BTCWATCH_ALERT_CUR",
    "BTCWATCH_ALERT_REASON",
)
ENV_NOT_SETTINGS: Final = frozenset(
    {paths.ENV_CONFIG, paths.ENV_DATA_DIR, "BTCWATCH_DEBUG", *ALERT_ENV}
)


@dataclass(frozen=True, slots=True)
class Band:
    """A price range in USD, ``low`` < ``high``."""

    low: float
    high: float
    note: str = ""
    """Where the band comes from (shown beside it so nobody mistakes it for a live figure)."""

    def contains(self, price: float) -> bool:
        """True when ``low <= price <= high``."""
        return self.low <= price <= self.high


@dataclass(frozen=True, slots=True)
class SourceSettings:
    """Per-source overrides; ``None`` means the source's own default."""

    enabled: bool = True
    interval: float | None = None
    """Seconds between fetches of the source's main endpoints."""
    base_url: str | None = None
    """Where to send requests instead of the provider's host (a proxy, a self-hosted node)."""
    stale_after: float | None = None
    """Seconds after which a value from this source is stale."""
    api_key: str | None = field(default=None, repr=False)
    """Secret: never logged, shown or recorded."""


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything btcwatch can be told."""

    pivot: float = 70_000.0
    """The level the whole product watches."""
    high_test_tolerance_pct: float = 0.3
    """How close to the day's high counts as a test of it, in percent."""
    absorption_band: Band = Band(66_900.0, 70_600.0, "Glassnode, Feb 2026")
    retest_band: Band = Band(50_000.0, 60_000.0)
    retention: Retention = field(default_factory=Retention)
    sources: Mapping[str, SourceSettings] = field(default_factory=dict)
    config_path: Path | None = None
    """The file that was read, if any."""
    warnings: tuple[str, ...] = ()
    """One-line warnings for the user (e.g. a readable file holding a key)."""
    rules: Mapping[str, float] = field(default_factory=dict)
    """Checklist overrides: ``{"funding.positive.hold_h": 12}`` (see ``tui.core.rules``)."""
    alert_command: str | None = None
    """Run (by the shell) when a checklist row or the verdict flips; ``BTCWATCH_ALERT_*`` set."""
    alert_bell: bool = True
    """Ring the terminal bell on a flip (it reaches you over SSH)."""
    muted: frozenset[str] = frozenset()
    """Rows (or ``verdict``) whose flips raise no alert."""

    def source(self, name: str) -> SourceSettings:
        """The settings of source ``name`` (defaults when not configured)."""
        return self.sources.get(name, SourceSettings())


def load(path: Path | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """Read the config file (if it exists) and the environment.

    Args:
        path: the config file; defaults to ``$BTCWATCH_CONFIG``, then ``paths.config_file()``. A
            missing file means defaults, unless it was named through ``BTCWATCH_CONFIG``.
        environ: the environment (defaults to ``os.environ``).

    Raises:
        ConfigError: on any bad value, naming the field and its origin.
    """
    env = os.environ if environ is None else environ
    explicit = path is None and bool(env.get(paths.ENV_CONFIG))
    if path is None:
        path = Path(env[paths.ENV_CONFIG]).expanduser() if env.get(paths.ENV_CONFIG) else None
    file = path if path is not None else paths.config_file()
    raw: dict[str, tuple[object, str]] = {}
    warnings: list[str] = []
    if file.exists():
        origin = str(file)
        try:
            with file.open("rb") as fh:
                doc = tomllib.load(fh)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError("(file)", f"invalid TOML: {exc}", origin) from None
        except OSError as exc:
            raise ConfigError("(file)", f"cannot read: {exc.strerror}", origin) from None
        _flatten(doc, "", origin, raw)
        if any(k.endswith(".api_key") for k in raw) and _readable_by_others(file):
            warnings.append(
                f"{file} holds an API key and other users can read it: chmod 600 {file}"
            )
    elif explicit:
        raise ConfigError("(file)", "no such file", f"{paths.ENV_CONFIG}={file}")
    for name, value in env.items():
        if name.startswith(ENV_PREFIX) and name not in ENV_NOT_SETTINGS:
            key = ".".join(name[len(ENV_PREFIX) :].lower().split("__"))
            raw[key] = (value, f"environment {name}")
    return _build(raw, file if file.exists() else None, tuple(warnings))


def _flatten(
    doc: Mapping[str, object], prefix: str, origin: str, out: dict[str, tuple[object, str]]
) -> None:
    for key, value in doc.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, Mapping):
            _flatten(value, dotted + ".", origin, out)
        else:
            out[dotted] = (value, origin)


def _readable_by_others(file: Path) -> bool:
    try:
        return bool(file.stat().st_mode & (stat.S_IRGRP | stat.S_IROTH))
    except OSError:
        return False


_BAND_FIELDS: Final = ("low", "high", "note")
_SOURCE_FIELDS: Final = ("enabled", "interval", "base_url", "stale_after", "api_key")
_RETENTION_FIELDS: Final = ("raw_days", "minute_after_days", "hour_after_days")


def _build(
    raw: Mapping[str, tuple[object, str]], path: Path | None, warnings: tuple[str, ...]
) -> Settings:
    defaults = Settings()
    pivot = defaults.pivot
    tolerance = defaults.high_test_tolerance_pct
    bands = {"absorption_band": defaults.absorption_band, "retest_band": defaults.retest_band}
    band_nums: dict[str, dict[str, float]] = {k: {} for k in bands}
    band_notes: dict[str, str] = {}
    retention: dict[str, float] = {}
    sources: dict[str, SourceSettings] = {}
    band_origin: dict[str, str] = {}
    rules: dict[str, float] = {}
    alert_command: str | None = None
    bell = True
    muted: set[str] = set()
    for key, (value, origin) in sorted(raw.items()):
        parts = key.split(".")
        if parts == ["pivot"]:
            pivot = _number(key, value, origin, lo=1.0, hi=10_000_000.0)
        elif parts == ["high_test_tolerance_pct"]:
            tolerance = _number(key, value, origin, lo=0.01, hi=10.0)
        elif len(parts) == 2 and parts[0] in bands and parts[1] in _BAND_FIELDS:
            if parts[1] == "note":
                band_notes[parts[0]] = _text(key, value, origin)
            else:
                band_nums[parts[0]][parts[1]] = _number(key, value, origin, lo=1.0, hi=10_000_000.0)
            band_origin[parts[0]] = origin
        elif len(parts) == 2 and parts[0] == "store" and parts[1] in _RETENTION_FIELDS:
            retention[parts[1]] = _number(key, value, origin, lo=0.01, hi=36_500.0)
        elif len(parts) == 3 and parts[0] == "sources" and parts[2] in _SOURCE_FIELDS:
            if parts[1] not in PROVIDERS:
                raise ConfigError(
                    f"sources.{parts[1]}", f"unknown source (known: {', '.join(PROVIDERS)})", origin
                )
            current = sources.get(parts[1], SourceSettings())
            sources[parts[1]] = _source_field(current, key, parts[2], value, origin)
        elif len(parts) >= 3 and parts[0] == "rules":
            number = _number(key, value, origin, lo=-1e15, hi=1e15)
            configured({".".join(parts[1:]): number}, origin)  # names the bad key, with origin
            rules[".".join(parts[1:])] = number
        elif parts == ["alerts", "command"]:
            alert_command = _text(key, value, origin)
        elif parts == ["alerts", "bell"]:
            bell = _bool(key, value, origin)
        elif len(parts) == 3 and parts[:2] == ["alerts", "mute"]:
            rows = {r.key for r in DEFAULT_RULES} | {"verdict"}
            if parts[2] not in rows:
                raise ConfigError(
                    key, f"no checklist row {parts[2]!r} (rows: {', '.join(sorted(rows))})", origin
                )
            if _bool(key, value, origin):
                muted.add(parts[2])
        else:
            raise ConfigError(key, "unknown setting", origin)
    built_bands: dict[str, Band] = {}
    for name, default in bands.items():
        nums = band_nums[name]
        low = nums.get("low", default.low)
        high = nums.get("high", default.high)
        # A moved band is the user's own: the default's provenance no longer applies.
        note = band_notes.get(name, "" if nums else default.note)
        if low >= high:
            raise ConfigError(
                name, f"low ({low:g}) must be below high ({high:g})", band_origin[name]
            )
        built_bands[name] = Band(low, high, note)
    return Settings(
        pivot=pivot,
        high_test_tolerance_pct=tolerance,
        absorption_band=built_bands["absorption_band"],
        retest_band=built_bands["retest_band"],
        retention=Retention(**retention),
        sources=MappingProxyType(sources),
        config_path=path,
        warnings=warnings,
        rules=MappingProxyType(rules),
        alert_command=alert_command,
        alert_bell=bell,
        muted=frozenset(muted),
    )


def _source_field(
    current: SourceSettings, key: str, name: str, value: object, origin: str
) -> SourceSettings:
    if name == "enabled":
        return replace(current, enabled=_bool(key, value, origin))
    if name in ("interval", "stale_after"):
        seconds = _number(key, value, origin, lo=1.0, hi=7 * 86_400.0, what="a number of seconds")
        if name == "interval":
            return replace(current, interval=seconds)
        return replace(current, stale_after=seconds)
    if name == "base_url":
        url = _text(key, value, origin).strip()
        if not url.startswith(("http://", "https://")):
            raise ConfigError(key, f"expected an http:// or https:// URL, got {url!r}", origin)
        return replace(current, base_url=url)
    return replace(current, api_key=_text(key, value, origin, secret=True))


def _number(
    key: str, value: object, origin: str, *, lo: float, hi: float, what: str = "a number"
) -> float:
    if isinstance(value, bool):
        raise ConfigError(key, f"expected {what}, got {value!r}", origin)
    try:
        number = float(value) if isinstance(value, int | float | str) else float("nan")
    except ValueError:
        raise ConfigError(key, f"expected {what}, got {value!r}", origin) from None
    if number != number:  # NaN: not a number at all
        raise ConfigError(key, f"expected {what}, got {value!r}", origin)
    if not lo <= number <= hi:
        raise ConfigError(key, f"expected {what} from {lo:g} to {hi:g}, got {number:g}", origin)
    return number


def _bool(key: str, value: object, origin: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "1", "yes", "on"):
        return True
    if isinstance(value, str) and value.strip().lower() in ("false", "0", "no", "off"):
        return False
    raise ConfigError(key, f"expected true or false, got {value!r}", origin)


def _text(key: str, value: object, origin: str, *, secret: bool = False) -> str:
    if not isinstance(value, str) or not value.strip():
        shown = "a secret value" if secret and isinstance(value, str) else repr(value)
        raise ConfigError(key, f"expected a non-empty string, got {shown}", origin)
    return value
