"""Text alternatives: what a chart or picture shows, in words and numbers, for those who
cannot see it (screen readers read these captions) and for everyone who wants the figures."""

from __future__ import annotations

import numpy as np


def top_classes_text(probabilities, class_names, count: int = 3) -> str:
    """'7 98.2 %, 1 1.0 %, 9 0.4 %': the most likely classes, most likely first."""
    probabilities = np.asarray(probabilities, dtype=float)
    order = np.argsort(probabilities)[::-1][:count]
    return ", ".join(f"{class_names[index]} {probabilities[index]:.1%}" for index in order)


def largest_mistakes_text(confusion: np.ndarray, class_names, count: int = 3) -> str:
    """The most frequent mistakes in a confusion matrix: 'true 4 taken for 9: 12 images, …'."""
    mistakes = np.array(confusion, dtype=np.int64)
    np.fill_diagonal(mistakes, 0)
    order = np.argsort(mistakes, axis=None)[::-1][:count]
    cells = [np.unravel_index(index, mistakes.shape) for index in order]
    parts = [f"{class_names[true]} taken for {class_names[predicted]} {mistakes[true, predicted]:,} times"
             for true, predicted in cells if mistakes[true, predicted] > 0]
    return "; ".join(parts) if parts else "no mistakes"


def weakest_classes_text(per_class_accuracy, class_names, count: int = 3) -> str:
    """'8 96.1 %, 9 97.0 %, 2 97.9 %': the classes with the lowest accuracy, lowest first."""
    accuracy = np.asarray(per_class_accuracy, dtype=float)
    order = np.argsort(accuracy)[:count]
    return ", ".join(f"{class_names[index]} {accuracy[index]:.1%}" for index in order)


def training_curve_text(batch_points, epoch_points) -> str:
    """The live chart in words: the latest batches' loss and accuracy, the last validation."""
    if not batch_points:
        return "No batch has trained yet."
    _, loss, accuracy = batch_points[-1]
    text = f"Latest batches: loss {loss:.3f}, accuracy {accuracy:.1%}"
    validated = [point for point in epoch_points if "val_accuracy" in point]
    if validated:
        text += f"; validation after epoch {validated[-1]['epoch']}: {validated[-1]['val_accuracy']:.1%}"
    return text + "."
