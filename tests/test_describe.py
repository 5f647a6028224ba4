"""Text alternatives carry the chart's numbers."""

import numpy as np

from playground.views.describe import largest_mistakes_text, top_classes_text, weakest_classes_text

NAMES = tuple("0123456789")


def test_the_top_classes_in_order():
    probabilities = np.zeros(10)
    probabilities[[7, 1, 9]] = [0.9, 0.06, 0.04]
    assert top_classes_text(probabilities, NAMES) == "7 90.0%, 1 6.0%, 9 4.0%"


def test_the_largest_mistakes_leave_out_the_diagonal():
    confusion = np.diag(np.full(10, 100))
    confusion[4, 9], confusion[7, 2], confusion[3, 5] = 12, 9, 1
    assert largest_mistakes_text(confusion, NAMES) == ("4 taken for 9 12 times; 7 taken for 2 9 times; "
                                                      "3 taken for 5 1 times")
    assert largest_mistakes_text(np.diag(np.full(10, 5)), NAMES) == "no mistakes"


def test_the_weakest_classes_first():
    accuracy = np.linspace(0.9, 0.99, 10)[::-1]
    assert weakest_classes_text(accuracy, NAMES, 2) == "9 90.0%, 8 91.0%"


def test_the_training_curve_in_words():
    from playground.views.describe import training_curve_text

    assert training_curve_text((), ()) == "No batch has trained yet."
    points = ((0.5, 0.9, 0.7), (1.0, 0.2, 0.95))
    epochs = ({"epoch": 1, "val_accuracy": 0.961},)
    assert training_curve_text(points, epochs) == ("Latest batches: loss 0.200, accuracy 95.0%; "
                                                   "validation after epoch 1: 96.1%.")
