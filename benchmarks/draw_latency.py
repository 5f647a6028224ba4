"""Drawing → probabilities on the server, as the Draw page does it on each stroke.

    python benchmarks/draw_latency.py

Each sample starts from the PNG the canvas sends, so decoding is counted, then
preprocessing and inference with the default model (`Classifier.probabilities`, which calls
`model.predict_on_batch`). Prints p50/p90 in milliseconds, and the same inference as a direct
(eager) call of the model and through `model.predict`, for comparison. Target: p50 ≤ 30 ms.
"""

from __future__ import annotations

import base64
import io
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
from PIL import Image, ImageDraw  # noqa: E402

from playground.data.drawing import preprocess_digit  # noqa: E402
from playground.models.building import load_default_classifier  # noqa: E402

SAMPLES = 200
CANVAS = 300


def canvas_png(rng: np.random.Generator) -> str:
    """A random three-segment stroke, as a data URL like the canvas component sends."""
    image = Image.new("RGBA", (CANVAS, CANVAS), "black")
    points = [tuple(rng.integers(30, CANVAS - 30, 2).tolist()) for _ in range(4)]
    ImageDraw.Draw(image).line(points, fill="white", width=22, joint="curve")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def decode(data_url: str) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(data_url.split(",", 1)[1]))))


def percentiles(milliseconds: list[float]) -> str:
    ordered = sorted(milliseconds)
    return (f"p50 {statistics.median(ordered):6.2f} ms   p90 {ordered[int(0.9 * len(ordered))]:6.2f} ms"
            f"   max {ordered[-1]:6.2f} ms")


def main() -> None:
    classifier = load_default_classifier()
    rng = np.random.default_rng(0)
    drawings = [canvas_png(rng) for _ in range(SAMPLES)]
    stages = {"decode PNG": [], "preprocess": [], "inference": [], "total": []}
    direct_ms, predict_ms = [], []
    for data_url in drawings:
        start = time.perf_counter()
        pixels = decode(data_url)
        decoded = time.perf_counter()
        digit = preprocess_digit(pixels)
        prepared = time.perf_counter()
        classifier.probabilities(digit)
        finished = time.perf_counter()
        for name, seconds in zip(stages, (decoded - start, prepared - decoded, finished - prepared,
                                          finished - start), strict=True):
            stages[name].append(seconds * 1000)
        start = time.perf_counter()
        np.asarray(classifier.model(digit[np.newaxis], training=False))
        direct_ms.append((time.perf_counter() - start) * 1000)
        start = time.perf_counter()
        classifier.model.predict(digit[np.newaxis], verbose=0)
        predict_ms.append((time.perf_counter() - start) * 1000)
    print(f"Draw latency over {SAMPLES} drawings ({CANVAS}×{CANVAS} canvas, default model)")
    for name, values in stages.items():
        print(f"  {name:<26} {percentiles(values)}")
    print(f"  {'inference (direct call)':<26} {percentiles(direct_ms)}")
    print(f"  {'inference (model.predict)':<26} {percentiles(predict_ms)}")
    inference = statistics.median(stages["inference"])
    print(f"  p50 ratios to the inference used: direct call {statistics.median(direct_ms) / inference:.1f}×, "
          f"model.predict {statistics.median(predict_ms) / inference:.1f}×")
    total = statistics.median(stages["total"])
    print(f"  target p50 ≤ 30 ms: {'met' if total <= 30 else 'NOT met'} ({total:.2f} ms)")


if __name__ == "__main__":
    main()
