"""Your images' starts and augmentation: each start builds for any number of classes, or
says in one line why it cannot; the preview shows eight different versions of a picture."""

from __future__ import annotations

import numpy as np
import pytest

from playground.models.building import build_model
from playground.models.own_networks import STARTS, own_model, start_settings
from playground.spec.own_images import MODEL_SHAPE, OwnImagesRefused
from playground.training.augment import preview


@pytest.mark.parametrize("classes", [2, 7, 10])
def test_a_small_cnn_scores_one_value_per_class(classes):
    model = own_model("scratch", classes, start_settings("scratch"))
    assert model.output_shape == (None, classes) and model.input_shape == (None, *MODEL_SHAPE)


def test_the_cifar10_base_is_frozen_under_a_new_head():
    model = own_model("cifar10", 4, start_settings("cifar10"))
    trainable = {layer.name for layer in model.layers if layer.trainable and layer.weights}
    assert trainable and all(name.startswith("head_") for name in trainable)
    assert model.output_shape == (None, 4)


def test_the_sessions_model_must_exist_and_read_colour_photos():
    with pytest.raises(OwnImagesRefused, match="no model of its own"):
        own_model("session", 3, start_settings("session"), session_model=None)
    digits = build_model([{"type": "Flatten"}, {"type": "Dense", "units": 10, "activation": "softmax"}])
    with pytest.raises(OwnImagesRefused, match="reads 28 × 28 × 1 images.*as 32 × 32 × 3"):
        own_model("session", 3, start_settings("session"), session_model=digits)


def test_an_empty_own_stack_and_an_unknown_start_are_refused():
    with pytest.raises(OwnImagesRefused, match="no layers"):
        own_model("stack", 3, start_settings("stack"), stack=[])
    with pytest.raises(OwnImagesRefused, match="Unknown start"):
        own_model("melted", 3, start_settings("scratch"))
    assert "melted" not in STARTS


def test_the_preview_shows_eight_different_versions_in_range():
    rng = np.random.default_rng(0)
    image = rng.random((64, 64, 3)).astype(np.float32)
    versions = preview(image, ["flip", "shift", "rotate", "zoom", "brightness", "contrast"])
    assert versions.shape == (8, 64, 64, 3)
    assert versions.min() >= 0 and versions.max() <= 1
    assert len({version.tobytes() for version in versions}) == 8
    assert not any(np.array_equal(version, image) for version in versions)
    flipped = preview(image, ["flip"])
    mirrored = image[:, ::-1]
    assert all(np.array_equal(version, image) or np.array_equal(version, mirrored) for version in flipped)
