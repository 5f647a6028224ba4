"""Transfer learning: a trained network's convolutional part, frozen, under a new head.

A network trained on one task has learned features (edges, strokes, textures) that help
on another. Its convolutional part is kept and frozen, a new head (the builder's stack) is
put on top, and only the head trains: with a few thousand images of the new task this
often beats a network trained from scratch on them. Afterwards, "fine-tuning" unfreezes the
base and trains everything a little more at a lower learning rate.

Bases: the session's model or the shipped digit model (the layers up to their last
image-shaped output), or an ImageNet network from `keras.applications` without its top,
on CIFAR-10's photos scaled up. Batch norm inside a base always stays frozen: its
statistics are those of the data it was trained on.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass

import keras
import numpy as np

from playground.models.building import add_layers, all_layers, copy_model
from playground.spec.datasets import COLOUR_SHAPE, NUM_CLASSES
from playground.spec.layers import layer_names
from playground.spec.shapes import trace_shapes

FIXED = ("caffe_preprocess",)  # layers that are preprocessing, never trained
HEAD_PREFIX = "head_"  # the head's layer names, so they never clash with the base's
FINE_TUNE_RATE_FACTOR = 0.1  # fine-tuning trains the whole network at a tenth of the rate
IMAGENET_SIDE = 96  # CIFAR-10's 32 × 32 photos scaled up 3×, so ImageNet networks can pool
CAFFE_MEANS_BGR = (103.939, 116.779, 123.68)  # VGG16's ImageNet channel means
IMAGENET_BASES = {
    "mobilenet_v2": {"title": "MobileNetV2 (ImageNet)", "application": "MobileNetV2",
                     "weights_variable": "PLAYGROUND_MOBILENETV2_WEIGHTS", "download_megabytes": 9},
    "vgg16": {"title": "VGG16 (ImageNet)", "application": "VGG16",
              "weights_variable": "PLAYGROUND_VGG16_WEIGHTS", "download_megabytes": 58},
}


class BaseUnavailableError(RuntimeError):
    """An ImageNet base's weights could not be had; the message says how to fix that."""


@dataclass(frozen=True)
class BaseLayer:
    """One layer of a base, for the builder's frozen list."""

    name: str
    kind: str
    output_shape: tuple[int, ...]
    params: int


def convolutional_layers(model: keras.Model) -> list[keras.layers.Layer]:
    """The model's layers up to its last image-shaped output: everything before Flatten,
    global pooling and the Dense layers."""
    layers = []
    for layer in model.layers[1:]:
        if len(layer.output.shape) != 4:
            break
        layers.append(layer)
    if not layers:
        raise ValueError("This model has no convolutional part to reuse: its first layer already "
                         "outputs a flat vector. Start from a model with convolutions.")
    return layers


def convolutional_part(model: keras.Model) -> keras.Model:
    """A copy of `model`'s convolutional part, so the original keeps serving other pages."""
    model = copy_model(model)
    return keras.Model(model.inputs[0], convolutional_layers(model)[-1].output, name="base")


def base_layers(model: keras.Model) -> list[BaseLayer]:
    """The convolutional part's layers, described for the builder (no copy made)."""
    return [BaseLayer(layer.name, type(layer).__name__, tuple(layer.output.shape[1:]), layer.count_params())
            for layer in convolutional_layers(model)]


def freeze(base: keras.Model) -> None:
    for layer in base.layers:
        layer.trainable = False


def unfreeze_for_fine_tuning(model: keras.Model) -> None:
    """Every layer trainable again, but batch norm (its statistics stay those of the base's
    own training data, as the Keras transfer-learning guide advises) and the fixed
    preprocessing. A nested ImageNet network is set trainable first, then its layers."""
    for layer in all_layers(model):
        layer.trainable = not isinstance(layer, keras.layers.BatchNormalization) and layer.name not in FIXED


def transfer_model(base: keras.Model, head_stack: list[dict], num_classes: int = NUM_CLASSES,
                   seed: int = 0) -> keras.Model:
    """`base`, frozen, with the head stack on its output; the head's layers are named head_…"""
    freeze(base)
    head_shape = tuple(base.output.shape[1:])
    infos = trace_shapes(head_stack, head_shape, num_classes)
    names = [HEAD_PREFIX + name for name in layer_names([info.spec for info in infos])]
    outputs = add_layers(base.outputs[0], infos, seed, names)
    return keras.Model(base.inputs[0], outputs, name="transfer")


def imagenet_base(name: str, weights: str | None = "imagenet") -> keras.Model:
    """An ImageNet network without its top, for CIFAR-10: 32 × 32 photos in [0, 1] are scaled
    up to IMAGENET_SIDE and preprocessed as the network was trained, in layers of the model
    (so a saved model carries its preprocessing). `weights` None gives random weights."""
    spec = IMAGENET_BASES[name]
    application = getattr(keras.applications, spec["application"])
    network = application(include_top=False, weights=weights, input_shape=(IMAGENET_SIDE, IMAGENET_SIDE, 3))
    inputs = keras.Input(COLOUR_SHAPE, name="image")
    scaled = keras.layers.Resizing(IMAGENET_SIDE, IMAGENET_SIDE, name="scale_up")(inputs)
    outputs = network(_preprocessing(name)(scaled))
    return keras.Model(inputs, outputs, name="base")


def _preprocessing(name: str) -> keras.layers.Layer:
    """keras.applications' preprocess_input as a layer, for inputs in [0, 1]."""
    if name == "mobilenet_v2":
        return keras.layers.Rescaling(2.0, offset=-1.0, name="to_minus_one_one")  # x * 255 / 127.5 - 1
    # VGG16's "caffe" mode: 0–255, RGB reversed to BGR, ImageNet means removed. A fixed 1×1
    # convolution does all three at once.
    layer = keras.layers.Conv2D(3, 1, name="caffe_preprocess", trainable=False)
    layer.build((None, None, None, 3))
    kernel = np.zeros((1, 1, 3, 3), np.float32)
    for channel in range(3):
        kernel[0, 0, channel, 2 - channel] = 255.0
    layer.set_weights([kernel, -np.asarray(CAFFE_MEANS_BGR, np.float32)])
    return layer


def load_imagenet_base(name: str) -> keras.Model:
    """The base with ImageNet weights: a local file if its environment variable names one,
    else Keras' download (cached in ~/.keras after the first time)."""
    spec = IMAGENET_BASES[name]
    local = os.environ.get(spec["weights_variable"])
    try:
        return imagenet_base(name, local or "imagenet")
    except Exception as error:  # noqa: BLE001 - a failed download or a wrong file: the same fix
        where = f"the file {local}" if local else "Keras' download"
        raise BaseUnavailableError(
            f"{spec['title']}'s weights could not be loaded from {where} ({type(error).__name__}: "
            f"{error}). Connect to the internet, or set {spec['weights_variable']} to a local "
            f"{spec['application']} weights file without the top (include_top=False) for "
            f"{IMAGENET_SIDE} × {IMAGENET_SIDE} inputs, and restart.") from error


@functools.cache
def imagenet_base_summary(name: str) -> tuple[tuple[int, ...], int, int]:
    """(output shape, parameters, its largest layer's output values) of an ImageNet base, from
    a random-weights copy built once: the builder shows them on every rerun without loading
    any weights."""
    base = imagenet_base(name, weights=None)
    largest = max(int(np.prod(layer.output.shape[1:])) for layer in all_layers(base)
                  if not isinstance(layer, (keras.Model, keras.layers.InputLayer)))
    return tuple(base.output.shape[1:]), int(base.count_params()), largest
