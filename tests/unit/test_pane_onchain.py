"""The on-chain pane's rows: realized loss or "needs key", the labelled proxy, the config band."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tui.core.config import Band, Settings, SourceSettings
from tui.core.model import CONSENSUS, Board, Missing, Observation, SourceStatus, Status
from tui.core.panes import PaneRow, onchain

NOW = datetime(2026, 2, 6, 12, 0, tzinfo=UTC)
END_OF_5_FEB = datetime(2026, 2, 6, tzinfo=UTC)
NEEDS_KEY = "needs a Glassnode key (config: sources.glassnode.api_key)"
KEYED = Settings(sources={"glassnode": SourceSettings(api_key="k3y")})
LIMITS = {"glassnode": 3 * 86_400.0, "coinmetrics": 3 * 86_400.0, CONSENSUS: 60.0}


def o(id_: str, value: float, source: str, at: datetime = END_OF_5_FEB) -> Observation:
    return Observation(id_, value, "USD/day", source, at)


PROXY = o("onchain.net_realized_pnl.7d", -1_312_400_000.0, "coinmetrics")
LOSS = o("onchain.realized_loss.7d", 1_264_000_000.0, "glassnode")
CAP = o("onchain.realized_cap", 1_101_800_000_000.0, "coinmetrics")


def price(value: float, age_s: float = 3.0) -> Observation:
    return Observation("btc.price", value, "USD", CONSENSUS, NOW - timedelta(seconds=age_s))


def board(*obs: Observation, statuses: tuple[SourceStatus, ...] = ()) -> Board:
    return Board("demo", NOW, stale_after=LIMITS).with_updates(
        now=NOW, observations=obs, statuses=statuses
    )


def rows(b: Board, settings: Settings = KEYED) -> dict[str, PaneRow]:
    return {r.label: r for r in onchain.view(b, settings).rows}


def test_without_a_key_the_pane_says_so_and_shows_the_proxy() -> None:
    view = onchain.view(board(PROXY, CAP, price(69_850.0)), Settings())
    proxy, loss, band, cap = view.rows  # the labelled proxy first: a compact pane shows it
    assert loss == PaneRow("realized loss 7d", NEEDS_KEY, "missing", "✕")
    assert proxy == PaneRow(
        "net realized P/L 7d",
        "-$1.31B/day",
        "bearish",
        "▼",
        "proxy, not realized loss",
        "as of 5 Feb",
    )
    assert band == PaneRow(
        "absorption band",
        "$66,900–$70,600",
        "plain",
        "",
        "price inside; config, not live (Glassnode, Feb 2026)",
        "config",
    )
    assert (cap.value, cap.age) == ("$1.102T", "as of 5 Feb")
    assert "proxy" in view.note


def test_with_a_key_the_realized_loss_leads() -> None:
    loss = rows(board(LOSS, PROXY))["realized loss 7d"]
    assert (loss.value, loss.tone, loss.detail, loss.age) == (
        "$1.26B/day",
        "plain",
        "Glassnode",
        "as of 5 Feb",
    )


def test_engine_status_needs_key_wins_over_a_key_in_settings() -> None:
    status = SourceStatus("glassnode", Status.NEEDS_KEY, "needs key")
    assert rows(board(statuses=(status,)))["realized loss 7d"].value == NEEDS_KEY


def test_a_failing_glassnode_says_why() -> None:
    refused = SourceStatus.from_missing(
        "glassnode", Missing(Status.HTTP_ERROR, "HTTP 401"), last_ok_at=None, at=NOW
    )
    loss = rows(board(statuses=(refused,)))["realized loss 7d"]
    assert (loss.value, loss.tone, loss.age) == ("http error: HTTP 401", "missing", "")


def test_missing_proxy_says_why_and_keeps_its_label() -> None:
    blocked = SourceStatus.from_missing(
        "coinmetrics",
        Missing(Status.BLOCKED, "HTTP 403: Requested metric 'CapMVRVCur' is not available"),
        last_ok_at=None,
        at=NOW,
    )
    proxy = rows(board(statuses=(blocked,)))["net realized P/L 7d"]
    assert proxy.value == "blocked: HTTP 403: Requested metric 'CapMVRVCur' is not available"
    assert (proxy.tone, proxy.detail) == ("missing", "proxy, not realized loss")


def test_positive_proxy_and_stale_day() -> None:
    old = o(
        "onchain.net_realized_pnl.7d", 54_200_000.0, "coinmetrics", END_OF_5_FEB - timedelta(days=4)
    )
    proxy = rows(board(old))["net realized P/L 7d"]
    assert (proxy.value, proxy.glyph, proxy.tone, proxy.age) == (
        "+$54.2M/day",
        "▲",
        "stale",
        "stale, as of 1 Feb",
    )


@pytest.mark.parametrize(
    ("value", "where"), [(71_000.0, "above"), (66_900.0, "inside"), (60_020.0, "below")]
)
def test_band_position_against_a_fresh_price(value: float, where: str) -> None:
    band = rows(board(price(value)))["absorption band"]
    assert band.detail.startswith(f"price {where}; config, not live")


def test_band_without_a_fresh_price_or_with_the_users_own_band() -> None:
    mine = Settings(absorption_band=Band(65_000.0, 68_000.0))
    band = rows(board(price(69_000.0, age_s=120.0)), mine)["absorption band"]
    assert (band.value, band.detail, band.age) == ("$65,000–$68,000", "config, not live", "config")


@pytest.mark.parametrize(
    ("value", "signed", "text"),
    [
        (1_264_000_000.0, False, "$1.26B"),
        (-1_312_400_000.0, True, "-$1.31B"),
        (54_200_000.0, True, "+$54.2M"),
        (0.0, True, "$0.0M"),
        (1_101_800_000_000.0, False, "$1.102T"),
    ],
)
def test_usd_short(value: float, signed: bool, text: str) -> None:
    assert onchain.usd_short(value, signed=signed) == text
