"""What a stack of layer specs makes of an image: every layer's output shape and parameter
count (`trace_shapes`), or a `StackError` that names the layer that cannot work and says
why, in words a learner can act on. No Keras here: the sidebar calls this on every rerun,
and it must stay instant.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from playground.spec.datasets import GRAY_SHAPE, NUM_CLASSES
from playground.spec.layers import (
    MAX_LAYERS,
    SPATIAL_TYPES,
    StackError,
    describe_settings,
    layer_names,
    normalize_stack,
)


@dataclass(frozen=True)
class InnerLayer:
    """One layer inside a block: its Keras name, its path ("main", "shortcut" or "merge"),
    and its output shape and parameters."""

    name: str
    kind: str
    path: str
    output_shape: tuple[int, ...]
    params: int


@dataclass(frozen=True)
class LayerInfo:
    index: int
    name: str
    spec: dict
    output_shape: tuple[int, ...]
    params: int
    inner: tuple[InnerLayer, ...] = ()  # a block's layers, in the order they are built


def conv_output_size(size: int, window: int, stride: int, padding: str) -> int:
    """Output length along one axis: floor((n - k) / s) + 1 for "valid", ceil(n / s) for "same"."""
    if padding == "same":
        return math.ceil(size / stride)
    return (size - window) // stride + 1


def trace_shapes(stack: list[dict], input_shape=GRAY_SHAPE,
                 num_classes: int = NUM_CLASSES) -> list[LayerInfo]:
    """Each layer's output shape and parameter count, or a StackError naming the culprit."""
    if not stack:
        raise StackError(None, "The stack is empty: add layers, ending with Dense with "
                               f"{num_classes} units, or pick a preset.")
    if len(stack) > MAX_LAYERS:
        raise StackError(MAX_LAYERS, f"The stack has {len(stack)} layers; the playground takes at most "
                                     f"{MAX_LAYERS}. Remove some.")
    infos, error = trace_partial(stack, input_shape)
    if error is not None:
        raise error
    shape = infos[-1].output_shape
    if shape != (num_classes,):
        raise StackError(len(stack) - 1, f"The network must end with {num_classes} values, one per "
                         f"class, but its last layer outputs {_tensor_text(shape)}. "
                         f"End with Flatten (if needed) and Dense with {num_classes} units.")
    return infos


def trace_partial(stack: list[dict], input_shape=GRAY_SHAPE) -> tuple[list[LayerInfo], StackError | None]:
    """The layers that work, up to the first that cannot, and that layer's error (or None)."""
    try:
        stack = normalize_stack(stack)
    except StackError as error:
        infos, _ = trace_partial(stack[:error.index], input_shape)
        return infos, error
    shape = tuple(input_shape)
    infos = []
    for index, (spec, name) in enumerate(zip(stack, layer_names(stack), strict=True)):
        try:
            shape, params = _layer_output(index, spec, shape)
            _check_softmax(index, spec, shape)
        except StackError as error:
            return infos, error
        inner = residual_layers(name, spec, infos[-1].output_shape if infos else tuple(input_shape)) \
            if spec["type"] == "ResidualBlock" else ()
        infos.append(LayerInfo(index, name, spec, shape, params, inner))
    return infos, None


def _label(index: int, spec: dict) -> str:
    """How refusals name a layer: "Layer 3 (Conv2D)"."""
    return f"Layer {index + 1} ({spec['type']})"


def _layer_output(index: int, spec: dict, shape: tuple) -> tuple[tuple, int]:
    layer_type = spec["type"]
    label = _label(index, spec)
    if layer_type in SPATIAL_TYPES and len(shape) != 3:
        raise StackError(index, f"{label} needs an image-shaped input (height, width, channels) "
                         f"but receives {_tensor_text(shape)}. Move it above the Flatten or "
                         "GlobalAveragePooling2D that made the maps flat.")
    if layer_type == "Conv2D":
        return _conv_output(index, label, spec, shape)
    if layer_type == "ResidualBlock":
        return _residual_output(index, label, spec, shape)
    if layer_type in ("MaxPooling2D", "AveragePooling2D"):
        return _pool_output(index, label, spec, shape), 0
    if layer_type == "GlobalAveragePooling2D":
        return (shape[2],), 0
    if layer_type == "Flatten":
        return (math.prod(shape),), 0
    if layer_type == "Dense":
        if len(shape) != 1:
            raise StackError(index, f"{label} needs a flat vector but receives {_tensor_text(shape)}. "
                             "Add Flatten or GlobalAveragePooling2D before it.")
        return (spec["units"],), shape[0] * spec["units"] + spec["units"]
    if layer_type == "BatchNormalization":
        return shape, 4 * shape[-1]  # gamma, beta, moving mean, moving variance
    return shape, 0  # Dropout, Activation


