"""Test-set results of a trained model: accuracy, confusion matrix, and which images."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from playground.data.loading import float_images
from playground.models.building import as_probabilities, outputs_probabilities
from playground.spec.datasets import NUM_CLASSES

# 1,000 at a time was barely faster on MNIST's test set, and held twice the memory.
EVALUATION_BATCH = 500


@dataclass(frozen=True)
class Evaluation:
    loss: float
    accuracy: float
    labels: np.ndarray  # true class of each test image
    predictions: np.ndarray  # predicted class of each test image
    confidences: np.ndarray  # probability the model gave its prediction
    confusion: np.ndarray  # [true, predicted] counts

    @property
    def per_class_accuracy(self) -> np.ndarray:
        totals = self.confusion.sum(axis=1)
        return np.divide(np.diag(self.confusion), totals, out=np.zeros(len(totals)), where=totals > 0)

    def cell_indices(self, true_class: int, predicted_class: int) -> np.ndarray:
        """Indices of the test images of `true_class` that were predicted as `predicted_class`."""
        return np.flatnonzero((self.labels == true_class) & (self.predictions == predicted_class))

    def misclassified(self, limit: int) -> np.ndarray:
        """The most confidently wrong test images first."""
        wrong = np.flatnonzero(self.labels != self.predictions)
        return wrong[np.argsort(-self.confidences[wrong], kind="stable")][:limit]


def confusion_matrix(labels: np.ndarray, predictions: np.ndarray, num_classes: int) -> np.ndarray:
    return np.bincount(labels * num_classes + predictions, minlength=num_classes ** 2).reshape(
        num_classes, num_classes)


def worst_cell(confusion: np.ndarray) -> tuple[int, int]:
    """(true class, predicted class) of the most frequent mistake: the largest off-diagonal cell."""
    off_diagonal = confusion - np.diag(np.diag(confusion))
    true_class, predicted = np.unravel_index(np.argmax(off_diagonal), off_diagonal.shape)
    return int(true_class), int(predicted)


def evaluate(model, images: np.ndarray, labels: np.ndarray, num_classes: int = NUM_CLASSES,
             from_logits: bool | None = None) -> Evaluation:
    """Evaluate by calling the model batch by batch (no Keras progress machinery needed).

    `images`: floats in [0, 1], or uint8 pixels, converted a batch at a time.
    `from_logits` None: read from the model's last layer."""
    if from_logits is None:
        from_logits = not outputs_probabilities(model)
    batches = (images[start:start + EVALUATION_BATCH] for start in range(0, len(images), EVALUATION_BATCH))
    probabilities = np.concatenate([
        as_probabilities(np.asarray(model(float_images(batch), training=False)), from_logits)
        for batch in batches
    ])
    predictions = probabilities.argmax(axis=1)
    picked = probabilities[np.arange(len(labels)), labels]
    return Evaluation(
        loss=float(-np.mean(np.log(np.clip(picked, 1e-7, 1.0)))),
        accuracy=float(np.mean(predictions == labels)),
        labels=np.asarray(labels), predictions=predictions,
        confidences=probabilities.max(axis=1),
        confusion=confusion_matrix(np.asarray(labels), predictions, num_classes),
    )
