"""Which pixels pushed the prediction: Integrated Gradients (Sundararajan et al., 2017).

Why this method for a digit: plain gradients show where a tiny change would matter, which
for a confident model is almost nowhere (the softmax is saturated), so they look like noise.
Grad-CAM needs a late feature map of useful size, and a small MNIST net's last maps are
3×3 to 5×5, far coarser than a digit's strokes. Integrated Gradients instead averages the
gradient along the straight path from a black image (no ink, MNIST's natural "nothing") to
the digit, and multiplies by the ink. Its attributions add up to the change in the class's
probability between the black image and the digit, so each pixel's share is meaningful:
red pixels raised the predicted class's probability, blue ones lowered it.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

STEPS = 128  # a midpoint Riemann sum; tests/test_inspection.py checks that it adds up


def integrated_gradients(model: keras.Model, image: np.ndarray, class_index: int, from_logits: bool,
                         steps: int = STEPS) -> np.ndarray:
    """Each pixel's share of p(class | image) − p(class | black image), shaped like `image`.

    For a model that outputs logits, the softmax is applied first, so the attributions
    explain the probability, as the page says, and not the raw score."""
    image = np.asarray(image, np.float32)
    alphas = ((np.arange(steps, dtype=np.float32) + 0.5) / steps).reshape(-1, *([1] * image.ndim))
    path = tf.constant(alphas * image[np.newaxis])
    with tf.GradientTape() as tape:
        tape.watch(path)
        outputs = model(path, training=False)
        if from_logits:
            outputs = tf.nn.softmax(outputs, axis=-1)
        scores = outputs[:, class_index]
    gradients = tape.gradient(scores, path).numpy()
    return image * gradients.mean(axis=0)

