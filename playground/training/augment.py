"""Data augmentation for photos: random mirror images and small shifts, per image, per batch.

A CIFAR-10 network sees each training photo a dozen times; flipped left to right and
moved by up to 4 pixels, each time is a slightly new photo, and the network learns what
a class looks like rather than the training images themselves. Digits are not augmented
this way (a mirrored 3 is not a 3).

The exported script holds this same function, so it augments as the app does.
"""

import tensorflow as tf

MAX_SHIFT = 4  # pixels; the field is padded with zeros by this much, then cropped back


def flip_and_shift(images, seed):
    """Mirror each image with probability 1/2 and move it by up to MAX_SHIFT pixels each way.

    Vectorised over the batch: one gather along rows and one along columns cut each image's
    own window out of the padded batch."""
    count, height, width = tf.shape(images)[0], tf.shape(images)[1], tf.shape(images)[2]
    mirrored = tf.random.uniform([count], seed=seed) < 0.5
    images = tf.where(mirrored[:, None, None, None], tf.reverse(images, axis=[2]), images)
    padded = tf.pad(images, [[0, 0], [MAX_SHIFT, MAX_SHIFT], [MAX_SHIFT, MAX_SHIFT], [0, 0]])
    top = tf.random.uniform([count], 0, 2 * MAX_SHIFT + 1, dtype=tf.int32, seed=seed + 1)
    left = tf.random.uniform([count], 0, 2 * MAX_SHIFT + 1, dtype=tf.int32, seed=seed + 2)
    rows = top[:, None] + tf.range(height)[None, :]
    columns = left[:, None] + tf.range(width)[None, :]
    shifted = tf.gather(padded, rows, axis=1, batch_dims=1)
    return tf.gather(shifted, columns, axis=2, batch_dims=1)
