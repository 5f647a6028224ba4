import gzip
import struct

import numpy as np
import pytest
from conftest import skip_unless_ci

from playground.data import loading as data
from playground.data.loading import DataFormatError, DataUnavailableError, load_dataset


def fake_arrays(train=12, test=5, seed=0):
    rng = np.random.default_rng(seed)
    return {
        "x_train": rng.integers(0, 256, (train, 28, 28), dtype=np.uint8),
        "y_train": rng.integers(0, 10, train, dtype=np.uint8),
        "x_test": rng.integers(0, 256, (test, 28, 28), dtype=np.uint8),
        "y_test": rng.integers(0, 10, test, dtype=np.uint8),
    }


def idx_bytes(array: np.ndarray) -> bytes:
    if array.ndim == 1:
        header = struct.pack(">II", data.IDX_LABELS_MAGIC, len(array))
    else:
        header = struct.pack(">IIII", data.IDX_IMAGES_MAGIC, *array.shape)
    return header + array.tobytes()


def write_idx_folder(folder, arrays):
    folder.mkdir(parents=True, exist_ok=True)
    for key, name in data.IDX_FILES.items():
        with gzip.open(folder / name, "wb") as stream:
            stream.write(idx_bytes(arrays[key]))


@pytest.fixture
def no_network_download(monkeypatch):
    """Fail like an offline Keras download would, and count the attempts."""
    import keras

    attempts = []

    def offline(*_args, **_kwargs):
        attempts.append(1)
        raise OSError("no route to host")

    monkeypatch.setattr(keras.datasets.mnist, "load_data", offline)
    monkeypatch.setattr(keras.datasets.fashion_mnist, "load_data", offline)
    monkeypatch.setattr(keras.datasets.cifar10, "load_data", offline)
    monkeypatch.setattr(data, "DEBIAN_FASHION_DIR", data.Path("/nonexistent/fashion"))
    return attempts


def assert_matches(dataset, arrays):
    assert dataset.train_pixels.shape == (len(arrays["x_train"]), 28, 28, 1)
    np.testing.assert_array_equal(dataset.train_pixels[..., 0], arrays["x_train"])  # bytes, as stored
    assert dataset.x_test.dtype == np.float32
    np.testing.assert_array_equal(np.rint(dataset.x_test[..., 0] * 255).astype(np.uint8), arrays["x_test"])
    np.testing.assert_array_equal(dataset.y_train, arrays["y_train"])
    assert np.issubdtype(dataset.y_train.dtype, np.integer)


def test_npz_in_data_dir(tmp_path, monkeypatch, no_network_download):
    arrays = fake_arrays()
    np.savez(tmp_path / "mnist.npz", **arrays)
    monkeypatch.setenv(data.DATA_DIR_VARIABLE, str(tmp_path))
    dataset = load_dataset("mnist")
    assert_matches(dataset, arrays)
    assert dataset.source == str(tmp_path / "mnist.npz")
    assert not no_network_download


def test_idx_files_in_data_dir(tmp_path, monkeypatch, no_network_download):
    arrays = fake_arrays(seed=1)
    write_idx_folder(tmp_path, arrays)
    monkeypatch.setenv(data.DATA_DIR_VARIABLE, str(tmp_path))
    assert_matches(load_dataset("mnist"), arrays)


def test_fashion_from_debian_folder(tmp_path, monkeypatch, no_network_download):
    arrays = fake_arrays(seed=2)
    write_idx_folder(tmp_path / "debian", arrays)
    monkeypatch.delenv(data.DATA_DIR_VARIABLE, raising=False)
    monkeypatch.setattr(data, "DEBIAN_FASHION_DIR", tmp_path / "debian")
    dataset = load_dataset("fashion_mnist")
    assert_matches(dataset, arrays)
    assert dataset.class_names[9] == "Ankle boot"


