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
With --own-images N, a last round: N learners each upload a full set of their own pictures
(a zip of MAX_IMAGES photos) on Your images, then all train on them, in turn; it prints the
server's memory holding the sets, its peak, and its memory once they closed.
With --room N, a class board: the server CPU of the teacher's board open (idle, and with a
result arriving every 2 s), then N learners who join the room and train in turn, and how soon
after each training's end the teacher's board shows its result. Targets: the board's updates
≤ 5 % of a core; every result on the board ≤ 3 s after its training's end.
With --replicas 2 or more, the learners go through nginx (deploy/replicas.py) and it also
prints how many sessions each replica served, and whether any session changed replica.

Targets on this 2-core machine: click p95 ≤ 1 s; for 10 learners the last result ≤ 2 min;
peak memory ≤ 2.5 GB with ResNet50 loaded; memory back within 10% of warm idle once the
sessions close; a trivial click ≤ 0.1 s of server CPU; Draw ≤ 150 ms.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "deploy")]

from browser import launch_chromium  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

from benchmarks.learners import (  # noqa: E402
    RESULT_TIMEOUT_SECONDS,
    BrowserCpu,
    draw_latency_ms,
    learner_ready_to_train,
    load_resnet50,
    lone_training,
    memory_once_closed,
    new_page,
    open_test_image,
    percentile,
    press,
    renderers,
    seeded_resnet50_weights,
    servers,
    toggle_once,
    toggle_response_seconds,
    training_seconds_shown,
)
from benchmarks.own_images_round import (  # noqa: E402
    ROUND_EPOCHS,
    full_set_zip,
    learner_with_a_full_set,
    own_images_round,
)
from benchmarks.processes import MemoryWatch, server_cpu_seconds  # noqa: E402
from benchmarks.room_round import board_cost, board_delays  # noqa: E402
from playground.board.store import DATABASE_URL_VARIABLE, Store  # noqa: E402
from playground.spec.own_images import MAX_IMAGES  # noqa: E402

TRIVIAL_CLICKS = 5

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


def report_own_images_round(browser, url: str, learners: int, memory: MemoryWatch, folder: Path) -> None:
    zip_path = full_set_zip(folder)
    context, page = learner_with_a_full_set(browser, url, zip_path)  # its runtime, loaded once
    press(page, "Train")
    page.get_by_text("Test accuracy").wait_for()
    context.close()
    warm = memory_once_closed(browser, url, memory)
    print(f"own images, warm (one full set trained, its session closed): {warm:,.0f} MB")
    result = own_images_round(browser, url, learners, memory, zip_path)
    per_session = (result["holding"] - result["before"]) / learners
    print(f"{learners:>2} learners with full sets of their own ({MAX_IMAGES} pictures each, "
          f"{ROUND_EPOCHS} epochs): holding them {result['holding']:,.0f} MB "
          f"({per_session:,.1f} MB per session), peak {result['peak']:,.0f} MB "
          f"(the training process at most {result['training_peak']:,.0f} MB); last result after "
          f"{result['last']:.0f} s")
    after = memory_once_closed(browser, url, memory)
    print(f"    once these sessions closed: {after:,.0f} MB; against own-images warm {change(after, warm)}")


def report_room(browser, url: str, learners: int, pids: list[int]) -> None:
    store = Store(os.environ[DATABASE_URL_VARIABLE])
    cost = board_cost(browser, url, pids, store, learners)
    print(f"class board, server CPU as a share of one core: nothing open {cost['baseline']:.1%}; the "
          f"teacher's board open and idle {cost['idle']:.1%} (+{cost['idle'] - cost['baseline']:.1%}); "
          f"with a result arriving every 2 s ({cost['posts']} results, {cost['shown']} on the board) "
          f"{cost['posting']:.1%} (+{cost['posting'] - cost['baseline']:.1%})")
    room = board_delays(browser, url, learners, store)
    delays = room["delays"]
    if delays:
        print(f"class board, {learners} learners training the default in turn: {room['posted']} results "
              f"posted, {room['shown']} shown; from a training's end to the teacher's board showing it: "
              f"median {statistics.median(delays):.2f} s, max {max(delays):.2f} s")
    else:
        print(f"class board: no result reached the board ({room['posted']} posted)")
    store.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--learners", type=int, nargs="*", default=[1, 5, 10])
    parser.add_argument("--replicas", type=int, default=1)
    parser.add_argument("--own-images", type=int, default=0, metavar="LEARNERS",
                        help="then a round of learners who each hold a full set of their own pictures")
    parser.add_argument("--room", type=int, default=0, metavar="LEARNERS",
                        help="then a class board: its cost to the server, and LEARNERS posting to it")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as name, sync_playwright() as playwright:
        folder = Path(name)
        os.environ.setdefault(DATABASE_URL_VARIABLE, f"sqlite:///{folder / 'board.sqlite'}")
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
            if arguments.own_images:
                report_own_images_round(browser, url, arguments.own_images, memory, folder)
            if arguments.room:
                report_room(browser, url, arguments.room, pids)
            print(f"trainings in all: {sum(arguments.learners) + arguments.own_images + arguments.room}")
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
