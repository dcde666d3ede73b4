"""What the screens show, computed from the Board, the settings and the store (no Textual here).

Widgets are dumb views and screens are controllers: every number a pane shows is formed here, so
the UI holds no maths. Functions that read the store block; call them from a worker thread.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final, Literal

from tui.core.analytics import day
from tui.core.config import Band, Settings
from tui.core.model import CONSENSUS, Board, Mode, Reading, SourceStatus, Status, format_age
from tui.core.sources.spec import SourceSpec
from tui.core.store import Store

Position = Literal["above", "inside", "below"]
ChipState = Literal["ok", "pending", "stale", "missing", "limited", "disabled", "key"]
ChartRange = Literal["1D", "1W", "1M", "3M"]

#: Chart ranges in the order ``[`` and ``]`` cycle through them.
RANGES: Final[tuple[ChartRange, ...]] = ("1D", "1W", "1M", "3M")
RANGE_SPAN: Final[dict[ChartRange, timedelta]] = {
    "1D": timedelta(days=1),
    "1W": timedelta(days=7),
    "1M": timedelta(days=30),
    "3M": timedelta(days=91),
}
#: The largest raw body the drill-down pretty-prints (a whole option chain is far smaller).
MAX_BODY_SHOWN: Final = 256 * 1024
#: Where the UTC day's candles come from, best first (same order as the consensus day).
DAY_CLOSE_SOURCES: Final = ("kraken", "coinbase", "bitstamp")

GLYPHS: Final[dict[ChipState, str]] = {
    "ok": "●",
    "pending": "◌",
    "stale": "◐",
    "missing": "✕",
    "limited": "▲",
    "disabled": "·",
    "key": "○",
}


@dataclass(frozen=True, slots=True)
class BucketInfo:
    """One bucket of DOMAIN.md: what it watches and which providers feed it."""

    key: str
    title: str
    about: str
    """One sentence: what the pane means."""
    providers: tuple[str, ...]
    """Providers that feed it (SOURCES.md), implemented or not."""


BUCKETS: Final[tuple[BucketInfo, ...]] = (
    BucketInfo(
        "price",
        "Price",
        "Consensus spot (median of fresh venues) against the $70k pivot and the bands.",
        ("coinbase", "kraken", "bitstamp", "deribit"),
    ),
    BucketInfo(
        "checklist",
        "Checklist",
        "The article's six signals: bullish confirmation or bearish continuation, since when.",
        (),
    ),
    BucketInfo(
        "derivatives",
        "Derivatives",
        "Perpetual funding, futures open interest and liquidations.",
        ("deribit", "binance", "bybit", "okx"),
    ),
    BucketInfo(
        "options",
        "Options",
        "25-delta skew, ATM implied-vol term structure, put OI at the retest strikes.",
        ("deribit",),
    ),
    BucketInfo("flows", "ETF flows", "Spot BTC ETF net flows, daily and streaks.", ("farside",)),
    BucketInfo(
        "onchain",
        "On-chain",
        "Realized loss (7-day mean) and the absorption band.",
        ("glassnode", "coinmetrics"),
    ),
    BucketInfo("mining", "Mining", "Hashprice and the next difficulty adjustment.", ("mempool",)),
    BucketInfo(
        "macro",
        "Macro",
        "Equities, metals, the dollar and yields next to BTC.",
        ("yahoo", "fred", "stooq"),
    ),
)


def bucket(key: str) -> BucketInfo:
    """The bucket called ``key``."""
    return next(b for b in BUCKETS if b.key == key)


@dataclass(frozen=True, slots=True)
class VenueQuote:
    """One venue's price as the price pane lists it."""

    name: str
    price: float | None
    age_s: float | None
    stale: bool


@dataclass(frozen=True, slots=True)
class PriceView:
    """Everything the price pane shows. ``None`` means missing; ``missing`` says why."""

    mode: Mode
    price: float | None
    age_s: float | None
    stale: bool
    missing: str | None
    pivot: float
    distance_pct: float | None
    absorption: Band
    absorption_position: Position | None
    retest: Band
    retest_position: Position | None
    day_open: float | None
    day_high: float | None
    day_low: float | None
    day_close: float | None
    day_change_pct: float | None
    off_low_pct: float | None
    high_rejections: int | None
    high_tolerance_pct: float
    spread_usd: float | None
    venues: tuple[VenueQuote, ...]


def position(price: float, band: Band) -> Position:
    """Where ``price`` sits against ``band``."""
    if price > band.high:
        return "above"
    return "inside" if price >= band.low else "below"


