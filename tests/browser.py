"""Helpers for the real-browser tests: a Streamlit server on a free port, and Chromium."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
SERVER_START_SECONDS = 60


def chromium_path() -> str | None:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def streamlit_server(root: Path, extra_env: dict[str, str] | None = None, extra_args: tuple[str, ...] = ()):
    """Run `streamlit run app.py` headless; yield its base URL; stop it afterwards."""
    with streamlit_process(root, extra_env, extra_args) as (url, _):
        yield url


@contextlib.contextmanager
def streamlit_process(root: Path, extra_env: dict[str, str] | None = None, extra_args: tuple[str, ...] = ()):
    """Like `streamlit_server`, but yield (base URL, the server's process), for benchmarks."""
    port = free_port()
    command = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless=true",
               f"--server.port={port}", "--server.address=127.0.0.1",
               "--browser.gatherUsageStats=false", "--server.fileWatcherType=none", *extra_args]
    environment = {**os.environ, **(extra_env or {})}
    url = f"http://127.0.0.1:{port}"
    # A file, not a pipe: a pipe nobody reads fills up and blocks a talkative server.
    with tempfile.TemporaryFile("w+") as log:
        process = subprocess.Popen(command, cwd=root, env=environment, stdout=log, stderr=subprocess.STDOUT,
                                   text=True)
        try:
            wait_until_healthy(url, process, log)
            yield url, process
        except BaseException:
            print_log_tail(log)  # pytest shows it beside the failure
            raise
        finally:
            stop(process)


def print_log_tail(log, characters: int = 6_000) -> None:
    log.flush()
    log.seek(0)
    print(f"--- the Streamlit server's log, last {characters} characters ---\n{log.read()[-characters:]}")


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()


def wait_until_healthy(url: str, process: subprocess.Popen, log) -> None:
    deadline = time.monotonic() + SERVER_START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log.seek(0)
            raise RuntimeError(f"Streamlit exited early:\n{log.read()}")
        with contextlib.suppress(OSError), \
                urllib.request.urlopen(f"{url}/_stcore/health", timeout=1) as response:
            if response.status == 200:
                return
        time.sleep(0.1)
    raise TimeoutError(f"Streamlit did not answer at {url} within {SERVER_START_SECONDS} s.")


def fill_number(page, label: str, value) -> None:
    """Type into a Streamlit number input and commit it, as a user pressing Enter would."""
    field = page.get_by_label(label, exact=True)
    field.fill(str(value))
    field.press("Enter")


def choose_option(page, label: str, option: str) -> None:
    """Open a Streamlit select box by its label and click one of its options."""
    page.get_by_label(label, exact=True).click()
    page.get_by_role("option", name=option, exact=True).click()


def chart_point_counts(page) -> list[int]:
    """How many batch points the live training chart (an SVG picture) holds now, and the
    first trace of each Plotly chart on the page (the training chart, once training ends)."""
    return page.evaluate(
        "() => [...document.images].filter(image => image.src.startsWith('data:image/svg+xml;base64,'))"
        ".map(image => Number(atob(image.src.split(',')[1]).match(/data-batch-points=\"(\\d+)\"/)[1]))"
        ".concat([...document.querySelectorAll('.js-plotly-plot')]"
        ".map(plot => (plot.data && plot.data[0] && plot.data[0].x) ? plot.data[0].x.length : 0))")


def wait_for_pictures(page, count: int) -> None:
    """Wait until at least `count` images on the page have loaded."""
    page.wait_for_function(
        f"() => [...document.images].filter(i => i.complete && i.naturalWidth > 0).length >= {count}")


def launch_chromium(playwright):
    """Debian's Chromium with the flags this machine needs (Playwright cannot download one)."""
    return playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)


def open_page(browser, url: str, width: int = 1400, height: int = 1000, timeout_ms: int = 120_000):
    page = browser.new_page(viewport={"width": width, "height": height})
    page.set_default_timeout(timeout_ms)
    page.goto(url)
    return page
