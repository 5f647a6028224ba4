"""What a network costs: multiply-adds for one image, parameters and training memory, and the
budgets that keep one training within a small server's memory.

Multiply-adds (MACs) are counted for one image going forward, as papers count them (a FLOP
is half a multiply-add, so FLOPs ≈ 2 × MACs):
- Conv2D: every output value is a sum over a k × k × C_in window: H_out·W_out·F·k²·C_in;
- Dense: one per weight, N_in·N_out;
- batch norm at prediction: one per value (its scale and shift fold into one multiply-add);
- pooling: one comparison (max) or addition (average) per window element, H_out·W_out·C·k²;
  global average pooling one addition per value; a residual sum one per value;
- activations, dropout and Flatten: none.
Bias additions are not counted. A convolution's cost grows with the size of its maps, so the
first convolutions, on full-size images, usually cost the most.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from playground.spec.layers import StackError
from playground.spec.shapes import LayerInfo, total_params

# Budgets that keep one training within a Community Cloud app's memory (690 MB to 2.7 GB).
PARAMETER_BUDGET = 3_000_000
TRAINING_MEMORY_BUDGET_BYTES = 512 * 1024 * 1024
BYTES_PER_VALUE = 4
# Forward activations, their gradients, and the optimizer's work space: about three copies.
ACTIVATION_COPIES = 3
OPTIMIZER_COPIES = 3  # a weight, and Adam's two moments


@dataclass(frozen=True)
class LayerCost:
    name: str
    multiply_adds: int  # for one image, forward
    training_bytes: int  # its share of the training memory estimate, for one batch


def multiply_adds(kind: str, spec: dict, input_shape: tuple, output_shape: tuple) -> int:
    """One layer's multiply-adds for one image (see the module's note for what counts)."""
    outputs = math.prod(output_shape)
    if kind == "Conv2D":
        kernel = spec.get("kernel_size", 1)
        return outputs * kernel * kernel * input_shape[-1]
    if kind == "Dense":
        return input_shape[0] * output_shape[0]
    if kind == "GlobalAveragePooling2D":
        return math.prod(input_shape)
    if kind in ("BatchNormalization", "Add"):
        return outputs
    if kind in ("MaxPooling2D", "AveragePooling2D"):
        return outputs * spec["pool_size"] ** 2
    return 0  # Activation, Dropout, Flatten


def layer_costs(infos: list[LayerInfo], input_shape, batch_size: int) -> list[LayerCost]:
    """Each layer's multiply-adds and training memory; a residual block's are its layers' sum."""
    operations = [0] * len(infos)
    for index, _kind, count in _operations(infos, input_shape):
        operations[index] += count
    return [LayerCost(info.name, count, layer_training_bytes(info, batch_size))
            for info, count in zip(infos, operations, strict=True)]


def multiply_adds_by_kind(infos: list[LayerInfo], input_shape) -> dict[str, int]:
    """The network's multiply-adds by Keras layer type, a block's inner layers included."""
    totals: dict[str, int] = {}
    for _index, kind, count in _operations(infos, input_shape):
        totals[kind] = totals.get(kind, 0) + count
    return totals


def _operations(infos: list[LayerInfo], input_shape):
    """(top-level index, Keras layer type, multiply-adds) for every layer, inner ones included."""
    shape = tuple(input_shape)
    for index, info in enumerate(infos):
        if info.inner:
            for layer in info.inner:
                yield index, layer.kind, multiply_adds(layer.kind, _inner_spec(info.spec, layer.name),
                                                       _inner_input(info, layer, shape), layer.output_shape)
        else:
            kind = info.spec["type"]
            yield index, kind, multiply_adds(kind, info.spec, shape, info.output_shape)
        shape = info.output_shape


def _inner_spec(spec: dict, name: str) -> dict:
    """The kernel size a block's inner convolution slides: 1 × 1 on the shortcut."""
    return {"kernel_size": 1 if name.endswith("_shortcut") else spec["kernel_size"]}


def _inner_input(info: LayerInfo, layer, block_input: tuple) -> tuple:
    """What a block's inner layer reads: the block's input for the first convolution and the
    shortcut, the output of the layer before it otherwise (all keep the block's output size)."""
    if layer.name.endswith(("_conv1", "_shortcut")):
        return block_input
    return info.output_shape


def check_budget(infos: list[LayerInfo], batch_size: int, frozen_params: int = 0,
                 base_values: int = 0) -> None:
    """Refuse a stack whose trainable parameters or training memory exceed the budgets. For a
    head on a frozen base (playground.models.transfer), the base's parameters count once (no gradients
    or optimizer slots), and its largest layer output twice per image (a layer's input and
    output are alive together; a frozen base keeps nothing for the backward pass)."""
    parameters = total_params(infos)
    if parameters > PARAMETER_BUDGET:
        raise StackError(None, f"This network has {parameters:,} parameters, above the playground's "
                         f"budget of {PARAMETER_BUDGET:,}. Use fewer filters or units, or add pooling "
                         "before Flatten.")
    needed = training_memory_bytes(infos, batch_size) + BYTES_PER_VALUE * (frozen_params
                                                                           + 2 * batch_size * base_values)
    if needed > TRAINING_MEMORY_BUDGET_BYTES:
        raise StackError(None, f"Training this network with batches of {batch_size} needs about "
                         f"{needed / 2**20:,.0f} MB, above the budget of "
                         f"{TRAINING_MEMORY_BUDGET_BYTES / 2**20:,.0f} MB. Use a smaller batch, fewer "
                         "filters, or pool earlier.")


def training_memory_bytes(infos: list[LayerInfo], batch_size: int) -> int:
    """A rough estimate: parameters with Adam's two slots, plus activations for one batch."""
    return sum(layer_training_bytes(info, batch_size) for info in infos)


def layer_training_bytes(info: LayerInfo, batch_size: int) -> int:
    """A layer's share: its parameters with Adam's two moments, and about three copies of its
    outputs (a residual block's layers' outputs) for every image of a batch."""
    values = sum(math.prod(layer.output_shape) for layer in (info.inner or [info]))
    return BYTES_PER_VALUE * (OPTIMIZER_COPIES * info.params + ACTIVATION_COPIES * batch_size * values)
