"""The checklist as data: DOMAIN.md's six rows, each a bullish and a bearish side over readings.

A side holds when every one of its conditions holds. A condition is a reading compared with a
threshold that has held *for a while*: ``hold_s`` seconds of readings in a row, or the last
``hold_n`` readings (for daily series such as ETF flows, where a weekend is not a gap). A row in a
confirmed state leaves it only after one of that side's conditions has failed for ``exit_s``
(hysteresis), so one noisy reading never flips a row. Defaults follow the article (DOMAIN.md);
every threshold and duration can be overridden in config (``[rules.<row>.<condition>]``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Final, Literal

from tui.core.errors import ConfigError
from tui.core.model import CONSENSUS

Op = Literal[">", "<"]
Side = Literal["bullish", "bearish"]
HOUR: Final = 3600.0
DAY: Final = 86_400.0


@dataclass(frozen=True, slots=True)
class Cond:
    """One condition: ``id`` (from ``source``) ``op`` ``threshold``, held for a while."""

    name: str
    """Its name in config: ``[rules.<row>.<name>]``."""
    id: str
    source: str
    op: Op
    threshold: float | None
    """``None``: the pivot from config (for conditions on ``btc.price``)."""
    what: str
    """How the reason sentence names the reading (``funding``, ``RR25 30d``)."""
    hold_s: float = 0.0
    hold_n: int = 0
    """When set, the last ``hold_n`` readings must all satisfy it (``hold_s`` is then unused)."""
    max_gap_s: float = 2 * HOUR
    """A longer gap between two readings breaks a run: the condition has not been seen holding."""


@dataclass(frozen=True, slots=True)
class Rule:
    """One checklist row."""

    key: str
    title: str
    bucket: str
    """The dashboard bucket whose sources feed it."""
    bullish: tuple[Cond, ...]
    bearish: tuple[Cond, ...]
    exit_s: float
    """A confirmed state is left only after one of its conditions has failed this long."""
    fallback: Rule | None = None
    """Used instead when this rule's inputs have never been seen (a keyless proxy)."""
    note: str = ""
    """Said in every reason of this rule (``proxy, not realized loss``)."""

    @property
    def conds(self) -> tuple[Cond, ...]:
        """Every condition, bullish first, each input once."""
        return self.bullish + self.bearish


# Funding: "turns positive on the major venues and stays positive (not a 1-2 hour blip)".
FUNDING: Final = Rule(
    "funding",
    "Funding",
    "derivatives",
    bullish=(
        Cond("positive", "funding.oi_weighted", CONSENSUS, ">", 0.0, "funding", hold_s=8 * HOUR),
    ),
    bearish=(Cond("negative", "funding.oi_weighted", CONSENSUS, "<", 0.0, "funding", hold_s=HOUR),),
    exit_s=2 * HOUR,
)
# Skew: about -13 on 6 Feb; "rebounds toward 0 and holds" vs "stays deeply negative".
SKEW: Final = Rule(
    "skew",
    "Options skew",
    "options",
    bullish=(
        Cond(
            "rebound", "options.rr25.30d", "deribit_options", ">", -2.0, "RR25 30d",
            hold_s=12 * HOUR, max_gap_s=3 * HOUR,
        ),
    ),
    bearish=(
        Cond(
            "put_demand", "options.rr25.30d", "deribit_options", "<", -5.0, "RR25 30d",
            hold_s=2 * HOUR, max_gap_s=3 * HOUR,
        ),
    ),
    exit_s=4 * HOUR,
)  # fmt: skip
# Open interest: "stabilises (no fast re-leveraging) while price holds above $70k" vs "rebounds
# quickly". A falling OI (the forced-liquidation phase) is neither: neutral.
LEVERAGE: Final = Rule(
    "leverage",
    "Leverage (OI)",
    "derivatives",
    bullish=(
        Cond("not_rising", "oi.futures.total.chg_24h", CONSENSUS, "<", 3.0, "OI 24h", 12 * HOUR),
        Cond("not_falling", "oi.futures.total.chg_24h", CONSENSUS, ">", -3.0, "OI 24h", 12 * HOUR),
        Cond("above_pivot", "btc.price", CONSENSUS, ">", None, "BTC", hold_s=12 * HOUR),
    ),
    bearish=(
        Cond("rebound", "oi.futures.total.chg_24h", CONSENSUS, ">", 5.0, "OI 24h", hold_s=HOUR),
    ),
    exit_s=4 * HOUR,
)
# ETF flows, per published trading day: "outflows slow to flat, then small inflows" vs
# "outflows over $400-500M a day, several days running" (two days by default: see the README).
FLOWS: Final = Rule(
    "flows",
    "ETF flows",
    "flows",
    bullish=(
        Cond(
            "inflows", "etf.flow.daily", "farside", ">", 0.0, "ETF flow",
            hold_n=2, max_gap_s=5 * DAY,
        ),
    ),
    bearish=(
        Cond(
            "outflows", "etf.flow.daily", "farside", "<", -400.0, "ETF flow",
            hold_n=2, max_gap_s=5 * DAY,
        ),
    ),
    exit_s=0.0,
)  # fmt: skip
# Realized loss (7-day mean) with a Glassnode key; else the keyless net realized P/L proxy.
_PROXY: Final = Rule(
    "onchain",
    "On-chain stress",
    "onchain",
    bullish=(
        Cond(
            "losses_fading", "onchain.net_realized_pnl.7d", "coinmetrics", ">", -0.3e9,
            "net realized P/L 7d", hold_s=3 * DAY, max_gap_s=2 * DAY,
        ),
        Cond("above_pivot", "btc.price", CONSENSUS, ">", None, "BTC", hold_s=DAY),
    ),
    bearish=(
        Cond(
            "losses_high", "onchain.net_realized_pnl.7d", "coinmetrics", "<", -1.26e9,
            "net realized P/L 7d", max_gap_s=2 * DAY,
        ),
    ),
    exit_s=DAY,
    note="proxy, not realized loss",
)  # fmt: skip
ONCHAIN: Final = Rule(
    "onchain",
    "On-chain stress",
    "onchain",
    bullish=(
        Cond(
            "losses_fading", "onchain.realized_loss.7d", "glassnode", "<", 0.63e9,
            "realized loss 7d", hold_s=3 * DAY, max_gap_s=2 * DAY,
        ),
        Cond("above_pivot", "btc.price", CONSENSUS, ">", None, "BTC", hold_s=DAY),
    ),
    bearish=(
        Cond(
            "losses_high", "onchain.realized_loss.7d", "glassnode", ">", 1.26e9,
            "realized loss 7d", max_gap_s=2 * DAY,
        ),
    ),
    exit_s=DAY,
    fallback=_PROXY,
)  # fmt: skip
# Mining: hashprice under $32/PH/s/day was the record low; relief needs it back up with BTC >70k.
MINING: Final = Rule(
    "mining",
    "Miners",
    "mining",
    bullish=(
        Cond(
            "relief", "mining.hashprice", "mempool", ">", 35.0, "hashprice",
            hold_s=DAY, max_gap_s=3 * HOUR,
        ),
        Cond("above_pivot", "btc.price", CONSENSUS, ">", None, "BTC", hold_s=DAY),
    ),
    bearish=(
        Cond(
            "squeeze", "mining.hashprice", "mempool", "<", 32.0, "hashprice",
            hold_s=HOUR, max_gap_s=3 * HOUR,
        ),
    ),
    exit_s=6 * HOUR,
)  # fmt: skip

