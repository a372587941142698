"""The real app in headless Chromium, looking at what is on screen: the live view renders and
fits a projector, plays the race with paths that grow to their heads, keeps one timeline (step,
readout and cursors agree), steps one step at a time, updates without a remount, takes a click
on the map as the new start, and its copied link reopens the same view, step and lesson.

    python -m pytest tests/browser -q -s          # -s prints what was measured
    UPDATE_README_SCREENSHOT=1 python -m pytest tests/browser -q -s    # also docs/screenshot.png

Screenshots go to tests/browser/screenshots/ (gitignored). Timings are printed, never asserted
(benchmarks/bench_browser.py measures them against Streamlit's floor).
"""

from __future__ import annotations

import io
import os
import statistics
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import numpy as np
import pytest
from PIL import Image

import optim_core

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[2]
PROJECTOR = (1280, 720)
LAPTOP = (1366, 768)
VIEW = "[data-testid=live-view]"

# Pixel geometry of the race map and where a run's points land on it.
MAP_JS = """() => {
  const gd = document.querySelector('[data-testid=live-view] .js-plotly-plot');
  const r = gd.getBoundingClientRect(), fl = gd._fullLayout;
  return {left: r.left + fl.xaxis._offset, top: r.top + fl.yaxis._offset,
          width: fl.xaxis._length, height: fl.yaxis._length,
          xrange: fl.xaxis.range, yrange: fl.yaxis.range};
}"""

STATE_JS = """() => {
  const v = window.__liveView, drawn = v.snapshot() || [];
  const runs = v.model.runs.map((r, i) => ({label: r.label, n: drawn[i].points,
    last: drawn[i].last, head: drawn[i].head, cursor: drawn[i].cursor,
    xs: Array.from(r.x), ys: Array.from(r.y)}));
  const cells = Array.from(document.querySelectorAll('[data-testid=live-view] .lv-readout tr'))
    .slice(1).map((tr) => tr.children[2].textContent);
  return {step: Number(v.root.getAttribute('data-step')), scrub: Number(v.scrub.value),
          counter: v.counter.textContent, runs, readout: cells, steps: v.model.steps};
}"""


def open_app(browser, server, size=PROJECTOR, query="", wait_idle=True, context_args=None):
    context = browser.new_context(viewport={"width": size[0], "height": size[1]},
                                  **(context_args or {}))
    page = context.new_page()
    page.goto(server.url + "/" + query)
    page.wait_for_selector(f"{VIEW}[data-drawn]", timeout=90_000)
    if page.get_by_test_id("stException").count():
        pytest.fail(page.get_by_test_id("stException").first.inner_text())
    if wait_idle:       # the first visit plays the race once: wait for its end
        page.wait_for_selector(f"{VIEW}[data-playing='0']", timeout=60_000)
        page.wait_for_timeout(300)
    return page


def state(page) -> dict:
    return page.evaluate(STATE_JS)


def focus_view(page):
    page.locator(VIEW).evaluate("el => el.focus()")


def seek(page, k: int):
    """Home, then +1 steps by keyboard until k (Shift+→ moves 10)."""
    focus_view(page)
    page.keyboard.press("Home")
    while state(page)["step"] + 10 <= k:
        page.keyboard.press("Shift+ArrowRight")
    while state(page)["step"] < k:
        page.keyboard.press("ArrowRight")
    page.wait_for_timeout(200)


def png(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data)).convert("RGB")


def query(page) -> dict:
    return {k: v[0] for k, v in parse_qs(urlparse(page.url).query).items()}


def to_px(geo, x, y):
    (x0, x1), (y0, y1) = geo["xrange"], geo["yrange"]
    return (geo["left"] + (x - x0) / (x1 - x0) * geo["width"],
            geo["top"] + (y1 - y) / (y1 - y0) * geo["height"])


def test_chromium_is_installed(chromium_problem):
    assert chromium_problem is None, chromium_problem


