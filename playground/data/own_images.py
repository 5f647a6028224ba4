"""A learner's own image set: named classes of small pictures, kept in the session's memory
only, and turned into a data set to train on, with a held-out part chosen per class.

Every picture is opened safely (playground.data.images), turned upright, cut square at its
centre and scaled down to STORED_SIDE on arrival, so a 12-megapixel phone photo costs
12 KB here. A set holds at most MAX_IMAGES pictures.
"""

from __future__ import annotations

import io
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageOps

from playground.data.archives import read_class_folders
from playground.data.images import ImageError, open_picture
from playground.data.loading import Dataset
from playground.spec.own_images import (
    DEFAULT_CLASS_NAMES,
    FEW_IMAGES,
    MAX_CLASSES,
    MAX_IMAGES,
    MIN_IMAGES_TO_TRAIN,
    MODEL_SHAPE,
    OWN_DATASET,
    OWN_TITLE,
    STORED_SIDE,
    UNBALANCED_RATIO,
    OwnImagesRefused,
    check_class_names,
    clean_class_name,
    held_out_count,
)

HELD_OUT_FOLDER, TRAINING_FOLDER = "held_out", "train"  # in the zip a learner downloads

# Every set's pictures are read, decoded and turned into arrays on this one thread, whichever
# session sends them. glibc gives each thread that allocates a malloc arena of its own, and
# Streamlit runs every rerun on a new thread: done on those, a class's pictures left hundreds
# of MB scattered over a dozen arenas after the sessions closed, which no trim could hand back.
# In one arena, the trim after a session closes (playground.jobs.process_memory) can
# (benchmarks/classroom.py --own-images).
_DECODER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="picture-decoder")


def on_decoder_thread(function, *arguments):
    """`function(*arguments)` run on the decoder thread; its result, or its exception raised here."""
    return _DECODER.submit(function, *arguments).result()
@dataclass(frozen=True)
class OwnImage:
    pixels: np.ndarray  # uint8, STORED_SIDE × STORED_SIDE × 3
    source: str  # the file (or camera shot) it came from, for captions


@dataclass
class Added:
    """What an upload added, and a line for each picture it could not use."""

    count: int = 0
    notes: list[str] = field(default_factory=list)


def stored(picture: Image.Image) -> np.ndarray:
    """An upright RGB picture cut square at its centre and scaled to STORED_SIDE."""
    square = ImageOps.fit(picture.convert("RGB"), (STORED_SIDE, STORED_SIDE), Image.Resampling.LANCZOS)
    return np.asarray(square, np.uint8)


def decoded(raw: bytes, file_name: str) -> np.ndarray:
    """A picture file's bytes as a stored picture. Raises ImageError (a line for the learner)."""
    return stored(open_picture(raw, file_name, smallest_side=STORED_SIDE))


def model_pixels(pixels: np.ndarray) -> np.ndarray:
    """Stored pictures (N, side, side, 3) scaled to what the networks read (MODEL_SHAPE), uint8:
    each output pixel the mean of its block, rounded half up. This is TensorFlow's "area"
    resizing, which the exported script's image_dataset_from_directory uses, so both train
    on the same bytes."""
    factor = STORED_SIDE // MODEL_SHAPE[0]
    count = len(pixels)
    blocks = np.asarray(pixels, np.float32).reshape(count, MODEL_SHAPE[0], factor, MODEL_SHAPE[1], factor, 3)
    return np.floor(blocks.mean(axis=(2, 4)) + 0.5).astype(np.uint8)


def model_input(pixels: np.ndarray) -> np.ndarray:
    """One stored picture as a network's input: floats in [0, 1] of MODEL_SHAPE."""
    return model_pixels(pixels[np.newaxis])[0].astype(np.float32) / 255.0


