"""Precise batch-norm statistics (Wu & Johnson, "Rethinking Batch in BatchNorm", 2021).

BatchNormalization predicts with moving averages of its batch statistics. In the short
trainings learners run (a few dozen batches per epoch, at a high learning rate), those
averages trail the fast-changing weights, and a network can test far worse than it trains.
Recomputing each layer's mean and variance over a few thousand training images with the
current weights, layer by layer, removes the lag.
"""

from __future__ import annotations

import keras
import numpy as np

SAMPLE_IMAGES = 2048
CHUNK = 512


def batch_norm_layers(model: keras.Model) -> list[keras.layers.BatchNormalization]:
    """The model's trainable batch-norm layers: a frozen base's keep the statistics of the data
    it was trained on (see playground.models.transfer)."""
    return [layer for layer in model.layers
            if isinstance(layer, keras.layers.BatchNormalization) and layer.trainable]


def recalibrate_batch_norm(model: keras.Model, images: np.ndarray) -> None:
    """Set every BatchNormalization layer's moving statistics to those of `images` (first
    SAMPLE_IMAGES), in order, so each layer sees inputs normalised by the layers before it.
    The images are floats in [0, 1], as the model is fed."""
    if images.dtype == np.uint8:
        raise ValueError("recalibrate_batch_norm takes float images in [0, 1], not bytes: "
                         "divide them by 255.")
    sample = np.asarray(images[:SAMPLE_IMAGES], np.float32)
    for layer in batch_norm_layers(model):
        inputs = _layer_inputs(model, layer, sample)
        axes = tuple(range(inputs.ndim - 1))
        layer.moving_mean.assign(inputs.mean(axis=axes))
        layer.moving_variance.assign(inputs.var(axis=axes))


def _layer_inputs(model: keras.Model, layer: keras.layers.Layer, sample: np.ndarray) -> np.ndarray:
    probe = keras.Model(model.inputs[0], layer.input)
    return np.concatenate([np.asarray(probe(sample[start:start + CHUNK], training=False))
                           for start in range(0, len(sample), CHUNK)])
