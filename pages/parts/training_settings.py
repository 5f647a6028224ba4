"""Build & Train's settings: the data set (in the sidebar, as it sets the input shape) and the
training widgets, kept in session state across page visits."""

import streamlit as st

from playground.spec.datasets import DATASETS, image_shapes_text
from playground.spec.presets import FAST_DEFAULT_TRAINING
from playground.spec.settings import (
    BATCH_SIZE_RANGE,
    EPOCHS_RANGE,
    LEARNING_RATE_MAX,
    OPTIMIZER_LABELS,
    OPTIMIZERS,
    SCHEDULE_HELP,
    SCHEDULE_LABELS,
    SCHEDULES,
    VALIDATION_SPLIT_RANGE,
    TrainingSettings,
)
from playground.training.augment import MAX_SHIFT

SETTINGS_KEY = "train_settings"


def setting_key(name: str) -> str:
    """The widget key of a saved setting: a preset or a link sets a widget through it."""
    return f"setting_{name}"


def saved_settings() -> dict:
    """This session's training settings, kept in session state across page visits."""
    return st.session_state.setdefault(SETTINGS_KEY, {"dataset": "mnist", **FAST_DEFAULT_TRAINING})


def apply_preset_setup(setup: dict) -> None:
    """A preset made for a data set, with its own training, brings them along: the saved
    settings and the widgets both take them (this runs in the preset picker's callback)."""
    values = {"dataset": setup["dataset"], **setup.get("training", {})}
    saved_settings().update(values)
    for name, value in values.items():
        st.session_state[setting_key(name)] = value


def dataset_choice() -> str:
    """The data set, at the top of the sidebar: it sets the network's input shape."""
    saved, names = saved_settings(), list(DATASETS)
    saved["dataset"] = st.sidebar.selectbox(
        "Data set", names, names.index(saved["dataset"]), key=setting_key("dataset"),
        format_func=lambda name: DATASETS[name].title,
        help=f"The network's input follows it: {image_shapes_text()}.")
    return saved["dataset"]


def training_settings(dataset_name: str) -> TrainingSettings:
    """The settings widgets; their values are kept in session state across page visits."""
    saved, available = saved_settings(), DATASETS[dataset_name].train_images
    # CIFAR-10 has 50,000 training images, the others 60,000: a count kept from another set shrinks
    saved["subset_size"] = min(saved["subset_size"], available)
    if st.session_state.get(setting_key("subset_size"), 0) > available:
        st.session_state[setting_key("subset_size")] = available
    first, second, third, fourth = st.columns(4)
    saved["subset_size"] = first.number_input("Training images", 1, available, saved["subset_size"], 1000,
                                              key=setting_key("subset_size"))
    saved["epochs"] = second.number_input("Epochs", *EPOCHS_RANGE, saved["epochs"], key=setting_key("epochs"))
    saved["batch_size"] = third.number_input("Batch size", *BATCH_SIZE_RANGE, saved["batch_size"],
                                             key=setting_key("batch_size"))
    saved["optimizer"] = fourth.selectbox(
        "Optimizer", OPTIMIZERS, OPTIMIZERS.index(saved["optimizer"]), key=setting_key("optimizer"),
        format_func=OPTIMIZER_LABELS.get)
    first, second, third = st.columns(3)
    saved["learning_rate"] = first.number_input(
        "Learning rate", 0.0, LEARNING_RATE_MAX, saved["learning_rate"], step=0.0005, format="%.4f",
        key=setting_key("learning_rate"))
    saved["schedule"] = second.selectbox(
        "Schedule", SCHEDULES, SCHEDULES.index(saved["schedule"]), key=setting_key("schedule"),
        format_func=SCHEDULE_LABELS.get, help=SCHEDULE_HELP)
    saved["validation_split"] = third.slider(
        "Validation split", *VALIDATION_SPLIT_RANGE, saved["validation_split"], 0.05,
        key=setting_key("validation_split"))
    saved["augment"] = st.checkbox(
        "Augment: mirror and shift each image", saved.get("augment", False), key=setting_key("augment"),
        help="Each time the network sees a training photo, it is flipped left to right (half the time) and "
             f"moved by up to {MAX_SHIFT} pixels, so it learns the classes rather than the photos. Good for "
             "CIFAR-10; not for digits, where a mirrored 3 is no 3.")
    return TrainingSettings(**{name: value for name, value in saved.items() if name != "dataset"})
