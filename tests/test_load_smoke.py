"""The load benchmark's protocol client, small (benchmarks/bench_load.py; the benchmark is not a
test): K = 3 sessions against `streamlit run app.py` on a free loopback port, each loading the
page and moving the Steps slider a few times through Streamlit's own websocket protocol.

It asserts that every change got its own finished script with the new value, and nothing else
came back: no exception element, no disconnect, no run over 30 s. Where a change of Streamlit's
protocol breaks the client, it fails here loudly (the slider not found, fewer finished scripts
than changes, a value not applied), never passes empty.
"""

from __future__ import annotations

import asyncio
import importlib.util
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SESSIONS, CHANGES = 3, 4


def _load_bench():
    path = REPO / "benchmarks" / "bench_load.py"
    spec = importlib.util.spec_from_file_location("bench_load", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_load"] = module
    spec.loader.exec_module(module)
    return module


bench = _load_bench()


@pytest.fixture(scope="module")
def server():
    port = bench.free_port()
    with tempfile.TemporaryDirectory(prefix="load-smoke-") as tmp:
        log_path = Path(tmp) / "app.log"
        proc = bench.start_app(port, log_path)
        url = f"http://127.0.0.1:{port}"
        try:
            try:
                bench.wait_healthy(url, proc, 60)
            except RuntimeError as err:
                pytest.fail(f"{err}:\n{log_path.read_text(errors='replace')[-3000:]}")
            yield url, proc, log_path
        finally:
            if proc.poll() is None:
                proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)


async def _one_student(url: str, seed: int) -> dict:
    """Open the page, move Steps CHANGES times, close; everything the client saw."""
    rng = random.Random(seed)
    session = bench.Session(url, tag=f"smoke{seed}")
    out = {"changes": [], "values": []}
    try:
        out["load"] = await session.open()
        wid, etype, _ = session.widget("steps")            # ProtocolError if it is gone
        out["widget"] = (wid, etype)
        current = session.widget_value("steps")
        for _ in range(CHANGES):
            current = rng.choice([v for v in range(50, 1001, 10) if v != current])
            out["values"].append(current)
            out["changes"].append(await session.set_widget("steps", current))
            await asyncio.sleep(rng.uniform(0.05, 0.3))
        out["query_string"] = session.query_string
    finally:
        await session.close()
        out["errors"] = list(session.errors)
        out["error_boxes"] = list(session.error_boxes)
        out["disconnected"] = session.disconnected
    return out


def test_three_sessions_every_change_finishes(server):
    url, proc, log_path = server
    started = time.monotonic()

    async def main():
        return await asyncio.wait_for(
            asyncio.gather(*[_one_student(url, seed) for seed in range(SESSIONS)]), 60)

    students = asyncio.run(main())
    log = log_path.read_text(errors="replace")[-3000:]
    assert proc.poll() is None, f"the server died:\n{log}"
    assert len(students) == SESSIONS
    for i, s in enumerate(students):
        where = f"session {i}: {s}\nserver log:\n{log}"
        assert s["load"].ok and s["load"].latency is not None, where
        assert s["load"].runs >= 1 and s["load"].bytes > 0, where
        wid, etype = s["widget"]
        assert etype == "slider" and wid.startswith("$$ID-") and wid.endswith("-steps"), where
        # Every change sent got its own finished script, with the slider at the value sent.
        assert len(s["changes"]) == CHANGES, where
        finished = [c for c in s["changes"] if c.ok and c.latency is not None]
        assert len(finished) == CHANGES, where
        assert all(c.runs >= 1 and c.messages > 0 for c in s["changes"]), where
        assert [c.applied for c in s["changes"]] == [True] * CHANGES, where
        assert all(c.latency < bench.CHANGE_TIMEOUT for c in finished), where
        # No exception element, no error box, no disconnect.
        assert s["errors"] == [] and s["error_boxes"] == [], where
        assert s["disconnected"] is None, where
        # The server's answer to the last change is the page's URL too (the scene's steps).
        assert f"steps={s['values'][-1]}" in s["query_string"].split("&"), where
    assert time.monotonic() - started < 60


def test_client_fails_loudly_on_a_missing_widget(server):
    """A widget key the page does not have is an error, not a silent no-op."""
    url, _, _ = server

    async def main():
        session = bench.Session(url, tag="smoke-missing")
        try:
            load = await session.open()
            assert load.ok, load
            with pytest.raises(bench.ProtocolError, match="no widget with key"):
                await session.set_widget("no such widget", 1)
        finally:
            await session.close()

    asyncio.run(main())
