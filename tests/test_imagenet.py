"""ResNet50 on photos, checked against direct Keras calls (with seeded random weights)."""

import numpy as np
import pytest
import tensorflow as tf
from keras.applications import resnet50
from PIL import Image

from playground.explain.photos import (
    CLASSIFIER_LAYER,
    LAST_CONV_LAYER,
    TOP_K,
    WEIGHTS_VARIABLE,
    WeightsUnavailableError,
    center_square,
    class_names,
    grad_cam,
    load_resnet50,
    model_input,
)
from playground.views.figures import heatmap_overlay

CAFFE_MEANS_BGR = np.array([103.939, 116.779, 123.68], np.float32)


def photo(seed: int = 0, size=(640, 480)) -> Image.Image:
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 256, (size[1], size[0], 3), np.uint8))


def test_class_names_are_offline_and_in_keras_order():
    names = class_names()
    assert len(names) == 1000
    assert names[0] == "tench" and names[281] == "tabby cat" and names[999] == "toilet tissue"


def test_center_square_keeps_the_middle_and_the_proportions():
    wide = Image.new("RGB", (600, 200), "red")
    wide.paste(Image.new("RGB", (200, 200), "lime"), (200, 0))
    square = center_square(wide)
    assert square.size == (224, 224)
    assert square.getpixel((112, 112)) == (0, 255, 0)
    assert square.getpixel((2, 112))[1] > 200  # only the green middle third is left
    assert center_square(Image.new("RGB", (1, 1), "blue")).size == (224, 224)


def test_preprocessing_is_keras_resnet50_preprocess_input():
    square = center_square(photo())
    pixels = np.asarray(square, np.float32)
    expected = pixels[..., ::-1] - CAFFE_MEANS_BGR  # "caffe" mode: BGR, ImageNet means removed
    np.testing.assert_allclose(model_input(square)[0], expected, atol=1e-4)
    np.testing.assert_allclose(model_input(square), resnet50.preprocess_input(pixels[np.newaxis].copy()),
                               atol=1e-4)


@pytest.mark.slow
def test_top_3_equals_a_direct_keras_call(photo_classifier):
    for seed in range(3):
        result = photo_classifier.classify(photo(seed))
        batch = model_input(center_square(photo(seed)))
        direct = np.asarray(photo_classifier.model(batch, training=False))[0]
        expected = np.argsort(direct)[::-1][:TOP_K]
        assert [item.index for item in result.top] == list(expected)
        np.testing.assert_allclose([item.probability for item in result.top], direct[expected], rtol=1e-4)
        assert [item.name for item in result.top] == [class_names()[index] for index in expected]
        probabilities = [item.probability for item in result.top]
        assert probabilities == sorted(probabilities, reverse=True) and sum(probabilities) <= 1.0 + 1e-6


def test_grad_cam_equals_cam_for_a_global_pooling_network(photo_classifier):
    """For GAP then Dense, Grad-CAM's weights are the Dense weights / 49: it reduces to CAM."""
    result = photo_classifier.classify(photo(1))
    assert result.heatmap.shape == (7, 7)
    assert result.heatmap.min() >= 0.0 and result.heatmap.max() == pytest.approx(1.0)
    model = photo_classifier.model
    maps = tf.keras.Model(model.inputs[0], model.get_layer(LAST_CONV_LAYER).output)(
        model_input(result.crop), training=False)[0].numpy()
    weights = model.get_layer(CLASSIFIER_LAYER).get_weights()[0][:, result.top[0].index]
    cam = np.maximum(maps @ weights, 0.0)
    np.testing.assert_allclose(result.heatmap, cam / cam.max(), atol=1e-4)


def test_grad_cam_of_hand_made_maps():
    maps = np.zeros((2, 2, 2), np.float32)
    maps[0, 0, 0], maps[1, 1, 1] = 4.0, 2.0
    gradients = np.stack([np.full((2, 2), 1.0), np.full((2, 2), -1.0)], axis=-1)
    # channel 1's gradient is negative, so its map counts against the class and is cut by the ReLU
    np.testing.assert_allclose(grad_cam(maps, gradients), [[1.0, 0.0], [0.0, 0.0]])
    np.testing.assert_array_equal(grad_cam(maps, np.zeros_like(gradients)), np.zeros((2, 2)))


def test_early_maps_and_overlay(photo_classifier):
    result = photo_classifier.classify(photo(2, size=(300, 500)))
    assert result.early_maps.shape == (112, 112, 64) and result.early_maps.min() >= 0.0  # after ReLU
    overlay = heatmap_overlay(result.crop, result.heatmap)
    assert overlay.size == (224, 224) and overlay.mode == "RGB"


def test_a_missing_weights_file_says_how_to_fix_it(tmp_path, monkeypatch):
    monkeypatch.setenv(WEIGHTS_VARIABLE, str(tmp_path / "nowhere.h5"))
    with pytest.raises(WeightsUnavailableError, match=f"{WEIGHTS_VARIABLE} names .*does not exist"):
        load_resnet50()


def test_a_file_that_is_not_resnet50_weights_is_refused(tmp_path):
    wrong = tmp_path / "wrong.weights.h5"
    wrong.write_bytes(b"not an HDF5 file")
    with pytest.raises(WeightsUnavailableError, match="is not a ResNet50 weights file"):
        load_resnet50(str(wrong))


def test_without_internet_or_a_file_the_error_says_what_to_do(monkeypatch, tmp_path):
    monkeypatch.delenv(WEIGHTS_VARIABLE, raising=False)
    monkeypatch.setattr("keras.src.backend.config.keras_home", lambda: str(tmp_path))  # no cached copy
    monkeypatch.setattr("keras.src.utils.file_utils.urlretrieve", _no_network)
    with pytest.raises(WeightsUnavailableError, match=f"set {WEIGHTS_VARIABLE} to its path"):
        load_resnet50()


def _no_network(*args, **kwargs):
    raise OSError("network is unreachable")
