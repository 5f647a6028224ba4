"""Every parser of outside input, fuzzed: each input either gives a valid object, or raises
the project's one error type (`Refused`) with a one-line message. Nothing else, and never a
value that would crash a page later (a float where a widget was made with an int, say).

CI runs a fixed number of examples, the same ones each run; a longer, random search by hand:
FUZZ_SCALE=50 python -m pytest tests/test_fuzz.py   (fifty times as many examples)
"""

from __future__ import annotations

import dataclasses
import io
import json
import os
import pickle
import struct
import zipfile

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from playground.data.cifar import VALUES_PER_IMAGE, parse_batch
from playground.data.images import open_picture
from playground.data.loading import parse_idx
from playground.models.uploads import _check_keras_archive, _checked_dataset, refuse_code
from playground.spec.datasets import DATASETS, IMAGE_SHAPES
from playground.spec.layers import MAX_LAYERS
from playground.spec.links import SHARED_KEYS, TRAINING_KEYS, TYPE_CODES, link_params, open_link
from playground.spec.presets import FAST_DEFAULT_TRAINING, preset
from playground.spec.refusals import Refused
from playground.spec.settings import TrainingSettings
from playground.spec.shapes import trace_shapes

MAX_MESSAGE = 600
SCALE = int(os.environ.get("FUZZ_SCALE", "1"))
GOOD_LINK = link_params(preset("Fast default"), "mnist", FAST_DEFAULT_TRAINING)


def examples(count: int) -> settings:
    """`count` examples in CI, always the same ones; FUZZ_SCALE times as many, at random, by hand."""
    return settings(max_examples=count * SCALE, derandomize=SCALE == 1, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow], database=None)


def refused_in_one_line(call, *arguments):
    """The call's value, or None if it refused in one short line; any other exception fails."""
    try:
        return call(*arguments)
    except Refused as refusal:
        message = str(refusal)
        assert message and "\n" not in message and len(message) < MAX_MESSAGE, message
        return None


# Share links: text a hand could type, built from the pieces links are made of.
LINK_PIECES = st.sampled_from(["c", "p", "a", "b", "o", "f", "g", "d", "t", "r", "-", "~", "k", "s", "u", "w",
                               "0", "1", "2", "3", "5", "10", "24", "32", "128", ".", ".5", "e9", "-1", "nan",
                               "inf", "relu", "softmax", "same", "valid", "none", "<b>", "%", " ", "é"])
LINK_TEXT = st.lists(LINK_PIECES, max_size=30).map("".join) | st.text(max_size=40)
LINK_VALUES = st.one_of(LINK_TEXT, st.sampled_from(["mnist", "fashion_mnist", "cifar10", "adam", "sgd",
                                                    "constant", "one_cycle", "0.1", "1", "3", "0.001"]))


def settings_are_widget_safe(training: dict) -> None:
    """Each value has its field's exact kind: what Build & Train's widgets were made with."""
    kinds = {field.name: field.type for field in dataclasses.fields(TrainingSettings)}
    for name, value in training.items():
        kind = kinds[name]
        if value is None:
            assert "None" in kind, (name, value)
        elif kind.startswith("int"):
            assert type(value) is int, (name, value)
        else:
            assert type(value).__name__ == kind, (name, value)


@examples(300)
@given(st.dictionaries(st.sampled_from([*SHARED_KEYS, "x", "run"]), LINK_VALUES, max_size=6))
def test_a_whole_query_opens_or_is_refused(query):
    opened = refused_in_one_line(open_link, query)
    if opened is not None:
        stack, dataset, training = opened
        assert dataset in DATASETS and 1 <= len(stack) <= MAX_LAYERS
        trace_shapes(stack, DATASETS[dataset].image_shape)
        settings_are_widget_safe(training)
        TrainingSettings(**training).checked(DATASETS[dataset].train_images)


@examples(200)
@given(st.sampled_from(SHARED_KEYS), LINK_VALUES)
def test_each_key_of_a_good_link_edited_by_hand(key, value):
    opened = refused_in_one_line(open_link, {**GOOD_LINK, key: value})
    if opened is not None:
        settings_are_widget_safe(opened[2])


@examples(200)
@given(st.lists(st.sampled_from(list(TYPE_CODES.values())), min_size=1, max_size=MAX_LAYERS + 2),
       st.lists(LINK_TEXT, max_size=6))
def test_networks_of_any_layers_and_settings(codes, settings_text):
    tokens = [code + "".join(f"-{text}" for text in settings_text[:index % 3])
              for index, code in enumerate(codes)]
    refused_in_one_line(open_link, {**GOOD_LINK, "net": "~".join(tokens)})


# Training settings: any values of any kind, as a file or a hand could give them.
ANY_VALUE = st.one_of(st.none(), st.booleans(), st.integers(-10**12, 10**12), st.floats(allow_nan=True),
                      st.text(max_size=12), st.lists(st.integers(), max_size=2))


@examples(300)
@given(st.dictionaries(st.sampled_from(list(TRAINING_KEYS) + ["seed"]), ANY_VALUE, max_size=9),
       st.integers(0, 70_000))
def test_training_settings_of_any_kind(values, available):
    checked = refused_in_one_line(lambda: TrainingSettings(**values).checked(available))
    if checked is not None:
        settings_are_widget_safe(dataclasses.asdict(checked))
        assert 1 <= checked.subset_size <= available


# Model uploads: their config and playground.json, and the archive around them.
SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8)
JSON = st.recursive(SCALARS, lambda children: st.lists(children, max_size=4)
                    | st.dictionaries(st.text(max_size=8), children, max_size=4), max_leaves=20)
