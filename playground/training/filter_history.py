"""Filters through training: the first convolution's weights kept at a few moments, so Inspect
can show noise turning into edge detectors.

Most of the change happens early, so besides the start and the end of every epoch, moments
are kept at a few points inside the first epoch. Only the first layer is kept (its kernels
and biases): that is all its filters and its feature maps need, and it is small. At most
MAX_MOMENTS are kept per training, fewer if the layer is so large that they would pass
MOMENTS_BUDGET_BYTES: the largest first layer the builder allows (1,024 filters of 28 × 28
over 3 channels) keeps one moment, a typical one (24 filters of 5 × 5) all twenty;
`moment_bytes` gives one moment's size, and Inspect shows it beside the moments.
"""

from __future__ import annotations

from dataclasses import dataclass

import keras
import numpy as np

MAX_MOMENTS = 20
MOMENTS_BUDGET_BYTES = 16 * 2**20  # per training, and so per session
FIRST_EPOCH_FRACTIONS = (0.02, 0.1, 0.25, 0.5)  # where in the first epoch, besides its start and end


@dataclass(frozen=True)
class Moment:
    label: str  # "start", "epoch 1, 10%", "end of epoch 3"
    position: float  # in epochs trained: 0 at the start, 1 at the end of the first epoch
    weights: tuple[np.ndarray, ...]  # the first convolution's kernel (and bias)

    @property
    def nbytes(self) -> int:
        return sum(weight.nbytes for weight in self.weights)


def first_convolution(model: keras.Model) -> keras.layers.Conv2D | None:
    """The layer whose filters are followed: the model's first layer, if it is a convolution."""
    layers = [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]
    return layers[0] if layers and type(layers[0]) is keras.layers.Conv2D else None


def moment_bytes(layer: keras.layers.Layer) -> int:
    return sum(int(np.prod(weight.shape)) * 4 for weight in layer.weights)


def moments_allowed(layer: keras.layers.Layer) -> int:
    """How many moments fit the budget for this layer (at least one, at most MAX_MOMENTS)."""
    return int(max(1, min(MAX_MOMENTS, MOMENTS_BUDGET_BYTES // max(1, moment_bytes(layer)))))


def planned_batches(batches_per_epoch: int) -> dict[int, str]:
    """Batch index in the first epoch → its label, for the moments kept before that batch."""
    planned = {0: "start"}
    for fraction in FIRST_EPOCH_FRACTIONS:
        batch = round(fraction * batches_per_epoch)
        if 0 < batch < batches_per_epoch:
            planned.setdefault(batch, f"epoch 1, {fraction:.0%} done")
    return planned


class MomentRecorder:
    """Keeps moments of one training: called on the training thread, between batches, so each
    copy holds the weights exactly as they were after that many batches."""

    def __init__(self, model: keras.Model, batches_per_epoch: int):
        self.layer = first_convolution(model)
        self.batches_per_epoch = batches_per_epoch
        self.limit = moments_allowed(self.layer) if self.layer is not None else 0
        self.planned = planned_batches(batches_per_epoch)
        self.moments: list[Moment] = []

    def wants(self, epoch: int, batch: int) -> bool:
        return epoch == 0 and batch in self.planned

    def before_batch(self, epoch: int, batch: int) -> None:
        if self.wants(epoch, batch):
            self._keep(self.planned[batch], batch / self.batches_per_epoch)

    def after_epoch(self, epoch: int) -> None:
        self._keep(f"end of epoch {epoch + 1}", float(epoch + 1))

    def _keep(self, label: str, position: float) -> None:
        if self.layer is None or any(moment.position == position for moment in self.moments):
            return
        if len(self.moments) >= self.limit:
            self._thin()
        self.moments.append(Moment(label, position, tuple(np.array(weight) for weight in self.layer.weights)))

    def _thin(self) -> None:
        """Full: drop an end of epoch from the middle, keeping the first epoch's and the latest."""
        later = [index for index, moment in enumerate(self.moments) if moment.position > 1.0]
        victim = later[len(later) // 2] if len(later) > 1 else len(self.moments) - 1
        del self.moments[victim]


def maps_at(moment: Moment, layer: keras.layers.Conv2D, image: np.ndarray) -> np.ndarray:
    """The layer's feature maps for `image`, with its weights as they were at `moment`."""
    twin = keras.layers.Conv2D.from_config(layer.get_config())
    twin.build((None, *image.shape))
    twin.set_weights(list(moment.weights))
    return np.asarray(twin(np.asarray(image, np.float32)[np.newaxis]))[0]
