"""Build & Train's "Start from a trained network": the base in the sidebar, frozen, with its
layers and parameter counts; the builder's stack becomes the new head on top of it."""

from __future__ import annotations

import math
from dataclasses import dataclass

import streamlit as st

from pages.parts.builder import load_stack
from pages.parts.common import SESSION_MODEL_KEY, default_classifier
from pages.parts.training_settings import setting_key
from playground.models.transfer import (
    IMAGENET_BASES,
    base_layers,
    convolutional_part,
    imagenet_base_summary,
    load_imagenet_base,
)
from playground.spec.datasets import DATASETS, GRAY_SHAPE, dataset_for_shape
from playground.spec.layers import make_layer
from playground.spec.shapes import shape_text

SCRATCH = "none"
BASE_TITLES = {
    SCRATCH: "No: build a whole network",
    "session": "This session's model",
    "default": "The default digit model",
    **{name: spec["title"] for name, spec in IMAGENET_BASES.items()},
}
# Starting points that suit each kind of base: few images, and small batches for the
# ImageNet networks, whose 96 × 96 maps are large.
DIGIT_BASE_TRAINING = {"subset_size": 5000, "epochs": 3, "batch_size": 64, "learning_rate": 1e-3,
                       "schedule": "constant", "augment": False}
IMAGENET_BASE_TRAINING = {"subset_size": 5000, "epochs": 2, "batch_size": 32, "learning_rate": 1e-3,
                          "schedule": "constant", "augment": True}


@dataclass(frozen=True)
class BaseSummary:
    title: str
    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...]
    frozen: int
    rows: list[dict]  # the frozen layers, for the builder's list
    largest_activation: int  # values in the base's largest layer output, for the memory check


def default_head(imagenet: bool) -> list[dict]:
    """Global pooling for an ImageNet base's deep 3 × 3 maps; Flatten and Dense 128 for a small one."""
    output = make_layer("Dense", units=10, activation="softmax")
    if imagenet:
        return [make_layer("GlobalAveragePooling2D"), output]
    return [make_layer("Flatten"), make_layer("Dense", units=128), output]


def switch_base(apply_setup) -> None:
    """The base picker's callback: keep the whole network aside while a head is built, give it
    back when the learner returns to building from scratch, and pick a data set that fits."""
    choice = st.session_state.transfer_base
    if choice == SCRATCH:
        if "scratch_layers" in st.session_state:
            st.session_state.builder_layers = st.session_state.pop("scratch_layers")
        return
    st.session_state.setdefault("scratch_layers", st.session_state.builder_layers)
    imagenet = choice in IMAGENET_BASES
    load_stack(default_head(imagenet))
    dataset = st.session_state.get(setting_key("dataset"), "mnist")
    if choice == "default" and dataset == "mnist":
        dataset = "fashion_mnist"  # the digit base's classic new task
    try:
        input_shape = (32, 32, 3) if imagenet else tuple(source_model(choice).model.input_shape[1:])
        dataset = dataset_for_shape(input_shape, dataset)
    except (ValueError, FileNotFoundError, OSError):
        pass  # no model to start from: the sidebar says so, and the data set stays
    apply_setup({"dataset": dataset, "training": IMAGENET_BASE_TRAINING if imagenet else DIGIT_BASE_TRAINING})


def base_choice(apply_setup) -> str:
    return st.sidebar.selectbox(
        "Start from a trained network", list(BASE_TITLES), format_func=BASE_TITLES.get, key="transfer_base",
        on_change=switch_base, args=(apply_setup,),
        help="Transfer learning: keep a trained network's convolutional part, frozen, and train only a new "
             "head (the layers below) on another data set.")


def base_summary(choice: str) -> BaseSummary:
    """What the builder shows of the base: no copy of any model is made on a rerun."""
    if choice in IMAGENET_BASES:
        output_shape, params, largest = imagenet_base_summary(choice)
        rows = [{"layer": "scale_up", "type": "Resizing", "output": "96 × 96 × 3", "params": 0},
                {"layer": IMAGENET_BASES[choice]["application"], "type": "ImageNet network, no top",
                 "output": shape_text(output_shape), "params": params}]
        return BaseSummary(BASE_TITLES[choice], (32, 32, 3), output_shape, params, rows, largest)
    model = source_model(choice).model
    layers = base_layers(model)
    rows = [{"layer": layer.name, "type": layer.kind, "output": shape_text(layer.output_shape),
             "params": layer.params} for layer in layers]
    return BaseSummary(BASE_TITLES[choice], tuple(model.input_shape[1:]), layers[-1].output_shape,
                       sum(layer.params for layer in layers), rows,
                       max(math.prod(layer.output_shape) for layer in layers))


def source_model(choice: str):
    if choice == "session":
        classifier = st.session_state.get(SESSION_MODEL_KEY)
        if classifier is None:
            raise ValueError("This session has no model of its own yet: train or upload one first, "
                             "or start from the default digit model.")
        return classifier
    return default_classifier()


# What benchmarks/transfer.py measured on two CPU cores (5 epochs each, Fashion-MNIST's
# 10,000 test images): the page tells learners what to expect, whichever way it came out.
DIGIT_BASE_FINDINGS = (
    "**What to expect** (measured here, Fashion-MNIST): with the digit model's convolutions frozen, a new "
    "head on 1,000 images reached 80.1 % in 2.5 s, the same network trained from scratch 80.3 % in 6.1 s; "
    "on 5,000 images, 83.4 % in 4.9 s against 85.2 % in 19.4 s. Strokes of digits are not the edges of "
    "clothes, so the frozen features mostly save time; fine-tuning them afterwards reached 81.6 % and "
    "85.4 %, the best of the three. Features transfer best between similar tasks.")


def show_base(summary: BaseSummary, dataset_name: str) -> str | None:
    """The frozen base in the sidebar; a message if the data set's images do not fit it."""
    with st.sidebar.expander(f"🔒 **Frozen base** → {shape_text(summary.output_shape)} · "
                             f"{summary.frozen:,} params"):
        st.dataframe(summary.rows, hide_index=True)
        st.caption("These layers keep their trained weights: only the head below trains. Batch norm "
                   "stays frozen even when you fine-tune.")
    if summary.input_shape == GRAY_SHAPE:
        st.sidebar.caption(DIGIT_BASE_FINDINGS)
    image_shape = tuple(DATASETS[dataset_name].image_shape)
    if image_shape != summary.input_shape:
        return (f"{summary.title} reads {shape_text(summary.input_shape)} images, but "
                f"{DATASETS[dataset_name].title}'s are {shape_text(image_shape)}. Choose a data set "
                "with images of that shape, or another base.")
    return None


def base_loading_message(choice: str) -> str:
    if choice in IMAGENET_BASES:
        spec = IMAGENET_BASES[choice]
        return (f"Loading {spec['title']}. The first time, Keras downloads its ImageNet weights (about "
                f"{spec['download_megabytes']} MB); this can take a minute…")
    return f"Copying the convolutional part of {BASE_TITLES[choice]}…"


def make_base(choice: str):
    """A fresh, trainable-later copy of the base for one training."""
    if choice in IMAGENET_BASES:
        return load_imagenet_base(choice)
    return convolutional_part(source_model(choice).model)
