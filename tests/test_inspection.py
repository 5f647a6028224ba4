"""Inspection and the convolution explainer, checked against Keras and NumPy references."""

import keras
import numpy as np
import pytest

from playground.activations import FUNCTIONS, activation, derivative, softmax
from playground.convolution import convolution_steps, convolve, output_size_formula, pool
from playground.inspection import ActivationProbe, conv_kernels, feature_map_grid
from playground.layers import conv_output_size
from playground.model import build_model
from playground.presets import PRESETS, preset

RNG = np.random.default_rng(3)


def numpy_convolution(image, kernel, stride):
    """A direct, loop-free reference: every window as a strided view, summed with the kernel."""
    windows = np.lib.stride_tricks.sliding_window_view(image, kernel.shape)[::stride, ::stride]
    return np.einsum("ijkl,kl->ij", windows, kernel)


def keras_convolution(image, kernel, stride, padding):
    layer = keras.layers.Conv2D(1, kernel.shape[0], strides=stride, padding=padding, use_bias=False)
    layer.build((1, *image.shape, 1))
    layer.set_weights([kernel[..., None, None]])
    return np.asarray(layer(image[None, ..., None].astype(np.float32)))[0, ..., 0]


@pytest.mark.parametrize("size, window, stride, padding", [
    (7, 3, 1, "valid"), (7, 3, 2, "valid"), (7, 3, 1, "same"), (7, 3, 2, "same"), (8, 2, 2, "same"),
    (9, 4, 3, "same"), (5, 5, 1, "valid"),
])
def test_convolution_matches_keras_and_numpy(size, window, stride, padding):
    image, kernel = RNG.normal(size=(size, size)), RNG.normal(size=(window, window))
    ours = convolve(image, kernel, stride, padding)
    np.testing.assert_allclose(ours, keras_convolution(image, kernel, stride, padding), atol=1e-4)
    if padding == "valid":
        np.testing.assert_allclose(ours, numpy_convolution(image, kernel, stride), atol=1e-10)
    assert ours.shape == (conv_output_size(size, window, stride, padding),) * 2


def test_each_step_is_the_sum_of_its_products():
    image, kernel = np.arange(16.0).reshape(4, 4), np.array([[1.0, 0.0], [0.0, -1.0]])
    steps = convolution_steps(image, kernel, stride=2)
    assert [(step.row, step.column, step.top, step.left) for step in steps] == \
        [(0, 0, 0, 0), (0, 1, 0, 2), (1, 0, 2, 0), (1, 1, 2, 2)]
    assert steps[0].total == image[0, 0] - image[1, 1] == -5.0


@pytest.mark.parametrize("size, window, stride, padding", [
    (7, 2, 2, "same"), (4, 2, 2, "valid"), (7, 3, 2, "valid"), (6, 3, 1, "same"), (5, 2, 1, "valid"),
])
@pytest.mark.parametrize("mode, layer", [("max", keras.layers.MaxPooling2D),
                                         ("average", keras.layers.AveragePooling2D)])
def test_pooling_matches_keras(size, window, stride, padding, mode, layer):
    image = RNG.normal(size=(size, size))
    keras_pool = layer(window, stride, padding)
    expected = np.asarray(keras_pool(image[None, ..., None].astype(np.float32)))[0, ..., 0]
    np.testing.assert_allclose(pool(image, window, stride, padding, mode), expected, atol=1e-5)


def test_pooling_sizes_from_the_course():
    assert pool(np.ones((7, 7)), 2, 2, "same").shape == (4, 4)
    assert pool(np.ones((4, 4)), 2, 2, "valid").shape == (2, 2)


def test_output_size_formula_text():
    assert output_size_formula(28, 3, 1, "valid") == "⌊(n − k) / s⌋ + 1 = ⌊(28 − 3) / 1⌋ + 1 = 26"
    assert output_size_formula(7, 2, 2, "same") == "⌈n / s⌉ = ⌈7 / 2⌉ = 4"


def test_kernel_too_large_without_padding():
    with pytest.raises(ValueError, match="does not fit"):
        convolve(np.ones((3, 3)), np.ones((5, 5)))


@pytest.mark.parametrize("name", list(PRESETS))
def test_probe_equals_a_direct_keras_sub_model_call(name):
    model = build_model(preset(name))
    image = RNG.random((28, 28, 1)).astype(np.float32)
    activations = ActivationProbe(model).activations(image)
    assert [item.name for item in activations] == [layer.name for layer in model.layers[1:]]
    for item, layer in zip(activations, model.layers[1:], strict=True):
        reference = keras.Model(model.inputs[0], layer.output)(image[None], training=False)
        np.testing.assert_allclose(item.values, np.asarray(reference)[0], rtol=1e-5, atol=1e-5)


def test_dropout_is_inactive_when_inspecting():
    model = build_model(preset("Default model (shipped)"))
    probe = ActivationProbe(model)
    image = RNG.random((28, 28, 1)).astype(np.float32)
    first, second = probe.activations(image), probe.activations(image)
    dropout = next(index for index, item in enumerate(first) if item.kind == "Dropout")
    np.testing.assert_array_equal(first[dropout].values, first[dropout - 1].values)
    np.testing.assert_array_equal(first[-1].values, second[-1].values)


def test_first_convolution_maps_equal_a_numpy_convolution():
    model = build_model(preset("Tutorial: Conv32 → Conv64 → Dense128"))
    image = RNG.random((28, 28, 1)).astype(np.float32)
    maps = ActivationProbe(model).activations(image)[0].values
    kernel = conv_kernels(model)[0][1]
    bias = np.asarray(model.layers[1].bias)
    for channel in (0, 7, 31):
        expected = np.maximum(numpy_convolution(image[..., 0], kernel[..., 0, channel], 1) + bias[channel], 0)
        np.testing.assert_allclose(maps[..., channel], expected, atol=1e-5)


def test_feature_map_grid_tiles_each_map_scaled():
    maps = np.stack([np.full((3, 3), 5.0), np.arange(9.0).reshape(3, 3)], axis=-1)
    grid = feature_map_grid(maps, columns=2)
    assert grid.shape == (3, 7)
    np.testing.assert_array_equal(grid[:, :3], 0.0)  # a constant map has no contrast
    np.testing.assert_allclose(grid[:, 4:], np.arange(9.0).reshape(3, 3) / 8.0)
    np.testing.assert_array_equal(grid[:, 3], 1.0)  # the gap


@pytest.mark.parametrize("name", list(FUNCTIONS))
def test_activations_and_derivatives_match_keras(name):
    import tensorflow as tf

    points = np.linspace(-4, 4, 41)
    np.testing.assert_allclose(activation(name, points),
                               getattr(keras.activations, name)(points.astype(np.float32)), atol=2e-3)
    variable = tf.Variable(points)
    with tf.GradientTape() as tape:
        output = getattr(keras.activations, name)(variable)
    gradient = tape.gradient(output, variable).numpy()
    mask = np.abs(points) > 1e-9  # relu's kink at 0 is a matter of convention
    np.testing.assert_allclose(derivative(name, points)[mask], gradient[mask], atol=2e-3)


def test_softmax():
    scores = np.array([1.0, 2.0, 3.0])
    np.testing.assert_allclose(softmax(scores), keras.ops.softmax(scores), rtol=1e-6)
