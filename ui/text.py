"""Text shown by Streamlit: anything that may carry user input goes through literal().

Streamlit renders the body of st.warning / st.error / st.info / st.markdown / st.caption as
Markdown (GitHub-flavoured, plus $math$, :emoji: shortcodes and :color[directives]). A share link
or a scene file must never put a link, emphasis, an image, HTML or math on the page, so every
message is shown as literal text: each ASCII punctuation character is backslash-escaped (which
CommonMark guarantees renders as that character), a word joiner after every colon breaks emoji
and directive names, and invisible or direction-changing characters are shown as \\u escapes.
"""

from __future__ import annotations

import string

import streamlit as st

from optiviz.i18n import t
from optiviz.text import plain

MAX_CHARS = 400               # one message; longer ones are cut with an ellipsis
MAX_ITEMS = 4                 # a notice lists this many, then "and N more"
_PUNCTUATION = frozenset(string.punctuation)
_WORD_JOINER = "\u2060"


def literal(text, limit: int = MAX_CHARS) -> str:
    """Markdown whose rendering is exactly `text` (cut to `limit`), whatever it contains."""
    out = []
    for ch in plain(text, limit):
        if ch in _PUNCTUATION:
            out.append("\\" + ch)
            if ch == ":":
                out.append(_WORD_JOINER)
        else:
            out.append(ch)
    return "".join(out)


def notice_body(title: str, items: list[str], max_items: int = MAX_ITEMS, lang: str = "en") -> str:
    """One message for many findings: the title, then at most `max_items` as a list, then
    "and N more" (in `lang`). Everything is literal (see literal())."""
    items = [i for i in items if i]
    body = literal(title)
    if not items:
        return body
    shown = items[:max_items]
    lines = [body] + [f"- {literal(item, 240)}" for item in shown]
    if len(items) > max_items:
        lines.append(f"- {literal(t('text.and_more', lang, n=len(items) - max_items))}")
    return "\n".join(lines)


def warning(title: str, items: list[str] | None = None, lang: str = "en") -> None:
    st.warning(notice_body(title, items or [], lang=lang), icon="⚠️")


def error(title: str, items: list[str] | None = None, lang: str = "en") -> None:
    st.error(notice_body(title, items or [], lang=lang))


def rendered(markdown: str) -> str:
    """What literal() Markdown shows on the page (for tests): the escapes and joiners removed."""
    out, i = [], 0
    markdown = markdown.replace(_WORD_JOINER, "")
    while i < len(markdown):
        if markdown[i] == "\\" and i + 1 < len(markdown) and markdown[i + 1] in _PUNCTUATION:
            out.append(markdown[i + 1])
            i += 2
        else:
            out.append(markdown[i])
            i += 1
    return "".join(out)
