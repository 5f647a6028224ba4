import numpy as np

from playground.training.evaluation import confusion_matrix, evaluate


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
    from playground.training.evaluation import worst_cell

    confusion = np.array([[50, 2, 0], [9, 40, 1], [0, 7, 60]])  # the diagonal's 60 is no mistake
    assert worst_cell(confusion) == (1, 0)


class SeenImages:
    """Records what the model is fed, and predicts class 0."""

    def __init__(self):
        self.batches = []

    def __call__(self, images, training=False):
        self.batches.append(images)
        return np.tile(np.float32([1.0, 0.0]), (len(images), 1))


def test_bytes_are_fed_as_floats_in_0_1_a_batch_at_a_time():
    pixels = np.tile(np.array([0, 51, 255], np.uint8).reshape(3, 1, 1, 1), (700, 1, 1, 1))
    model = SeenImages()
    evaluate(model, pixels, np.zeros(len(pixels), int), num_classes=2, from_logits=False)
    assert [len(batch) for batch in model.batches] == [500, 500, 500, 500, 100]
    fed = np.concatenate(model.batches)
    assert fed.dtype == np.float32
    np.testing.assert_array_equal(fed[:3, 0, 0, 0], np.float32([0.0, 0.2, 1.0]))
