"""Looking inside a model: every layer's activations from one forward pass, and kernels.

`ActivationProbe` builds one multi-output model per trained model (not per rerun) and
returns all layers' outputs for an input with a single call. Works for any functional or
called Sequential model, including BatchNormalization, Dropout (inactive at inference)
and GlobalAveragePooling2D.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import keras
import numpy as np


@dataclass(frozen=True)
class LayerActivation:
    name: str
    kind: str  # the Keras class name, e.g. "Conv2D"
    values: np.ndarray  # this layer's output for the one input, batch axis removed

    @property
    def shape(self) -> tuple[int, ...]:
        return self.values.shape


class ActivationProbe:
    """All activations of `model` for one image, from one forward pass."""

    def __init__(self, model: keras.Model):
        if not model.built or not getattr(model, "inputs", None):
            raise ValueError("The model must be built and called once before it can be inspected.")
        self.layers = [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]
        inputs = model.inputs[0] if len(model.inputs) == 1 else model.inputs
        self.probe = keras.Model(inputs, [layer.output for layer in self.layers])
        self._lock = threading.Lock()

    def activations(self, image: np.ndarray) -> list[LayerActivation]:
        batch = np.asarray(image, np.float32).reshape((1, *self.probe.input_shape[1:]))
        with self._lock:
            outputs = self.probe(batch, training=False)
        if not isinstance(outputs, (list, tuple)):
            outputs = [outputs]
        return [LayerActivation(layer.name, type(layer).__name__, np.asarray(output)[0])
                for layer, output in zip(self.layers, outputs, strict=True)]


def conv_kernels(model: keras.Model) -> list[tuple[str, np.ndarray]]:
    """(name, kernel of shape (height, width, in channels, filters)) for each Conv2D layer."""
    return [(layer.name, np.asarray(layer.kernel)) for layer in model.layers
            if isinstance(layer, keras.layers.Conv2D)]


def feature_map_grid(maps: np.ndarray, columns: int | None = None, gap: int = 1) -> np.ndarray:
    """Tile (height, width, channels) maps into one 2-D image, each map scaled to [0, 1].

    One image per layer is far cheaper for the browser than one chart per map.
    """
    height, width, count = maps.shape
    columns = columns or int(np.ceil(np.sqrt(count)))
    rows = int(np.ceil(count / columns))
    low = maps.min(axis=(0, 1), keepdims=True)
    span = maps.max(axis=(0, 1), keepdims=True) - low
    scaled = np.divide(maps - low, span, out=np.zeros_like(maps, dtype=np.float32), where=span > 0)
    grid = np.ones((rows * (height + gap) - gap, columns * (width + gap) - gap), np.float32)
    for index in range(count):
        row, column = divmod(index, columns)
        top, left = row * (height + gap), column * (width + gap)
        grid[top:top + height, left:left + width] = scaled[..., index]
    return grid
