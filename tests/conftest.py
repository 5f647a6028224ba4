"""Shared fixtures. Tests that need real MNIST read it through PLAYGROUND_DATA_DIR, as CI does."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

ROOT = Path(__file__).resolve().parent.parent


def skip_unless_ci(reason: str) -> None:
    """Skip, saying why; but in CI, where everything is installed, a missing piece is a failure."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} CI must provide it.")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def mnist():
    """The real MNIST, from PLAYGROUND_DATA_DIR (CI points it at ../shared/data)."""
    from playground.data import DATA_DIR_VARIABLE, load_dataset

    if not os.environ.get(DATA_DIR_VARIABLE):
        skip_unless_ci(f"{DATA_DIR_VARIABLE} is not set, so real MNIST is not available offline.")
    return load_dataset("mnist")


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright, shared by the browser tests."""
    from browser import chromium_path, launch_chromium

    if chromium_path() is None:
        skip_unless_ci("Chromium is not installed (apt-get install chromium).")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        skip_unless_ci("Playwright is not installed (pip install -r requirements-dev.txt).")
    with sync_playwright() as playwright:
        launched = launch_chromium(playwright)
        yield launched
        launched.close()


@pytest.fixture(scope="session")
def default_classifier():
    from playground.model import load_default_classifier

    return load_default_classifier()


@pytest.fixture(scope="session")
def resnet50_weights(tmp_path_factory) -> Path:
    """ResNet50 with seeded random weights, saved as a local weights file.

    The real ImageNet weights cannot be downloaded here; the code paths are the same, and
    nothing in the tests pretends these weights know anything.
    """
    import keras
    from keras.applications import resnet50

    keras.utils.set_random_seed(0)
    path = tmp_path_factory.mktemp("resnet50") / "seeded_resnet50.weights.h5"
    resnet50.ResNet50(weights=None).save_weights(path)
    keras.backend.clear_session()
    return path


@pytest.fixture(scope="session")
def photo_classifier(resnet50_weights):
    from playground.imagenet import PhotoClassifier, load_resnet50

    return PhotoClassifier(load_resnet50(str(resnet50_weights)))
