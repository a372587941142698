"""The live view in a real browser, against Streamlit's own floor, measured in one run.

    python benchmarks/bench_browser.py [--samples 12]

Starts two servers on loopback: the app (`streamlit run app.py`) and a minimal Streamlit app
with one slider (the floor: Streamlit's own round trip on this machine, now), and drives both in
Debian's headless Chromium through Playwright. Prints, each with the floor where there is one:

- page open to the first chart drawn (the app) / to the slider's script finished (the floor),
  alternating app and floor opens in fresh contexts after one warm-up open of each; and the
  app's time to its controls (the sidebar comes in the run after the first picture);
- a Steps change and a learning-rate change to the chart settled (keydown to the live view's
  redraw, seen by a MutationObserver on its `data-drawn` attribute), each followed by a slider
  change in the floor's page (keydown to its text updated), so both see the same load; and to
  the whole page settled (its last DOM change: the controls come after the chart, see
  ui.live_view.CHART_FIRST_PAUSE; OPTIVIZ_CHART_FIRST_PAUSE=0 in the environment turns the
  pause off for a comparison);
- timeline frames (step +1 by keyboard, play): keydown or tick to the new step drawn, and the
  websocket bytes they send (should be 0: the browser owns the clock);
- server CPU per change (the server process's user+system time over the changes) and the bytes
  the browser receives per change.

The machine is shared and noisy: read the ratios, and run it twice.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
VIEWPORT = {"width": 1280, "height": 720}

FLOOR_APP = textwrap.dedent("""
    import streamlit as st
    value = st.slider("value", 0, 1000, 500)
    st.write(f"value is {value}")
""")

# Timestamps in the page's own clock: the last keydown, and each change of what we wait for.
INSTRUMENT = """
window.__bench = {keydown: 0, drawn: [], text: []};
document.addEventListener('keydown', () => { window.__bench.keydown = performance.now(); }, true);
new MutationObserver((records) => {
  for (const r of records) {
    if (r.type === 'attributes' && r.attributeName === 'data-drawn')
      window.__bench.drawn.push([performance.now(), r.target.getAttribute('data-drawn')]);
    if (r.type === 'attributes' && r.attributeName === 'data-step')
      window.__bench.steps = (window.__bench.steps || []).concat([[performance.now(),
        r.target.getAttribute('data-step')]]);
    if (r.type === 'characterData' || r.type === 'childList')
      window.__bench.text.push(performance.now());
  }
}).observe(document, {subtree: true, attributes: true, childList: true, characterData: true,
                      attributeFilter: ['data-drawn', 'data-step']});
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(script: str, cwd: Path, log) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", script, "--server.address", "127.0.0.1",
         "--server.port", str(port), "--server.headless", "true",
         "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
        cwd=cwd, stdout=log, stderr=subprocess.STDOUT,
        env={**os.environ, "OPTIVIZ_TIMING": "1", "PYTHONUNBUFFERED": "1"})
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as resp:
                if resp.read().strip() == b"ok":
                    return proc, url
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit(f"{script}: server not healthy after 90 s")


def cpu_seconds(pid: int) -> float:
    """user + system CPU time of a process, from /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pct(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


def summary(values) -> str:
    return f"p50 {statistics.median(values):6.0f} ms  p95 {pct(values, 95):6.0f} ms  (n={len(values)})"


class Traffic:
    """Bytes received over the page's websockets."""

    def __init__(self, page):
        self.received = 0
        page.on("websocket", self._attach)

    def _attach(self, ws):
        def count(payload):
            self.received += len(payload) if payload else 0
        ws.on("framereceived", count)


def idle(page, ms=600):
    """Wait until Streamlit reports no script running, then a little more."""
    page.wait_for_function("""() => !document.querySelector('[data-testid=stStatusWidget] '
        + '[data-testid=stStatusWidgetRunningIcon]')""", timeout=30_000)
    page.wait_for_timeout(ms)


def page_open(browser, url, ready, then=None, after=None) -> float:
    """ms from navigation to `ready(page)` returning, in a fresh browser context (no cache);
    with `then`, the ms to `then(page)` returning as well is appended to the list `after`."""
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    t0 = time.perf_counter()
    page.goto(url)
    ready(page)
    ms = (time.perf_counter() - t0) * 1000
    if then is not None:
        then(page)
        after.append((time.perf_counter() - t0) * 1000)
    context.close()
    return ms


def floor_ready(page):
    page.get_by_text("value is 500").wait_for(timeout=60_000)


def app_ready(page):
    page.wait_for_function("""() => { const el = document.querySelector('[data-testid=live-view]');
        return el && Number(el.getAttribute('data-drawn') || 0) >= 1; }""", timeout=60_000)


def controls_ready(page):
    """The sidebar's controls are there (they follow the first picture, see app.py)."""
    page.get_by_test_id("stSidebar").get_by_role("slider", name="Steps").wait_for(timeout=60_000)


