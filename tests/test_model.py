import json

import keras
import numpy as np
import pytest

from playground.models.building import DEFAULT_MODEL_PATH, Classifier, as_probabilities, build_model
from playground.spec.presets import preset

MAXIMUM_MODEL_BYTES = 5 * 1024 * 1024


def test_default_model_file_is_small_and_documented():
    assert DEFAULT_MODEL_PATH.stat().st_size <= MAXIMUM_MODEL_BYTES
    metadata = json.loads(DEFAULT_MODEL_PATH.with_suffix(".json").read_text())
    assert metadata["test_accuracy"] >= 0.992


@pytest.mark.slow
def test_default_model_reaches_99_2_percent_on_mnist_test(mnist, default_classifier):
    probabilities = np.concatenate([
        default_classifier.probabilities(mnist.x_test[start:start + 1000])
        for start in range(0, len(mnist.x_test), 1000)
    ])
    accuracy = (probabilities.argmax(axis=1) == mnist.y_test).mean()
    assert accuracy >= 0.992


def test_classifier_matches_keras_predict(default_classifier):
    images = np.random.default_rng(2).random((16, 28, 28, 1)).astype(np.float32)
    expected = default_classifier.model.predict(images, verbose=0)
    np.testing.assert_allclose(default_classifier.probabilities(images), expected, atol=1e-5)
    np.testing.assert_allclose(default_classifier.probabilities(images[0]), expected[:1], atol=1e-5)


def test_default_model_has_the_default_preset_architecture(default_classifier):
    expected = build_model(preset("Default model (shipped)"))
    layers = default_classifier.model.layers
    assert [type(layer) for layer in layers] == [type(layer) for layer in expected.layers]
    assert default_classifier.model.count_params() == expected.count_params()


def test_as_probabilities_handles_each_output_kind():
    softmax = np.array([[0.1, 0.7, 0.2]])
    np.testing.assert_allclose(as_probabilities(softmax, from_logits=False), softmax)
    sigmoid = np.array([[0.5, 1.0, 0.5]])
    np.testing.assert_allclose(as_probabilities(sigmoid, from_logits=False), [[0.25, 0.5, 0.25]])
    logits = np.array([[2.0, -1.0, 0.5]])
    np.testing.assert_allclose(as_probabilities(logits, from_logits=True), keras.ops.softmax(logits).numpy(),
                               rtol=1e-6)
    np.testing.assert_allclose(as_probabilities(np.zeros((1, 4)), from_logits=False), [[0.25] * 4])


def test_a_logits_row_gets_the_same_probabilities_alone_or_in_any_batch():
    """The issue's example: [0.2, 0.9, 0.1] once gave 0.75 alone and 0.514 beside a row of large logits."""
    logits = keras.layers.Dense(3, activation="linear")
    model = keras.Sequential([keras.Input((3,)), logits])
    classifier = Classifier(model, "logits", ("a", "b", "c"))
    assert classifier.from_logits
    logits.set_weights([np.eye(3, dtype=np.float32), np.zeros(3, np.float32)])
    alone = classifier.probabilities(np.array([[0.2, 0.9, 0.1]]))
    batch = classifier.probabilities(np.array([[0.2, 0.9, 0.1], [5.0, -3.0, 2.0]]))
    expected = np.exp([0.2, 0.9, 0.1]) / np.exp([0.2, 0.9, 0.1]).sum()  # [0.2546, 0.5135, 0.2319]
    np.testing.assert_allclose(alone[0], expected, rtol=1e-6)
    np.testing.assert_allclose(batch[0], expected, rtol=1e-6)


def test_the_output_kind_is_read_from_the_last_layer():
    from playground.models.building import outputs_probabilities

    assert outputs_probabilities(build_model(preset("Fast default")))
    assert outputs_probabilities(build_model(preset("Blog: Dense-only baseline")))  # sigmoid
    assert outputs_probabilities(keras.Sequential([keras.Input((4,)), keras.layers.Dense(3),
                                                   keras.layers.Softmax()]))
    assert not outputs_probabilities(keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)]))


def test_a_nested_model_is_read_from_its_own_last_layer():
    """What the upload refusal advises for a model without a channel axis: the trained model,
    wrapped whole behind a Reshape. Its probabilities must be the inner model's own."""
    from playground.models.building import Classifier, outputs_probabilities

    keras.utils.set_random_seed(0)
    inner = keras.Sequential([keras.Input((28, 28)), keras.layers.Flatten(),
                              keras.layers.Dense(10, activation="softmax")])
    wrapped = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Reshape((28, 28)), inner])
    assert outputs_probabilities(wrapped)
    images = np.random.default_rng(0).random((3, 28, 28, 1)).astype(np.float32)
    classifier = Classifier(wrapped, "Uploaded model", tuple("0123456789"))
    np.testing.assert_allclose(classifier.probabilities(images), np.asarray(inner(images[..., 0])), rtol=1e-5)

    logits = keras.Sequential([keras.Input((28, 28)), keras.layers.Flatten(), keras.layers.Dense(10)])
    functional_input = keras.Input((28, 28, 1))
    nested_logits = keras.Model(functional_input, logits(keras.layers.Reshape((28, 28))(functional_input)))
    assert not outputs_probabilities(nested_logits)


def test_the_same_seed_builds_the_same_weights_and_another_seed_does_not():
    stack = preset("Fast default")
    first, second, other = build_model(stack, seed=3), build_model(stack, seed=3), build_model(stack, seed=4)
    for a, b, c in zip(first.get_weights(), second.get_weights(), other.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
        if a.ndim > 1:
            assert not np.array_equal(a, c)


def test_a_copied_model_keeps_its_weights_when_the_original_changes():
    from playground.models.building import copy_model

    original = build_model(preset("Fast default"))
    copy = copy_model(original)
    image = np.random.default_rng(1).random((2, 28, 28, 1)).astype(np.float32)
    before = np.asarray(copy(image))
    np.testing.assert_allclose(before, np.asarray(original(image)), rtol=1e-6)
    original.layers[1].kernel.assign(np.zeros(original.layers[1].kernel.shape))
    np.testing.assert_array_equal(np.asarray(copy(image)), before)
    assert not np.allclose(np.asarray(original(image)), before)


def test_missing_default_model_says_how_to_make_it(tmp_path):
    from playground.models.building import load_default_classifier

    with pytest.raises(FileNotFoundError, match="scripts/train_default_model.py"):
        load_default_classifier(tmp_path / "absent.keras")


def test_a_sigmoid_models_scores_are_shared_out_in_proportion():
    """The blog baseline ends in ten sigmoids: each score is shared out by its part of the
    total, so the ranking and the ratios between classes are the network's own."""
    model = build_model(preset("Blog: Dense-only baseline"))
    classifier = Classifier(model, "blog", tuple("0123456789"))
    images = np.random.default_rng(0).random((3, 28, 28, 1)).astype(np.float32)
    flat = images.reshape(3, -1).astype(np.float64)
    kernel, bias = (np.asarray(weight, np.float64) for weight in model.layers[-1].get_weights())
    sigmoid = 1.0 / (1.0 + np.exp(-(flat @ kernel + bias)))  # the network by hand
    np.testing.assert_allclose(classifier.probabilities(images), sigmoid / sigmoid.sum(axis=1, keepdims=True),
                               rtol=1e-5)
