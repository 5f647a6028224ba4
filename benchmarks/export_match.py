"""The exported script against the app: the Fast default trained both ways on all of MNIST.

    PLAYGROUND_DATA_DIR=../shared/data python benchmarks/export_match.py

Prints each one's test accuracy and the difference (target: within 1 point).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from playground.data.loading import load_dataset  # noqa: E402
from playground.jobs.job import TrainingJob  # noqa: E402
from playground.models.building import build_model  # noqa: E402
from playground.spec.presets import FAST_DEFAULT_TRAINING, preset  # noqa: E402
from playground.spec.settings import TrainingSettings  # noqa: E402
from playground.training.export import keras_script  # noqa: E402


def main() -> None:
    settings = TrainingSettings(**FAST_DEFAULT_TRAINING)
    stack = preset("Fast default")
    started = time.perf_counter()
    job = TrainingJob(build_model(stack, seed=settings.seed), load_dataset("mnist"), settings)
    job.start()
    job.join()
    app = job.snapshot().evaluation.accuracy
    print(f"app:    {app:.2%} test accuracy ({time.perf_counter() - started:.0f} s)")
    namespace: dict = {}
    exec(compile(keras_script(stack, settings, "mnist"), "exported.py", "exec"), namespace)
    started = time.perf_counter()
    script = namespace["main"]()
    print(f"script: {script:.2%} test accuracy ({time.perf_counter() - started:.0f} s)")
    print(f"difference: {abs(app - script) * 100:.2f} points (target ≤ 1)")


if __name__ == "__main__":
    main()
