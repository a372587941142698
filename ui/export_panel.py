"""The Export panel: files made on the server from the scene's result (optiviz.export)."""

from __future__ import annotations

import streamlit as st

from optiviz import export, i18n, messages
from optiviz import scene as scenes
from ui import lang as ui_lang
from ui import text as ui_text
from ui.controls import lazy_panel

EXPORT_VALUES = ("export.format", "export.scale", "export.frames", "export.fps")
# Each widget's starting value, set in the state before it is drawn (a widget given both a
# default and a state value makes Streamlit warn).
EXPORT_DEFAULTS = {"export.format": "png", "export.scale": 2, "export.frames": 100,
                   "export.fps": 20}


def _progress_text(message: str, lang: str) -> str:
    """An export's progress message (optiviz.export, animation: English) in `lang`."""
    own = i18n.known(message, lang, "progress.")
    return own if own != message else i18n.phrases(message, lang, "progress_phrase.")


def export_panel(result, view: str, step: int):
    """Files made on the server: the view as PNG/SVG/HTML, the race as GIF/MP4, the data."""
    ss = st.session_state
    for key in EXPORT_VALUES:             # kept while the panel is closed (its widgets undrawn)
        ss[key] = ss[key] if key in ss else EXPORT_DEFAULTS[key]
    lang, t = ui_lang.bound()
    panel, is_open = lazy_panel(st, t("export.panel"), "export.panel")
    if not is_open:                       # a closed panel sends no widgets
        return
    with panel:
        fmt = st.segmented_control(t("export.format"), list(export.FORMATS), key="export.format",
                                   format_func=lambda k: t(f"export.format.{k}"))
        fmt = fmt or "png"
        spec = export.FORMATS[fmt]
        options = {}
        if fmt == "png":
            options["scale"] = st.select_slider(t("export.resolution"), [1, 2, 3, 4],
                                                format_func=lambda s: t("export.scale", scale=s,
                                                                        px=1100 * s),
                                                key="export.scale")
        if spec.animated:
            c1, c2 = st.columns(2)
            options["frames"] = c1.slider(t("export.frames"), 10, 300, step=10,
                                          key="export.frames")
            options["fps"] = c2.slider(t("export.fps"), 5, 50, key="export.fps")
            c1.caption(t("export.length", seconds=f"{options['frames'] / options['fps']:.1f}"))
        at = t("export.at_end") if step is None else t("export.at_step", step=step)
        what = t("export.view_at", view=t(f"export.view.{view}"), at=at) \
            if fmt in ("png", "svg", "html") else t("export.whole_race") if spec.animated \
            else t("export.every_step") if fmt in ("csv", "json") else t("export.the_scene")
        if spec.needs_browser and ss.get("export.file"):
            export.warm_up()          # a renderer is kept running once pictures are being made
        # What a file was made from: its download is offered only while that is what is asked
        # (another format, view, step, setting or scene: press Create again).
        asked = (fmt, view, step, sorted(options.items()), scenes.scene_to_json(result.scene))
        if st.button(t("export.create", label=t(f"export.format.{fmt}"), what=what),
                     key="export.create"):
            bar = st.progress(0.0, text=t("progress.starting"))
            try:
                data, mime, name = export.export(
                    result, fmt, view=view, step=step, progress=lambda f, m: bar.progress(
                        min(max(float(f), 0.0), 1.0), text=_progress_text(m, lang)),
                    lang=lang, **options)
            except export.BrowserMissing as err:
                bar.empty()
                if lang == "en":
                    ui_text.warning(str(err))
                else:
                    ui_text.warning(t("export.no_browser"), [str(err)], lang=lang)
            except (export.ExportError, ValueError) as err:
                bar.empty()
                ui_text.error(t("export.failed"), [messages.localize(str(err), lang)], lang=lang)
            else:
                bar.empty()
                ss["export.file"] = (data, mime, name, asked)
        if ss.get("export.file") and ss["export.file"][3] == asked:
            data, mime, name, _ = ss["export.file"]
            st.download_button(t("export.download", name=name, kb=f"{len(data) / 1024:,.0f}"),
                               data, name, mime,
                               key="export.download", type="primary", on_click="ignore")
