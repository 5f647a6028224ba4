"""Inspection and the convolution explainer, checked against Keras and NumPy references."""

import keras
import numpy as np
import pytest

from playground.explain.convolution import (
    KERNELS,
    PATTERNS,
    convolution_steps,
    convolve,
    downsample,
    output_size_formula,
    pool,
    step_arithmetic,
)
from playground.explain.inspection import (
    ActivationProbe,
    activation_probe,
    conv_kernels,
    feature_map_grid,
    filter_kernels,
    layer_views,
    tile,
)
from playground.models.building import Classifier, build_model
from playground.spec.activations import FUNCTIONS, activation, derivative, softmax
from playground.spec.layers import make_layer
from playground.spec.presets import PRESETS, preset
from playground.spec.shapes import conv_output_size

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
    """Every layer, a residual block's inner ones included, on the preset's own data set."""
    from playground.spec.datasets import DATASETS
    from playground.spec.presets import PRESET_SETUPS

    shape = DATASETS[PRESET_SETUPS.get(name, {}).get("dataset", "mnist")].image_shape
    model = build_model(preset(name), shape)
    image = RNG.random(shape).astype(np.float32)
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
    assert np.isnan(grid[:, 3]).all()  # the gap


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


def test_step_arithmetic_writes_out_the_sum():
    kernel = np.array(KERNELS["Diagonal ↘"], float)
    steps = convolution_steps(PATTERNS["X"], kernel)
    expected = "1×1 + 0×-1 + 0×-1 + 0×-1 + 1×1 + 0×-1 + 0×-1 + 0×-1 + 1×1 = 3"
    assert step_arithmetic(steps[0], kernel) == expected
    np.testing.assert_array_equal(steps[5].window, PATTERNS["X"][0:3, 5:8])


def test_diagonal_kernel_finds_the_x_but_not_the_o():
    kernel = np.array(KERNELS["Diagonal ↘"], float)
    assert convolve(PATTERNS["X"], kernel).max() == 3.0
    assert convolve(PATTERNS["O"], kernel).max() < 3.0


def test_downsample_averages_blocks():
    image = RNG.random((28, 28))
    small = downsample(image, 2)
    assert small.shape == (14, 14)
    assert small[3, 5] == pytest.approx(image[6:8, 10:12].mean())


STACK_WITH_EVERYTHING = [
    make_layer("Conv2D", filters=4, kernel_size=3, activation="relu"), make_layer("BatchNormalization"),
    make_layer("MaxPooling2D", pool_size=2), make_layer("Dropout", rate=0.5),
    make_layer("Conv2D", filters=6, kernel_size=3, padding="same"),
    make_layer("Activation", activation="tanh"),
    make_layer("AveragePooling2D", pool_size=2), make_layer("GlobalAveragePooling2D"),
    make_layer("Dense", units=8, activation="relu"), make_layer("Dense", units=10, activation="softmax"),
]


def test_layer_views_pair_each_pooling_layer_with_what_it_pooled():
    model = build_model(STACK_WITH_EVERYTHING)
    image = RNG.random((28, 28, 1)).astype(np.float32)
    activations = ActivationProbe(model).activations(image)
    views = layer_views(image, activations)
    assert [view.kind for view in views] == ["maps", "maps", "pooled", "inactive", "maps", "maps", "pooled",
                                             "pooled", "vector", "probabilities"]
    assert views[0].source.values is not None and views[0].source.shape == (28, 28, 1)
    maxpool, global_average = views[2], views[7]
    np.testing.assert_allclose(maxpool.activation.values,
                               np.stack([pool(maxpool.source.values[..., channel], 2)
                                         for channel in range(4)], axis=-1), atol=1e-6)
    np.testing.assert_allclose(global_average.activation.values,
                               global_average.source.values.mean(axis=(0, 1)), atol=1e-6)


