"""The real app in headless Chromium: it renders, fits a projector, reacts fast, animates with
its surface intact, and a click on the map moves the start.

    python -m pytest tests/browser -q -s          # -s prints the numbers (latency, fit)
    UPDATE_README_SCREENSHOT=1 python -m pytest tests/browser -q -s    # also docs/screenshot.png

Screenshots go to tests/browser/screenshots/ (gitignored). Timings are printed, never asserted.
"""

from __future__ import annotations

import io
import json
import math
import os
import re
import statistics
import time
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import TimeoutError as PlaywrightTimeout

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[2]
PROJECTOR = (1280, 720)
LAPTOP = (1366, 768)
RERUN_TIMEOUT_MS = 30_000
FIRST_RENDER_TIMEOUT_MS = 90_000

# Installed before any page script: records the app root's data-test-script-state transitions
# (from the mutation records' old values, so a quick running -> notRunning flip is never missed),
# the time of the last keydown or pointerdown (inputT), when the chart's SVG first appeared, and
# offers a chart signature and a wait for it to change.
INSTRUMENT = """
(() => {
  const st = window.__st = {log: [], finished: 0, state: null, inputT: null};
  const enter = (s) => {
    if (s === st.state) return;
    st.log.push([s, performance.now()]);
    if (s === 'notRunning' && st.state === 'running') st.finished++;
    st.state = s;
  };
  const current = () => {
    const el = document.querySelector('[data-test-script-state]');
    return el ? el.getAttribute('data-test-script-state') : null;
  };
  new MutationObserver((records) => {
    const attrs = records.filter((r) => r.type === 'attributes');
    for (const r of attrs) if (r.oldValue !== null) enter(r.oldValue);
    enter(current());
  }).observe(document, {subtree: true, childList: true, attributes: true,
                        attributeOldValue: true, attributeFilter: ['data-test-script-state']});
  for (const type of ['keydown', 'pointerdown']) {
    window.addEventListener(type, () => { st.inputT = performance.now(); }, true);
  }
  const firstChart = () => {
    if (document.querySelector('.js-plotly-plot .main-svg')) st.firstChart = performance.now();
    else requestAnimationFrame(firstChart);
  };
  requestAnimationFrame(firstChart);

  window.__plot = () => document.querySelector('.js-plotly-plot');
  // What the chart shows: every trace's name and coordinates (Plotly 7 sends arrays as base64
  // `bdata`, so this is cheap to compare).
  window.__chartSig = () => {
    const gd = window.__plot();
    if (!gd || !gd.data || !gd._fullLayout) return null;
    return JSON.stringify(gd.data.map((t) => [t.name, t.x, t.y]));
  };
  // Resolves on the first animation frame where the signature differs from `prev` and the new
  // traces are in the SVG; `painted` is taken one frame later (that frame has been painted).
  window.__waitChart = (prev, timeoutMs) => new Promise((resolve, reject) => {
    const t0 = performance.now();
    const tick = () => {
      const sig = window.__chartSig();
      const gd = window.__plot();
      if (sig !== null && sig !== prev && gd.querySelector('.main-svg .scatterlayer .trace')) {
        const changed = performance.now();
        requestAnimationFrame(() => resolve({sig, changed, painted: performance.now()}));
        return;
      }
      if (performance.now() - t0 > timeoutMs) {
        reject(new Error('chart did not change'));
        return;
      }
      requestAnimationFrame(tick);
    };
    tick();
  });
})();
"""

# The map's plot area in page pixels (CSS px, relative to the viewport).
MAP_BOX_JS = """() => {
  const gd = window.__plot();
  const r = gd.getBoundingClientRect(), fl = gd._fullLayout;
  return {left: r.left + fl.xaxis._offset, top: r.top + fl.yaxis._offset,
          width: fl.xaxis._length, height: fl.yaxis._length,
          xrange: fl.xaxis.range, yrange: fl.yaxis.range};
}"""

