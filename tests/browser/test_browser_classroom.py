"""The classroom in the real app: phones and small screens, the presenter's link and a lesson
list walked with n / p.

At 390x844 (a phone), 768x1024 (a tablet), 1280x720 (a projector) and 1920x1080 the page is
screenshot (tests/browser/screenshots/screen_<w>x<h>*.png: the top of the page and the timeline
scrolled into view; look at them), and checked: on a phone the sidebar starts closed, the race
stacks its map over its curves and the map is at least 330 px wide; at every size no timeline
control lies outside the window once scrolled to, and the page never scrolls sideways.
The presenter's page (?present=1) shows no sidebar and no controls but the timeline, fits the
picture and the timeline in 1280x720 and 1920x1080 with large type, and n / p walk the link's
lesson list (lessons=...).
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest

from test_browser import VIEW, open_app

pytestmark = pytest.mark.browser

PHONE, TABLET, PROJECTOR, FULL_HD = (390, 844), (768, 1024), (1280, 720), (1920, 1080)
LESSONS = ("lr_too_large", "momentum_overshoot", "adagrad_decay")

GEOMETRY_JS = """() => {
  const gd = document.querySelector('[data-testid=live-view] .js-plotly-plot'), fl = gd._fullLayout;
  const sb = document.querySelector('section[data-testid=stSidebar]');
  const box = (e) => { const r = e.getBoundingClientRect();
                       return {left: r.left, right: r.right, top: r.top, bottom: r.bottom}; };
  const controls = Array.from(document.querySelectorAll(
      '[data-testid=live-view] .lv-timeline .lv-btn, [data-testid=live-view] .lv-timeline input'))
    .filter((e) => e.offsetParent !== null)
    .map((e) => ({text: e.textContent || e.type, ...box(e)}));
  return {mapWidth: fl.xaxis._length, mapHeight: fl.yaxis._length,
          stacked: fl.yaxis2.domain[1] < fl.yaxis.domain[0],
          sidebarCollapsed: sb ? sb.getAttribute('data-collapsed') : null,
          sidebarWidth: sb ? sb.getBoundingClientRect().width : 0,
          sidebarShown: sb ? getComputedStyle(sb).display !== 'none' : false,
          pageWidth: document.documentElement.scrollWidth,
          timeline: box(document.querySelector('[data-testid=live-view] .lv-timeline')),
          bar: getComputedStyle(document.querySelector('[data-testid=live-view] .lv-bar')).display,
          font: parseFloat(getComputedStyle(document.querySelector('[data-testid=live-view] .lv-play')).fontSize),
          legendFont: fl.legend.font.size, controls};
}"""


def geometry(page) -> dict:
    return page.evaluate(GEOMETRY_JS)


def open_at(browser, server, size, query=""):
    small = size[0] < 1000
    return open_app(browser, server, size, query=query,
                    context_args={"has_touch": small, "is_mobile": size[0] < 500})


def assert_controls_inside(g: dict, size, where: str):
    width, height = size
    for c in g["controls"]:
        assert c["left"] >= -0.5 and c["right"] <= width + 0.5, f"{where}: {c['text']!r} clipped sideways: {c}"
        assert c["top"] >= -0.5 and c["bottom"] <= height + 0.5, f"{where}: {c['text']!r} off screen: {c}"


@pytest.mark.parametrize("size", [PHONE, TABLET, PROJECTOR, FULL_HD],
                         ids=["phone", "tablet", "projector", "full_hd"])
def test_screen_sizes(browser, app_server, screenshots, size):
    width, height = size
    page = open_at(browser, app_server, size)
    try:
        page.screenshot(path=str(screenshots / f"screen_{width}x{height}.png"))
        g = geometry(page)
        print(f"\n{width}x{height}: map {g['mapWidth']:.0f}x{g['mapHeight']:.0f} px, "
              f"stacked {g['stacked']}, sidebar {g['sidebarWidth']:.0f} px")
        assert g["pageWidth"] <= width, f"the page scrolls sideways: {g['pageWidth']} > {width}"
        if size == PHONE:
            assert g["sidebarCollapsed"] == "true" and g["sidebarWidth"] == 0, "the sidebar starts closed"
            assert g["stacked"], "the race stacks its map over its loss and lr panes"
            assert g["mapWidth"] >= 330, f"the map is {g['mapWidth']:.0f} px wide on a phone"
            # The chart comes first: the map starts within the first screen.
            assert page.evaluate(MAP_TOP_JS) < height / 2
            # A closed sidebar can be opened (the header keeps its button while it is closed).
            assert page.get_by_test_id("stExpandSidebarButton").is_visible()
        else:
            assert g["mapWidth"] >= 330, f"the map is {g['mapWidth']:.0f} px wide"
        if size in (PROJECTOR, FULL_HD):
            assert g["sidebarCollapsed"] == "false", "a laptop opens with the sidebar"
        if width < 700:
            # (the checkbox's whole 44 px label takes the tap)
            assert min(c["bottom"] - c["top"] for c in g["controls"] if c["text"] != "checkbox") >= 40, \
                "thumb-sized"
        page.locator(f"{VIEW} .lv-timeline").scroll_into_view_if_needed()
        page.wait_for_timeout(300)
        page.screenshot(path=str(screenshots / f"screen_{width}x{height}_timeline.png"))
        assert_controls_inside(geometry(page), size, f"{width}x{height}")
    finally:
        page.context.close()


MAP_TOP_JS = """() => {
  const gd = document.querySelector('[data-testid=live-view] .js-plotly-plot');
  return gd.getBoundingClientRect().top + gd._fullLayout.yaxis._offset;
}"""


LAYOUT_FITS_JS = """(wanted) => {
  const gd = document.querySelector('[data-testid=live-view] .js-plotly-plot'), fl = gd._fullLayout;
  const stacked = fl.yaxis2.domain[1] < fl.yaxis.domain[0];
  return stacked === wanted && stacked === gd.clientWidth < 700;
}"""


def test_resizing_redraws_the_layout_that_fits(browser, app_server, screenshots):
    """A window made wide goes back to map | curves; narrow again, stacked again (the layout
    follows the plot's width: below 700 px, stacked)."""
    page = open_at(browser, app_server, PHONE)
    try:
        assert geometry(page)["stacked"]
        page.set_viewport_size({"width": 1400, "height": 900})
        page.wait_for_function(LAYOUT_FITS_JS, arg=False, timeout=10_000)
        page.set_viewport_size({"width": 390, "height": 844})
        page.wait_for_function(LAYOUT_FITS_JS, arg=True, timeout=10_000)
        assert geometry(page)["mapWidth"] >= 330
    finally:
        page.context.close()


@pytest.mark.parametrize("size", [PROJECTOR, FULL_HD], ids=["projector", "full_hd"])
def test_presenter_link_shows_only_the_picture_and_the_timeline(browser, app_server, screenshots,
                                                                size):
    width, height = size
    page = open_at(browser, app_server, size, "?present=1&lessons=" + ",".join(LESSONS))
    try:
        page.screenshot(path=str(screenshots / f"present_{width}x{height}.png"))
        g = geometry(page)
        assert not g["sidebarShown"], "no sidebar"
        assert not page.get_by_test_id("stExpandSidebarButton").is_visible(), "no sidebar toggle"
        assert g["bar"] == "none", "no view buttons, no copy links"
        for gone in ("stExpander", "stCheckbox", "stToggle", "stFileUploader", "stDownloadButton"):
            shown = [e for e in page.get_by_test_id(gone).all() if e.is_visible()]
            assert not shown, f"{gone} on the presenter's page"
        assert g["timeline"]["bottom"] <= height, f"the timeline is below the fold: {g['timeline']}"
        assert_controls_inside(g, size, f"present {width}x{height}")
        assert g["font"] >= 20 and g["legendFont"] >= 20, "large type"
        assert g["mapHeight"] >= 0.45 * height, f"the map is {g['mapHeight']:.0f} px tall"
        assert page.locator(VIEW).get_attribute("data-lesson") == LESSONS[0], "the list's first lesson"
    finally:
        page.context.close()


# The map's axis ranges and its surface's window: a lesson on another window redraws the map
# to that window (Plotly.react alone kept the old one's width).
RANGES_JS = """() => { const v = window.__liveView, fl = v.plot._fullLayout;
  return [[fl.xaxis.range, fl.yaxis.range], v.model.surface.bounds]; }"""


def test_lesson_list_walked_with_n_and_p(browser, app_server, screenshots):
    page = open_at(browser, app_server, PROJECTOR, "?present=1&lessons=" + ",".join(LESSONS))
    try:
        view = page.locator(VIEW)
        plot_height = lambda: page.evaluate(  # noqa: E731
            "() => document.querySelector('[data-testid=live-view] .lv-plot').clientHeight")
        heights = {LESSONS[0]: plot_height()}
        for key in ("n", "n", "n", "p", "p", "p"):
            before = view.get_attribute("data-lesson")
            at = LESSONS.index(before)
            want = LESSONS[min(max(at + (1 if key == "n" else -1), 0), len(LESSONS) - 1)]
            page.keyboard.press(key)        # the presenter's page takes the keys wherever focus is
            if want != before:
                page.wait_for_selector(f"{VIEW}[data-lesson={want}]", timeout=30_000)
            else:
                page.wait_for_timeout(1500)
                assert view.get_attribute("data-lesson") == want, "the list stops at its ends"
            page.wait_for_timeout(500)
            # A lesson seen again fills the window as it did the first time (after AdaGrad's,
            # whose "why it moves" panel sits under the picture, it once had half its height).
            page.wait_for_timeout(600)
            assert abs(plot_height() - heights.setdefault(want, plot_height())) <= 8, \
                (want, plot_height(), heights)
            shown, bounds = page.evaluate(RANGES_JS)
            assert shown == bounds, f"{want}: the map shows {shown}, its surface's window is {bounds}"
            q = {k: v[0] for k, v in parse_qs(urlparse(page.url).query).items()}
            assert q.get("lesson") == want and q.get("present") == "1"
            assert q.get("lessons") == ",".join(LESSONS)
            if key == "n" and want == LESSONS[-1]:
                page.wait_for_timeout(800)
                page.screenshot(path=str(screenshots / "present_last_lesson.png"))
        # The timeline's buttons do the same (a phone or a clicker has no n key).
        page.locator(f"{VIEW} [data-testid=lesson-nav] .lv-btn").last.click()
        page.wait_for_selector(f"{VIEW}[data-lesson={LESSONS[1]}]", timeout=30_000)
    finally:
        page.context.close()


def test_copy_presenter_link(browser, app_server):
    page = open_at(browser, app_server, PROJECTOR)
    try:
        button = page.locator(f"{VIEW} .lv-copy-present")
        assert button.is_visible()
        link = page.evaluate("() => window.__liveView.link(true)")
        q = {k: v[0] for k, v in parse_qs(urlparse(link).query).items()}
        assert q["present"] == "1" and "surface" in q, link
    finally:
        page.context.close()


def test_the_presenters_picture_keeps_the_window_with_why_it_moves_open(browser, app_server,
                                                                          screenshots):
    """A lesson that opens with "Why it moves" on a projector: the picture and its timeline fill
    the window (the panel goes below the fold), not a picture squeezed over the panel."""
    page = open_app(browser, app_server, size=(1280, 720),
                    query="?present=1&lesson=rmsprop_first_step", wait_idle=False)
    try:
        page.wait_for_selector(f"{VIEW}[data-why='0']", timeout=60_000)
        page.wait_for_timeout(1500)
        page.keyboard.press("ArrowRight")                 # +1, as the lesson says
        page.wait_for_selector(f"{VIEW}[data-step='1']", timeout=10_000)
        page.wait_for_timeout(1500)
        boxes = page.evaluate("""() => { const v = document.querySelector('[data-testid=live-view]');
            const r = (el) => el.getBoundingClientRect();
            return {plot: r(v.querySelector('.lv-plot')).height,
                    timeline: r(v.querySelector('.lv-timeline')).bottom,
                    why: r(v.querySelector('[data-testid=why-panel]')).top}; }""")
        page.screenshot(path=str(screenshots / "presenter_why.png"))
        assert 720 - 30 <= boxes["timeline"] <= 720 + 1, boxes   # picture + timeline: the window
        assert boxes["plot"] >= 450, boxes
        assert boxes["why"] >= boxes["timeline"] - 1, boxes    # the panel after it
    finally:
        page.context.close()
