"""What Train starts from: a fresh network from scratch on a data set's images, or a new head
on a frozen base, each checked against the server's budgets before anything is built; and
the settings that suit each start (a base's default head and training, fine-tuning's rate)."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace

import keras

from playground.models.building import build_model
from playground.models.transfer import (
    FINE_TUNE_RATE_FACTOR,
    IMAGENET_BASES,
    IMAGENET_SIDE,
    base_layers,
    imagenet_base_summary,
    transfer_model,
)
from playground.spec.costs import check_budget
from playground.spec.datasets import COLOUR_SHAPE, DATASETS, NUM_CLASSES, dataset_for_shape
from playground.spec.layers import make_layer
from playground.spec.settings import TrainingSettings
from playground.spec.shapes import shape_text, trace_shapes

# Starting points that suit each kind of base: few images, and small batches for the
# ImageNet networks, whose 96 × 96 maps are large.
DIGIT_BASE_TRAINING = {"subset_size": 5000, "epochs": 3, "batch_size": 64, "learning_rate": 1e-3,
                       "schedule": "constant", "augment": False}
IMAGENET_BASE_TRAINING = {"subset_size": 5000, "epochs": 2, "batch_size": 32, "learning_rate": 1e-3,
                          "schedule": "constant", "augment": True}


@dataclass(frozen=True)
class BaseSummary:
    """What the builder shows of a base, and what the budget checks need, without a copy of it."""

    title: str
    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...]
    frozen: int
    rows: list[dict]  # the frozen layers, for the builder's list
    largest_activation: int  # values in the base's largest layer output, for the memory check


def default_head(imagenet: bool) -> list[dict]:
    """Global pooling for an ImageNet base's deep 3 × 3 maps; Flatten and Dense 128 for a small one."""
    output = make_layer("Dense", units=NUM_CLASSES, activation="softmax")
    if imagenet:
        return [make_layer("GlobalAveragePooling2D"), output]
    return [make_layer("Flatten"), make_layer("Dense", units=128), output]


def base_setup(choice: str, dataset: str, base_input_shape=None) -> dict:
    """The data set and training a base starts with: the digit base's classic new task is
    Fashion-MNIST; otherwise the first data set whose images the base reads."""
    imagenet = choice in IMAGENET_BASES
    if choice == "default" and dataset == "mnist":
        dataset = "fashion_mnist"
    shape = COLOUR_SHAPE if imagenet else base_input_shape
    if shape is not None:
        dataset = dataset_for_shape(shape, dataset)
    return {"dataset": dataset, "training": IMAGENET_BASE_TRAINING if imagenet else DIGIT_BASE_TRAINING}


def imagenet_summary(choice: str, title: str) -> BaseSummary:
    output_shape, params, largest = imagenet_base_summary(choice)
    side = f"{IMAGENET_SIDE} × {IMAGENET_SIDE} × {COLOUR_SHAPE[-1]}"
    rows = [{"layer": "scale_up", "type": "Resizing", "output": side, "params": 0},
            {"layer": IMAGENET_BASES[choice]["application"], "type": "ImageNet network, no top",
             "output": shape_text(output_shape), "params": params}]
    return BaseSummary(title, COLOUR_SHAPE, output_shape, params, rows, largest)


def model_summary(model: keras.Model, title: str) -> BaseSummary:
    layers = base_layers(model)
    rows = [{"layer": layer.name, "type": layer.kind, "output": shape_text(layer.output_shape),
             "params": layer.params} for layer in layers]
    return BaseSummary(title, tuple(model.input_shape[1:]), layers[-1].output_shape,
                       sum(layer.params for layer in layers), rows,
                       max(math.prod(layer.output_shape) for layer in layers))


def base_mismatch(summary: BaseSummary, dataset_name: str) -> str | None:
    """A message if the data set's images do not fit the base, else None."""
    info = DATASETS[dataset_name]
    if info.image_shape == summary.input_shape:
        return None
    return (f"{summary.title} reads {shape_text(summary.input_shape)} images, but {info.title}'s are "
            f"{shape_text(info.image_shape)}. Choose a data set with images of that shape, or another base.")


def model_from_scratch(stack: list[dict], dataset_name: str, settings: TrainingSettings) -> keras.Model:
    """The stack on the data set's images; StackError or ValueError if it cannot train here."""
    input_shape = DATASETS[dataset_name].image_shape
    check_budget(trace_shapes(stack, input_shape), settings.batch_size)
    return build_model(stack, input_shape, seed=settings.seed)


def model_on_base(stack: list[dict], summary: BaseSummary, make_base: Callable[[], keras.Model],
                  settings: TrainingSettings) -> keras.Model:
    """The stack as a new head on a frozen copy of the base, which `make_base` makes only once
    the head has passed the budget checks (an ImageNet base takes seconds)."""
    check_budget(trace_shapes(stack, summary.output_shape), settings.batch_size,
                 frozen_params=summary.frozen, base_values=summary.largest_activation)
    return transfer_model(make_base(), stack, seed=settings.seed)


def fine_tuning_settings(settings: TrainingSettings) -> TrainingSettings:
    """The same training again, for the whole network, at FINE_TUNE_RATE_FACTOR of the rate."""
    return replace(settings, learning_rate=settings.learning_rate * FINE_TUNE_RATE_FACTOR)
