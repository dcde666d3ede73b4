"""Glassnode (API key): BTC realized loss, as a 7-day mean (SOURCES.md §11)."""

from __future__ import annotations

import statistics
from datetime import UTC, datetime, timedelta
from typing import Final

from tui.core.errors import ParseError, RateLimitedError
from tui.core.model import Json, Observation
from tui.core.sources.parsing import field, number, timestamp
from tui.core.sources.spec import Endpoint, SourceSpec

NAME: Final = "glassnode"

#: "Specify the api_key query parameter or X-Api-Key header with your API key with all
#: endpoints" (docs.glassnode.com/basic-api/api-key). The header keeps the key out of URLs,
#: logs and recordings (``redact.SECRET_HEADERS`` lists ``x-api-key``).
KEY_HEADER: Final = "X-Api-Key"
#: Where the user puts the key; the pane quotes it.
KEY_SETTING: Final = "sources.glassnode.api_key"
WINDOW: Final = 7
#: 7-day means kept as history: about the last two months (the body holds the whole history).
HISTORY_DAYS: Final = 60

_DAY: Final = timedelta(days=1)
#: Realized loss in USD a day; the largest days so far are a few $B.
_LOSS_RANGE: Final = (-1e12, 1e12)


def key_headers(api_key: str) -> dict[str, str]:
    """The request headers that carry ``api_key`` (the engine adds them; see the module note)."""
    return {KEY_HEADER: api_key}


def _check_error(body: Json) -> None:
    """Raise for Glassnode's ``ErrorResponse`` ``{"error": "<text>"}`` (its OpenAPI schema)."""
    if isinstance(body, dict) and "error" in body:
        text = f"Glassnode: {body['error']}"
        if "rate" in text.lower() or "too many" in text.lower():
            raise RateLimitedError(429, until=None, detail=text)
        raise ParseError(text)


def parse_realized_loss(body: Json, fetched_at: datetime) -> list[Observation]:
    """``onchain.realized_loss.7d`` (USD/day): the mean of each 7 consecutive daily values.

    ``GET /v1/metrics/indicators/realized_loss?a=BTC&i=24h`` answers ``[{"t": unix s, "v": USD}]``
    (``TimeSeriesDataPoint`` in Glassnode's OpenAPI; docs examples such as indicators/
    cdd90_age_adjusted ``[{"t":1677715200,"v":110600.96…}, …]``). With ``i=24h``, ``t`` is the
    day's 00:00 UTC and ``v`` covers that day, so each mean is observed at its last day's end
    (or ``fetched_at`` if earlier). A missing day breaks the window: never filled in.
    """
    _check_error(body)
    if not isinstance(body, list):
        raise ParseError(f"expected a list of {{t, v}} points, got {type(body).__name__}")
    days: dict[datetime, float] = {}
    for i in range(len(body)):
        at = timestamp(field(body, i, "t"), what=f"[{i}].t")
        if at.timestamp() % 86_400:
            raise ParseError(f"[{i}].t: not a daily point (does not start at 00:00 UTC)")
        # A magnitude: Glassnode publishes it positive; a negative sign would mean the same loss.
        value = abs(
            number(field(body, i, "v"), what=f"[{i}].v", lo=_LOSS_RANGE[0], hi=_LOSS_RANGE[1])
        )
        if days.setdefault(at, value) != value:
            raise ParseError(f"[{i}]: two different values for {at:%Y-%m-%d}")
    ordered = sorted(days)
    out: list[Observation] = []
    for day in ordered[-HISTORY_DAYS:]:
        window = [days.get(day - k * _DAY) for k in range(WINDOW)]
        if all(v is not None for v in window):
            mean = statistics.fmean(v for v in window if v is not None)
            at = min(day + _DAY, fetched_at.astimezone(UTC))
            out.append(Observation("onchain.realized_loss.7d", mean, "USD/day", NAME, at))
    if not out:
        n = len(days)
        raise ParseError(f"needs {WINDOW} consecutive daily values, got {n} day{'s' * (n != 1)}")
    return out


SPEC: Final = SourceSpec(
    name=NAME,
    title="Glassnode",
    bucket="onchain",
    base_url="https://api.glassnode.com",
    endpoints=(
        Endpoint(
            "realized_loss",
            "/v1/metrics/indicators/realized_loss",
            parse_realized_loss,
            # No ``s`` (since): the query is static, so the whole daily history comes back
            # (a few hundred kB); an engine that fills ``s=<now − 40 d>`` would trim it.
            params={"a": "BTC", "i": "24h"},
        ),
    ),
    # API access is a paid add-on; the "Light API" is capped at 50 calls a day (SOURCES.md §11).
    interval_s=12 * 3600.0,
    docs_url="https://docs.glassnode.com/basic-api/endpoints/indicators",
    stale_after_s=3 * 86_400.0,
    # "Defaults to 600 req/min" (docs.glassnode.com/basic-api/api-credits).
    min_spacing_s=1.0,
    needs_key=True,
)
