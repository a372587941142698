"""A whole class at once: K concurrent sessions through Streamlit's own websocket protocol.

    python benchmarks/bench_load.py --sessions 30 --changes 20 --interval 3 --servers 1 2
    python benchmarks/bench_load.py --sessions 10 --soak 600              # a 10-minute soak
    python benchmarks/bench_load.py --url http://127.0.0.1:8080 --server-pid 1234 --server-pid 1235

Each simulated student is what a browser tab does on the wire, nothing more and nothing less
that the server could tell apart: a GET of `/` (it collects the proxy's affinity cookie, as a
browser does), then a websocket on `/_stcore/stream` (subprotocol "streamlit", the page's Origin,
its cookies) carrying the protobuf BackMsg/ForwardMsg of the installed Streamlit:

- page load: a `rerun_script` BackMsg with the page's query string, no widget state and the
  browser's context (timezone, locale, URL), as the frontend sends when it connects;
- a change: the "Steps" slider (found in the ForwardMsg deltas by its key `steps`; its widget id
  is `$$ID-<hash>-steps`) moved to a new value: a `rerun_script` whose widget states hold every
  widget value the tab has set (the frontend's WidgetStateManager), the query string the server
  last gave the page (`page_info_changed`), and the hashes of the cacheable messages the tab
  holds (the frontend's ForwardMsg cache, aged like the frontend's: the server then sends
  `ref_hash` references instead of repeating large elements).

Per-change latency is the time from sending that BackMsg to the `script_finished` ForwardMsg
(FINISHED_SUCCESSFULLY) of the run it started, and, printed beside it, the time to the live
view's new data (the chart; a run sends the rest of the page after ui.live_view's chart-first
pause) (a run ended by `st.rerun()` continues into the
next; its time counts). After each change the benchmark checks that the slider came back with
the new value (else the change was not applied: an error). Errors: exception elements in the
deltas (also inside cached messages referenced by hash), compile errors, cache misses,
disconnects, a change not applied, and any change not finished within 30 s.

Sessions arrive over a ramp (like a class opening a link), then each makes M changes, the next
one ~T seconds (uniformly 0.5 T to 1.5 T) after the previous was sent, never before it finished.
K = 1 runs first in the same invocation, as the baseline. Server CPU and RSS come from /proc (the
server processes and their children, sampled every 0.5 s); the proxy's CPU is reported apart.
Memory: idle (warm: after one page load per process), the peak at K, right after the sessions
close, and `--settle` seconds later.

Bounded: K, M, the soak's length and every wait are capped; loopback only (a --url that is not
127.0.0.1, ::1 or localhost is refused; environment proxies are ignored). With --servers 2 the
benchmark starts two app processes and Debian's nginx (apt-get install nginx) as a sticky proxy
on loopback, configured from deploy/nginx.conf (see deploy/run_local.sh to keep them running).
The machine is shared and noisy: the client runs on the same cores as the server (its own CPU
time is printed), so read the K = 1 baseline next to every figure.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import math
import os
import random
import re
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path

from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import ConnectionClosed

from streamlit.proto.Alert_pb2 import Alert
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState

REPO = Path(__file__).resolve().parents[1]
NGINX_CONF = REPO / "deploy" / "nginx.conf"
CHANGE_TIMEOUT = 30.0              # a change not finished by then is an error (the bound)
LOOPBACK = {"127.0.0.1", "::1", "localhost"}
MAX_SESSIONS, MAX_CHANGES, MAX_SOAK = 500, 1000, 3600
CLK_TCK = os.sysconf("SC_CLK_TCK")
STATUS = {ForwardMsg.FINISHED_SUCCESSFULLY: "finished",
          ForwardMsg.FINISHED_WITH_COMPILE_ERROR: "compile error",
          ForwardMsg.FINISHED_EARLY_FOR_RERUN: "rerun",
          ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY: "fragment finished"}


# ---- one browser tab, on the wire -----------------------------------------------------------

class ProtocolError(RuntimeError):
    """The server's messages are not what this client understands (e.g. Streamlit changed)."""


@dataclass
class RunResult:
    """One rerun: the page load or a change."""
    kind: str                      # "load" or "change"
    ok: bool
    latency: float | None          # seconds, BackMsg sent -> script_finished (None on error)
    runs: int = 0                  # script runs it took (a st.rerun() chain counts each)
    bytes: int = 0                 # websocket payload received for it
    messages: int = 0
    applied: bool | None = None    # the widget came back with the value sent
    errors: list[str] = field(default_factory=list)
    view_latency: float | None = None   # seconds, BackMsg sent -> the live view's new data


