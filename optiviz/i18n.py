"""Every string the app, the live view and the exports show, in English and Korean.

    t("sidebar.surface", "ko")                       -> "손실 곡면 (surface)"
    t("fig.step_of", "ko", step=3, total=50)         -> "스텝 3 / 50"

The strings live in catalogs, one JSON object per language (optiviz/catalogs/en.json and
ko.json): one key per string, `{name}` placeholders filled by str.format. A key missing from a
language falls back to English; tests/test_i18n.py keeps both catalogs on the same keys and the
same placeholders, and checks that every key the code asks for exists.

English is the source: presets' titles, lessons and watch sentences and the notes of
optiviz.explain are read from en.json; optimizer summaries (optim_core) and surface titles and
descriptions (landscapes) keep their own English text, mirrored in en.json (a test checks they
agree), so those packages' API is unchanged.
"""

from __future__ import annotations

import json
import re
import string
from functools import lru_cache
from pathlib import Path

__all__ = ["LANGS", "DEFAULT", "LANG_NAMES", "t", "has", "catalog", "normalize", "from_locale",
           "from_accept_language", "known", "phrases", "section", "placeholders"]

LANGS = ("en", "ko")
DEFAULT = "en"
LANG_NAMES = {"ko": "한국어", "en": "English"}
CATALOGS = Path(__file__).resolve().parent / "catalogs"


@lru_cache(maxsize=None)
def catalog(lang: str) -> dict[str, str]:
    """The catalog of one language (read once; never changed: callers must not mutate it)."""
    if lang not in LANGS:
        raise ValueError(f"language must be one of {', '.join(LANGS)}, got {lang!r:.20}")
    with open(CATALOGS / f"{lang}.json", encoding="utf-8") as fh:
        data = json.load(fh)
    return {k: v for k, v in data.items() if not k.startswith("_")}


def normalize(lang) -> str:
    """A supported language code for any input: "ko", "ko-KR", "KO" -> "ko"; else "en"."""
    return from_locale(lang) or DEFAULT


def from_locale(locale) -> str | None:
    """A browser locale ("ko-KR", "en_US", "ko") -> "ko" or "en"; None when not supported."""
    if not isinstance(locale, str):
        return None
    head = re.split(r"[-_;,\s]", locale.strip().lower(), maxsplit=1)[0]
    return head if head in LANGS else None


def from_accept_language(header) -> str | None:
    """The first supported language of an Accept-Language header, by its q weights."""
    if not isinstance(header, str) or len(header) > 2000:
        return None
    ranked = []
    for i, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        m = re.search(r"q\s*=\s*([0-9.]+)", params)
        if m:
            try:
                q = float(m.group(1))
            except ValueError:
                q = 0.0
        lang = from_locale(tag)
        if lang and q > 0:
            ranked.append((-q, i, lang))
    return min(ranked)[2] if ranked else None


def has(key: str) -> bool:
    return key in catalog(DEFAULT)


def t(key: str, lang: str = DEFAULT, **values) -> str:
    """The string `key` in `lang` (English when that language lacks it; the key itself when no
    catalog has it), with its {placeholders} filled from `values`."""
    text = catalog(normalize(lang)).get(key)
    if text is None:
        text = catalog(DEFAULT).get(key, key)
    return text.format(**values) if values else text


def placeholders(text: str) -> set[str]:
    """The {names} a catalog string expects."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def section(prefix: str, lang: str = DEFAULT) -> dict[str, str]:
    """Every string under `prefix` ("live."), keyed by the rest of its key, in `lang`."""
    en, own = catalog(DEFAULT), catalog(normalize(lang))
    return {k[len(prefix):]: own.get(k, v) for k, v in en.items() if k.startswith(prefix)}


@lru_cache(maxsize=None)
def _by_english(prefix: str) -> dict[str, str]:
    return {v: k for k, v in catalog(DEFAULT).items() if k.startswith(prefix)}


def known(text, lang: str = DEFAULT, prefix: str = "") -> str:
    """`text` translated when it is the English value of a key under `prefix` (e.g. an
    overlay's label from optiviz.why); anything else (user text included) unchanged."""
    if normalize(lang) == DEFAULT or not isinstance(text, str):
        return text
    key = _by_english(prefix).get(text)
    return t(key, lang) if key else text


@lru_cache(maxsize=None)
def _phrase_table(prefix: str, lang: str) -> tuple:
    pairs = [(v, catalog(lang).get(k, v)) for k, v in catalog(DEFAULT).items()
             if k.startswith(prefix)]
    return tuple(sorted(pairs, key=lambda p: -len(p[0])))       # longest phrase first


def phrases(text, lang: str = DEFAULT, prefix: str = "") -> str:
    """`text` with every English phrase listed under `prefix` replaced by its translation (the
    words inside a formula line, e.g. "effective rate")."""
    lang = normalize(lang)
    if lang == DEFAULT or not isinstance(text, str):
        return text
    for english, own in _phrase_table(prefix, lang):
        if english in text:
            text = text.replace(english, own)
    return text
