"""Every source btcwatch knows, in display order, and lookup by name."""

from __future__ import annotations

from typing import Final

from tui.core.sources import (
    binance,
    bybit,
    coinmetrics,
    deribit,
    farside,
    fred,
    glassnode,
    mempool,
    okx,
    stooq,
    yahoo,
)
from tui.core.sources.spec import SourceSpec
from tui.core.sources.spot import SPOT

#: All sources, in the order the UI lists them.
ALL: Final[tuple[SourceSpec, ...]] = (
    *SPOT,
    deribit.FUTURES_SPEC,
    binance.SPEC,
    bybit.SPEC,
    okx.SPEC,
    deribit.OPTIONS_SPEC,
    farside.SPEC,
    glassnode.SPEC,
    coinmetrics.SPEC,
    mempool.SPEC,
    yahoo.SPEC,
    stooq.SPEC,
    fred.SPEC,
)

#: Their names, in the same order (the config's ``[sources.<name>]`` sections).
NAMES: Final[tuple[str, ...]] = tuple(spec.name for spec in ALL)

_BY_NAME: Final = {spec.name: spec for spec in ALL}


def by_name(name: str) -> SourceSpec:
    """The source called ``name``.

    Raises:
        KeyError: no source has that name.
    """
    try:
        return _BY_NAME[name]
    except KeyError:
        raise KeyError(f"unknown source {name!r} (known: {', '.join(NAMES)})") from None