TRACES_JS = """(names) => {
  const gd = window.__plot();
  const out = {};
  for (const t of gd._fullData) {
    if (names.includes(t.name) && (t.xaxis || 'x') === 'x') {
      out[t.name] = {x: Array.from(t.x || []), y: Array.from(t.y || [])};
    }
  }
  return out;
}"""


# ---- helpers ----------------------------------------------------------------------------------


def open_app(browser, server, size, query=""):
    """A fresh page (new session) at `size`, after the first full render: the script has run
    once to the end, the chart's SVG is drawn and its surface image has loaded. Fails at once,
    with the app's traceback, when the app raises."""
    started = time.perf_counter()
    context = browser.new_context(viewport={"width": size[0], "height": size[1]})
    page = context.new_page()
    page.add_init_script(INSTRUMENT)
    page.goto(server.url + "/" + query, wait_until="domcontentloaded")
    try:
        page.wait_for_function("""() => document.querySelector('[data-testid=stException]') ||
            (document.querySelector('.js-plotly-plot .main-svg') && window.__st.finished >= 1
             && window.__st.state === 'notRunning')""", timeout=FIRST_RENDER_TIMEOUT_MS)
    except PlaywrightTimeout:
        context.close()
        pytest.fail(f"no chart {FIRST_RENDER_TIMEOUT_MS / 1000:.0f} s after opening the app; "
                    f"server log:\n{server.log_tail()}")
    exception = page.get_by_test_id("stException")
    if exception.count():
        text = exception.first.inner_text()
        context.close()
        pytest.fail(f"the app raised on its first run:\n{text}\nserver log:\n{server.log_tail()}")
    wait_image_loaded(page)
    page.evaluate("() => document.fonts.ready")
    settle(page)
    st = page.evaluate("() => window.__st")
    first = {state: t for state, t in reversed(st["log"])}
    running, done = first.get("running", math.nan), first.get("notRunning", math.nan)
    print(f"\n  app open at {size[0]}x{size[1]}: first full render after "
          f"{time.perf_counter() - started:.1f} s (ms after navigation start: script running "
          f"{running:.0f}, notRunning {done:.0f}, "
          f"chart SVG {st.get('firstChart') or math.nan:.0f})")
    return page


def wait_image_loaded(page):
    """The surface is an <image> in the plot's below-layer; wait until the browser decoded it."""
    page.wait_for_function("""() => {
        const img = document.querySelector('.js-plotly-plot .imagelayer image');
        return img && (img.getAttribute('href') || '').startsWith('data:image/png');
    }""", timeout=RERUN_TIMEOUT_MS)
    page.evaluate("""async () => {
        const img = document.querySelector('.js-plotly-plot .imagelayer image');
        const probe = new Image();
        probe.src = img.getAttribute('href');
        await probe.decode();
    }""")


def settle(page, frames=3):
    page.evaluate("""(n) => new Promise((resolve) => {
        const step = (k) => k ? requestAnimationFrame(() => step(k - 1)) : resolve();
        step(n);
    })""", frames)


def finished(page) -> int:
    return page.evaluate("() => window.__st.finished")


def wait_rerun(page, before: int):
    """Wait until a rerun started after `before` was counted has gone running -> notRunning."""
    page.wait_for_function("(n) => window.__st.finished > n && window.__st.state === 'notRunning'",
                           arg=before, timeout=RERUN_TIMEOUT_MS)


def chart_sig(page) -> str:
    sig = page.evaluate("() => window.__chartSig()")
    assert sig, "no Plotly chart with data on the page"
    return sig


def wait_chart_change(page, previous: str) -> dict:
    return page.evaluate("([prev, ms]) => window.__waitChart(prev, ms)",
                         [previous, RERUN_TIMEOUT_MS])


def query(page) -> dict:
    return {k: v[0] for k, v in parse_qs(urlparse(page.url).query).items()}


def png(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data)).convert("RGB")


def pixel_stats(image: Image.Image) -> dict:
    rgb = np.asarray(image.convert("RGB"))
    gray = np.asarray(image.convert("L"), dtype=np.float64)
    colors = np.unique(rgb.reshape(-1, 3), axis=0).shape[0]
    near_white = float(np.mean(np.all(rgb >= 245, axis=-1)))
    return {"size": image.size, "gray_std": float(gray.std()), "colors": int(colors),
            "near_white": near_white}


