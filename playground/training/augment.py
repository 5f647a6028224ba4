"""Data augmentation for photos: random mirror images, small shifts, turns, zooms, and changes
of brightness and contrast, per image, per batch.

A CIFAR-10 network sees each training photo a dozen times; flipped left to right and
moved by up to 4 pixels, each time is a slightly new photo, and the network learns what
a class looks like rather than the training images themselves. A learner's own few dozen
photos per class need more of that: turns, zooms, light and contrast too. Digits are not
augmented this way (a mirrored 3 is not a 3).

The exported script holds these same functions, so it augments as the app does.
"""

import keras
import tensorflow as tf

from playground.spec.own_images import BRIGHTNESS_FACTOR, CONTRAST_FACTOR, ROTATION_FACTOR, ZOOM_FACTOR

MAX_SHIFT = 4  # pixels; the field is padded with zeros by this much, then cropped back
PREVIEW_SEED = 7  # the page's preview grid shows the same eight versions on every rerun


def flip_and_shift(images, seed, flip=True, shift=True):
    """Mirror each image with probability 1/2 and move it by up to MAX_SHIFT pixels each way.

    Vectorised over the batch: one gather along rows and one along columns cut each image's
    own window out of the padded batch."""
    count, height, width = tf.shape(images)[0], tf.shape(images)[1], tf.shape(images)[2]
    if flip:
        mirrored = tf.random.uniform([count], seed=seed) < 0.5
        images = tf.where(mirrored[:, None, None, None], tf.reverse(images, axis=[2]), images)
    if not shift:
        return images
    padded = tf.pad(images, [[0, 0], [MAX_SHIFT, MAX_SHIFT], [MAX_SHIFT, MAX_SHIFT], [0, 0]])
    top = tf.random.uniform([count], 0, 2 * MAX_SHIFT + 1, dtype=tf.int32, seed=seed + 1)
    left = tf.random.uniform([count], 0, 2 * MAX_SHIFT + 1, dtype=tf.int32, seed=seed + 2)
    rows = top[:, None] + tf.range(height)[None, :]
    columns = left[:, None] + tf.range(width)[None, :]
    shifted = tf.gather(padded, rows, axis=1, batch_dims=1)
    return tf.gather(shifted, columns, axis=2, batch_dims=1)


def photo_layers(kinds, seed):
    """Keras' random layers for the turns, zooms, light and contrast among `kinds`."""
    layers = []
    if "rotate" in kinds:
        layers.append(keras.layers.RandomRotation(ROTATION_FACTOR, fill_mode="reflect", seed=seed))
    if "zoom" in kinds:
        layers.append(keras.layers.RandomZoom(ZOOM_FACTOR, fill_mode="reflect", seed=seed + 1))
    if "brightness" in kinds:
        layers.append(keras.layers.RandomBrightness(BRIGHTNESS_FACTOR, value_range=(0.0, 1.0), seed=seed + 2))
    if "contrast" in kinds:
        layers.append(keras.layers.RandomContrast(CONTRAST_FACTOR, value_range=(0.0, 1.0), seed=seed + 3))
    return layers


def augmenter(kinds, seed):
    """A function from a batch of images in [0, 1] to the same batch augmented by `kinds`
    (names of playground.spec.own_images.AUGMENTATIONS); the layers are made once, here."""
    layers = photo_layers(kinds, seed)
    flip, shift = "flip" in kinds, "shift" in kinds

    def augment(images):
        if flip or shift:
            images = flip_and_shift(images, seed, flip, shift)
        for layer in layers:
            images = layer(images, training=True)
        return tf.clip_by_value(images, 0.0, 1.0)

    return augment


def preview(image, kinds, count: int = 8):
    """`count` versions of one image in [0, 1], each augmented at random by `kinds`."""
    batch = tf.repeat(tf.constant(image, tf.float32)[None], count, axis=0)
    return augmenter(kinds, PREVIEW_SEED)(batch).numpy()
