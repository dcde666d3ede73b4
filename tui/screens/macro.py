"""The macro drill-down: each asset rebased to 100 against BTC over 1M/3M, and its correlation."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import ClassVar, Final

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Footer, Static
from textual.worker import Worker, WorkerState

from tui.core.analytics.macro import MACRO_SOURCES, MIN_RETURNS
from tui.core.analytics.price import DAY_SOURCES
from tui.core.config import Settings
from tui.core.history import SPANS, HistoryRange
from tui.core.model import DAILY
from tui.core.sources.yahoo import ASSETS, Asset, day_start
from tui.core.store import Store
from tui.messages import BoardChanged
from widgets.literal import literal
from widgets.macro_chart import MacroChart, MacroChartData, Trace

#: The ranges ``[`` and ``]`` cycle through.
RANGES: Final[tuple[HistoryRange, ...]] = ("1M", "3M")
#: The least time between two reloads on new data (each reads 18 series from the store).
THROTTLE_S: Final = 5.0
#: Every series is rebased to this at the range's first common day.
BASE: Final = 100.0
_DAY: Final = timedelta(days=1)
_KEYS: Final = tuple(ASSETS)

Closes = dict[date, float]


@dataclass(frozen=True, slots=True)
class AssetPerformance:
    """One asset over the range, rebased, next to BTC rebased on the same day."""

    asset: Asset
    source: str
    """The provider of its closes (``yahoo``; ``stooq``/``fred`` as fallbacks); empty if none."""
    base_day: date | None
    """The day both series are 100: the range's first day with closes of both (of the asset
    alone when BTC has none)."""
    points: tuple[tuple[date, float], ...]
    """The asset's closes rebased, oldest first."""
    btc: tuple[tuple[date, float], ...]
    """BTC's daily closes rebased on :attr:`base_day`, oldest first."""
    last_close: float | None
    corr: tuple[tuple[datetime, float], ...]
    """``macro.corr30d.<asset>`` over the range, oldest first."""

    @property
    def rebased(self) -> float | None:
        """The asset's latest rebased value."""
        return self.points[-1][1] if self.points else None

    @property
    def btc_rebased(self) -> float | None:
        """BTC's rebased value on the asset's last day (or the latest before it)."""
        if not self.points:
            return None
        last = self.points[-1][0]
        before = [v for d, v in self.btc if d <= last]
        return before[-1] if before else None


@dataclass(frozen=True, slots=True)
class MacroLoaded:
    """One read of the store (tests read it from :attr:`MacroScreen.loaded`)."""

    range: HistoryRange
    since: datetime
    until: datetime
    btc_source: str
    """The venue of BTC's daily closes; empty when none are stored."""
    assets: Mapping[str, AssetPerformance]


def _day_of_btc_close(t: datetime) -> date:
    """A completed UTC day's close is stored at 00:00 the next day (``parsing.day_candles``); the
    forming day's, at its fetch time, stands for today until the day completes."""
    t = t.astimezone(UTC)
    if t.hour == t.minute == t.second == t.microsecond == 0:
        return (t - _DAY).date()
    return t.date()


def btc_closes(store: Store, since: datetime, until: datetime) -> tuple[str, Closes]:
    """BTC's daily closes by UTC day from the first venue with any (Kraken, Coinbase, Bitstamp)."""
    for src in DAY_SOURCES:
        days: Closes = {}
        for t, v in store.series(f"btc.day.close.{src}", src, since, until + _DAY):
            d = _day_of_btc_close(t)
            if since.date() <= d <= until.date():
                days[d] = v  # oldest first: the completed close replaces the forming one
        if days:
            return src, days
    return "", {}


def asset_closes(store: Store, asset: str, since: datetime, until: datetime) -> tuple[str, Closes]:
    """``macro.<asset>.close`` by day from Yahoo, else Stooq, else FRED (rows sit at 00:00 UTC of
    their day; a futures session's bar can be dated tomorrow, hence a day of slack)."""
    for src in MACRO_SOURCES:
        rows = store.series(f"macro.{asset}.close", src, since, until + _DAY)
        closes = {t.astimezone(UTC).date(): v for t, v in rows}
        if closes:
            return src, closes
    return "", {}


def rebase(closes: Closes, day: date) -> tuple[tuple[date, float], ...]:
    """``closes`` from ``day`` on, as ``100 x close / close on day`` (empty if that close is not
    positive)."""
    base = closes.get(day)
    if base is None or base <= 0:
        return ()
    return tuple((d, BASE * v / base) for d, v in sorted(closes.items()) if d >= day)


def performance(
    asset: Asset, source: str, closes: Closes, btc: Closes, corr: list[tuple[datetime, float]]
) -> AssetPerformance:
    """Rebase ``closes`` and ``btc`` on the first day both have (the asset's first day if none)."""
    common = sorted(set(closes) & set(btc))
    base = common[0] if common else min(closes, default=None)
    if base is None:
        return AssetPerformance(asset, source, None, (), (), None, tuple(corr))
    btc_from = min((d for d in btc if d >= base), default=None)
    return AssetPerformance(
        asset,
        source,
        base,
        rebase(closes, base),
        rebase(btc, btc_from) if btc_from is not None else (),
        closes[max(closes)],
        tuple(corr),
    )


