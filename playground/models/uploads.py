"""Models uploaded by learners (`.keras` or legacy `.h5`), checked before Keras sees them.

An upload can come from any notebook or tool, or from someone testing the server. So,
before anything is extracted or deserialised:
- the archive's declared uncompressed size, and every HDF5 dataset's size, are bounded
  (Keras' own zip-bomb guard lets a 4 MB file expand to a gigabyte);
- layers that carry Python code (Lambda, custom classes, subclassed models) are refused,
  whatever the format, since the legacy `.h5` loader has no safe mode.
After loading, the shapes and the size must suit the playground. Every refusal is an
`UploadRefused` with one line that says what is wrong and, where there is one, the fix.
"""

from __future__ import annotations

import io
import json
import math
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import h5py
import keras
import numpy as np

from playground.models.building import METADATA_ENTRY
from playground.spec.costs import PARAMETER_BUDGET
from playground.spec.datasets import DATASETS, GRAY_SHAPE, IMAGE_SHAPES, NUM_CLASSES, image_shapes_text
from playground.spec.refusals import Refused

MAX_UNCOMPRESSED_BYTES = 64 * 1024 * 1024  # all of a model's files together, once unpacked
MAX_ARCHIVE_ENTRIES = 100
ZIP_SIGNATURE = b"PK\x03\x04"
HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
KERAS_WEIGHTS_ENTRY = "model.weights.h5"
MODEL_CLASSES = ("Sequential", "Functional", "Model")
WRAPPED_NAME = "wrapped.keras"  # the file name the shape advice saves to
OTHER_FORMATS = {b"\x80": "a PyTorch or pickle file", b"\x08": "an ONNX file", b"{": "a JSON file"}
# A model that starts by scaling pixels by at most this was made for pixels 0–255.
RAW_PIXEL_SCALE = 1 / 100


class UploadRefused(Refused):
    """The upload cannot be used; the message is one line for the learner."""


@dataclass
class UploadedModel:
    model: keras.Model
    dataset: str | None  # the data set the playground trained it on, when the file says so
    notes: list[str] = field(default_factory=list)  # what was adapted, for the learner to know


def load_uploaded_model(raw: bytes, input_shapes=IMAGE_SHAPES,
                        num_classes: int = NUM_CLASSES) -> UploadedModel:
    """A checked model from the bytes of an uploaded file, or UploadRefused saying why not.
    It must take one of `input_shapes` (the data sets' images) and score `num_classes`."""
    if raw.startswith(ZIP_SIGNATURE):
        config, dataset = _check_keras_archive(raw)
        suffix = ".keras"
    elif raw.startswith(HDF5_SIGNATURE):
        config, dataset = _check_hdf5(raw), None
        suffix = ".h5"
    else:
        kind = next((name for start, name in OTHER_FORMATS.items() if raw.startswith(start)),
                    "not a Keras model")
        raise UploadRefused(f"This is {kind} file. The playground loads Keras models: save yours with "
                            "model.save('name.keras') and upload that.")
    refuse_code(config)
    model = _load(raw, suffix)
    check_fit(model, _nearest_shape(tuple(model.input_shape[1:]), input_shapes), num_classes)
    dataset, notes = _checked_dataset(dataset, tuple(model.input_shape[1:]))
    return UploadedModel(model, dataset, notes + adapt_rescaling(model))


def _checked_dataset(named, input_shape: tuple) -> tuple[str | None, list[str]]:
    """The data set the file's playground.json names, if the playground has it and the model
    takes its images; else None (the page's Data set setting decides), with a note saying why.
    Anyone can edit that file, and other versions may name data sets this one lacks."""
    if named is None:
        return None, []
    if not isinstance(named, str) or named not in DATASETS:
        return None, [f"Its {METADATA_ENTRY} names the data set {repr(named)[:40]}, which this playground "
                      "does not have; the Data set setting gives its classes instead."]
    if tuple(DATASETS[named].image_shape) != input_shape:
        return None, [f"Its {METADATA_ENTRY} names {DATASETS[named].title}, whose images the model does "
                      "not take; the Data set setting gives its classes instead."]
    return named, []


