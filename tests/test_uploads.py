"""Uploaded models: what is accepted, adapted, and refused, with the reason a learner reads."""

import io
import json
import zipfile

import h5py
import keras
import numpy as np
import pytest

from playground.models.building import Classifier, build_model, model_bytes
from playground.models.uploads import MAX_UNCOMPRESSED_BYTES, UploadRefused, load_uploaded_model
from playground.spec.presets import preset

IMAGES = np.random.default_rng(0).random((2, 28, 28, 1)).astype(np.float32)


def saved(model, tmp_path, suffix=".keras") -> bytes:
    path = tmp_path / f"model{suffix}"
    model.save(path)
    return path.read_bytes()


def refusal(raw) -> str:
    with pytest.raises(UploadRefused) as caught:
        load_uploaded_model(raw)
    message = str(caught.value)
    assert "\n" not in message and len(message) < 300, message
    return message


def small_model(*layers, input_shape=(28, 28, 1)):
    return keras.Sequential([keras.Input(input_shape), *layers])


def test_a_keras_file_round_trips_and_keeps_its_data_set():
    model = build_model(preset("Blog: Dense-only baseline"))
    uploaded = load_uploaded_model(model_bytes(model, "fashion_mnist"))
    np.testing.assert_allclose(uploaded.model(IMAGES), model(IMAGES), atol=1e-6)
    assert uploaded.dataset == "fashion_mnist" and uploaded.notes == []
    assert load_uploaded_model(model_bytes(model)).dataset is None


def with_metadata(raw: bytes, metadata) -> bytes:
    """A .keras file whose playground.json says `metadata` (a hand edit, or another version's)."""
    buffer = io.BytesIO(raw)
    with zipfile.ZipFile(buffer, "a") as archive:
        archive.writestr("playground.json", json.dumps(metadata))
    return buffer.getvalue()


@pytest.mark.parametrize("named, said", [
    ("imagenet", "names the data set 'imagenet', which this playground does not have"),
    ("<b>cats</b>", "names the data set '<b>cats</b>', which"),
    (["mnist"], "names the data set ['mnist'], which"),
    (7, "names the data set 7, which"),
    ("cifar10", "names CIFAR-10, whose images the model does not take"),
])
def test_a_data_set_the_file_names_wrongly_is_set_aside_with_a_note(named, said):
    raw = with_metadata(model_bytes(build_model(preset("Blog: Dense-only baseline"))), {"dataset": named})
    uploaded = load_uploaded_model(raw)
    assert uploaded.dataset is None
    assert len(uploaded.notes) == 1 and said in uploaded.notes[0], uploaded.notes


def test_other_metadata_is_ignored():
    raw = with_metadata(model_bytes(build_model(preset("Blog: Dense-only baseline"))),
                        {"dataset": "fashion_mnist", "by": "a later version", "classes": 11})
    assert load_uploaded_model(raw).dataset == "fashion_mnist"
    assert load_uploaded_model(with_metadata(raw, ["not", "a", "dict"])).dataset is None


def test_a_legacy_h5_model_is_accepted(tmp_path):
    model = build_model(preset("Tutorial: Conv32 → Conv64 → Dense128"))
    uploaded = load_uploaded_model(saved(model, tmp_path, ".h5"))
    np.testing.assert_allclose(uploaded.model(IMAGES), model(IMAGES), atol=1e-5)


def test_a_lambda_layer_is_refused_with_a_fix_in_either_format(tmp_path):
    model = small_model(keras.layers.Lambda(lambda x: x * 2), keras.layers.Flatten(), keras.layers.Dense(10))
    for suffix in (".keras", ".h5"):
        message = refusal(saved(model, tmp_path, suffix))
        assert message.startswith("This model has a Lambda layer")
        assert "safe_mode" not in message and "`" not in message


@keras.saving.register_keras_serializable(package="notebook")
class Doubler(keras.layers.Layer):
    def call(self, inputs):
        return inputs * 2


def test_a_custom_layer_is_refused_by_name(tmp_path):
    model = small_model(Doubler(), keras.layers.Flatten(), keras.layers.Dense(10))
    assert refusal(saved(model, tmp_path)).startswith("This model has a custom layer, Doubler,")


class Subclassed(keras.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.flatten, self.dense = keras.layers.Flatten(), keras.layers.Dense(10)

    def call(self, inputs):
        return self.dense(self.flatten(inputs))


def test_a_subclassed_model_is_refused(tmp_path):
    model = Subclassed()
    model(IMAGES)
    assert refusal(saved(model, tmp_path)).startswith("This is a subclassed model (Subclassed)")


def follow_the_advice(message: str, model, folder) -> bytes:
    """Run the refusal's advice as a learner would paste it, with their model as `model`, in
    `folder` (the current directory)."""
    code = message.split("Wrap it, trained weights and all: ", 1)[1].removesuffix(".")
    exec(code, {"keras": keras, "model": model})
    return (folder / "wrapped.keras").read_bytes()


@pytest.mark.parametrize("first_layers, input_shape, to_inputs", [
    ((keras.layers.Flatten(),), (28, 28), lambda images: images[..., 0]),  # the classic tutorial's model
    ((), (784,), lambda images: images.reshape(len(images), -1)),
], ids=["no channel axis", "flat"])
def test_a_wrong_shape_is_refused_with_advice_that_works_as_written(first_layers, input_shape, to_inputs,
                                                                    tmp_path, monkeypatch):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input(input_shape), *first_layers,
                              keras.layers.Dense(10, activation="softmax")])
    message = refusal(saved(model, tmp_path))
    assert "keras.Input((28, 28, 1))" in message
    monkeypatch.chdir(tmp_path)
    uploaded = load_uploaded_model(follow_the_advice(message, model, tmp_path))
    classifier = Classifier(uploaded.model, "Uploaded model", tuple("0123456789"))
    expected = np.asarray(model(to_inputs(IMAGES)))  # the learner's own model on the same images
    np.testing.assert_allclose(classifier.probabilities(IMAGES), expected, rtol=1e-5)


