"""Build & Train's "Start from a trained network": the base in the sidebar, frozen, with its
layers and parameter counts; the builder's stack becomes the new head on top of it."""

from __future__ import annotations

import streamlit as st

from pages.parts.builder import load_stack
from pages.parts.common import SESSION_MODEL_KEY, default_classifier
from pages.parts.training_settings import setting_key
from playground.models.starting_points import (
    BaseSummary,
    base_mismatch,
    base_setup,
    default_head,
    imagenet_summary,
    model_summary,
)
from playground.models.transfer import IMAGENET_BASES, convolutional_part, load_imagenet_base
from playground.spec.datasets import GRAY_SHAPE
from playground.spec.shapes import shape_text

SCRATCH = "none"
BASE_TITLES = {
    SCRATCH: "No: build a whole network",
    "session": "This session's model",
    "default": "The default digit model",
    **{name: spec["title"] for name, spec in IMAGENET_BASES.items()},
}
def switch_base(apply_setup) -> None:
    """The base picker's callback: keep the whole network aside while a head is built, give it
    back when the learner returns to building from scratch, and pick a data set that fits."""
    choice = st.session_state.transfer_base
    if choice == SCRATCH:
        if "scratch_layers" in st.session_state:
            st.session_state.builder_layers = st.session_state.pop("scratch_layers")
        return
    st.session_state.setdefault("scratch_layers", st.session_state.builder_layers)
    load_stack(default_head(choice in IMAGENET_BASES))
    dataset = st.session_state.get(setting_key("dataset"), "mnist")
    try:
        input_shape = None if choice in IMAGENET_BASES else tuple(source_model(choice).model.input_shape[1:])
    except (ValueError, FileNotFoundError, OSError):
        input_shape = None  # no model to start from: the sidebar says so, and the data set stays
    apply_setup(base_setup(choice, dataset, input_shape))


def base_choice(apply_setup) -> str:
    return st.sidebar.selectbox(
        "Start from a trained network", list(BASE_TITLES), format_func=BASE_TITLES.get, key="transfer_base",
        on_change=switch_base, args=(apply_setup,),
        help="Transfer learning: keep a trained network's convolutional part, frozen, and train only a new "
             "head (the layers below) on another data set.")


def base_summary(choice: str) -> BaseSummary:
    """What the builder shows of the base: no copy of any model is made on a rerun."""
    if choice in IMAGENET_BASES:
        return imagenet_summary(choice, BASE_TITLES[choice])
    return model_summary(source_model(choice).model, BASE_TITLES[choice])


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
    return base_mismatch(summary, dataset_name)


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