def _check_keras_archive(raw: bytes) -> tuple[dict, str | None]:
    """The archive's model config and playground data set, after bounding what it unpacks to."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(raw))
        entries = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        raise _damaged() from error
    if len(entries) > MAX_ARCHIVE_ENTRIES:
        raise UploadRefused(f"This archive holds {len(entries):,} files; a Keras model has a handful. "
                            "Save the model again with model.save('name.keras').")
    unpacked = sum(entry.file_size for entry in entries)
    if unpacked > MAX_UNCOMPRESSED_BYTES:
        raise UploadRefused(f"This file would unpack to {unpacked / 2**20:,.0f} MB; the playground takes "
                            f"models up to {MAX_UNCOMPRESSED_BYTES // 2**20} MB unpacked. Upload a smaller "
                            "model.")
    names = {entry.filename for entry in entries}
    if "config.json" not in names:
        raise UploadRefused("This zip file holds no Keras model (no config.json). Save the model with "
                            "model.save('name.keras') and upload that.")
    try:
        config = json.loads(archive.read("config.json"))
        if KERAS_WEIGHTS_ENTRY in names:
            _check_hdf5_sizes(archive.read(KERAS_WEIGHTS_ENTRY))
        metadata = json.loads(archive.read(METADATA_ENTRY)) if METADATA_ENTRY in names else {}
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as error:
        if isinstance(error, UploadRefused):
            raise
        raise _damaged() from error
    return config, metadata.get("dataset") if isinstance(metadata, dict) else None


def _check_hdf5(raw: bytes) -> dict:
    """The model config of a legacy .h5 model file, after bounding its datasets' sizes."""
    _check_hdf5_sizes(raw)
    try:
        with h5py.File(io.BytesIO(raw), "r") as file:
            config = file.attrs.get("model_config")
    except (OSError, ValueError) as error:
        raise _damaged() from error
    if config is None:
        raise UploadRefused("This .h5 file holds weights only, not a model. Save the whole model with "
                            "model.save('name.keras') and upload that.")
    try:
        return json.loads(config)
    except ValueError as error:
        raise _damaged() from error


def _check_hdf5_sizes(raw: bytes) -> None:
    """HDF5 datasets can be compressed: add up their full sizes before anything reads them."""
    sizes = []
    try:
        with h5py.File(io.BytesIO(raw), "r") as file:
            file.visititems(lambda _, item: sizes.append(item.size * item.dtype.itemsize)
                            if isinstance(item, h5py.Dataset) else None)
    except (OSError, ValueError, TypeError) as error:
        raise _damaged() from error
    if sum(sizes) > MAX_UNCOMPRESSED_BYTES:
        raise UploadRefused(f"This model's weights come to {sum(sizes) / 2**20:,.0f} MB; the playground "
                            f"takes models up to {MAX_UNCOMPRESSED_BYTES // 2**20} MB. Upload a smaller "
                            "model.")


def _damaged() -> UploadRefused:
    return UploadRefused("This model file is damaged (perhaps cut short while downloading): "
                         "save or download it again.")


def refuse_code(config: dict) -> None:
    """UploadRefused if the model is subclassed or has any layer that carries its own code."""
    if not isinstance(config, dict) or config.get("class_name") not in MODEL_CLASSES \
            or not str(config.get("module", "keras")).startswith("keras"):
        name = config.get("class_name", "?") if isinstance(config, dict) else "?"
        raise UploadRefused(f"This is a subclassed model ({name}), whose code is not in the file. Rebuild it "
                            "with keras.Sequential or the functional API, then save it again.")
    for layer in _layer_configs(config):
        name = layer.get("class_name", "?")
        if name == "Lambda":
            raise UploadRefused("This model has a Lambda layer, which carries Python code; the playground "
                                "only runs Keras' built-in layers. Replace it with a built-in layer "
                                "(Rescaling, Reshape, Activation…) and save again.")
        custom = not str(layer.get("module", "keras")).startswith("keras") or not hasattr(keras.layers, name)
        if custom and name not in MODEL_CLASSES:
            raise UploadRefused(f"This model has a custom layer, {name}, whose code is not in the file; "
                                "the playground only runs Keras' built-in layers. Rebuild it from those.")


def _layer_configs(config: dict):
    """Every layer's config, nested models included; anything else in the file is passed over
    here (Keras' own loader refuses what it cannot build)."""
    inner = config.get("config")
    layers = inner.get("layers") if isinstance(inner, dict) else None
    for layer in layers if isinstance(layers, list) else []:
        if isinstance(layer, dict):
            yield layer
            if layer.get("class_name") in MODEL_CLASSES:
                yield from _layer_configs(layer)


