"""The training images as the job reads them: the split into training and validation, and
shuffled (optionally augmented) batches from the data set's bytes, one tensor per data set
shared by every job.
"""

from __future__ import annotations

import threading
import weakref

import numpy as np
import tensorflow as tf

from playground.data.loading import Dataset
from playground.spec.settings import TrainingSettings, training_end
from playground.training.augment import augmenter


def split(data: Dataset, settings: TrainingSettings) -> tuple[np.ndarray, ...]:
    """Training and validation pixels (uint8) and labels: the subset's last
    `validation_split` part validates.

    Views, not copies: data sets are shared by every session and can be large."""
    subset = settings.subset_size
    train_end = training_end(subset, settings.validation_split)
    return (data.train_pixels[:train_end], data.y_train[:train_end],
            data.train_pixels[train_end:subset], data.y_train[train_end:subset])


_shared_tensors: dict[int, tuple[weakref.ref, tf.Tensor, tf.Tensor]] = {}
_shared_tensors_lock = threading.Lock()


def shared_training_tensors(data: Dataset) -> tuple[tf.Tensor, tf.Tensor]:
    """The data set's training pixels and labels as tensors, made once per server and shared:
    `fit` on NumPy arrays would copy the images into every job."""
    with _shared_tensors_lock:
        _drop_dead_entries()
        pixels = data.train_pixels
        entry = _shared_tensors.get(id(pixels))
        if entry is None or entry[0]() is not pixels:
            entry = (weakref.ref(pixels), tf.constant(pixels), tf.constant(data.y_train))
            _shared_tensors[id(pixels)] = entry
        return entry[1], entry[2]


def _drop_dead_entries() -> None:
    for key in [key for key, (owner, _, _) in _shared_tensors.items() if owner() is None]:
        del _shared_tensors[key]


def drop_unused_tensors() -> None:
    """Let go of the tensors of data sets nobody holds any more (a learner's own, forgotten)."""
    with _shared_tensors_lock:
        _drop_dead_entries()


def restart_random_ops(seed: int) -> None:
    """Set TensorFlow's global seed, which also restarts every seeded random op's sequence.
    The pipeline's ops (shuffle, augmentation) take seeds of their own, but in one process
    each continues its sequence from the last training's; without this, a training depended
    on what the process had trained before, and matched the exported script only when first."""
    tf.random.set_seed(seed)


def training_batches(data: Dataset, count: int, batch_size: int, seed: int,
                     augmentations: tuple[str, ...] = ()) -> tf.data.Dataset:
    """The first `count` training images in shuffled batches, reshuffled every epoch, each
    image augmented at random by `augmentations` (see playground.training.augment).

    tf.data's autotuning is off: with it, each epoch's end waited for the autotuning thread
    in the input iterator's destructor, stalling training for seconds at 0% CPU."""
    pixels, labels = shared_training_tensors(data)
    options = tf.data.Options()
    options.autotune.enabled = False
    augment = augmenter(augmentations, seed) if augmentations else None

    def batch_of(indices):
        images = tf.cast(tf.gather(pixels, indices), tf.float32) / 255.0
        return (augment(images) if augment else images), tf.gather(labels, indices)

    return (tf.data.Dataset.range(count)
            .shuffle(count, seed=seed, reshuffle_each_iteration=True)
            .batch(batch_size)
            .map(batch_of)
            .prefetch(2)
            .with_options(options))
