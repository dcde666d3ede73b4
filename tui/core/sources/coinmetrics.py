"""Coin Metrics Community: realized cap and the free net-realized-P/L proxy (SOURCES.md §11)."""

from __future__ import annotations

import statistics
from datetime import UTC, datetime, timedelta
from typing import Final

from tui.core.errors import BlockedError, ParseError, RateLimitedError
from tui.core.model import Json, Observation
from tui.core.sources.parsing import field, number, timestamp
from tui.core.sources.spec import Endpoint, SourceSpec

NAME: Final = "coinmetrics"

MARKET_CAP: Final = "CapMrktCurUSD"
MVRV: Final = "CapMVRVCur"
ISSUANCE: Final = "IssTotUSD"
#: ``CapRealUSD`` answers 403 on the community tier (SOURCES.md §11), so realized cap comes from
#: MVRV = market cap / realized cap. ``IssTotUSD`` (new coins x that day's price) is the
#: issuance term of the identity below; it is community-available like the other two.
METRICS: Final = (MARKET_CAP, MVRV, ISSUANCE)
#: Days of 7-day means needed: 7 daily changes need 8 consecutive days of realized cap.
WINDOW: Final = 7
#: 40 rows: the latest ~5 weeks, enough for a month of 7-day means as history.
PAGE_SIZE: Final = 40

_DAY: Final = timedelta(days=1)
_CAP_RANGE: Final = (1e8, 1e15)
_MVRV_RANGE: Final = (0.05, 50.0)
_ISSUANCE_RANGE: Final = (0.0, 1e11)
#: Error ``type`` words that mean "slow down". Coin Metrics documents 429 Too Many Requests
#: (docs.coinmetrics.io, Rate limits) but no example body: these words are a guess that only
#: matters if such a body ever arrives with HTTP 200; a real 429 is handled by its status.
_RATE_WORDS: Final = ("rate", "too_many")


def _check_error(body: Json) -> None:
    """Raise for Coin Metrics' error envelope ``{"error": {"type", "message"}}``.

    Documented types include ``forbidden`` (HTTP 403: "Requested metric 'CapRealUSD' with
    frequency '1d' for asset 'btc' is not available with supplied credentials."),
    ``unauthorized``/``wrong_credentials`` (401) and ``bad_parameter`` (400) — the
    ``ErrorResponse`` of Coin Metrics' OpenAPI (GitHub coinmetrics/api-client-python
    ``openapi.yaml``). Normally these come with a non-2xx status and never reach a parser.
    """
    if not isinstance(body, dict) or "error" not in body:
        return
    error = body["error"]
    kind = error.get("type") if isinstance(error, dict) else None
    message = error.get("message") if isinstance(error, dict) else error
    text = f"Coin Metrics: {message if isinstance(message, str) else kind or 'error'}"
    kind = kind if isinstance(kind, str) else ""
    if kind in ("forbidden", "unauthorized", "wrong_credentials"):
        raise BlockedError(403 if kind == "forbidden" else 401, text)
    if any(word in kind.lower() for word in _RATE_WORDS):
        raise RateLimitedError(429, until=None, detail=text)
    raise ParseError(text)


def _day(value: Json, what: str) -> datetime:
    at = timestamp(value, what=what)
    if at.timestamp() % 86_400:
        raise ParseError(f"{what}: not a daily row (does not start at 00:00 UTC)")
    return at