class Session:
    """One tab: GET /, the websocket, and reruns as the frontend sends them."""

    def __init__(self, base_url: str, *, timeout: float = CHANGE_TIMEOUT, tag: str = ""):
        self.base = base_url.rstrip("/")
        parts = urllib.parse.urlsplit(self.base)
        if parts.hostname not in LOOPBACK:
            raise ValueError(f"loopback only, not {parts.hostname!r}")
        self.origin = f"{parts.scheme}://{parts.netloc}"
        self.ws_url = (("wss" if parts.scheme == "https" else "ws") + "://" + parts.netloc
                       + parts.path + "/_stcore/stream")
        self.timeout = timeout
        self.tag = tag
        self.cookies: dict[str, str] = {}
        self.ws = None
        self.reader: asyncio.Task | None = None
        self.finished: asyncio.Queue = asyncio.Queue()
        self.closing = False
        self.disconnected: str | None = None
        # What the page knows.
        self.query_string = ""
        self.page_script_hash = ""
        self.widgets: dict[str, tuple[str, str, object]] = {}    # key -> (id, type, proto)
        self.view_at: float | None = None       # when this run's live view data came
        self.run_widgets: dict[str, tuple[str, str, object]] = {}  # the same, this run only
        self.widget_states: dict[str, WidgetState] = {}          # id -> what the tab sends
        self.run_id: str | None = None
        self.got_new_session = False
        # The frontend's ForwardMsg cache: hash -> [message, the run count it was last used at].
        self.cache: dict[str, list] = {}
        self.run_count = 0
        self.max_cached_age = 2
        # Counters.
        self.bytes_in = 0
        self.messages_in = 0
        self.largest_message = 0
        self.errors: list[str] = []
        self.error_boxes: list[str] = []

    # -- connection --

    def _get_page(self) -> None:
        """GET / as a browser does first: the page, and the cookies the proxy or server set."""
        parts = urllib.parse.urlsplit(self.base)
        conn = http.client.HTTPConnection(parts.hostname, parts.port or 80, timeout=self.timeout)
        try:
            headers = {"Accept": "text/html"}
            if self.cookies:
                headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
            conn.request("GET", (parts.path or "") + "/", headers=headers)
            resp = conn.getresponse()
            body = resp.read()
            if resp.status != 200 or b"<html" not in body[:2000].lower():
                raise ProtocolError(f"GET / answered {resp.status} ({len(body)} bytes)")
            for header in resp.headers.get_all("Set-Cookie") or []:
                cookie = SimpleCookie()
                cookie.load(header)
                for name, morsel in cookie.items():
                    self.cookies[name] = morsel.value
        finally:
            conn.close()

    async def open(self) -> RunResult:
        """Load the page as a browser does: GET /, connect, the initial rerun, then the rerun
        the live view's "drawn" trigger causes once its first picture is up (app.py draws the
        controls in it). Returns one RunResult for both: time to the controls."""
        first = await self._load()
        if not first.ok:
            return first
        drawn = await self.trigger("live_view", "drawn", True)
        drawn.kind = "load"
        drawn.latency = None if drawn.latency is None else first.latency + drawn.latency
        drawn.runs += first.runs
        drawn.bytes += first.bytes
        drawn.messages += first.messages
        return drawn

    async def trigger(self, key: str, event: str, value) -> RunResult:
        """A components-v2 trigger (as setTriggerValue sends it): one rerun carries it."""
        base = self.widget(key)[0]
        state = WidgetState(id=f"$$STREAMLIT_INTERNAL_KEY_{base}__events")
        state.json_trigger_value = json.dumps([{"event": event, "value": value}])
        self.widget_states[state.id] = state
        try:
            return await self.rerun(kind="trigger")
        finally:
            self.widget_states.pop(state.id, None)          # triggers last one run

    async def _load(self) -> RunResult:
        await asyncio.to_thread(self._get_page)
        headers = {}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        self.ws = await ws_connect(self.ws_url, subprotocols=["streamlit"], origin=self.origin,
                                   additional_headers=headers, proxy=None, max_size=None,
                                   open_timeout=self.timeout, ping_interval=None,
                                   compression=None, close_timeout=2)
        if self.ws.subprotocol != "streamlit":
            raise ProtocolError(f"the server chose subprotocol {self.ws.subprotocol!r}")
        self.reader = asyncio.create_task(self._read(), name=f"reader{self.tag}")
        return await self.rerun(kind="load")

    async def close(self) -> None:
        self.closing = True
        if self.ws is not None:
            try:
                await asyncio.wait_for(self.ws.close(), 5)
            except Exception:                               # noqa: BLE001 - closing anyway
                pass
        if self.reader is not None:
            try:
                await asyncio.wait_for(self.reader, 5)
            except Exception:                               # noqa: BLE001
                self.reader.cancel()

    async def _read(self) -> None:
        try:
            async for data in self.ws:
                if isinstance(data, str):
                    raise ProtocolError("a text frame: Streamlit speaks binary protobuf")
                self.bytes_in += len(data)
                self.messages_in += 1
                self.largest_message = max(self.largest_message, len(data))
                msg = ForwardMsg()
                msg.ParseFromString(data)
                self._handle(msg)
            self.disconnected = "closed by the server" if not self.closing else None
        except ConnectionClosed as err:
            self.disconnected = None if self.closing else f"disconnected ({err})"
        except Exception as err:                            # noqa: BLE001 - reported, not hidden
            self.disconnected = f"{type(err).__name__}: {err}"
        finally:
            if self.disconnected:
                self.errors.append(self.disconnected)
            self.finished.put_nowait(("disconnected", None, time.perf_counter()))

    # -- what the server sends --

    def _handle(self, msg: ForwardMsg) -> None:
        kind = msg.WhichOneof("type")
        if kind == "ref_hash":                  # a large element the tab already holds
            entry = self.cache.get(msg.ref_hash)
            if entry is None:
                self.errors.append(f"cached ForwardMsg miss {msg.ref_hash}")
                return
            entry[1] = self.run_count
            cached = ForwardMsg()
            cached.CopyFrom(entry[0])
            cached.metadata.CopyFrom(msg.metadata)
            msg, kind = cached, cached.WhichOneof("type")
        elif msg.metadata.cacheable and msg.hash and msg.hash not in self.cache:
            self.cache[msg.hash] = [msg, self.run_count]

        if kind == "new_session":
            self.got_new_session = True
            self.run_id = msg.metadata.run.script_run_id
            self.page_script_hash = msg.new_session.page_script_hash or self.page_script_hash
            if msg.new_session.HasField("config"):
                self.max_cached_age = msg.new_session.config.max_cached_message_age
            self.run_widgets = {}
        elif kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
            element = msg.delta.new_element
            etype = element.WhichOneof("type")
            if etype == "exception":
                exc = element.exception
                self.errors.append(f"exception element: {exc.type}: {exc.message[:300]}")
            elif etype == "alert" and element.alert.format == Alert.ERROR:
                self.error_boxes.append(element.alert.body[:300])
            elif etype is not None:
                proto = getattr(element, etype)
                if etype == "bidi_component" and self.view_at is None:
                    self.view_at = time.perf_counter()      # the picture's data (chart first)
                wid = getattr(proto, "id", "")
                if isinstance(wid, str) and wid.startswith("$$ID-") and wid.count("-") >= 2:
                    key = wid.split("-", 2)[2]
                    self.widgets[key] = self.run_widgets[key] = (wid, etype, proto)
        elif kind == "page_info_changed":
            self.query_string = msg.page_info_changed.query_string
        elif kind == "session_event":
            if msg.session_event.HasField("script_compilation_exception"):
                exc = msg.session_event.script_compilation_exception
                self.errors.append(f"script compilation exception: {exc.message[:300]}")
        elif kind == "page_not_found":
            self.errors.append("page not found")
        elif kind == "script_finished":
            status = msg.script_finished
            if status != ForwardMsg.FINISHED_EARLY_FOR_RERUN and self.got_new_session:
                self._age_cache()
            if status == ForwardMsg.FINISHED_SUCCESSFULLY:       # the frontend's cleanup
                live = {wid for wid, _, _ in self.run_widgets.values()}
                self.widget_states = {k: v for k, v in self.widget_states.items() if k in live}
            self.finished.put_nowait((status, msg.metadata.run.script_run_id,
                                      time.perf_counter()))

    def _age_cache(self) -> None:
        """The frontend's ForwardMessageCache.incrementRunCount: drop what was not used lately."""
        self.run_count += 1
        for key in [k for k, (_, used) in self.cache.items()
                    if self.run_count - used > self.max_cached_age]:
            del self.cache[key]

    # -- what the tab sends --

    def widget(self, key: str) -> tuple[str, str, object]:
        if key not in self.widgets:
            raise ProtocolError(f"no widget with key {key!r} in the page's deltas (widgets seen: "
                                f"{sorted(self.widgets)[:30]})")
        return self.widgets[key]

    def widget_value(self, key: str):
        wid, etype, proto = self.widget(key)
        if etype == "slider":
            values = list(proto.value) if proto.set_value else list(proto.default)
            return values[0] if len(values) == 1 else values
        if etype in ("checkbox", "number_input"):
            return proto.value if proto.set_value else proto.default
        raise ProtocolError(f"widget {key!r} is a {etype}: only sliders, checkboxes and number "
                            f"inputs are driven")

    async def set_widget(self, key: str, value) -> RunResult:
        """Move a widget as a user would; returns the rerun's result."""
        wid, etype, proto = self.widget(key)
        state = WidgetState(id=wid)
        if etype == "slider":
            state.double_array_value.data[:] = [float(v) for v in
                                                (value if isinstance(value, (list, tuple))
                                                 else [value])]
        elif etype == "checkbox":
            state.bool_value = bool(value)
        elif etype == "number_input":
            if proto.data_type == proto.INT:
                state.int_value = int(value)
            else:
                state.double_value = float(value)
        else:
            raise ProtocolError(f"widget {key!r} is a {etype}: not driven by this client")
        self.widget_states[wid] = state
        result = await self.rerun(kind="change")
        if result.ok:
            if key not in self.run_widgets or not self.run_widgets[key][2].set_value:
                result.applied = None          # not re-sent, or the browser's value stands
            else:
                got = self.widget_value(key)
                want = value if not isinstance(value, (list, tuple)) else list(value)
                result.applied = got == want or (isinstance(got, float) and not
                                                 isinstance(want, list) and
                                                 math.isclose(got, float(want)))
                if not result.applied:
                    result.ok = False
                    result.errors.append(f"change not applied: {key} is {got!r}, sent {want!r}")
        return result

    async def rerun(self, kind: str = "change") -> RunResult:
        """Send a rerun_script BackMsg as the frontend does; wait for that run to finish."""
        if self.ws is None or self.disconnected:
            return RunResult(kind, False, None, errors=[self.disconnected or "not connected"])
        while not self.finished.empty():                    # nothing is running: stale events
            if self.finished.get_nowait()[0] == "disconnected":
                return RunResult(kind, False, None, errors=[self.disconnected or "disconnected"])
        back = BackMsg()
        rerun = back.rerun_script
        rerun.query_string = self.query_string
        rerun.page_script_hash = self.page_script_hash
        rerun.widget_states.widgets.extend(self.widget_states.values())
        rerun.cached_message_hashes.extend(self.cache.keys())
        info = rerun.context_info
        info.timezone, info.timezone_offset, info.locale = "UTC", 0, "en-US"
        info.url = self.base + "/" + (f"?{self.query_string}" if self.query_string else "")
        info.is_embedded, info.color_scheme = False, "light"
        self.got_new_session = False
        self.view_at = None
        errors_before, bytes_before = len(self.errors), self.bytes_in
        messages_before = self.messages_in
        sent = time.perf_counter()
        deadline = sent + self.timeout
        runs = 0
        try:
            await self.ws.send(back.SerializeToString())
            while True:
                remaining = deadline - time.perf_counter()
                if remaining <= 0:
                    raise asyncio.TimeoutError
                status, run_id, at = await asyncio.wait_for(self.finished.get(), remaining)
                if status == "disconnected":
                    raise ConnectionError(self.disconnected or "disconnected")
                runs += 1
                if status == ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                    continue
                if status == ForwardMsg.FINISHED_WITH_COMPILE_ERROR:
                    self.errors.append("script finished with a compile error")
                    break
                if status == ForwardMsg.FINISHED_SUCCESSFULLY:
                    if not self.got_new_session or (run_id and run_id != self.run_id):
                        continue                            # not the run this message started
                    break
                raise ProtocolError(f"unexpected script_finished status "
                                    f"{STATUS.get(status, status)}")
        except asyncio.TimeoutError:
            self.errors.append(f"no script_finished within {self.timeout:.0f} s")
            self.disconnected = "timed out"                 # this tab gives up
            return RunResult(kind, False, None, runs, self.bytes_in - bytes_before,
                             self.messages_in - messages_before,
                             errors=self.errors[errors_before:])
        except (ConnectionError, ConnectionClosed) as err:
            if not self.errors[errors_before:]:
                self.errors.append(f"disconnected: {err}")
            return RunResult(kind, False, None, runs, self.bytes_in - bytes_before,
                             self.messages_in - messages_before,
                             errors=self.errors[errors_before:])
        new_errors = self.errors[errors_before:]
        return RunResult(kind, not new_errors, at - sent, runs, self.bytes_in - bytes_before,
                         self.messages_in - messages_before, errors=new_errors,
                         view_latency=None if self.view_at is None else self.view_at - sent)