def test_a_model_that_takes_integer_pixels_is_refused_with_advice_that_works(tmp_path, monkeypatch):
    """Fed the playground's floats in [0, 1], a uint8 input truncates every pixel to 0."""
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((28, 28, 1), dtype="uint8"), keras.layers.Rescaling(1 / 255),
                              keras.layers.Flatten(), keras.layers.Dense(10, activation="softmax")])
    message = refusal(saved(model, tmp_path))
    assert "uint8" in message
    monkeypatch.chdir(tmp_path)
    uploaded = load_uploaded_model(follow_the_advice(message, model, tmp_path))
    classifier = Classifier(uploaded.model, "Uploaded model", tuple("0123456789"))
    pixels = np.round(IMAGES * 255).astype(np.uint8)
    expected = np.asarray(model(pixels))  # the learner's own model on the same images as bytes
    np.testing.assert_allclose(classifier.probabilities(pixels / 255.0), expected, rtol=1e-5)


def test_wrong_shapes_are_refused():
    large = small_model(keras.layers.Flatten(), keras.layers.Dense(10), input_shape=(64, 64, 3))
    assert "takes inputs of shape 64×64×3; the playground feeds 28×28×1 images" in refusal(model_bytes(large))
    three = small_model(keras.layers.Flatten(), keras.layers.Dense(3))
    assert "outputs 3 values; the playground needs 10" in refusal(model_bytes(three))


def test_a_model_over_the_parameter_budget_is_refused():
    big = small_model(keras.layers.Flatten(), keras.layers.Dense(4000), keras.layers.Dense(10))
    assert "3,180,010 parameters" in refusal(model_bytes(big))


def test_a_truncated_file_is_called_damaged():
    raw = model_bytes(build_model(preset("Blog: Dense-only baseline")))
    assert "damaged" in refusal(raw[:len(raw) // 2])
    assert "damaged" in refusal(raw[:200] + bytes(len(raw) - 200))


def test_other_files_are_named():
    assert refusal(b"just some text").startswith("This is not a Keras model file.")
    assert "PyTorch" in refusal(b"\x80\x02}q\x00.")


def archive(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zipped:
        for name, data in entries.items():
            zipped.writestr(name, data)
    return buffer.getvalue()


@pytest.mark.slow
def test_a_config_padded_to_a_gigabyte_is_refused_before_it_is_unpacked():
    raw = model_bytes(build_model(preset("Blog: Dense-only baseline")))
    with zipfile.ZipFile(io.BytesIO(raw)) as original:
        entries = {entry: original.read(entry) for entry in original.namelist()}
    config = json.loads(entries["config.json"])
    config["padding"] = " " * (200 * 2**20)
    entries["config.json"] = json.dumps(config).encode()
    bomb = archive(entries)
    assert len(bomb) < 2 * 2**20
    message = refusal(bomb)
    assert "would unpack to 200 MB" in message and f"up to {MAX_UNCOMPRESSED_BYTES // 2**20} MB" in message


def test_many_filler_entries_are_refused():
    assert "would unpack to" in refusal(archive({"config.json": b"{}", **{f"filler{i}": bytes(30 * 2**20)
                                                                           for i in range(3)}}))


def test_compressed_hdf5_weights_are_bounded_by_their_full_size(tmp_path):
    path = tmp_path / "bomb.h5"
    with h5py.File(path, "w") as file:
        file.create_dataset("zeros", shape=(100 * 2**20,), dtype="u1", compression="gzip", chunks=(2**20,))
        file.attrs["model_config"] = "{}"
    assert path.stat().st_size < 2**20
    assert "weights come to 100 MB" in refusal(path.read_bytes())


def test_a_weights_only_h5_file_says_so(tmp_path):
    path = tmp_path / "only.weights.h5"
    build_model(preset("Blog: Dense-only baseline")).save_weights(path)
    assert "holds weights only" in refusal(path.read_bytes())


def test_a_rescaling_model_is_fed_what_it_expects(tmp_path):
    """A notebook model that divides 0–255 pixels itself gives, on the playground's 0–1
    pixels, the same outputs as it gave on 0–255 pixels before it was uploaded."""
    model = small_model(keras.layers.Rescaling(1 / 255), keras.layers.Flatten(),
                        keras.layers.Dense(10, activation="softmax"))
    expected = np.asarray(model(IMAGES * 255.0))
    uploaded = load_uploaded_model(saved(model, tmp_path))
    assert uploaded.notes and "Rescaling" in uploaded.notes[0]
    np.testing.assert_allclose(uploaded.model(IMAGES), expected, rtol=1e-5)


def test_a_cifar_model_is_taken_with_cifar_classes(tmp_path):
    from playground.spec.datasets import dataset_for_shape

    model = build_model(preset("Slides: residual example (CIFAR-10)"), (32, 32, 3))
    uploaded = load_uploaded_model(model_bytes(model))
    assert uploaded.model.input_shape == (None, 32, 32, 3)
    assert dataset_for_shape((32, 32, 3), "mnist") == "cifar10"
    assert dataset_for_shape((28, 28, 1), "fashion_mnist") == "fashion_mnist"
    squashed = keras.Sequential([keras.Input((32, 32)), keras.layers.Flatten(), keras.layers.Dense(10)])
    with pytest.raises(UploadRefused, match=r"takes 32×32 images without a channel axis.*32×32×3"):
        load_uploaded_model(saved(squashed, tmp_path))
