"""Photos: ResNet50 top-3 speed, and the app's peak memory with ResNet50 and a training at once.

    PLAYGROUND_DATA_DIR=../shared/data python benchmarks/photos.py

Uses PLAYGROUND_RESNET50_WEIGHTS if set, else writes ResNet50 with seeded random weights
to a temporary file: speed and memory do not depend on the weights' values.

Speed (in this process, warm): bytes of a JPEG → decoded, cropped, classified, with
Grad-CAM. Targets: ≤ 0.5 s for a phone-sized photo, ≤ 1.0 s for a 12-megapixel JPEG.

Memory: `streamlit run app.py`; one Chromium session trains the Fast default on Build &
Train while another uploads three photos (one of 12 megapixels) on Photos. Prints the
resident memory of the server and the training process's own memory as it goes, and the
peak of their sum (sampled four times a second; see benchmarks/processes.py). Target ≤ 1.5 GB.

    PLAYGROUND_DATA_DIR=/tmp/cifar python benchmarks/photos.py --cifar

The same with one epoch of the Fast CIFAR preset on all of CIFAR-10 (the folder must hold
cifar10.npz; see benchmarks/cifar_speed.py). Target ≤ 2.5 GB.
"""

from __future__ import annotations

import io
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import numpy as np  # noqa: E402
from PIL import Image, ImageDraw  # noqa: E402

from playground.explain.photos import WEIGHTS_VARIABLE  # noqa: E402

CALLS = 20
SIZES = {"phone photo 1600×1200": (1600, 1200), "12 MP 4000×3000": (4000, 3000)}


def photo_like(width: int, height: int, seed: int = 0) -> bytes:
    """A JPEG with a photo's structure (gradients, shapes, sensor noise) and file size."""
    rng = np.random.default_rng(seed)
    rows, columns = np.mgrid[0:height, 0:width].astype(np.float32)
    sky = np.stack([90 + 60 * rows / height, 140 + 40 * columns / width, 230 - 50 * rows / height], axis=-1)
    image = Image.fromarray(np.clip(sky + rng.normal(0, 6, sky.shape), 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(image)
    for _ in range(40):
        x, y, size = rng.integers(0, width), rng.integers(0, height), rng.integers(width // 40, width // 8)
        draw.ellipse((x, y, x + size, y + size), fill=tuple(int(value) for value in rng.integers(0, 255, 3)))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


def seeded_weights(folder: str) -> str:
    import keras
    from keras.applications import resnet50

    keras.utils.set_random_seed(0)
    path = str(Path(folder) / "seeded_resnet50.weights.h5")
    resnet50.ResNet50(weights=None).save_weights(path)
    keras.backend.clear_session()
    return path


def speed(weights: str) -> None:
    from playground.data.images import open_picture
    from playground.explain.photos import INPUT_SIDE, PhotoClassifier, load_resnet50

    classifier = PhotoClassifier(load_resnet50(weights))
    print(f"Warm top-3 with Grad-CAM, decoding included, {CALLS} calls after a warm-up:")
    for label, (width, height) in SIZES.items():
        raw = photo_like(width, height)
        classifier.classify(open_picture(raw, "warm-up.jpg", smallest_side=INPUT_SIDE))
        seconds = []
        for _ in range(CALLS):
            started = time.perf_counter()
            classifier.classify(open_picture(raw, "photo.jpg", smallest_side=INPUT_SIDE))
            seconds.append(time.perf_counter() - started)
        ordered = sorted(seconds)
        print(f"  {label:<24} {len(raw) / 1e6:5.1f} MB   p50 {statistics.median(ordered):.3f} s   "
              f"p90 {ordered[int(0.9 * CALLS)]:.3f} s   worst {ordered[-1]:.3f} s")


def server_pid(port: int) -> int:
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if f"--server.port={port}".encode() in cmdline.read_bytes():
                return int(cmdline.parent.name)
        except OSError:
            continue
    raise RuntimeError(f"No Streamlit server on port {port}.")


def memory_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def memory(weights: str, folder: str, cifar: bool) -> None:
    from browser import choose_option, fill_number, launch_chromium, open_page, streamlit_server
    from playwright.sync_api import sync_playwright

    from benchmarks.processes import MemoryWatch

    paths = []
    for index, (width, height) in enumerate([(1600, 1200), (4000, 3000), (800, 600)]):
        paths.append(Path(folder) / f"photo{index}.jpg")
        paths[-1].write_bytes(photo_like(width, height, seed=index))
    with streamlit_server(ROOT, {WEIGHTS_VARIABLE: weights}) as url, sync_playwright() as playwright:
        pid = server_pid(int(url.rsplit(":", 1)[1]))
        watch = MemoryWatch([pid])

        def resident() -> str:
            return (f"{watch.servers():.0f} MB + training process {watch.training_processes():.0f} MB "
                    f"of its own ({watch.training_processes('VmRSS'):.0f} MB resident)")

        print(f"Server memory (pid {pid}): at start {resident()}")
        browser = launch_chromium(playwright)
        trainer = open_page(browser, f"{url}/build_train", timeout_ms=300_000)  # a session of its own
        trainer.get_by_text("press Train").wait_for()
        if cifar:
            choose_option(trainer, "Start from", "Fast CIFAR")
            trainer.get_by_text("310,026 parameters").wait_for()
        fill_number(trainer, "Epochs", 1 if cifar else 2)
        trainer.wait_for_timeout(500)
        trainer.get_by_role("button", name="Train", exact=True).click()
        trainer.get_by_text("images/s").first.wait_for()
        print(f"  training started:      {resident()}")
        viewer = open_page(browser, f"{url}/photos", timeout_ms=300_000)
        viewer.get_by_text("Upload one or more photos").wait_for()
        viewer.locator("input[type=file]").set_input_files([str(path) for path in paths])
        viewer.wait_for_function("() => document.body.innerText.split('Top-1:').length - 1 >= 3")
        print(f"  3 photos classified:   {resident()} "
              f"(training {'still running' if not trainer.get_by_text('Test accuracy').count() else 'done'})")
        trainer.get_by_text("Test accuracy").wait_for()
        print(f"  training finished:     {resident()}")
        server_peak = memory_kb(pid, "VmHWM") / 1024
        target = 2.5 if cifar else 1.5
        print(f"  peak memory:           {watch.peak:,.0f} MB (target ≤ {target} GB), of which "
              f"the training process's own at most {watch.training_peak:,.0f} MB; the server alone "
              f"{server_peak:,.0f} MB; counting the shared libraries twice {watch.resident_sum_peak:,.0f} MB")
        watch.close()
        browser.close()


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        weights = os.environ.get(WEIGHTS_VARIABLE) or seeded_weights(folder)
        cifar = "--cifar" in sys.argv
        if not cifar:
            worker = threading.Thread(target=speed, args=(weights,))
            worker.start()  # in a thread, as a Streamlit script thread would call it
            worker.join()
        memory(weights, folder, cifar)


if __name__ == "__main__":
    main()