@pytest.mark.parametrize("size", [PROJECTOR, LAPTOP], ids=["projector", "laptop"])
def test_first_render_plays_once_and_fits(browser, app_server, screenshots, size):
    page = open_app(browser, app_server, size, wait_idle=False)
    try:
        page.wait_for_selector(f"{VIEW}[data-playing='1']", timeout=10_000)   # it plays...
        page.wait_for_selector(f"{VIEW}[data-playing='0']", timeout=60_000)   # ...then waits
        s = state(page)
        assert s["step"] == s["steps"] == 500 and s["counter"] == "step 500 / 500"
        box = page.locator(f"{VIEW} .lv-timeline").bounding_box()
        assert box["y"] + box["height"] <= size[1], f"the timeline is below the fold: {box}"
        shot = png(page.screenshot())
        geo = page.evaluate(MAP_JS)
        crop = shot.crop((int(geo["left"]), int(geo["top"]), int(geo["left"] + geo["width"]),
                          int(geo["top"] + geo["height"])))
        assert np.asarray(crop.convert("L")).std() > 20, "the map is blank"
        name = f"first_render_{size[0]}x{size[1]}.png"
        shot.save(screenshots / name)
        if size == PROJECTOR and os.environ.get("UPDATE_README_SCREENSHOT"):
            shot.save(REPO / "docs" / "screenshot.png")
    finally:
        page.context.close()


def test_paused_race_shows_each_path_ending_at_its_head(browser, app_server, screenshots):
    """At step k the map shows each path up to its head and nothing beyond: pixels of the path
    still ahead look like the background (the same pixels at step 0), pixels behind do not."""
    page = open_app(browser, app_server)
    try:
        k = 120
        seek(page, 0)
        empty = png(page.screenshot())
        seek(page, k)
        drawn = png(page.screenshot())
        drawn.save(screenshots / f"paused_step_{k}.png")
        geo, s = page.evaluate(MAP_JS), state(page)
        assert s["step"] == k
        others = [(x, y) for r in s["runs"] for x, y in zip(r["xs"][:k + 1], r["ys"][:k + 1])]
        other_px = np.array([to_px(geo, x, y) for x, y in others])
        run = next(r for r in s["runs"] if r["label"] == "Momentum")   # the one that travels
        ahead_diff, behind_diff = [], []
        for i in range(0, len(run["xs"]), 5):
            px, py = to_px(geo, run["xs"][i], run["ys"][i])
            if not (geo["left"] + 5 < px < geo["left"] + geo["width"] - 5
                    and geo["top"] + 5 < py < geo["top"] + geo["height"] - 5):
                continue
            a = np.asarray(drawn.getpixel((int(px), int(py))), dtype=float)
            b = np.asarray(empty.getpixel((int(px), int(py))), dtype=float)
            if i > k + 20:
                near = np.min(np.hypot(other_px[:, 0] - px, other_px[:, 1] - py))
                if near > 14:                         # away from everything drawn so far
                    ahead_diff.append(np.abs(a - b).max())
            elif 5 < i < k - 5:
                behind_diff.append(np.abs(a - b).max())
        assert len(ahead_diff) >= 10 and len(behind_diff) >= 5, (len(ahead_diff), len(behind_diff))
        assert max(ahead_diff) < 30, f"the path ahead of the head is drawn: {sorted(ahead_diff)[-5:]}"
        assert np.median(behind_diff) > 60, f"the path behind the head is missing: {behind_diff}"
    finally:
        page.context.close()


def test_timeline_readout_and_cursors_agree_and_step_moves_one(browser, app_server):
    page = open_app(browser, app_server)
    try:
        seek(page, 100)
        s = state(page)
        assert s["step"] == s["scrub"] == 100 and s["counter"] == "step 100 / 500"
        adam = optim_core.run("rosenbrock", "adam", (-1.5, 2.0), 100, lr=0.05)  # independent
        for r in s["runs"]:
            assert r["n"] == 101 and r["cursor"] == 100
            assert r["last"] == r["head"], r["label"]
        got = next(r for r in s["runs"] if r["label"] == "Adam")["head"]
        np.testing.assert_allclose(got, adam.xy[100, 0], rtol=1e-5)
        assert s["readout"] == ["100"] * len(s["runs"])
        focus_view(page)
        page.keyboard.press("ArrowRight")
        page.wait_for_timeout(150)
        s = state(page)
        assert s["step"] == 101 and all(r["n"] == 102 for r in s["runs"])
        page.get_by_role("button", name="−1").click()
        assert state(page)["step"] == 100
        # the step reached the server: URL and summary table follow it
        page.wait_for_function("() => location.search.includes('step=100')", timeout=20_000)
        frames = []
        focus_view(page)
        for _ in range(20):
            page.keyboard.press("ArrowRight")
            frames.append(page.evaluate("() => window.__liveView.lastFrameMs"))
        print(f"\n  step +1 redraw: p50 {statistics.median(frames):.1f} ms, "
              f"max {max(frames):.1f} ms (20 frames)")
    finally:
        page.context.close()