def price_view(
    board: Board, settings: Settings, today: Sequence[tuple[datetime, float]] = ()
) -> PriceView:
    """The price pane's view of ``board``.

    Args:
        board: the latest state.
        settings: pivot, bands and the high-test tolerance.
        today: the consensus price since the UTC day began (from the store), for the count of
            rejections at the day's high.
    """
    r = board.reading("btc.price", CONSENSUS)
    price = None if r is None else r.observation.value
    missing = None
    if r is None:
        status = board.statuses.get(CONSENSUS)
        missing = status.detail if status is not None and status.detail else "no price yet"
    values = {
        f: (x.observation.value if (x := board.reading(f"btc.day.{f}", CONSENSUS)) else None)
        for f in ("open", "high", "low", "close")
    }
    o, h, lo, c = values["open"], values["high"], values["low"], values["close"]
    venues = []
    for name, id_ in (
        ("coinbase", "btc.price.coinbase"),
        ("kraken", "btc.price.kraken"),
        ("bitstamp", "btc.price.bitstamp"),
        ("deribit", "btc.price.deribit_index"),
    ):
        v = board.reading(id_, name)
        venues.append(
            VenueQuote(
                name,
                None if v is None else v.observation.value,
                None if v is None else v.age_s,
                v is not None and v.stale,
            )
        )
    fresh = [v.price for v in venues if v.price is not None and not v.stale]
    tol = settings.high_test_tolerance_pct
    return PriceView(
        mode=board.mode,
        price=price,
        age_s=None if r is None else r.age_s,
        stale=r is not None and r.stale,
        missing=missing,
        pivot=settings.pivot,
        distance_pct=None if price is None else day.pct_change(settings.pivot, price),
        absorption=settings.absorption_band,
        absorption_position=None if price is None else position(price, settings.absorption_band),
        retest=settings.retest_band,
        retest_position=None if price is None else position(price, settings.retest_band),
        day_open=o,
        day_high=h,
        day_low=lo,
        day_close=c,
        day_change_pct=None if o is None or c is None else day.pct_change(o, c),
        off_low_pct=None if lo is None or c is None else day.pct_change(lo, c),
        high_rejections=None if h is None or not today else day.high_rejections(today, h, tol),
        high_tolerance_pct=tol,
        spread_usd=day.spread(fresh),
        venues=tuple(venues),
    )


@dataclass(frozen=True, slots=True)
class StatusChip:
    """One source in the status strip: ``coinbase ● 4s``, ``kraken ▲ rate-limited until 14:05``."""

    name: str
    glyph: str
    text: str
    state: ChipState


def status_chips(board: Board) -> tuple[StatusChip, ...]:
    """A chip per source (the consensus last), each with its glyph and its age or reason."""
    chips = []
    for s in sorted(board.statuses.values(), key=lambda s: (s.name == CONSENSUS, s.name)):
        state = _chip_state(s, board)
        if state == "ok" and s.last_ok_at is not None:
            text = format_age((board.generated_at - s.last_ok_at).total_seconds())
        elif state == "stale" and s.last_ok_at is not None:
            text = "stale " + format_age((board.generated_at - s.last_ok_at).total_seconds())
        elif state == "key":
            text = "needs key"  # where the key goes is in the drill-down and the pane
        else:
            text = s.detail or s.status.value
        chips.append(StatusChip(s.name, GLYPHS[state], text, state))
    return tuple(chips)


def _chip_state(s: SourceStatus, board: Board) -> ChipState:
    if s.status is Status.OK:
        limit = board.stale_after.get(s.name)
        if s.last_ok_at is None or limit is None:
            return "ok"
        return "stale" if (board.generated_at - s.last_ok_at).total_seconds() > limit else "ok"
    if s.status is Status.PENDING:
        return "pending"
    if s.status is Status.DISABLED:
        return "disabled"
    if s.status is Status.STALE:
        return "stale"
    if s.status is Status.RATE_LIMITED:
        return "limited"
    if s.status is Status.NEEDS_KEY:
        return "key"
    return "missing"


@dataclass(frozen=True, slots=True)
class ChartLine:
    """A labelled horizontal line on the price chart."""

    label: str
    value: float
    kind: Literal["pivot", "band", "retest"]


@dataclass(frozen=True, slots=True)
class ChartData:
    """The price chart for one range: points (epoch seconds, USD) and the reference lines."""

    range: ChartRange
    points: tuple[tuple[float, float], ...]
    lines: tuple[ChartLine, ...]
    note: str
    """Where the points come from, or why there are none."""


def chart_lines(settings: Settings) -> tuple[ChartLine, ...]:
    """The pivot, the absorption band's edges and the retest band's edges."""
    a, r = settings.absorption_band, settings.retest_band
    return (
        ChartLine(f"pivot {settings.pivot:,.0f}", settings.pivot, "pivot"),
        ChartLine(f"band {a.high:,.0f}", a.high, "band"),
        ChartLine(f"band {a.low:,.0f}", a.low, "band"),
        ChartLine(f"retest {r.high:,.0f}", r.high, "retest"),
        ChartLine(f"retest {r.low:,.0f}", r.low, "retest"),
    )


