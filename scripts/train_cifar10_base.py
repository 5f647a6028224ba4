"""Train the CIFAR-10 network that Your images offers as a frozen base, and write it to assets/.

    PLAYGROUND_DATA_DIR=../shared/data python scripts/train_cifar10_base.py

The "Fast CIFAR" preset with its own training (flips and shifts), through the playground's
own pipeline, so the base learned what a learner's training would. Seeded: the same
command gives the same weights on one machine.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import keras  # noqa: E402

from playground.data.loading import load_dataset  # noqa: E402
from playground.models.building import CIFAR10_BASE_PATH, build_model  # noqa: E402
from playground.spec.datasets import COLOUR_SHAPE  # noqa: E402
from playground.spec.presets import FAST_CIFAR_TRAINING, preset  # noqa: E402
from playground.spec.settings import TrainingSettings, augmentation_kinds, batches_per_epoch  # noqa: E402
from playground.spec.shapes import total_params, trace_shapes  # noqa: E402
from playground.training.compiling import compile_for_training  # noqa: E402
from playground.training.evaluation import evaluate  # noqa: E402
from playground.training.pipeline import training_batches  # noqa: E402

PRESET = "Fast CIFAR"
SEED = 1234
MINIMUM_TEST_ACCURACY = 0.80


def main() -> None:
    keras.utils.set_random_seed(SEED)
    data = load_dataset("cifar10")
    settings = TrainingSettings(**FAST_CIFAR_TRAINING, seed=SEED)
    stack = preset(PRESET)
    model = build_model(stack, COLOUR_SHAPE, seed=SEED)
    count = len(data.train_pixels)
    compile_for_training(model, settings, batches_per_epoch(count, settings.batch_size))
    started = time.perf_counter()
    model.fit(training_batches(data, count, settings.batch_size, SEED, augmentation_kinds(settings)),
              epochs=settings.epochs, verbose=2)
    seconds = time.perf_counter() - started
    result = evaluate(model, data.x_test, data.y_test)
    print(f"test accuracy {result.accuracy:.4f}, loss {result.loss:.4f}, training {seconds:.0f} s")
    if result.accuracy < MINIMUM_TEST_ACCURACY:
        raise SystemExit(f"Accuracy {result.accuracy:.4f} is below {MINIMUM_TEST_ACCURACY}; not saved.")
    clean = build_model(stack, COLOUR_SHAPE)  # without the optimizer: the file stays small
    clean.set_weights(model.get_weights())
    clean.save(CIFAR10_BASE_PATH)
    metadata = {"preset": PRESET, "dataset": "cifar10", "seed": SEED, "epochs": settings.epochs,
                "batch_size": settings.batch_size, "test_accuracy": round(float(result.accuracy), 4),
                "test_loss": round(float(result.loss), 4),
                "parameters": total_params(trace_shapes(stack, COLOUR_SHAPE)),
                "training_seconds": round(seconds), "keras": keras.__version__}
    CIFAR10_BASE_PATH.with_suffix(".json").write_text(json.dumps(metadata, indent=2) + "\n")
    print(f"wrote {CIFAR10_BASE_PATH}")


if __name__ == "__main__":
    main()
