"""The pictures that ship with Your images: a sample set, so the page works offline and in
tests, and the bias example made from it."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from playground.data.own_images import ImageSet

ASSETS_DIR = Path(__file__).resolve().parents[2] / "assets"
# Fashion-MNIST pictures of three things (MIT licence; scripts/make_sample_images.py says which).
SAMPLE_SET_PATH = ASSETS_DIR / "sample_images.zip"
SAMPLE_SET_SOURCE = ("Fashion-MNIST (Zalando Research, MIT licence): 30 test images each of trousers, "
                     "sneakers and bags")


def sample_set() -> ImageSet:
    """The shipped sample set (SAMPLE_SET_SOURCE), read as any learner's zip is."""
    images = ImageSet()
    images.add_zip(SAMPLE_SET_PATH.read_bytes(), SAMPLE_SET_PATH.name)
    return images


# The bias lesson: every bag on grass, every sneaker on a plain floor. The network can tell
# them apart by the background alone, and does; a sneaker on grass shows it.
GRASS, FLOOR = (70, 140, 40), (225, 225, 220)
BIAS_BACKGROUNDS = {"sneaker": FLOOR, "bag": GRASS}
INK_THRESHOLD = 24  # Fashion-MNIST's items are light on a black background


def on_background(pixels: np.ndarray, colour: tuple[int, int, int]) -> np.ndarray:
    """A sample picture's item on a plain background of `colour` instead of black."""
    item = pixels.max(axis=-1, keepdims=True) > INK_THRESHOLD
    return np.where(item, pixels, np.asarray(colour, np.uint8)).astype(np.uint8)


def bias_example() -> ImageSet:
    """Sneakers on a floor, bags on grass: a set that teaches the network the wrong thing."""
    sample = sample_set()
    biased = ImageSet(tuple(BIAS_BACKGROUNDS))
    for name, colour in BIAS_BACKGROUNDS.items():
        for image in sample.classes[name]:
            biased.add_pixels(name, on_background(image.pixels, colour), image.source)
    return biased


def bias_trials() -> list[tuple[str, np.ndarray]]:
    """Pictures that give the bias away: items of each class on the other class's background."""
    sample = sample_set()
    return [("a sneaker on grass", on_background(sample.classes["sneaker"][-1].pixels, GRASS)),
            ("a bag on the floor", on_background(sample.classes["bag"][-1].pixels, FLOOR))]
