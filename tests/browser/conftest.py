"""Fixtures of the browser test: one Streamlit server and one headless Chromium per module.

The browser is Debian's /usr/bin/chromium driven by Playwright (no browser download: never
`playwright install`). Without it the test fails, saying how to install it.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
SERVER_START_SECONDS = 90


def chromium_missing_message() -> str | None:
    if os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK):
        return None
    return (f"Chromium not found at {CHROMIUM}: the browser test needs Debian's Chromium "
            "(run `apt-get install chromium`, as root or with sudo; do not `playwright install`)")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@dataclass
class Server:
    url: str
    log_path: str

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return Path(self.log_path).read_text(errors="replace")[-chars:]
        except OSError as err:
            return f"(no server log: {err})"


@pytest.fixture(scope="module")
def app_server():
    """`streamlit run app.py` on a free local port (headless, no usage stats, no file watcher:
    headless Streamlit otherwise tries to reach the internet); yields a Server (url, log)."""
    port = _free_port()
    log = tempfile.NamedTemporaryFile("w+", prefix="streamlit-browser-test-", suffix=".log",
                                      delete=False)
    cmd = [sys.executable, "-m", "streamlit", "run", "app.py",
           "--server.address", "127.0.0.1", "--server.port", str(port),
           "--server.headless", "true", "--browser.gatherUsageStats", "false",
           "--server.fileWatcherType", "none"]
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=log, stderr=subprocess.STDOUT,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + SERVER_START_SECONDS
        while True:
            if proc.poll() is not None:
                log.seek(0)
                pytest.fail(f"streamlit exited with code {proc.returncode}:\n{log.read()}")
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as resp:
                    if resp.read().decode().strip() == "ok":
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                log.seek(0)
                pytest.fail(f"streamlit not healthy after {SERVER_START_SECONDS} s:\n{log.read()}")
            time.sleep(0.2)
        yield Server(url, log.name)
    finally:
        _stop(proc)
        log.close()
        os.unlink(log.name)


@pytest.fixture(scope="session")
def chromium_problem() -> str | None:
    """None when Debian's Chromium is there, else what to do about it."""
    return chromium_missing_message()


@pytest.fixture(scope="module")
def browser():
    message = chromium_missing_message()
    if message:
        pytest.fail(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="module")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
