import gc
import time

import numpy as np
import pytest

from playground import training
from playground.model import build_model
from playground.presets import preset
from playground.tickets import SessionToken
from playground.training import TrainingJob, TrainingSettings

TINY_STACK = [
    {"type": "Conv2D", "filters": 8, "kernel_size": 3},
    {"type": "MaxPooling2D", "pool_size": 2},
    {"type": "Flatten"},
    {"type": "Dense", "units": 10, "activation": "softmax"},
]
WAIT_SECONDS = 120


def tiny_job(mnist, **settings) -> TrainingJob:
    defaults = dict(epochs=1, batch_size=64, subset_size=2000, validation_split=0.1, learning_rate=3e-3)
    return TrainingJob(build_model(TINY_STACK), mnist, TrainingSettings(**{**defaults, **settings}))


def wait_for(condition, seconds=WAIT_SECONDS):
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met in time")
        time.sleep(0.01)


def test_job_streams_metrics_and_finishes_with_an_evaluation(mnist):
    job = tiny_job(mnist, epochs=2)
    job.start()
    assert job.join(WAIT_SECONDS)
    snapshot = job.snapshot()
    assert snapshot.state == "finished", snapshot.error
    assert [point["epoch"] for point in snapshot.epoch_points] == [1, 2]
    assert {"loss", "accuracy", "val_loss", "val_accuracy"} <= set(snapshot.epoch_points[0])
    positions = [point[0] for point in snapshot.batch_points]
    assert positions == sorted(positions) and positions[-1] == pytest.approx(2.0)
    assert snapshot.progress.batches_per_epoch == 29  # 1800 training images in batches of 64
    assert job.batches_done == 58
    assert snapshot.evaluation.accuracy > 0.8
    assert snapshot.evaluation.confusion.sum() == len(mnist.x_test)


def test_stop_ends_within_a_batch_and_continue_finishes(mnist):
    job = tiny_job(mnist, epochs=2, batch_size=8, subset_size=4000)
    job.start()
    wait_for(lambda: job.batches_done >= 60)
    job.request_stop()
    batches_at_request = job.batches_done
    assert job.join(WAIT_SECONDS)
    assert job.batches_done - batches_at_request <= 1
    stopped = job.snapshot()
    assert stopped.state == "stopped" and job.can_continue
    assert stopped.epoch_points == (), "a stopped epoch is not counted as finished"
    assert stopped.evaluation.accuracy > 0.5, "the weights learned before the stop are kept"
    job.start()
    assert job.join(WAIT_SECONDS)
    finished = job.snapshot()
    assert finished.state == "finished"
    assert [point["epoch"] for point in finished.epoch_points] == [1, 2]
    assert job.batches_done == batches_at_request + 1 + 2 * 450


def test_two_jobs_queue_and_keep_their_own_state(mnist):
    first, second = tiny_job(mnist, epochs=2), tiny_job(mnist, subset_size=1000)
    first.start()
    wait_for(lambda: first.snapshot().state == "running")
    second.start()
    time.sleep(0.3)
    assert second.snapshot().state == "queued", "only one training at a time by default"
    assert first.join(WAIT_SECONDS) and second.join(WAIT_SECONDS)
    assert first.snapshot().state == second.snapshot().state == "finished"
    assert len(first.snapshot().epoch_points) == 2 and len(second.snapshot().epoch_points) == 1
    assert second.snapshot().progress.batches_per_epoch == 15
    assert first.model is not second.model


def test_a_queued_job_can_be_stopped_before_it_trains(mnist):
    first, second = tiny_job(mnist, epochs=2), tiny_job(mnist)
    first.start()
    wait_for(lambda: first.snapshot().state == "running")
    second.start()
    second.request_stop()
    assert second.join(5)
    assert second.snapshot().state == "stopped" and second.batches_done == 0
    first.request_stop()
    first.join(WAIT_SECONDS)


def test_job_stops_when_its_session_state_is_collected(mnist):
    job = tiny_job(mnist, epochs=3, batch_size=8, subset_size=6000)
    owner = SessionToken()
    job.belong_to(owner)
    job.start()
    wait_for(lambda: job.batches_done > 5)
    del owner
    gc.collect()
    assert job.join(30)
    assert job.snapshot().state == "stopped"