# ---- the server side: processes, /proc, nginx -------------------------------------------------

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    stat = fh.read()
                if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry))
            except (OSError, IndexError, ValueError):
                continue
    return found


def process_tree(pid: int) -> list[int]:
    tree, todo = [], [pid]
    while todo:
        p = todo.pop()
        tree.append(p)
        todo.extend(_children(p))
    return tree


def rss_mb(pid: int) -> float:
    """Resident memory of a process and its children, MB (0 once it is gone)."""
    total = 0
    for p in process_tree(pid):
        try:
            with open(f"/proc/{p}/status") as fh:
                for line in fh:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process, its live children and its reaped children."""
    total = 0.0
    for p in process_tree(pid):
        try:
            with open(f"/proc/{p}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            ticks = int(fields[11]) + int(fields[12])                 # utime, stime
            if p == pid:
                ticks += int(fields[13]) + int(fields[14])            # cutime, cstime
            total += ticks / CLK_TCK
        except (OSError, IndexError, ValueError):
            pass
    return total


class Monitor:
    """Samples the servers' RSS every `period` seconds in a thread; keeps the peak."""

    def __init__(self, pids: list[int], period: float = 0.5):
        self.pids, self.period = pids, period
        self.peak_total = 0.0
        self.peak_each = {p: 0.0 for p in pids}
        self.series: list[tuple[float, float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def sample(self) -> float:
        each = {p: rss_mb(p) for p in self.pids}
        total = sum(each.values())
        self.peak_total = max(self.peak_total, total)
        for p, v in each.items():
            self.peak_each[p] = max(self.peak_each[p], v)
        self.series.append((time.monotonic(), total))
        return total

    def _run(self):
        while not self._stop.wait(self.period):
            self.sample()

    def reset_peak(self):
        self.peak_total = 0.0
        self.peak_each = {p: 0.0 for p in self.pids}

    def __enter__(self):
        if self.pids:
            self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(2)


def wait_healthy(url: str, proc: subprocess.Popen | None = None, seconds: float = 60) -> None:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    deadline = time.monotonic() + seconds
    while True:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{proc.args[:4]}... exited with {proc.returncode}")
        try:
            with opener.open(f"{url}/_stcore/health", timeout=2) as resp:
                if resp.read().decode().strip() == "ok":
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{url} not healthy after {seconds:.0f} s")
        time.sleep(0.2)


def start_app(port: int, log_path: Path) -> subprocess.Popen:
    """`streamlit run app.py` on 127.0.0.1:port with the repo's .streamlit/config.toml."""
    log = open(log_path, "w")
    return subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.address", "127.0.0.1",
         "--server.port", str(port), "--server.headless", "true",
         "--browser.gatherUsageStats", "false"],
        cwd=REPO, stdout=log, stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"}, start_new_session=True)


def local_nginx_conf(template: str, listen_port: int, app_ports: list[int], prefix: Path) -> str:
    """deploy/nginx.conf adapted to loopback: its upstream, listen, pid, logs and temp paths."""
    conf = template
    servers = "".join(f"        server 127.0.0.1:{p} max_fails=0;\n" for p in app_ports)
    conf, n_up = re.subn(r"^[ \t]*server\s+app:\d+[^;]*;\n", servers, conf, flags=re.M)
    conf, n_listen = re.subn(r"^([ \t]*)listen\s+[^;]+;", rf"\1listen 127.0.0.1:{listen_port};",
                             conf, flags=re.M)
    conf, n_pid = re.subn(r"^pid\s+[^;]+;", f"pid {prefix}/nginx.pid;", conf, flags=re.M)
    conf = re.sub(r"^error_log\s+[^;]+;", f"error_log {prefix}/error.log warn;", conf, flags=re.M)
    conf = re.sub(r"^([ \t]*)access_log\s+[^;]+;", r"\1access_log off;", conf, flags=re.M)
    conf = re.sub(r"^user\s+[^;]+;\n", "", conf, flags=re.M)
    conf = re.sub(r"^worker_processes\s+[^;]+;", "worker_processes 1;", conf, flags=re.M)
    temp = "".join(f"    {name}_temp_path {prefix}/{name};\n"
                   for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    conf, n_http = re.subn(r"^http\s*\{\n", "http {\n" + temp, conf, count=1, flags=re.M)
    if not (n_up == 1 and n_listen == 1 and n_pid == 1 and n_http == 1):
        raise RuntimeError(f"{NGINX_CONF} changed shape: cannot adapt it (upstream {n_up}, "
                           f"listen {n_listen}, pid {n_pid}, http {n_http})")
    return conf


class Stack:
    """N app processes on loopback (N > 1: behind Debian's nginx, sticky on a cookie)."""

    def __init__(self, n_apps: int, workdir: Path, nginx: str = "nginx"):
        self.n, self.workdir, self.nginx_bin = n_apps, workdir, nginx
        self.apps: list[subprocess.Popen] = []
        self.app_urls: list[str] = []
        self.proxy: subprocess.Popen | None = None
        self.url = ""

    def __enter__(self):
        try:
            for i in range(self.n):
                port = free_port()
                self.apps.append(start_app(port, self.workdir / f"app{i}.log"))
                self.app_urls.append(f"http://127.0.0.1:{port}")
            for proc, url in zip(self.apps, self.app_urls):
                wait_healthy(url, proc)
            self.url = self.app_urls[0]
            if self.n > 1:
                self.url = self.start_proxy([int(u.rsplit(":", 1)[1]) for u in self.app_urls])
        except BaseException:
            self.__exit__()
            raise
        return self

    def start_proxy(self, ports: list[int]) -> str:
        prefix = self.workdir / "nginx"
        prefix.mkdir(exist_ok=True)
        port = free_port()
        conf = prefix / "nginx.conf"
        conf.write_text(local_nginx_conf(NGINX_CONF.read_text(), port, ports, prefix))
        check = subprocess.run([self.nginx_bin, "-t", "-q", "-p", str(prefix), "-c", str(conf)],
                               capture_output=True, text=True)
        if check.returncode != 0:
            raise RuntimeError(f"nginx -t failed on the adapted {NGINX_CONF}:\n{check.stderr}")
        self.proxy = subprocess.Popen([self.nginx_bin, "-p", str(prefix), "-c", str(conf),
                                       "-g", "daemon off;"],
                                      stdout=open(prefix / "stdout.log", "w"),
                                      stderr=subprocess.STDOUT, start_new_session=True)
        url = f"http://127.0.0.1:{port}"
        wait_healthy(url, self.proxy, 20)
        return url

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self.apps]

    def __exit__(self, *exc):
        for proc in ([self.proxy] if self.proxy else []) + self.apps:
            if proc.poll() is None:
                proc.terminate()
        for proc in ([self.proxy] if self.proxy else []) + self.apps:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)


