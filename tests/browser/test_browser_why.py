""""Why it moves" in the real app: the explained run's step drawn at the playhead (arrows from its
head, the effective-step box) and its rule with this step's numbers, walked with ←/→ in the
browser, switched to another run, and closed again. The numbers on screen are compared with
optiviz.why.fill run in Python on the core's own record_state run (float32, as sent)."""

from __future__ import annotations

import numpy as np
import pytest

import optim_core
from optiviz import presets, why
from optiviz import scene as scenes

from test_browser import VIEW, focus_view, open_app, query, seek

pytestmark = pytest.mark.browser


def expected_lines(scene: dict, index: int, k: int) -> list[str]:
    entry = scenes.scene_runs(scene)[index]
    traj = optim_core.run_config({**entry, "surface": scene["surface"], "steps": scene["steps"],
                                  "record_state": True})
    rec = why.why_record(traj, 0)
    as_sent = {name: np.asarray(a, dtype=np.float32).astype(np.float64)
               for name, a in rec["arrays"].items()}
    return why.fill(rec["rule"], {**rec, "arrays": as_sent}, k)


def panel(page) -> dict:
    return page.evaluate("""() => {
      const p = document.querySelector('[data-testid=why-panel]'), v = window.__liveView;
      const drawn = v.snapshot()[v.model.why ? v.model.why.run : 0] || {};
      return {shown: p.style.display !== 'none', title: p.querySelector('.lv-why-title')?.textContent,
              lines: Array.from(p.querySelectorAll('.lv-why-rule-line')).map((d) => d.textContent),
              key: p.querySelector('.lv-why-key')?.textContent, why: drawn.why || null,
              readout: document.querySelector('[data-testid=live-view] .lv-readout').style.display};
    }""")


def test_why_it_moves_shows_this_steps_numbers_and_arrows(browser, app_server, screenshots):
    page = open_app(browser, app_server, size=(1280, 900), query="?why=4&step=20", wait_idle=False)
    try:
        page.wait_for_selector(f"{VIEW}[data-why='3']", timeout=30_000)
        page.wait_for_timeout(500)
        scene = scenes.normalize_scene(scenes.default_scene())
        p = panel(page)
        assert p["shown"] and p["readout"] == "none"
        assert p["title"].startswith("Adam, step 21:")
        assert p["lines"] == expected_lines(scene, 3, 21)
        traj = optim_core.run_config({**scenes.scene_runs(scene)[3], "surface": scene["surface"],
                                      "steps": scene["steps"]})
        taken = next(m for m in p["why"]["marks"] if m["role"] == "taken")
        np.testing.assert_allclose(taken["from"], traj.xy[20, 0], rtol=1e-6)
        np.testing.assert_allclose(taken["d"], traj.xy[21, 0] - traj.xy[20, 0], rtol=1e-4,
                                   atol=1e-7)
        assert {m["role"] for m in p["why"]["marks"]} == {"plain", "velocity", "taken", "box"}
        page.screenshot(path=str(screenshots / "why_adam_step21.png"))

        focus_view(page)                           # → walks one step, in the browser
        page.keyboard.press("ArrowRight")
        page.wait_for_timeout(200)
        p = panel(page)
        assert p["title"].startswith("Adam, step 22:") and p["lines"] == expected_lines(scene, 3, 22)

        page.locator(".lv-why-pick").get_by_role("button", name="RMSProp").click()
        page.wait_for_selector(f"{VIEW}[data-why='2']", timeout=30_000)
        page.wait_for_timeout(300)
        p = panel(page)
        assert p["title"].startswith("RMSProp, step 22:") and p["lines"] == expected_lines(scene, 2, 22)
        page.wait_for_function("() => location.search.includes('why=3')", timeout=20_000)

        page.get_by_role("button", name="Why it moves").click()      # closed: the readout again
        page.wait_for_selector(f"{VIEW}[data-why='']", timeout=30_000)
        assert not panel(page)["shown"] and panel(page)["readout"] == ""
        page.wait_for_function("() => !location.search.includes('why=')", timeout=20_000)
    finally:
        page.context.close()


def test_the_rmsprop_lesson_explains_its_first_step(browser, app_server, screenshots):
    page = open_app(browser, app_server, size=(1280, 900))
    try:
        page.get_by_test_id("stSidebar").get_by_text("RMSProp's first step is 10× lr").click()
        page.wait_for_selector(f"{VIEW}[data-why='0']", timeout=30_000)
        page.wait_for_selector(f"{VIEW}[data-playing='0']", timeout=60_000)
        # "Press +1 once": the lesson opens paused at step 0, not played to its end.
        page.wait_for_selector(f"{VIEW}[data-step='0']", timeout=30_000)
        page.wait_for_timeout(500)
        assert page.locator(VIEW).get_attribute("data-step") == "0", "it did not stay at step 0"
        p = panel(page)
        assert p["title"].startswith("RMSProp, step 1:")
        # Hand-derived: v₁ = (1 − 0.99)·g² so the step is lr·g/(0.1·|g|) = 10·lr = 0.5 per
        # coordinate (ε aside), against the start (−2.5, 2) going down both gradients.
        taken = next(m for m in p["why"]["marks"] if m["role"] == "taken")
        np.testing.assert_allclose(np.abs(taken["d"]), [0.5, 0.5], rtol=1e-5)
        assert query(page).get("why") == "1"
        page.screenshot(path=str(screenshots / "why_rmsprop_first_step.png"))
        focus_view(page)
        page.keyboard.press("End")                  # the race's last step: the step into the head
        page.wait_for_selector(f"{VIEW}[data-step='200']", timeout=10_000)
        assert panel(page)["title"].startswith("RMSProp, step 200, the race's last: from θ₁₉₉ to θ₂₀₀")
    finally:
        page.context.close()


@pytest.mark.parametrize("key", presets.preset_keys())
def test_every_lesson_opens_drawn_at_the_projectors_size(browser, app_server, screenshots, key):
    """Each lesson's link opens on its scene, plays to the end and draws every run; the
    screenshot (1280x720) is what a class sees (looked at by hand, not compared)."""
    page = open_app(browser, app_server, query=f"?lesson={key}", wait_idle=False)
    try:
        focus_view(page)                          # to the end at once (no 8 s of play)
        page.keyboard.press("End")
        page.wait_for_selector(f"{VIEW}[data-playing='0']", timeout=30_000)
        page.wait_for_timeout(300)
        preset = presets.get_preset(key)
        assert page.get_by_text(preset.title).count() >= 1
        drawn = page.evaluate("() => window.__liveView.snapshot().map((r) => r.points || 0)")
        assert len(drawn) == len(preset.scene["optimizers"]) and all(n >= 1 for n in drawn)
        if preset.why is not None:
            page.wait_for_selector(f"{VIEW}[data-why='{preset.why}']", timeout=30_000)
        page.screenshot(path=str(screenshots / f"lesson_{key}.png"))
    finally:
        page.context.close()
