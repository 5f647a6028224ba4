"""Named layer stacks: the seed models from the course material, and the shipped default."""

from __future__ import annotations

from playground.spec.layers import make_layer


def _conv(filters: int, **settings) -> dict:
    return make_layer("Conv2D", filters=filters, kernel_size=3, activation="relu", **settings)


def _pool() -> dict:
    return make_layer("MaxPooling2D", pool_size=2)


def _dense(units: int, activation: str = "relu") -> dict:
    return make_layer("Dense", units=units, activation=activation)


PRESETS: dict[str, list[dict]] = {
    "Course notes: Conv256 → Conv128": [
        _conv(256), _pool(), _conv(128), _pool(), make_layer("Flatten"), _dense(10, "softmax"),
    ],
    "Slides: Conv32 → Conv64 → Conv64 → Dense64": [
        _conv(32), _pool(), _conv(64), _pool(), _conv(64),
        make_layer("Flatten"), _dense(64), _dense(10, "softmax"),
    ],
    "Tutorial: Conv32 → Conv64 → Dense128": [
        _conv(32), _pool(), _conv(64), _pool(), make_layer("Flatten"), _dense(128), _dense(10, "softmax"),
    ],
    "Blog: Dense-only baseline": [make_layer("Flatten"), _dense(10, "sigmoid")],
    # Past 99 % MNIST test accuracy in one epoch within seconds on two CPU cores, with
    # FAST_DEFAULT_TRAINING (benchmarks/training_speed.py). After tuomaso/train_mnist_fast:
    # a 5×5 first convolution, few filters, pooling early, one-cycle training with a high
    # peak rate. Batch norm after pooling normalises a quarter of the values for the same effect.
    "Fast default": [
        make_layer("Conv2D", filters=24, kernel_size=5, activation="relu"), _pool(),
        make_layer("BatchNormalization"),
        _conv(32), _pool(), make_layer("BatchNormalization"),
        make_layer("Flatten"), _dense(128), _dense(10, "softmax"),
    ],
    # The shipped Draw model: two conv blocks with batch norm (scripts/train_default_model.py).
    "Default model (shipped)": [
        _conv(32), make_layer("BatchNormalization"), _conv(32), _pool(),
        _conv(64), make_layer("BatchNormalization"), _conv(64), _pool(),
        make_layer("Flatten"), make_layer("Dropout", rate=0.3), _dense(128),
        make_layer("Dropout", rate=0.3), _dense(10, "softmax"),
    ],
}

# Colour photos, 32 × 32 × 3 (CIFAR-10). Convolutions keep the size ("same") as photo networks do.
def _same(filters: int) -> dict:
    return _conv(filters, padding="same")


def _residual(filters: int, strides: int = 1) -> dict:
    return make_layer("ResidualBlock", filters=filters, kernel_size=3, strides=strides)


PRESETS.update({
    # The slides' first ResNet: a convolution stem, one residual block, global pooling, Dense 10.
    "Slides: residual example (CIFAR-10)": [
        _same(32), make_layer("BatchNormalization"), _residual(32),
        make_layer("GlobalAveragePooling2D"), _dense(10, "softmax"),
    ],
    # The small CIFAR-10 CNN of the Keras and TensorFlow tutorials: two Conv-Conv-Pool blocks,
    # Dense 512 and dropout.
    "Tutorial: small CIFAR CNN": [
        _same(32), _conv(32), _pool(), make_layer("Dropout", rate=0.25),
        _same(64), _conv(64), _pool(), make_layer("Dropout", rate=0.25),
        make_layer("Flatten"), _dense(512), make_layer("Dropout", rate=0.5), _dense(10, "softmax"),
    ],
    # Past 79 % CIFAR-10 test accuracy in under 10 minutes on two CPU cores, with
    # FAST_CIFAR_TRAINING (benchmarks/cifar_speed.py): pooling right after the stem makes
    # every block work on 16 × 16 maps or smaller, which keeps it fast.
    "Fast CIFAR": [
        _same(32), _pool(), make_layer("BatchNormalization"),
        _residual(32), _residual(64, strides=2), _residual(128, strides=2),
        make_layer("GlobalAveragePooling2D"), _dense(10, "softmax"),
    ],
})

DEFAULT_MODEL_PRESET = "Default model (shipped)"
FAST_DEFAULT_TRAINING = {
    "epochs": 1, "batch_size": 256, "optimizer": "adam", "learning_rate": 1e-2,
    "schedule": "one_cycle", "validation_split": 0.05, "subset_size": 60000, "augment": False,
}


FAST_CIFAR_TRAINING = {
    "epochs": 15, "batch_size": 256, "optimizer": "adam", "learning_rate": 4e-3,
    "schedule": "one_cycle", "validation_split": 0.02, "subset_size": 50000, "augment": True,
}
# The photo presets' training: flips and shifts, and batches small enough for the memory
# budget (the slides' block works on full 32 × 32 maps, so it takes batches of 64).
CIFAR_TRAINING = {
    "epochs": 5, "batch_size": 64, "optimizer": "adam", "learning_rate": 2e-3,
    "schedule": "warmup_cosine", "validation_split": 0.05, "subset_size": 50000, "augment": True,
}
# The data set each preset is made for, and the training that goes with it: choosing such a
# preset chooses these too.
PRESET_SETUPS = {
    "Fast default": {"dataset": "mnist", "training": FAST_DEFAULT_TRAINING},
    "Slides: residual example (CIFAR-10)": {"dataset": "cifar10", "training": CIFAR_TRAINING},
    "Tutorial: small CIFAR CNN": {"dataset": "cifar10", "training": CIFAR_TRAINING},
    "Fast CIFAR": {"dataset": "cifar10", "training": FAST_CIFAR_TRAINING},
}


def preset(name: str) -> list[dict]:
    """A fresh copy of a preset, safe to edit."""
    if name not in PRESETS:
        raise ValueError(f"Unknown preset {name!r}; choose one of {list(PRESETS)}.")
    return [dict(spec) for spec in PRESETS[name]]