# ---- the class ------------------------------------------------------------------------------

@dataclass
class SessionRecord:
    loads: list[RunResult] = field(default_factory=list)
    changes: list[RunResult] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    error_boxes: list[str] = field(default_factory=list)
    largest_message: int = 0


def _new_value(rng: random.Random, current, values: list[int]):
    choices = [v for v in values if v != current]
    return rng.choice(choices)


async def student(base: str, *, changes: int, interval: float, key: str, values: list[int],
                  delay: float, rng: random.Random, stop_at: float | None = None,
                  reload_every: int = 0, timeout: float = CHANGE_TIMEOUT,
                  tag: str = "") -> SessionRecord:
    """One student: open the page, make `changes` changes (or until `stop_at`), close the tab.
    With `reload_every`, the tab is reloaded (a new session) after that many changes."""
    record = SessionRecord()
    await asyncio.sleep(delay)
    session = None
    made = 0
    cookies: dict[str, str] = {}            # a reload keeps the tab's cookies (its affinity)
    try:
        while made < changes and (stop_at is None or time.monotonic() < stop_at):
            session = Session(base, timeout=timeout, tag=tag)
            session.cookies = dict(cookies)
            try:
                load = await session.open()
                cookies.update(session.cookies)
            except Exception as err:                        # noqa: BLE001 - counted, reported
                load = RunResult("load", False, None, errors=[f"page load failed: {err!r}"])
            record.loads.append(load)
            if not load.ok:
                break
            try:
                current = session.widget_value(key)
            except ProtocolError as err:
                record.errors.append(str(err))
                break
            next_send = time.monotonic() + interval * rng.uniform(0.5, 1.5)
            in_this_tab = 0
            while made < changes and (stop_at is None or time.monotonic() < stop_at):
                if reload_every and in_this_tab >= reload_every:
                    break
                await asyncio.sleep(max(0.0, next_send - time.monotonic()))
                if stop_at is not None and time.monotonic() >= stop_at:
                    break
                sent = time.monotonic()
                current = _new_value(rng, current, values)
                result = await session.set_widget(key, current)
                record.changes.append(result)
                made += 1
                in_this_tab += 1
                if not result.ok and session.disconnected:
                    break
                next_send = sent + interval * rng.uniform(0.5, 1.5)
            record.largest_message = max(record.largest_message, session.largest_message)
            await session.close()
            _collect(record, session)
            if session.disconnected:
                break
            session = None
    finally:
        if session is not None:
            await session.close()
            _collect(record, session)
    return record


