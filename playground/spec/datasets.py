"""The data sets the playground trains on, stated once: each one's name, shape, classes and
sources. Every other place (the loaders, the pages, links, uploads, the exported script)
derives from this catalogue; nothing here reads a file.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DatasetInfo:
    name: str  # the key: in links, model files and settings
    title: str  # how the pages name it
    image_shape: tuple[int, int, int]
    class_names: tuple[str, ...]
    train_images: int
    download_megabytes: int  # the Keras download, which the page announces while it loads
    npz_names: tuple[str, ...]  # a Keras-layout .npz in PLAYGROUND_DATA_DIR, under any of these names
    idx_folders: tuple[str, ...]  # folders of PLAYGROUND_DATA_DIR that may hold the IDX files
    official_files: str  # what else PLAYGROUND_DATA_DIR may hold, in words

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def colour(self) -> bool:
        return self.image_shape[-1] == 3


IDX_FILES_TEXT = "the four official IDX .gz files"
CATALOGUE = (
    DatasetInfo("mnist", "MNIST", (28, 28, 1), tuple(str(digit) for digit in range(10)), 60_000, 11,
                ("mnist.npz",), ("mnist", "."), IDX_FILES_TEXT),
    DatasetInfo("fashion_mnist", "Fashion-MNIST", (28, 28, 1),
                ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
                 "Ankle boot"), 60_000, 30, ("fashion_mnist.npz", "fashion-mnist.npz"),
                ("fashion-mnist", "fashion_mnist"), IDX_FILES_TEXT),
    DatasetInfo("cifar10", "CIFAR-10", (32, 32, 3),
                ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"),
                50_000, 170, ("cifar10.npz", "cifar-10.npz"), (),
                "the official cifar-10-python.tar.gz or its cifar-10-batches-py folder"),
)
DATASETS: dict[str, DatasetInfo] = {info.name: info for info in CATALOGUE}

# What the pages and defaults call these shapes, derived from the catalogue.
GRAY_SHAPE = DATASETS["mnist"].image_shape  # digits and clothes; Draw's drawings too
COLOUR_SHAPE = DATASETS["cifar10"].image_shape
IMAGE_SHAPES = tuple(dict.fromkeys(info.image_shape for info in CATALOGUE))
NUM_CLASSES = DATASETS["mnist"].num_classes
if any(info.num_classes != NUM_CLASSES for info in CATALOGUE):
    raise ValueError("Every data set here must have the same number of classes: the networks' last "
                     "layers count on it.")


def shape_words(shape) -> str:
    """28×28×1, as the pages write a shape."""
    return "×".join(str(size) for size in shape)


def image_shapes_text() -> str:
    """"28×28×1 images (MNIST, Fashion-MNIST) or 32×32×3 ones (CIFAR-10)", from the catalogue."""
    kinds = [f"{shape_words(shape)} {'images' if index == 0 else 'ones'} "
             f"({', '.join(info.title for info in CATALOGUE if info.image_shape == shape)})"
             for index, shape in enumerate(IMAGE_SHAPES)]
    return " or ".join(kinds)


def dataset_named_by(class_names) -> str:
    """The data set whose classes these are (a Fashion-MNIST model's gets Fashion-MNIST);
    MNIST for any other list."""
    return next((info.name for info in CATALOGUE if info.class_names == tuple(class_names)), "mnist")


def dataset_for_shape(image_shape, preferred: str) -> str:
    """`preferred` if its images have this shape, else the first data set whose images do."""
    if DATASETS[preferred].image_shape == tuple(image_shape):
        return preferred
    return next((info.name for info in CATALOGUE if info.image_shape == tuple(image_shape)), preferred)