def test_the_scrub_bar_moves_a_playing_race(browser, app_server):
    """A click on the scrub bar while the race plays: the playhead jumps there and the race
    plays on from it (it used to be overwritten by the play clock at the next frame)."""
    page = open_app(browser, app_server)
    try:
        focus_view(page)
        page.keyboard.press("Home")
        page.keyboard.press(" ")
        page.wait_for_selector(f"{VIEW}[data-playing='1']", timeout=10_000)
        box = page.locator(f"{VIEW} .lv-scrub").bounding_box()
        page.mouse.click(box["x"] + 0.8 * box["width"], box["y"] + box["height"] / 2)
        page.wait_for_timeout(300)
        s = state(page)
        assert s["step"] >= 0.75 * s["steps"], f"the click was lost: step {s['step']}"
        page.wait_for_selector(f"{VIEW}[data-playing='0']", timeout=30_000)    # played on to the end
        assert state(page)["step"] == s["steps"]
    finally:
        page.context.close()


def test_the_readout_says_when_a_run_is_out_of_tolerance_again(browser, app_server):
    """A noisy constant-lr run dips within the tolerance at one step and bounces out: at the
    end its readout says so, while the step-decay run, still within it, says only its step."""
    page = open_app(browser, app_server, query="?lesson=schedule_settles")
    try:
        cells = page.evaluate("""() => Array.from(document.querySelectorAll(
            '[data-testid=live-view] .lv-readout tr')).slice(1).map((tr) => [
            tr.children[1].textContent, tr.children[tr.children.length - 1].textContent])""")
        reached = dict(cells)
        assert reached["SGD / GD (schedule=constant)"].endswith("out again"), reached
        assert reached["SGD / GD (schedule=step)"].startswith("at step"), reached
        assert "out again" not in reached["SGD / GD (schedule=step)"], reached
    finally:
        page.context.close()


def test_the_presets_stay_open_for_lesson_after_lesson(browser, app_server):
    """A teacher clicking lessons: the Presets panel stays open after a pick, so the next lesson
    is one click away; a lesson's own link opens with it closed (a student's short sidebar)."""
    page = open_app(browser, app_server)
    try:
        sidebar = page.get_by_test_id("stSidebar")
        for title in ("Momentum overshoots in the Rosenbrock valley",
                      "Too large a learning rate diverges"):
            sidebar.get_by_text(title).click()
            page.wait_for_function(f"() => document.querySelector('[data-testid=stInfo], "
                                   f"[data-testid=stAlert]')?.textContent.includes({title!r})",
                                   timeout=30_000)
            page.wait_for_timeout(800)
            assert sidebar.get_by_text("Momentum overshoots in the Rosenbrock valley").is_visible()
    finally:
        page.context.close()
    page = open_app(browser, app_server, query="?lesson=lr_too_large", wait_idle=False)
    try:
        page.get_by_test_id("stSidebar").get_by_role("slider", name="Steps").wait_for(timeout=30_000)
        assert not page.get_by_test_id("stSidebar").get_by_text(
            "Momentum overshoots in the Rosenbrock valley").is_visible()
    finally:
        page.context.close()


def test_a_steps_change_updates_the_same_graph(browser, app_server):
    page = open_app(browser, app_server)
    try:
        page.evaluate("() => { window.__liveView.plot.__marker = 'same'; }")
        before = int(page.locator(VIEW).get_attribute("data-drawn"))
        steps = page.get_by_test_id("stSidebar").get_by_role("slider", name="Steps")
        steps.focus()
        page.keyboard.press("ArrowRight")
        page.wait_for_function(f"() => document.querySelector('{VIEW}').getAttribute('data-drawn')"
                               f" > {before}", timeout=30_000)
        page.wait_for_timeout(300)
        assert page.evaluate("() => window.__liveView.plot.__marker") == "same", "remounted"
        assert state(page)["steps"] == 510 and query(page)["steps"] == "510"
    finally:
        page.context.close()