def _collect(record: SessionRecord, session: Session) -> None:
    """A closed tab's error boxes, and its errors that no rerun reported (e.g. a disconnect
    between changes, an exception element that came after its script_finished)."""
    record.error_boxes += session.error_boxes
    reported = {e for r in record.loads + record.changes for e in r.errors}
    record.errors += [e for e in session.errors if e not in reported]


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    lo, hi = math.floor(k), math.ceil(k)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


@dataclass
class PhaseResult:
    name: str
    sessions: int
    wall: float
    records: list[SessionRecord]
    server_cpu: dict[str, float]
    proxy_cpu: float | None
    client_cpu: float
    rss_peak: float | None
    rss_peak_each: dict[str, float]
    sessions_per_process: dict[str, int] = field(default_factory=dict)

    def summary(self) -> dict:
        changes = [c for r in self.records for c in r.changes]
        loads = [x for r in self.records for x in r.loads]
        ok = [c.latency for c in changes if c.ok]
        views = [c.view_latency for c in changes if c.ok and c.view_latency is not None]
        load_ok = [x.latency for x in loads if x.ok]
        errors = [e for r in self.records for e in r.errors] + \
                 [e for c in changes + loads for e in c.errors]
        work = max(len(changes) + len(loads), 1)
        return {
            "phase": self.name, "sessions": self.sessions, "wall_s": round(self.wall, 1),
            "loads": len(loads), "load_p50_s": _r(percentile(load_ok, .5)),
            "load_p95_s": _r(percentile(load_ok, .95)),
            "changes": len(changes), "changes_finished": len(ok),
            "change_p50_s": _r(percentile(ok, .5)), "change_p95_s": _r(percentile(ok, .95)),
            "change_max_s": _r(max(ok) if ok else None),
            "view_p50_s": _r(percentile(views, .5)), "view_p95_s": _r(percentile(views, .95)),
            "changes_applied": sum(1 for c in changes if c.applied),
            "runs_per_change": _r(statistics.mean([c.runs for c in changes]) if changes else None),
            "kb_per_change": _r(statistics.mean([c.bytes for c in changes]) / 1024
                                if changes else None, 1),
            "kb_per_load": _r(statistics.mean([x.bytes for x in loads]) / 1024
                              if loads else None, 1),
            "largest_message_kb": _r(max((r.largest_message for r in self.records), default=0)
                                     / 1024, 1),
            "errors": len(errors), "error_samples": sorted(set(errors))[:8],
            "error_boxes": sum(len(r.error_boxes) for r in self.records),
            "server_cpu_s": {k: round(v, 1) for k, v in self.server_cpu.items()},
            "server_cpu_s_per_rerun": _r(sum(self.server_cpu.values()) / work, 3),
            "server_cpu_share": _r(sum(self.server_cpu.values()) / max(self.wall, 1e-9), 2),
            "proxy_cpu_s": _r(self.proxy_cpu, 2),
            "client_cpu_s": round(self.client_cpu, 1),
            "rss_peak_mb": _r(self.rss_peak, 0),
            "rss_peak_each_mb": {k: round(v) for k, v in self.rss_peak_each.items()},
            "sessions_per_process": self.sessions_per_process,
            "load_average_at_end": round(os.getloadavg()[0], 2),
        }


