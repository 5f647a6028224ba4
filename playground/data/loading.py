"""MNIST, Fashion-MNIST and CIFAR-10: (N, 28, 28, 1) gray digits and clothes, (N, 32, 32, 3)
colour photos. The training images stay bytes (0–255), as stored and as the training pipeline
reads them: as floats they took four times the memory in every server (188 MB for MNIST,
614 MB for CIFAR-10). The test images, which pages show and feed one at a time, are floats
in [0, 1]; `float_images` turns bytes into those.

Sources, tried in order for each data set:
1. the folder named by the environment variable `PLAYGROUND_DATA_DIR` (see `local_candidates`):
   a Keras-layout .npz, the official IDX files, or for CIFAR-10 the official python-version
   `cifar-10-python.tar.gz` or its unpacked `cifar-10-batches-py/`;
2. for Fashion-MNIST, Debian's `dataset-fashion-mnist` folder;
3. the Keras download, which is what most users get.

A local file that exists but is corrupt raises `DataFormatError` at once: falling through to
another source would hide the damage, and loading it anyway would train on wrong data.
"""

from __future__ import annotations

import gzip
import os
import struct
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from playground.spec.datasets import DATASETS, GRAY_SHAPE, NUM_CLASSES
from playground.spec.refusals import Refused

DATA_DIR_VARIABLE = "PLAYGROUND_DATA_DIR"
DEBIAN_FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")
IDX_IMAGES_MAGIC = 0x00000803
IDX_LABELS_MAGIC = 0x00000801
IDX_FILES = {
    "x_train": "train-images-idx3-ubyte.gz",
    "y_train": "train-labels-idx1-ubyte.gz",
    "x_test": "t10k-images-idx3-ubyte.gz",
    "y_test": "t10k-labels-idx1-ubyte.gz",
}

class DataUnavailableError(RuntimeError):
    """No source could provide the data set; the message says how to fix that."""


class DataFormatError(Refused):
    """A local data file exists but is corrupt, truncated or of the wrong layout."""


@dataclass(frozen=True)
class Dataset:
    name: str
    title: str
    train_pixels: np.ndarray  # uint8, 0–255, with a channel axis
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: tuple[str, ...]
    source: str

    @property
    def input_shape(self) -> tuple[int, int, int]:
        return self.train_pixels.shape[1:]


def load_dataset(name: str) -> Dataset:
    """Load `name` (a key of DATASETS) from the first source that has it."""
    if name not in DATASETS:
        raise ValueError(f"Unknown data set {name!r}; choose one of {sorted(DATASETS)}.")
    arrays, source = _load_raw(name)
    return Dataset(
        name=name,
        title=DATASETS[name].title,
        train_pixels=with_channel_axis(arrays["x_train"]),
        y_train=arrays["y_train"].astype(np.int32),
        x_test=to_float_images(arrays["x_test"]),
        y_test=arrays["y_test"].astype(np.int32),
        class_names=DATASETS[name].class_names,
        source=source,
    )


def with_channel_axis(images: np.ndarray) -> np.ndarray:
    """(N, 28, 28) → (N, 28, 28, 1), as a view; colour images (N, 32, 32, 3) as they are."""
    return images[..., np.newaxis] if images.ndim == 3 else images


def to_float_images(images: np.ndarray) -> np.ndarray:
    """uint8 (N, 28, 28) or (N, 32, 32, 3) → float32 with a channel axis, in [0, 1]."""
    return float_images(with_channel_axis(images))


def random_test_index(data: Dataset) -> int:
    """A test image's number, picked at random (Draw's and Inspect's "random test image")."""
    return int(np.random.default_rng().integers(len(data.x_test)))


def test_example(data: Dataset, index: int) -> tuple[np.ndarray, int, str]:
    """Test image `index` (any whole number, taken modulo the test set's size), its number and
    its true class's name."""
    index = index % len(data.x_test)
    return data.x_test[index], index, data.class_names[data.y_test[index]]


def float_images(images: np.ndarray) -> np.ndarray:
    """uint8 pixels (0–255) → float32 in [0, 1]; float images are returned as they are."""
    if images.dtype != np.uint8:
        return images
    floats = images.astype(np.float32)
    floats /= 255.0  # in place: a second float array would only raise the peak
    return floats


def _load_raw(name: str) -> tuple[dict[str, np.ndarray], str]:
    from playground.data import cifar
    shape = DATASETS[name].image_shape
    for path in local_candidates(name):
        try:
            if path.suffix == ".npz" and path.is_file():
                return read_npz(path, shape), str(path)
            if path.name == cifar.TARBALL_NAME and path.is_file():
                return _checked(cifar.read_tarball(path), str(path), shape), str(path)
            if path.name == cifar.FOLDER_NAME and path.is_dir():
                return _checked(cifar.read_batches_folder(path), str(path), shape), str(path)
            if path.is_dir() and all((path / file).is_file() for file in IDX_FILES.values()):
                return _checked(read_idx_folder(path), str(path), shape), str(path)
        except cifar.CifarFormatError as error:
            raise DataFormatError(str(error)) from None
    return _download_with_keras(name), "Keras download"


def _checked(arrays: dict[str, np.ndarray], origin: str, image_shape) -> dict[str, np.ndarray]:
    check_arrays(arrays, origin, image_shape)
    return arrays


