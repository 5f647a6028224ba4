"""Transfer learning: a frozen base stays bit for bit the same; the head learns on top of it."""

import keras
import numpy as np
import pytest

from playground.jobs.job import TrainingJob
from playground.models.building import build_model
from playground.models.transfer import (
    CAFFE_MEANS_BGR,
    FINE_TUNE_RATE_FACTOR,
    convolutional_part,
    imagenet_base,
    transfer_model,
    unfreeze_for_fine_tuning,
)
from playground.spec.layers import make_layer
from playground.spec.presets import preset
from playground.spec.settings import TrainingSettings

HEAD = [make_layer("Flatten"), make_layer("Dense", units=32),
        make_layer("Dense", units=10, activation="softmax")]


def test_the_convolutional_part_ends_before_flatten_and_is_a_copy():
    original = build_model(preset("Default model (shipped)"))
    base = convolutional_part(original)
    assert base.output.shape[1:] == (4, 4, 64)
    assert [layer.name for layer in base.layers[1:]][-1] == "max_pooling2d_1"
    base.layers[1].kernel.assign(np.zeros(base.layers[1].kernel.shape))
    assert np.abs(np.asarray(original.layers[1].kernel)).sum() > 0, "the original keeps its weights"


@pytest.mark.slow
def test_a_frozen_base_is_bit_identical_after_training_the_head(squares):
    base = convolutional_part(build_model(preset("Default model (shipped)")))
    model = transfer_model(base, HEAD, seed=1)
    before = {weight.path: np.array(weight) for layer in base.layers for weight in layer.weights}
    trainable = int(sum(np.prod(weight.shape) for weight in model.trainable_weights))
    frozen = model.count_params() - trainable
    assert frozen == sum(layer.count_params() for layer in base.layers)
    assert trainable == 4 * 4 * 64 * 32 + 32 + 32 * 10 + 10  # the head's two Dense layers, by hand
    job = TrainingJob(model, squares, TrainingSettings(epochs=1, batch_size=32, subset_size=1500,
                                                       learning_rate=3e-3))
    job.start()
    assert job.join(120)
    assert job.snapshot().state == "finished", job.snapshot().error
    assert job.snapshot().evaluation.accuracy > 0.5, "the head learned on the frozen features"
    for layer in base.layers:
        for weight in layer.weights:
            assert np.array_equal(np.asarray(weight), before[weight.path]), weight.path
    head = [layer for layer in model.layers if layer.name.startswith("head_")]
    assert [layer.name for layer in head] == ["head_flatten", "head_dense", "head_dense_1"]


@pytest.mark.slow
def test_fine_tuning_trains_the_base_but_not_its_batch_norm(squares):
    base = convolutional_part(build_model(preset("Default model (shipped)")))
    model = transfer_model(base, HEAD)
    unfreeze_for_fine_tuning(model)
    norms = [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]
    before = [np.array(layer.moving_mean) for layer in norms]
    convolution = model.get_layer("conv2d")
    kernel = np.array(convolution.kernel)
    assert convolution.trainable and not any(layer.trainable for layer in norms)
    job = TrainingJob(model, squares, TrainingSettings(epochs=1, batch_size=32, subset_size=600,
                                                       learning_rate=1e-3 * FINE_TUNE_RATE_FACTOR))
    job.start()
    assert job.join(120) and job.snapshot().state == "finished"
    assert not np.array_equal(np.asarray(convolution.kernel), kernel), "the base trains now"
    for layer, mean in zip(norms, before, strict=True):
        np.testing.assert_array_equal(np.asarray(layer.moving_mean), mean)


def test_a_flat_model_has_no_convolutional_part():
    with pytest.raises(ValueError, match="no convolutional part"):
        convolutional_part(build_model(preset("Blog: Dense-only baseline")))


@pytest.mark.parametrize("name", ["mobilenet_v2", "vgg16"])
def test_an_imagenet_base_preprocesses_as_keras_applications_do(name):
    """Random weights (no ImageNet weights here): only the wiring and preprocessing are tested."""
    from keras.applications import mobilenet_v2, vgg16

    base = imagenet_base(name, weights=None)
    assert base.input_shape == (None, 32, 32, 3)
    photos = np.random.default_rng(0).random((2, 32, 32, 3)).astype(np.float32)
    scaled = np.asarray(base.get_layer("scale_up")(photos))
    ours = np.asarray(base.layers[2](scaled))
    reference = {"mobilenet_v2": mobilenet_v2, "vgg16": vgg16}[name].preprocess_input(scaled * 255.0)
    np.testing.assert_allclose(ours, reference, rtol=1e-4, atol=1e-3)
    if name == "vgg16":
        assert np.asarray(base.layers[2](np.zeros((1, 1, 1, 3), np.float32)))[0, 0, 0].tolist() == \
            pytest.approx([-mean for mean in CAFFE_MEANS_BGR])
