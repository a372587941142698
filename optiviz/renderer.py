"""The Chromium renderer behind PNG and SVG: one kaleido browser per process, started on first
use (or warmed up in the background) and kept, shared by every session and by the animation's
background. Its own module so that export (formats) and animation (frames) both use it and
neither imports the other."""

from __future__ import annotations

import atexit
import concurrent.futures
import math
import os
import threading
from pathlib import Path

import numpy as np

MAX_STATIC_PIXELS = 8000 * 8000
BROWSER_HINT = ("PNG and SVG export needs a Chrome or Chromium browser: install one with "
                "`apt-get install chromium` (or set BROWSER_PATH to its executable)")


class ExportError(RuntimeError):
    """An export could not be produced (the message says why, in one line)."""


class BrowserMissing(ExportError):
    """No Chrome/Chromium for kaleido; the message is the one-line how-to (BROWSER_HINT)."""

    def __init__(self, message: str = BROWSER_HINT):
        super().__init__(message)


def _one_line(text: str, limit: int = 300) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _int_option(name, value, low, high):
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) \
            or not low <= value <= high:
        raise ValueError(f"{name} must be an integer in [{low}, {high}], got {value!r:.40}")
    return int(value)


def _float_option(name, value, low, high):
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)) \
            or not math.isfinite(value) or not low <= value <= high:
        raise ValueError(f"{name} must be a number in [{low:g}, {high:g}], got {value!r:.40}")
    return float(value)


def _figure_dict(fig) -> dict:
    if hasattr(fig, "to_plotly_json"):
        d = fig.to_plotly_json()
    elif isinstance(fig, dict):
        d = dict(fig)
    else:
        raise TypeError(f"expected a plotly figure or its dict, got {type(fig).__name__}")
    d["layout"] = dict(d.get("layout") or {})
    d["data"] = list(d.get("data") or [])
    return d


def _still(d: dict) -> dict:
    """A figure dict without what only makes sense on screen: animation frames, play buttons,
    sliders, and invisible traces (the map's click grid: 1,600 points that cost half a
    second to render and are never seen)."""
    d = dict(d)
    d.pop("frames", None)
    layout = d["layout"] = dict(d["layout"])
    for key in ("sliders", "updatemenus"):
        layout.pop(key, None)
    d["data"] = [t for t in d["data"] if not _invisible(t)]
    return d


def _invisible(trace) -> bool:
    marker = trace.get("marker") or {}
    return (trace.get("visible") is False
            or (trace.get("mode") == "markers" and marker.get("opacity") == 0))


# --------------------------------------------------------------------------------------------
# kaleido: one browser, started on first use and kept (the 2nd image is fast)


def browser_path() -> str | None:
    """The Chrome/Chromium kaleido will use (BROWSER_PATH wins), or None. Never downloads."""
    env = os.environ.get("BROWSER_PATH")
    if env:
        return env if os.path.isfile(env) and os.access(env, os.X_OK) else None
    try:
        from choreographer.browsers.chromium import Chromium

        found = Chromium.find_browser(skip_local=False)
    except Exception:                                   # noqa: BLE001 - best effort search
        found = None
    if not found:
        import shutil

        for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable",
                     "chrome"):
            found = shutil.which(name)
            if found:
                break
    return found if found and os.path.isfile(found) else None


class _Renderer:
    """A kaleido.Kaleido with its own event loop in a daemon thread. Thread-safe: the app's
    sessions may call it at once (kaleido queues them over its tabs)."""

    def __init__(self, browser: str, tabs: int = 1, timeout: float = 60.0):
        import asyncio

        import kaleido
        import plotly

        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="optiviz-kaleido",
                                       daemon=True)
        self.thread.start()
        plotlyjs = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
        kwargs = dict(n=tabs, timeout=timeout, mathjax=False)
        if plotlyjs.is_file():
            kwargs["plotlyjs"] = str(plotlyjs)

        class _Kaleido(kaleido.Kaleido):
            """kaleido reloads a tab after each render before returning the image (0.3-0.6 s:
            it parses plotly.js again). Here the reload runs after the image is returned; the
            next render waits for the tab as before. (A private hook of kaleido 1.x: if it goes
            away, this is simply never called.)"""

            _pending: set = set()

            async def _return_kaleido_tab(self, tab):
                task = asyncio.ensure_future(super()._return_kaleido_tab(tab))
                self._pending.add(task)
                task.add_done_callback(self._pending.discard)

        async def open_():
            k = _Kaleido(path=browser, **kwargs)
            await k.open()
            return k

        try:
            self.kaleido = self._run(open_(), timeout=60)
        except BaseException:
            self.loop.call_soon_threadsafe(self.loop.stop)
            raise

    def _run(self, coro, timeout):
        import asyncio

        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def render(self, fig: dict, opts: dict, timeout: float = 90.0) -> bytes:
        return self._run(self.kaleido.calc_fig(fig, opts=opts), timeout)

    def close(self):
        try:
            self._run(self.kaleido.close(), timeout=10)
        except BaseException:                           # noqa: BLE001 - closing anyway
            pass
        self.loop.call_soon_threadsafe(self.loop.stop)