def page_opens(browser, app_url, floor_url, times):
    """Page opens of the app and the floor, alternating (the machine's load hits both alike),
    after one warm-up open each: the first visitor after a restart also computes the default
    scene (reported apart). Also the app's time to its controls."""
    cold = page_open(browser, app_url, app_ready)
    page_open(browser, floor_url, floor_ready)
    app, floor, controls = [], [], []
    for _ in range(times):
        app.append(page_open(browser, app_url, app_ready, controls_ready, controls))
        floor.append(page_open(browser, floor_url, floor_ready))
    return app, floor, cold, controls


class Floor:
    """The floor's page, open beside the app's: one slider change at a time, measured."""

    def __init__(self, browser, url, server_pid):
        self.context = browser.new_context(viewport=VIEWPORT)
        self.page = self.context.new_page()
        self.page.add_init_script(INSTRUMENT)
        self.page.goto(url)
        floor_ready(self.page)
        idle(self.page)
        self.value, self.pid, self.cpu = 500, server_pid, []

    def change(self) -> float:
        page = self.page
        cpu0 = cpu_seconds(self.pid)
        page.get_by_role("slider").focus()
        n = page.evaluate("() => window.__bench.text.length")
        page.keyboard.press("ArrowRight")
        self.value += 1
        page.get_by_text(f"value is {self.value}").wait_for(timeout=30_000)
        t = page.evaluate("""(n) => { const b = window.__bench;
            const after = b.text.filter((t, i) => i >= n && t >= b.keydown);
            return after.length ? after[after.length - 1] - b.keydown : NaN; }""", n)
        idle(page, 400)
        self.cpu.append(cpu_seconds(self.pid) - cpu0)
        return t


def wait_drawn(page, before: int) -> float:
    """ms from the last keydown to the live view's next redraw (data-drawn counter > before)."""
    page.wait_for_function("""(n) => { const el = document.querySelector('[data-testid=live-view]');
        return el && Number(el.getAttribute('data-drawn') || 0) > n; }""", arg=before,
                           timeout=30_000)
    return page.evaluate("""(n) => { const b = window.__bench;
        const hit = b.drawn.find(([t, v]) => Number(v) > n && t >= b.keydown);
        return hit ? hit[0] - b.keydown : NaN; }""", before)


def drawn_count(page) -> int:
    return int(page.evaluate("""() => Number(document.querySelector('[data-testid=live-view]')
        ?.getAttribute('data-drawn') || 0)"""))


def open_panel(page, title_regex):
    """The sidebar expander whose title matches, opened (as a person would, then a pause)."""
    import re
    summary = page.locator("summary").filter(
        has=page.get_by_test_id("stMarkdownContainer").filter(has_text=re.compile(title_regex)))
    panel = page.get_by_test_id("stSidebar").get_by_test_id("stExpander").filter(has=summary)
    if not panel.locator("details").evaluate("d => d.open"):
        panel.locator("summary").click()
        page.wait_for_timeout(1000)
    return panel


def measure_changes(browser, url, server_pid, floor, samples):
    """Steps and learning-rate changes in the app, each followed by a floor change (paired)."""
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    page.add_init_script(INSTRUMENT)
    traffic = Traffic(page)
    page.goto(url)
    page.wait_for_function("""() => { const el = document.querySelector('[data-testid=live-view]');
        return el && el.getAttribute('data-playing') === '0'; }""", timeout=90_000)
    idle(page)

    steps_ms, lr_ms, cpu, sent, floor_ms, settled = [], [], [], [], [], []

    def change(control, i, out):
        before, bytes0, cpu0 = drawn_count(page), traffic.received, cpu_seconds(server_pid)
        control.focus()
        page.keyboard.press("ArrowLeft" if i % 2 else "ArrowRight")
        out.append(wait_drawn(page, before))
        idle(page, 400)
        settled.append(last_change(page))
        cpu.append(cpu_seconds(server_pid) - cpu0)
        sent.append(traffic.received - bytes0)
        floor_ms.append(floor.change())

    steps = page.get_by_test_id("stSidebar").get_by_role("slider", name="Steps")
    for i in range(samples):
        change(steps, i, steps_ms)
    panel = open_panel(page, r"^Adam( · |$)")     # an open panel's title is its name alone
    thumb = panel.get_by_role("slider", name="learning rate")
    for i in range(samples):
        change(thumb, i + 1, lr_ms)
    return page, context, traffic, steps_ms, lr_ms, cpu, sent, floor_ms, settled


def last_change(page) -> float:
    """ms from the last keydown to the page's last change in the DOM (the whole page settled:
    the chart and the controls the run sent after it)."""
    return page.evaluate("""() => { const b = window.__bench;
        const after = b.text.filter((t) => t >= b.keydown);
        return after.length ? after[after.length - 1] - b.keydown : NaN; }""")


