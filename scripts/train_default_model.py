"""Train the model that Draw uses on a first visit, and write it to assets/.

    PLAYGROUND_DATA_DIR=../shared/data python scripts/train_default_model.py

Seeded and deterministic on one machine: the same command gives the same weights.
Mild random shifts, rotations and zooms make it forgiving of hand-drawn digits, which are
less tidy than MNIST's even after the Draw page's MNIST-style preprocessing.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

from playground.data.loading import float_images, load_dataset  # noqa: E402
from playground.models.building import DEFAULT_MODEL_PATH, build_model  # noqa: E402
from playground.spec.presets import DEFAULT_MODEL_PRESET, preset  # noqa: E402
from playground.spec.settings import batches_per_epoch  # noqa: E402
from playground.spec.shapes import total_params, trace_shapes  # noqa: E402

SEED = 1234
EPOCHS = 12
BATCH_SIZE = 128
PEAK_LEARNING_RATE = 2e-3
MINIMUM_TEST_ACCURACY = 0.992


def with_augmentation(model: keras.Model) -> keras.Model:
    """A training-only wrapper: the saved model stays the plain preset, free of these layers."""
    return keras.Sequential([
        keras.Input(shape=(28, 28, 1)),
        keras.layers.RandomRotation(0.04, fill_mode="constant", seed=SEED),
        keras.layers.RandomZoom(0.1, fill_mode="constant", seed=SEED),
        keras.layers.RandomTranslation(0.08, 0.08, fill_mode="constant", seed=SEED),
        model,
    ])


def save_without_optimizer(model: keras.Model, stack: list[dict]) -> None:
    """Only the architecture and weights: Draw never trains it, and the file stays small."""
    clean = build_model(stack)
    clean.set_weights(model.get_weights())
    clean.save(DEFAULT_MODEL_PATH)


def main() -> None:
    keras.utils.set_random_seed(SEED)
    tf.config.experimental.enable_op_determinism()
    data = load_dataset("mnist")
    stack = preset(DEFAULT_MODEL_PRESET)
    model = build_model(stack)
    steps = EPOCHS * batches_per_epoch(len(data.train_pixels), BATCH_SIZE)
    schedule = keras.optimizers.schedules.CosineDecay(
        0.0, steps, warmup_target=PEAK_LEARNING_RATE, warmup_steps=steps // 20)
    trainer = with_augmentation(model)
    trainer.compile(
        optimizer=keras.optimizers.Adam(schedule), loss="sparse_categorical_crossentropy",
        metrics=["accuracy"])
    started = time.perf_counter()
    trainer.fit(float_images(data.train_pixels), data.y_train, batch_size=BATCH_SIZE, epochs=EPOCHS,
                verbose=2)
    seconds = time.perf_counter() - started
    model.compile(loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    loss, accuracy = model.evaluate(data.x_test, data.y_test, batch_size=1000, verbose=0)
    print(f"test accuracy {accuracy:.4f}, loss {loss:.4f}, training {seconds:.0f} s")
    if accuracy < MINIMUM_TEST_ACCURACY:
        raise SystemExit(f"Accuracy {accuracy:.4f} is below {MINIMUM_TEST_ACCURACY}; not saved.")
    DEFAULT_MODEL_PATH.parent.mkdir(exist_ok=True)
    save_without_optimizer(model, stack)
    metadata = {
        "preset": DEFAULT_MODEL_PRESET, "dataset": "mnist", "seed": SEED, "epochs": EPOCHS,
        "batch_size": BATCH_SIZE, "test_accuracy": round(float(accuracy), 4),
        "test_loss": round(float(loss), 4), "parameters": total_params(trace_shapes(stack)),
        "training_seconds": round(seconds), "keras": keras.__version__,
    }
    DEFAULT_MODEL_PATH.with_suffix(".json").write_text(json.dumps(metadata, indent=2) + "\n")
    print(f"wrote {DEFAULT_MODEL_PATH} ({DEFAULT_MODEL_PATH.stat().st_size / 1e6:.2f} MB)")


if __name__ == "__main__":
    main()
