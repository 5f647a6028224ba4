"""ResNet50 on photos: top-3 ImageNet classes, a Grad-CAM heatmap and early feature maps.

The ImageNet weights come from Keras' own download on first use (about 100 MB, cached in
~/.keras/models), or from a local file named by PLAYGROUND_RESNET50_WEIGHTS. The 1,000
class names ship with the app (assets/imagenet_classes.json), so naming a class never needs
the network.

Each photo takes one forward pass that yields the probabilities, the last convolution's maps
for Grad-CAM and the first block's maps for the glimpse inside.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf
from keras.applications import resnet50
from PIL import Image, ImageOps

from playground.spec.activations import softmax

WEIGHTS_VARIABLE = "PLAYGROUND_RESNET50_WEIGHTS"
CLASSES_PATH = Path(__file__).resolve().parents[2] / "assets" / "imagenet_classes.json"
INPUT_SIDE = 224
TOP_K = 3
EARLY_LAYER = "conv1_relu"  # 112×112×64: edges and colour blobs, like a small CNN's first layer
LAST_CONV_LAYER = "conv5_block3_out"  # 7×7×2048: what Grad-CAM weighs
POOL_LAYER = "avg_pool"
CLASSIFIER_LAYER = "predictions"


class WeightsUnavailableError(RuntimeError):
    """Neither the Keras download nor a local file gave ResNet50's weights; says how to fix it."""


@dataclass(frozen=True)
class Prediction:
    index: int
    name: str
    probability: float


@dataclass(frozen=True)
class PhotoResult:
    top: list[Prediction]  # the TOP_K most likely classes, most likely first
    crop: Image.Image  # the 224×224 RGB square the network saw
    heatmap: np.ndarray  # Grad-CAM for the top class, (7, 7) in [0, 1]
    early_maps: np.ndarray  # (112, 112, 64) after the first convolution and ReLU


def class_names(path: Path = CLASSES_PATH) -> tuple[str, ...]:
    names = tuple(item["name"] for item in json.loads(path.read_text()))
    if len(names) != 1000:
        raise ValueError(f"{path} must list the 1,000 ImageNet classes, not {len(names)}.")
    return names


def center_square(picture: Image.Image, side: int = INPUT_SIDE) -> Image.Image:
    """Scale the shorter side to `side`, then cut the centred side×side square.

    Squashing the whole photo into a square would distort the shapes ResNet50 learned, and
    padding would add borders it never saw in training; a centre crop, as in ImageNet's own
    evaluation, keeps proportions and loses only the edges.
    """
    return ImageOps.fit(picture.convert("RGB"), (side, side), Image.Resampling.BICUBIC)


def model_input(square: Image.Image) -> np.ndarray:
    """A (1, 224, 224, 3) batch in ResNet50's own preprocessing (BGR, ImageNet means removed)."""
    pixels = np.asarray(square, dtype=np.float32)[np.newaxis]
    return resnet50.preprocess_input(pixels)


def weights_source() -> str:
    """Where the weights come from, in words for the page."""
    local = os.environ.get(WEIGHTS_VARIABLE)
    return f"the local weights file {Path(local).name}" if local else "ImageNet (downloaded by Keras)"


def load_resnet50(weights_path: str | None = None) -> keras.Model:
    """ResNet50 with its ImageNet top, from a local weights file or Keras' download."""
    weights_path = weights_path or os.environ.get(WEIGHTS_VARIABLE)
    if weights_path:
        if not Path(weights_path).is_file():
            raise WeightsUnavailableError(
                f"{WEIGHTS_VARIABLE} names {weights_path}, which does not exist. Point it at a ResNet50 "
                "weights file with its top (such as resnet50_weights_tf_dim_ordering_tf_kernels.h5).")
        try:
            return resnet50.ResNet50(weights=weights_path)
        except (OSError, ValueError) as error:
            raise WeightsUnavailableError(
                f"{weights_path} is not a ResNet50 weights file with its top: {error}") from error
    try:
        return resnet50.ResNet50(weights="imagenet")
    except Exception as error:  # noqa: BLE001 - Keras raises several kinds for a failed download
        raise WeightsUnavailableError(
            "Could not download ResNet50's ImageNet weights (about 100 MB) through Keras: "
            f"{error}. Connect this server to the internet once, or download "
            "resnet50_weights_tf_dim_ordering_tf_kernels.h5 elsewhere and set "
            f"{WEIGHTS_VARIABLE} to its path.") from error


class PhotoClassifier:
    """ResNet50 shared by every session: read-only, and called under a lock."""

    def __init__(self, model: keras.Model, names: tuple[str, ...] | None = None):
        self.model = model
        self.names = names or class_names()
        self.probe = keras.Model(model.inputs[0], [model.get_layer(EARLY_LAYER).output,
                                                model.get_layer(LAST_CONV_LAYER).output])
        self.pool = model.get_layer(POOL_LAYER)
        kernel, bias = model.get_layer(CLASSIFIER_LAYER).get_weights()
        self.kernel, self.bias = tf.constant(kernel), tf.constant(bias)
        self._lock = threading.Lock()
        # As one compiled graph, a photo takes a fraction of the time it takes eagerly, and TensorFlow
        # keeps less memory (benchmarks/photos.py). Tracing it takes a moment, here rather than on a
        # user's photo.
        self._forward = tf.function(self._forward_pass, input_signature=[
            tf.TensorSpec((1, INPUT_SIDE, INPUT_SIDE, 3), tf.float32)])
        self._forward(tf.zeros((1, INPUT_SIDE, INPUT_SIDE, 3)))

    def classify(self, picture: Image.Image) -> PhotoResult:
        square = center_square(picture)
        with self._lock:
            outputs = self._forward(model_input(square))
        early, last_conv, logits, gradients = (tensor.numpy() for tensor in outputs)
        probabilities = softmax(logits[0])
        top = np.argsort(probabilities)[::-1][:TOP_K]
        return PhotoResult(
            top=[Prediction(int(index), self.names[index], float(probabilities[index])) for index in top],
            crop=square, heatmap=grad_cam(last_conv[0], gradients[0]), early_maps=early[0])

    def _forward_pass(self, batch):
        """One pass: early maps, last maps, logits, and d(top logit)/d(last maps) for Grad-CAM."""
        early, last_conv = self.probe(batch, training=False)
        with tf.GradientTape() as tape:
            tape.watch(last_conv)
            logits = tf.matmul(self.pool(last_conv), self.kernel) + self.bias
            top_score = tf.reduce_max(logits, axis=-1)
        return early, last_conv, logits, tape.gradient(top_score, last_conv)


def grad_cam(feature_maps: np.ndarray, gradients: np.ndarray) -> np.ndarray:
    """Grad-CAM (Selvaraju et al., 2017): maps weighted by their mean gradient, ReLU, scaled to [0, 1].

    The class score is taken before the softmax, as in the paper, so that other classes'
    scores do not leak into the map.
    """
    weights = gradients.mean(axis=(0, 1))
    heatmap = np.maximum(np.tensordot(feature_maps, weights, axes=([2], [0])), 0.0)
    peak = heatmap.max()
    return heatmap / peak if peak > 0 else heatmap

