"""Faults injected into a running server with real browser sessions, and what the learners saw.

    PLAYGROUND_DATA_DIR=../shared/data python benchmarks/faults.py [--only NAME ...]

One server, MAX_TRAININGS 1, learners in Chromium. For each fault it prints what each
learner's page said, in one line, whether anything was lost (the learner trains again; the
others in line go on, in order), whether the server still answers, and its memory once the
fault's sessions have closed and its training processes ended, against before the fault.
Targets: a one-line message, nothing lost, the server up, memory back within 5 %.

Faults (NAME):
- killed: the training process killed (SIGKILL) mid-epoch;
- killed-in-line: the same while two learners wait in line;
- hung: a training process that never answers (SIGSTOP), its learner pressing Stop;
- memory: one training over the memory budget (a batch of 4,096, which the server refuses
  before training), then one within it whose training process has room for little more than
  it holds (its address space limited);
- upload: a browser that closes while its model upload is on its way (a slow upload);
- cut: the learner's WebSocket cut mid-training, reconnecting at once; then cut off for 10 s.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import resource
import signal
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.flaky_network import Proxy  # noqa: E402
from benchmarks.learners import RESULT_TIMEOUT_SECONDS, memory_once_closed, new_page, press, servers  # noqa: E402
from benchmarks.processes import MemoryWatch, descendants  # noqa: E402

# isort: split
from browser import fill_number, launch_chromium  # noqa: E402 - on the path learners sets
from playwright.sync_api import sync_playwright  # noqa: E402

from playground.jobs.process_link import STOP_ANSWER_SECONDS  # noqa: E402

FAULTS = ("killed", "killed-in-line", "hung", "memory", "upload", "cut")
MESSAGE_TIMEOUT_MS = 1000 * (STOP_ANSWER_SECONDS + 30)
MEMORY_HEADROOM = 40 * 2**20  # the training process may grow this much past its size then
UPLOAD_BYTES = 15 * 2**20
SCREENSHOTS = Path(__file__).resolve().parent.parent / "test-artifacts"  # what a learner saw, to look at


def status_line(page) -> str:
    """What the page says of its training now: its error, result, line or progress, one line."""
    main = page.get_by_test_id("stMainBlockContainer")
    kinds = ("stAlertContentError", "stAlertContentWarning", "stMetric", "stProgress", "stAlertContentInfo")
    for test_id in kinds:
        found = main.get_by_test_id(test_id)
        if found.count():
            return " ".join(found.first.inner_text().split())[:200]
    return "(nothing yet)"


def learner(browser, url: str, epochs: int, images: int = 2000):
    context, page = new_page(browser, url, "build_train")
    page.get_by_text("press Train").wait_for()
    fill_number(page, "Training images", images)
    fill_number(page, "Epochs", epochs)
    page.wait_for_timeout(300)
    return context, page


def train(page) -> None:
    press(page, "Train")


def training_process(pids: list[int]) -> int:
    """The server's one training process (MAX_TRAININGS 1), once it exists."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        found = descendants(pids)
        if found:
            return found[0]
        time.sleep(0.2)
    raise RuntimeError("no training process appeared")


def wait_for_batches(page) -> None:
    page.get_by_text("images/s").first.wait_for(timeout=RESULT_TIMEOUT_SECONDS * 1000)


def server_answers(url: str) -> bool:
    with contextlib.suppress(OSError), urllib.request.urlopen(f"{url}/_stcore/health", timeout=5) as answer:
        return answer.status == 200
    return False


def trains_again(page) -> bool:
    """Train once more (the page's own settings, shortened); True if a result shows."""
    fill_number(page, "Epochs", 1)
    page.wait_for_timeout(300)
    train(page)
    try:
        page.get_by_text("Test accuracy").wait_for(timeout=RESULT_TIMEOUT_SECONDS * 1000)
    except Exception:  # noqa: BLE001 - reported as not trained
        return False
    return True


