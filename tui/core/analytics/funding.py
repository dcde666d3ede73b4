"""Derivatives across venues: OI in USD, OI-weighted funding and its run, OI total, liquidations.

Inputs come from four sources (SOURCES.md §5-§8): ``deribit_futures`` (``funding.deribit`` and
``oi.futures.deribit``, already USD), ``binance``, ``bybit`` and ``okx``. The venue parsers emit
*parts*, because each endpoint is parsed on its own; :func:`derive` joins them:

- ``oi.futures.binance`` = ``oi.futures.binance_btc`` (BTC, ``/fapi/v1/openInterest``) ×
  ``btc.price.binance_mark`` (USD, ``/fapi/v1/premiumIndex``);
- ``oi.futures.bybit`` = ``oi.futures.bybit_linear`` + ``oi.futures.bybit_inverse`` (USD each);
- ``oi.futures.okx`` = ``oi.futures.okx_usdt_swap`` + ``oi.futures.okx_usd_swap`` (``oiUsd`` each).

A venue's OI is formed only when *all* its parts are fresh: a half venue is never shown as a
venue. Liquidations are OKX only (SOURCES.md §8b): per-liquidation rows summed from history.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from tui.core.analytics import History
from tui.core.config import Settings
from tui.core.model import CONSENSUS, Board, Observation

FUNDING_UNIT: Final = "% per 8h"
HOURS_UNIT: Final = "hours"
#: Every venue publishes a fraction per funding interval; more than 5 % per interval is a unit
#: or parse error, not a market (SOURCES.md §0 range checks: funding |x| < 0.05).
FUNDING_FRACTION_LIMIT: Final = 0.05
#: Plausible futures OI of one BTC instrument in USD (the whole market was ~$61B in Feb 2026).
OI_USD_LIMIT: Final = 1e12

#: A gap longer than this between two stored values of ``funding.oi_weighted`` breaks a positive
#: run: nobody saw what funding did meanwhile, so "stayed positive" cannot be claimed across it.
MAX_GAP: Final = timedelta(hours=2)
#: How far back ``funding.positive_hours`` looks; a run as long as this is shown as a lower bound.
POSITIVE_LOOKBACK: Final = timedelta(days=7)
#: Change windows of the OI total, each with how far from the exact moment a stored value may be.
OI_CHANGES: Final = (
    ("oi.futures.total.chg_24h", timedelta(hours=24), timedelta(hours=1)),
    ("oi.futures.total.chg_7d", timedelta(days=7), timedelta(hours=6)),
)
LIQ_WINDOW: Final = timedelta(hours=24)
#: OKX liquidation families polled (instFamily BTC-USDT and BTC-USD, ``state=filled``).
LIQ_FAMILIES: Final = ("okx_usdt_swap", "okx_usd_swap")


def pct_per_8h(fraction: float, interval_hours: float) -> float:
    """Funding as % per 8 h from a fraction per funding interval (SOURCES.md §0).

    ``pct_8h = fraction × 100 × 8 / interval_hours``: 0.0001 per 8 h is 0.01 %, and 0.0001 per
    hour is 0.08 % per 8 h.
    """
    return fraction * 100.0 * 8.0 / interval_hours


@dataclass(frozen=True, slots=True)
class Venue:
    """One derivatives venue: its funding reading and how its USD open interest is formed."""

    name: str
    funding: tuple[str, str]
    """``(id, source)`` of ``funding.<venue>``."""
    source: str
    """Source of ``oi.futures.<venue>``."""
    oi_parts: tuple[tuple[str, str], ...] = ()
    """USD parts summed into ``oi.futures.<venue>``; empty when it is not a sum of USD parts."""
    joined: bool = True
    """False when a parser publishes ``oi.futures.<venue>`` whole (Deribit): not re-published."""


#: The four venues of DOMAIN.md, in the order the pane lists them.
VENUES: Final = (
    Venue("deribit", ("funding.deribit", "deribit_futures"), "deribit_futures", joined=False),
    Venue("binance", ("funding.binance", "binance"), "binance"),
    Venue(
        "bybit",
        ("funding.bybit", "bybit"),
        "bybit",
        (("oi.futures.bybit_linear", "bybit"), ("oi.futures.bybit_inverse", "bybit")),
    ),
    Venue(
        "okx",
        ("funding.okx", "okx"),
        "okx",
        (("oi.futures.okx_usdt_swap", "okx"), ("oi.futures.okx_usd_swap", "okx")),
    ),
)
#: Every source whose readings feed :func:`derive` (what the engine triggers it on).
SOURCES: Final = frozenset({"deribit_futures", "binance", "bybit", "okx"})


def _fresh(board: Board, id_: str, source: str) -> Observation | None:
    r = board.reading(id_, source)
    return None if r is None or r.stale else r.observation


def _joined(id_: str, source: str, parts: Sequence[Observation], value: float) -> Observation:
    # A joined reading is as old as its oldest part: its age never flatters it.
    return Observation(id_, value, "USD", source, min(p.observed_at for p in parts))


def venue_open_interest(board: Board) -> dict[str, Observation]:
    """``oi.futures.<venue>`` in USD for every venue whose inputs are all fresh, by venue name.

    Deribit's reading is taken as published (inverse futures are USD already); Binance's is its
    BTC open interest times its mark price; Bybit's and OKX's are their linear and inverse perps
    summed. A venue with any part missing or stale is left out.
    """
    out: dict[str, Observation] = {}
    for v in VENUES:
        id_ = f"oi.futures.{v.name}"
        if v.name == "binance":
            btc = _fresh(board, "oi.futures.binance_btc", "binance")
            mark = _fresh(board, "btc.price.binance_mark", "binance")
            if btc is not None and mark is not None:
                out[v.name] = _joined(id_, v.source, (btc, mark), btc.value * mark.value)
        elif v.oi_parts:
            parts = [_fresh(board, i, s) for i, s in v.oi_parts]
            have = [p for p in parts if p is not None]
            if len(have) == len(parts):
                out[v.name] = _joined(id_, v.source, have, sum(p.value for p in have))
        elif (whole := _fresh(board, id_, v.source)) is not None:
            out[v.name] = whole
    return out


def funding_venues(board: Board) -> tuple[str, ...]:
    """The venues in ``funding.oi_weighted``: fresh funding *and* fresh open interest."""
    oi = venue_open_interest(board)
    return tuple(v.name for v in VENUES if v.name in oi and _fresh(board, *v.funding) is not None)


def oi_venues(board: Board) -> tuple[str, ...]:
    """The venues in ``oi.futures.total`` (fresh open interest)."""
    return tuple(venue_open_interest(board))


def derive(board: Board, history: History, now: datetime, settings: Settings) -> list[Observation]:
    """Venue OI in USD, ``funding.oi_weighted`` and ``.positive_hours``, the OI total and its
    24 h / 7 d change, and OKX's 24 h liquidations.

    Args:
        board: the latest readings (stale ones are skipped).
        history: stored series (the Store).
        now: the time of the run.
        settings: user settings (unused: no thresholds here yet).

    Returns:
        The derived observations; ``[]`` when no input is fresh. Nothing missing becomes 0.
    """
    del settings  # the signature is the engine's; these metrics take no user thresholds
    oi = venue_open_interest(board)
    # Joined venue readings are published under the venue's own source (one provider each).
    out = [o for v in VENUES if v.joined and (o := oi.get(v.name)) is not None]
    weighted = _weighted_funding(board, oi)
    if weighted is not None:
        out += [weighted, _positive_hours(history, weighted)]
    if oi:
        at = min(o.observed_at for o in oi.values())
        total = sum(o.value for o in oi.values())
        out.append(Observation("oi.futures.total", total, "USD", CONSENSUS, at))
        for id_, ago, tolerance in OI_CHANGES:
            change = _change(history, oi, at - ago, tolerance)
            if change is not None:
                out.append(Observation(id_, change, "%", CONSENSUS, at))
    out += _liquidations(board, history, now)
    return out


def _weighted_funding(board: Board, oi: dict[str, Observation]) -> Observation | None:
    """OI-weighted mean funding of the venues with fresh funding and fresh OI.

    Deribit's weight is its whole inverse-futures OI (perp plus dated futures): the book summary
    does not split it, so Deribit weighs a little more than its perp alone would.
    """
    pairs = [(f, oi[v.name]) for v in VENUES if v.name in oi and (f := _fresh(board, *v.funding))]
    weight = sum(o.value for _, o in pairs)
    if not pairs or weight <= 0:
        return None
    value = sum(f.value * o.value for f, o in pairs) / weight
    at = min(min(f.observed_at, o.observed_at) for f, o in pairs)
    return Observation("funding.oi_weighted", value, FUNDING_UNIT, CONSENSUS, at)


def _positive_hours(history: History, latest: Observation) -> Observation:
    """Hours ``funding.oi_weighted`` has stayed above 0 up to ``latest`` (0 while not above 0).

    Walks the stored series back from ``latest``: the run starts at the earliest value of an
    unbroken stretch of positive values. A value ≤ 0, or a gap longer than :data:`MAX_GAP`
    between two stored values, ends the stretch; a run longer than :data:`POSITIVE_LOOKBACK` is
    reported as that long (a lower bound).
    """
    hours = 0.0
    if latest.value > 0:
        points = history.series(
            latest.id, CONSENSUS, since=latest.observed_at - POSITIVE_LOOKBACK,
            until=latest.observed_at,
        )  # fmt: skip
        start = latest.observed_at
        for at, value in reversed(points):
            if at >= start:
                continue  # the latest value itself, or one stored at the same moment
            if value <= 0 or start - at > MAX_GAP:
                break
            start = at
        hours = (latest.observed_at - start).total_seconds() / 3600.0
    return Observation("funding.positive_hours", hours, HOURS_UNIT, CONSENSUS, latest.observed_at)


def _nearest(points: list[tuple[datetime, float]], target: datetime) -> float | None:
    if not points:
        return None
    return min(points, key=lambda p: abs((p[0] - target).total_seconds()))[1]


def _change(
    history: History, oi: dict[str, Observation], target: datetime, tolerance: timedelta
) -> float | None:
    """% change of the OI total since ``target``, like for like.

    The past total is the sum, over the *same* venues as now, of each venue's stored OI nearest
    ``target`` (within ``tolerance``): a venue that was down then and answers now would
    otherwise show up as a jump. If any of today's venues has no stored value then, no change.
    """
    past = 0.0
    for now_obs in oi.values():
        points = history.series(
            now_obs.id, now_obs.source, since=target - tolerance, until=target + tolerance
        )
        value = _nearest(points, target)
        if value is None:
            return None
        past += value
    if past <= 0:
        return None
    return (sum(o.value for o in oi.values()) / past - 1.0) * 100.0


def _liquidations(board: Board, history: History, now: datetime) -> list[Observation]:
    """OKX long and short liquidations over the last 24 h, and how many of those hours we saw.

    Sums the per-liquidation rows stored from every poll of both families (``liq.long_usd.<f>``,
    ``liq.short_usd.<f>``; rows repeat across polls and the store keeps one per time). Needs a
    fresh poll of both families. ``liq.coverage_h`` says how much of the 24 h the polls reached
    without a hole (each poll's ``liq.window_h`` tells how far back its answer went): less than
    24 means the sums are a lower bound, e.g. just after start-up.
    """
    polls = [_fresh(board, f"liq.window_h.{f}", "okx") for f in LIQ_FAMILIES]
    fresh = [p for p in polls if p is not None]
    if len(fresh) != len(polls):
        return []
    since = now - LIQ_WINDOW
    sums = {
        side: sum(
            value
            for f in LIQ_FAMILIES
            for _, value in history.series(f"liq.{side}_usd.{f}", "okx", since=since, until=now)
        )
        for side in ("long", "short")
    }
    coverage = min(_coverage_h(history, latest, now) for latest in fresh)
    at = min(p.observed_at for p in fresh)
    return [
        Observation("liq.long_usd_24h", sums["long"], "USD", "okx", at),
        Observation("liq.short_usd_24h", sums["short"], "USD", "okx", at),
        Observation("liq.coverage_h", coverage, HOURS_UNIT, "okx", at),
    ]


def _coverage_h(history: History, latest: Observation, now: datetime) -> float:
    """Hours back from ``now`` (at most 24) that the polls of one family covered without a hole.

    ``latest`` is the family's newest ``liq.window_h`` reading.

    Poll *i* at ``t_i`` saw back to ``t_i - window_i``; walking back from the latest poll, the
    covered span grows while an earlier poll ends inside it.
    """
    points = history.series(latest.id, "okx", since=now - 2 * LIQ_WINDOW, until=now)
    polls = sorted({*points, (latest.observed_at, latest.value)})
    start = latest.observed_at - timedelta(hours=latest.value)
    for at, window_h in reversed(polls):
        if at < start:
            break  # this poll ended before the covered span begins: a hole
        start = min(start, at - timedelta(hours=window_h))
    return max(0.0, min((now - start).total_seconds() / 3600.0, LIQ_WINDOW / timedelta(hours=1)))