def assert_not_blank(image: Image.Image, what: str, min_std=25.0, min_colors=300,
                     max_white=0.9) -> dict:
    stats = pixel_stats(image)
    print(f"  pixels of {what}: {stats}")
    assert stats["gray_std"] > min_std, f"{what} looks blank/uniform: {stats}"
    assert stats["colors"] > min_colors, f"{what} has too few colours: {stats}"
    assert stats["near_white"] < max_white, f"{what} is mostly white: {stats}"
    return stats


def save(image_bytes: bytes, folder: Path, name: str) -> Path:
    path = folder / name
    path.write_bytes(image_bytes)
    print(f"  screenshot: {path.relative_to(REPO)}")
    return path


def crop_css(image: Image.Image, box: dict, scale: float = 1.0, inset: int = 2) -> Image.Image:
    """Crop a viewport screenshot to a CSS-pixel box (left, top, width, height)."""
    l = int(math.ceil(box["left"] * scale)) + inset
    t = int(math.ceil(box["top"] * scale)) + inset
    r = int(math.floor((box["left"] + box["width"]) * scale)) - inset
    b = int(math.floor((box["top"] + box["height"]) * scale)) - inset
    return image.crop((max(l, 0), max(t, 0), min(r, image.width), min(b, image.height)))


def fit_numbers(page) -> dict:
    """Where the chart and the map's plot area lie relative to the viewport (no scrolling)."""
    vh = page.viewport_size["height"]
    chart = page.get_by_test_id("stPlotlyChart").bounding_box()
    box = page.evaluate(MAP_BOX_JS)
    play = page.evaluate("""() => {
        const b = [...document.querySelectorAll('.js-plotly-plot .updatemenu-button')]
            .find((e) => e.textContent.includes('Play'));
        const r = b && b.getBoundingClientRect();
        return r ? {top: r.top, bottom: r.bottom} : null;
    }""")
    scroll_top = page.evaluate("() => (document.querySelector('[data-testid=stMain]') "
                               "|| document.scrollingElement).scrollTop")

    def visible(top, height):
        return max(0.0, min(top + height, vh) - max(top, 0.0)) / height

    return {"viewport_height": vh, "scroll_top": scroll_top,
            "chart_top": round(chart["y"], 1), "chart_height": round(chart["height"], 1),
            "chart_bottom": round(chart["y"] + chart["height"], 1),
            "chart_visible_fraction": round(visible(chart["y"], chart["height"]), 3),
            "map_top": round(box["top"], 1), "map_bottom": round(box["top"] + box["height"], 1),
            "map_visible_fraction": round(visible(box["top"], box["height"]), 3),
            "play_button_bottom": round(play["bottom"], 1) if play else None,
            "play_button_visible": bool(play and play["bottom"] <= vh)}


def full_length_screenshot(page) -> bytes:
    """The whole app, top to bottom: Streamlit scrolls inside stMain, so the viewport is made
    as tall as its content for one shot, then put back."""
    width, height = page.viewport_size["width"], page.viewport_size["height"]
    total = page.evaluate("""() => {
        const main = document.querySelector('[data-testid=stMain]');
        return main ? main.scrollHeight : document.documentElement.scrollHeight;
    }""")
    page.set_viewport_size({"width": width, "height": min(max(int(total), height), 6000)})
    settle(page, 10)
    page.wait_for_timeout(300)
    shot = page.screenshot()
    page.set_viewport_size({"width": width, "height": height})
    settle(page, 5)
    return shot