def result_moment(page) -> float | None:
    """When the page showed its test accuracy (time.monotonic), waiting for it."""
    try:
        page.get_by_text("Test accuracy").wait_for(timeout=RESULT_TIMEOUT_SECONDS * 1000)
    except Exception:  # noqa: BLE001
        return None
    return time.monotonic()


def fault_killed(browser, url, pids) -> dict:
    context, page = learner(browser, url, epochs=50)
    train(page)
    wait_for_batches(page)
    os.kill(training_process(pids), signal.SIGKILL)
    page.get_by_text("Training failed").wait_for(timeout=MESSAGE_TIMEOUT_MS)
    said = status_line(page)
    again = trains_again(page)
    context.close()
    return {"saw": {"learner": said}, "lost": not again, "order": True}


def fault_killed_in_line(browser, url, pids) -> dict:
    first_context, first = learner(browser, url, epochs=50)
    train(first)
    wait_for_batches(first)
    waiting = [learner(browser, url, epochs=1) for _ in range(2)]
    for _, page in waiting:
        train(page)
        page.get_by_text("in line").first.wait_for()
    os.kill(training_process(pids), signal.SIGKILL)
    first.get_by_text("Training failed").wait_for(timeout=MESSAGE_TIMEOUT_MS)
    saw = {"training": status_line(first)}
    moments = [result_moment(page) for _, page in waiting]
    saw |= {f"in line {index + 1}": status_line(page) for index, (_, page) in enumerate(waiting)}
    in_order = None not in moments and moments[0] <= moments[1]
    again = trains_again(first)
    for context, _ in [(first_context, first), *waiting]:
        context.close()
    return {"saw": saw, "lost": not again or None in moments, "order": in_order}


def fault_hung(browser, url, pids) -> dict:
    first_context, first = learner(browser, url, epochs=50)
    train(first)
    wait_for_batches(first)
    second_context, second = learner(browser, url, epochs=1)
    train(second)
    second.get_by_text("in line").first.wait_for()
    os.kill(training_process(pids), signal.SIGSTOP)
    time.sleep(2)
    press(first, "Stop")
    stopped = time.monotonic()
    first.get_by_text("Training failed").wait_for(timeout=MESSAGE_TIMEOUT_MS)
    saw = {"learner": status_line(first) + f" (after {time.monotonic() - stopped:.0f} s)"}
    next_result = result_moment(second)
    saw["in line"] = status_line(second)
    again = trains_again(first)
    first_context.close()
    second_context.close()
    return {"saw": saw, "lost": not again or next_result is None, "order": next_result is not None}


def fault_memory(browser, url, pids) -> dict:
    """First a batch the server's budget refuses before training; then one within the budget,
    run by a training process whose address space has room for little more than it holds."""
    context, page = learner(browser, url, epochs=1, images=20_000)
    saw = {}
    fill_number(page, "Batch size", 4096)
    page.wait_for_timeout(300)
    train(page)
    page.get_by_test_id("stAlertContentError").first.wait_for()
    saw["over the budget"] = status_line(page)
    fill_number(page, "Batch size", 1024)  # within the budget
    process = training_process(pids)
    time.sleep(8)  # started ahead and got ready: its size now is what a training starts from
    size = int(Path(f"/proc/{process}/status").read_text().split("VmSize:")[1].split()[0]) * 1024
    resource.prlimit(process, resource.RLIMIT_AS, (size + MEMORY_HEADROOM, size + MEMORY_HEADROOM))
    train(page)
    outcome = page.get_by_text("Training failed").or_(page.get_by_text("Test accuracy"))
    outcome.first.wait_for(timeout=RESULT_TIMEOUT_SECONDS * 1000)
    saw["past its process's memory"] = status_line(page)
    fill_number(page, "Batch size", 128)
    again = trains_again(page)
    context.close()
    return {"saw": saw, "lost": not again, "order": True}


