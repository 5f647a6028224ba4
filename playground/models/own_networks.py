"""The networks Your images trains: a small CNN from scratch, or a new head on a frozen base
(the shipped CIFAR-10 network, MobileNetV2, or the session's own photo model), each checked
against the server's budgets before it is built, with the training that suits it."""

from __future__ import annotations

import keras

from playground.models.building import CIFAR10_BASE_PATH, build_model
from playground.models.transfer import convolutional_part, load_imagenet_base, transfer_model
from playground.spec.costs import check_budget
from playground.spec.layers import make_layer
from playground.spec.own_images import (
    BASE_AUGMENTATIONS,
    DEFAULT_AUGMENTATIONS,
    MODEL_SHAPE,
    OWN_BASE_TRAINING,
    OWN_TRAINING,
    STARTS,
    OwnImagesRefused,
    model_shape_text,
)
from playground.spec.settings import TrainingSettings
from playground.spec.shapes import shape_text, trace_shapes

FROM_SCRATCH = ("scratch", "stack")  # starts whose every layer learns from the learner's pictures


def small_cnn(num_classes: int) -> list[dict]:
    """Three convolution stages, the first two halving the maps, then global pooling: few
    parameters, which suits a few dozen images per class; the last maps stay 8 × 8, fine
    enough for Grad-CAM to say where the network looked."""
    def convolution(filters: int) -> dict:
        return make_layer("Conv2D", filters=filters, kernel_size=3, activation="relu", padding="same")

    pool, norm = make_layer("MaxPooling2D", pool_size=2), make_layer("BatchNormalization")
    return [convolution(16), pool, norm, convolution(32), dict(pool), dict(norm), convolution(64), dict(norm),
            make_layer("GlobalAveragePooling2D"),
            make_layer("Dropout", rate=0.3),
            make_layer("Dense", units=num_classes, activation="softmax")]


def new_head(num_classes: int) -> list[dict]:
    """Flatten, not global pooling: the base's features keep where they are in the picture
    (two legs side by side, a handle on top), which global pooling would average away; then
    one small hidden layer to recombine them, with dropout on both sides. On image sets other
    than the sample set it did better on average (`benchmarks/own_images.py --other-sets`)."""
    return [make_layer("Flatten"), make_layer("Dropout", rate=0.3),
            make_layer("Dense", units=64, activation="relu"), make_layer("Dropout", rate=0.3),
            make_layer("Dense", units=num_classes, activation="softmax")]


def start_settings(start: str, **chosen) -> TrainingSettings:
    """The training a start suits, with the learner's choices (epochs, augmentations…) over it."""
    defaults = OWN_TRAINING if start in FROM_SCRATCH else OWN_BASE_TRAINING
    values = {**defaults, "augmentations": ",".join(default_augmentations(start))} | chosen
    return TrainingSettings(**values)


def default_augmentations(start: str) -> tuple[str, ...]:
    return DEFAULT_AUGMENTATIONS if start in FROM_SCRATCH else BASE_AUGMENTATIONS


def default_epochs(start: str) -> int:
    return start_settings(start).epochs


def load_cifar10_base() -> keras.Model:
    if not CIFAR10_BASE_PATH.is_file():
        raise OwnImagesRefused(f"The CIFAR-10 network {CIFAR10_BASE_PATH.name} is missing from assets/. "
                               "Recreate it with `python scripts/train_cifar10_base.py`, or start from "
                               "scratch.")
    return convolutional_part(keras.saving.load_model(CIFAR10_BASE_PATH, safe_mode=True, compile=False))


def session_base(session_model: keras.Model | None) -> keras.Model:
    if session_model is None:
        raise OwnImagesRefused("This session has no model of its own yet: train one on Build & Train "
                               "(CIFAR-10), or choose another start.")
    shape = tuple(session_model.input_shape[1:])
    if shape != MODEL_SHAPE:
        raise OwnImagesRefused(f"This session's model reads {shape_text(shape)} images, but your images "
                               f"reach the network as {model_shape_text()}: train a CIFAR-10 model on "
                               "Build & Train, or choose another start.")
    return convolutional_part(session_model)


def scratch_stack(start: str, num_classes: int, stack: list[dict] | None = None) -> list[dict]:
    """The layers a from-scratch start trains: the small CNN, or the learner's own stack."""
    if start == "stack":
        if not stack:
            raise OwnImagesRefused("The builder in the sidebar has no layers yet: add some, or pick a "
                                   "preset.")
        return stack
    return small_cnn(num_classes)


def own_model(start: str, num_classes: int, settings: TrainingSettings,
              session_model: keras.Model | None = None, stack: list[dict] | None = None) -> keras.Model:
    """A fresh network for `num_classes` classes of own images (`stack`: the learner's own, for
    the "stack" start). Raises OwnImagesRefused, StackError or BaseUnavailableError (each a
    message for the learner)."""
    if start not in STARTS:
        raise OwnImagesRefused(f"Unknown start {start!r}; choose one of {', '.join(STARTS)}.")
    if start in FROM_SCRATCH:
        stack = scratch_stack(start, num_classes, stack)
        check_budget(trace_shapes(stack, MODEL_SHAPE, num_classes), settings.batch_size)
        return build_model(stack, MODEL_SHAPE, num_classes, seed=settings.seed)
    if start == "cifar10":
        base = load_cifar10_base()
    elif start == "mobilenet_v2":
        base = load_imagenet_base(start)
    else:
        base = session_base(session_model)
    return transfer_model(base, new_head(num_classes), num_classes, seed=settings.seed)


