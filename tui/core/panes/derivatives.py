"""The derivatives pane: funding (weighted, per venue, how long positive), OI, liquidations."""

from __future__ import annotations

from typing import Final

from tui.core.analytics.funding import VENUES, funding_venues, oi_venues
from tui.core.config import Settings
from tui.core.model import CONSENSUS, Board
from tui.core.panes import PaneRow, PaneView, Tone, reading_row, sign_glyph

#: The article's bullish rule: funding positive *and staying positive*, not a 1-2 hour blip. The
#: checklist's funding rule holds 8 h (tui/core/rules, FUNDING); the pane uses the same span.
STAYS_POSITIVE_H: Final = 8.0
#: A 24 h OI rise above this is "OI rebounds quickly" (the checklist's leverage rule, bearish).
OI_REBOUND_PCT: Final = 5.0
_FUNDING_SOURCES: Final = tuple(v.funding[1] for v in VENUES)
_LIQ_NOTE: Final = "liquidations: OKX only, not the market total"


def _pct_8h(value: float) -> str:
    return f"{value:+.4f} %/8h"


def _usd(value: float) -> str:
    """``$49.2B``, ``$312.4M``, ``$85.0K``, ``$120``."""
    for scale, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
        if abs(value) >= scale:
            return f"${value / scale:.1f}{suffix}"
    return f"${value:.0f}"


def _hours(value: float) -> str:
    return f"{value:.1f} h" if value < 48 else f"{value / 24:.1f} d"


def _funding_tone(board: Board) -> Tone:
    """Bearish below 0; bullish above 0 only once it has stayed so :data:`STAYS_POSITIVE_H`."""
    r = board.reading("funding.oi_weighted", CONSENSUS)
    if r is None or r.observation.value == 0:
        return "neutral"
    if r.observation.value < 0:
        return "bearish"
    hours = board.reading("funding.positive_hours", CONSENSUS)
    return "bullish" if hours and hours.observation.value >= STAYS_POSITIVE_H else "neutral"


def _venues(names: tuple[str, ...]) -> str:
    if not names:
        return "no venue"
    return f"{len(names)} venue{'s' if len(names) > 1 else ''}: " + ", ".join(names)


def view(board: Board, settings: Settings) -> PaneView:
    """The pane's rows, most important first.

    1. OI-weighted funding with its sign glyph and the venues in it; 2. hours it has stayed
    positive; 3. the futures OI total with its 24 h change; 4. OKX liquidations over 24 h,
    labelled "OKX only"; then funding per venue and the OI total's 7 d change.
    """
    del settings  # nothing user-tunable in this pane yet
    tone = _funding_tone(board)
    rows = [
        reading_row(
            board,
            "funding",
            "funding.oi_weighted",
            CONSENSUS,
            _pct_8h,
            sources=_FUNDING_SOURCES,
            tone=lambda _v: tone,
            glyph=sign_glyph,
            detail="OI-weighted · " + _venues(funding_venues(board)),
        ),
        reading_row(
            board,
            "positive for",
            "funding.positive_hours",
            CONSENSUS,
            _hours,
            sources=_FUNDING_SOURCES,
            tone=lambda v: "bullish" if v >= STAYS_POSITIVE_H else "neutral" if v > 0 else tone,
            detail=f"bullish once ≥ {STAYS_POSITIVE_H:.0f} h",
        ),
        _oi_row(board),
        _liq_row(board),
    ]
    for v in VENUES:
        rows.append(
            reading_row(
                board,
                f"  {v.name}",
                v.funding[0],
                v.funding[1],
                _pct_8h,
                tone=lambda x: "bearish" if x < 0 else "neutral",
                glyph=sign_glyph,
            )
        )
    rows.append(_oi_7d_row(board))
    return PaneView(tuple(rows), note=_LIQ_NOTE)


def _oi_row(board: Board) -> PaneRow:
    change = board.reading("oi.futures.total.chg_24h", CONSENSUS)
    detail = _venues(oi_venues(board))
    tone: Tone = "plain"
    glyph = ""
    if change is not None and not change.stale:
        pct = change.observation.value
        detail = f"24h {pct:+.1f} % · {detail}"
        glyph = sign_glyph(pct)
        tone = "bearish" if pct > OI_REBOUND_PCT else "neutral"
    elif change is not None:
        detail = f"24h stale · {detail}"
    else:
        detail = f"24h: needs a day of history · {detail}"
    return reading_row(
        board,
        "futures OI",
        "oi.futures.total",
        CONSENSUS,
        _usd,
        sources=("deribit_futures", "binance", "bybit", "okx"),
        tone=lambda _v: tone,
        glyph=lambda _v: glyph,
        detail=detail,
    )


def _oi_7d_row(board: Board) -> PaneRow:
    row = reading_row(
        board,
        "OI 7d",
        "oi.futures.total.chg_7d",
        CONSENSUS,
        lambda x: f"{x:+.1f} %",
        sources=("deribit_futures", "binance", "bybit", "okx"),
        glyph=sign_glyph,
    )
    total = board.reading("oi.futures.total", CONSENSUS)
    if row.tone == "missing" and total is not None and not total.stale:
        # The total is there: what is missing is a stored total from a week ago.
        return PaneRow(row.label, "needs 7 d of stored history", "missing", "✕")
    return row


def _liq_row(board: Board) -> PaneRow:
    long_ = board.reading("liq.long_usd_24h", "okx")
    short = board.reading("liq.short_usd_24h", "okx")
    coverage = board.reading("liq.coverage_h", "okx")
    detail = "OKX only"
    if coverage is not None and coverage.observation.value < 23.9:
        detail += f", {coverage.observation.value:.0f} h of 24 h seen"
    row = reading_row(
        board,
        "liq 24h",
        "liq.long_usd_24h",
        "okx",
        lambda v: f"long {_usd(v)}",
        sources=("okx",),
        detail=detail,
    )
    if long_ is None or short is None:
        return row
    # Both sides on one line: which side is being flushed matters more than either sum alone.
    longs, shorts = long_.observation.value, short.observation.value
    return PaneRow(
        row.label,
        f"long {_usd(longs)} · short {_usd(shorts)}",
        row.tone,
        "",
        row.detail,
        row.age,
    )