def _check_softmax(index: int, spec: dict, shape: tuple) -> None:
    """Softmax shares 1 among the values of the last axis: over a single value it always
    gives 1, so nothing after it can learn (Keras only warns)."""
    if spec.get("activation") == "softmax" and shape[-1] == 1:
        what = {"Conv2D": "filter", "Dense": "unit"}.get(spec["type"], "channel")
        raise StackError(index, f"{_label(index, spec)}: softmax over one {what} always outputs 1, "
                         f"so nothing after it can learn. Use another activation, or more {what}s.")


def _conv_output(index: int, label: str, spec: dict, shape: tuple) -> tuple[tuple, int]:
    height, width, channels = shape
    kernel, stride = spec["kernel_size"], spec["strides"]
    if spec["padding"] == "valid" and kernel > min(height, width):
        raise StackError(index, f"{label}: its {kernel}×{kernel} kernel is larger than its "
                         f"{height}×{width} input. Use a smaller kernel, padding 'same', or "
                         "remove a pooling layer before it.")
    out_shape = (conv_output_size(height, kernel, stride, spec["padding"]),
                 conv_output_size(width, kernel, stride, spec["padding"]), spec["filters"])
    params = kernel * kernel * channels * spec["filters"] + spec["filters"]
    return out_shape, params


def residual_layers(name: str, spec: dict, shape: tuple) -> tuple[InnerLayer, ...]:
    """A residual block's layers for an input of `shape`. Convolutions before batch norm
    have no bias (batch norm's beta takes its place). The shortcut is the input itself,
    unless the stride or the channel count changes: then a 1×1 convolution with batch norm."""
    height, width, channels = shape
    filters, kernel, stride = spec["filters"], spec["kernel_size"], spec["strides"]
    out = (conv_output_size(height, kernel, stride, "same"), conv_output_size(width, kernel, stride, "same"),
           filters)
    layers = [
        InnerLayer(f"{name}_conv1", "Conv2D", "main", out, kernel * kernel * channels * filters),
        InnerLayer(f"{name}_bn1", "BatchNormalization", "main", out, 4 * filters),
        InnerLayer(f"{name}_relu1", "Activation", "main", out, 0),
        InnerLayer(f"{name}_conv2", "Conv2D", "main", out, kernel * kernel * filters * filters),
        InnerLayer(f"{name}_bn2", "BatchNormalization", "main", out, 4 * filters),
    ]
    if stride != 1 or channels != filters:
        layers += [InnerLayer(f"{name}_shortcut", "Conv2D", "shortcut", out, channels * filters),
                   InnerLayer(f"{name}_shortcut_bn", "BatchNormalization", "shortcut", out, 4 * filters)]
    layers += [InnerLayer(f"{name}_add", "Add", "merge", out, 0),
               InnerLayer(name, "Activation", "merge", out, 0)]
    return tuple(layers)


def _residual_output(index: int, label: str, spec: dict, shape: tuple) -> tuple[tuple, int]:
    height, width, _ = shape
    kernel = spec["kernel_size"]
    inner = residual_layers("block", spec, shape)
    out_height, out_width, _ = inner[0].output_shape
    for which, (size_height, size_width) in (("first", (height, width)), ("second", (out_height, out_width))):
        if kernel > min(size_height, size_width):
            raise StackError(index, f"{label}, its {which} convolution: its {kernel}×{kernel} kernel is "
                             f"larger than the {size_height}×{size_width} maps it slides over. Use a "
                             "smaller kernel or stride, or place the block before a pooling layer.")
    return inner[-1].output_shape, sum(layer.params for layer in inner)


def _pool_output(index: int, label: str, spec: dict, shape: tuple) -> tuple:
    height, width, channels = shape
    window = spec["pool_size"]
    stride = spec["strides"] or window
    if spec["padding"] == "valid" and window > min(height, width):
        raise StackError(index, f"{label}: its {window}×{window} window is larger than its "
                         f"{height}×{width} input. Use a smaller window, padding 'same', or "
                         "fewer pooling layers.")
    return (conv_output_size(height, window, stride, spec["padding"]),
            conv_output_size(width, window, stride, spec["padding"]), channels)


def shape_text(shape) -> str:
    """A shape as the pages show it: 12 × 12 × 24."""
    return " × ".join(str(size) for size in shape)


def _tensor_text(shape: tuple) -> str:
    return f"a {len(shape)}-D tensor of shape {shape_text(shape)}"


def summary_rows(infos: list[LayerInfo], costs=None) -> list[dict]:
    """One row per layer for a table: name, type, settings, output shape, parameters, and with
    `costs` (playground.spec.costs.layer_costs) its multiply-adds and training memory."""
    rows = []
    for position, info in enumerate(infos):
        row = {"#": info.index + 1, "layer": info.name, "settings": describe_settings(info.spec),
               "output shape": shape_text(info.output_shape), "parameters": info.params}
        if costs is not None:
            row["multiply-adds"] = costs[position].multiply_adds
            row["training memory (MB)"] = round(costs[position].training_bytes / 2**20, 2)
        rows.append(row)
    return rows


def total_params(infos: list[LayerInfo]) -> int:
    return sum(info.params for info in infos)
