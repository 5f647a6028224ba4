"""Looking inside a model: every layer's activations from one forward pass, and kernels.

`ActivationProbe` builds one multi-output model per trained model (not per rerun) and
returns all layers' outputs for an input with a single call. Works for any functional or
called Sequential model, including BatchNormalization, Dropout (inactive at inference)
and GlobalAveragePooling2D. A Sequential model that wraps Sequential models is shown with
their layers laid out in one chain.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import keras
import numpy as np

from playground.models.building import all_layers
from playground.training.keras_private import producing_operation


@dataclass(frozen=True)
class LayerActivation:
    name: str
    kind: str  # the Keras class name, e.g. "Conv2D"
    values: np.ndarray  # this layer's output for the one input, batch axis removed

    @property
    def shape(self) -> tuple[int, ...]:
        return self.values.shape


POOLING_KINDS = ("MaxPooling2D", "AveragePooling2D", "GlobalAveragePooling2D")


@dataclass(frozen=True)
class LayerView:
    """How the Inspect page shows one layer.

    `kind` is "maps", "pooled", "flatten", "merge" (Add, Concatenate), "vector",
    "probabilities" or "inactive" (Dropout).
    """

    activation: LayerActivation
    kind: str
    source: LayerActivation | None = None  # for pooling and Flatten, what went in
    merged: tuple[LayerActivation, ...] = ()  # for a merge, each of its inputs, in order


MODEL_INPUT = -1  # a source index: the layer reads the model's input image
MERGE_KINDS = ("Add", "Concatenate", "Subtract", "Multiply", "Average", "Maximum", "Minimum")


def layer_views(image: np.ndarray, activations: list[LayerActivation],
                sources: list[tuple[int, ...]] | None = None) -> list[LayerView]:
    """One view per layer, each paired with the outputs it really reads.

    `sources[i]` holds the indices of the layers whose outputs layer i reads (MODEL_INPUT for
    the image), from the model's graph (`ActivationProbe.sources`); without it, each layer
    reads the one before it, as in a plain stack."""
    if sources is None:
        sources = [(index,) for index in range(MODEL_INPUT, len(activations) - 1)]
    image_activation = LayerActivation("input", "Input", np.asarray(image, np.float32))

    def output_of(index: int) -> LayerActivation:
        return image_activation if index == MODEL_INPUT else activations[index]

    views = []
    for index, (current, feeding) in enumerate(zip(activations, sources, strict=True)):
        inputs = tuple(output_of(source) for source in feeding)
        kind = _view_kind(current, index == len(activations) - 1, len(inputs))
        views.append(LayerView(current, kind, inputs[0] if len(inputs) == 1 else None,
                               inputs if len(inputs) > 1 else ()))
    return views


def _view_kind(activation: LayerActivation, is_last: bool, input_count: int = 1) -> str:
    if input_count > 1 or activation.kind in MERGE_KINDS:
        return "merge"
    if activation.kind in POOLING_KINDS:
        return "pooled"
    if activation.kind == "Flatten":
        return "flatten"
    if activation.kind == "Dropout":
        return "inactive"
    if is_last:
        return "probabilities"
    # A 2-D output (a Reshape to 28 × 28, say) is one map without a channel axis.
    return "maps" if activation.values.ndim in (2, 3) else "vector"


class ActivationProbe:
    """All activations of `model` for one image, from one forward pass."""

    def __init__(self, model: keras.Model):
        if not model.built or not getattr(model, "inputs", None):
            raise ValueError("The model must be built and called once before it can be inspected.")
        chain = sequential_chain(model)
        if chain is not None:
            self.layers, self.probe = chain, _chain_probe(model, chain)
            self.sources = [(index - 1,) for index in range(len(chain))]  # the first reads MODEL_INPUT
        else:
            self.layers = [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]
            inputs = model.inputs[0] if len(model.inputs) == 1 else model.inputs
            self.probe = keras.Model(inputs, [layer.output for layer in self.layers])
            self.sources = _source_indices(self.layers)
        self._lock = threading.Lock()

    def activations(self, image: np.ndarray) -> list[LayerActivation]:
        batch = np.asarray(image, np.float32).reshape((1, *self.probe.input_shape[1:]))
        with self._lock:
            outputs = self.probe(batch, training=False)
        if not isinstance(outputs, (list, tuple)):
            outputs = [outputs]
        return [LayerActivation(layer.name, type(layer).__name__, np.asarray(output)[0])
                for layer, output in zip(self.layers, outputs, strict=True)]


def activation_probe(classifier) -> ActivationProbe:
    """The classifier's one multi-output model for Inspect, built on first use and kept with it."""
    return classifier.kept("activation_probe", ActivationProbe)


def activations_of(classifier, image: np.ndarray) -> list[LayerActivation]:
    """Every layer's activations for `image`, while no other thread uses the classifier's model."""
    probe = activation_probe(classifier)
    return classifier.run_alone(lambda _: probe.activations(image))