CHART_FIRST_JS = """() => {
  const caption = () => Array.from(document.querySelectorAll('[data-testid=stCaptionContainer]'))
    .map((el) => el.textContent).find((t) => / steps?\\./.test(t));
  const seen = window.__chartFirst = {drawn: [], caption: [], text: caption()};
  new MutationObserver(() => {
    const now = caption();
    if (now !== seen.text) { seen.text = now; seen.caption.push(performance.now()); }
  }).observe(document.querySelector('[data-testid=stMain]') || document.body,
             {subtree: true, childList: true, characterData: true});
  new MutationObserver(() => seen.drawn.push(performance.now()))
    .observe(document.querySelector('[data-testid=live-view]'),
             {attributes: true, attributeFilter: ['data-drawn']});
}"""


def test_a_change_draws_the_chart_before_the_rest_of_the_page(browser, app_server):
    """A Steps change: the new picture is drawn before the run's other elements are rendered
    again (the caption under the picture, "... 510 steps.", sent after the ~25 controls, is
    the one among them that changes). Without the chart-first pause (ui.live_view) the browser
    renders them all first."""
    page = open_app(browser, app_server)
    try:
        steps = page.get_by_test_id("stSidebar").get_by_role("slider", name="Steps")
        order = []
        for i in range(3):
            page.evaluate(CHART_FIRST_JS)
            steps.focus()
            page.keyboard.press("ArrowLeft" if i % 2 else "ArrowRight")
            page.wait_for_function("""() => window.__chartFirst.drawn.length > 0
                && window.__chartFirst.caption.length > 0""", timeout=30_000)
            seen = page.evaluate("() => window.__chartFirst")
            order.append(round(seen["caption"][0] - seen["drawn"][0]))
            page.wait_for_timeout(600)
        print(f"the page's rest after the chart by (ms): {order}")
        assert sum(gap > 0 for gap in order) >= 2, f"the rest of the page came first: {order} ms"
    finally:
        page.context.close()


def test_a_slider_in_an_open_panel_keeps_the_keyboard(browser, app_server):
    """An optimizer's panel, open: its lr slider moved by the keyboard keeps the focus (the
    panel's title does not change under it, so the browser does not remount it)."""
    page = open_app(browser, app_server)
    try:
        sidebar = page.get_by_test_id("stSidebar")
        sidebar.locator("summary").filter(has_text="RMSProp · lr").click()
        thumb = sidebar.get_by_role("slider", name="learning rate")
        thumb.wait_for(timeout=30_000)
        page.wait_for_timeout(800)
        thumb.focus()
        values = [query(page)["o3"]]                 # RMSProp's entry in the link
        for _ in range(2):
            n = int(page.locator(VIEW).get_attribute("data-drawn"))
            page.keyboard.press("ArrowRight")
            page.wait_for_function(f"() => Number(document.querySelector('{VIEW}')"
                                   f".getAttribute('data-drawn')) > {n}", timeout=30_000)
            page.wait_for_timeout(800)
            focused = page.evaluate("() => document.activeElement.getAttribute('aria-label')")
            assert focused == "learning rate", f"the focus went to {focused!r}"
            for _ in range(80):                       # the link follows the run
                if query(page)["o3"] != values[-1]:
                    break
                page.wait_for_timeout(250)
            values.append(query(page)["o3"])
        assert len(set(values)) == 3, values
    finally:
        page.context.close()


def test_click_on_the_map_moves_the_start(browser, app_server, screenshots):
    page = open_app(browser, app_server)
    try:
        geo = page.evaluate(MAP_JS)
        px, py = to_px(geo, 0.5, -0.5)
        page.mouse.click(px, py)
        page.wait_for_function("() => new URLSearchParams(location.search).get('start') "
                               "&& !new URLSearchParams(location.search).get('start')"
                               ".startsWith('-1.5')", timeout=30_000)
        x, y = (float(v) for v in query(page)["start"].split("~"))
        assert abs(x - 0.5) < 0.05 and abs(y + 0.5) < 0.05, (x, y)
        page.wait_for_function("() => window.__liveView.model.start[0] > 0", timeout=30_000)
        page.screenshot(path=str(screenshots / "after_click.png"))
    finally:
        page.context.close()