def load(store: Store, range_: HistoryRange, now: datetime) -> MacroLoaded:
    """Every asset's rebased closes, BTC's and the correlations (blocking: call it in a thread)."""
    span = SPANS[range_] or timedelta(days=91)
    since = now - span
    btc_source, btc = btc_closes(store, since, now)
    out: dict[str, AssetPerformance] = {}
    for key, asset in ASSETS.items():
        source, closes = asset_closes(store, key, since, now)
        corr = store.series(f"macro.corr30d.{key}", DAILY, since, now)
        out[key] = performance(asset, source, closes, btc, corr)
    return MacroLoaded(range_, since, now, btc_source, out)


def _level(asset: Asset, v: float) -> str:
    if asset.unit == "%":
        return f"{v:.2f} %"
    if asset.unit == "USD/oz":
        return f"${v:,.2f}"
    return f"{v:,.2f}"


def _rebased(v: float | None) -> Content:
    if v is None:
        return literal("     n/a", "$missing")
    glyph = "▲" if v > BASE else "▼" if v < BASE else "●"
    tone = "$bullish" if v > BASE else "$bearish" if v < BASE else ""
    return literal(f"{glyph} {v:6.1f}", tone)


def _ts(d: date) -> float:
    return day_start(d).timestamp()


def summary_lines(loaded: MacroLoaded, selected: str) -> list[Content]:
    """The table: one line per asset, the selected one marked."""
    head = (
        f"{'':3}{'asset':<13}{'provider':<18}{'last close':>12}{'':9}"
        f"{'rebased':>8}  {'BTC':>8}  {'vs BTC':>11}  corr 30d"
    )
    lines = [literal(f"{head}   (rebased: 100 on the range's first day both have)", "dim")]
    for n, (key, p) in enumerate(loaded.assets.items(), 1):
        mark = "▸" if key == selected else " "
        style = "bold" if key == selected else ""
        name = literal(f"{n}{mark} {p.asset.title:<13}", style)
        if not p.points:
            why = f"no stored closes in the last {loaded.range} ({', '.join(MACRO_SOURCES)})"
            lines.append(Content.assemble(name, literal(why, "$missing")))
            continue
        provider = p.source if p.source == MACRO_SOURCES[0] else f"{p.source} (fallback)"
        last = p.points[-1][0]
        close = f"{_level(p.asset, p.last_close or 0.0)}" if p.last_close is not None else "n/a"
        a, b = p.rebased, p.btc_rebased
        gap = literal(f"{a - b:+8.1f} pp", "bold") if a is not None and b is not None else None
        corr = p.corr[-1][1] if p.corr else None
        lines.append(
            Content.assemble(
                name,
                literal(f"{provider:<18}{close:>12} {last:%d %b}  ", "dim"),
                _rebased(a),
                "  ",
                _rebased(b),
                "  ",
                gap if gap is not None else literal(f"{'n/a':>11}", "$missing"),
                "  ",
                literal(
                    f"{corr:+.2f}" if corr is not None else "n/a",
                    "" if corr is not None else "$missing",
                ),
            )
        )
    return lines


def performance_chart(loaded: MacroLoaded, p: AssetPerformance) -> MacroChartData:
    """The selected asset and BTC, rebased, over the range."""
    x = (loaded.since.timestamp(), loaded.until.timestamp())
    title = "Rebased to 100"
    if not p.points:
        note = f"no stored closes of {p.asset.title} in the last {loaded.range}"
        return MacroChartData(title, note, (), x, BASE)
    note = f"on {p.base_day:%d %b} · {p.source}"
    note += f", BTC {loaded.btc_source}" if p.btc else " · no BTC daily closes stored"
    traces = (
        Trace(p.asset.title, tuple((_ts(d), v) for d, v in p.points), "neutral"),
        Trace("BTC", tuple((_ts(d), v) for d, v in p.btc), "pivot"),
    )
    return MacroChartData(title, note, traces, x, BASE)


def correlation_chart(loaded: MacroLoaded, p: AssetPerformance) -> MacroChartData:
    """The stored 30-day correlation of the asset's daily returns with BTC's."""
    x = (loaded.since.timestamp(), loaded.until.timestamp())
    title = "30-day correlation with BTC"
    if not p.corr:
        note = f"none stored in the last {loaded.range}: it needs {MIN_RETURNS} days both trade"
        return MacroChartData(title, note, (), x, 0.0, (-1.0, 1.0), 2)
    note = f"now {p.corr[-1][1]:+.2f}"
    trace = Trace(p.asset.title, tuple((t.timestamp(), v) for t, v in p.corr), "band")
    return MacroChartData(title, note, (trace,), x, 0.0, (-1.0, 1.0), 2)


