"""Transfer learning: the shipped digit model's frozen convolutions under a new head, against
the same network trained from scratch, on 1,000 and on 5,000 Fashion-MNIST images.

    python benchmarks/transfer.py

Fashion-MNIST comes from Debian's dataset-fashion-mnist (or PLAYGROUND_DATA_DIR). Both
networks have the digit model's architecture (its convolutions, then Flatten, Dense 128 and
Dense 10) and the same training settings; only the starting point differs. Prints each test
accuracy (on all 10,000 Fashion-MNIST test images) and training time, and the frozen
model's after fine-tuning (the base unfrozen, batch norm kept frozen, at a tenth of the rate).
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
from playground.models import transfer as learning  # noqa: E402
from playground.models.building import build_model, load_default_classifier  # noqa: E402
from playground.spec.layers import make_layer  # noqa: E402
from playground.spec.presets import DEFAULT_MODEL_PRESET, preset  # noqa: E402
from playground.spec.settings import TrainingSettings  # noqa: E402

SIZES = (1000, 5000)
EPOCHS = 5
HEAD = [make_layer("Flatten"), make_layer("Dense", units=128),
        make_layer("Dense", units=10, activation="softmax")]


def train(model, data, images: int, learning_rate: float = 1e-3) -> tuple[float, float]:
    settings = TrainingSettings(epochs=EPOCHS, batch_size=64, learning_rate=learning_rate,
                                schedule="constant", validation_split=0.0, subset_size=images)
    job = TrainingJob(model, data, settings)
    job.start()
    job.join()
    snapshot = job.snapshot()
    if snapshot.state != "finished":
        raise RuntimeError(f"job ended {snapshot.state}: {snapshot.error}")
    return snapshot.evaluation.accuracy, snapshot.training_seconds


def main() -> None:
    data = load_dataset("fashion_mnist")
    digits = load_default_classifier().model
    scratch_stack = [spec for spec in preset(DEFAULT_MODEL_PRESET) if spec["type"] not in ("Flatten", "Dense",
                                                                                            "Dropout")] + HEAD
    print(f"Fashion-MNIST from {data.source}; {EPOCHS} epochs, batch 64, Adam 1e-3; "
          f"test accuracy on {len(data.x_test):,} images")
    for images in SIZES:
        started = time.perf_counter()
        frozen_model = learning.transfer_model(learning.convolutional_part(digits), HEAD, seed=0)
        frozen_accuracy, frozen_seconds = train(frozen_model, data, images)
        scratch_accuracy, scratch_seconds = train(build_model(scratch_stack, seed=0), data, images)
        learning.unfreeze_for_fine_tuning(frozen_model)
        tuned_rate = 1e-3 * learning.FINE_TUNE_RATE_FACTOR
        tuned_accuracy, tuned_seconds = train(frozen_model, data, images, tuned_rate)
        print(f"  {images:5,} images: frozen digit base + new head {frozen_accuracy:6.2%} in "
              f"{frozen_seconds:5.1f} s · from scratch {scratch_accuracy:6.2%} in {scratch_seconds:5.1f} s · "
              f"frozen, then {EPOCHS} epochs of fine-tuning {tuned_accuracy:6.2%} in "
              f"{frozen_seconds + tuned_seconds:5.1f} s ({time.perf_counter() - started:.0f} s in all)",
              flush=True)


if __name__ == "__main__":
    main()
