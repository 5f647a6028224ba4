"""What several pages share: server-wide cached resources and the session's model.

Cached resources are shared by every session, so they are only ever read. A model the
user trains lives in `st.session_state` and belongs to that browser session alone.
"""

from __future__ import annotations

import streamlit as st

from playground.jobs.process_memory import freeze_long_lived
from playground.spec.datasets import DATASETS, dataset_named_by
from playground.views.text import literal

SESSION_MODEL_KEY = "session_classifier"
LAST_DIGIT_KEY = "last_digit"  # the last 28×28 drawing, for Inspect and How it works


def long_lived(resource):
    """A shared resource, just loaded: it and the modules it needed stay for the server's life,
    so later garbage collections skip them (see playground.jobs.process_memory)."""
    freeze_long_lived()
    return resource


@st.cache_resource(show_spinner="Loading the default model…")
def default_classifier():
    from playground.models.building import load_default_classifier

    return long_lived(load_default_classifier())


DOWNLOAD_SIZES = ", ".join(f"{info.title} about {info.download_megabytes} MB"
                           for info in DATASETS.values())


@st.cache_resource(show_spinner=f"Loading the data set, once per server. The first time, Keras downloads it "
                                f"({DOWNLOAD_SIZES}); this can take a few minutes…")
def dataset(name: str):
    from playground.data.loading import load_dataset

    return long_lived(load_dataset(name))


def classifier_test_set(classifier):
    """The test set of the data set whose classes `classifier` names; None, said on the page,
    if it cannot be loaded."""
    from playground.data.loading import DataFormatError, DataUnavailableError

    if classifier.test_set is not None:
        return classifier.test_set
    try:
        return dataset(dataset_named_by(classifier.class_names))
    except (DataUnavailableError, DataFormatError) as error:
        st.error(str(error))
        return None


def test_image_caption(data, index: int, class_name: str) -> str:
    return f"{data.title} test image {index}, true label **{class_name}**"


def session_classifier():
    """This session's own model if it trained one, else the shared default model."""
    return st.session_state.get(SESSION_MODEL_KEY) or default_classifier()


def classifier_or_stop():
    """This session's classifier, with a caption saying which; stops the page if there is none."""
    try:
        classifier = session_classifier()
    except (FileNotFoundError, OSError, ValueError) as error:
        st.error(f"No model to work with: {error}")
        st.stop()
    st.caption(f"Using **{classifier.title}**: {literal(classifier.description)}.")
    return classifier


@st.cache_resource(show_spinner="Loading ResNet50. The first time, Keras downloads its ImageNet weights "
                                "(about 100 MB); this takes a minute…")
def photo_classifier():
    """ResNet50, once per server, shared read-only by every session (it calls under a lock)."""
    from playground.explain.photos import PhotoClassifier, load_resnet50

    return long_lived(PhotoClassifier(load_resnet50()))