LAYER_NAMES = st.sampled_from(["Dense", "Lambda", "Conv2D", "Mystery", "Sequential", "Functional"]) \
    | st.text()
LAYER_CONFIGS = st.fixed_dictionaries({"class_name": LAYER_NAMES,
                                       "module": st.sampled_from(["keras.layers", "my_module"]) | JSON,
                                       "config": JSON})
MODEL_CONFIGS = st.one_of(JSON, st.fixed_dictionaries({
    "class_name": st.sampled_from(["Sequential", "Functional", "Model", "MyModel"]),
    "module": st.sampled_from(["keras", "keras.src.models", "mine"]),
    "config": st.fixed_dictionaries({"layers": st.lists(LAYER_CONFIGS | JSON, max_size=5)}) | JSON}))


@examples(300)
@given(MODEL_CONFIGS)
def test_any_model_config_is_judged_without_crashing(config):
    refused_in_one_line(refuse_code, config)


@examples(200)
@given(JSON, st.sampled_from(IMAGE_SHAPES))
def test_any_data_set_a_model_file_names(named, input_shape):
    dataset, notes = _checked_dataset(named, input_shape)
    assert dataset is None or DATASETS[dataset].image_shape == input_shape
    assert all("\n" not in note and len(note) < MAX_MESSAGE for note in notes)


def archive(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as file:
        for name, content in entries.items():
            file.writestr(name, content)
    return buffer.getvalue()


ENTRY_BYTES = st.one_of(JSON.map(lambda value: json.dumps(value).encode()), st.binary(max_size=64))


@examples(150)
@given(st.dictionaries(st.sampled_from(["config.json", "playground.json", "model.weights.h5", "metadata.json",
                                        "../evil", "/abs"]), ENTRY_BYTES, max_size=4),
       st.integers(0, 400), st.binary(max_size=8))
def test_any_keras_archive_is_read_or_refused(entries, cut, noise):
    raw = archive(entries)
    for variant in (raw, raw[:cut] + noise):
        checked = refused_in_one_line(_check_keras_archive, variant)
        if checked is not None:
            config, dataset = checked
            assert isinstance(config, (dict, list, str, int, float, bool, type(None)))


# Pictures: bytes made by Pillow in every format the uploaders take, then cut and damaged.
def picture_bytes(format_name: str, mode: str, size: tuple[int, int]) -> bytes:
    image = Image.new(mode, size, 128 if mode in ("L", "P", "1", "I", "I;16") else (200, 30, 60)[:len(mode)])
    buffer = io.BytesIO()
    image.save(buffer, format=format_name)
    return buffer.getvalue()


PICTURES = st.builds(picture_bytes, st.sampled_from(["PNG", "JPEG", "GIF", "BMP", "TIFF", "WEBP"]),
                     st.sampled_from(["RGB", "L"]), st.tuples(st.integers(1, 40), st.integers(1, 40)))


@examples(200)
@given(PICTURES, st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), max_size=6),
       st.integers(0, 10_000))
def test_any_picture_cut_or_damaged_opens_or_is_refused(raw, flips, cut):
    damaged = bytearray(raw)
    for position, value in flips:
        if damaged:
            damaged[position % len(damaged)] = value
    for variant in (raw, bytes(damaged), raw[:cut]):
        picture = refused_in_one_line(open_picture, variant, "photo.png", 64)
        if picture is not None:
            assert picture.mode == "RGB" and min(picture.size) >= 1


@examples(200)
@given(st.binary(max_size=200))
def test_any_bytes_as_a_picture(raw):
    refused_in_one_line(open_picture, raw, "upload")


# CIFAR-10's pickled batches and the IDX files: made here, then damaged.
def batch_pickle(data, labels, protocol: int) -> bytes:
    return pickle.dumps({b"data": data, b"labels": labels, b"batch_label": b"fuzz"}, protocol=protocol)


BATCH_DATA = st.one_of(
    st.integers(0, 3).map(lambda count: np.zeros((count, VALUES_PER_IMAGE), np.uint8)),
    st.sampled_from([np.zeros((2, 10), np.uint8), np.zeros((2, VALUES_PER_IMAGE), np.int64), [1, 2], b"x",
                     None]))
BATCH_LABELS = st.one_of(st.lists(st.integers(-300, 300), max_size=3),
                         st.lists(st.text(max_size=2), max_size=3),
                         st.lists(st.lists(st.integers(), max_size=2), max_size=3), JSON)


@examples(200)
@given(BATCH_DATA, BATCH_LABELS, st.integers(2, 5), st.integers(0, 200), st.binary(max_size=8))
def test_any_cifar_batch_is_read_or_refused(data, labels, protocol, cut, noise):
    raw = batch_pickle(data, labels, protocol)
    for variant in (raw, raw[:cut] + noise):
        parsed = refused_in_one_line(parse_batch, variant, "data_batch_1")
        if parsed is not None:
            images, parsed_labels = parsed
            assert images.dtype == np.uint8 and images.shape[1:] == (32, 32, 3)
            assert parsed_labels.shape == (len(images),) and parsed_labels.dtype.kind == "i"


@examples(200)
@given(st.sampled_from([0x801, 0x803, 0x802, 0]), st.lists(st.integers(0, 5), min_size=1, max_size=3),
       st.binary(max_size=80))
def test_any_idx_file_is_read_or_refused(magic, sizes, body):
    raw = struct.pack(">I", magic) + b"".join(struct.pack(">I", size) for size in sizes) + body
    array = refused_in_one_line(parse_idx, raw, "train-labels-idx1-ubyte")
    if array is not None:
        assert array.dtype == np.uint8
