"""Learners in real Chromium sessions against a running server, for the benchmarks that
need a class (benchmarks/classroom.py, benchmarks/faults.py): servers to start, pages to
open, a digit to draw, a training to start and to time, and the browsers' own CPU."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for folder in (ROOT, ROOT / "tests", ROOT / "deploy"):  # the tests' browser helpers, the replicas' nginx
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

from browser import free_port, wait_until_healthy  # noqa: E402
from replicas import nginx_config, start_nginx, start_replica  # noqa: E402

from benchmarks.processes import MemoryWatch, descendants, own_cpu_seconds  # noqa: E402
from playground.jobs.worker_pool import WORKER_IDLE_SECONDS  # noqa: E402

# Streamlit keeps a closed tab's session this long (default 120 s) before it may drop it;
# shorter here so that the memory after closing can be read within the benchmark.
SESSION_TTL_SECONDS = 10
RESULT_TIMEOUT_SECONDS = 20 * 60
DRAWINGS = 8
# Draw's latency, timed by the page: from the pointerup event to the animation frame that first
# draws "Prediction:" (a requestAnimationFrame callback, requested as soon as the text is in
# the page, runs as that frame's rendering starts). A wait from Python reads later than that:
# Playwright looks for the text again 0, 20, 50, 100, 100 ms… apart, so it sees a result up
# to 100 ms after it showed.
DRAW_TIMER_JS = """() => {
  let lifted = null;
  document.addEventListener("pointerup", () => { lifted = performance.now(); }, {capture: true, once: true});
  window.drawTimer = new Promise((resolve, reject) => {
    const shown = () => [...document.querySelectorAll("h3")].some(
      (heading) => heading.textContent.startsWith("Prediction:"));
    const watcher = new MutationObserver(() => {
      if (lifted === null || !shown()) return;
      watcher.disconnect();
      requestAnimationFrame(() => resolve(performance.now() - lifted));
    });
    watcher.observe(document.body, {subtree: true, childList: true, characterData: true});
    setTimeout(() => reject(new Error("no prediction within 60 s")), 60000);
  });
}"""


def chromium_processes() -> dict[int, str]:
    """Every Chromium process: pid -> its command line."""
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if "chrom" in (entry / "comm").read_text():
                    found[int(entry.name)] = (entry / "cmdline").read_text()
    return found


def renderers() -> set[int]:
    return {pid for pid, command in chromium_processes().items() if "--type=renderer" in command}


class BrowserCpu:
    """CPU seconds used by every Chromium process, sampled twice a second (a process that
    ends loses at most its last half second)."""

    def __init__(self):
        self.used: dict[int, float] = {}
        self._stop = threading.Event()
        threading.Thread(target=self._run, daemon=True).start()

    def total(self, only: set[int] | None = None) -> float:
        return sum(used for pid, used in self.used.items() if only is None or pid in only)

    def _run(self) -> None:
        while not self._stop.wait(0.5):
            for pid in chromium_processes():
                with contextlib.suppress(OSError, ValueError, IndexError):
                    self.used[pid] = own_cpu_seconds(pid)

    def close(self) -> None:
        self._stop.set()


@contextlib.contextmanager
def servers(replicas: int, folder: Path):
    """Yield (the URL learners open, the server pids, nginx's access log or None)."""
    arguments = (f"--server.disconnectedSessionTTL={SESSION_TTL_SECONDS}",)
    ports = [free_port() for _ in range(replicas)]
    with open(folder / "streamlit.log", "w+") as log:
        processes = [start_replica(port, arguments, log) for port in ports]
        try:
            for port, process in zip(ports, processes, strict=True):
                wait_until_healthy(f"http://127.0.0.1:{port}", process, log)
            pids = [process.pid for process in processes]
            if replicas == 1:
                yield f"http://127.0.0.1:{ports[0]}", pids, None
                return
            listen = free_port()
            nginx = start_nginx(nginx_config(listen, ports, folder, "127.0.0.1"), folder)
            try:
                time.sleep(1)
                yield f"http://127.0.0.1:{listen}", pids, folder / "access.log"
            finally:
                nginx.terminate()
                nginx.wait(timeout=10)
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    process.wait(timeout=15)


def new_page(browser, url: str, path: str, height: int = 1000):
    context = browser.new_context(viewport={"width": 1400, "height": height})
    page = context.new_page()
    page.set_default_timeout(120_000)
    page.goto(f"{url}/{path}")
    return context, page


def go(page, title: str) -> None:
    """Switch pages through the sidebar, as a learner does: the same session, unlike a new URL."""
    page.get_by_test_id("stSidebarNav").get_by_role("link", name=title).click()


def press(page, name: str) -> None:
    page.get_by_test_id("stMainBlockContainer").get_by_role("button", name=name, exact=True).click()


def draw_seven(page, release: bool = True) -> None:
    canvas = page.locator("canvas").first
    canvas.wait_for()
    box = canvas.bounding_box()
    points = [(0.25, 0.2), (0.75, 0.2), (0.45, 0.85)]
    page.mouse.move(box["x"] + points[0][0] * box["width"], box["y"] + points[0][1] * box["height"])
    page.mouse.down()
    for x, y in points[1:]:
        page.mouse.move(box["x"] + x * box["width"], box["y"] + y * box["height"], steps=15)
    if release:
        page.mouse.up()


def open_test_image(page) -> None:
    page.get_by_test_id("stMainBlockContainer").get_by_text("Test image", exact=True).click()
    page.get_by_text("Prediction:").first.wait_for()


def learner_ready_to_train(browser, url: str):
    """Draw, then Inspect on a test image, then Build & Train: one session throughout."""
    context, page = new_page(browser, url, "draw")
    draw_seven(page)
    page.get_by_text("Prediction:").wait_for()
    go(page, "Inspect")
    open_test_image(page)
    go(page, "Build & Train")
    page.get_by_text("press Train").wait_for()
    return context, page


def training_seconds_shown(page) -> float:
    """The "Training time" a finished run's page shows (fit only, evaluation excluded)."""
    metric = page.get_by_test_id("stMetric").filter(has_text="Training time")
    return float(metric.get_by_test_id("stMetricValue").inner_text().removesuffix(" s"))


def lone_training(browser, url: str) -> float:
    """One learner trains the default with nobody else on the server: its training seconds,
    the machine's pace at that moment (it swings by a third from one half hour to the next)."""
    context, page = learner_ready_to_train(browser, url)
    press(page, "Train")
    page.get_by_text("Test accuracy").wait_for(timeout=RESULT_TIMEOUT_SECONDS * 1000)
    seconds = training_seconds_shown(page)
    context.close()
    return seconds


def toggle_once(browser, url: str) -> None:
    """The watcher's click once, in a session of its own, so that its gradient runtime is loaded."""
    context, page = new_page(browser, url, "inspect")
    open_test_image(page)
    toggle_response_seconds(page)
    context.close()


def toggle_response_seconds(page) -> float:
    """Click the saliency toggle; seconds until the page shows one chart more or fewer."""
    before = page.locator(".js-plotly-plot").count()
    started = time.perf_counter()
    page.get_by_text("Which pixels mattered?").click()
    page.wait_for_function(f"() => document.querySelectorAll('.js-plotly-plot').length != {before}")
    return time.perf_counter() - started


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def draw_latency_ms(browser, url: str) -> tuple[list[float], list[float]]:
    """Draw's mouse-up → "Prediction:" per drawing, in milliseconds: as the page itself times it
    (DRAW_TIMER_JS), and as seen from Playwright."""
    context, page = new_page(browser, url, "draw")
    in_page, from_playwright = [], []
    for _ in range(DRAWINGS):
        page.get_by_text("Draw a digit from 0 to 9").wait_for()
        draw_seven(page, release=False)
        page.evaluate(DRAW_TIMER_JS)
        started = time.perf_counter()
        page.mouse.up()
        page.get_by_text("Prediction:").wait_for()
        from_playwright.append((time.perf_counter() - started) * 1000)
        in_page.append(page.evaluate("window.drawTimer"))
        page.get_by_role("button", name="Clear").click()
    context.close()
    return in_page, from_playwright


def load_resnet50(browser, url: str, folder: Path) -> None:
    import numpy as np
    from PIL import Image

    photo = folder / "photo.jpg"
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (480, 640, 3), np.uint8)).save(photo)
    context, page = new_page(browser, url, "photos")
    page.locator("input[type=file]").set_input_files(str(photo))
    page.get_by_text("Top-1:").wait_for(timeout=300_000)
    context.close()


