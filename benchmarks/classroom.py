"""A classroom on one server: N learners in real Chromium sessions, and one who watches.

    PLAYGROUND_DATA_DIR=../shared/data python benchmarks/classroom.py [--learners 1 5 10] [--replicas 1]

Each learner opens Draw, Inspect (a test image) and Build & Train, then presses Train on
the default settings, all within seconds of each other. Meanwhile a watching learner keeps
clicking on Inspect (the "Which pixels mattered?" toggle, which reruns the page). Prints:
- per N: the time from the first Train until the last learner's result; the watcher's
  click-to-response p50 and p95; server peak memory and memory per session (the server's
  process and its training process together: see benchmarks/processes.py);
- the server's memory idle: fresh, with ResNet50 loaded (a photo on Photos), with every
  shared resource loaded (ResNet50, the default model, MNIST) once that session closed, and
  warm: once each kind of work has run once and its session closed (a training, which loads
  the training's tensor of the data set's bytes and TensorFlow's training runtime, and
  "Which pixels mattered?", which loads its gradient runtime; once per server); and after
  each round, once its sessions closed and its training process ended, against all four and
  against the first round;
- server CPU per trivial click (Clear on an empty canvas) on the fresh server and at the end;
- the machine's pace: the training seconds of one learner training alone, before the rounds
  and after them, and in each round the range of the learners' own training seconds. This
  machine's speed swings by about a third from one half hour to the next, and a round's time
  moves with it;
- Draw's mouse-up → "Prediction:" median with nobody training, timed by the page itself (and,
  for comparison, as Playwright sees it, up to 100 ms late).
With --replicas 2 or more, the learners go through nginx (deploy/replicas.py) and it also
prints how many sessions each replica served, and whether any session changed replica.

Targets on this 2-core machine: click p95 ≤ 1 s; for 10 learners the last result ≤ 2 min;
peak memory ≤ 2.5 GB with ResNet50 loaded; memory back within 10% of warm idle once the
sessions close; a trivial click ≤ 0.1 s of server CPU; Draw ≤ 150 ms.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "deploy")]

from browser import free_port, launch_chromium, wait_until_healthy  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402
from replicas import nginx_config, start_nginx, start_replica  # noqa: E402

from benchmarks.processes import MemoryWatch, descendants, own_cpu_seconds, server_cpu_seconds  # noqa: E402
from playground.jobs.worker_pool import WORKER_IDLE_SECONDS  # noqa: E402

# Streamlit keeps a closed tab's session this long (default 120 s) before it may drop it;
# shorter here so that the memory after closing can be read within the benchmark.
SESSION_TTL_SECONDS = 10
RESULT_TIMEOUT_SECONDS = 20 * 60
TRIVIAL_CLICKS = 5
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

# When a learner's result shows, noted by the page itself. Asking from Python instead, with a
# search of each waiting page's text every loop, took Chromium and the Playwright driver CPU
# that a classroom's own browsers never spend, on the cores that train.
RESULT_WATCH_JS = """() => {
  window.resultShownAt = null;
  const shown = () => [...document.querySelectorAll("[data-testid='stMetricLabel']")].some(
    (label) => label.textContent.includes("Test accuracy"));
  const watcher = new MutationObserver(() => {
    if (!shown()) return;
    window.resultShownAt = Date.now();
    watcher.disconnect();
  });
  watcher.observe(document.body, {subtree: true, childList: true, characterData: true});
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


def trivial_click_cpu(browser, url: str, pids: list[int]) -> float:
    """Server CPU seconds per click on Clear with an empty canvas, idle CPU subtracted."""
    context, page = new_page(browser, url, "draw")
    page.get_by_text("Draw a digit from 0 to 9").wait_for()
    time.sleep(2)
    idle_start = server_cpu_seconds(pids)
    time.sleep(TRIVIAL_CLICKS * 1.5)
    idle = server_cpu_seconds(pids) - idle_start
    start = server_cpu_seconds(pids)
    for _ in range(TRIVIAL_CLICKS):
        page.get_by_role("button", name="Clear").click()
        time.sleep(1.5)
    busy = server_cpu_seconds(pids) - start
    context.close()
    return max(0.0, busy - idle) / TRIVIAL_CLICKS


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


def classroom(browser, url: str, learners: int, memory: MemoryWatch, pids: list[int]) -> dict:
    renderers_before = renderers()
    watcher_context, watcher = new_page(browser, url, "inspect", height=2400)
    open_test_image(watcher)
    watcher_renderers = renderers() - renderers_before  # a browser context has a renderer of its own
    memory.reset_peak()
    before = memory.now()
    pages = [learner_ready_to_train(browser, url) for _ in range(learners)]
    browsers = BrowserCpu()
    time.sleep(1)
    server_before, browsers_before = server_cpu_seconds(pids), browsers.total()
    watcher_before = browsers.total(watcher_renderers)
    for _, page in pages:
        page.evaluate(RESULT_WATCH_JS)
    started, started_clock = time.perf_counter(), time.time()  # the pages tell the clock's time
    for _, page in pages:
        press(page, "Train")
    clicks, finished = [], {}
    while len(finished) < learners and time.perf_counter() - started < RESULT_TIMEOUT_SECONDS:
        clicks.append(toggle_response_seconds(watcher))
        for index, (_, page) in enumerate(pages):
            shown_at = None if index in finished else page.evaluate("window.resultShownAt")
            if shown_at is not None:
                finished[index] = shown_at / 1000 - started_clock
        time.sleep(0.5)
    result = {"last": max(finished.values()) if len(finished) == learners else None, "clicks": clicks,
              "peak": memory.peak, "per_session": (memory.peak - before) / learners,
              "training_peak": memory.training_peak, "resident_sum_peak": memory.resident_sum_peak,
              "server_cpu": server_cpu_seconds(pids) - server_before,
              "browser_cpu": browsers.total() - browsers_before,
              "watcher_cpu": browsers.total(watcher_renderers) - watcher_before,
              "seconds": time.perf_counter() - started,
              "training_seconds": ([training_seconds_shown(page) for _, page in pages]
                                   if len(finished) == learners else [])}
    browsers.close()
    for context, _ in pages:
        context.close()
    watcher_context.close()
    return result


def change(after: float, before: float) -> str:
    return f"{after - before:+,.0f} MB ({(after - before) / before:+.1%})"


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


def replica_spread(access_log: Path) -> tuple[dict, int]:
    """Sessions (browser keys with a WebSocket) per replica, and keys seen on more than one replica."""
    replicas_of = defaultdict(set)
    for line in access_log.read_text().splitlines():
        key, upstream, request = line.split(" ", 2)
        if "/_stcore/stream" in request and key != "-":
            replicas_of[key].add(upstream)
    sessions = defaultdict(int)
    for upstreams in replicas_of.values():
        for upstream in upstreams:
            sessions[upstream] += 1
    return dict(sessions), sum(len(upstreams) > 1 for upstreams in replicas_of.values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--learners", type=int, nargs="+", default=[1, 5, 10])
    parser.add_argument("--replicas", type=int, default=1)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as name, sync_playwright() as playwright:
        folder = Path(name)
        os.environ["PLAYGROUND_RESNET50_WEIGHTS"] = str(seeded_resnet50_weights(folder))
        browser = launch_chromium(playwright)
        with servers(arguments.replicas, folder) as (url, pids, access_log):
            memory = MemoryWatch(pids)
            time.sleep(3)
            print(f"{arguments.replicas} replica(s); server memory idle: {memory.now():,.0f} MB")
            print(f"trivial click, fresh server: {trivial_click_cpu(browser, url, pids):.3f} s of server CPU")
            load_resnet50(browser, url, folder)
            idle = memory.now()
            print(f"with ResNet50 loaded (one photo on Photos): {idle:,.0f} MB")
            context, _ = learner_ready_to_train(browser, url)  # loads the default model and MNIST
            context.close()
            shared = memory_once_closed(browser, url, memory)
            print(f"with every shared resource loaded (ResNet50, the default model, MNIST) and no session "
                  f"open: {shared:,.0f} MB")
            lone_at_start = lone_training(browser, url)
            print(f"a lone training of the default, nobody else on the server: {lone_at_start:.1f} s "
                  "(the machine's pace now)")
            toggle_once(browser, url)
            warm = memory_once_closed(browser, url, memory)
            print(f"warm: once a training and 'Which pixels mattered?' have run, their session "
                  f"closed: {warm:,.0f} MB")
            after_first = None
            for learners in arguments.learners:
                result = classroom(browser, url, learners, memory, pids)
                last = "not all within the timeout" if result["last"] is None else f"{result['last']:.0f} s"
                clicks = result["clicks"]
                p50, p95 = statistics.median(clicks) * 1000, percentile(clicks, 0.95) * 1000
                print(f"{learners:>2} learners: last result after {last}; watcher's clicks (n={len(clicks)}) "
                      f"p50 {p50:,.0f} ms, p95 {p95:,.0f} ms; "
                      f"peak {result['peak']:,.0f} MB (the training process's own memory at most "
                      f"{result['training_peak']:,.0f} MB; {result['resident_sum_peak']:,.0f} MB counting "
                      f"shared libraries twice), {result['per_session']:,.0f} MB per session")
                seconds = result["seconds"]
                if result["training_seconds"]:
                    print(f"    each learner's training took {min(result['training_seconds']):.1f}–"
                          f"{max(result['training_seconds']):.1f} s (a lone one: {lone_at_start:.1f} s)")
                print(f"    CPU over those {seconds:.0f} s (2 cores: {2 * seconds:.0f} CPU s): server "
                      f"{result['server_cpu']:.0f} s, Chromium {result['browser_cpu']:.0f} s (of which the "
                      f"watcher's page {result['watcher_cpu']:.0f} s)")
                after = memory_once_closed(browser, url, memory)
                after_first = after_first or after
                print(f"    once these sessions closed: {after:,.0f} MB; against idle with ResNet50 "
                      f"{change(after, idle)}; against every shared resource loaded {change(after, shared)}; "
                      f"against warm {change(after, warm)}; "
                      f"against the first round {after - after_first:+,.0f} MB")
            print(f"trainings in all: {sum(arguments.learners)}")
            print(f"trivial click at the end: {trivial_click_cpu(browser, url, pids):.3f} s of server CPU")
            print(f"a lone training at the end: {lone_training(browser, url):.1f} s "
                  f"(at the start: {lone_at_start:.1f} s)")
            in_page, from_playwright = draw_latency_ms(browser, url)
            print(f"Draw, mouse-up to the frame that draws 'Prediction:', timed in the page "
                  f"(n={len(in_page)}): "
                  f"median {statistics.median(in_page):.0f} ms, max {max(in_page):.0f} ms; seen from "
                  f"Playwright, which polls: median {statistics.median(from_playwright):.0f} ms, "
                  f"max {max(from_playwright):.0f} ms")
            if access_log is not None:
                spread, moved = replica_spread(access_log)
                print(f"sessions per replica: {spread}; sessions that changed replica: {moved}")
            memory.close()
        browser.close()


if __name__ == "__main__":
    main()
