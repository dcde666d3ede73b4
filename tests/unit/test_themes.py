"""Themes: every semantic colour resolves in every offered theme; no colour values elsewhere."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from textual.app import App, ComposeResult
from textual.color import Color
from textual.widgets import Static

from themes import DEFAULT_THEME, SEMANTIC_DEFAULTS, THEMES

ROOT = Path(__file__).resolve().parents[2]
SEMANTIC = ("bullish", "bearish", "neutral", "stale", "missing", "pivot", "band", "retest")
#: What the app offers: its own themes, the terminal-palette ones for SSH, Textual's default.
OFFERED = ("btcwatch-dark", "btcwatch-light", "ansi-dark", "ansi-light", "textual-dark")


class ThemeProbe(App[None]):
    """The app's theme set-up, with one Static per semantic variable coloured by it in CSS."""

    CSS = "\n".join(f".{name} {{ color: ${name}; }}" for name in SEMANTIC)

    def __init__(self) -> None:
        super().__init__()
        for theme in THEMES:
            self.register_theme(theme)
        self.theme = DEFAULT_THEME

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return {**super().get_theme_variable_defaults(), **SEMANTIC_DEFAULTS}

    def compose(self) -> ComposeResult:
        for name in SEMANTIC:
            yield Static(name, classes=name)


def test_semantic_defaults_cover_every_variable_and_themes_tune_each() -> None:
    assert set(SEMANTIC_DEFAULTS) == set(SEMANTIC)
    assert {theme.name for theme in THEMES} == {"btcwatch-dark", "btcwatch-light"}
    assert DEFAULT_THEME in {theme.name for theme in THEMES}
    for theme in THEMES:
        assert set(SEMANTIC) <= set(theme.variables), theme.name
    # Defaults are ANSI names, so the terminal-palette themes follow the terminal's palette.
    assert all(value.startswith("ansi_") for value in SEMANTIC_DEFAULTS.values())


@pytest.mark.parametrize("theme", OFFERED)
async def test_every_semantic_variable_resolves(theme: str) -> None:
    app = ThemeProbe()
    async with app.run_test(size=(40, 10)) as pilot:
        app.theme = theme
        await pilot.pause()
        variables = app.get_css_variables()
        for name in SEMANTIC:
            expected = Color.parse(variables[name])
            static = app.query_one(f".{name}", Static)
            assert static.styles.color == expected, (theme, name)


def _luminance(colour: Color) -> float:
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = colour.rgb
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def _contrast(a: Color, b: Color) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


@pytest.mark.parametrize("theme", THEMES, ids=lambda theme: theme.name)
def test_semantic_colours_read_on_their_backgrounds(theme: object) -> None:
    from textual.theme import Theme

    assert isinstance(theme, Theme)
    for ground in (theme.background, theme.surface, theme.panel):
        assert ground is not None
        for name in SEMANTIC:
            ratio = _contrast(Color.parse(theme.variables[name]), Color.parse(ground))
            # WCAG 2.1's 3:1 for large text and interface components.
            assert ratio >= 3.0, (theme.name, name, ground, round(ratio, 2))


HEX = re.compile(r"(?<![\w&])#(?:[0-9a-fA-F]{8}|[0-9a-fA-F]{6}|[0-9a-fA-F]{3,4})(?![\w-])")
FUNCTION = re.compile(r"\b(?:rgba?|hsla?)\(")


def test_no_colour_values_outside_themes() -> None:
    files = [
        p for d in ("widgets", "tui") for p in (ROOT / d).rglob("*") if p.suffix in {".py", ".tcss"}
    ]
    assert files
    offenders = [
        f"{path.relative_to(ROOT)}:{n}: {line.strip()}"
        for path in files
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if HEX.search(line) or FUNCTION.search(line)
    ]
    assert offenders == []


def test_the_colour_scan_would_catch_a_literal() -> None:
    assert HEX.search("color: #F7931A;")
    assert HEX.search('background: "#fff"')
    assert FUNCTION.search("color: rgb(1, 2, 3)")
    assert not HEX.search("#price-digits { width: auto; }")
    assert not HEX.search("# a comment, see issue #4")