def local_candidates(name: str) -> list[Path]:
    """Files and folders that may hold `name`, most specific first."""
    spec = DATASETS[name]
    candidates: list[Path] = []
    data_dir = os.environ.get(DATA_DIR_VARIABLE)
    if data_dir:
        root = Path(data_dir).expanduser()
        candidates += [root / npz for npz in spec.npz_names]
        candidates += [(root / folder) for folder in spec.idx_folders]
        if name == "cifar10":
            from playground.data.cifar import FOLDER_NAME, TARBALL_NAME

            candidates += [root / TARBALL_NAME, root / FOLDER_NAME]
    if name == "fashion_mnist":
        candidates.append(DEBIAN_FASHION_DIR)
    return candidates


def _download_with_keras(name: str) -> dict[str, np.ndarray]:
    import keras

    title = DATASETS[name].title
    loader = getattr(keras.datasets, name).load_data
    try:
        (x_train, y_train), (x_test, y_test) = loader()
    except Exception as error:  # noqa: BLE001 - any download failure has the same fix
        raise DataUnavailableError(
            f"{title} could not be downloaded ({type(error).__name__}: {error}). "
            f"Connect to the internet and reload, or set the environment variable "
            f"{DATA_DIR_VARIABLE} to a folder that holds {DATASETS[name].npz_names[0]} "
            f"(Keras layout) or {DATASETS[name].official_files}, then restart the app."
        ) from error
    # Keras gives CIFAR-10's labels as a column (N, 1)
    arrays = {"x_train": x_train, "y_train": y_train.reshape(-1),
              "x_test": x_test, "y_test": y_test.reshape(-1)}
    check_arrays(arrays, f"the Keras download of {title}", DATASETS[name].image_shape)
    return arrays


def read_npz(path: Path, image_shape=GRAY_SHAPE) -> dict[str, np.ndarray]:
    """Read a Keras-layout .npz (x_train, y_train, x_test, y_test), checking every array."""
    try:
        with np.load(path, allow_pickle=False) as archive:
            missing = set(IDX_FILES) - set(archive.files)
            if missing:
                raise DataFormatError(
                    f"{path} lacks the arrays {sorted(missing)}; it must have the Keras "
                    "layout x_train, y_train, x_test, y_test."
                )
            arrays = {key: archive[key] for key in IDX_FILES}
            for key in ("y_train", "y_test"):
                if arrays[key].ndim == 2 and arrays[key].shape[1] == 1:  # CIFAR-10's column of labels
                    arrays[key] = arrays[key].reshape(-1)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error) as error:
        if isinstance(error, DataFormatError):
            raise
        raise DataFormatError(
            f"{path} is not a readable .npz file ({error}). It may be truncated: "
            "download it again."
        ) from error
    check_arrays(arrays, str(path), image_shape)
    return arrays


def read_idx_folder(folder: Path) -> dict[str, np.ndarray]:
    return {key: read_idx(folder / file) for key, file in IDX_FILES.items()}


def read_idx(path: Path) -> np.ndarray:
    """Read one official IDX file (gzip-compressed or not) of images or labels."""
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as stream:
            raw = stream.read()
    except (OSError, EOFError, zlib.error) as error:
        raise DataFormatError(
            f"{path} cannot be decompressed ({error}). It may be truncated: download it again."
        ) from error
    return parse_idx(raw, path)


def parse_idx(raw: bytes, path: Path | str) -> np.ndarray:
    try:
        return idx_array(raw)
    except ValueError as error:
        raise DataFormatError(f"{path} {error}") from None


def idx_array(raw: bytes) -> np.ndarray:
    """The array of an IDX file's bytes (images or labels); ValueError saying what is wrong.
    The exported script reads IDX files with this very function."""
    if len(raw) < 8:
        raise ValueError("is too short to be an IDX file.")
    magic, count = struct.unpack(">II", raw[:8])
    if magic == IDX_LABELS_MAGIC:
        shape, header = (count,), 8
    elif magic == IDX_IMAGES_MAGIC and len(raw) >= 16:
        rows, columns = struct.unpack(">II", raw[8:16])
        shape, header = (count, rows, columns), 16
    else:
        raise ValueError(f"is not an IDX file of unsigned bytes (magic {magic:#x}).")
    expected = header + int(np.prod(shape))
    if len(raw) != expected:
        raise ValueError(f"holds {len(raw)} bytes but its header promises {expected}: the file is "
                         "truncated or corrupt. Download it again.")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape)


def check_arrays(arrays: dict[str, np.ndarray], origin: str, image_shape=GRAY_SHAPE) -> None:
    """Refuse anything but uint8 images of `image_shape` (gray ones without the channel axis,
    as the files store them) with matching labels 0–9."""
    stored = tuple(image_shape[:2]) if image_shape[2] == 1 else tuple(image_shape)
    for split in ("train", "test"):
        images, labels = arrays[f"x_{split}"], arrays[f"y_{split}"]
        if images.shape[1:] != stored:
            expected = ", ".join(str(size) for size in ("N", *stored))
            raise DataFormatError(
                f"x_{split} in {origin} has shape {images.shape}; expected ({expected})."
            )
        if images.dtype != np.uint8:
            raise DataFormatError(f"x_{split} in {origin} is {images.dtype}; expected uint8.")
        if labels.shape != (len(images),):
            raise DataFormatError(
                f"y_{split} in {origin} has shape {labels.shape}; expected ({len(images)},) "
                f"to match x_{split}."
            )
        if len(labels) and (labels.min() < 0 or labels.max() >= NUM_CLASSES):
            raise DataFormatError(f"y_{split} in {origin} has labels outside 0–9.")
