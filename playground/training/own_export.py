"""Your images' training as a runnable Keras script: it reads the downloaded zip's folders
with `keras.utils.image_dataset_from_directory` and trains as the page does: the same
network and seeded weights, the same batches, augmentation, schedule and batch-norm
recalibration, so it reaches the page's accuracy on the same held-out images.
"""

from __future__ import annotations

import inspect

from playground.data.own_images import HELD_OUT_FOLDER, TRAINING_FOLDER, folder_name
from playground.models import building
from playground.models.building import BATCH_NORM_MOMENTUM
from playground.models.own_networks import FROM_SCRATCH, new_head, scratch_stack
from playground.spec import own_images as spec
from playground.spec.layers import layer_names, normalize_stack
from playground.spec.settings import (
    OPTIMIZER_CLASSES,
    PRECISE_BATCH_NORM_BELOW,
    WARMUP_FRACTION,
    WARMUP_SCHEDULES,
    TrainingSettings,
    augmentation_kinds,
    optimizer_arguments,
)
from playground.training import augment, batchnorm
from playground.training.export import layer_code

BASE_FILE = "cifar10_model.keras"  # the shipped base, beside the script, for a start on it


def own_images_script(start: str, settings: TrainingSettings, class_names,
                      stack: list[dict] | None = None) -> str:
    """Python source that trains `start` (from scratch, the learner's `stack`, or on the
    CIFAR-10 base) on the downloaded folders."""
    if start not in (*FROM_SCRATCH, "cifar10"):
        return (f'"""Your images: the exported script covers networks from scratch and the CIFAR-10 '
                f'base; this training started from {start!r}, which it does not rebuild yet."""\n')
    stack = (scratch_stack(start, len(class_names), stack) if start in FROM_SCRATCH
             else new_head(len(class_names)))
    names = layer_names(stack)
    if start == "cifar10":
        names = ["head_" + name for name in names]
    layers = "\n".join(f"    {layer_code(spec_, index, name)}" for index, (spec_, name)
                       in enumerate(zip(normalize_stack(stack), names, strict=True)))
    if start in FROM_SCRATCH:
        model_start = "    inputs = x = keras.Input(shape=INPUT_SHAPE, name=\"image\")"
    else:
        model_start = (f"    base = keras.saving.load_model(FOLDER / {BASE_FILE!r}, compile=False)\n"
                       "    base = keras.Model(base.inputs[0], [layer.output for layer in base.layers[1:]\n"
                       "                       if len(layer.output.shape) == 4][-1])\n"
                       "    base.trainable = False\n"
                       "    inputs = base.inputs[0]\n"
                       "    x = base.outputs[0]")
    rate = ("keras.optimizers.schedules.CosineDecay(0.0, steps, warmup_target=LEARNING_RATE, "
            "warmup_steps=max(1, round(steps * WARMUP_FRACTION)))"
            if settings.schedule in WARMUP_SCHEDULES else "LEARNING_RATE")
    arguments = ", ".join(["learning_rate", *(f"{key}={value!r}" for key, value
                                              in optimizer_arguments(settings).items())])
    functions = [augment.flip_and_shift, augment.photo_layers, augment.augmenter]
    if any(layer["type"] == "ResidualBlock" for layer in stack):
        functions.append(building.residual_block)
    augment_code = "\n\n".join(inspect.getsource(function) for function in functions)
    batchnorm_code = "\n\n".join(inspect.getsource(function) for function in (
        batchnorm.batch_norm_layers, batchnorm.recalibrate_batch_norm, batchnorm._layer_inputs))
    base_note = f" Put {BASE_FILE} beside it too." if start == "cifar10" else ""
    return f'''"""Exported from CNN Playground's Your images page: the same network, trained the same way.

Unzip your_images.zip beside this file (it holds {TRAINING_FOLDER}/ and {HELD_OUT_FOLDER}/, a folder
per class), then run `python {{this file}}`.{base_note}
"""

from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

FOLDER = Path(__file__).resolve().parent
CLASS_FOLDERS = {[folder_name(name) for name in class_names]!r}
INPUT_SHAPE = {spec.MODEL_SHAPE!r}
EPOCHS = {settings.epochs}
BATCH_SIZE = {settings.batch_size}
LEARNING_RATE = {settings.learning_rate!r}
SEED = {settings.seed}
AUGMENTATIONS = {augmentation_kinds(settings)!r}
MAX_SHIFT = {augment.MAX_SHIFT}
ROTATION_FACTOR, ZOOM_FACTOR = {spec.ROTATION_FACTOR!r}, {spec.ZOOM_FACTOR!r}
BRIGHTNESS_FACTOR, CONTRAST_FACTOR = {spec.BRIGHTNESS_FACTOR!r}, {spec.CONTRAST_FACTOR!r}
BATCH_NORM_MOMENTUM = {BATCH_NORM_MOMENTUM}
INNER_SEED_STRIDE = {building.INNER_SEED_STRIDE}
WARMUP_FRACTION = {WARMUP_FRACTION}
PRECISE_BATCH_NORM_BELOW = {PRECISE_BATCH_NORM_BELOW}
SAMPLE_IMAGES = {batchnorm.SAMPLE_IMAGES}
CHUNK = {batchnorm.CHUNK}


def load_folder(name):
    """Images in [0, 1] and labels from one folder of class folders, in a fixed order."""
    dataset = keras.utils.image_dataset_from_directory(
        FOLDER / name, class_names=CLASS_FOLDERS, image_size=INPUT_SHAPE[:2], interpolation="area",
        batch_size=None, shuffle=False)
    images, labels = zip(*dataset.as_numpy_iterator())
    # Rounded half up to bytes, as the playground keeps its pictures.
    return np.floor(np.stack(images) + 0.5).astype(np.float32) / 255.0, np.array(labels, np.int32)


def build_model():
{model_start}
{layers}
    return keras.Model(inputs, x)


{augment_code}


def training_batches(images, labels, seed):
    images, labels = tf.convert_to_tensor(images), tf.convert_to_tensor(labels)
    augment = augmenter(AUGMENTATIONS, seed) if AUGMENTATIONS else None
    options = tf.data.Options()
    options.autotune.enabled = False
    return (tf.data.Dataset.range(len(images))
            .shuffle(len(images), seed=seed, reshuffle_each_iteration=True)
            .batch(BATCH_SIZE)
            .map(lambda indices: (augment(tf.gather(images, indices)) if augment
                                  else tf.gather(images, indices), tf.gather(labels, indices)))
            .prefetch(2)
            .with_options(options))


{batchnorm_code}

class PreciseBatchNorm(keras.callbacks.Callback):
    def __init__(self, x_train, batches_per_epoch):
        super().__init__()
        self.x_train, self.batches_per_epoch = x_train, batches_per_epoch

    def on_epoch_end(self, epoch, logs=None):
        if self.batches_per_epoch < PRECISE_BATCH_NORM_BELOW:
            recalibrate_batch_norm(self.model, self.x_train)


def main():
    x_train, y_train = load_folder("{TRAINING_FOLDER}")
    x_test, y_test = load_folder("{HELD_OUT_FOLDER}")
    batches_per_epoch = -(-len(x_train) // BATCH_SIZE)
    steps = EPOCHS * batches_per_epoch
    learning_rate = {rate}
    model = build_model()
    model.compile(optimizer=keras.optimizers.{OPTIMIZER_CLASSES[settings.optimizer]}({arguments}),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    tf.random.set_seed(SEED)  # restarts the seeded random ops, as the app does before each training
    model.fit(training_batches(x_train, y_train, SEED), epochs=EPOCHS, verbose=2, shuffle=False,
              callbacks=[PreciseBatchNorm(x_train, batches_per_epoch)])
    loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
    print(f"held-out accuracy {{accuracy:.4f}}, loss {{loss:.4f}}")
    return accuracy


if __name__ == "__main__":
    main()
'''
