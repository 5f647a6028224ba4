"""Filters through training: what keeping moments costs in speed and memory.

    PLAYGROUND_DATA_DIR=../shared/data python benchmarks/moments.py

Speed: the Fast default trained for one epoch on all of MNIST through the job, with moments
kept and without, alternately, in pairs (this machine's speed drifts from minute to minute,
so ratios within a pair are steadier). Target: moments cost ≤ 5 % of training speed.
Memory: bytes per moment and moments kept, for the Fast default's first layer and for the
largest first layer the builder allows.
"""

from __future__ import annotations

import os
import statistics
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import keras  # noqa: E402

from playground.data.loading import load_dataset  # noqa: E402
from playground.jobs.job import TrainingJob  # noqa: E402
from playground.models.building import build_model  # noqa: E402
from playground.spec.presets import FAST_DEFAULT_TRAINING, preset  # noqa: E402
from playground.spec.settings import TrainingSettings  # noqa: E402
from playground.training.filter_history import (  # noqa: E402
    MOMENTS_BUDGET_BYTES,
    first_convolution,
    moment_bytes,
    moments_allowed,
)

PAIRS = 3


def images_per_second(data, keep_moments: bool) -> tuple[float, int]:
    settings = TrainingSettings(**FAST_DEFAULT_TRAINING)
    job = TrainingJob(build_model(preset("Fast default")), data, settings, keep_moments=keep_moments)
    job.start()
    job.join()
    snapshot = job.snapshot()
    return len(job.train_pixels) / snapshot.training_seconds, len(snapshot.moments)


def main() -> None:
    data = load_dataset("mnist")
    with_moments, without = [], []
    for pair in range(PAIRS):
        order = (True, False) if pair % 2 == 0 else (False, True)
        for keep in order:
            rate, kept = images_per_second(data, keep)
            (with_moments if keep else without).append(rate)
            if keep:
                moments_kept = kept
    ratios = [kept / plain for kept, plain in zip(with_moments, without, strict=True)]
    print(f"Fast default, one epoch of MNIST, {PAIRS} pairs:")
    print("  with moments     " + "  ".join(f"{rate:7,.0f}" for rate in with_moments) + "  images/s")
    print("  without          " + "  ".join(f"{rate:7,.0f}" for rate in without) + "  images/s")
    print(f"  with / without: median {statistics.median(ratios):.3f} (each pair "
          + ", ".join(f"{ratio:.3f}" for ratio in ratios) + "; target ≥ 0.95)")
    layer = first_convolution(build_model(preset("Fast default")))
    print(f"Memory: the Fast default keeps {moments_kept} moments of {moment_bytes(layer):,} bytes "
          f"({moments_kept * moment_bytes(layer) / 1024:.1f} kB in all)")
    largest = keras.layers.Conv2D(1024, 28)
    largest.build((None, 28, 28, 3))
    size, budget = moment_bytes(largest) / 2**20, MOMENTS_BUDGET_BYTES / 2**20
    print(f"  the largest first layer allowed (1,024 filters of 28 × 28 × 3): {size:.1f} MB a moment, "
          f"{moments_allowed(largest)} kept within the {budget:.0f} MB budget")


if __name__ == "__main__":
    main()