def test_a_failure_is_reported_not_raised(mnist, monkeypatch):
    job = tiny_job(mnist)

    def broken_fit(*_args, **_kwargs):
        raise MemoryError("out of memory")

    monkeypatch.setattr(job.model, "fit", broken_fit)
    job.start()
    assert job.join(10)
    assert job.snapshot().state == "failed"
    assert "MemoryError: out of memory" in job.snapshot().error


@pytest.mark.parametrize("settings, message", [
    (dict(epochs=0), "epochs must be between 1 and 100"),
    (dict(batch_size=-4), "batch size must be between 1 and 4096"),
    (dict(learning_rate=0.0), "learning rate must be above 0"),
    (dict(subset_size=70000), "between 1 and 60,000 images, not 70,000"),
    (dict(subset_size=0), "between 1 and 60,000"),
    (dict(optimizer="adagrad"), "optimizer must be one of adam, sgd, rmsprop"),
    (dict(validation_split=0.9), "validation split must be between 0 and 0.5"),
])
def test_bad_settings_are_refused(settings, message):
    with pytest.raises(ValueError, match=message):
        TrainingSettings(**settings).checked(60000)


def test_logits_output_trains_with_from_logits(mnist):
    stack = [*TINY_STACK[:-1], {"type": "Dense", "units": 10, "activation": "linear"}]
    job = TrainingJob(build_model(stack), mnist, TrainingSettings(epochs=1, subset_size=500))
    assert job.model.loss.get_config()["from_logits"] is True
    assert tiny_job(mnist).model.loss.get_config()["from_logits"] is False


def test_interval_mean_recovers_each_batch_from_keras_running_means():
    per_batch = np.array([2.0, 1.0, 0.5, 0.4, 0.1])
    running = np.cumsum(per_batch) / np.arange(1, 6)  # what Keras 3 logs after each batch
    assert training.interval_mean(running[0], 1, 0.0, 0) == pytest.approx(2.0)
    assert training.interval_mean(running[2], 3, running[1], 2) == pytest.approx(0.5)
    assert training.interval_mean(running[4], 5, running[1], 2) == pytest.approx((0.5 + 0.4 + 0.1) / 3)


def test_the_live_curve_shows_what_the_batches_did_not_the_epoch_mean(mnist):
    """Keras' running mean is dragged down by the first, bad batches; the plotted points are not."""
    job = tiny_job(mnist, epochs=1, batch_size=32, subset_size=6000)
    job.start()
    assert job.join(WAIT_SECONDS)
    snapshot = job.snapshot()
    late = [accuracy for position, _, accuracy in snapshot.batch_points if position > 0.5]
    epoch_mean = snapshot.epoch_points[0]["accuracy"]  # Keras' running mean at the epoch's end
    assert np.mean(late) > epoch_mean + 0.02, (np.mean(late), epoch_mean)


def test_fast_default_preset_builds():
    assert build_model(preset("Fast default")).count_params() == 111_610  # see test_build_train_page
    assert np.isfinite(build_model(preset("Fast default"))(np.zeros((1, 28, 28, 1))).numpy()).all()