def test_copied_link_reopens_the_same_view_step_and_lesson(browser, app_server, screenshots):
    perms = {"permissions": ["clipboard-read", "clipboard-write"]}
    page = open_app(browser, app_server, context_args=perms)
    try:
        page.get_by_test_id("stSidebar").get_by_text("Momentum overshoots").click()
        page.wait_for_selector("[data-testid=stAlert]", timeout=30_000)
        page.wait_for_selector(f"{VIEW}[data-playing='0']", timeout=60_000)
        page.get_by_role("button", name="Curves", exact=True).click()
        seek(page, 42)
        page.wait_for_function("() => location.search.includes('step=42') && "
                               "location.search.includes('view=curves')", timeout=20_000)
        page.get_by_role("button", name="Copy link").click()
        link = page.evaluate("() => navigator.clipboard.readText()")
        assert "lesson=" in link and "step=42" in link and "view=curves" in link, link
        other = page.context.new_page()
        other.goto(link)
        other.wait_for_selector(f"{VIEW}[data-drawn]", timeout=90_000)
        other.wait_for_timeout(500)
        v = other.locator(VIEW)
        assert v.get_attribute("data-view") == "curves" and v.get_attribute("data-step") == "42"
        assert "Watch" in other.get_by_test_id("stAlert").first.inner_text()
        other.screenshot(path=str(screenshots / "reopened_link.png"))
    finally:
        page.context.close()


def open_html_export(browser, tmp_path, scene, lang="en"):
    """The scene's HTML export opened from file:// in an offline context: (page, its errors)."""
    from optiviz import export
    from optiviz import scene as scenes

    result = scenes.compute_scene(scenes.normalize_scene(scene))
    data, _, _ = export.export(result, "html", view="race", lang=lang)
    path = tmp_path / f"race_{lang}.html"
    path.write_bytes(data)
    context = browser.new_context(viewport={"width": 1100, "height": 800}, offline=True)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(path.as_uri())
    return page, errors


def test_the_html_export_is_the_live_view_offline(browser, screenshots, tmp_path):
    """The exported HTML file plays and steps from file:// with no server and no network."""
    from optiviz import scene as scenes

    page, errors = open_html_export(browser, tmp_path, scenes.default_scene())
    context = page.context
    try:
        page.wait_for_selector(f"{VIEW}[data-playing='1']", timeout=30_000)    # it plays...
        page.wait_for_selector(f"{VIEW}[data-playing='0']", timeout=60_000)    # ...to the end
        seek(page, 60)
        s = state(page)
        assert s["step"] == 60 and all(r["n"] == 61 for r in s["runs"])
        page.get_by_role("button", name="3D", exact=True).click()
        page.wait_for_selector(f"{VIEW}[data-view='3d']", timeout=10_000)
        assert page.locator(VIEW).get_attribute("data-step") == "60"       # the view keeps the step
        page.screenshot(path=str(screenshots / "html_export_3d.png"))
        assert not errors, errors
    finally:
        context.close()


def test_the_controls_come_after_the_picture_and_the_picture_follows_the_page_width(
        browser, app_server, screenshots):
    """A page's first run sends the live view and only the sidebar's first element (the page
    keeps its width); the controls follow in the next run, which the live view asks for once
    its picture is up. A narrower page (the window or the sidebar) redraws the figure to fit:
    a drawn figure never holds its column open."""
    page = open_app(browser, app_server, wait_idle=False)
    try:
        page.get_by_test_id("stSidebar").get_by_role("slider", name="Steps").wait_for(
            timeout=30_000)                     # came without any action of ours
        page.wait_for_selector(f"{VIEW}[data-playing='0']", timeout=60_000)
        sidebar = page.get_by_test_id("stSidebar")
        for step in ("close", "open", "narrow"):
            if step == "close":
                sidebar.hover()
                page.get_by_test_id("stSidebarCollapseButton").get_by_role("button").click()
            elif step == "open":
                page.get_by_test_id("stExpandSidebarButton").click()
            else:
                page.set_viewport_size({"width": 1000, "height": 720})
            page.wait_for_timeout(1200)
            sizes = page.evaluate("""() => { const root = document.querySelector('[data-testid=live-view]');
                const svg = root.querySelector('.main-svg');
                const main = document.querySelector('[data-testid=stMainBlockContainer]');
                return {svg: svg.getBoundingClientRect().width, root: root.getBoundingClientRect().width,
                        main: main.getBoundingClientRect().width}; }""")
            assert sizes["root"] <= sizes["main"] + 1, sizes
            assert abs(sizes["svg"] - sizes["root"]) <= 24, sizes
        page.screenshot(path=str(screenshots / "controls_after_picture.png"))
    finally:
        page.context.close()
