"""Keras models from layer specs, and the model a session classifies with."""

from __future__ import annotations

import json
import tempfile
import threading
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import keras
import numpy as np

from playground.spec.activations import softmax
from playground.spec.datasets import DATASETS, GRAY_SHAPE, NUM_CLASSES
from playground.spec.shapes import trace_shapes

ASSETS_DIR = Path(__file__).resolve().parents[2] / "assets"
DEFAULT_MODEL_PATH = ASSETS_DIR / "default_model.keras"
# Your images' frozen base, made by scripts/train_cifar10_base.py.
CIFAR10_BASE_PATH = ASSETS_DIR / "cifar10_model.keras"
# Keras' default of 0.99 needs hundreds of steps before the moving statistics are usable, so
# the short trainings learners run would evaluate far worse than they trained.
BATCH_NORM_MOMENTUM = 0.9
METADATA_ENTRY = "playground.json"  # in the playground's own model files: the data set it trained on
DRAWING_SHAPE = GRAY_SHAPE  # what Draw makes of a drawing (playground.data.drawing)
# A last layer with one of these activations outputs probabilities; any other, logits.
PROBABILITY_ACTIVATIONS = ("softmax", "sigmoid")


def build_model(stack: list[dict], input_shape=GRAY_SHAPE, num_classes: int = NUM_CLASSES,
                seed: int = 0) -> keras.Model:
    """A functional Keras model for `stack`, validated first so errors name the layer.

    Layer i's weights start from seed `seed + i`, so the same stack and seed give the same
    network here and in the exported script, whatever else the server is doing."""
    infos = trace_shapes(stack, input_shape, num_classes)
    inputs = keras.Input(shape=tuple(input_shape), name="image")
    outputs = add_layers(inputs, infos, seed, [info.name for info in infos])
    return keras.Model(inputs, outputs, name="playground_cnn")


def add_layers(tensor, infos, seed: int, names: list[str]):
    """The traced layers `infos` applied to `tensor`, layer i named names[i] and seeded seed + i."""
    for index, (info, name) in enumerate(zip(infos, names, strict=True)):
        spec = info.spec
        if spec["type"] == "ResidualBlock":
            tensor = residual_block(tensor, spec["filters"], spec["kernel_size"], spec["strides"],
                                    seed + index, name)
        else:
            tensor = keras_layer(spec, name, seed + index)(tensor)
    return tensor


# A block's second convolution and shortcut draw their initial weights from seeds this far
# from the block's own, so they never repeat another layer's.
INNER_SEED_STRIDE = 10_000


def residual_block(inputs, filters, kernel_size, strides, seed, name):
    """He et al.'s basic block, as `playground.spec.layers.residual_layers` lists it: conv → BN →
    ReLU → conv → BN, plus a shortcut (the input, or a 1×1 conv with BN where the stride or
    channel count changes), then ReLU. The exported script holds this same function."""

    def conv(tensor, suffix, size, stride, seed_offset):
        initializer = keras.initializers.GlorotUniform(seed=seed + seed_offset)
        return keras.layers.Conv2D(filters, size, strides=stride, padding="same", use_bias=False,
                                   kernel_initializer=initializer, name=f"{name}_{suffix}")(tensor)

    def norm(tensor, suffix):
        return keras.layers.BatchNormalization(momentum=BATCH_NORM_MOMENTUM, name=f"{name}_{suffix}")(tensor)

    main = norm(conv(inputs, "conv1", kernel_size, strides, 0), "bn1")
    main = keras.layers.Activation("relu", name=f"{name}_relu1")(main)
    main = norm(conv(main, "conv2", kernel_size, 1, INNER_SEED_STRIDE), "bn2")
    shortcut = inputs
    if strides != 1 or inputs.shape[-1] != filters:
        shortcut = norm(conv(inputs, "shortcut", 1, strides, 2 * INNER_SEED_STRIDE), "shortcut_bn")
    added = keras.layers.Add(name=f"{name}_add")([main, shortcut])
    return keras.layers.Activation("relu", name=name)(added)


def keras_layer(spec: dict, name: str, seed: int = 0) -> keras.layers.Layer:
    """The Keras layer for one complete spec (see `playground.spec.layers.make_layer`)."""
    settings = {key: value for key, value in spec.items() if key != "type"}
    if spec["type"] in ("Conv2D", "Dense"):
        settings["kernel_initializer"] = keras.initializers.GlorotUniform(seed=seed)
    if spec["type"] == "Conv2D":
        return keras.layers.Conv2D(name=name, **settings)
    if spec["type"] in ("MaxPooling2D", "AveragePooling2D"):
        return getattr(keras.layers, spec["type"])(name=name, **settings)
    if spec["type"] == "BatchNormalization":
        return keras.layers.BatchNormalization(momentum=BATCH_NORM_MOMENTUM, name=name)
    if spec["type"] in ("Flatten", "GlobalAveragePooling2D"):
        return getattr(keras.layers, spec["type"])(name=name)
    if spec["type"] == "Dropout":
        return keras.layers.Dropout(name=name, seed=seed, **settings)
    if spec["type"] == "Dense":
        return keras.layers.Dense(name=name, **settings)
    if spec["type"] == "Activation":
        return keras.layers.Activation(settings["activation"], name=name)
    raise ValueError(f"No Keras layer for spec type {spec['type']!r}.")


