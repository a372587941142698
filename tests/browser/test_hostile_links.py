"""A hostile share link in the real page: Streamlit's own Markdown (GFM, $math$, :emoji:,
:color[directives]) shows its text literally, in one warning box, with the chart still there."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

pytestmark = pytest.mark.browser

LINK = {
    "surface": "[Log in here](https://evil.example)",
    "o1": "adam~lr~0.05",
    "o2": "**bold**~$x^2$~:smile:~:red[alert]~<b>x</b>~\u202eevil",
    **{f"o{i}": "sgd" for i in range(3, 40)},
}


def test_hostile_link_is_shown_as_plain_text(app_server, browser, screenshots):
    page = browser.new_page(viewport={"width": 1280, "height": 720})
    try:
        page.goto(f"{app_server.url}/?{urlencode(LINK)}")
        page.wait_for_selector('[data-testid="stAlert"]', timeout=60_000)
        page.wait_for_timeout(1500)
        alerts = page.locator('[data-testid="stAlert"]')
        warnings = [alerts.nth(i) for i in range(alerts.count())
                    if "not loaded exactly" in alerts.nth(i).inner_text()]
        assert len(warnings) == 1, [alerts.nth(i).inner_text() for i in range(alerts.count())]
        box = warnings[0]
        inner = box.inner_html()
        text = box.inner_text().replace("\u2060", "")
        for tag in ("<a ", "<img", "<em", "<del", "<s>", "<b>", "katex", "<script"):
            assert tag not in inner, (tag, inner[:2000])
        assert "[Log in here](https://evil.example)" in text
        assert "😄" not in text and "\u202e" not in text
        assert text.count("\n") <= 8                     # one short box, not 30
        page.screenshot(path=str(screenshots / "hostile_link.png"))
        body = page.locator("section.main, [data-testid='stMain']").first.inner_text()
        assert "Traceback" not in body and "Error" not in body.split("not loaded")[0]
    finally:
        page.close()