def _r(value, digits=3):
    return None if value is None else round(value, digits)


def _client_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def run_phase(name: str, url: str, *, sessions: int, changes: int, interval: float,
                    ramp: float, key: str, values: list[int], seed: int, pids: list[int],
                    proxy_pid: int | None, monitor: Monitor | None, soak: float = 0.0,
                    reload_every: int = 0, direct_urls: list[str] = ()) -> PhaseResult:
    rng = random.Random(seed)
    connects0 = await asyncio.to_thread(connects, list(direct_urls))
    cpu0 = {str(p): cpu_seconds(p) for p in pids}
    proxy0 = cpu_seconds(proxy_pid) if proxy_pid else None
    client0 = _client_cpu()
    if monitor:
        monitor.sample()
        monitor.reset_peak()
    start = time.monotonic()
    stop_at = start + ramp + soak if soak else None
    tasks = [student(url, changes=changes, interval=interval, key=key, values=values,
                     delay=ramp * i / max(sessions, 1), rng=random.Random(rng.random()),
                     stop_at=stop_at, reload_every=reload_every, tag=f"{name}-{i}")
             for i in range(sessions)]
    # A bound on the whole phase: every change may take the timeout, plus the waits.
    bound = ramp + (soak + 2 * CHANGE_TIMEOUT if soak
                    else changes * (interval * 1.5 + CHANGE_TIMEOUT)) + 120
    records = await asyncio.wait_for(asyncio.gather(*tasks), bound)
    wall = time.monotonic() - start
    if monitor:
        monitor.sample()
    connects1 = await asyncio.to_thread(connects, list(direct_urls))
    return PhaseResult(
        name, sessions, wall, list(records),
        {p: cpu_seconds(int(p)) - c for p, c in cpu0.items()},
        (cpu_seconds(proxy_pid) - proxy0) if proxy_pid else None,
        _client_cpu() - client0,
        monitor.peak_total if monitor else None,
        {str(p): v for p, v in monitor.peak_each.items()} if monitor else {},
        {u.rsplit(":", 1)[-1]: connects1[u] - connects0[u] for u in connects0})