def measure_timeline(page, traffic, samples):
    """Timeline frames: keyboard steps inside the live view, then a play; no server traffic."""
    view = page.locator("[data-testid=live-view]")
    view.evaluate("el => el.focus()")
    page.keyboard.press("Home")
    page.wait_for_timeout(300)
    frames, bytes0 = [], traffic.received
    for i in range(samples * 2):
        view.evaluate("el => el.focus()")
        n = len(page.evaluate("() => window.__bench.steps || []"))
        page.keyboard.press("ArrowRight")
        page.wait_for_function("(n) => (window.__bench.steps || []).length > n", arg=n,
                               timeout=10_000)
        frames.append(page.evaluate("""(n) => { const b = window.__bench;
            return b.steps[n][0] - b.keydown; }""", n))
    frame_bytes = traffic.received - bytes0
    play = page.evaluate("""() => new Promise((resolve) => {
        const el = document.querySelector('[data-testid=live-view]');
        const seen = [];
        const obs = new MutationObserver(() => seen.push(performance.now()));
        obs.observe(el, {attributes: true, attributeFilter: ['data-step']});
        el.focus();
        el.dispatchEvent(new KeyboardEvent('keydown', {key: ' ', bubbles: true}));
        setTimeout(() => { obs.disconnect();
            el.dispatchEvent(new KeyboardEvent('keydown', {key: ' ', bubbles: true}));
            const gaps = seen.slice(1).map((t, i) => t - seen[i]);
            resolve(gaps); }, 3000);
    })""")
    return frames, frame_bytes, play


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=int, default=12)
    parser.add_argument("--opens", type=int, default=5)
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    floor_dir = Path(tempfile.mkdtemp(prefix="floor-app-"))
    (floor_dir / "floor.py").write_text(FLOOR_APP)
    app_log = open(floor_dir / "app.log", "w+")
    app, app_url = start_server("app.py", REPO, app_log)
    floor_srv, floor_url = start_server("floor.py", floor_dir, subprocess.DEVNULL)
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True,
                                         args=CHROMIUM_ARGS)
            a_open, f_open, cold, a_controls = page_opens(browser, app_url, floor_url,
                                                          args.opens)
            floor = Floor(browser, floor_url, floor_srv.pid)
            (page, context, traffic, steps_ms, lr_ms, cpu, sent,
             f_change, settled) = measure_changes(browser, app_url, app.pid, floor, args.samples)
            frames, frame_bytes, play = measure_timeline(page, traffic, args.samples)
            browser.close()
    finally:
        for proc in (app, floor_srv):
            proc.terminate()
            proc.wait(timeout=10)

    fo, ao = statistics.median(f_open), statistics.median(a_open)
    fc = statistics.median(f_change)
    print(f"page open, median of {args.opens}:   app {ao:6.0f} ms   floor {fo:6.0f} ms   "
          f"ratio {ao / fo:.2f}x   (alternating; the app's first open after a restart: {cold:.0f} ms)")
    print(f"  ... to the app's controls: median {statistics.median(a_controls):6.0f} ms "
          f"(they follow the first picture)")
    print(f"floor slider change:      {summary(f_change)}   (one after each app change)")
    print(f"Steps change -> drawn:    {summary(steps_ms)}   p50/floor {statistics.median(steps_ms) / fc:.2f}x")
    print(f"Adam lr change -> drawn:  {summary(lr_ms)}   p50/floor {statistics.median(lr_ms) / fc:.2f}x")
    print(f"  ... the whole page settled: {summary(settled)}   (both kinds; the controls come "
          f"after the chart)")
    print(f"step +1 (keyboard):       {summary(frames)}   bytes sent by the server: {frame_bytes}")
    if play:
        print(f"play, frame interval:     {summary(play)}")
    print(f"server CPU per change:    p50 {statistics.median(cpu) * 1000:.0f} ms  "
          f"max {max(cpu) * 1000:.0f} ms   floor p50 {statistics.median(floor.cpu) * 1000:.0f} ms "
          f"(Streamlit's own work, polling included, over the same waits)")
    app_log.seek(0)
    lines = [line.split() for line in app_log if line.startswith("optiviz rerun")]
    reruns, pauses = [float(w[2]) for w in lines], [float(w[5]) for w in lines]
    changes = reruns[-(2 * args.samples):]          # the Steps and lr changes, last
    print(f"app script per change:    p50 {statistics.median(changes):.0f} ms  "
          f"p95 {pct(changes, 95):.0f} ms  (n={len(changes)}; the first run of a session: "
          f"{reruns[0]:.0f} ms), plus the chart-first pause: "
          f"{statistics.median(pauses[-(2 * args.samples):]):.0f} ms")
    print(f"received per change:      p50 {statistics.median(sent) / 1024:.0f} KB  "
          f"max {max(sent) / 1024:.0f} KB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
