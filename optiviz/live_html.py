"""The live view as one offline HTML file: the same modules as the app's (static/live_view/),
inlined into a single script with plotly.js and the scene's model, so a downloaded race plays,
steps and scrubs in any browser without a server or a network."""

from __future__ import annotations

import json
import re
from pathlib import Path

from . import i18n, live
from . import scene as _scene

STATIC = Path(__file__).resolve().parents[1] / "static" / "live_view"
MODULES = ("data.js", "why.js", "figures.js", "overlay.js", "index.js")     # dependency order


def _plotly_js() -> str:
    import plotly

    return (Path(plotly.__file__).parent / "package_data" / "plotly.min.js").read_text("utf-8")


def _inline(name: str) -> str:
    """One ES module as plain script text: its imports dropped (everything shares one scope),
    `export` keywords removed, the default export named mountLiveView."""
    text = (STATIC / name).read_text("utf-8")
    for alias, module in re.findall(r'^import \* as (\w+) from "\./(\w+)\.js";$', text, flags=re.M):
        names = re.findall(r"^export (?:async )?function (\w+)",
                           (STATIC / f"{module}.js").read_text("utf-8"), flags=re.M)
        text = re.sub(rf'^import \* as {alias} from "\./{module}\.js";$',
                      f"const {alias} = {{{', '.join(names)}}};", text, flags=re.M)
    text = re.sub(r"^import .*?;$", "", text, flags=re.M)
    text = text.replace("export default function", "function mountLiveView")
    return re.sub(r"^export ", "", text, flags=re.M)


def _script_json(value) -> str:
    """JSON safe inside a <script> element (no '</' can close it early)."""
    return json.dumps(value, separators=(",", ":")).replace("</", "<\\/").replace("<!--", "<\\!--")


def live_html(result, *, view: str = "race", step: int | None = None, height: int = 560,
              title: str | None = None, lang: str = "en") -> str:
    from .figures import surface_words

    lang = i18n.normalize(lang)
    model = live.view_model(result, include_surface=True, autoplay=True, step=step, view=view,
                            lang=lang)
    model["height"] = height
    css = (STATIC / "live_view.css").read_text("utf-8")
    code = "\n".join(_inline(m) for m in MODULES)
    surface_title, surface_description = surface_words(result.surface, lang)
    heading = (title or f"optiviz: {surface_title}")
    def escape(text):
        return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    safe_title = escape(heading)
    caption = escape(f"{surface_title}: {surface_description} "
                     f"{_scene.comparison_caption(result.scene, lang)}")
    return f"""<!DOCTYPE html>
<html lang="{lang}"><head><meta charset="utf-8"><title>{safe_title}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body {{margin: 16px; font-family: "Source Sans Pro", "Segoe UI", sans-serif;}}
{css}</style></head>
<body><div id="live-view-host"></div>
<p style="color: #555; font-size: 14px; max-width: 1000px">{caption}</p>
<script>{_plotly_js()}</script>
<script>
(() => {{
const loadPlotly = () => Promise.resolve(window.Plotly);
{code}
mountLiveView({{parentElement: document.getElementById("live-view-host"),
               data: {_script_json(model)}, setStateValue: null, setTriggerValue: null}});
}})();
</script></body></html>
"""