def seeded_resnet50_weights(folder: Path) -> Path:
    """Random ImageNet-shaped weights: the real ones cannot be downloaded here. Memory is what counts."""
    code = ("import keras, sys; from keras.applications import resnet50; keras.utils.set_random_seed(0); "
            "resnet50.ResNet50(weights=None).save_weights(sys.argv[1])")
    path = folder / "resnet50.weights.h5"
    subprocess.run([sys.executable, "-c", code, str(path)], check=True)
    return path


def memory_once_closed(browser, url: str, memory: MemoryWatch) -> float:
    """The servers' memory once Streamlit has dropped every closed session and the training
    processes have ended (WORKER_IDLE_SECONDS after their last training)."""
    time.sleep(SESSION_TTL_SECONDS + 5)
    # Streamlit drops expired sessions when another session disconnects: one short visit.
    context, _ = new_page(browser, url, "")
    time.sleep(2)
    context.close()
    time.sleep(5)
    deadline = time.monotonic() + WORKER_IDLE_SECONDS + 30
    while descendants(memory.pids) and time.monotonic() < deadline:
        time.sleep(1)
    if descendants(memory.pids):
        print(f"    (a training process is still running {WORKER_IDLE_SECONDS + 30:.0f} s on: counted)")
    return memory.now()
