"""Shared fixtures. Tests that need real MNIST read it through PLAYGROUND_DATA_DIR, as CI does."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
APP_TIMEOUT = 60  # seconds for one AppTest run


def open_app_page(page: str, **session_state):
    """app.py run once, then `page` (a path in pages/), with `session_state` set in between, as
    a learner's session would hold it; the page must run without an exception."""
    from streamlit.testing.v1 import AppTest

    app = AppTest.from_file(APP, default_timeout=APP_TIMEOUT)
    app.run()
    for key, value in session_state.items():
        app.session_state[key] = value
    if page != "pages/home.py":
        app.switch_page(page).run()
    assert not app.exception, app.exception
    return app


def pytest_collection_modifyitems(items):
    """Every real-browser test is slow too: `-m "not slow"` leaves them out."""
    for item in items:
        if item.get_closest_marker("browser"):
            item.add_marker(pytest.mark.slow)


def skip_unless_ci(reason: str) -> None:
    """Skip, saying why; but in CI, where everything is installed, a missing piece is a failure."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} CI must provide it.")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def mnist():
    """The real MNIST, from PLAYGROUND_DATA_DIR (CI points it at ../shared/data)."""
    from playground.data.loading import DATA_DIR_VARIABLE, load_dataset

    if not os.environ.get(DATA_DIR_VARIABLE):
        skip_unless_ci(f"{DATA_DIR_VARIABLE} is not set, so real MNIST is not available offline.")
    return load_dataset("mnist")


def squares_dataset(train_images: int = 6000, test_images: int = 500, seed: int = 0, contrast: int = 180):
    """A made-up data set in MNIST's layout that a small CNN learns in one short epoch:
    class k is a 5×10 bar, `contrast` brighter than the noise, at its own place, jittered by a pixel.

    Tests of the training machinery (streaming, stop, queue, hand-over) use it, so they run
    without PLAYGROUND_DATA_DIR and evaluate in a blink; tests about MNIST itself use `mnist`.
    A low contrast hides the bars in the noise and makes the task harder.
    """
    import numpy as np

    from playground.data.loading import Dataset, float_images, with_channel_axis
    from playground.spec.datasets import DATASETS

    rng = np.random.default_rng(seed)

    def images_and_labels(count):
        labels = rng.integers(0, 10, count)
        images = rng.integers(0, 80, (count, 28, 28)).astype(np.int32)  # stored as bytes below, as MNIST is
        for image, label in zip(images, labels, strict=True):
            top = 2 + (label // 5) * 13 + rng.integers(-1, 2)
            left = 1 + (label % 5) * 5 + rng.integers(0, 2)
            image[top:top + 10, left:left + 5] += contrast
        return with_channel_axis(images.clip(0, 255).astype(np.uint8)), labels.astype(np.int32)

    train_pixels, y_train = images_and_labels(train_images)
    test_pixels, y_test = images_and_labels(test_images)
    return Dataset("mnist", "Squares", train_pixels, y_train, float_images(test_pixels), y_test,
                   DATASETS["mnist"].class_names, "made by the tests")


def save_colour_cifar(path: Path, train_images: int, test_images: int) -> None:
    """A small cifar10.npz in the Keras layout: each class a colour of its own, over noise."""
    import numpy as np

    rng = np.random.default_rng(0)
    colours = rng.integers(0, 256, (10, 3))

    def split(count):
        labels = rng.integers(0, 10, count)
        images = rng.integers(0, 60, (count, 32, 32, 3)) + colours[labels][:, None, None, :] * 0.7
        return images.clip(0, 255).astype(np.uint8), labels.astype(np.uint8).reshape(-1, 1)

    (x_train, y_train), (x_test, y_test) = split(train_images), split(test_images)
    np.savez(path, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)


def save_in_keras_layout(data, path: Path) -> None:
    """Write a Dataset as Keras' mnist.npz does: uint8 images (N, 28, 28) and uint8 labels."""
    import numpy as np

    images = {"x_train": data.train_pixels[..., 0],
              "x_test": np.rint(data.x_test[..., 0] * 255).astype(np.uint8)}
    np.savez(path, **images, y_train=data.y_train.astype(np.uint8), y_test=data.y_test.astype(np.uint8))


@pytest.fixture(scope="session")
def squares():
    return squares_dataset()


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
    from playground.models.building import load_default_classifier

    return load_default_classifier()


@pytest.fixture(scope="session")
def resnet50_weights(tmp_path_factory) -> Path:
    """ResNet50 with seeded random weights, saved as a local weights file.

    The real ImageNet weights cannot be downloaded here; the code paths are the same, and
    nothing in the tests pretends these weights know anything.
    """
    import keras
    from keras.applications import resnet50

    path = tmp_path_factory.mktemp("resnet50") / "seeded_resnet50.weights.h5"
    model = resnet50.ResNet50(weights=None)
    set_seeded_weights(model, seed=0)
    model.save_weights(path)
    keras.backend.clear_session()
    return path


def set_seeded_weights(model, seed: int) -> None:
    """Keras' default initial values (Glorot-uniform kernels, zero biases, unit batch norm),
    drawn from a generator of our own: seeding Keras globally would change the shuffling of
    every training that later tests run in this process."""
    import numpy as np

    rng = np.random.default_rng(seed)
    for variable in model.weights:
        shape, name = tuple(variable.shape), variable.path.rsplit("/", 1)[-1]
        if name in ("gamma", "moving_variance"):
            value = np.ones(shape)
        elif len(shape) < 2:  # biases, beta, moving_mean
            value = np.zeros(shape)
        else:
            receptive = int(np.prod(shape[:-2]))
            limit = np.sqrt(6.0 / (receptive * (shape[-2] + shape[-1])))
            value = rng.uniform(-limit, limit, shape)
        variable.assign(value.astype(np.float32))


@pytest.fixture(scope="session")
def photo_classifier(resnet50_weights):
    from playground.explain.photos import PhotoClassifier, load_resnet50

    return PhotoClassifier(load_resnet50(str(resnet50_weights)))


@pytest.fixture
def quick_pool(monkeypatch):
    """A pool of its own whose idle processes end after half a second."""
    from playground.jobs import worker_pool

    pool = worker_pool.TrainingProcesses(idle_seconds=0.5)
    monkeypatch.setattr(worker_pool, "_processes", pool)
    yield pool
    pool.end_all_idle()


POSTGRES_VARIABLE = "PLAYGROUND_TEST_POSTGRES_URL"  # .ci/postgres starts one and sets it


def postgres_url() -> str:
    """A PostgreSQL database URL whose tables go in a schema of their own, new for each call,
    so tests never see each other's rooms."""
    import uuid

    from sqlalchemy import create_engine, text

    url = os.environ.get(POSTGRES_VARIABLE)
    if not url:
        skip_unless_ci(f"No PostgreSQL for the board's tests: set {POSTGRES_VARIABLE} (.ci/postgres "
                       "starts one).")
    schema = f"test_{uuid.uuid4().hex[:12]}"
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    engine.dispose()
    return url + ("&" if "?" in url else "?") + f"options=-csearch_path%3D{schema}"