def load_chart(
    store: Store, settings: Settings, range_: ChartRange, now: datetime, max_points: int = 300
) -> ChartData:
    """The chart for ``range_`` (blocking: reads the store).

    1D and 1W plot the stored consensus price; 1M and 3M plot daily closes from the stored
    candles (the first venue that has them), then the consensus since the last close.
    """
    since = now - RANGE_SPAN[range_]
    note = "consensus price"
    points: list[tuple[datetime, float]] = []
    if range_ in ("1M", "3M"):
        for src in DAY_CLOSE_SOURCES:
            # Completed days are observed at midnight: those, the forming day comes below.
            daily = store.midnights(f"btc.day.close.{src}", src, since, now)
            if daily:
                points, note = daily, f"daily closes ({src}) + consensus"
                since = daily[-1][0]
                break
    sample = store.sampled("btc.price", CONSENSUS, since, now, max_points)
    points.extend(p for p in sample if p[0] > since)
    if not points:
        note = f"no {range_} history yet: it builds up while btcwatch runs"
    thinned = _thin(points, max_points)
    return ChartData(
        range_,
        tuple((t.timestamp(), v) for t, v in thinned),
        chart_lines(settings),
        note,
    )


def _thin(points: Sequence[tuple[datetime, float]], n: int) -> list[tuple[datetime, float]]:
    """At most ``n`` points, evenly picked, always keeping the last."""
    if len(points) <= n:
        return list(points)
    step = len(points) / n
    picked = [points[int(i * step)] for i in range(n - 1)]
    return [*picked, points[-1]]


def today_series(store: Store, now: datetime) -> list[tuple[datetime, float]]:
    """The consensus price since the UTC day began (blocking)."""
    midnight = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return store.series("btc.price", CONSENSUS, midnight, now)


@dataclass(frozen=True, slots=True)
class EndpointView:
    """One endpoint in the drill-down: where it points and its last answer."""

    key: str
    url: str
    interval_s: float
    status: int | None
    latency_ms: float | None
    bytes: int | None
    fetched_at: datetime | None
    body: str
    """The last raw body, pretty-printed when it is JSON; empty when none is stored."""


@dataclass(frozen=True, slots=True)
class SourceDetail:
    """One source in the drill-down."""

    name: str
    title: str
    docs_url: str
    status: SourceStatus | None
    endpoints: tuple[EndpointView, ...]
    history: tuple[SourceStatus, ...]
    """Recent status changes, newest first."""


@dataclass(frozen=True, slots=True)
class DrilldownView:
    """A bucket's sources in full: every reading, endpoint, last fetch and raw body."""

    bucket: BucketInfo
    readings: tuple[Reading, ...]
    sources: tuple[SourceDetail, ...]


def drilldown(
    board: Board, store: Store, specs: Sequence[SourceSpec], settings: Settings, key: str
) -> DrilldownView:
    """The drill-down of bucket ``key`` (blocking: reads the store)."""
    info = bucket(key)
    mine = [s for s in specs if s.bucket == key]
    names = {s.name for s in mine} | ({CONSENSUS} if mine else set())
    readings = tuple(r for r in board.readings() if r.observation.source in names)
    details = []
    for spec in mine:
        conf = settings.source(spec.name)
        base = conf.base_url or spec.base_url
        endpoints = []
        for ep in spec.endpoints:
            ex = store.latest_exchange(spec.name, ep.key)
            endpoints.append(
                EndpointView(
                    ep.key,
                    ep.url(base),
                    ep.interval_s or conf.interval or spec.interval_s,
                    None if ex is None else ex.status,
                    None if ex is None else ex.latency_ms,
                    None if ex is None else len(ex.body),
                    None if ex is None else ex.fetched_at,
                    "" if ex is None else pretty_body(ex.body),
                )
            )
        details.append(
            SourceDetail(
                spec.name,
                spec.title,
                spec.docs_url,
                board.statuses.get(spec.name),
                tuple(endpoints),
                tuple(store.status_history(spec.name, limit=20)),
            )
        )
    return DrilldownView(info, readings, tuple(details))


def pretty_body(body: bytes) -> str:
    """JSON indented for reading; other text as it came; cut at :data:`MAX_BODY_SHOWN` chars."""
    text = body.decode("utf-8", errors="replace")
    with contextlib.suppress(ValueError, RecursionError):  # not JSON: shown as it came
        text = json.dumps(json.loads(body), indent=2, ensure_ascii=False)
    if len(text) > MAX_BODY_SHOWN:
        shown = MAX_BODY_SHOWN // 1024
        text = text[:MAX_BODY_SHOWN] + f"\n… cut at {shown} KB of {len(text) // 1024} KB"
    return text
