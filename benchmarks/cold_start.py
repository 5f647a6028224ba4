"""Cold start: from `streamlit run app.py` to the home page shown in Chromium.

    python benchmarks/cold_start.py

Chromium is started first, so its own start-up is not counted. The clock starts when the
server process is launched and stops when the home page's title is visible in the browser,
which needs the server up, the page's script run, and the result rendered. Target: ≤ 5 s.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from browser import free_port, launch_chromium  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

RUNS = 5


def one_cold_start(browser) -> float:
    port = free_port()
    page = browser.new_page()
    started = time.perf_counter()
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless=true",
         f"--server.port={port}", "--browser.gatherUsageStats=false"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while True:
            try:
                page.goto(f"http://127.0.0.1:{port}/", timeout=2000)
                break
            except Exception:  # noqa: BLE001 - the server is not listening yet
                time.sleep(0.05)
        page.get_by_role("heading", name="CNN Playground").wait_for(timeout=30_000)
        return time.perf_counter() - started
    finally:
        page.close()
        server.terminate()
        server.wait(timeout=10)


def main() -> None:
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        seconds = [one_cold_start(browser) for _ in range(RUNS)]
        browser.close()
    print(f"Cold start, `streamlit run app.py` → home page visible, {RUNS} runs:")
    print("  " + "  ".join(f"{value:.2f} s" for value in seconds))
    median = statistics.median(seconds)
    print(f"  median {median:.2f} s, worst {max(seconds):.2f} s; target ≤ 5 s: "
          f"{'met' if max(seconds) <= 5 else 'NOT met'}")


if __name__ == "__main__":
    main()
