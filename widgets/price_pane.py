"""The consensus price, large, against the pivot and the bands, with the UTC day and the venues."""

from __future__ import annotations

from typing import TYPE_CHECKING, Final, Literal

from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import Digits

from tui.core.model import format_age
from widgets.literal import literal
from widgets.text_block import TextBlock
from widgets.text_line import TextLine

if TYPE_CHECKING:
    from textual import events
    from textual.app import ComposeResult

    from tui.core.config import Band
    from tui.core.views import PriceView, VenueQuote

Fit = Literal["narrow", "compact", "wide"]

#: Content widths (cells) at which the pane switches wording: below NARROW the big digits go,
#: from WIDE on every line has room for its long form (the band's source, venue ages).
NARROW: Final = 48
WIDE: Final = 80


def usd(value: float) -> str:
    """``$69,851``."""
    return f"${value:,.0f}"


def pct(value: float, digits: int = 2) -> str:
    """``+0.21%`` / ``-0.26%``: always signed."""
    return f"{value:+.{digits}f}%"


def _signed(value: float, digits: int = 1) -> Content:
    return literal(pct(value, digits), "$bullish" if value >= 0 else "$bearish")


def _range(band: Band, style: str) -> Content:
    return literal(f"{usd(band.low)}–{usd(band.high)}", style)