def render_and_check(page, screenshots: Path, label: str) -> dict:
    """Screenshots (viewport, full length, chart) and the checks of steps 1 and 2."""
    chart = page.get_by_test_id("stPlotlyChart")
    assert chart.count() == 1, "expected exactly one Plotly chart on the default scene"
    assert page.locator(".js-plotly-plot .main-svg").count() >= 1
    n_traces = page.evaluate("() => window.__plot()._fullData.length")
    assert n_traces > 10, f"the race figure has only {n_traces} traces"
    names = set(page.evaluate("() => window.__plot()._fullData.map((t) => t.name)"))
    assert {"SGD / GD", "Momentum", "RMSProp", "Adam", "global minimum", "start"} <= names, names
    assert page.locator(".js-plotly-plot .imagelayer image").count() == 1, "no surface image"

    fit = fit_numbers(page)            # before anything scrolls
    view = page.screenshot()
    save(view, screenshots, f"{label}_viewport.png")
    assert_not_blank(png(view), f"{label} viewport", min_std=20, min_colors=300)

    map_crop = crop_css(png(view), page.evaluate(MAP_BOX_JS))
    t = time.perf_counter()
    save(full_length_screenshot(page), screenshots, f"{label}_full_length.png")
    print(f"  (full-length screenshot took {time.perf_counter() - t:.1f} s)")

    chart_shot = chart.screenshot()
    save(chart_shot, screenshots, f"{label}_chart.png")
    stats = assert_not_blank(png(chart_shot), f"{label} chart", min_std=30, min_colors=500,
                             max_white=0.9)
    assert_not_blank(map_crop, f"{label} map area", min_std=25, min_colors=200, max_white=0.5)
    print(f"  fit at {label}: {json.dumps(fit)}")
    return {"fit": fit, "viewport": view, "chart_stats": stats, "map_crop": map_crop}


# ---- the tests ----------------------------------------------------------------------------------


def test_chromium_is_installed(chromium_problem):
    assert chromium_problem is None, chromium_problem


def test_projector_1280x720_first_render(browser, app_server, screenshots):
    page = open_app(browser, app_server, PROJECTOR)
    try:
        print(f"\n[1280x720] first render; URL {page.url}")
        out = render_and_check(page, screenshots, "projector_1280x720")
        fit = out["fit"]
        # The race is visible without scrolling: the chart starts on screen and most of it shows.
        assert fit["scroll_top"] == 0
        assert 0 <= fit["chart_top"] < fit["viewport_height"], fit
        assert fit["chart_visible_fraction"] >= 0.5, fit
        if os.environ.get("UPDATE_README_SCREENSHOT") == "1":
            docs = REPO / "docs"
            docs.mkdir(exist_ok=True)
            (docs / "screenshot.png").write_bytes(out["viewport"])
            print("  README screenshot written: docs/screenshot.png")
    finally:
        page.context.close()


def test_laptop_first_render(browser, app_server, screenshots):
    page = open_app(browser, app_server, LAPTOP)
    try:
        print(f"\n[{LAPTOP[0]}x{LAPTOP[1]}] first render")
        out = render_and_check(page, screenshots, f"laptop_{LAPTOP[0]}x{LAPTOP[1]}")
        assert 0 <= out["fit"]["chart_top"] < out["fit"]["viewport_height"], out["fit"]
    finally:
        page.context.close()


def _panel(page, title_regex: str):
    summary = page.locator("summary").filter(
        has=page.get_by_test_id("stMarkdownContainer").filter(has_text=re.compile(title_regex)))
    return page.get_by_test_id("stSidebar").get_by_test_id("stExpander").filter(has=summary)


def _change_slider(page, thumb, key: str, previous_sig: str) -> dict:
    """Focus the thumb, press `key`, wait for the new chart and the end of the rerun."""
    thumb.focus()
    before_value = thumb.get_attribute("aria-valuetext")
    before_runs = finished(page)
    page.keyboard.press(key)
    changed = wait_chart_change(page, previous_sig)
    wait_rerun(page, before_runs)
    key_t = page.evaluate("() => window.__st.inputT")
    done_t = page.evaluate("() => window.__st.log.filter(([s]) => s === 'notRunning').pop()[1]")
    run_t = page.evaluate("(k) => (window.__st.log.find(([s, t]) => s === 'running' && t >= k) "
                          "|| [null, k])[1]", key_t)
    return {"before": before_value, "sig": changed["sig"], "chart_ms": changed["painted"] - key_t,
            "script_start_ms": run_t - key_t, "script_done_ms": done_t - key_t}


