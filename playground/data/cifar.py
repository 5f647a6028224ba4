"""CIFAR-10 in its official "python version" format: pickled batches, packed or unpacked.

The official `cifar-10-python.tar.gz` holds `cifar-10-batches-py/` with five training
batches and one test batch. Each is a pickled dict whose `data` is a (10000, 3072) uint8
array, one row per image: the 1,024 red values, then green, then blue, each row-major over
32×32; `labels` lists the classes 0 to 9.

Pickle can run code while it loads, so batches are read by an unpickler that builds only
what these files hold (dicts, lists, bytes and NumPy arrays) and refuses anything else.
Members of the archive are read in memory by name; nothing is extracted to disk.
"""

from __future__ import annotations

import io
import pickle
import tarfile
import zlib
from pathlib import Path

import numpy as np

from playground.spec.refusals import Refused

TARBALL_NAME = "cifar-10-python.tar.gz"
FOLDER_NAME = "cifar-10-batches-py"
TRAIN_BATCHES = tuple(f"data_batch_{number}" for number in range(1, 6))
TEST_BATCH = "test_batch"
SIDE, CHANNELS = 32, 3
VALUES_PER_IMAGE = SIDE * SIDE * CHANNELS
MAX_BATCH_BYTES = 64 * 2**20  # an official batch is 30 MB; anything far larger is not one

# What an official batch (written by Python 2's cPickle of NumPy arrays) may name; NumPy 2
# moved numpy.core to numpy._core, and files written by either must load.
_ALLOWED_GLOBALS = {
    (module, name)
    for module in ("numpy.core.multiarray", "numpy._core.multiarray")
    for name in ("_reconstruct", "scalar")
} | {("numpy", "ndarray"), ("numpy", "dtype"), ("_codecs", "encode")}


class CifarFormatError(Refused):
    """A CIFAR-10 file exists but is not the official python-version batch format."""


class _BatchUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str):
        if (module, name) not in _ALLOWED_GLOBALS:
            raise CifarFormatError(f"it asks to load {module}.{name}, which no CIFAR-10 batch does")
        return super().find_class(module, name)


def parse_batch(raw: bytes, origin: str) -> tuple[np.ndarray, np.ndarray]:
    """(images (N, 32, 32, 3) uint8, labels (N,) int64) from one pickled batch's bytes."""
    try:
        batch = _BatchUnpickler(io.BytesIO(raw), encoding="bytes").load()
    except CifarFormatError as error:
        raise CifarFormatError(f"{origin} is not an official CIFAR-10 batch: {error}.") from None
    except Exception as error:  # noqa: BLE001 - damaged pickles fail in many ways: each means "not a batch"
        raise CifarFormatError(f"{origin} is not a readable CIFAR-10 batch ({type(error).__name__}: "
                               f"{error}). It may be truncated: download it again.") from None
    if not isinstance(batch, dict) or b"data" not in batch or b"labels" not in batch:
        raise CifarFormatError(f"{origin} lacks the 'data' and 'labels' of a CIFAR-10 batch.")
    try:
        data, labels = np.asarray(batch[b"data"]), np.asarray(batch[b"labels"])
    except (ValueError, TypeError) as error:  # ragged lists, say
        raise CifarFormatError(f"{origin}: its data or labels are not arrays ({error}).") from None
    if labels.size == 0:
        labels = labels.astype(np.int64)  # an empty list reads as floats
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != VALUES_PER_IMAGE:
        raise CifarFormatError(f"{origin}: its data is {data.dtype} of shape {data.shape}; "
                               f"expected uint8 rows of {VALUES_PER_IMAGE} values.")
    if labels.dtype.kind not in "iu" or labels.ndim != 1:
        raise CifarFormatError(f"{origin}: its labels are {labels.dtype} of shape {labels.shape}; expected "
                               "whole numbers, one per image.")
    if len(labels) != len(data):
        raise CifarFormatError(f"{origin}: {len(labels)} labels for {len(data)} images.")
    images = data.reshape(-1, CHANNELS, SIDE, SIDE).transpose(0, 2, 3, 1)  # planes → pixels
    return np.ascontiguousarray(images), labels.astype(np.int64)


def read_batches_folder(folder: Path) -> dict[str, np.ndarray]:
    """x_train, y_train, x_test, y_test from an unpacked `cifar-10-batches-py` folder."""
    return _join({name: _read_file(folder / name) for name in (*TRAIN_BATCHES, TEST_BATCH)})


def read_tarball(path: Path) -> dict[str, np.ndarray]:
    """The same arrays from the official `cifar-10-python.tar.gz`, read in memory."""
    batches = {}
    try:
        with tarfile.open(path, "r:gz") as archive:
            members = {Path(member.name).name: member for member in archive.getmembers() if member.isfile()}
            for name in (*TRAIN_BATCHES, TEST_BATCH):
                member = members.get(name)
                if member is None:
                    raise CifarFormatError(f"{path} has no {name}: it is not the official CIFAR-10 "
                                           "python-version archive.")
                if member.size > MAX_BATCH_BYTES:
                    raise CifarFormatError(f"{path}: {name} is {member.size:,} bytes, far larger than "
                                           "an official batch.")
                batches[name] = parse_batch(archive.extractfile(member).read(), f"{path}:{name}")
    except (tarfile.TarError, OSError, EOFError, zlib.error) as error:
        raise CifarFormatError(f"{path} is not a readable .tar.gz ({error}). It may be truncated: "
                               "download it again.") from None
    return _join(batches)


def _read_file(path: Path) -> tuple[np.ndarray, np.ndarray]:
    if not path.is_file():
        raise CifarFormatError(f"{path} is missing: a CIFAR-10 batches folder holds "
                               f"{', '.join(TRAIN_BATCHES)} and {TEST_BATCH}.")
    if path.stat().st_size > MAX_BATCH_BYTES:
        raise CifarFormatError(f"{path} is far larger than an official CIFAR-10 batch.")
    return parse_batch(path.read_bytes(), str(path))


def _join(batches: dict[str, tuple[np.ndarray, np.ndarray]]) -> dict[str, np.ndarray]:
    train = [batches[name] for name in TRAIN_BATCHES]
    x_test, y_test = batches[TEST_BATCH]
    return {"x_train": np.concatenate([images for images, _ in train]),
            "y_train": np.concatenate([labels for _, labels in train]),
            "x_test": x_test, "y_test": y_test}
