"""The live view's log axes in the real app: the lr pane of a lesson whose runs share one lr (a
range under a decade) labels at least two ticks with whole numbers (it showed a lone "5": Plotly's
"D2" labels its 2s and 5s with a bare digit), and a new race on the same layout (a relayout, not a
Plotly.react) carries the new ticks through instead of keeping the old ones."""

from __future__ import annotations

import re

import pytest

from test_browser import open_app

pytestmark = pytest.mark.browser

# The lr pane's y axis (the last y axis of the race): its range and its tick labels on screen.
LR_TICKS_JS = """() => {
  const gd = document.querySelector('[data-testid=live-view] .js-plotly-plot'), fl = gd._fullLayout;
  const name = Object.keys(fl).filter((k) => /^yaxis\\d*$/.test(k)).sort().pop(), a = fl[name];
  const labels = Array.from(gd.querySelectorAll(`.${a._id}tick text`)).map((t) => t.textContent);
  return {name, type: a.type, range: a.range, labels};
}"""


def numbers(labels: list[str]) -> list[float]:
    """Each label as the number it shows (0.004, 10⁻³ or 2×10⁻⁵ as Plotly writes them); fails on
    one that is not a whole number."""
    out = []
    for text in labels:
        clean = text.replace("\u2212", "-").strip()
        power = re.fullmatch(r"(?:([\d.]+)×)?10\u200b?(-?\d+)\u200b?", clean)
        if ("\u200b" in clean or "×" in clean) and power:
            out.append(float(power.group(1) or 1) * 10.0 ** int(power.group(2)))
            continue
        try:
            out.append(float(clean))
        except ValueError:
            pytest.fail(f"tick label {text!r} is not a whole number (labels {labels})")
    return out


def check_lr_axis(ticks: dict) -> None:
    assert ticks["type"] == "log", ticks
    values = numbers(ticks["labels"])
    assert len(set(values)) >= 2, f"fewer than two labelled lr ticks: {ticks}"
    lo, hi = 10 ** ticks["range"][0], 10 ** ticks["range"][1]
    for v in values:                    # a bare "5" on an axis from 0.003 to 0.006 fails here
        assert lo * 0.999 <= v <= hi * 1.001, f"label {v} outside the axis {lo:.3g}..{hi:.3g}: {ticks}"


def test_lr_pane_under_a_decade_labels_whole_numbers(browser, app_server):
    page = open_app(browser, app_server, query="?lesson=momentum_overshoot")
    try:
        ticks = page.evaluate(LR_TICKS_JS)
        check_lr_axis(ticks)

        # Another race on the same layout: only the axes change (figures.rangeChanges ->
        # Plotly.relayout). Ten times the lrs, then lrs two decades apart, then back.
        for factor in ([10, 10], [1, 100], [1, 1]):
            page.evaluate("""async (factor) => {
              const v = window.__liveView;
              v.__lr0 = v.__lr0 || v.model.runs.map((r) => Float32Array.from(r.lr));
              v.model.runs.forEach((r, i) => { r.lr = v.__lr0[i].map((x) => x * factor[i]); });
              await v.render();
            }""", factor)
            page.wait_for_timeout(200)
            ticks = page.evaluate(LR_TICKS_JS)
            check_lr_axis(ticks)
    finally:
        page.context.close()