def test_slider_changes_redraw_the_chart(browser, app_server):
    """>= 10 changes of Adam's learning rate (arrow keys on the focused select_slider thumb in
    its sidebar expander), then 5 of the Steps slider: each must give a different chart; the
    time from the keydown to the new chart painted is printed (p50, p95), not asserted."""
    page = open_app(browser, app_server, PROJECTOR)
    try:
        sig = chart_sig(page)
        seen = {sig}
        lr_ms, lr_script_ms, lr_start_ms, collapsed = [], [], [], 0
        values = []
        for i in range(12):
            panel = _panel(page, r"^Adam · lr ")
            assert panel.count() == 1, "no Adam panel in the sidebar"
            if not panel.locator("details").evaluate("d => d.open"):
                if i:
                    collapsed += 1
                panel.locator("summary").click()
            thumb = panel.get_by_role("slider", name="learning rate")
            thumb.wait_for(state="visible")
            if i == 0:
                # Let the panel finish opening, as a person would before pressing a key: the
                # latency of a slider change is measured from an idle page.
                page.wait_for_timeout(1000)
            url_before = page.url
            result = _change_slider(page, thumb, "ArrowLeft", sig)
            assert result["sig"] != sig, f"change {i}: the chart did not change"
            page.wait_for_function("(u) => location.href !== u", arg=url_before)
            values.append(result["before"])
            seen.add(result["sig"])
            sig = result["sig"]
            lr_ms.append(result["chart_ms"])
            lr_script_ms.append(result["script_done_ms"])
            lr_start_ms.append(result["script_start_ms"])
        assert len(seen) == 13, "some lr changes gave an identical chart"
        assert len(set(values)) == 12, f"the slider did not move each time: {values}"
        adam_lr = query(page).get("o4")

        steps_ms = []
        steps = page.get_by_test_id("stSidebar").get_by_role("slider", name="Steps")
        for i in range(5):
            result = _change_slider(page, steps, "ArrowRight", sig)
            assert result["sig"] != sig and result["sig"] not in seen
            assert query(page)["steps"] == str(500 + 10 * (i + 1)), query(page)
            seen.add(result["sig"])
            sig = result["sig"]
            steps_ms.append(result["chart_ms"])

        def pct(xs, q):            # nearest rank: with 12 samples, p95 is the largest
            xs = sorted(xs)
            return xs[min(len(xs) - 1, max(0, math.ceil(q / 100 * len(xs)) - 1))]

        all_ms = lr_ms + steps_ms
        print(f"\n[latency] Adam lr before each change: {values}; now o4={adam_lr}")
        print(f"[latency] Adam lr, keydown -> new chart painted (ms): "
              f"{[round(x) for x in lr_ms]}")
        print(f"[latency] Adam lr, keydown -> script running (ms): "
              f"{[round(x) for x in lr_start_ms]}")
        print(f"[latency] Adam lr, keydown -> script notRunning (ms): "
              f"{[round(x) for x in lr_script_ms]}")
        print(f"[latency] Steps, keydown -> new chart painted (ms): {[round(x) for x in steps_ms]}")
        print(f"[latency] Adam lr: p50 {statistics.median(lr_ms):.0f} ms, "
              f"p95 {pct(lr_ms, 95):.0f} ms (n={len(lr_ms)}); "
              f"Steps: p50 {statistics.median(steps_ms):.0f} ms, "
              f"p95 {pct(steps_ms, 95):.0f} ms (n={len(steps_ms)})")
        print(f"[latency] all {len(all_ms)} changes: p50 {statistics.median(all_ms):.0f} ms, "
              f"p95 {pct(all_ms, 95):.0f} ms (target p95 < 1000 ms)")
        print(f"[latency] the Adam panel had collapsed after {collapsed} of 11 changes "
              "(re-opened before the next one)")
    finally:
        page.context.close()