@dataclass
class Classifier:
    """A trained model plus what the pages need to say about it.

    Calls go through `model.predict_on_batch`: Keras' traced prediction step, without the
    input pipeline that `model.predict` builds on every call: for Draw's one image, far faster
    than an eager call or `predict` (benchmarks/draw_latency.py). A model traces its step on
    its first call and once more for its first batch of another size. The lock makes a classifier that is
    shared between sessions safe to call from several script threads.
    """

    model: keras.Model
    title: str
    class_names: tuple[str, ...]
    description: str = ""
    moments: tuple = ()  # the first layer's weights during its training (playground.training.filter_history)
    test_set: object = None  # its own test images (Your images' held-out ones); None: its classes' set
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _kept: dict = field(default_factory=dict, repr=False)  # made from the model once (Inspect's probe)
    from_logits: bool = field(init=False)

    def __post_init__(self):
        self.from_logits = not outputs_probabilities(self.model)

    @property
    def input_shape(self) -> tuple[int, ...]:
        """(28, 28, 1) for a digit or clothes model, (32, 32, 3) for a CIFAR-10 one."""
        return tuple(self.model.input_shape[1:])

    @property
    def reads_drawings(self) -> bool:
        """Whether Draw's 28 × 28 gray drawings fit this model's input."""
        return self.input_shape == DRAWING_SHAPE

    def probabilities(self, images: np.ndarray) -> np.ndarray:
        """Class probabilities for a batch of float images in [0, 1] of the model's input shape."""
        batch = np.asarray(images, dtype=np.float32)
        if batch.ndim == 3:
            batch = batch[np.newaxis]
        with self._lock:
            outputs = np.asarray(self.model.predict_on_batch(batch))
        return as_probabilities(outputs, self.from_logits)

    def run_alone(self, function: Callable, *arguments):
        """`function(model, *arguments)` while no other thread uses the model: Inspect's probe
        and saliency call it too, and the default classifier is shared between sessions."""
        with self._lock:
            return function(self.model, *arguments)

    def kept(self, name: str, make: Callable):
        """`make(model)`, made on first use and kept with the model (Inspect's probe)."""
        with self._lock:
            if name not in self._kept:
                self._kept[name] = make(self.model)
            return self._kept[name]


def outputs_probabilities(model: keras.Model) -> bool:
    """True if the last layer squashes its outputs (softmax or sigmoid), False for logits.

    Decided once per model from its last layer: guessing from the values would give the
    same image different probabilities depending on what else is in its batch."""
    last = output_layer(model)
    if isinstance(last, keras.layers.Softmax):
        return True
    return getattr(getattr(last, "activation", None), "__name__", "") in PROBABILITY_ACTIVATIONS


def output_layer(model: keras.Model) -> keras.layers.Layer:
    """The layer that makes the model's output, looked for inside a nested model: a trained
    model wrapped whole behind a Reshape ends in that model, not in its Dense layer."""
    last = model.layers[-1]
    while isinstance(last, keras.Model) and last.layers:
        last = last.layers[-1]
    return last


def as_probabilities(outputs: np.ndarray, from_logits: bool) -> np.ndarray:
    """Rows that sum to 1: logits through a softmax; softmax rows unchanged, and sigmoid
    scores (the blog's baseline) rescaled to sum to 1."""
    outputs = np.asarray(outputs, np.float64)
    if from_logits:
        return softmax(outputs)
    totals = outputs.sum(axis=-1, keepdims=True)
    return np.divide(outputs, totals, out=np.full_like(outputs, 1.0 / outputs.shape[-1]), where=totals > 0)


def copy_model(model: keras.Model) -> keras.Model:
    """A separate model with the same layers and weights: what a page may call while the
    original goes on training (Continue) on another thread."""
    clone = keras.models.clone_model(model)
    clone.set_weights(model.get_weights())
    return clone


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
        class_names=DATASETS["mnist"].class_names,
        description=default_model_description(path),
    )
    classifier.probabilities(np.zeros((1, *DRAWING_SHAPE), np.float32))  # trace once, off the hot path
    return classifier


def default_model_description(path: Path) -> str:
    metadata_path = path.with_suffix(".json")
    if not metadata_path.is_file():
        return "the shipped MNIST model"
    metadata = json.loads(metadata_path.read_text())
    return (f"the shipped MNIST model, {metadata['test_accuracy']:.2%} test accuracy, "
            f"{metadata['parameters']:,} parameters")


def model_bytes(model: keras.Model, dataset: str | None = None) -> bytes:
    """The model as the bytes of a .keras file, for a download button. The data set it was
    trained on rides along in the archive, so an upload of it gets the right class names."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.keras"
        model.save(path)
        if dataset is not None:
            with zipfile.ZipFile(path, "a") as archive:
                archive.writestr(METADATA_ENTRY, json.dumps({"dataset": dataset}))
        return path.read_bytes()

def all_layers(model: keras.Model, into: type = keras.Model) -> Iterator[keras.layers.Layer]:
    """Every layer in order, each nested model of type `into` followed by its own layers."""
    for layer in model.layers:
        yield layer
        if isinstance(layer, into):
            yield from all_layers(layer, into)