_renderer: _Renderer | None = None
_renderer_lock = threading.Lock()


def running() -> bool:
    """Whether the browser is up (a PNG needs no start-up wait)."""
    return _renderer is not None


def start_renderer() -> None:
    """Start the browser now (about 3 s) rather than on the first PNG/SVG. Raises
    BrowserMissing when there is none."""
    _get_renderer()


def warm_up() -> None:
    """Start the browser in a background thread (returns at once, never raises): the app can
    call it when the export panel opens, so the first PNG does not wait for the start."""
    if _renderer is not None or browser_path() is None:
        return

    def start():
        try:
            _get_renderer()
        except Exception:                               # noqa: BLE001 - reported on use
            pass

    threading.Thread(target=start, name="optiviz-kaleido-start", daemon=True).start()


def _get_renderer() -> _Renderer:
    global _renderer
    with _renderer_lock:
        if _renderer is None:
            path = browser_path()
            if path is None:
                raise BrowserMissing()
            try:
                _renderer = _Renderer(path)
            except Exception as err:                    # noqa: BLE001 - kaleido raises many
                raise ExportError(_one_line(f"could not start the browser ({path}) for PNG/SVG "
                                            f"export: {type(err).__name__}: {err}")) from err
        return _renderer


def stop_renderer() -> None:
    """Close the browser (it restarts on the next PNG/SVG)."""
    global _renderer
    with _renderer_lock:
        renderer, _renderer = _renderer, None
    if renderer is not None:
        renderer.close()


atexit.register(stop_renderer)


def static_image(fig, fmt: str = "png", *, scale: float = 2, width: int | None = None,
                 height: int | None = None, clean: bool = True, timeout: float = 90.0) -> bytes:
    """`fig` (a plotly figure or its dict) as PNG or SVG bytes, rendered by kaleido through the
    installed plotly.js (offline, no MathJax). width/height in CSS px (default: the figure's,
    else 1100 x 660); scale multiplies the pixels (2 = sharp on slides; ignored by SVG).
    clean drops frames, play buttons, sliders and invisible traces. Raises BrowserMissing (no
    browser) or ExportError (the render failed)."""
    if fmt not in ("png", "svg"):
        raise ValueError(f"fmt must be 'png' or 'svg', got {fmt!r:.20}")
    scale = _float_option("scale", scale, 0.25, 8)
    d = _figure_dict(fig)
    if clean:
        d = _still(d)
    layout = d["layout"]
    w = _int_option("width", width or layout.get("width") or 1100, 100, 8000)
    h = _int_option("height", height or layout.get("height") or 660, 100, 8000)
    if w * h * scale * scale > MAX_STATIC_PIXELS:
        raise ValueError(f"{w} x {h} px at scale {scale:g} is too large "
                         f"(at most {MAX_STATIC_PIXELS} pixels)")
    opts = dict(format=fmt, width=w, height=h, scale=scale if fmt == "png" else 1)
    renderer = _get_renderer()
    try:
        return renderer.render(d, opts, timeout=timeout)
    except concurrent.futures.TimeoutError:
        stop_renderer()
        raise ExportError(f"the browser took longer than {timeout:g} s to render the {fmt.upper()}"
                          " and was restarted") from None
    except Exception as err:                           # noqa: BLE001 - kaleido raises many
        if "closed" in str(err).lower() or "channel" in type(err).__name__.lower():
            stop_renderer()                             # a dead browser: restart next time
        raise ExportError(_one_line(f"kaleido could not render the {fmt.upper()}: "
                                    f"{type(err).__name__}: {err}")) from err
