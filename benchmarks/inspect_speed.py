"""All activations for one input from one forward pass (Inspect's core), for each preset.

    python benchmarks/inspect_speed.py

Prints p50 and p90 in milliseconds over 50 calls after a warm-up. Target for the course
notes' Conv256/Conv128 preset: ≤ 100 ms.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

from playground.explain.inspection import ActivationProbe  # noqa: E402
from playground.models.building import build_model  # noqa: E402
from playground.spec.presets import PRESETS, preset  # noqa: E402

CALLS = 50


def main() -> None:
    image = np.random.default_rng(0).random((28, 28, 1)).astype(np.float32)
    print(f"All activations for one image, {CALLS} calls after a warm-up:")
    for name in PRESETS:
        probe = ActivationProbe(build_model(preset(name)))
        probe.activations(image)
        milliseconds = []
        for _ in range(CALLS):
            started = time.perf_counter()
            probe.activations(image)
            milliseconds.append((time.perf_counter() - started) * 1000)
        ordered = sorted(milliseconds)
        p50, p90 = statistics.median(ordered), ordered[int(0.9 * CALLS)]
        print(f"  {name:<45} p50 {p50:6.1f} ms   p90 {p90:6.1f} ms")


if __name__ == "__main__":
    main()
