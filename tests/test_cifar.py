"""CIFAR-10's official python-version files, made here in that format, read as Keras reads them."""

import io
import pickle
import tarfile

import numpy as np
import pytest

from playground.data.cifar import (
    TEST_BATCH,
    TRAIN_BATCHES,
    CifarFormatError,
    parse_batch,
    read_batches_folder,
    read_tarball,
)

IMAGES_PER_BATCH = 4


def official_batch(seed: int) -> dict:
    """A batch as the official files hold it: rows of 1,024 reds, 1,024 greens, 1,024 blues."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (IMAGES_PER_BATCH, 32, 32, 3), np.uint8)
    planes = np.stack([images[..., channel].reshape(IMAGES_PER_BATCH, 1024) for channel in range(3)], axis=1)
    return {"images": images, "labels": rng.integers(0, 10, IMAGES_PER_BATCH).tolist(),
            "pickled": {b"batch_label": b"testing batch", b"labels": None,
                        b"data": planes.reshape(IMAGES_PER_BATCH, 3072), b"filenames": [b"x.png"] * 4}}


def pickled(batch: dict) -> bytes:
    content = {**batch["pickled"], b"labels": batch["labels"]}
    return pickle.dumps(content, protocol=2)


@pytest.fixture
def batches():
    return {name: official_batch(seed) for seed, name in enumerate((*TRAIN_BATCHES, TEST_BATCH))}


def expected_arrays(batches):
    return {"x_train": np.concatenate([batches[name]["images"] for name in TRAIN_BATCHES]),
            "y_train": np.concatenate([batches[name]["labels"] for name in TRAIN_BATCHES]),
            "x_test": batches[TEST_BATCH]["images"], "y_test": np.asarray(batches[TEST_BATCH]["labels"])}


def test_a_batch_is_read_pixel_for_pixel(batches):
    images, labels = parse_batch(pickled(batches["data_batch_1"]), "data_batch_1")
    np.testing.assert_array_equal(images, batches["data_batch_1"]["images"])
    np.testing.assert_array_equal(labels, batches["data_batch_1"]["labels"])
    # the first row's first three values are the top-left pixel's red, its right neighbour's red…
    row = batches["data_batch_1"]["pickled"][b"data"][0]
    assert tuple(images[0, 0, 0]) == (row[0], row[1024], row[2048])


def test_the_folder_and_the_tarball_give_the_same_arrays(batches, tmp_path):
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    archive_path = tmp_path / "cifar-10-python.tar.gz"
    with tarfile.open(archive_path, "w:gz") as archive:
        for name, batch in batches.items():
            raw = pickled(batch)
            (folder / name).write_bytes(raw)
            member = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            member.size = len(raw)
            archive.addfile(member, io.BytesIO(raw))
    expected = expected_arrays(batches)
    for arrays in (read_batches_folder(folder), read_tarball(archive_path)):
        for key, value in expected.items():
            np.testing.assert_array_equal(arrays[key], value)
        assert arrays["x_train"].shape == (5 * IMAGES_PER_BATCH, 32, 32, 3)


class Shell:
    def __reduce__(self):
        import os

        return (os.system, ("echo owned",))


@pytest.mark.parametrize("raw, message", [
    (pickle.dumps(Shell()), "asks to load posix.system"),
    (b"not a pickle", "not a readable CIFAR-10 batch"),
    (pickle.dumps({b"data": np.zeros((2, 100), np.uint8), b"labels": [0, 1]}), "rows of 3072 values"),
    (pickle.dumps({b"labels": [0]}), "lacks the 'data' and 'labels'"),
    (pickle.dumps({b"data": np.zeros((2, 3072), np.uint8), b"labels": [0]}), "1 labels for 2 images"),
])
def test_bad_batches_are_refused_and_never_run_code(raw, message, capfd):
    with pytest.raises(CifarFormatError, match=message):
        parse_batch(raw, "data_batch_1")
    assert "owned" not in capfd.readouterr().out


def test_a_truncated_tarball_or_a_missing_batch_is_named(batches, tmp_path):
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    (folder / "data_batch_1").write_bytes(pickled(batches["data_batch_1"]))
    with pytest.raises(CifarFormatError, match="data_batch_2 is missing"):
        read_batches_folder(folder)
    cut = tmp_path / "cifar-10-python.tar.gz"
    with tarfile.open(cut, "w:gz") as archive:
        raw = pickled(batches["data_batch_1"])
        member = tarfile.TarInfo("cifar-10-batches-py/data_batch_1")
        member.size = len(raw)
        archive.addfile(member, io.BytesIO(raw))
    with pytest.raises(CifarFormatError, match="has no data_batch_2"):
        read_tarball(cut)
    cut.write_bytes(cut.read_bytes()[:100])
    with pytest.raises(CifarFormatError, match="not a readable .tar.gz"):
        read_tarball(cut)
