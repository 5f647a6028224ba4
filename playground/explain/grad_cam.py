"""Where a small photo network looked: Grad-CAM on its last feature maps, for any network
the playground builds (from scratch, or a head on a frozen base)."""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from playground.explain.photos import grad_cam
from playground.models.building import softmax


def last_maps_layer(model: keras.Model) -> keras.layers.Layer:
    """The last layer whose output is a stack of 2-D maps (before pooling to a vector)."""
    maps = [layer for layer in model.layers[1:] if len(layer.output.shape) == 4]
    if not maps:
        raise ValueError("This network has no feature maps to explain: it starts with a flat layer.")
    return maps[-1]


def scores_probe(model: keras.Model) -> keras.Model:
    """A model giving the last feature maps and the class scores before any softmax: Grad-CAM
    takes the score, as Selvaraju et al. do, so other classes do not leak into the map. The
    playground's networks end in Dense; its scores are its input times its kernel, plus bias."""
    last = model.layers[-1]
    if not isinstance(last, keras.layers.Dense):
        raise ValueError("Grad-CAM here needs a network that ends with a Dense layer.")
    scores = keras.ops.matmul(last.input, last.kernel) + last.bias
    return keras.Model(model.inputs[0], [last_maps_layer(model).output, scores])


def explain(probe: keras.Model, image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(class probabilities, Grad-CAM heatmap in [0, 1] at the maps' size) for one image in [0, 1]."""
    batch = tf.constant(np.asarray(image, np.float32)[np.newaxis])
    with tf.GradientTape() as tape:
        maps, scores = probe(batch, training=False)
        best = int(tf.argmax(scores[0]))
        score = scores[0, best]
    gradients = tape.gradient(score, maps)
    probabilities = softmax(np.asarray(scores, np.float64))[0]
    return probabilities, grad_cam(maps[0].numpy(), gradients[0].numpy())


def explain_prediction(classifier, image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`explain` for a Classifier: its probe made once and kept with it, and called while no
    other thread uses the model."""
    probe = classifier.kept("grad_cam", scores_probe)
    return classifier.run_alone(lambda _model: explain(probe, image))
