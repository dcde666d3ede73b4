"""Textual themes with btcwatch's semantic variables; the only place colour values live.

Widgets and screens name colours by meaning (``$bullish``, ``$pivot``, ...) and never by value.
The app returns :data:`SEMANTIC_DEFAULTS` from ``App.get_theme_variable_defaults`` so every theme,
Textual's built-in ones included, defines them; :data:`THEMES` tune them per background.
"""

from __future__ import annotations

from typing import Final

from textual.theme import Theme

#: The semantic colour variables and their fallbacks for themes that do not set them.
#: ANSI names on purpose: under the ``ansi-dark``/``ansi-light`` themes they follow the
#: terminal's own palette (SSH, 16-colour terminals); under truecolor themes Textual maps them
#: through its dark or light terminal palette, so each stays readable on either background.
SEMANTIC_DEFAULTS: Final[dict[str, str]] = {
    "bullish": "ansi_green",
    "bearish": "ansi_red",
    "neutral": "ansi_blue",
    "stale": "ansi_bright_black",
    "missing": "ansi_bright_red",
    "pivot": "ansi_yellow",
    "band": "ansi_cyan",
    "retest": "ansi_magenta",
}

_BITCOIN_ORANGE: Final = "#F7931A"

BTCWATCH_DARK: Final = Theme(
    name="btcwatch-dark",
    primary=_BITCOIN_ORANGE,
    secondary="#58A6FF",
    accent="#58A6FF",
    warning="#D29922",
    error="#F85149",
    success="#3FB950",
    foreground="#E6EDF3",
    background="#0D1117",
    surface="#161B22",
    panel="#21262D",
    dark=True,
    variables={
        "bullish": "#3FB950",
        "bearish": "#F85149",
        "neutral": "#58A6FF",
        "stale": "#7D8590",
        "missing": "#FF9492",
        "pivot": "#E3B341",
        "band": "#39C5CF",
        "retest": "#F778BA",
        "footer-key-foreground": _BITCOIN_ORANGE,
    },
)

BTCWATCH_LIGHT: Final = Theme(
    name="btcwatch-light",
    primary="#BC4C00",
    secondary="#0969DA",
    accent="#0969DA",
    warning="#9A6700",
    error="#CF222E",
    success="#1A7F37",
    foreground="#1F2328",
    background="#FFFFFF",
    surface="#F6F8FA",
    panel="#EAEEF2",
    dark=False,
    variables={
        "bullish": "#1A7F37",
        "bearish": "#CF222E",
        "neutral": "#0969DA",
        "stale": "#6E7781",
        "missing": "#A40E26",
        "pivot": "#9A6700",
        "band": "#1B7C83",
        "retest": "#8250DF",
        "footer-key-foreground": "#BC4C00",
    },
)

#: btcwatch's own themes. The app registers them; Textual's ``ansi-dark`` and ``ansi-light`` stay
#: available for low-colour terminals and SSH sessions.
THEMES: Final[tuple[Theme, ...]] = (BTCWATCH_DARK, BTCWATCH_LIGHT)

DEFAULT_THEME: Final = "btcwatch-dark"