def nested_upload() -> keras.Model:
    """A notebook's model without a channel axis, wrapped whole behind a Reshape, as the
    upload refusal advises."""
    inner = keras.Sequential([keras.Input((28, 28)), keras.layers.Flatten(), keras.layers.Dense(10)])
    return keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Reshape((28, 28)), inner])


def wrapped_cnn() -> keras.Model:
    """A notebook's CNN for 28 × 28 × 1 images that wants 28 × 28 ones, wrapped whole."""
    inner = keras.Sequential([keras.Input((28, 28)), keras.layers.Reshape((28, 28, 1)),
                              keras.layers.Conv2D(6, 3, name="inner_conv"), keras.layers.MaxPooling2D(),
                              keras.layers.Conv2D(4, 3, name="inner_conv_2"), keras.layers.Flatten(),
                              keras.layers.Dense(10, activation="softmax")])
    return keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Reshape((28, 28)), inner])


def test_the_kernels_of_a_wrapped_model_are_found_inside_it():
    model = wrapped_cnn()
    inner = model.layers[-1]
    kernels = conv_kernels(model)
    assert [name for name, _ in kernels] == ["inner_conv", "inner_conv_2"]
    np.testing.assert_array_equal(kernels[0][1], np.asarray(inner.get_layer("inner_conv").kernel))
    assert kernels[1][1].shape == (3, 3, 6, 4)


def test_a_two_dimensional_output_is_one_map():
    image = RNG.random((28, 28, 1)).astype(np.float32)
    probe = ActivationProbe(nested_upload())
    views = layer_views(image, probe.activations(image), probe.sources)
    assert [view.kind for view in views] == ["maps", "flatten", "probabilities"]
    np.testing.assert_array_equal(views[0].activation.values, image[..., 0])


def test_a_wrapped_cnn_is_inspected_layer_by_layer():
    model = wrapped_cnn()
    image = RNG.random((28, 28, 1)).astype(np.float32)
    probe = ActivationProbe(model)
    activations = probe.activations(image)
    assert [activation.kind for activation in activations] == [
        "Reshape", "Reshape", "Conv2D", "MaxPooling2D", "Conv2D", "Flatten", "Dense"]
    inner_conv = model.layers[-1].get_layer("inner_conv")
    expected = np.asarray(inner_conv(image.reshape(1, 28, 28, 1)))[0]
    np.testing.assert_allclose(activations[2].values, expected, atol=1e-6)
    np.testing.assert_allclose(activations[-1].values, np.asarray(model(image[np.newaxis]))[0], atol=1e-6)
    views = layer_views(image, activations, probe.sources)
    assert views[3].kind == "pooled" and views[3].source is activations[2]


def test_a_classifier_builds_its_probe_once():
    classifier = Classifier(build_model(preset("Blog: Dense-only baseline")), "test", tuple("0123456789"))
    assert activation_probe(classifier) is activation_probe(classifier)


def test_an_uncalled_sequential_model_is_refused_with_a_reason():
    model = keras.Sequential([keras.layers.Flatten(), keras.layers.Dense(10)])
    with pytest.raises(ValueError, match="built and called"):
        ActivationProbe(model)


def test_tile_and_colorize():
    from playground.views.figures import colorize

    maps = np.arange(2 * 2 * 3, dtype=np.float32).reshape(2, 2, 3)
    grid = tile(maps, columns=2)
    assert grid.shape == (5, 5)
    np.testing.assert_array_equal(grid[3:, :2], maps[..., 2])
    assert np.isnan(grid[3:, 3:]).all()  # no fourth map
    image = colorize(np.array([[0.0, 1.0], [np.nan, 0.5]]), scale=3)
    assert image.shape == (6, 6, 3) and image.dtype == np.uint8
    np.testing.assert_array_equal(image[0, 0], [68, 1, 84])  # Viridis' ends: #440154 and #fde725
    np.testing.assert_array_equal(image[0, 5], [253, 231, 37])
    np.testing.assert_array_equal(image[5, 0], [255, 255, 255])


