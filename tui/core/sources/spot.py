"""The spot price sources alone: what the first frame needs, without importing every source."""

from __future__ import annotations

from typing import Final

from tui.core.sources import bitstamp, coinbase, deribit, kraken
from tui.core.sources.spec import SourceSpec

#: The price bucket's sources, in display order (the head of ``registry.ALL``).
SPOT: Final[tuple[SourceSpec, ...]] = (coinbase.SPEC, kraken.SPEC, bitstamp.SPEC, deribit.SPEC)
