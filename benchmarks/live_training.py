"""The cost of watching training live: the Build & Train page open in Chromium.

    PLAYGROUND_DATA_DIR=../shared/data python benchmarks/live_training.py

Trains the Fast default for one epoch on all of MNIST twice: once as a bare
`TrainingJob` (in its training process), with nobody watching, and once from the page in Chromium,
whose script thread redraws the progress bar and both charts every 0.4 s. Prints images
per second for both, their ratio, and how often the loss chart gained points in the
browser (target: at least 2 updates a second, with training not slowed).
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import keras  # noqa: E402
from browser import chart_point_counts, fill_number, launch_chromium, open_page, streamlit_server  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

from playground.data.loading import load_dataset  # noqa: E402
from playground.jobs.job import TrainingJob  # noqa: E402
from playground.models.building import build_model  # noqa: E402
from playground.spec.presets import FAST_DEFAULT_TRAINING, preset  # noqa: E402
from playground.spec.settings import TrainingSettings  # noqa: E402

EPOCHS = 1
REPEATS = int(os.environ.get("REPEATS", 3))


def unwatched_rate() -> float:
    keras.utils.set_random_seed(0)
    settings = TrainingSettings(**{**FAST_DEFAULT_TRAINING, "epochs": EPOCHS})
    job = TrainingJob(build_model(preset("Fast default")), load_dataset("mnist"), settings)
    job.start()
    job.join()
    return EPOCHS * len(job.train_pixels) / job.snapshot().training_seconds, len(job.train_pixels)


def chromium_cpu_seconds() -> float:
    """User plus system CPU time of every Chromium process, from /proc."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)
        except OSError:
            continue
        if "chrom" in fields[0]:
            values = fields[1].split()
            total += (int(values[11]) + int(values[12])) / os.sysconf("SC_CLK_TCK")
    return total


def watched_run(train_images: int) -> tuple[float, list[tuple[float, int]]]:
    with streamlit_server(ROOT) as url, sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        page = open_page(browser, f"{url}/build_train")
        page.get_by_text("press Train").wait_for()
        fill_number(page, "Epochs", EPOCHS)
        page.wait_for_timeout(500)
        page.get_by_role("button", name="Train", exact=True).click()
        page.get_by_text("images/s").first.wait_for()
        browser_cpu = chromium_cpu_seconds()
        updates: list[tuple[float, int]] = []
        while not page.get_by_text("Test accuracy").count():
            counts = chart_point_counts(page)
            if counts and (not updates or counts[0] != updates[-1][1]):
                updates.append((time.perf_counter(), counts[0]))
            time.sleep(0.05)
        seconds = float(page.get_by_test_id("stMetricValue").nth(2).inner_text().rstrip(" s"))
        print(f"  Chromium used {chromium_cpu_seconds() - browser_cpu:.1f} CPU seconds during the run")
        browser.close()
    return EPOCHS * train_images / seconds, updates


def main() -> None:
    alone_rates, watched_rates = [], []
    for _ in range(REPEATS):  # alternate: this machine's speed drifts from minute to minute
        alone, train_images = unwatched_rate()
        watched, updates = watched_run(train_images)
        alone_rates.append(alone)
        watched_rates.append(watched)
    alone, watched = statistics.median(alone_rates), statistics.median(watched_rates)
    span = updates[-1][0] - updates[0][0] if len(updates) > 1 else float("nan")
    print(f"Fast default, {EPOCHS} epoch on {train_images:,} MNIST images:")
    print("  job alone                 " + "  ".join(f"{rate:6,.0f}" for rate in alone_rates) + " images/s")
    print("  page open in Chromium     " + "  ".join(f"{rate:6,.0f}" for rate in watched_rates) + " images/s")
    print(f"  ratio watched / alone (medians): {watched / alone:.3f}")
    rate = (len(updates) - 1) / span
    print(f"  loss chart updates seen   {len(updates)} in {span:.1f} s = {rate:.1f} per second")


if __name__ == "__main__":
    main()
