"""The Export panel: files made on the server from the scene's result (optiviz.export)."""

from __future__ import annotations

import streamlit as st

from optiviz import export
from ui import text as ui_text
from ui.controls import lazy_panel

EXPORT_VALUES = ("export.format", "export.scale", "export.frames", "export.fps")


def export_panel(result, view: str, step: int):
    """Files made on the server: the view as PNG/SVG/HTML, the race as GIF/MP4, the data."""
    ss = st.session_state
    for key in EXPORT_VALUES:             # kept while the panel is closed (its widgets undrawn)
        if key in ss:
            ss[key] = ss[key]
    panel, is_open = lazy_panel(st, "Export: picture, animation, data", "export.panel")
    if not is_open:                       # a closed panel sends no widgets
        return
    with panel:
        fmt = st.segmented_control("Format", list(export.FORMATS), key="export.format",
                                   default="png", format_func=lambda k: export.FORMATS[k].label)
        fmt = fmt or "png"
        spec = export.FORMATS[fmt]
        options = {}
        if fmt == "png":
            options["scale"] = st.select_slider("resolution", [1, 2, 3, 4], value=2,
                                                format_func=lambda s: f"{s}× ({1100 * s} px wide)",
                                                key="export.scale")
        if spec.animated:
            c1, c2 = st.columns(2)
            options["frames"] = c1.slider("frames", 10, 300, 100, step=10, key="export.frames")
            options["fps"] = c2.slider("frames per second", 5, 50, 20, key="export.fps")
            c1.caption(f"about {options['frames'] / options['fps']:.1f} s long, legend and step "
                       "counter included")
        at = "the end" if step is None else f"step {step}"
        what = f"the {view} view at {at}" if fmt in ("png", "svg", "html") else \
            "the whole race" if spec.animated else "every run, every step" \
            if fmt in ("csv", "json") else "the scene, to load back later"
        if spec.needs_browser and ss.get("export.file"):
            export.warm_up()          # a renderer is kept running once pictures are being made
        if st.button(f"Create {spec.label}: {what}", key="export.create"):
            bar = st.progress(0.0, text="starting")
            try:
                data, mime, name = export.export(
                    result, fmt, view=view, step=step, progress=lambda f, m: bar.progress(
                        min(max(float(f), 0.0), 1.0), text=m), **options)
            except export.BrowserMissing as err:
                bar.empty()
                ui_text.warning(str(err))
            except (export.ExportError, ValueError) as err:
                bar.empty()
                ui_text.error("Export failed:", [str(err)])
            else:
                bar.empty()
                ss["export.file"] = (data, mime, name)
        if ss.get("export.file"):
            data, mime, name = ss["export.file"]
            st.download_button(f"Download {name} ({len(data) / 1024:,.0f} KB)", data, name, mime,
                               key="export.download", type="primary", on_click="ignore")
