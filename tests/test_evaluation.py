import numpy as np

from playground.evaluation import confusion_matrix, evaluate


class FixedModel:
    """Returns preset probabilities, so evaluation can be checked by hand."""

    def __init__(self, probabilities):
        self.probabilities = np.asarray(probabilities, np.float32)

    def __call__(self, images, training=False):
        return self.probabilities[images[:, 0, 0, 0].astype(int)]


def test_confusion_matrix_counts_each_pair():
    labels = np.array([0, 0, 1, 2, 2, 2])
    predictions = np.array([0, 1, 1, 2, 0, 2])
    expected = np.array([[1, 1, 0], [0, 1, 0], [1, 0, 2]])
    np.testing.assert_array_equal(confusion_matrix(labels, predictions, 3), expected)


def test_evaluate_by_hand():
    probabilities = [[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.5, 0.4, 0.1], [0.2, 0.2, 0.6]]
    images = np.arange(4, dtype=np.float32).reshape(4, 1, 1, 1) * np.ones((4, 2, 2, 1), np.float32)
    labels = np.array([0, 1, 1, 2])
    result = evaluate(FixedModel(probabilities), images, labels, num_classes=3, from_logits=False)
    np.testing.assert_array_equal(result.predictions, [0, 1, 0, 2])
    assert result.accuracy == 0.75
    assert np.isclose(result.loss, -np.mean(np.log([0.7, 0.8, 0.4, 0.6])))
    np.testing.assert_allclose(result.per_class_accuracy, [1.0, 0.5, 1.0])
    np.testing.assert_array_equal(result.cell_indices(1, 0), [2])
    np.testing.assert_array_equal(result.misclassified(5), [2])


def test_the_worst_cell_is_the_most_frequent_mistake():
    from playground.evaluation import worst_cell

    confusion = np.array([[50, 2, 0], [9, 40, 1], [0, 7, 60]])  # the diagonal's 60 is no mistake
    assert worst_cell(confusion) == (1, 0)
