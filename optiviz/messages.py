"""Messages made from user input, in the reader's language.

    localize("Ignored steps=0 from the link (steps must be an integer in [1, 5000], got 0); "
             "using 500.", "ko")
    -> "링크의 steps=0을(를) 무시했습니다 (steps은(는) [1, 5000] 범위의 정수여야 하는데 0입니다).
        500을(를) 씁니다."

What the app tells a user about their own input (a link's parts it could not use, a refused
scene file, a typed formula's error, a scene the controls could not show as loaded) is built in
English: by optiviz.url_state (from the catalog's English), and by the ValueErrors of optim_core,
landscapes and optiviz.scene, which stay English as API errors. The display layer translates it
here. Every key under "msg." in the English catalog is a message shape ("Ignored {param}={value}
from the link: {reason}."): a message that matches one is written again with that key's string
in `lang`, its parts kept as they are (they are the user's own text, shown as data; the caller
escapes them), except the parts named in NESTED (a reason, a problem, a field's name...), which
are messages themselves and are translated in turn. Shapes under "msg.part." (short phrases such
as "optimizer {name}") are only looked for inside another message. Text that matches no shape
is returned unchanged (still English), never dropped.
"""

from __future__ import annotations

import re
import string
from functools import lru_cache

from . import i18n

__all__ = ["localize", "shape_of", "NESTED"]

PREFIX = "msg."
PART = "msg.part."
EXTRA_KEYS = ("lang.ignored",)        # message shapes kept under their older keys
# Placeholders that hold a message (or a phrase) of their own: translated in turn.
NESTED = frozenset({"reason", "problem", "error", "where", "what", "owner", "field", "got",
                    "was", "now", "keys", "valid", "hint", "allowed", "shown"})
# Placeholders that hold a count or a column: digits only (so "{column}{hint}" splits right).
DIGITS = frozenset({"column", "n", "i", "count", "first", "last", "points", "grid", "line",
                    "pos"})
MAX_CHARS = 2000          # longer text is shown as it is (no message is this long)
MAX_DEPTH = 6


# Which shapes are tried first: the frames around other messages (a link's, a file's), then
# the reasons inside them, then short phrases, then the loosest shape; within a tier, shapes
# that begin with their own words, then the longest words first.
TIERS = (("msg.link.", "msg.view.", "lang."), ("msg.file.",), ("msg.core.", "msg.formula.",
         "msg.bad."), (PART,))


def _tier(key: str) -> int:
    return next((i for i, prefixes in enumerate(TIERS) if key.startswith(prefixes)), len(TIERS))


@lru_cache(maxsize=1)
def _shapes() -> tuple[tuple, tuple]:
    """(top-level shapes, every shape), each (key, compiled pattern, group names), in the
    order they are tried (TIERS)."""
    english = i18n.catalog(i18n.DEFAULT)
    keys = [k for k in english if k.startswith(PREFIX)] + [k for k in EXTRA_KEYS if k in english]
    shapes = []
    for key in keys:
        parts, names, literal = [], [], 0
        for text, name, _, _ in string.Formatter().parse(english[key]):
            parts.append(re.escape(text))
            literal += len(text)
            if name is None:
                continue
            if name in names:
                parts.append(f"(?P={name})")
            else:
                names.append(name)
                parts.append(f"(?P<{name}>[0-9]+)" if name in DIGITS else f"(?P<{name}>.*?)")
        if not literal:
            continue                  # a bare placeholder would match anything
        pattern = re.compile("".join(parts), re.DOTALL)
        anchored = not english[key].startswith("{")
        shapes.append(((_tier(key), not anchored, -literal, key), key, pattern, tuple(names)))
    shapes.sort(key=lambda s: s[0])
    every = tuple((key, pattern, names) for _, key, pattern, names in shapes)
    top = tuple(s for s in every if not s[0].startswith(PART))
    return top, every


def shape_of(message: str, nested: bool = False):
    """(key, {placeholder: text}) of the first shape `message` matches, else None."""
    if not isinstance(message, str) or not message or len(message) > MAX_CHARS:
        return None
    top, every = _shapes()
    for key, pattern, names in (every if nested else top):
        m = pattern.fullmatch(message)
        if m:
            return key, {name: m.group(name) for name in names}
    return None


def localize(message, lang: str = i18n.DEFAULT) -> str:
    """`message` in `lang` when it is one of the known shapes (its nested parts too); else as
    it is. English (and anything that is not text) comes back unchanged."""
    lang = i18n.normalize(lang)
    if lang == i18n.DEFAULT or not isinstance(message, str):
        return message
    return _localize(message, lang, 0, nested=False)


def _localize(message: str, lang: str, depth: int, nested: bool) -> str:
    if depth > MAX_DEPTH:
        return message
    found = shape_of(message, nested)
    if found is None:
        return message
    key, values = found
    values = {name: (_localize(text, lang, depth + 1, nested=True) if name in NESTED else text)
              for name, text in values.items()}
    return i18n.t(key, lang, **values)
