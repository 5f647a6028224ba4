"""A layer stack and its training settings as a runnable Keras script that trains as the app does.

The script stands alone (Keras, TensorFlow and NumPy only) and reproduces the app's
training: the same seeded initial weights, the same training and validation split, the
same shuffled batches, learning-rate schedule and batch-norm recalibration. Its data
comes from `PLAYGROUND_DATA_DIR` as the app's does, or from the Keras download.
"""

from __future__ import annotations

import inspect

from playground.data.loading import (
    DATA_DIR_VARIABLE,
    DEBIAN_FASHION_DIR,
    IDX_FILES,
    IDX_IMAGES_MAGIC,
    IDX_LABELS_MAGIC,
    idx_array,
)
from playground.models import building as model
from playground.models.building import BATCH_NORM_MOMENTUM, INNER_SEED_STRIDE, PROBABILITY_ACTIVATIONS
from playground.spec.datasets import DATASETS
from playground.spec.layers import layer_names, normalize_stack
from playground.spec.settings import (
    OPTIMIZER_CLASSES,
    PRECISE_BATCH_NORM_BELOW,
    WARMUP_FRACTION,
    WARMUP_SCHEDULES,
    TrainingSettings,
    optimizer_arguments,
    training_end,
)
from playground.training import augment, batchnorm

SEEDED = ("Conv2D", "Dense")  # layers whose kernels start from a seeded initializer, as in build_model


def layer_code(spec: dict, index: int, name: str) -> str:
    """One line of the script's functional model: `x = <layer>(x)`."""
    if spec["type"] == "ResidualBlock":
        return (f"x = residual_block(x, {spec['filters']}, {spec['kernel_size']}, {spec['strides']}, "
                f"SEED + {index}, {name!r})")
    settings = [f"{setting}={value!r}" for setting, value in spec.items()
                if setting != "type" and not (setting == "strides" and value is None)]
    if spec["type"] == "BatchNormalization":
        settings = [f"momentum={BATCH_NORM_MOMENTUM}"]
    if spec["type"] in SEEDED:
        settings.append(f"kernel_initializer=keras.initializers.GlorotUniform(seed=SEED + {index})")
    if spec["type"] == "Dropout":
        settings.append(f"seed=SEED + {index}")
    settings.append(f"name={name!r}")
    return f"x = keras.layers.{spec['type']}({', '.join(settings)})(x)"