def test_filter_kernels():
    kernel = RNG.normal(size=(3, 3, 1, 5))
    np.testing.assert_array_equal(filter_kernels(kernel), kernel[:, :, 0, :])
    deeper = RNG.normal(size=(3, 3, 5, 7))
    np.testing.assert_array_equal(filter_kernels(deeper, 6), deeper[..., 6])
    with pytest.raises(ValueError, match="filters 0 to 6"):
        filter_kernels(deeper, 7)
    with pytest.raises(ValueError, match="choose a filter"):
        filter_kernels(deeper)


def test_integrated_gradients_of_a_linear_model_are_input_times_weight():
    from playground.explain.saliency import integrated_gradients

    model = build_model([make_layer("Flatten"), make_layer("Dense", units=10, activation="linear")])
    image = RNG.random((28, 28, 1)).astype(np.float32)
    weights = np.asarray(model.layers[-1].kernel)[:, 4].reshape(28, 28, 1)
    attributions = integrated_gradients(model, image, 4, from_logits=False, steps=4)
    np.testing.assert_allclose(attributions, image * weights, atol=1e-5)


def test_integrated_gradients_add_up_to_the_change_in_probability(default_classifier, mnist):
    from playground.explain.saliency import integrated_gradients

    model = default_classifier.model
    for index in range(3):
        image, label = mnist.x_test[index], int(mnist.y_test[index])
        attributions = integrated_gradients(model, image, label, from_logits=False)
        assert attributions.shape == image.shape
        outputs = np.asarray(model(np.stack([image, np.zeros_like(image)]), training=False))
        change = outputs[0, label] - outputs[1, label]
        assert attributions.sum() == pytest.approx(change, abs=0.03)
        assert np.all(attributions[image == 0] == 0)  # no ink, no share


def test_integrated_gradients_of_a_logits_model_explain_the_probability(default_classifier, mnist):
    """The issue's case: on a logits model the attributions once added up to 7.84 (a logit)
    while the page said they add up to a change in probability."""
    import keras

    from playground.explain.saliency import integrated_gradients

    softmax_model = default_classifier.model
    last = softmax_model.layers[-1]
    logits = keras.layers.Dense(10, activation="linear")
    logits_model = keras.Model(softmax_model.inputs, logits(last.input))
    logits.set_weights(last.get_weights())
    image, label = mnist.x_test[0], int(mnist.y_test[0])
    attributions = integrated_gradients(logits_model, image, label, from_logits=True)
    scores = np.asarray(logits_model(np.stack([image, np.zeros_like(image)]), training=False), np.float64)
    probabilities = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
    change = probabilities[0, label] - probabilities[1, label]
    assert abs(scores[0, label] - scores[1, label]) > 2, "a logit change is far from a probability change"
    assert attributions.sum() == pytest.approx(change, abs=0.03)


@pytest.mark.parametrize("window, stride", [(2, 2), (3, 1), (3, 2)])
def test_pooling_equals_numpy_max_and_mean_over_the_windows(window, stride):
    image = RNG.normal(size=(8, 8))
    windows = np.lib.stride_tricks.sliding_window_view(image, (window, window))[::stride, ::stride]
    np.testing.assert_allclose(pool(image, window, stride, "valid", "max"), windows.max(axis=(2, 3)))
    np.testing.assert_allclose(pool(image, window, stride, "valid", "average"), windows.mean(axis=(2, 3)))


