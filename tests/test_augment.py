"""Augmentation: each output image is its input, maybe mirrored, moved by at most MAX_SHIFT."""

import numpy as np
import tensorflow as tf

from playground.training.augment import MAX_SHIFT, flip_and_shift


def candidates(image: np.ndarray) -> list[np.ndarray]:
    """Every image flip_and_shift may make of `image`, built with NumPy alone."""
    side = image.shape[0]
    results = []
    for source in (image, image[:, ::-1]):
        padded = np.pad(source, ((MAX_SHIFT, MAX_SHIFT), (MAX_SHIFT, MAX_SHIFT), (0, 0)))
        for top in range(2 * MAX_SHIFT + 1):
            for left in range(2 * MAX_SHIFT + 1):
                results.append(padded[top:top + side, left:left + side])
    return results


def test_each_image_is_its_own_mirrored_or_shifted_self():
    rng = np.random.default_rng(0)
    images = rng.random((64, 8, 8, 3)).astype(np.float32)
    augmented = flip_and_shift(tf.constant(images), seed=3).numpy()
    mirrored = shifted = 0
    for original, result in zip(images, augmented, strict=True):
        matches = [index for index, candidate in enumerate(candidates(original))
                   if np.array_equal(candidate, result)]
        assert matches, "not a flip and shift of its own input"
        mirrored += matches[0] >= (2 * MAX_SHIFT + 1) ** 2
        shifted += matches[0] % (2 * MAX_SHIFT + 1) ** 2 != MAX_SHIFT * (2 * MAX_SHIFT + 1) + MAX_SHIFT
    assert 16 <= mirrored <= 48, "about half are mirrored"
    assert shifted >= 48, "most are moved"


def test_gray_digits_keep_their_shape():
    images = tf.zeros((5, 28, 28, 1))
    assert flip_and_shift(images, seed=0).shape == (5, 28, 28, 1)
