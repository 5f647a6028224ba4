"""Keras models from layer specs, and the model a session classifies with."""

from __future__ import annotations

import io
import json
import tempfile
import threading
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import keras
import numpy as np

from playground.inspection import ActivationProbe
from playground.layers import trace_shapes

ASSETS_DIR = Path(__file__).resolve().parent.parent / "assets"
DEFAULT_MODEL_PATH = ASSETS_DIR / "default_model.keras"
# Keras' default of 0.99 needs hundreds of steps before the moving statistics are usable, so
# the short trainings learners run would evaluate far worse than they trained.
BATCH_NORM_MOMENTUM = 0.9


def build_model(stack: list[dict], input_shape=(28, 28, 1), num_classes: int = 10) -> keras.Model:
    """A functional Keras model for `stack`, validated first so errors name the layer."""
    infos = trace_shapes(stack, input_shape, num_classes)
    inputs = keras.Input(shape=tuple(input_shape), name="image")
    outputs = inputs
    for info in infos:
        outputs = keras_layer(info.spec, info.name)(outputs)
    return keras.Model(inputs, outputs, name="playground_cnn")


def keras_layer(spec: dict, name: str) -> keras.layers.Layer:
    """The Keras layer for one complete spec (see `playground.layers.make_layer`)."""
    settings = {key: value for key, value in spec.items() if key != "type"}
    if spec["type"] == "Conv2D":
        return keras.layers.Conv2D(name=name, **settings)
    if spec["type"] in ("MaxPooling2D", "AveragePooling2D"):
        return getattr(keras.layers, spec["type"])(name=name, **settings)
    if spec["type"] == "BatchNormalization":
        return keras.layers.BatchNormalization(momentum=BATCH_NORM_MOMENTUM, name=name)
    if spec["type"] in ("Flatten", "GlobalAveragePooling2D"):
        return getattr(keras.layers, spec["type"])(name=name)
    if spec["type"] == "Dropout":
        return keras.layers.Dropout(name=name, **settings)
    if spec["type"] == "Dense":
        return keras.layers.Dense(name=name, **settings)
    if spec["type"] == "Activation":
        return keras.layers.Activation(settings["activation"], name=name)
    raise ValueError(f"No Keras layer for spec type {spec['type']!r}.")


@dataclass
class Classifier:
    """A trained model plus what the pages need to say about it.

    Calls go straight to the model rather than through `model.predict`, which costs
    about ten times more for a single image. The lock makes a classifier that is
    shared between sessions safe to call from several script threads.
    """

    model: keras.Model
    title: str
    class_names: tuple[str, ...]
    description: str = ""
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _probe: ActivationProbe | None = field(default=None, repr=False)

    def probabilities(self, images: np.ndarray) -> np.ndarray:
        """Class probabilities for a batch of (28, 28, 1) float images in [0, 1]."""
        batch = np.asarray(images, dtype=np.float32)
        if batch.ndim == 3:
            batch = batch[np.newaxis]
        with self._lock:
            outputs = np.asarray(self.model(batch, training=False))
        return as_probabilities(outputs)

    def activation_probe(self) -> ActivationProbe:
        """The one multi-output model for Inspect, built on first use and kept with the model."""
        with self._lock:
            if self._probe is None:
                self._probe = ActivationProbe(self.model)
            return self._probe


def as_probabilities(outputs: np.ndarray) -> np.ndarray:
    """Rows that sum to 1, whatever the last activation.

    Softmax rows pass unchanged, sigmoid scores (the blog's baseline) are rescaled to sum
    to 1, and anything outside [0, 1] is taken as logits and put through a softmax.
    """
    outputs = outputs.astype(np.float64)
    if outputs.min() >= 0.0 and outputs.max() <= 1.0:
        totals = outputs.sum(axis=-1, keepdims=True)
        return np.divide(outputs, totals, out=np.full_like(outputs, 1.0 / outputs.shape[-1]),
                         where=totals > 0)
    shifted = np.exp(outputs - outputs.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


def load_default_classifier(path: Path = DEFAULT_MODEL_PATH) -> Classifier:
    """The shipped MNIST model. Raises FileNotFoundError with the command that makes it."""
    if not path.is_file():
        raise FileNotFoundError(
            f"The default model {path} is missing. Recreate it with "
            "`python scripts/train_default_model.py`."
        )
    model = keras.saving.load_model(path, safe_mode=True, compile=False)
    classifier = Classifier(
        model=model,
        title="Default model",
        class_names=tuple(str(digit) for digit in range(10)),
        description=default_model_description(path),
    )
    classifier.probabilities(np.zeros((1, 28, 28, 1), np.float32))  # trace once, off the hot path
    return classifier


def default_model_description(path: Path) -> str:
    metadata_path = path.with_suffix(".json")
    if not metadata_path.is_file():
        return "the shipped MNIST model"
    metadata = json.loads(metadata_path.read_text())
    return (f"the shipped MNIST model, {metadata['test_accuracy']:.2%} test accuracy, "
            f"{metadata['parameters']:,} parameters")


def model_bytes(model: keras.Model) -> bytes:
    """The model as the bytes of a .keras file, for a download button."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.keras"
        model.save(path)
        return path.read_bytes()


def load_uploaded_model(raw: bytes, input_shape=(28, 28, 1), num_classes: int = 10) -> keras.Model:
    """A model from an uploaded .keras file, in Keras' safe mode, or a ValueError saying why not."""
    if not zipfile.is_zipfile(io.BytesIO(raw)):
        raise ValueError("This is not a Keras model file: save one with model.save('name.keras').")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "upload.keras"
        path.write_bytes(raw)
        try:
            model = keras.saving.load_model(path, safe_mode=True, compile=False)
        except Exception as error:  # noqa: BLE001 - any failure means the same to the user
            raise ValueError(f"Keras could not load this file safely: {error}") from error
    expected_input, expected_output = (None, *input_shape), (None, num_classes)
    if tuple(model.input_shape) != expected_input:
        raise ValueError(f"The model takes inputs of shape {model.input_shape[1:]}, but the playground's "
                         f"images are {input_shape}.")
    if tuple(model.output_shape) != expected_output:
        raise ValueError(f"The model outputs shape {model.output_shape[1:]}, but the playground needs "
                         f"({num_classes},): one score per class.")
    return model