def connects(urls: list[str]) -> dict[str, int]:
    """Sessions each process has accepted so far (Streamlit's /_stcore/metrics), by URL."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    out = {}
    for url in urls:
        try:
            with opener.open(f"{url}/_stcore/metrics", timeout=5) as resp:
                text = resp.read().decode()
            match = re.search(r'^session_events_total\{type="connect"\}\s+(\d+)', text, re.M)
            out[url] = int(match.group(1)) if match else -1
        except OSError:
            out[url] = -1
    return out


def mem_now(pids: list[int]) -> float | None:
    return sum(rss_mb(p) for p in pids) if pids else None


async def run_configuration(label: str, url: str, args, pids: list[int], proxy_pid: int | None,
                            direct_urls: list[str]) -> dict:
    """Warm-up, K = 1, K = args.sessions, the memory after; then the soak if asked."""
    out: dict = {"configuration": label, "url": url, "server_pids": pids, "phases": []}
    values = list(range(args.min_value, args.max_value + 1, args.step))
    direct_urls = direct_urls or [url]
    with Monitor(pids) as monitor:
        out["rss_start_mb"] = _r(mem_now(pids), 0)
        # Warm-up: one page load per process (imports, first compute), straight to each.
        for i, direct in enumerate(direct_urls):
            s = Session(direct, tag=f"warm{i}")
            result = await s.open()
            await s.close()
            if not result.ok:
                raise RuntimeError(f"warm-up page load failed on {direct}: {result.errors}")
        await asyncio.sleep(args.idle_wait)
        out["rss_idle_mb"] = _r(mem_now(pids), 0)
        phases = []
        if args.baseline:
            phases.append(("K=1", 1, args.baseline_changes))
        if args.sessions and not args.soak:
            phases.append((f"K={args.sessions}", args.sessions, args.changes))
        for name, k, m in phases:
            result = await run_phase(name, url, sessions=k, changes=m, interval=args.interval,
                                     ramp=args.ramp if k > 1 else 0.0, key=args.widget,
                                     values=values, seed=args.seed + k, pids=pids,
                                     proxy_pid=proxy_pid, monitor=monitor if pids else None,
                                     direct_urls=direct_urls)
            out["phases"].append(result.summary())
            _print_phase(label, out["phases"][-1])
        if args.soak:
            out["soak"] = await soak(label, url, args, values, pids, proxy_pid, monitor,
                                     direct_urls)
        if pids:
            out["rss_after_close_mb"] = _r(mem_now(pids), 0)
            await asyncio.sleep(args.settle)
            out["rss_settled_mb"] = _r(mem_now(pids), 0)
            out["settle_s"] = args.settle
            out["settled_vs_idle"] = _r(out["rss_settled_mb"] / out["rss_idle_mb"], 2)
            print(f"  [{label}] memory: start {out['rss_start_mb']} MB, idle (warm) "
                  f"{out['rss_idle_mb']} MB, right after close {out['rss_after_close_mb']} MB, "
                  f"{args.settle:.0f} s later {out['rss_settled_mb']} MB "
                  f"({out['settled_vs_idle']}x idle)", flush=True)
    return out


async def soak(label, url, args, values, pids, proxy_pid, monitor, direct_urls) -> dict:
    print(f"  [{label}] soak: {args.sessions} sessions for {args.soak:.0f} s "
          f"(each tab reloaded every {args.reload_every} changes)", flush=True)
    series_from = len(monitor.series) if pids else 0
    result = await run_phase(f"soak K={args.sessions}", url, sessions=args.sessions,
                             changes=MAX_CHANGES, interval=args.interval, ramp=args.ramp,
                             key=args.widget, values=values, seed=args.seed + 1000, pids=pids,
                             proxy_pid=proxy_pid, monitor=monitor if pids else None,
                             soak=args.soak, reload_every=args.reload_every,
                             direct_urls=direct_urls)
    summary = result.summary()
    _print_phase(label, summary)
    if pids:
        series = monitor.series[series_from:]
        t0 = series[0][0]
        by_minute = {}
        for t, v in series:
            by_minute.setdefault(int((t - t0) // 60), []).append(v)
        summary["rss_by_minute_mb"] = [round(max(v)) for _, v in sorted(by_minute.items())]
        # Growth: the last minute's peak against the first full minute's (after the ramp).
        mins = summary["rss_by_minute_mb"]
        if len(mins) >= 3:
            summary["rss_growth"] = _r(mins[-1] / mins[1] - 1, 3)
        print(f"  [{label}] soak RSS by minute (peak, MB): {summary['rss_by_minute_mb']} "
              f"growth (last vs minute 2): {summary.get('rss_growth')}", flush=True)
    return summary


def _print_phase(label: str, s: dict) -> None:
    def f(v, unit="s"):
        return "-" if v is None else f"{v:.2f} {unit}".strip()
    print(f"  [{label}] {s['phase']:>6}: {s['sessions']} sessions, {s['loads']} page loads "
          f"(p50 {f(s['load_p50_s'])}, p95 {f(s['load_p95_s'])}), {s['changes']} changes, "
          f"{s['changes_finished']} finished, {s['changes_applied']} applied: "
          f"p50 {f(s['change_p50_s'])}, p95 {f(s['change_p95_s'])}, max {f(s['change_max_s'])}; "
          f"errors {s['errors']}; {s['kb_per_change']} KB and {s['runs_per_change']} runs per "
          f"change; server CPU {s['server_cpu_s']} s ({s['server_cpu_s_per_rerun']} s per rerun,"
          f" {s['server_cpu_share']} cores), proxy CPU {s['proxy_cpu_s']} s, client CPU "
          f"{s['client_cpu_s']} s; peak RSS {s['rss_peak_mb']} MB {s['rss_peak_each_mb']}; "
          f"sessions per process (by port) {s['sessions_per_process']}; load average "
          f"{s['load_average_at_end']}",
          flush=True)
    for e in s["error_samples"]:
        print(f"      error: {e}", flush=True)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sessions", "-k", type=int, default=30, help="K concurrent sessions (30)")
    p.add_argument("--changes", "-m", type=int, default=20, help="M changes per session (20)")
    p.add_argument("--interval", "-t", type=float, default=3.0,
                   help="T: seconds between a session's changes, jittered 0.5-1.5x (3)")
    p.add_argument("--ramp", type=float, default=None,
                   help="seconds over which the K sessions arrive (default 0.2 s per session, "
                        "at most 20)")
    p.add_argument("--url", help="an already running server or proxy (loopback only); without "
                                 "it the benchmark starts its own")
    p.add_argument("--server-pid", type=int, action="append", default=[],
                   help="with --url: a server process to measure (repeat for each)")
    p.add_argument("--proxy-pid", type=int, help="with --url: the proxy's process, for its CPU")
    p.add_argument("--servers", type=int, nargs="+", default=[1],
                   help="configurations to run: N app processes each (N > 1 behind nginx); "
                        "e.g. --servers 1 2")
    p.add_argument("--nginx", default="nginx", help="the nginx executable (Debian's)")
    p.add_argument("--soak", type=float, default=0.0,
                   help="SECONDS: instead of M changes, keep K sessions changing for this long "
                        "(e.g. --sessions 10 --soak 600)")
    p.add_argument("--reload-every", type=int, default=25,
                   help="in a soak, each tab reloads (a new session) after this many changes")
    p.add_argument("--no-baseline", dest="baseline", action="store_false",
                   help="skip the K = 1 baseline")
    p.add_argument("--baseline-changes", type=int, default=10)
    p.add_argument("--settle", type=float, default=60.0,
                   help="seconds to wait after the sessions close before the last RSS (60)")
    p.add_argument("--idle-wait", type=float, default=3.0)
    p.add_argument("--widget", default="steps", help="the key of the slider to move (steps)")
    p.add_argument("--min-value", type=int, default=50)
    p.add_argument("--max-value", type=int, default=1000)
    p.add_argument("--step", type=int, default=10)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", type=Path, help="also write the results as JSON here")
    args = p.parse_args(argv)
    if not 1 <= args.sessions <= MAX_SESSIONS or not 1 <= args.changes <= MAX_CHANGES:
        p.error(f"--sessions within 1..{MAX_SESSIONS}, --changes within 1..{MAX_CHANGES}")
    if not 0 <= args.soak <= MAX_SOAK or not 0.05 <= args.interval <= 600:
        p.error(f"--soak within 0..{MAX_SOAK} s, --interval within 0.05..600 s")
    if args.ramp is None:
        args.ramp = min(0.2 * args.sessions, 20.0)
    args.settle = min(max(args.settle, 0.0), 600.0)
    if args.url and urllib.parse.urlsplit(args.url).hostname not in LOOPBACK:
        p.error("--url must be on loopback (127.0.0.1, ::1 or localhost)")
    if any(n < 1 or n > 8 for n in args.servers):
        p.error("--servers: 1 to 8 processes per configuration")
    return args


async def main_async(args) -> list[dict]:
    print(f"bench_load: K={args.sessions}, M={args.changes}, T={args.interval} s, ramp "
          f"{args.ramp:.1f} s, soak {args.soak:.0f} s; widget {args.widget!r} in "
          f"{args.min_value}..{args.max_value}; {os.cpu_count()} CPUs, load average "
          f"{os.getloadavg()[0]:.2f}", flush=True)
    results = []
    if args.url:
        results.append(await run_configuration("external", args.url.rstrip("/"), args,
                                               args.server_pid, args.proxy_pid, []))
        return results
    for n in args.servers:
        label = "1 process" if n == 1 else f"{n} processes behind nginx"
        with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
            with Stack(n, Path(tmp), args.nginx) as stack:
                print(f"[{label}] {stack.url} -> {stack.app_urls}", flush=True)
                results.append(await run_configuration(
                    label, stack.url, args, stack.pids,
                    stack.proxy.pid if stack.proxy else None,
                    stack.app_urls if n > 1 else []))
    return results


def main(argv=None) -> int:
    args = parse_args(argv)
    results = asyncio.run(main_async(args))
    print("\nsummary (latency from the BackMsg sent to its script_finished):")
    for conf in results:
        for s in conf["phases"] + ([conf["soak"]] if conf.get("soak") else []):
            print(f"  {conf['configuration']:<28} {s['phase']:<10} changes {s['changes']:>5}  "
                  f"p50 {s['change_p50_s']} s  p95 {s['change_p95_s']} s  max "
                  f"{s['change_max_s']} s  errors {s['errors']}  peak RSS {s['rss_peak_mb']} MB")
            print(f"  {'':<28} {'':<10} the live view's data: p50 {s['view_p50_s']} s  "
                  f"p95 {s['view_p95_s']} s (then the chart-first pause, then the controls)")
        if "rss_settled_mb" in conf:
            print(f"  {conf['configuration']:<28} memory idle {conf['rss_idle_mb']} MB -> "
                  f"{conf['rss_settled_mb']} MB {conf['settle_s']:.0f} s after close "
                  f"({conf['settled_vs_idle']}x)")
    if args.json:
        args.json.write_text(json.dumps({"args": {k: (str(v) if isinstance(v, Path) else v)
                                                  for k, v in vars(args).items()},
                                         "results": results}, indent=2))
    failed = any(s["errors"] for conf in results
                 for s in conf["phases"] + ([conf["soak"]] if conf.get("soak") else []))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
