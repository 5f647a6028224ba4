import json

import keras
import numpy as np
import pytest

from playground.model import DEFAULT_MODEL_PATH, Classifier, as_probabilities, build_model
from playground.presets import preset

MAXIMUM_MODEL_BYTES = 5 * 1024 * 1024


def test_default_model_file_is_small_and_documented():
    assert DEFAULT_MODEL_PATH.stat().st_size <= MAXIMUM_MODEL_BYTES
    metadata = json.loads(DEFAULT_MODEL_PATH.with_suffix(".json").read_text())
    assert metadata["test_accuracy"] >= 0.992


def test_default_model_reaches_99_2_percent_on_mnist_test(mnist, default_classifier):
    probabilities = np.concatenate([
        default_classifier.probabilities(mnist.x_test[start:start + 1000])
        for start in range(0, len(mnist.x_test), 1000)
    ])
    accuracy = (probabilities.argmax(axis=1) == mnist.y_test).mean()
    assert accuracy >= 0.992


def test_classifier_matches_keras_predict(default_classifier, mnist):
    images = mnist.x_test[:16]
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
    np.testing.assert_allclose(as_probabilities(softmax), softmax)
    sigmoid = np.array([[0.5, 1.0, 0.5]])
    np.testing.assert_allclose(as_probabilities(sigmoid), [[0.25, 0.5, 0.25]])
    logits = np.array([[2.0, -1.0, 0.5]])
    np.testing.assert_allclose(as_probabilities(logits), keras.ops.softmax(logits).numpy(), rtol=1e-6)
    np.testing.assert_allclose(as_probabilities(np.zeros((1, 4))), [[0.25] * 4])


def test_missing_default_model_says_how_to_make_it(tmp_path):
    from playground.model import load_default_classifier

    with pytest.raises(FileNotFoundError, match="scripts/train_default_model.py"):
        load_default_classifier(tmp_path / "absent.keras")


def test_classifier_of_an_untrained_blog_model_sums_to_one():
    classifier = Classifier(build_model(preset("Blog: Dense-only baseline")), "blog", tuple("0123456789"))
    probabilities = classifier.probabilities(np.random.default_rng(0).random((3, 28, 28, 1)))
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-6)
