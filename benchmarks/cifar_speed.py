"""Fast CIFAR: time to 79 % CIFAR-10 test accuracy on this machine, through the app's own job.

    PLAYGROUND_DATA_DIR=/tmp/cifar python benchmarks/cifar_speed.py [epochs] [preset name]

The folder must hold cifar10.npz (make it from ../shared/data with make_cifar10.py: a JPEG
copy of CIFAR-10, on which models score somewhat lower than on the official files). Trains
the "Fast CIFAR" preset with FAST_CIFAR_TRAINING (the settings the preset brings), and
prints after every epoch the training seconds so far and the validation accuracy, then the
test accuracy and images per second. Target: ≥ 79 % test accuracy in ≤ 600 s of training.
With a preset's name, trains that preset with the training it brings (PRESET_SETUPS), to
verify that it learns.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from playground.data.loading import load_dataset  # noqa: E402
from playground.jobs.job import TrainingJob  # noqa: E402
from playground.models.building import build_model  # noqa: E402
from playground.spec.presets import PRESET_SETUPS, preset  # noqa: E402
from playground.spec.settings import TrainingSettings  # noqa: E402

TARGET_ACCURACY, TARGET_SECONDS = 0.79, 600


def main() -> None:
    data = load_dataset("cifar10")
    name = sys.argv[2] if len(sys.argv) > 2 else "Fast CIFAR"
    settings = TrainingSettings(**PRESET_SETUPS[name]["training"])
    if len(sys.argv) > 1:
        settings = replace(settings, epochs=int(sys.argv[1]))
    print(f"{name} on {data.source} ({len(data.train_pixels):,} training images), {settings}")
    job = TrainingJob(build_model(preset(name), data.input_shape, seed=settings.seed), data, settings)
    print(f"{job.model.count_params():,} parameters, {job.batches_per_epoch} batches per epoch")
    job.start()
    started, shown = time.perf_counter(), 0
    while job.snapshot().active:
        points = job.snapshot().epoch_points
        for point in points[shown:]:
            print(f"  epoch {point['epoch']:2d}: val accuracy {point.get('val_accuracy', float('nan')):.2%}, "
                  f"train accuracy {point['accuracy']:.2%}, {time.perf_counter() - started:5.0f} s so far "
                  "(wall clock, with the queue wait and validation)",
                  flush=True)
        shown = len(points)
        time.sleep(1.0)
    snapshot = job.snapshot()
    if snapshot.state != "finished":
        raise RuntimeError(f"job ended {snapshot.state}: {snapshot.error}")
    seconds = snapshot.training_seconds
    accuracy = snapshot.evaluation.accuracy
    verdict = "met" if accuracy >= TARGET_ACCURACY and seconds <= TARGET_SECONDS else "NOT met"
    target = (f"; target ≥ {TARGET_ACCURACY:.0%} within {TARGET_SECONDS} s: {verdict}"
              if name == "Fast CIFAR" else "")
    print(f"Test accuracy {accuracy:.2%} after {seconds:.0f} s of training "
          f"({settings.epochs * len(job.train_pixels) / seconds:,.0f} images/s){target}")


if __name__ == "__main__":
    main()