def keras_script(stack: list[dict], settings: TrainingSettings, dataset: str = "mnist") -> str:
    """Python source that rebuilds the stack and trains it as the playground would."""
    specs = normalize_stack(stack)
    layers = "\n".join(f"    {layer_code(spec, index, name)}"
                       for index, (spec, name) in enumerate(zip(specs, layer_names(specs), strict=True)))
    helpers = [inspect.getsource(model.residual_block)] if any(spec["type"] == "ResidualBlock"
                                                                 for spec in specs) else []
    if settings.augment:
        helpers.append(inspect.getsource(augment.flip_and_shift))
    helper_code = "".join(f"{source}\n\n\n" for source in helpers)
    if settings.schedule in WARMUP_SCHEDULES:
        rate = ("keras.optimizers.schedules.CosineDecay(\n"
                "        0.0, steps, warmup_target=LEARNING_RATE,\n"
                "        warmup_steps=max(1, round(steps * WARMUP_FRACTION)))")
    else:
        rate = "LEARNING_RATE"
    info = DATASETS[dataset]
    arguments = [f"{name}={value!r}" for name, value in optimizer_arguments(settings).items()]
    optimizer = ", ".join(["learning_rate", *arguments])
    idx_note = " or the official IDX files" if info.idx_folders else ""
    batchnorm_code = "\n\n".join(inspect.getsource(function) for function in (
        batchnorm.batch_norm_layers, batchnorm.recalibrate_batch_norm, batchnorm._layer_inputs))
    return f'''"""Exported from CNN Playground: the same network, trained the same way, in plain Keras.

Run it with `python {{this file}}`. It reads {info.title} from the folder named by
{DATA_DIR_VARIABLE} when that is set ({info.npz_names[0]} in the Keras layout{idx_note}), as the
playground does, and otherwise downloads it through Keras.
"""

import gzip
import os
import struct
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

DATASET = {dataset!r}
EPOCHS = {settings.epochs}
BATCH_SIZE = {settings.batch_size}
LEARNING_RATE = {settings.learning_rate!r}
VALIDATION_SPLIT = {settings.validation_split!r}
SUBSET_SIZE = {settings.subset_size!r}  # None: all training images
SEED = {settings.seed}  # the initial weights and the order of the batches
INPUT_SHAPE = {tuple(info.image_shape)!r}
AUGMENT = {settings.augment!r}  # mirror and shift each training image
MAX_SHIFT = {augment.MAX_SHIFT}
BATCH_NORM_MOMENTUM = {BATCH_NORM_MOMENTUM}
INNER_SEED_STRIDE = {INNER_SEED_STRIDE}
WARMUP_FRACTION = {WARMUP_FRACTION}
# With fewer batches than this per epoch, batch norm's moving averages trail the weights, so
# each epoch ends by recomputing them over a sample of training images ("precise BN").
PRECISE_BATCH_NORM_BELOW = {PRECISE_BATCH_NORM_BELOW}
SAMPLE_IMAGES = {batchnorm.SAMPLE_IMAGES}
CHUNK = {batchnorm.CHUNK}
NPZ_NAMES = {info.npz_names!r}
IDX_FOLDERS = {info.idx_folders!r}
IDX_FILES = {IDX_FILES!r}
IDX_IMAGES_MAGIC, IDX_LABELS_MAGIC = {IDX_IMAGES_MAGIC:#x}, {IDX_LABELS_MAGIC:#x}
DEBIAN_FOLDER = {str(DEBIAN_FASHION_DIR) if dataset == "fashion_mnist" else None!r}


def load_data():
    """(x_train, y_train), (x_test, y_test) as float images in [0, 1] of shape (N, *INPUT_SHAPE)."""
    arrays = local_arrays() or dict(zip(("x_train", "y_train", "x_test", "y_test"),
                                        (array for pair in getattr(keras.datasets, DATASET).load_data()
                                         for array in pair)))
    images = {{split: (arrays[f"x_{{split}}"].astype(np.float32) / 255.0).reshape(-1, *INPUT_SHAPE)
              for split in ("train", "test")}}
    labels = {{split: arrays[f"y_{{split}}"].reshape(-1).astype(np.int32) for split in ("train", "test")}}
    return (images["train"], labels["train"]), (images["test"], labels["test"])


def local_arrays():
    folder = os.environ.get("{DATA_DIR_VARIABLE}")
    roots = [Path(folder).expanduser()] if folder else []
    for root in roots:
        for name in NPZ_NAMES:
            if (root / name).is_file():
                with np.load(root / name) as archive:
                    return {{key: archive[key] for key in IDX_FILES}}
    folders = [root / name for root in roots for name in IDX_FOLDERS]
    folders += [Path(DEBIAN_FOLDER)] if DEBIAN_FOLDER else []
    for candidate in folders:
        if all((candidate / file).is_file() for file in IDX_FILES.values()):
            return {{key: read_idx(candidate / file) for key, file in IDX_FILES.items()}}
    return None


def read_idx(path):
    with gzip.open(path, "rb") as stream:
        return idx_array(stream.read())


{inspect.getsource(idx_array)}

{inspect.getsource(training_end)}

def build_model():
    inputs = x = keras.Input(shape=INPUT_SHAPE, name="image")
{layers}
    return keras.Model(inputs, x)


{helper_code}def training_batches(images, labels, seed):
    """Shuffled batches, reshuffled every epoch, without tf.data's autotuning."""
    images, labels = tf.convert_to_tensor(images), tf.convert_to_tensor(labels)
    options = tf.data.Options()
    options.autotune.enabled = False
    return (tf.data.Dataset.range(len(images))
            .shuffle(len(images), seed=seed, reshuffle_each_iteration=True)
            .batch(BATCH_SIZE)
            .map(lambda indices: (flip_and_shift(tf.gather(images, indices), seed) if AUGMENT
                                  else tf.gather(images, indices), tf.gather(labels, indices)))
            .prefetch(2)
            .with_options(options))


{batchnorm_code}

class EpochEnd(keras.callbacks.Callback):
    """Precise batch norm after short epochs, then the validation scores."""

    def __init__(self, x_train, x_validation, y_validation, batches_per_epoch):
        super().__init__()
        self.x_train, self.x_validation, self.y_validation = x_train, x_validation, y_validation
        self.batches_per_epoch = batches_per_epoch

    def on_epoch_end(self, epoch, logs=None):
        if self.batches_per_epoch < PRECISE_BATCH_NORM_BELOW:
            recalibrate_batch_norm(self.model, self.x_train)
        if len(self.x_validation):
            loss, accuracy = self.model.evaluate(self.x_validation, self.y_validation, verbose=0)
            print(f"epoch {{epoch + 1}}: validation accuracy {{accuracy:.4f}}, loss {{loss:.4f}}")


def main():
    (x_train, y_train), (x_test, y_test) = load_data()
    subset = SUBSET_SIZE or len(x_train)
    train_end = training_end(subset, VALIDATION_SPLIT)
    x_validation, y_validation = x_train[train_end:subset], y_train[train_end:subset]
    x_train, y_train = x_train[:train_end], y_train[:train_end]
    batches_per_epoch = -(-len(x_train) // BATCH_SIZE)
    steps = EPOCHS * batches_per_epoch
    learning_rate = {rate}
    model = build_model()
    model.compile(optimizer=keras.optimizers.{OPTIMIZER_CLASSES[settings.optimizer]}({optimizer}),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits={_from_logits(specs)}),
                  metrics=["accuracy"])
    model.summary()
    tf.random.set_seed(SEED)  # restarts the seeded random ops, as the app does before each training
    model.fit(training_batches(x_train, y_train, SEED), epochs=EPOCHS, verbose=2, shuffle=False,
              callbacks=[EpochEnd(x_train, x_validation, y_validation, batches_per_epoch)])
    loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
    print(f"test accuracy {{accuracy:.4f}}, test loss {{loss:.4f}}")
    return accuracy


if __name__ == "__main__":
    main()
'''


def _from_logits(specs: list[dict]) -> bool:
    return specs[-1].get("activation") not in PROBABILITY_ACTIVATIONS