def sequential_chain(model: keras.Model) -> list[keras.layers.Layer] | None:
    """The layers of a Sequential model that holds Sequential models (an upload wrapped whole,
    as the upload advice says), each nested one laid out flat; None for any other model.
    Inspect then shows the wrapped network's own layers, not one box for all of them."""
    if not isinstance(model, keras.Sequential) or not any(
            isinstance(layer, keras.Sequential) for layer in model.layers):
        return None
    return [layer for layer in all_layers(model, into=keras.Sequential)
            if not isinstance(layer, (keras.Sequential, keras.layers.InputLayer))]


def _chain_probe(model: keras.Model, chain: list[keras.layers.Layer]) -> keras.Model:
    """A model of the same layers (the same weights), called one after another from a new
    input, with every layer's output as an output."""
    tensor = inputs = keras.Input(model.inputs[0].shape[1:], dtype=model.inputs[0].dtype)
    outputs = []
    for layer in chain:
        tensor = layer(tensor)
        outputs.append(tensor)
    return keras.Model(inputs, outputs)


def _source_indices(layers: list[keras.layers.Layer]) -> list[tuple[int, ...]]:
    """For each layer, the indices of the layers that produced its inputs, from the model's
    graph (MODEL_INPUT for the image)."""
    position = {id(layer): index for index, layer in enumerate(layers)}
    sources = []
    for layer in layers:
        inputs = layer.input if isinstance(layer.input, (list, tuple)) else [layer.input]
        sources.append(tuple(position.get(id(producing_operation(tensor)), MODEL_INPUT)
                             for tensor in inputs))
    return sources


def conv_kernels(model: keras.Model) -> list[tuple[str, np.ndarray]]:
    """(name, kernel of shape (height, width, in channels, filters)) for each Conv2D layer, in
    order, nested models' included: an upload wrapped whole behind a Reshape, a Flatten or a
    Rescaling, as the upload advice says (playground.models.uploads), keeps its convolutions inside."""
    return [(layer.name, np.asarray(layer.kernel)) for layer in all_layers(model)
            if isinstance(layer, keras.layers.Conv2D)]




def tile(maps: np.ndarray, columns: int | None = None, gap: int = 1) -> np.ndarray:
    """Lay (height, width, count) maps out in one 2-D array, NaN between them."""
    height, width, count = maps.shape
    columns = min(columns or int(np.ceil(np.sqrt(count))), count)
    rows = int(np.ceil(count / columns))
    grid = np.full((rows * (height + gap) - gap, columns * (width + gap) - gap), np.nan, np.float32)
    for index in range(count):
        row, column = divmod(index, columns)
        top, left = row * (height + gap), column * (width + gap)
        grid[top:top + height, left:left + width] = maps[..., index]
    return grid


def feature_map_grid(maps: np.ndarray, columns: int | None = None, gap: int = 1) -> np.ndarray:
    """Tile (height, width, channels) maps into one 2-D image, each map scaled to [0, 1].

    One image per layer is far cheaper for the browser than one chart per map. Each map
    gets its own scale, so a weak but structured map is as visible as a strong one; a
    constant map is all 0. Gaps are NaN.
    """
    low = maps.min(axis=(0, 1), keepdims=True)
    span = maps.max(axis=(0, 1), keepdims=True) - low
    scaled = np.divide(maps - low, span, out=np.zeros_like(maps, dtype=np.float32), where=span > 0)
    return tile(scaled, columns, gap)


def filter_kernels(kernel: np.ndarray, filter_index: int | None = None) -> np.ndarray:
    """Kernels to show as (height, width, count): one per filter of a single-channel layer
    (`filter_index` None), or one per input channel of the chosen filter."""
    if filter_index is None:
        if kernel.shape[2] != 1:
            raise ValueError("This layer has several input channels: choose a filter to see its kernels.")
        return kernel[:, :, 0, :]
    if not 0 <= filter_index < kernel.shape[3]:
        raise ValueError(f"This layer has filters 0 to {kernel.shape[3] - 1}, not {filter_index}.")
    return kernel[:, :, :, filter_index]


def colour_filters(kernel: np.ndarray, columns: int | None = None) -> np.ndarray:
    """A first layer's (height, width, 3, filters) kernels as small RGB pictures side by side,
    as in the AlexNet paper: one scale for all, mid-gray at 0, white gaps between."""
    if kernel.ndim != 4 or kernel.shape[2] != 3:
        raise ValueError(f"Colour filters need kernels of shape (height, width, 3, filters), "
                         f"not {kernel.shape}.")
    scaled = 0.5 + 0.5 * kernel / (float(np.abs(kernel).max()) or 1.0)
    picture = np.stack([tile(scaled[:, :, channel, :], columns) for channel in range(3)], axis=-1)
    return (np.nan_to_num(picture, nan=1.0) * 255).round().astype(np.uint8)
