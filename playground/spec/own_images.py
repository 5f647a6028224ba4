"""A learner's own image set, stated once: how many classes and images, how large each image
is kept, what the networks read, how the held-out images are chosen, and what a zip may hold.
The page, the loaders, the training and the exported script all derive from these.
"""

from __future__ import annotations

import re
import unicodedata

from playground.spec.datasets import COLOUR_SHAPE, NUM_CLASSES
from playground.spec.refusals import Refused
from playground.spec.shapes import shape_text

OWN_DATASET = "own_images"  # the data set's key, beside the catalogue's ("mnist", …)
OWN_TITLE = "your images"
MIN_CLASSES, MAX_CLASSES = 2, NUM_CLASSES
# Each image is scaled down on arrival so that its longer side is at most this (thumbnails,
# Grad-CAM's overlay and the exported zip use it), and cut to a square.
STORED_SIDE = 64
# What the networks read: CIFAR-10's shape, so that the shipped CIFAR-10 network can be a
# base, and Inspect, the colour filters and the exported script work as for CIFAR-10.
MODEL_SHAPE = COLOUR_SHAPE
if STORED_SIDE % MODEL_SHAPE[0] or MODEL_SHAPE[0] != MODEL_SHAPE[1]:
    raise ValueError("Stored pictures must shrink to the networks' square input by a whole factor.")
MAX_IMAGES = 600  # per session, over every class
MAX_MEGABYTES = MAX_IMAGES * STORED_SIDE * STORED_SIDE * 3 / 2**20  # what MAX_IMAGES kept images take
FEW_IMAGES = 10  # a class with fewer gets a warning
MIN_IMAGES_TO_TRAIN = 4  # per class: at least one held out, the rest to train on
UNBALANCED_RATIO = 3.0  # the largest class this many times the smallest gets a warning
HELD_OUT_FRACTION = 0.2  # of each class (a stratified split), at least one image
MAX_CLASS_NAME = 40  # characters
DEFAULT_CLASS_NAMES = ("Class 1", "Class 2")

# Zips are read in memory, never extracted; an archive past these bounds is refused unread.
MAX_ZIP_ENTRIES = 3_000
MAX_ENTRY_MEGABYTES = 25  # one picture, uncompressed
MAX_ZIP_MEGABYTES = 400  # every picture together, uncompressed
MAX_COMPRESSION_RATIO = 200  # a picture compresses a little; a bomb, thousands of times
# Files other tools leave in folders, skipped without a word.
IGNORED_NAMES = (".DS_Store", "Thumbs.db", "desktop.ini")
IGNORED_FOLDERS = ("__MACOSX",)

# Augmentation: what each kind does, in the page's words. Flip and shift are those of
# Build & Train's photos (playground.training.augment).
AUGMENTATIONS = {
    "flip": "mirror left to right",
    "shift": "move by up to an eighth",
    "rotate": "turn by up to 30°",
    "zoom": "zoom in or out by up to 20 %",
    "brightness": "lighter or darker by up to 20 %",
    "contrast": "more or less contrast by up to 30 %",
}
ROTATION_FACTOR = 30 / 360  # Keras' RandomRotation takes a fraction of a full turn
ZOOM_FACTOR = 0.2
BRIGHTNESS_FACTOR = 0.2
CONTRAST_FACTOR = 0.3
DEFAULT_AUGMENTATIONS = ("flip", "shift", "rotate", "zoom", "brightness", "contrast")
# A frozen base's features already hold up to what rotation, brightness and contrast change, and
# those made its new head worse on sets other than the sample set (benchmarks/own_images.py
# --other-sets compares them): it trains with these, faster too.
BASE_AUGMENTATIONS = ("flip", "shift", "zoom")

# Training defaults chosen to generalise to sets never seen (a few dozen photos per class),
# not tuned to the sample set: every augmentation, a held-out split, small batches.
OWN_TRAINING = {"epochs": 60, "batch_size": 16, "optimizer": "adam", "learning_rate": 2e-3,
                "schedule": "warmup_cosine", "validation_split": 0.0, "augment": True}
OWN_BASE_TRAINING = {**OWN_TRAINING, "epochs": 40, "learning_rate": 1e-2}


# What a network for own images starts from: a key (in pages, links and lessons) and its title.
STARTS = {
    "scratch": "A small CNN, from scratch",
    "stack": "Your own stack, from the builder in the sidebar",
    "cifar10": "The CIFAR-10 network (shipped), frozen, with a new head",
    "mobilenet_v2": "MobileNetV2 (ImageNet), frozen, with a new head",
    "session": "This session's model, frozen, with a new head",
}
STARTS_HELP = ("**From scratch** learns everything from your images; **your own stack** too, with the "
               "layers you set in the sidebar (its last Dense needs one unit per class). **A frozen base** "
               "reuses the features a network learned on many photos, and trains only a new head: faster, "
               "and better with few images, as long as your images look like what the base saw.")


class OwnImagesRefused(Refused):
    """Something about the learner's images that cannot work; the message says how to fix it."""


def model_shape_text() -> str:
    return shape_text(MODEL_SHAPE)


def clean_class_name(name: str) -> str:
    """A class name as the page keeps it: printable characters, single spaces, at most
    MAX_CLASS_NAME characters. OwnImagesRefused if nothing is left."""
    if not isinstance(name, str):
        raise OwnImagesRefused(f"A class name must be text, not {type(name).__name__}.")
    printable = "".join(char if unicodedata.category(char)[0] not in "CZ" else " " for char in name)
    cleaned = re.sub(r"\s+", " ", printable).strip()[:MAX_CLASS_NAME].strip()
    if not cleaned:
        raise OwnImagesRefused("A class needs a name: type one, for example “thumbs up”.")
    return cleaned


def check_class_names(names: list[str]) -> list[str]:
    """Cleaned names, 2 to 10 of them, none twice; OwnImagesRefused naming the problem."""
    cleaned = [clean_class_name(name) for name in names]
    if not MIN_CLASSES <= len(cleaned) <= MAX_CLASSES:
        raise OwnImagesRefused(f"Use {MIN_CLASSES} to {MAX_CLASSES} classes, not {len(cleaned)}: "
                               "remove some, or merge them.")
    seen = set()
    for name in cleaned:
        if name.casefold() in seen:
            raise OwnImagesRefused(f"Two classes are named “{name}”: give each class its own name.")
        seen.add(name.casefold())
    return cleaned


def held_out_count(images: int) -> int:
    """How many of a class's images are held out to test on: HELD_OUT_FRACTION, at least one."""
    return max(1, round(images * HELD_OUT_FRACTION))


def check_augmentations(kinds) -> tuple[str, ...]:
    """The augmentation kinds in their stated order; OwnImagesRefused for an unknown one."""
    if isinstance(kinds, str):
        kinds = [kind for kind in kinds.split(",") if kind]
    unknown = [kind for kind in kinds if kind not in AUGMENTATIONS]
    if unknown:
        raise OwnImagesRefused(f"Unknown augmentation {unknown[0]!r}; choose from "
                               f"{', '.join(AUGMENTATIONS)}.")
    return tuple(kind for kind in AUGMENTATIONS if kind in kinds)