def test_truncated_npz_is_refused(tmp_path, monkeypatch, no_network_download):
    np.savez(tmp_path / "mnist.npz", **fake_arrays())
    raw = (tmp_path / "mnist.npz").read_bytes()
    (tmp_path / "mnist.npz").write_bytes(raw[: len(raw) // 2])
    monkeypatch.setenv(data.DATA_DIR_VARIABLE, str(tmp_path))
    with pytest.raises(DataFormatError, match="mnist.npz"):
        load_dataset("mnist")
    assert not no_network_download, "a corrupt local file must not fall back to a download"


def test_truncated_idx_is_refused(tmp_path, monkeypatch, no_network_download):
    write_idx_folder(tmp_path, fake_arrays())
    images = tmp_path / data.IDX_FILES["x_train"]
    images.write_bytes(images.read_bytes()[:-40])
    monkeypatch.setenv(data.DATA_DIR_VARIABLE, str(tmp_path))
    with pytest.raises(DataFormatError, match="train-images"):
        load_dataset("mnist")


def test_idx_shorter_than_its_header_promises():
    arrays = fake_arrays()
    raw = idx_bytes(arrays["x_train"])[:-28]
    with pytest.raises(DataFormatError, match="truncated"):
        data.parse_idx(raw, "images")
    with pytest.raises(DataFormatError, match="not an IDX"):
        data.parse_idx(b"\x00\x00\x09\x99" + raw[4:], "images")


@pytest.mark.parametrize("damage, message", [
    (lambda arrays: arrays.update(y_train=arrays["y_train"] + 10), "outside 0–9"),
    (lambda arrays: arrays.update(x_test=arrays["x_test"][:, :20]), "expected \\(N, 28, 28\\)"),
    (lambda arrays: arrays.update(y_test=arrays["y_test"][:-1]), "to match x_test"),
    (lambda arrays: arrays.update(x_train=arrays["x_train"].astype(np.float64)), "expected uint8"),
    (lambda arrays: arrays.pop("y_test"), "lacks the arrays"),
])
def test_wrong_layout_is_refused(tmp_path, monkeypatch, damage, message, no_network_download):
    arrays = fake_arrays()
    damage(arrays)
    np.savez(tmp_path / "mnist.npz", **arrays)
    monkeypatch.setenv(data.DATA_DIR_VARIABLE, str(tmp_path))
    with pytest.raises(DataFormatError, match=message):
        load_dataset("mnist")


def test_no_source_says_how_to_fix_it(tmp_path, monkeypatch, no_network_download):
    monkeypatch.setenv(data.DATA_DIR_VARIABLE, str(tmp_path / "empty"))
    with pytest.raises(DataUnavailableError, match=data.DATA_DIR_VARIABLE) as raised:
        load_dataset("fashion_mnist")
    assert "Connect to the internet" in str(raised.value)
    assert no_network_download == [1]


def test_unknown_dataset_name():
    with pytest.raises(ValueError, match="Unknown data set"):
        load_dataset("imagenet")


def cifar_arrays(seed=0):
    rng = np.random.default_rng(seed)
    return {"x_train": rng.integers(0, 256, (6, 32, 32, 3), dtype=np.uint8),
            "y_train": rng.integers(0, 10, (6, 1), dtype=np.uint8),  # a column, as Keras gives it
            "x_test": rng.integers(0, 256, (3, 32, 32, 3), dtype=np.uint8),
            "y_test": rng.integers(0, 10, (3, 1), dtype=np.uint8)}


def test_cifar10_npz_in_data_dir_keeps_its_colours(tmp_path, monkeypatch, no_network_download):
    arrays = cifar_arrays()
    np.savez(tmp_path / "cifar10.npz", **arrays)
    monkeypatch.setenv(data.DATA_DIR_VARIABLE, str(tmp_path))
    cifar = load_dataset("cifar10")
    assert cifar.train_pixels.shape == (6, 32, 32, 3) and cifar.input_shape == (32, 32, 3)
    np.testing.assert_array_equal(np.rint(cifar.x_test * 255).astype(np.uint8), arrays["x_test"])
    np.testing.assert_array_equal(cifar.y_train, arrays["y_train"][:, 0])
    assert cifar.class_names[0] == "airplane" and cifar.class_names[9] == "truck"
    assert no_network_download == []


def test_cifar10_from_the_official_tarball(tmp_path, monkeypatch, no_network_download):
    import io
    import tarfile

    from test_cifar import TEST_BATCH, TRAIN_BATCHES, expected_arrays, official_batch, pickled

    batches = {name: official_batch(seed) for seed, name in enumerate((*TRAIN_BATCHES, TEST_BATCH))}
    with tarfile.open(tmp_path / "cifar-10-python.tar.gz", "w:gz") as archive:
        for name, batch in batches.items():
            raw = pickled(batch)
            member = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            member.size = len(raw)
            archive.addfile(member, io.BytesIO(raw))
    monkeypatch.setenv(data.DATA_DIR_VARIABLE, str(tmp_path))
    cifar = load_dataset("cifar10")
    expected = expected_arrays(batches)
    np.testing.assert_array_equal(cifar.train_pixels, expected["x_train"])
    np.testing.assert_array_equal(cifar.y_test, expected["y_test"])
    assert cifar.source.endswith("cifar-10-python.tar.gz")
    (tmp_path / "cifar-10-python.tar.gz").write_bytes(b"\x1f\x8b not really gzip")
    with pytest.raises(DataFormatError, match="not a readable .tar.gz"):
        load_dataset("cifar10")


def test_a_digit_sized_cifar_file_is_refused(tmp_path, monkeypatch, no_network_download):
    np.savez(tmp_path / "cifar10.npz", **fake_arrays())
    monkeypatch.setenv(data.DATA_DIR_VARIABLE, str(tmp_path))
    with pytest.raises(DataFormatError, match=r"expected \(N, 32, 32, 3\)"):
        load_dataset("cifar10")
    (tmp_path / "cifar10.npz").unlink()
    with pytest.raises(DataUnavailableError, match="cifar-10-python.tar.gz"):
        load_dataset("cifar10")


def test_real_mnist_through_data_dir(mnist):
    assert mnist.train_pixels.shape == (60000, 28, 28, 1) and mnist.train_pixels.dtype == np.uint8
    assert mnist.x_test.shape == (10000, 28, 28, 1)
    assert np.bincount(mnist.y_train).tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    assert mnist.x_test.max() == 1.0 and mnist.x_test.min() == 0.0


def test_real_fashion_mnist_from_debian():
    if not data.DEBIAN_FASHION_DIR.is_dir():
        skip_unless_ci("Debian's dataset-fashion-mnist is not installed (.ci/run installs it).")
    fashion = load_dataset("fashion_mnist")
    assert fashion.train_pixels.shape == (60000, 28, 28, 1)
    assert np.bincount(fashion.y_test).tolist() == [1000] * 10


def test_a_model_is_matched_to_its_data_set_by_its_class_names():
    from playground.spec.datasets import DATASETS, dataset_named_by

    assert dataset_named_by(DATASETS["fashion_mnist"].class_names) == "fashion_mnist"
    assert dataset_named_by([str(digit) for digit in range(10)]) == "mnist"
    assert dataset_named_by(["cat", "dog"]) == "mnist"