def test_play_keeps_the_surface_and_moves_the_heads(browser, app_server, screenshots):
    page = open_app(browser, app_server, PROJECTOR)
    try:
        chart = page.get_by_test_id("stPlotlyChart")
        chart.scroll_into_view_if_needed()
        settle(page)
        heads = ["SGD / GD now", "Momentum now", "RMSProp now", "Adam now"]
        before = page.evaluate(TRACES_JS, heads)
        assert set(before) == set(heads), before
        play = page.locator(".js-plotly-plot .updatemenu-button").filter(has_text="Play")
        assert play.count() == 1
        play.click()
        page.wait_for_timeout(1000)
        box = page.evaluate(MAP_BOX_JS)
        shot1 = page.screenshot()
        frame1 = page.evaluate("() => window.__plot()._fullLayout._currentFrame")
        heads1 = page.evaluate(TRACES_JS, heads)
        image_in_dom = page.evaluate("""() => {
            const img = document.querySelector('.js-plotly-plot .imagelayer image');
            return img ? (img.getAttribute('href') || '').slice(0, 22) : null;
        }""")
        page.wait_for_timeout(700)
        shot2 = page.screenshot()
        frame2 = page.evaluate("() => window.__plot()._fullLayout._currentFrame")
        heads2 = page.evaluate(TRACES_JS, heads)
        animating = page.evaluate("() => { const t = window.__plot()._transitionData || {}; "
                                  "return !!t._animationRaf || (t._frameQueue || []).length > 0; }")
        save(shot1, screenshots, "playing_1.png")
        save(shot2, screenshots, "playing_2.png")
        print(f"\n[play] frames {frame1!r} -> {frame2!r}, still animating: {animating}; "
              f"image: {image_in_dom}")
        print(f"[play] Adam head: {before['Adam now']} -> {heads1['Adam now']} -> "
              f"{heads2['Adam now']}")

        # The surface image survives the animation (a contour trace would vanish here).
        assert image_in_dom == "data:image/png;base64,"
        map1, map2 = crop_css(png(shot1), box), crop_css(png(shot2), box)
        map1.save(screenshots / "playing_1_map.png")
        assert_not_blank(map1, "map during playback", min_std=25, min_colors=200, max_white=0.5)
        # The animation runs: the frame advances and the heads move (in data and in pixels).
        assert frame1 is not None and frame2 is not None and frame1 != frame2
        assert int(frame2) > int(frame1), (frame1, frame2)
        assert heads1 != before and heads2 != heads1, (before, heads1, heads2)
        diff = np.abs(np.asarray(map1, np.int16) - np.asarray(map2, np.int16)).max(axis=-1)
        changed = int((diff > 40).sum())
        print(f"[play] map pixels that changed between the two playback shots: {changed}")
        assert changed > 50, "the map looks frozen during playback"
        pause = page.locator(".js-plotly-plot .updatemenu-button").filter(has_text="Pause")
        pause.click()
    finally:
        page.context.close()


