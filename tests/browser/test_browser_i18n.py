"""The app in Korean, in headless Chromium: ?lang=ko labels the sidebar, the live view, its
readout and its legend in Korean with nothing cut off (screenshot: screenshots/korean.png); a
Korean browser gets Korean without the link saying so; the switch changes the language and keeps
the scene.

    python -m pytest tests/browser/test_browser_i18n.py -q -s
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from test_browser import PROJECTOR, VIEW, open_app, open_html_export, png, query, state

pytestmark = pytest.mark.browser

HANGUL = re.compile(r"[\uac00-\ud7a3]")

# Every label of the live view (its bars, timeline and readout) that is clipped: its text
# wider than its box, or its box outside the live view's.
CLIPPED_JS = """() => {
  const root = document.querySelector('[data-testid=live-view]'), r = root.getBoundingClientRect();
  const out = [];
  for (const e of root.querySelectorAll('.lv-bar .lv-btn, .lv-timeline .lv-btn, .lv-counter, .lv-ahead, .lv-readout th')) {
    if (!e.offsetParent) continue;                      // hidden
    const b = e.getBoundingClientRect();
    if (e.scrollWidth > e.clientWidth + 1 || b.left < r.left - 1 || b.right > r.right + 1)
      out.push(e.textContent);
  }
  const readout = root.querySelector('.lv-readout');
  if (readout.offsetParent && readout.scrollWidth > readout.clientWidth + 1) out.push('readout');
  return out;
}"""

LABELS_JS = """() => {
  const root = document.querySelector('[data-testid=live-view]');
  return {lang: root.getAttribute('lang'), scene: root.getAttribute('data-scene'),
          buttons: Array.from(root.querySelectorAll('.lv-bar .lv-btn')).map((b) => b.textContent),
          headers: Array.from(root.querySelectorAll('.lv-readout th')).map((t) => t.textContent),
          legend: Array.from(root.querySelectorAll('.legendtext')).map((t) => t.textContent),
          ytitles: Array.from(root.querySelectorAll('text')).filter((t) => /^y\\d*title$/
            .test(t.getAttribute('class') || '')).map((t) => t.textContent),
          ahead: root.querySelector('.lv-ahead').textContent};
}"""


def _sidebar_text(page) -> str:
    return page.get_by_test_id("stSidebar").inner_text()


def test_lang_ko_shows_korean_everywhere_and_nothing_is_cut(browser, app_server, screenshots):
    page = open_app(browser, app_server, PROJECTOR, query="?lang=ko")
    try:
        s = state(page)
        assert re.fullmatch(r"스텝 \d+ / \d+", s["counter"]), s["counter"]
        labels = page.evaluate(LABELS_JS)
        assert labels["lang"] == "ko"
        assert {"경주", "나란히", "곡선", "지도", "왜 이렇게 움직일까", "링크 복사"} <= set(labels["buttons"])
        assert labels["headers"][1:4] == ["실행", "스텝", "손실"]
        assert {"전역 최솟값", "출발점"} <= set(labels["legend"])
        assert any(HANGUL.search(t) for t in labels["ytitles"])          # loss and lr axes
        assert HANGUL.search(labels["ahead"])
        sidebar = _sidebar_text(page)
        for text in ("한국어", "English", "손실 곡면 (surface)", "옵티마이저 (optimizer)",
                     "스텝 수 (steps)"):
            assert text in sidebar, text
        assert page.get_by_text("비교 조건:", exact=False).count() >= 1     # the caption
        assert query(page)["lang"] == "ko"
        assert page.evaluate(CLIPPED_JS) == []
        shot = png(page.screenshot())
        shot.save(screenshots / "korean.png")
        box = page.locator(f"{VIEW} .lv-timeline").bounding_box()
        assert box["y"] + box["height"] <= PROJECTOR[1], "the timeline is above the fold"
        assert np.asarray(shot.convert("L")).std() > 20
        # Why it moves, in Korean: its title and the rule's words.
        page.get_by_role("button", name="왜 이렇게 움직일까").click()
        page.wait_for_selector(f"{VIEW}[data-why='0']", timeout=30_000)
        panel = page.locator(f"{VIEW} .lv-why").inner_text()
        assert "스텝" in panel and "설명할 실행" in panel and "유효 학습률" in panel
        page.screenshot(path=str(screenshots / "korean_why.png"))
    finally:
        page.context.close()


def test_a_korean_browser_gets_korean_without_asking(browser, app_server):
    page = open_app(browser, app_server, PROJECTOR,
                    context_args={"locale": "ko-KR", "extra_http_headers": {"Accept-Language": "ko-KR,ko"}})
    try:
        assert page.evaluate(LABELS_JS)["lang"] == "ko"
        assert "손실 곡면 (surface)" in _sidebar_text(page)
        page.wait_for_function("() => new URLSearchParams(location.search).get('lang') === 'ko'",
                               timeout=20_000)
    finally:
        page.context.close()


def test_the_switch_changes_the_language_and_keeps_the_scene(browser, app_server, screenshots):
    page = open_app(browser, app_server, PROJECTOR, query="?lang=ko&lesson=momentum_overshoot")
    try:
        before = page.evaluate(LABELS_JS)
        steps = state(page)["steps"]
        page.get_by_test_id("stSidebar").get_by_role("radio", name="English").click()
        page.wait_for_function("() => document.querySelector('[data-testid=live-view]')"
                               ".getAttribute('lang') === 'en'", timeout=30_000)
        after = page.evaluate(LABELS_JS)
        assert after["scene"] == before["scene"], "the same scene"
        assert state(page)["steps"] == steps
        assert "Why it moves" in after["buttons"] and after["headers"][1:4] == ["run", "step", "loss"]
        assert {"global minimum", "start"} <= set(after["legend"])
        page.wait_for_function("() => new URLSearchParams(location.search).get('lang') === 'en' && "
                               "new URLSearchParams(location.search).get('lesson') === "
                               "'momentum_overshoot'", timeout=20_000)
        assert "Surface" in _sidebar_text(page)
        assert page.evaluate(CLIPPED_JS) == []
        page.get_by_test_id("stSidebar").get_by_role("radio", name="한국어").click()
        page.wait_for_function("() => document.querySelector('[data-testid=live-view]')"
                               ".getAttribute('lang') === 'ko'", timeout=30_000)
        assert page.evaluate(LABELS_JS)["scene"] == before["scene"]
    finally:
        page.context.close()


def test_the_korean_html_export_speaks_korean_offline(browser, tmp_path):
    from optiviz import scene as scenes

    page, errors = open_html_export(browser, tmp_path, {**scenes.default_scene(), "steps": 80},
                                    lang="ko")
    context = page.context
    try:
        page.wait_for_selector(f"{VIEW}[data-playing='0'][data-drawn]", timeout=60_000)
        labels = page.evaluate(LABELS_JS)
        assert labels["lang"] == "ko" and "경주" in labels["buttons"]
        assert labels["headers"][1:4] == ["실행", "스텝", "손실"] and "출발점" in labels["legend"]
        assert state(page)["counter"] == "스텝 80 / 80"
        assert page.evaluate(CLIPPED_JS) == []
        assert not errors, errors
    finally:
        context.close()
