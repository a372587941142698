"""The page's language: ?lang=ko|en in the link, else the browser's (st.context.locale, then
the request's Accept-Language), else English; then the switch at the top of the sidebar.

The language in force lives in session state under LANG, apart from the switch's own key, so it
survives a run that does not draw the sidebar (the presenter's page). Every label is looked up
with t(key): optiviz.i18n in that language.
"""

from __future__ import annotations

import streamlit as st

from optiviz import i18n

LANG = "ui_lang"          # the language in force
PICK = "lang_pick"        # the sidebar's switch
ORDER = ("ko", "en")      # as the switch shows them: 한국어 | English


def browser_lang() -> str | None:
    """The browser's language if it is one of ours: navigator.language (st.context.locale),
    else the first supported entry of the Accept-Language header; None otherwise."""
    try:
        found = i18n.from_locale(st.context.locale)
    except Exception:                       # noqa: BLE001 - no browser context (tests, scripts)
        found = None
    if found:
        return found
    try:
        return i18n.from_accept_language(st.context.headers.get("Accept-Language"))
    except Exception:                       # noqa: BLE001
        return None


def init(url_lang: str | None) -> str:
    """On the session's first run: the link's language, else the browser's, else English."""
    lang = url_lang if url_lang in i18n.LANGS else (browser_lang() or i18n.DEFAULT)
    st.session_state[LANG] = lang
    return lang


def current() -> str:
    """The language in force, after the switch (if it was just changed)."""
    ss = st.session_state
    picked = ss.get(PICK)
    if picked in i18n.LANGS and picked != ss.get(LANG):
        ss[LANG] = picked
    lang = ss.get(LANG)
    return lang if lang in i18n.LANGS else i18n.DEFAULT


def t(key: str, **values) -> str:
    """The catalog string `key` in the page's language."""
    return i18n.t(key, current(), **values)


def bound():
    """(lang, t) with the page's language fixed now: for format functions, which Streamlit
    (and AppTest) may call outside this run."""
    lang = current()

    def t_(key: str, **values) -> str:
        return i18n.t(key, lang, **values)

    return lang, t_


def switch(sb) -> None:
    """The one compact language switch (a segmented control) at the top of the sidebar. A click
    on the chosen language (which would clear it) changes nothing."""
    ss = st.session_state
    ss[PICK] = current()
    sb.segmented_control(t("lang.label"), ORDER, key=PICK, format_func=i18n.LANG_NAMES.get,
                         label_visibility="collapsed")