def test_click_on_the_map_moves_the_start(browser, app_server, screenshots):
    page = open_app(browser, app_server, PROJECTOR)
    try:
        chart = page.get_by_test_id("stPlotlyChart")
        chart.scroll_into_view_if_needed()
        settle(page)
        start_x = page.get_by_test_id("stSidebar").get_by_label("start x")
        start_y = page.get_by_test_id("stSidebar").get_by_label("start y")
        assert (start_x.input_value(), start_y.input_value()) == ("-1.500", "2.000")
        assert query(page)["start"] == "-1.5~2.0"

        # A point away from every path: above the valley, right of the middle.
        target = (0.4, 2.55)
        box = page.evaluate(MAP_BOX_JS)
        (x0, x1), (y0, y1) = box["xrange"], box["yrange"]
        px = box["left"] + (target[0] - x0) / (x1 - x0) * box["width"]
        py = box["top"] + (y1 - target[1]) / (y1 - y0) * box["height"]
        assert 0 < py < page.viewport_size["height"], (box, py)
        sig = chart_sig(page)
        runs = finished(page)
        page.evaluate("""() => {
            window.__selected = null;
            window.__plot().on('plotly_selected', (d) => {
                window.__selected = d && d.points ? d.points.map((p) => [p.x, p.y]) : [];
            });
        }""")
        page.mouse.move(px - 20, py - 20)
        page.mouse.move(px, py, steps=4)
        page.wait_for_timeout(250)                     # plotly's hover picks the nearest point
        page.mouse.down()
        page.mouse.up()

        # In the browser: plotly selected the click-grid point under the pointer, and that sent
        # a rerun. Grid: 40 points a side, so within 1.5 cells of the click.
        try:
            page.wait_for_function("() => window.__selected !== null", timeout=5_000)
        except PlaywrightTimeout:
            pytest.fail("plotly selected nothing: the click grid did not answer the click")
        wait_rerun(page, runs)
        tol_x, tol_y = 1.5 * (x1 - x0) / 39, 1.5 * (y1 - y0) / 39
        selected = page.evaluate("() => window.__selected")
        assert selected and len(selected) == 1, f"plotly selected {selected!r}"
        gx, gy = selected[0]
        assert abs(gx - target[0]) <= tol_x and abs(gy - target[1]) <= tol_y, (selected, target)

        # In the app: the start moves there (inputs, URL, chart).
        try:
            page.wait_for_function("() => new URLSearchParams(location.search).get('start') "
                                   "!== '-1.5~2.0'", timeout=10_000)
            new = wait_chart_change(page, sig)
        except PlaywrightTimeout:
            save(page.screenshot(), screenshots, "after_map_click.png")
            pytest.fail(
                f"the click selected grid point ({gx:.4f}, {gy:.4f}) and a rerun ran "
                f"({page.evaluate('() => window.__st.finished') - runs} rerun(s)), but the "
                f"start did not move: inputs ({start_x.input_value()}, {start_y.input_value()}),"
                f" URL start={query(page).get('start')}, chart start marker "
                f"{page.evaluate(TRACES_JS, ['start'])['start']}")
        page.wait_for_function("() => window.__st.state === 'notRunning'",
                               timeout=RERUN_TIMEOUT_MS)
        settle(page)
        save(page.screenshot(), screenshots, "after_map_click.png")

        sx, sy = float(start_x.input_value()), float(start_y.input_value())
        ux, uy = (float(v) for v in query(page)["start"].split("~"))
        traces = page.evaluate(TRACES_JS, ["start", "Adam", "SGD / GD"])
        path0 = (traces["Adam"]["x"][0], traces["Adam"]["y"][0])
        print(f"\n[click] clicked data point {target} at page pixel ({px:.0f}, {py:.0f}); plotly "
              f"selected grid point ({gx:.4f}, {gy:.4f}); start inputs ({sx}, {sy}); URL "
              f"start={query(page)['start']}; start marker ({traces['start']['x'][0]:.3f}, "
              f"{traces['start']['y'][0]:.3f}); Adam path starts at ({path0[0]:.3f}, "
              f"{path0[1]:.3f}); click to new chart "
              f"{new['painted'] - page.evaluate('() => window.__st.inputT'):.0f} ms")

        assert abs(sx - target[0]) <= tol_x and abs(sy - target[1]) <= tol_y, (sx, sy)
        assert math.isclose(sx, gx, abs_tol=1e-3) and math.isclose(sy, gy, abs_tol=1e-3)
        assert math.isclose(ux, gx, abs_tol=1e-4) and math.isclose(uy, gy, abs_tol=1e-4)
        assert math.isclose(traces["start"]["x"][0], ux, abs_tol=1e-4)
        assert math.isclose(traces["start"]["y"][0], uy, abs_tol=1e-4)
        for name in ("Adam", "SGD / GD"):
            assert math.isclose(traces[name]["x"][0], ux, abs_tol=1e-4), name
            assert math.isclose(traces[name]["y"][0], uy, abs_tol=1e-4), name
        assert new["sig"] != sig
    finally:
        page.context.close()