def _realized_caps(body: Json) -> tuple[dict[datetime, float], dict[datetime, float]]:
    """Realized cap and issuance (USD) per day, from the rows that have all three metrics.

    A metric missing from a row means "not supported" (or not on this tier) and fails the parse;
    a ``null`` value means "no data that day" (Coin Metrics' strict policy for partially
    available metrics): that day is a gap, never a zero.
    """
    rows = field(body, "data")
    if not isinstance(rows, list):
        raise ParseError(f"expected a list at 'data', got {type(rows).__name__}")
    caps: dict[datetime, float] = {}
    issued: dict[datetime, float] = {}
    for i in range(len(rows)):
        asset = field(body, "data", i, "asset")
        if asset != "btc":
            raise ParseError(f"data[{i}].asset: expected 'btc', got {asset!r}")
        day = _day(field(body, "data", i, "time"), f"data[{i}].time")
        values = [field(body, "data", i, metric) for metric in METRICS]
        if any(v is None for v in values):
            continue
        cap = number(values[0], what=f"data[{i}].{MARKET_CAP}", lo=_CAP_RANGE[0], hi=_CAP_RANGE[1])
        mvrv = number(values[1], what=f"data[{i}].{MVRV}", lo=_MVRV_RANGE[0], hi=_MVRV_RANGE[1])
        iss = number(
            values[2], what=f"data[{i}].{ISSUANCE}", lo=_ISSUANCE_RANGE[0], hi=_ISSUANCE_RANGE[1]
        )
        realized = cap / mvrv
        if caps.setdefault(day, realized) != realized:
            raise ParseError(f"data[{i}]: two different rows for {day:%Y-%m-%d}")
        issued[day] = iss
    return caps, issued


def parse_asset_metrics(body: Json, fetched_at: datetime) -> list[Observation]:
    """``onchain.realized_cap`` (USD) and ``onchain.net_realized_pnl.7d`` (USD/day) per day.

    Realized cap = ``CapMrktCurUSD / CapMVRVCur``. A moved coin's realized value changes by its
    realized profit or loss, and new coins enter at that day's price, so
    ``ΔRealizedCap(day) = profit − loss + issuance``; the proxy is the 7-day mean of
    ``ΔRealizedCap − IssTotUSD``. It nets profits against losses: it is not realized loss.

    Each daily row (``time`` = the day's 00:00 UTC, values at its close) is observed at the
    day's end, or at ``fetched_at`` if that is earlier; every day with a full 7-day window is
    kept as history.
    """
    _check_error(body)
    caps, issued = _realized_caps(body)
    if not caps:
        raise ParseError("no daily rows with all of " + ", ".join(METRICS))

    def observed(day: datetime) -> datetime:
        return min(day + _DAY, fetched_at.astimezone(UTC))

    out = [
        Observation("onchain.realized_cap", cap, "USD", NAME, observed(day))
        for day, cap in sorted(caps.items())
    ]
    net = {
        day: cap - caps[day - _DAY] - issued[day] for day, cap in caps.items() if day - _DAY in caps
    }
    means = 0
    for day in sorted(net):
        window = [net.get(day - k * _DAY) for k in range(WINDOW)]
        if all(v is not None for v in window):
            mean = statistics.fmean(v for v in window if v is not None)
            out.append(
                Observation("onchain.net_realized_pnl.7d", mean, "USD/day", NAME, observed(day))
            )
            means += 1
    if not means:
        n = len(caps)
        raise ParseError(
            f"needs {WINDOW + 1} consecutive days for a 7-day mean, got {n} day{'s' * (n != 1)}"
        )
    return out


SPEC: Final = SourceSpec(
    name=NAME,
    title="Coin Metrics Community",
    bucket="onchain",
    base_url="https://community-api.coinmetrics.io/v4",
    endpoints=(
        Endpoint(
            "asset_metrics",
            "/timeseries/asset-metrics",
            parse_asset_metrics,
            # No start_time: ``paging_from=end`` (the documented default for this endpoint)
            # makes the first page the newest ``page_size`` rows, so a static query always
            # returns the latest ~40 days; the older pages (next_page_url) are not needed.
            params={
                "assets": "btc",
                "metrics": ",".join(METRICS),
                "frequency": "1d",
                "page_size": str(PAGE_SIZE),
                "paging_from": "end",
            },
        ),
    ),
    # Daily values land about a day late (SOURCES.md §11): every 6 h is plenty.
    interval_s=6 * 3600.0,
    docs_url="https://docs.coinmetrics.io/api-reference/timeseries/timeseries-rest/asset-metrics",
    # Yesterday's row is normal until it is two days late.
    stale_after_s=3 * 86_400.0,
    # "10 requests per 6 seconds sliding window for an IP address" (Rate limits, Coin Metrics
    # API v4 OpenAPI); one request every 6 h is far inside it.
    min_spacing_s=1.0,
)