def test_a_pooling_layer_is_paired_with_its_real_input_in_a_branching_model():
    """The issue's upload: a 14×14×8 pool was once shown beside the other branch's 28×28×4 maps."""
    import keras

    from playground.explain.inspection import ActivationProbe, layer_views

    image = keras.Input((28, 28, 1))
    narrow = keras.layers.Conv2D(4, 3, padding="same", name="narrow")(image)
    wide = keras.layers.Conv2D(8, 3, padding="same", name="wide")(image)
    pooled_wide = keras.layers.MaxPooling2D(name="pool_wide")(wide)
    pooled_narrow = keras.layers.MaxPooling2D(name="pool_narrow")(narrow)
    merged = keras.layers.Concatenate(name="merge")([pooled_narrow, pooled_wide])
    outputs = keras.layers.Dense(10, activation="softmax")(keras.layers.Flatten()(merged))
    model = keras.Model(image, outputs)
    probe = ActivationProbe(model)
    digit = RNG.random((28, 28, 1)).astype(np.float32)
    views = {view.activation.name: view
             for view in layer_views(digit, probe.activations(digit), probe.sources)}
    assert views["pool_wide"].source.name == "wide" and views["pool_wide"].source.shape == (28, 28, 8)
    assert views["pool_narrow"].source.name == "narrow"
    assert views["narrow"].source.name == "input" and views["wide"].source.name == "input"
    assert views["merge"].source is None and views["merge"].kind == "merge"
    assert [item.name for item in views["merge"].merged] == ["pool_narrow", "pool_wide"]
    np.testing.assert_allclose(views["pool_wide"].activation.values,
                               views["pool_wide"].source.values.reshape(14, 2, 14, 2, 8).max(axis=(1, 3)),
                               rtol=1e-6)


def test_a_residual_blocks_sum_is_paired_with_its_two_paths():
    from playground.explain.inspection import ActivationProbe, layer_views

    stack = [make_layer("Conv2D", filters=8, padding="same"), make_layer("ResidualBlock", filters=8),
             make_layer("ResidualBlock", filters=16, strides=2), make_layer("GlobalAveragePooling2D"),
             make_layer("Dense", units=10, activation="softmax")]
    model = build_model(stack, (32, 32, 3))
    probe = ActivationProbe(model)
    photo = RNG.random((32, 32, 3)).astype(np.float32)
    views = {view.activation.name: view
             for view in layer_views(photo, probe.activations(photo), probe.sources)}
    identity, projected = views["residual_block_add"], views["residual_block_1_add"]
    assert [item.name for item in identity.merged] == ["residual_block_bn2", "conv2d"]  # the input itself
    assert [item.name for item in projected.merged] == ["residual_block_1_bn2",
                                                        "residual_block_1_shortcut_bn"]
    np.testing.assert_allclose(identity.activation.values, sum(item.values for item in identity.merged),
                               rtol=1e-5, atol=1e-5)
    assert views["residual_block_1_conv1"].source.name == "residual_block"
    assert views["residual_block_1_shortcut"].source.name == "residual_block"


def test_the_explainers_partial_output_and_padding():
    from playground.explain.convolution import convolution_steps, padding_offsets, partial_output

    image, kernel = np.arange(16.0).reshape(4, 4), np.ones((3, 3))
    steps = convolution_steps(image, kernel)  # 2×2 outputs: 45, 54, 81, 90
    shown = partial_output(steps, 3)
    assert shown[0, 0] == 45 and shown[0, 1] == 54 and shown[1, 0] == 81 and np.isnan(shown[1, 1])
    assert padding_offsets(4, 3, 1, "valid") == (0, 0)
    assert padding_offsets(4, 3, 1, "same") == (1, 1)
    assert padding_offsets(4, 2, 2, "same") == (0, 0)


def test_colour_filters_show_each_filters_rgb_weights():
    from playground.explain.inspection import colour_filters

    kernel = np.zeros((3, 3, 3, 4), np.float32)
    kernel[:, :, 0, 0] = 1.0  # filter 0 looks for red
    kernel[:, :, 2, 1] = -1.0  # filter 1 dislikes blue
    picture = colour_filters(kernel)
    assert picture.shape == (7, 7, 3)  # 2 × 2 filters of 3 × 3 with one-pixel gaps
    assert tuple(picture[1, 1]) == (255, 128, 128)  # red full on, green and blue at 0 → mid-gray
    assert tuple(picture[1, 5]) == (128, 128, 0)
    assert tuple(picture[3, 3]) == (255, 255, 255)  # a gap
