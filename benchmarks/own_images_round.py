"""The own-images round of benchmarks/classroom.py: learners who each hold a full set of
their own pictures (MAX_IMAGES), and train on it in turn, in real Chromium sessions."""

from __future__ import annotations

import io
import time
import zipfile
from pathlib import Path

import numpy as np
from browser import fill_number
from PIL import Image

from benchmarks.learners import RESULT_TIMEOUT_SECONDS, new_page, press
from playground.spec.own_images import MAX_IMAGES

ROUND_CLASSES = ("red", "green", "blue")
ROUND_EPOCHS = 2  # 30 learners' full sets, in turn, within a benchmark's patience
COLOURS = {"red": (200, 40, 40), "green": (40, 180, 60), "blue": (40, 60, 200)}


def full_set_zip(folder: Path) -> Path:
    """MAX_IMAGES phone-sized-down JPEGs (256 × 192) in three class folders."""
    rng = np.random.default_rng(0)
    path = folder / "full_set.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for number in range(MAX_IMAGES):
            name = ROUND_CLASSES[number % len(ROUND_CLASSES)]
            pixels = np.clip(np.asarray(COLOURS[name]) + rng.normal(0, 40, (192, 256, 3)), 0, 255)
            buffer = io.BytesIO()
            Image.fromarray(pixels.astype(np.uint8)).save(buffer, format="JPEG", quality=85)
            archive.writestr(f"{name}/{number:04d}.jpg", buffer.getvalue())
    return path


def learner_with_a_full_set(browser, url: str, zip_path: Path):
    context, page = new_page(browser, url, "own_images")
    page.get_by_text("1. Your classes").wait_for()
    uploader = page.locator("[data-testid='stFileUploader']").filter(has_text="One zip whose folders")
    uploader.locator("input[type=file]").set_input_files(str(zip_path))
    page.get_by_text(f"{MAX_IMAGES} of at most").wait_for()
    fill_number(page, "Epochs", ROUND_EPOCHS)
    page.wait_for_timeout(500)
    return context, page


def own_images_round(browser, url: str, learners: int, memory, zip_path: Path) -> dict:
    """Every learner fills a full set, then all press Train; the server's memory holding the
    sets, at its peak, and the seconds until the last learner's result."""
    memory.reset_peak()
    before = memory.now()
    pages = [learner_with_a_full_set(browser, url, zip_path) for _ in range(learners)]
    time.sleep(3)
    holding = memory.now()
    started = time.perf_counter()
    for _, page in pages:
        press(page, "Train")
    for _, page in pages:
        page.get_by_text("Test accuracy").wait_for(timeout=RESULT_TIMEOUT_SECONDS * 1000)
    result = {"before": before, "holding": holding, "peak": memory.peak,
              "training_peak": memory.training_peak, "last": time.perf_counter() - started}
    for context, _ in pages:
        context.close()
    return result
