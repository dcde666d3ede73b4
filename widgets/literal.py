"""Untrusted text (status details, reasons, notes) as Content that the terminal shows literally."""

from __future__ import annotations

from typing import Final

from textual.content import Content

# Content strips only BEL, BS, VT, FF and CR, and never reads markup from a plain str; but an ESC
# would still reach the terminal and start an escape sequence. Every C0 control becomes its
# Unicode "control picture" (ESC -> ␛), DEL -> ␡, and C1 controls -> U+FFFD.
_PICTURES: Final[dict[int, str]] = {
    **{code: chr(0x2400 + code) for code in range(0x20)},
    0x7F: "\u2421",
    **{code: "\ufffd" for code in range(0x80, 0xA0)},
}


def printable(text: str) -> str:
    """``text`` with every control character replaced by a visible stand-in."""
    return text.translate(_PICTURES)


def literal(text: str, style: str = "") -> Content:
    """``text`` shown as typed: no markup, no escape sequences; ``style`` may use theme variables.

    Args:
        text: text from the network or the user's config.
        style: a Content style such as ``"$stale"`` or ``"bold $bearish"``.
    """
    return Content.styled(printable(text), style)