class MacroScreen(Screen[None]):
    """Each macro asset against BTC: a table of all, the selected one charted with its
    correlation. Every store read runs in a thread worker, reloaded on new data at most every
    :data:`THROTTLE_S`."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back", id="back"),
        Binding("left_square_bracket", "range(-1)", "Range", key_display="["),
        Binding("right_square_bracket", "range(1)", "Range", key_display="]", show=False),
        Binding("down,j", "step(1)", "Next asset", key_display="↓"),
        Binding("up,k", "step(-1)", "Previous asset", show=False),
        Binding("r", "reload", "Reload", show=False),
        *(Binding(str(n), f"pick({n})", f"Asset {n}", show=False) for n in range(1, 9)),
    ]

    DEFAULT_CSS = """
    MacroScreen {
        #mc-title { height: auto; padding: 0 1; background: $panel; }
        #mc-table { height: auto; padding: 0 1; text-wrap: nowrap; text-overflow: ellipsis; }
        #mc-charts { height: 1fr; min-height: 8; }
        #mc-perf { width: 3fr; padding: 0 1; }
        #mc-corr { width: 2fr; padding: 0 1; }
    }
    """

    def __init__(
        self,
        store: Store,
        settings: Settings,
        *,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        """The macro drill-down.

        Args:
            store: the history (read in thread workers only).
            settings: the user's settings (nothing here depends on them yet).
            now: the current time (the demo's clock in a demo); the wall clock by default.
        """
        super().__init__()
        self._store = store
        self._settings = settings
        self._now = now or (lambda: datetime.now(UTC))
        self.monotonic: Callable[[], float] = time.monotonic
        """The clock the reload throttle reads (tests replace it)."""
        self.range: HistoryRange = RANGES[0]
        """The charts' range, cycled with ``[`` and ``]``."""
        self.selected: str = _KEYS[0]
        """The asset charted."""
        self.loaded: MacroLoaded | None = None
        """The last load."""
        self._worker: Worker[MacroLoaded] | None = None
        self._started: float | None = None

    def compose(self) -> ComposeResult:
        yield Static(id="mc-title")
        yield Static(literal("loading…", "dim"), id="mc-table")
        with Horizontal(id="mc-charts"):
            yield MacroChart(id="mc-perf")
            yield MacroChart(id="mc-corr")
        yield Footer()

    def on_mount(self) -> None:
        self._show_title()
        self._start_load()

    def _start_load(self) -> None:
        store, range_, now = self._store, self.range, self._now()

        def work() -> MacroLoaded:
            return load(store, range_, now)

        self._started = self.monotonic()
        self._worker = self.run_worker(
            work, name="macro load", group="macro", thread=True, exclusive=True,
            exit_on_error=False,
        )  # fmt: skip

    def reload(self) -> None:
        """Load again, unless a load is running or the last began under :data:`THROTTLE_S` ago."""
        if not self.is_attached or (self._worker is not None and not self._worker.is_finished):
            return
        if self._started is not None and self.monotonic() - self._started < THROTTLE_S:
            return
        self._start_load()

    def on_board_changed(self, _message: BoardChanged) -> None:
        self.reload()

    def action_reload(self) -> None:
        self._start_load()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker is not self._worker:
            return
        if event.state is WorkerState.SUCCESS and isinstance(event.worker.result, MacroLoaded):
            self.loaded = event.worker.result
            self._show()
        elif event.state is WorkerState.ERROR:
            self.query_one("#mc-table", Static).update(
                literal(f"could not read the store: {event.worker.error}", "$missing")
            )

    def _show(self) -> None:
        loaded = self.loaded
        if loaded is None:
            return
        table = self.query_one("#mc-table", Static)
        if not any(p.points for p in loaded.assets.values()):
            sources = ", ".join(MACRO_SOURCES)
            why = f"no macro closes stored yet in the last {loaded.range} ({sources})"
            table.update(literal(why, "$missing"))
        else:
            lines = summary_lines(loaded, self.selected)
            if not loaded.btc_source:
                venues = ", ".join(DAY_SOURCES)
                lines.append(literal(f"no BTC daily closes stored yet ({venues})", "$missing"))
            table.update(Content("\n").join(lines))
        p = loaded.assets[self.selected]
        self.query_one("#mc-perf", MacroChart).data = performance_chart(loaded, p)
        self.query_one("#mc-corr", MacroChart).data = correlation_chart(loaded, p)

    def _show_title(self) -> None:
        ranges = Content(" ").join(
            literal(r, "reverse" if r == self.range else "dim") for r in RANGES
        )
        head = Content.assemble(
            ("Macro against BTC", "bold"), "  ", ("daily closes · 1-8 or ↑↓ pick an asset", "dim")
        )
        self.query_one("#mc-title", Static).update(Content.assemble(head, "   ", ranges))

    def action_range(self, step: int) -> None:
        """Switch between 1M and 3M."""
        self.range = RANGES[(RANGES.index(self.range) + step) % len(RANGES)]
        self._show_title()
        self._start_load()

    def action_pick(self, n: int) -> None:
        """Chart asset ``n`` (1..8, the table's order)."""
        if 1 <= n <= len(_KEYS):
            self.selected = _KEYS[n - 1]
            self._show()

    def action_step(self, step: int) -> None:
        """The next or previous asset."""
        self.selected = _KEYS[(_KEYS.index(self.selected) + step) % len(_KEYS)]
        self._show()