def fault_upload(browser, url, pids, folder: Path) -> dict:
    """A slow upload cut off by its tab closing; meanwhile another learner trains."""
    trainer_context, trainer = learner(browser, url, epochs=2)
    train(trainer)
    wait_for_batches(trainer)
    path = folder / "big.keras"
    path.write_bytes(b"PK\x03\x04" + os.urandom(UPLOAD_BYTES))
    context, page = new_page(browser, url, "build_train")
    page.get_by_text("Keep the work").click()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", {"offline": False, "latency": 50,
                                                  "downloadThroughput": 5_000_000,
                                                  "uploadThroughput": 500_000})  # 15 MB: about 30 s
    page.locator("input[type=file]").first.set_input_files(str(path))
    time.sleep(3)
    context.close()
    finished = result_moment(trainer)
    saw = {"trainer": status_line(trainer)}
    other_context, other = new_page(browser, url, "build_train")
    other.get_by_text("Keep the work").click()
    small = folder / "small.keras"
    small.write_bytes(b"not a model")
    other.locator("input[type=file]").first.set_input_files(str(small))
    other.get_by_text("small.keras:").wait_for()
    saw["next uploader"] = status_line(other)
    trainer_context.close()
    other_context.close()
    return {"saw": saw, "lost": finished is None, "order": True}


def progress(page) -> str:
    return " ".join(page.get_by_test_id("stProgress").first.inner_text().split())


def fault_cut(browser, url, pids) -> dict:
    proxy = Proxy(int(url.rsplit(":", 1)[1]))
    through = f"http://127.0.0.1:{proxy.port}"
    saw = {}
    context, page = learner(browser, through, epochs=30, images=20_000)
    train(page)
    wait_for_batches(page)
    proxy.cut()  # reconnects at once
    time.sleep(5)
    before = progress(page)
    time.sleep(3)
    saw["cut, back at once"] = f"{before} → 3 s later {progress(page)}"
    proxy.cut(refuse_seconds=10)  # longer than a job's grace for a page that has gone
    time.sleep(14)
    saw["cut off for 10 s"] = status_line(page)
    time.sleep(3)
    saw["3 s later"] = status_line(page)
    page.screenshot(path=str(SCREENSHOTS / "fault-cut.png"))
    finished = None
    if page.get_by_test_id("stMainBlockContainer").get_by_role("button", name="Stop").is_enabled():
        press(page, "Stop")
        finished = result_moment(page)
    saw["then"] = status_line(page)
    again = trains_again(page) if finished is None else True
    context.close()
    proxy.close()
    return {"saw": saw, "lost": not again, "order": True}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="+", choices=FAULTS, default=list(FAULTS))
    arguments = parser.parse_args()
    os.environ["PLAYGROUND_MAX_TRAININGS"] = "1"
    SCREENSHOTS.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as name, sync_playwright() as playwright:
        folder = Path(name)
        browser = launch_chromium(playwright)
        with servers(1, folder) as (url, pids, _):
            memory = MemoryWatch(pids)
            context, page = learner(browser, url, epochs=1)  # loads MNIST and the training runtime
            train(page)
            result_moment(page)
            context.close()
            before = memory_once_closed(browser, url, memory)
            print(f"server warm and idle: {before:,.0f} MB")
            for fault in arguments.only:
                started = time.monotonic()
                run = globals()[f"fault_{fault.replace('-', '_')}"]
                outcome = run(browser, url, pids, folder) if fault == "upload" else run(browser, url, pids)
                after = memory_once_closed(browser, url, memory)
                print(f"{fault} ({time.monotonic() - started:.0f} s):")
                for who, line in outcome["saw"].items():
                    print(f"    {who} saw: {line}")
                print(f"    lost: {'yes' if outcome['lost'] else 'nothing'}; line in order: "
                      f"{'yes' if outcome['order'] else 'NO'}; server answers: "
                      f"{'yes' if server_answers(url) else 'NO'}; memory once closed {after:,.0f} MB, "
                      f"{(after - before) / before:+.1%} against before the faults")
            memory.close()
        browser.close()


if __name__ == "__main__":
    main()