def _load(raw: bytes, suffix: str) -> keras.Model:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"upload{suffix}"
        path.write_bytes(raw)
        try:
            return keras.saving.load_model(path, safe_mode=True, compile=False)
        except Exception as error:  # noqa: BLE001 - any failure means the same to the learner
            reason = str(error).strip().splitlines()[0][:160] if str(error).strip() else type(error).__name__
            raise UploadRefused(f"Keras could not load this model ({reason}). Save it again with "
                                "model.save('name.keras') in Keras 3.") from error


def _nearest_shape(taken: tuple, shapes) -> tuple:
    """The accepted shape the model's input is, or is closest to (for the refusal's advice)."""
    for shape in shapes:
        if taken in (tuple(shape), tuple(shape[:2]), (math.prod(shape),)):
            return tuple(shape)
    return tuple(shapes[0])


def check_fit(model: keras.Model, input_shape=GRAY_SHAPE, num_classes: int = NUM_CLASSES) -> None:
    """UploadRefused unless the model takes the playground's images and scores its classes."""
    if len(model.inputs) != 1 or len(model.outputs) != 1:
        raise UploadRefused("This model has several inputs or outputs; the playground needs one image in "
                            "and one score per class out.")
    taken, wanted = tuple(model.input_shape[1:]), tuple(input_shape)
    height, width, channels = wanted
    image = f"{height}×{width}×{channels}"
    # The fix wraps the trained model whole, so a learner keeps their weights and retrains nothing.
    wrap = ("Wrap it, trained weights and all: "
            f"keras.Sequential([keras.Input(({height}, {width}, {channels})), ")
    pixel_type = keras.backend.standardize_dtype(model.inputs[0].dtype)
    if "int" in pixel_type and taken == wanted:
        raise UploadRefused(f"This model takes {pixel_type} pixels from 0 to 255; the playground feeds "
                            f"floats from 0 to 1, which it would round down to 0. {wrap}"
                            f"keras.layers.Rescaling(255), model]).save('{WRAPPED_NAME}').")
    if taken == (height, width):
        raise UploadRefused(f"This model takes {height}×{width} images without a channel axis; the "
                            f"playground feeds {image}. {wrap}keras.layers.Reshape(({height}, {width})), "
                            f"model]).save('{WRAPPED_NAME}').")
    if taken == (height * width * channels,):
        raise UploadRefused(f"This model takes {taken[0]} flat values; the playground feeds {image} images. "
                            f"{wrap}keras.layers.Flatten(), model]).save('{WRAPPED_NAME}').")
    if taken != wanted:
        raise UploadRefused(f"This model takes inputs of shape {_shape(taken)}; the playground feeds "
                            f"{image_shapes_text()}, with values from 0 to 1.")
    if tuple(model.output_shape[1:]) != (num_classes,):
        raise UploadRefused(f"This model outputs {_shape(model.output_shape[1:])} values; the playground "
                            f"needs {num_classes}, one score per class. End it with "
                            f"keras.layers.Dense({num_classes}).")
    if model.count_params() > PARAMETER_BUDGET:
        raise UploadRefused(f"This model has {model.count_params():,} parameters; the playground takes "
                            f"models up to {PARAMETER_BUDGET:,}.")


def _shape(shape) -> str:
    return "×".join("?" if size is None else str(size) for size in shape)


def adapt_rescaling(model: keras.Model) -> list[str]:
    """A model that starts with Rescaling(1/255) expects pixels 0–255; the playground's are
    0–1. Scale that layer by 255 so it gets what it was trained on, and say so."""
    first = next((layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)), None)
    if not isinstance(first, keras.layers.Rescaling) or np.max(np.abs(first.scale)) > RAW_PIXEL_SCALE:
        return []
    original = first.scale
    first.scale = np.asarray(original, np.float32) * 255.0 if np.ndim(original) else float(original) * 255.0
    return [f"It starts with Rescaling(scale={float(np.mean(original)):.4g}) for pixels 0–255; the "
            "playground's pixels are 0–1, so that layer now scales 255× more and the model sees what it "
            "was trained on."]
