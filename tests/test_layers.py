import keras
import pytest

from playground.models.building import build_model
from playground.spec.layers import LayerSpecError, StackError, make_layer
from playground.spec.presets import PRESETS, preset
from playground.spec.shapes import conv_output_size, summary_rows, total_params, trace_shapes

conv, pool, dense = (lambda **s: make_layer("Conv2D", **s)), (lambda **s: make_layer("MaxPooling2D", **s)), \
    (lambda units, **s: make_layer("Dense", units=units, **s))
flatten = make_layer("Flatten")

EXTRA_STACKS = {
    "residual blocks with strides 3 and kernels 5": [
        conv(filters=6, kernel_size=3), make_layer("ResidualBlock", filters=6, kernel_size=5),
        make_layer("ResidualBlock", filters=10, kernel_size=3, strides=3),
        make_layer("ResidualBlock", filters=10, kernel_size=1, strides=2), flatten, dense(10),
    ],
    "strides and same padding": [
        conv(filters=8, kernel_size=5, strides=2, padding="same"), make_layer("BatchNormalization"),
        conv(filters=6, kernel_size=3, strides=3),
        make_layer("AveragePooling2D", pool_size=2, padding="same"),
        flatten, dense(10, activation="softmax"),
    ],
    "global average pooling": [
        conv(filters=16, kernel_size=3, activation="tanh"), make_layer("Activation", activation="relu"),
        make_layer("MaxPooling2D", pool_size=3, strides=2), make_layer("Dropout", rate=0.5),
        make_layer("GlobalAveragePooling2D"), dense(10, activation="softmax"),
    ],
    "odd sizes and valid pooling": [
        conv(filters=4, kernel_size=4), make_layer("AveragePooling2D", pool_size=3, strides=2),
        conv(filters=4, kernel_size=2, strides=2, activation="gelu"), flatten,
        make_layer("BatchNormalization"), dense(33, activation="swish"), dense(10, activation="linear"),
        make_layer("Activation", activation="softmax"),
    ],
}


@pytest.mark.parametrize("stack", [*PRESETS.values(), *EXTRA_STACKS.values()],
                         ids=[*PRESETS, *EXTRA_STACKS])
def test_shapes_and_params_match_keras(stack):
    """Layer by layer, a residual block's own layers included, on 28 × 28 × 1 and 32 × 32 × 3."""
    for shape in ((28, 28, 1), (32, 32, 3)):
        infos = trace_shapes(stack, shape)
        model = build_model(stack, shape)
        keras_layers = model.layers[1:]  # after the Input layer
        expected = {row.name: (row.output_shape, row.params)
                    for info in infos for row in (info.inner or [info])}
        # Keras orders a block's shortcut among its main path's layers by depth: compare by name
        assert {layer.name: (tuple(layer.output.shape[1:]), layer.count_params())
                for layer in keras_layers} == expected
        assert len(keras_layers) == len(expected)
        assert total_params(infos) == model.count_params()
        for info in infos:
            if info.inner:
                assert info.params == sum(row.params for row in info.inner)
                assert info.output_shape == info.inner[-1].output_shape


@pytest.mark.parametrize("size, window, stride, padding", [
    (28, 3, 1, "valid"), (28, 5, 2, "valid"), (28, 5, 2, "same"), (7, 2, 2, "same"),
    (7, 2, 2, "valid"), (13, 4, 3, "valid"), (13, 4, 3, "same"), (4, 2, 2, "valid"),
])
def test_output_size_formula_matches_keras(size, window, stride, padding):
    layer = keras.layers.MaxPooling2D(window, stride, padding)
    keras_size = layer.compute_output_shape((1, size, size, 1))[1]
    assert conv_output_size(size, window, stride, padding) == keras_size


def test_pooling_window_larger_than_input_names_the_layer():
    stack = [conv(filters=8, kernel_size=3), pool(pool_size=2), pool(pool_size=2), pool(pool_size=2),
             pool(pool_size=4), flatten, dense(10, activation="softmax")]
    with pytest.raises(StackError, match=r"Layer 5 \(MaxPooling2D\).*4×4 window.*3×3 input") as raised:
        trace_shapes(stack)
    assert raised.value.index == 4


def test_dense_on_image_tensor_asks_for_flatten():
    stack = [conv(filters=8), dense(10, activation="softmax")]
    with pytest.raises(StackError, match=r"Layer 2 \(Dense\).*3-D.*Add Flatten") as raised:
        trace_shapes(stack)
    assert raised.value.index == 1


def test_conv_after_flatten_is_refused():
    with pytest.raises(StackError, match=r"Layer 2 \(Conv2D\).*image-shaped") as raised:
        trace_shapes([flatten, conv(filters=8), dense(10)])
    assert raised.value.index == 1


