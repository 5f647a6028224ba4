"""Filters through training: moments hold the first layer's weights exactly as they were."""

import keras
import numpy as np
import pytest

from playground.jobs.job import TrainingJob
from playground.models.building import build_model
from playground.spec.layers import make_layer
from playground.spec.presets import preset
from playground.spec.settings import TrainingSettings
from playground.training.filter_history import (
    MAX_MOMENTS,
    MOMENTS_BUDGET_BYTES,
    MomentRecorder,
    first_convolution,
    maps_at,
    moments_allowed,
    planned_batches,
)


def test_the_first_epoch_is_sampled_densely():
    assert planned_batches(100) == {0: "start", 2: "epoch 1, 2% done", 10: "epoch 1, 10% done",
                                    25: "epoch 1, 25% done", 50: "epoch 1, 50% done"}
    assert planned_batches(3) == {0: "start", 1: "epoch 1, 25% done", 2: "epoch 1, 50% done"}


def test_the_budget_bounds_the_largest_first_layer():
    small = build_model(preset("Fast default"))
    assert moments_allowed(first_convolution(small)) == MAX_MOMENTS
    largest = keras.layers.Conv2D(1024, 28)
    largest.build((None, 28, 28, 3))
    assert (28 * 28 * 3 * 1024 + 1024) * 4 * moments_allowed(largest) <= max(MOMENTS_BUDGET_BYTES,
                                                                              (28 * 28 * 3 * 1024 + 1024) * 4)
    assert moments_allowed(largest) == 1
    assert first_convolution(build_model(preset("Blog: Dense-only baseline"))) is None


def test_a_recorder_keeps_at_most_its_limit_and_the_latest(squares):
    model = build_model(preset("Fast default"))
    recorder = MomentRecorder(model, batches_per_epoch=10)
    recorder.limit = 6
    for epoch in range(8):
        for batch in range(10):
            recorder.before_batch(epoch, batch)
        recorder.after_epoch(epoch)
    positions = [moment.position for moment in recorder.moments]
    assert len(positions) == 6 and positions == sorted(positions)
    assert positions[0] == 0.0 and positions[-1] == 8.0


@pytest.mark.slow
def test_the_filters_at_each_moment_are_the_weights_saved_then(squares, monkeypatch):
    """Each moment is compared with the weights read straight from the layer at that point."""
    from playground.training import fitting
    seen = {}
    original = fitting.StreamingCallback.on_train_batch_begin

    def watching(callback, batch, logs=None):
        if callback.epoch == 0:
            seen[batch] = np.array(callback.run.model.layers[1].kernel)
        return original(callback, batch, logs)

    monkeypatch.setattr(fitting.StreamingCallback, "on_train_batch_begin", watching)
    job = TrainingJob(build_model(preset("Fast default")), squares,  # on a thread here, to watch it
                      TrainingSettings(epochs=2, batch_size=100, subset_size=2000, validation_split=0.0),
                      separate_process=False)
    job.start()
    assert job.join(120) and job.snapshot().state == "finished"
    moments = job.snapshot().moments
    assert [moment.label for moment in moments] == ["start", "epoch 1, 10% done", "epoch 1, 25% done",
                                                    "epoch 1, 50% done", "end of epoch 1", "end of epoch 2"]
    for moment, batch in zip(moments[:4], (0, 2, 5, 10), strict=True):
        np.testing.assert_array_equal(moment.weights[0], seen[batch])
    np.testing.assert_array_equal(moments[-1].weights[0], np.asarray(job.model.layers[1].kernel))
    assert not np.array_equal(moments[0].weights[0], moments[-1].weights[0]), "the filters changed"


def test_maps_at_a_moment_equal_the_layer_with_those_weights():
    model = build_model([make_layer("Conv2D", filters=4, kernel_size=3, activation="relu"),
                         make_layer("Flatten"), make_layer("Dense", units=10)])
    recorder = MomentRecorder(model, batches_per_epoch=5)
    recorder.before_batch(0, 0)
    layer = first_convolution(model)
    image = np.random.default_rng(0).random((28, 28, 1)).astype(np.float32)
    expected = np.asarray(layer(image[np.newaxis]))[0]
    layer.kernel.assign(np.zeros(layer.kernel.shape))  # training moves on
    np.testing.assert_allclose(maps_at(recorder.moments[0], layer, image), expected, rtol=1e-6)
    assert pytest.approx(np.asarray(layer(image[np.newaxis])).max()) == 0.0
