"""What a bucket pane shows, as rows of text: one pure function per bucket turns a Board into them.

Each bucket module (``derivatives``, ``options``, ``flows``, ``onchain``, ``mining``, ``macro``)
has ``view(board, settings) -> PaneView``. The widget only lays the rows out: no maths, no
formatting decisions. Rows come most important first, so a compact pane (80x24) shows the first
two or three and a large one shows them all.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, Literal

from tui.core.model import Board, Reading, format_age

Tone = Literal["bullish", "bearish", "neutral", "stale", "missing", "plain"]
"""How a row reads: its colour comes from the theme variable of the same name, and its glyph
or words carry the same meaning without colour (NO_COLOR)."""

UP: Final = "▲"
DOWN: Final = "▼"
FLAT: Final = "●"


@dataclass(frozen=True, slots=True)
class PaneRow:
    """One line of a pane: ``funding  ▼ -0.012 %/8h  4 venues  12s``."""

    label: str
    value: str
    """The formatted value, or why it is missing (``needs key``, ``rate-limited until 14:05``)."""
    tone: Tone = "plain"
    glyph: str = ""
    """``▲`` ``▼`` ``●`` or empty: the tone without colour."""
    detail: str = ""
    """Short context after the value: venues covered, ``proxy``, ``inverted``."""
    age: str = ""
    """``12s``, ``stale 7m``, ``as of 5 Feb``; empty for a missing value."""


@dataclass(frozen=True, slots=True)
class PaneView:
    """A bucket pane's content."""

    rows: tuple[PaneRow, ...]
    note: str = ""
    """One line under the rows: coverage, labels such as ``OKX only`` or ``proxy``."""


def sign_glyph(value: float) -> str:
    """``▲`` above zero, ``▼`` below, ``●`` at zero."""
    return UP if value > 0 else DOWN if value < 0 else FLAT


def age_text(r: Reading) -> str:
    """``<1m``, ``7m``, or ``stale 7m`` for a stale reading.

    A fresh reading under a minute old says ``<1m``, not its seconds: a pane whose readings did not
    change is then not drawn again at every paint just for its ages (live, the spot venues bring a
    paint every 15 s; the other buckets change every minute or slower). The price pane and the
    drill-down keep the seconds.
    """
    if not r.stale and r.age_s < 60:
        return "<1m"
    return ("stale " if r.stale else "") + format_age(r.age_s)


def missing_text(board: Board, sources: tuple[str, ...]) -> str:
    """Why there is no value: the first failing source's reason, else ``waiting for <source>``."""
    for name in sources:
        s = board.statuses.get(name)
        if s is not None and not s.ok and s.detail:
            return f"{name}: {s.detail}" if len(sources) > 1 else s.detail
    return "waiting for " + (", ".join(sources) if sources else "data")


def reading_row(
    board: Board,
    label: str,
    id_: str,
    source: str | None,
    fmt: Callable[[float], str],
    *,
    sources: tuple[str, ...] = (),
    tone: Callable[[float], Tone] | None = None,
    glyph: Callable[[float], str] | None = None,
    detail: str = "",
) -> PaneRow:
    """A row for one reading: its formatted value and age, stale dimmed, missing with its reason.

    Args:
        board: the latest state.
        label: the row's name.
        id_: the catalogue id.
        source: its source (``None``: any source that has it).
        fmt: formats the value (units included).
        sources: the providers behind it, to explain a missing value (defaults to ``source``).
        tone: the value's tone when fresh (default ``plain``).
        glyph: the value's glyph (default none).
        detail: short context after the value.
    """
    r = board.reading(id_, source)
    if r is None:
        why = sources or ((source,) if source else ())
        return PaneRow(label, missing_text(board, why), "missing", "✕")
    v = r.observation.value
    return PaneRow(
        label,
        fmt(v),
        "stale" if r.stale else (tone(v) if tone else "plain"),
        glyph(v) if glyph else "",
        detail,
        age_text(r),
    )