class ImageSet:
    """Classes in order, each a list of OwnImage; what one browser session collected."""

    def __init__(self, class_names=DEFAULT_CLASS_NAMES):
        self.classes: dict[str, list[OwnImage]] = {name: [] for name in check_class_names(list(class_names))}

    @property
    def class_names(self) -> tuple[str, ...]:
        return tuple(self.classes)

    @property
    def count(self) -> int:
        return sum(len(images) for images in self.classes.values())

    @property
    def room(self) -> int:
        return MAX_IMAGES - self.count

    def megabytes(self) -> float:
        return sum(image.pixels.nbytes for images in self.classes.values() for image in images) / 2**20

    def add_class(self, name: str) -> str:
        if len(self.classes) >= MAX_CLASSES:
            raise OwnImagesRefused(f"At most {MAX_CLASSES} classes: remove one before adding another.")
        name = check_class_names([*self.classes, name])[-1]
        self.classes[name] = []
        return name

    def rename_class(self, old: str, new: str) -> str:
        """Rename class `old`, keeping its place and images; the name as kept."""
        index = list(self.classes).index(old)
        names = check_class_names([new if name == old else name for name in self.classes])
        self.classes = dict(zip(names, self.classes.values(), strict=True))
        return names[index]

    def remove_class(self, name: str) -> None:
        if len(self.classes) <= 2:
            raise OwnImagesRefused("Keep at least two classes: a network needs two to tell apart.")
        self.classes.pop(name, None)

    def remove_images(self, name: str, indices) -> None:
        drop = set(indices)
        self.classes[name] = [image for index, image in enumerate(self.classes[name]) if index not in drop]

    def add_pixels(self, name: str, pixels: np.ndarray, source: str) -> bool:
        """Keep one stored picture in class `name`; False if the set is full."""
        if self.room <= 0:
            return False
        self.classes[name].append(OwnImage(pixels, source))
        return True

    def add_files(self, name: str, files) -> Added:
        """Pictures from (bytes, file name) pairs into class `name`; a note for each one refused."""
        return on_decoder_thread(self._add_files, name, files)

    def _add_files(self, name: str, files) -> Added:
        added = Added()
        for raw, file_name in files:
            if self.room <= 0:
                added.notes.append(full_note(file_name))
                break
            try:
                pixels = decoded(raw, file_name)
            except ImageError as error:
                added.notes.append(str(error))
                continue
            added.count += self.add_pixels(name, pixels, file_name)
        return added

    def add_zip(self, raw: bytes, zip_name: str) -> Added:
        """A zip's class folders: each folder's pictures into the class of its name, made if new.
        ArchiveRefused if the zip cannot be read at all."""
        return on_decoder_thread(self._add_zip, raw, zip_name)

    def _add_zip(self, raw: bytes, zip_name: str) -> Added:
        contents = read_class_folders(raw, zip_name)
        added = Added(notes=list(contents.notes))
        for picture in contents.pictures:
            try:
                name = self.class_for_folder(picture.class_name)
            except OwnImagesRefused as error:
                added.notes.append(f"{picture.file_name}: skipped. {error}")
                continue
            result = self._add_files(name, [(picture.raw, picture.file_name)])
            added.count += result.count
            added.notes += result.notes
            if self.room <= 0:
                break
        return added

    def class_for_folder(self, folder: str) -> str:
        """The class a folder's pictures go to: one of the same name (in any case), or a new one,
        taking the place of an empty class that still has its default name."""
        name = clean_class_name(folder)
        for existing in self.classes:
            if existing.casefold() == name.casefold():
                return existing
        placeholder = next((existing for existing, images in self.classes.items()
                            if not images and existing in DEFAULT_CLASS_NAMES), None)
        if placeholder is not None:
            self.classes = {(name if key == placeholder else key): images
                            for key, images in self.classes.items()}
            return name
        return self.add_class(name)

    def warnings(self) -> list[str]:
        """What the page warns of: classes with few pictures, and classes far out of balance."""
        lines = [f"“{name}” has {len(images)} image{'s' if len(images) != 1 else ''}: add at least "
                 f"{FEW_IMAGES} for a network to learn it." for name, images in self.classes.items()
                 if len(images) < FEW_IMAGES]
        counts = [len(images) for images in self.classes.values()]
        if min(counts) >= FEW_IMAGES and max(counts) > UNBALANCED_RATIO * min(counts):
            largest = max(self.classes, key=lambda name: len(self.classes[name]))
            smallest = min(self.classes, key=lambda name: len(self.classes[name]))
            lines.append(f"The classes are out of balance: “{largest}” has {max(counts)} images, "
                         f"“{smallest}” only {min(counts)}. The network will lean towards the larger one; "
                         "add images to the smaller classes.")
        return lines

    def check_trainable(self) -> None:
        check_class_names(list(self.classes))
        for name, images in self.classes.items():
            if len(images) < MIN_IMAGES_TO_TRAIN:
                raise OwnImagesRefused(f"“{name}” has {len(images)} image{'s' if len(images) != 1 else ''}; "
                                       f"each class needs at least {MIN_IMAGES_TO_TRAIN} to train (some are "
                                       "held out to test on). Add more.")

    def split(self, seed: int = 0) -> tuple[list[tuple[int, OwnImage]], list[tuple[int, OwnImage]]]:
        """(training, held out): (class index, image) pairs, class by class. Each class's last
        `held_out_count` images in a seeded shuffle are held out, so every class is tested.
        The training pairs stay in class order (training shuffles them anyway), the order in
        which `image_dataset_from_directory` reads the downloaded zip back."""
        training, held_out = [], []
        rng = np.random.default_rng(seed)
        for label, images in enumerate(self.classes.values()):
            order = rng.permutation(len(images))
            cut = len(images) - held_out_count(len(images))
            training += [(label, images[index]) for index in order[:cut]]
            held_out += [(label, images[index]) for index in order[cut:]]
        return training, held_out

    def dataset(self, seed: int = 0) -> Dataset:
        """The set as a Dataset at MODEL_SHAPE: training bytes, held-out floats (the "test" set).
        OwnImagesRefused if a class has too few images to train."""
        return on_decoder_thread(self._dataset, seed)

    def _dataset(self, seed: int) -> Dataset:
        self.check_trainable()
        training, held_out = self.split(seed)

        def arrays(pairs):
            return model_pixels(np.stack([image.pixels for _, image in pairs])), \
                np.array([label for label, _ in pairs], np.int32)

        train_pixels, y_train = arrays(training)
        test_pixels, y_test = arrays(held_out)
        return Dataset(OWN_DATASET, OWN_TITLE, train_pixels, y_train, test_pixels.astype(np.float32) / 255.0,
                       y_test, self.class_names, "this session's images")

    def zip_bytes(self, seed: int = 0) -> bytes:
        """The set as a zip: train/<class>/… and held_out/<class>/… PNGs, the same split as
        `dataset(seed)`, for the exported script's image_dataset_from_directory."""
        return on_decoder_thread(self._zip_bytes, seed)

    def _zip_bytes(self, seed: int) -> bytes:
        buffer = io.BytesIO()
        training, held_out = self.split(seed)
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
            for folder, pairs in ((TRAINING_FOLDER, training), (HELD_OUT_FOLDER, held_out)):
                for number, (label, image) in enumerate(pairs):
                    png = io.BytesIO()
                    Image.fromarray(image.pixels).save(png, format="PNG")
                    archive.writestr(f"{folder}/{folder_name(self.class_names[label])}/{number:04d}.png",
                                     png.getvalue())
        return buffer.getvalue()


def folder_name(class_name: str) -> str:
    """A class name as a folder name every system accepts."""
    safe = "".join(char if char.isalnum() or char in " -_" else "_" for char in class_name).strip()
    return safe or "class"


def full_note(file_name: str) -> str:
    return (f"{file_name} and any after it: not added, this session holds at most {MAX_IMAGES} images. "
            "Remove some to add others.")
