"""The on-chain pane: realized loss (key), the free net-realized-P/L proxy, the absorption band."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, timedelta
from typing import Final

from tui.core.config import Settings
from tui.core.model import CONSENSUS, Board, Reading, Status
from tui.core.panes import PaneRow, PaneView, Tone, missing_text, sign_glyph

GLASSNODE: Final = "glassnode"
COINMETRICS: Final = "coinmetrics"
NEEDS_KEY: Final = "needs a Glassnode key (config: sources.glassnode.api_key)"
PROXY: Final = "proxy, not realized loss"

_Format = Callable[[float], str]


def view(board: Board, settings: Settings) -> PaneView:
    """The on-chain pane, most important row first.

    Args:
        board: the latest state.
        settings: whether a Glassnode key is configured, and the absorption band.
    """
    loss = _loss_row(board, settings)
    proxy = (
        _daily_row(
            board,
            "net realized P/L 7d",
            board.reading("onchain.net_realized_pnl.7d", COINMETRICS),
            COINMETRICS,
            lambda v: f"{usd_short(v, signed=True)}/day",
            detail=PROXY,
            signed=True,
        ),
    )
    # Without realized loss (no key), the labelled proxy is the row a compact pane shows.
    first = (loss, *proxy) if loss.tone != "missing" else (*proxy, loss)
    rows = (
        *first,
        _band_row(board, settings),
        _daily_row(
            board,
            "realized cap",
            board.reading("onchain.realized_cap", COINMETRICS),
            COINMETRICS,
            usd_short,
        ),
    )
    return PaneView(rows, "proxy: 7-day mean change of realized cap less new coins (Coin Metrics)")


def usd_short(value: float, *, signed: bool = False) -> str:
    """``$1.26B``, ``-$540.2M``, ``$1.102T`` (``+`` for gains when ``signed``)."""
    sign = "-" if value < 0 else "+" if signed and value > 0 else ""
    v = abs(value)
    if v >= 1e12:
        return f"{sign}${v / 1e12:,.3f}T"
    if v >= 1e9:
        return f"{sign}${v / 1e9:,.2f}B"
    return f"{sign}${v / 1e6:,.1f}M"


def as_of(r: Reading) -> str:
    """``as of 5 Feb``: the day a daily figure covers (the day before its ``observed_at``)."""
    at = r.observation.observed_at.astimezone(UTC)
    day = (at - timedelta(microseconds=1)).date()  # observed at the day's end, 00:00 next day
    return ("stale, " if r.stale else "") + f"as of {day.day} {day:%b}"


def _loss_row(board: Board, settings: Settings) -> PaneRow:
    label = "realized loss 7d"
    status = board.statuses.get(GLASSNODE)
    if not settings.source(GLASSNODE).api_key or (
        status is not None and status.status is Status.NEEDS_KEY
    ):
        return PaneRow(label, NEEDS_KEY, "missing", "✕")
    return _daily_row(
        board,
        label,
        board.reading("onchain.realized_loss.7d", GLASSNODE),
        GLASSNODE,
        lambda v: f"{usd_short(v)}/day",
        detail="Glassnode",
    )


def _daily_row(
    board: Board,
    label: str,
    r: Reading | None,
    source: str,
    fmt: _Format,
    *,
    detail: str = "",
    signed: bool = False,
) -> PaneRow:
    if r is None:
        return PaneRow(label, missing_text(board, (source,)), "missing", "✕", detail)
    v = r.observation.value
    tone: Tone = "bearish" if signed and v < 0 else "neutral" if signed else "plain"
    return PaneRow(
        label,
        fmt(v),
        "stale" if r.stale else tone,
        sign_glyph(v) if signed else "",
        detail,
        as_of(r),
    )


def _band_row(board: Board, settings: Settings) -> PaneRow:
    """The band is config (a published cluster), never a live reading: it says so."""
    band = settings.absorption_band
    detail = "config, not live" + (f" ({band.note})" if band.note else "")
    price = board.reading("btc.price", CONSENSUS)
    if price is not None and not price.stale:
        p = price.observation.value
        where = "inside" if band.contains(p) else "above" if p > band.high else "below"
        detail = f"price {where}; " + detail
    value = f"${band.low:,.0f}–${band.high:,.0f}"
    return PaneRow("absorption band", value, "plain", "", detail, "config")
