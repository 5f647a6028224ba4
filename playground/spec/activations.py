"""Activation functions and their derivatives in NumPy, for plotting on "How it works"."""

from __future__ import annotations

import math

import numpy as np

LEAKY_SLOPE = 0.2  # Keras' leaky_relu default


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _gelu(x):
    return 0.5 * x * (1.0 + np.vectorize(math.erf)(x / np.sqrt(2.0)))


FUNCTIONS = {
    "relu": (lambda x: np.maximum(x, 0.0), lambda x: (x > 0).astype(float)),
    "sigmoid": (_sigmoid, lambda x: _sigmoid(x) * (1.0 - _sigmoid(x))),
    "tanh": (np.tanh, lambda x: 1.0 - np.tanh(x) ** 2),
    "leaky_relu": (lambda x: np.where(x > 0, x, LEAKY_SLOPE * x),
                   lambda x: np.where(x > 0, 1.0, LEAKY_SLOPE)),
    "elu": (lambda x: np.where(x > 0, x, np.expm1(np.minimum(x, 0.0))),
            lambda x: np.where(x > 0, 1.0, np.exp(np.minimum(x, 0.0)))),
    "swish": (lambda x: x * _sigmoid(x), lambda x: _sigmoid(x) * (1.0 + x * (1.0 - _sigmoid(x)))),
    "gelu": (_gelu, lambda x: 0.5 * (1.0 + np.vectorize(math.erf)(x / np.sqrt(2.0)))
             + x * np.exp(-x ** 2 / 2.0) / np.sqrt(2.0 * np.pi)),
}


def activation(name: str, x: np.ndarray) -> np.ndarray:
    return FUNCTIONS[name][0](np.asarray(x, np.float64))


def derivative(name: str, x: np.ndarray) -> np.ndarray:
    return FUNCTIONS[name][1](np.asarray(x, np.float64))


def softmax(scores: np.ndarray) -> np.ndarray:
    """Softmax over the last axis, so one row or a batch of rows."""
    scores = np.asarray(scores, np.float64)
    shifted = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)
