"""A typed surface in the real page (issue 13): choose "Custom" in the sidebar, type f(x, y),
press Enter, and the race redraws on it: a new surface (data-scene), its title, the formula
shown back in LaTeX, the link carrying it. A refused formula shows one error and leaves the
race as it was."""

from __future__ import annotations

import pytest

from ui.custom_surface import TITLE

from test_browser import VIEW, open_app, query

pytestmark = pytest.mark.browser

FORMULA = "(x^2 + y - 11)^2 + (x + y^2 - 7)^2 + 20*sin(x)"
SIDEBAR = "[data-testid=stSidebar]"

MODEL_JS = """() => {
  const v = window.__liveView, m = v.model;
  return {key: v.root.getAttribute('data-scene'), title: m.surface.title,
          bounds: m.surface.bounds, minima: m.surface.minima.length, runs: m.runs.length,
          image: Boolean(v.root.querySelector('.js-plotly-plot'))};
}"""


def scene_key(page) -> str:
    return page.locator(VIEW).get_attribute("data-scene")


def wait_scene_change(page, old: str, timeout: int = 60_000) -> str:
    page.wait_for_function(
        "([sel, old]) => { const el = document.querySelector(sel);"
        " return el && el.getAttribute('data-scene') !== old && el.hasAttribute('data-drawn'); }",
        arg=[VIEW, old], timeout=timeout)
    return scene_key(page)


def test_type_a_formula_and_the_race_redraws_on_it(browser, app_server, screenshots):
    page = open_app(browser, app_server, size=(1280, 900))
    try:
        first = scene_key(page)
        sidebar = page.locator(SIDEBAR)
        sidebar.get_by_test_id("stSelectbox").filter(has_text="Surface").click()
        page.keyboard.type("Custom")            # the list is long: filter it, as a user would
        page.get_by_role("option", name=TITLE).click()
        custom = wait_scene_change(page, first)
        box = sidebar.get_by_role("textbox", name="f(x, y) =")
        box.wait_for(timeout=30_000)
        assert page.evaluate(MODEL_JS)["title"].startswith("Custom: sin(x)*cos(y)")

        box.fill(FORMULA)
        box.press("Enter")
        mine = wait_scene_change(page, custom)
        page.wait_for_selector(f"{VIEW}[data-playing='0']", timeout=60_000)
        page.wait_for_timeout(800)
        model = page.evaluate(MODEL_JS)
        assert model["title"] == f"Custom: {FORMULA}"
        assert model["bounds"] == [[-5, 5], [-5, 5]] and model["runs"] == 4
        assert model["minima"] >= 2
        link = query(page)
        assert link["formula"] == FORMULA and link["surface"] == "custom"
        # the formula and its gradient rendered by KaTeX, in the sidebar
        katex = sidebar.locator(".katex")
        assert katex.count() >= 1 and "∂" in katex.first.inner_text()
        katex.first.scroll_into_view_if_needed()
        page.wait_for_timeout(300)
        page.screenshot(path=str(screenshots / "custom_surface.png"))

        # a refused formula: one error, the race stays on the last valid surface
        box.fill("x^2 + z")
        box.press("Enter")
        page.wait_for_selector(f"{SIDEBAR} [data-testid=stAlert]", timeout=30_000)
        page.wait_for_timeout(800)
        errors = sidebar.get_by_test_id("stAlert")
        assert errors.count() == 1 and "unknown name 'z' at column 7" in errors.first.inner_text()
        assert scene_key(page) == mine and query(page)["formula"] == FORMULA
        assert not page.get_by_test_id("stException").count()
    finally:
        page.context.close()