@pytest.mark.parametrize("layer", [
    make_layer("Conv2D", filters=1, activation="softmax"),
    make_layer("Dense", units=1, activation="softmax"),
], ids=["conv with one filter", "dense with one unit"])
def test_softmax_over_one_value_is_refused(layer):
    """It always outputs 1: Keras only warns, and the network cannot learn."""
    stack = [layer, flatten, dense(10)] if layer["type"] == "Conv2D" else [flatten, layer, dense(10)]
    with pytest.raises(StackError, match="softmax over one .* always outputs 1"):
        trace_shapes(stack)
    trace_shapes([{**layer, "activation": "relu"}, *stack[1:]] if layer["type"] == "Conv2D"
                 else [flatten, {**layer, "activation": "relu"}, dense(10)])


def test_pooling_after_global_pooling_is_told_which_layers_flatten():
    global_average = make_layer("GlobalAveragePooling2D")
    with pytest.raises(StackError, match="GlobalAveragePooling2D that made the maps flat"):
        trace_shapes([conv(filters=8), global_average, make_layer("MaxPooling2D"), dense(10)])


def test_kernel_larger_than_input():
    stack = [conv(filters=4, kernel_size=9, strides=3), conv(filters=4, kernel_size=9), flatten, dense(10)]
    with pytest.raises(StackError, match=r"Layer 2 \(Conv2D\).*9×9 kernel.*7×7 input"):
        trace_shapes(stack)


def test_wrong_number_of_outputs():
    with pytest.raises(StackError, match="must end with 10 values.*outputs a 1-D tensor of shape 64"):
        trace_shapes([flatten, dense(64)])
    with pytest.raises(StackError, match="3-D tensor of shape 26 × 26 × 8"):  # as the builder shows shapes
        trace_shapes([conv(filters=8)])


def test_empty_stack():
    with pytest.raises(StackError, match="empty") as raised:
        trace_shapes([])
    assert raised.value.index is None


@pytest.mark.parametrize("layer_type, settings, message", [
    ("Conv2D", {"filters": 0}, "between 1 and 1024"),
    ("Conv2D", {"kernel_size": -3}, "between 1 and 28"),
    ("Conv2D", {"filters": 2.5}, "whole number"),
    ("Conv2D", {"padding": "full"}, "one of"),
    ("Dense", {"activation": "magic"}, "one of"),
    ("Dropout", {"rate": 1.0}, "between 0.0 and 0.95"),
    ("Dense", {"kernel": 3}, "no setting"),
    ("Conv3D", {}, "Unknown layer type"),
])
def test_bad_layer_settings(layer_type, settings, message):
    with pytest.raises(LayerSpecError, match=message):
        make_layer(layer_type, **settings)


def test_bad_setting_inside_a_stack_names_its_position():
    stack = [flatten, {"type": "Dense", "units": 0}]
    with pytest.raises(StackError, match="Layer 2: Dense units") as raised:
        trace_shapes(stack)
    assert raised.value.index == 1


def test_summary_rows():
    rows = summary_rows(trace_shapes(preset("Tutorial: Conv32 → Conv64 → Dense128")))
    assert [row["layer"] for row in rows][:3] == ["conv2d", "max_pooling2d", "conv2d_1"]
    assert rows[0]["output shape"] == "26 × 26 × 32"
    assert rows[0]["settings"] == "32 filters 3×3, stride 1, valid, relu"
    assert rows[0]["parameters"] == 3 * 3 * 1 * 32 + 32


def test_preset_is_a_copy():
    first = preset("Blog: Dense-only baseline")
    first[1]["units"] = 99
    assert preset("Blog: Dense-only baseline")[1]["units"] == 10


def test_a_residual_kernel_larger_than_its_maps_names_the_block_and_the_inner_convolution():
    stack = [conv(filters=8, kernel_size=3), make_layer("MaxPooling2D", pool_size=4),
             make_layer("ResidualBlock", filters=8, kernel_size=5, strides=2), flatten, dense(10)]
    with pytest.raises(StackError, match=r"Layer 3 \(ResidualBlock\), its second convolution: its 5×5 kernel "
                                         r"is larger than the 3×3 maps") as raised:
        trace_shapes(stack)
    assert raised.value.index == 2
    stack[2] = make_layer("ResidualBlock", filters=8, kernel_size=7)
    with pytest.raises(StackError, match="its first convolution: its 7×7 kernel is larger than the 6×6"):
        trace_shapes(stack)
    with pytest.raises(StackError, match="needs an image-shaped input"):
        trace_shapes([flatten, make_layer("ResidualBlock"), dense(10)])
