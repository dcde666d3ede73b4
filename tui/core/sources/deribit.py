"""Deribit: the BTC index price (SOURCES.md §5); more public methods join this module later."""

from __future__ import annotations

from datetime import datetime
from typing import Final

from tui.core.errors import ParseError, RateLimitedError
from tui.core.model import Json, Observation
from tui.core.sources.parsing import field, price, timestamp, usd
from tui.core.sources.spec import Endpoint, SourceSpec

NAME: Final = "deribit"

#: "10028 too_many_requests": the credit pool is empty (docs.deribit.com/articles/errors).
_TOO_MANY_REQUESTS: Final = 10028


def _check_envelope(body: Json) -> None:
    """Raise for a JSON-RPC ``error`` object instead of a ``result``.

    Errors arrive as ``{"jsonrpc": "2.0", "error": {"code", "message", "data"?}, ...}``
    (docs.deribit.com/articles/errors).
    """
    if isinstance(body, dict) and body.get("error") is not None:
        code, message = field(body, "error", "code"), field(body, "error", "message")
        text = f"Deribit: {code} {message}"
        if code == _TOO_MANY_REQUESTS:
            raise RateLimitedError(200, until=None, detail=text)
        raise ParseError(text)


def _observed_at(body: Json, fetched_at: datetime) -> datetime:
    """The envelope's ``usOut`` (µs, when the server sent the answer), else ``fetched_at``."""
    if isinstance(body, dict) and body.get("usOut") is not None:
        return timestamp(body["usOut"], what="usOut")
    return fetched_at


def parse_index(body: Json, fetched_at: datetime) -> list[Observation]:
    """``btc.price.deribit_index`` from ``public/get_index_price?index_name=btc_usd``."""
    _check_envelope(body)
    value = price(field(body, "result", "index_price"), "result.index_price")
    return [usd("btc.price.deribit_index", value, NAME, _observed_at(body, fetched_at))]


SPEC: Final = SourceSpec(
    name=NAME,
    title="Deribit",
    bucket="price",
    base_url="https://www.deribit.com/api/v2",
    endpoints=(
        Endpoint(
            "index",
            "/public/get_index_price",
            parse_index,
            params={"index_name": "btc_usd"},
            interval_s=15.0,
        ),
    ),
    interval_s=15.0,
    docs_url="https://docs.deribit.com/api-reference/market-data/public-get_index_price",
    # Credit system: 500 credits a call from a pool refilled at 10,000/s, about 20 calls/s
    # sustained (SOURCES.md §5, docs.deribit.com rate limits).
    min_spacing_s=0.05,
)