#: The checklist, in DOMAIN.md's order.
DEFAULT_RULES: Final[tuple[Rule, ...]] = (FUNDING, SKEW, LEVERAGE, FLOWS, ONCHAIN, MINING)

#: What a ``[rules.<row>.<condition>]`` table may set, and the row-level ``exit_h``.
COND_FIELDS: Final = ("threshold", "hold_h", "hold_n")


def configured(overrides: Mapping[str, float], origin: str = "config") -> tuple[Rule, ...]:
    """:data:`DEFAULT_RULES` with ``overrides`` applied.

    Args:
        overrides: ``{"funding.positive.hold_h": 12, "flows.exit_h": 0, ...}``.
        origin: where the overrides came from, for the error message.

    Raises:
        ConfigError: an override names no row, condition or field (one line, naming it).
    """
    rules = {r.key: r for r in DEFAULT_RULES}
    for dotted, value in overrides.items():
        parts = dotted.split(".")
        key = f"rules.{dotted}"
        if parts[0] not in rules:
            known = ", ".join(rules)
            raise ConfigError(key, f"no checklist row {parts[0]!r} (rows: {known})", origin)
        rule = rules[parts[0]]
        if parts[1:] == ["exit_h"]:
            rules[rule.key] = _with_exit(rule, value)
            continue
        if len(parts) != 3 or parts[2] not in COND_FIELDS:
            raise ConfigError(
                key, f"expected rules.{rule.key}.<condition>.<{'|'.join(COND_FIELDS)}>", origin
            )
        names = {c.name for r in _variants(rule) for c in r.conds}
        if parts[1] not in names:
            raise ConfigError(
                key, f"row {rule.key!r} has no condition {parts[1]!r} ({', '.join(sorted(names))})",
                origin,
            )  # fmt: skip
        rules[rule.key] = _with_cond(rule, parts[1], parts[2], value)
    return tuple(rules[r.key] for r in DEFAULT_RULES)


def _variants(rule: Rule) -> list[Rule]:
    out = [rule]
    while out[-1].fallback is not None:
        fb = out[-1].fallback
        assert fb is not None
        out.append(fb)
    return out


def _with_exit(rule: Rule, hours: float) -> Rule:
    fb = None if rule.fallback is None else _with_exit(rule.fallback, hours)
    return replace(rule, exit_s=hours * HOUR, fallback=fb)


def _with_cond(rule: Rule, name: str, field: str, value: float) -> Rule:
    def fix(c: Cond) -> Cond:
        if c.name != name:
            return c
        if field == "threshold":
            return replace(c, threshold=value)
        if field == "hold_h":
            return replace(c, hold_s=value * HOUR)
        return replace(c, hold_n=int(value))

    fb = None if rule.fallback is None else _with_cond(rule.fallback, name, field, value)
    return replace(
        rule,
        bullish=tuple(fix(c) for c in rule.bullish),
        bearish=tuple(fix(c) for c in rule.bearish),
        fallback=fb,
    )