def test_recalibrated_batch_norm_holds_the_statistics_of_its_inputs(mnist):
    import keras

    from playground.batchnorm import SAMPLE_IMAGES, batch_norm_layers, recalibrate_batch_norm

    model = build_model(preset("Fast default"))
    recalibrate_batch_norm(model, mnist.x_train)
    sample = mnist.x_train[:SAMPLE_IMAGES]
    for layer in batch_norm_layers(model):
        inputs = np.asarray(keras.Model(model.inputs[0], layer.input)(sample, training=False))
        np.testing.assert_allclose(layer.moving_mean, inputs.mean(axis=(0, 1, 2)), rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(layer.moving_variance, inputs.var(axis=(0, 1, 2)), rtol=1e-3, atol=1e-5)
        # normalised with these statistics (gamma 1, beta 0 before training), each channel has
        # mean 0 and variance v / (v + epsilon): 1, except for channels that never fire
        outputs = np.asarray(layer(inputs, training=False))
        variance = inputs.var(axis=(0, 1, 2))
        np.testing.assert_allclose(outputs.mean(axis=(0, 1, 2)), 0.0, atol=1e-3)
        expected = variance / (variance + layer.epsilon)
        np.testing.assert_allclose(outputs.var(axis=(0, 1, 2)), expected, atol=1e-2)


def test_a_short_training_with_batch_norm_tests_as_well_as_it_trains(mnist):
    """Without recalibration, 31 batches of the Fast default tested at about 12% here."""
    import keras

    keras.utils.set_random_seed(0)
    settings = TrainingSettings(epochs=1, batch_size=256, learning_rate=4e-3, optimizer="adam",
                                schedule="warmup_cosine", validation_split=0.05, subset_size=8000)
    job = TrainingJob(build_model(preset("Fast default")), mnist, settings)
    job.start()
    job.join()
    snapshot = job.snapshot()
    assert snapshot.evaluation.accuracy > 0.9
    assert snapshot.epoch_points[-1]["val_accuracy"] > 0.9


def test_a_job_handed_to_a_new_session_outlives_the_old_one(mnist, monkeypatch):
    """A reload: the new session takes the job over, then Streamlit drops the old session."""
    monkeypatch.setattr(training, "ORPHAN_GRACE_SECONDS", 0.5)
    job = tiny_job(mnist, epochs=3, batch_size=8, subset_size=6000)
    old_owner, old_page = SessionToken(), [True]
    job.belong_to(old_owner, lambda: old_page[0])
    job.start()
    wait_for(lambda: job.batches_done > 5)
    old_page[0] = False  # the tab reloads
    new_owner = SessionToken()
    job.belong_to(new_owner, lambda: True)
    del old_owner
    gc.collect()
    time.sleep(0.5 + training.OWNER_CHECK_SECONDS + 1)
    before = job.batches_done
    wait_for(lambda: job.batches_done > before + 5)
    assert job.snapshot().state == "running"
    job.request_stop()
    assert job.join(WAIT_SECONDS)
    del new_owner


def test_a_job_whose_page_is_gone_stops_by_itself(mnist, monkeypatch):
    monkeypatch.setattr(training, "ORPHAN_GRACE_SECONDS", 0.5)
    connected = [True]
    settings = TrainingSettings(epochs=50, batch_size=16, subset_size=20000)
    job = TrainingJob(build_model(TINY_STACK), mnist, settings)
    owner = SessionToken()
    job.belong_to(owner, lambda: connected[0])
    job.start()
    wait_for(lambda: job.batches_done > 5)
    connected[0] = False
    gone = time.monotonic()
    assert job.join(30)
    snapshot = job.snapshot()
    assert snapshot.state == "stopped" and snapshot.stop_reason == "closed"
    assert snapshot.evaluation is None, "nobody is left to see an evaluation"
    assert time.monotonic() - gone < 0.5 + training.OWNER_CHECK_SECONDS + 5
    assert not job.can_continue


def test_the_shared_batches_hold_exactly_the_data_sets_images(mnist):
    position = {mnist.x_train[index].tobytes(): index for index in range(1000)}
    seen = []
    for images, labels in training.training_batches(mnist, 1000, 250, seed=3):
        for image, label in zip(images.numpy(), labels.numpy(), strict=True):
            seen.append(position[image.tobytes()])  # a KeyError if any pixel differs
            assert mnist.y_train[seen[-1]] == label
    assert sorted(seen) == list(range(1000)), "every image once per epoch"
    assert seen != list(range(1000)), "in shuffled order"


def test_trainings_leave_no_traced_graphs_behind(mnist):
    """Each trace of Keras' training step once left a custom gradient in TensorFlow's global
    registry, keeping the whole graph (about 47 MB) alive for the server's lifetime."""
    from tensorflow.python.framework import ops

    def custom_gradients():
        return sum(name.startswith("CustomGradient") for name in ops._gradient_registry.list())

    before = custom_gradients()
    for _ in range(2):
        job = tiny_job(mnist, subset_size=500)
        job.start()
        assert job.join(WAIT_SECONDS)
    assert custom_gradients() == before
