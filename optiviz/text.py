"""User text as it is echoed back: cut short, with invisible characters made visible.

Shared by the command line and the app (ui/text.py adds Markdown escaping on top), so a link,
a file or an argument can never hide text behind direction marks, control codes or length.
"""

from __future__ import annotations

import unicodedata

MAX_CHARS = 400


def _visible(ch: str) -> str:
    """Control, format (bidi marks, zero-width) and unusual separator characters as \\u escapes."""
    if ch == " ":
        return ch
    if ch in "\n\t\r":
        return " "
    if unicodedata.category(ch) in ("Cc", "Cf", "Co", "Cs", "Cn", "Zl", "Zp", "Zs"):
        return f"\\u{ord(ch):04x}"
    return ch


def plain(text, limit: int = MAX_CHARS) -> str:
    """`text` cut to `limit` characters (an ellipsis marks the cut), one line, nothing hidden."""
    text = str(text)
    if len(text) > limit:
        text = text[:limit - 1] + "…"
    return "".join(_visible(ch) for ch in text).strip()