class PricePane(Widget):
    """The price bucket's numbers: nothing here is computed, :class:`PriceView` holds them all."""

    DEFAULT_CSS = """
    PricePane { height: auto; }
    PricePane #price-head { height: auto; }
    PricePane #price-big { width: 20; height: auto; margin-right: 1; }
    PricePane #price-side { width: 1fr; height: 4; }
    PricePane #price-lines { height: 4; }
    PricePane.-wide #price-lines { height: 3; }
    PricePane #price-digits { width: auto; }
    PricePane.-bullish #price-digits { color: $bullish; }
    PricePane.-bearish #price-digits { color: $bearish; }
    PricePane.-stale #price-digits, PricePane.-stale #price-age { color: $stale; }
    PricePane.-missing #price-digits { display: none; }
    PricePane.-narrow #price-head { layout: vertical; }
    PricePane.-narrow #price-big { width: 1fr; }
    PricePane.-narrow #price-digits { display: none; }
    """

    view: reactive[PriceView | None] = reactive(None, repaint=False)
    """What to show; ``None`` until the first prices arrive."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._fit: Fit = "compact"

    def compose(self) -> ComposeResult:
        with Horizontal(id="price-head"):
            with Vertical(id="price-big"):
                yield Digits("", id="price-digits")
                yield TextLine(id="price-age")
            yield TextBlock(id="price-side")
        yield TextBlock(id="price-lines")

    def on_mount(self) -> None:
        self._show()

    def on_resize(self, event: events.Resize) -> None:
        width = event.size.width
        fit: Fit = "narrow" if width < NARROW else "wide" if width >= WIDE else "compact"
        if fit != self._fit:
            self._fit = fit
            if self.is_mounted:
                self._show()

    def watch_view(self) -> None:
        if self.is_mounted:  # else on_mount shows it
            self._show()

    def preset(self, view: PriceView) -> None:
        """Show ``view`` from the start (before mounting): no restyle when it mounts."""
        self.set_reactive(PricePane.view, view)
        self.set_classes(self._classes_for(view))

    def _classes_for(self, view: PriceView | None) -> set[str]:
        fit = self._fit
        price = None if view is None else view.price
        distance = None if view is None else view.distance_pct
        wanted = {
            "-narrow": fit == "narrow",
            "-wide": fit == "wide",
            "-missing": price is None,
            "-stale": view is not None and view.stale,
            "-bullish": distance is not None and distance > 0,
            "-bearish": distance is not None and distance < 0,
        }
        return (set(self.classes) - wanted.keys()) | {c for c, on in wanted.items() if on}

    def _show(self) -> None:
        view, fit = self.view, self._fit
        price = None if view is None else view.price
        classes = self._classes_for(view)
        if classes != set(self.classes):
            # One restyle of the pane's subtree, not one per class that changed.
            self.set_classes(classes)
        if price is not None:
            self.query_one("#price-digits", Digits).update(f"{price:,.0f}")
        texts = _texts(view, fit) if view is not None else _waiting()
        self.query_one("#price-age", TextLine).text = texts.get("age", Content(""))
        blank = Content("")
        side = ("pivot", "band", "retest", "extra")
        # The spread has its own line below unless the wide form already shows it at the side.
        below = ("day", "high", "venues") if fit == "wide" else ("day", "high", "spread", "venues")
        self.query_one("#price-side", TextBlock).lines = tuple(texts.get(n, blank) for n in side)
        self.query_one("#price-lines", TextBlock).lines = tuple(texts.get(n, blank) for n in below)


def _waiting() -> dict[str, Content]:
    return {"pivot": literal("waiting for the first prices…", "dim")}


def _texts(v: PriceView, fit: Fit) -> dict[str, Content]:
    wide = fit == "wide"
    out = _missing(v) if v.price is None else _head(v, v.price, fit)
    out["spread"] = _spread(v)
    out["extra"] = out["spread"] if wide else _note(v.absorption)
    out["day"], out["high"] = _day(v, wide)
    out["venues"] = Content(" · ").join(_venue(q, wide) for q in v.venues)
    return out


def _missing(v: PriceView) -> dict[str, Content]:
    return {
        "age": literal("✕ no price", "bold $missing"),
        "pivot": literal(f"✕ {v.missing or 'no price yet'}", "$missing"),
        "band": Content.assemble("band ", _range(v.absorption, "$band")),
        "retest": Content.assemble("retest band ", _range(v.retest, "$retest")),
    }


def _head(v: PriceView, price: float, fit: Fit) -> dict[str, Content]:
    """The lines beside the big digits: age, pivot, absorption band, retest band."""
    wide = fit == "wide"
    the = "the " if wide else ""
    age = "" if v.age_s is None else format_age(v.age_s)
    age_text = f"◐ stale {age}" if v.stale else f"● consensus {age}".rstrip()
    lead = f"{usd(price)} · " if fit == "narrow" else ""
    pivot = literal(usd(v.pivot), "$pivot")
    d = v.distance_pct
    if d is None or d == 0:
        side = literal("◆ at", "$neutral") + f" {the}"
    else:
        arrow, word, style = ("▲", "above", "$bullish") if d > 0 else ("▼", "below", "$bearish")
        side = literal(f"{arrow} {pct(d)}", style) + f" {word} {the}"
    band, retest = _range(v.absorption, "$band"), _range(v.retest, "$retest")
    where, retest_where = v.absorption_position or "?", v.retest_position or "?"
    note = literal(f" ({v.absorption.note})", "dim") if v.absorption.note else Content("")
    return {
        "age": literal(lead + age_text, "bold" if v.stale else "dim"),
        "pivot": Content.assemble(side, pivot, " pivot"),
        "band": (
            Content.assemble(f"{where} the ", band, " band", note)
            if wide
            else Content.assemble(f"{where} band ", band)
        ),
        "retest": (
            Content.assemble(f"{retest_where} the ", retest, " retest band")
            if wide
            else Content.assemble(f"{retest_where} retest ", retest)
        ),
    }


def _note(band: Band) -> Content:
    return literal(f"band: {band.note}", "dim") if band.note else Content("")


def _spread(v: PriceView) -> Content:
    fresh = sum(1 for q in v.venues if q.price is not None and not q.stale)
    if v.spread_usd is None:
        return literal(f"spread: needs 2 fresh venues ({fresh} now)", "dim")
    return literal(f"spread {usd(v.spread_usd)} across {fresh} venues")


def _day(v: PriceView, wide: bool) -> tuple[Content, Content]:
    """The day line and the high line."""
    ohlc = (("O", v.day_open), ("H", v.day_high), ("L", v.day_low), ("C", v.day_close))
    if all(x is None for _, x in ohlc):
        return literal("day: no candles yet", "dim"), Content("")
    day: list[str | Content] = [
        literal(" ".join(f"{k} {'—' if x is None else f'{x:,.0f}'}" for k, x in ohlc))
    ]
    off_low = (
        Content.assemble(" · ", _signed(v.off_low_pct), " off the low")
        if v.off_low_pct is not None
        else Content("")
    )
    if v.day_change_pct is not None:
        day += [" · ", _signed(v.day_change_pct)]
    if wide:
        day.append(off_low)
    tol = f"(±{v.high_tolerance_pct:g}%)"
    high = f"high {v.day_high:,.0f}" if wide and v.day_high is not None else "high"
    tested = "tested and rejected" if wide else "rejected"
    n = v.high_rejections
    if v.day_high is None:
        said = "high: no candles yet"
    elif n is None:
        said = f"{high}: no intraday history yet"
    else:
        said = f"{high} not retested {tol}" if n == 0 else f"{high} {tested} {n}× {tol}"
    tail = Content("") if wide else off_low
    return Content.assemble("day ", *day), Content.assemble(literal(said), tail)


def _venue(q: VenueQuote, wide: bool) -> Content:
    if q.price is None:
        return literal(f"{q.name} ✕", "$missing")
    age = "" if q.age_s is None else format_age(q.age_s)
    if q.stale:
        return literal(f"{q.name} {q.price:,.0f} stale {age}".rstrip(), "$stale")
    tail = f" {age}" if wide and age else ""
    return Content.assemble(literal(q.name + " "), literal(f"{q.price:,.0f}", "bold"), tail)
