"""Multiply-adds: hand-computed formulas, and TensorFlow's own profiler as an independent count."""

import pytest

from playground.models.building import build_model
from playground.spec.costs import (
    PARAMETER_BUDGET,
    layer_costs,
    multiply_adds,
    multiply_adds_by_kind,
    training_memory_bytes,
)
from playground.spec.datasets import DATASETS
from playground.spec.layers import make_layer
from playground.spec.presets import PRESET_SETUPS, PRESETS, preset
from playground.spec.shapes import trace_shapes


@pytest.mark.parametrize("kind, spec, input_shape, output_shape, expected", [
    # 26·26 outputs × 32 filters, each a sum over a 3·3·1 window
    ("Conv2D", {"kernel_size": 3}, (28, 28, 1), (26, 26, 32), 26 * 26 * 32 * 9),
    # "same" padding and stride 2: 14·14 outputs, 8 filters, 5·5·3 windows
    ("Conv2D", {"kernel_size": 5}, (28, 28, 3), (14, 14, 8), 14 * 14 * 8 * 25 * 3),
    ("Dense", {}, (1024,), (128,), 1024 * 128),
    ("MaxPooling2D", {"pool_size": 2}, (26, 26, 32), (13, 13, 32), 13 * 13 * 32 * 4),
    ("AveragePooling2D", {"pool_size": 3}, (13, 13, 8), (6, 6, 8), 6 * 6 * 8 * 9),
    ("BatchNormalization", {}, (13, 13, 32), (13, 13, 32), 13 * 13 * 32),
    ("GlobalAveragePooling2D", {}, (4, 4, 128), (128,), 4 * 4 * 128),
    ("Flatten", {}, (4, 4, 128), (2048,), 0),
])
def test_one_layer_by_hand(kind, spec, input_shape, output_shape, expected):
    assert multiply_adds(kind, spec, input_shape, output_shape) == expected


def test_the_fast_default_by_hand():
    infos = trace_shapes(preset("Fast default"))
    costs = [cost.multiply_adds for cost in layer_costs(infos, (28, 28, 1), batch_size=256)]
    assert costs == [24 * 24 * 24 * 25,  # conv 24, 5×5, valid, on 28×28×1
                     12 * 12 * 24 * 4,  # 2×2 max pooling
                     12 * 12 * 24,  # batch norm
                     10 * 10 * 32 * 9 * 24,  # conv 32, 3×3 on 12×12×24
                     5 * 5 * 32 * 4, 5 * 5 * 32, 0,
                     800 * 128, 128 * 10]


def test_a_residual_block_by_hand():
    stack = [make_layer("Conv2D", filters=16, padding="same"),
             make_layer("ResidualBlock", filters=32, kernel_size=3, strides=2),
             make_layer("GlobalAveragePooling2D"), make_layer("Dense", units=10)]
    block = layer_costs(trace_shapes(stack, (32, 32, 3)), (32, 32, 3), 32)[1]
    out = 16 * 16 * 32
    assert block.multiply_adds == (out * 9 * 16  # conv1, stride 2, on the 16 input channels
                                   + out + out * 9 * 32 + out  # BN, conv2 on 32 channels, BN
                                   + out * 16 + out  # the 1×1 shortcut and its BN
                                   + out)  # the sum


def tensorflow_profile(model, input_shape) -> int:
    """FLOPs of Conv2D and MatMul in the model's frozen forward graph, by TensorFlow's profiler."""
    import tensorflow as tf
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

    function = tf.function(lambda images: model(images, training=False))
    concrete = function.get_concrete_function(tf.TensorSpec([1, *input_shape], tf.float32))
    options = tf.compat.v1.profiler.ProfileOptionBuilder.float_operation()
    options.update(output="none", account_type_regexes=["Conv2D", "MatMul"])
    graph = convert_variables_to_constants_v2(concrete).graph
    return tf.compat.v1.profiler.profile(graph=graph, options=options).total_float_ops


@pytest.mark.parametrize("name", list(PRESETS))
def test_every_preset_against_tensorflows_profiler(name):
    """The profiler counts a multiply and an add as two FLOPs."""
    shape = DATASETS[PRESET_SETUPS.get(name, {}).get("dataset", "mnist")].image_shape
    stack = preset(name)
    infos = trace_shapes(stack, shape)
    kinds = multiply_adds_by_kind(infos, shape)
    expected = 2 * (kinds.get("Conv2D", 0) + kinds["Dense"])
    assert tensorflow_profile(build_model(stack, shape), shape) == expected
    assert sum(cost.multiply_adds for cost in layer_costs(infos, shape, 32)) == sum(kinds.values())


def test_memory_per_layer_adds_up_to_the_budget_estimate():
    infos = trace_shapes(preset("Fast CIFAR"), (32, 32, 3))
    costs = layer_costs(infos, (32, 32, 3), batch_size=128)
    assert sum(cost.training_bytes for cost in costs) == training_memory_bytes(infos, 128)
    # Dense 10 on 128 pooled values: 1,290 weights with Adam's two moments, and its 10 outputs
    # about three times over for each of the batch's 128 images, at 4 bytes each.
    assert costs[-1].training_bytes == 4 * (3 * 1_290 + 3 * 128 * 10) == 30_840
    assert PARAMETER_BUDGET == 3_000_000
