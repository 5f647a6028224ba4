import gc
import time

import numpy as np
import pytest

from playground.data.loading import float_images
from playground.jobs import job as training
from playground.jobs.job import TrainingJob
from playground.jobs.tickets import SessionToken
from playground.models.building import build_model
from playground.spec.presets import preset
from playground.spec.settings import TrainingSettings
from playground.training import fitting, pipeline
from playground.training.compiling import compile_for_training
from playground.training.fitting import TrainingRun

TINY_STACK = [
    {"type": "Conv2D", "filters": 8, "kernel_size": 3},
    {"type": "MaxPooling2D", "pool_size": 2},
    {"type": "Flatten"},
    {"type": "Dense", "units": 10, "activation": "softmax"},
]
WAIT_SECONDS = 120


def tiny_job(data, separate_process: bool | None = None, **settings) -> TrainingJob:
    """A small job, trained in a training process unless `separate_process` is False."""
    defaults = dict(epochs=1, batch_size=64, subset_size=2000, validation_split=0.1, learning_rate=3e-3)
    return TrainingJob(build_model(TINY_STACK), data, TrainingSettings(**{**defaults, **settings}),
                       separate_process=separate_process)


def wait_for(condition, seconds=WAIT_SECONDS):
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met in time")
        time.sleep(0.01)


@pytest.mark.slow
def test_job_streams_metrics_and_finishes_with_an_evaluation(squares):
    job = tiny_job(squares, epochs=2)
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
    assert snapshot.evaluation.confusion.sum() == len(squares.x_test)


def test_a_run_stops_before_the_batch_after_the_request(squares):
    """The stop check sits before every batch: asked before batch 61, the run trains 60."""
    reports, asked = [], iter(range(1000))
    settings = TrainingSettings(epochs=2, batch_size=8, subset_size=4000).checked(len(squares.train_pixels))
    model = build_model(TINY_STACK)
    run = TrainingRun(model, squares, settings, 0, reports.append,
                      should_stop=lambda: "asked" if next(asked) == 60 else None)
    compile_for_training(model, settings, run.batches_per_epoch)
    run()
    kind, evaluation, stop_reason, _seconds, batches = reports[-1]
    assert (kind, stop_reason, batches) == ("result", "asked", 60)
    assert evaluation is not None and ("state", "evaluating") in reports


@pytest.mark.slow
@pytest.mark.parametrize("separate_process", [False, True], ids=["thread", "process"])
def test_stop_ends_soon_and_continue_finishes(squares, separate_process):
    job = tiny_job(squares, separate_process, epochs=2, batch_size=8, subset_size=4000)
    job.start()
    wait_for(lambda: job.batches_done >= 60)
    asked = time.monotonic()
    job.request_stop()
    assert job.join(WAIT_SECONDS)
    assert time.monotonic() - asked < 2, "the stop reached the training at once"
    batches_at_stop = job.batches_done
    stopped = job.snapshot()
    assert stopped.state == "stopped" and job.can_continue
    assert stopped.epoch_points == (), "a stopped epoch is not counted as finished"
    assert stopped.evaluation.accuracy > 0.5, "the weights learned before the stop are kept"
    assert job.model.train_function is None, "a session keeps its model, not its traced step (15 MB)"
    job.start()
    assert job.join(WAIT_SECONDS)
    finished = job.snapshot()
    assert finished.state == "finished"
    assert [point["epoch"] for point in finished.epoch_points] == [1, 2]
    assert job.batches_done == batches_at_stop + 2 * 450, "the stopped epoch starts again"
    positions = [point[0] for point in finished.batch_points]
    assert positions == sorted(positions), "the chart draws the epoch that starts again once, not twice"
    assert positions[-1] == pytest.approx(2.0)
    moments = [moment.position for moment in finished.moments]
    assert moments == sorted(set(moments)) and moments[-1] == 2.0


@pytest.mark.slow
def test_two_jobs_queue_and_keep_their_own_state(squares):
    first, second = tiny_job(squares, epochs=2), tiny_job(squares, subset_size=1000)
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


def test_a_queued_job_can_be_stopped_before_it_trains(squares):
    first, second = tiny_job(squares, epochs=2), tiny_job(squares)
    first.start()
    wait_for(lambda: first.snapshot().state == "running")
    second.start()
    second.request_stop()
    assert second.join(5)
    assert second.snapshot().state == "stopped" and second.batches_done == 0
    first.request_stop()
    first.join(WAIT_SECONDS)


def test_job_stops_when_its_session_state_is_collected(squares):
    job = tiny_job(squares, epochs=3, batch_size=8, subset_size=6000)
    owner = SessionToken()
    job.belong_to(owner)
    job.start()
    wait_for(lambda: job.batches_done > 5)
    del owner
    gc.collect()
    assert job.join(30)
    assert job.snapshot().state == "stopped"


def test_a_failure_is_reported_not_raised(squares, monkeypatch):
    job = tiny_job(squares, separate_process=False)

    def broken_fit(*_args, **_kwargs):
        raise MemoryError("out of memory")

    monkeypatch.setattr(job.model, "fit", broken_fit)  # this process's model: trained on a thread
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


def test_a_logits_output_trains_and_is_scored_by_its_softmax(squares):
    stack = [*TINY_STACK[:-1], {"type": "Dense", "units": 10, "activation": "linear"}]
    job = tiny_job(squares, subset_size=3000)
    logits_job = TrainingJob(build_model(stack), squares, job.settings)
    assert logits_job.model.loss.get_config()["from_logits"] is True
    assert job.model.loss.get_config()["from_logits"] is False
    logits_job.start()
    assert logits_job.join(WAIT_SECONDS)
    evaluation = logits_job.snapshot().evaluation
    assert evaluation.accuracy > 0.9, "a logits network learns as well as a softmax one"
    logits = np.asarray(logits_job.model(squares.x_test, training=False), np.float64)
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probabilities = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    cross_entropy = -log_probabilities[np.arange(len(logits)), squares.y_test].mean()
    assert evaluation.loss == pytest.approx(cross_entropy, rel=1e-4)
    assert evaluation.accuracy == pytest.approx((logits.argmax(axis=1) == squares.y_test).mean())


@pytest.mark.slow
@pytest.mark.parametrize("optimizer", ["sgd", "rmsprop"])
def test_sgd_and_rmsprop_train_too(squares, optimizer):
    import keras

    rates = {"sgd": 0.05, "rmsprop": 3e-3}
    job = tiny_job(squares, optimizer=optimizer, learning_rate=rates[optimizer], subset_size=3000)
    expected = {"sgd": keras.optimizers.SGD, "rmsprop": keras.optimizers.RMSprop}[optimizer]
    assert type(job.model.optimizer) is expected
    job.start()
    assert job.join(WAIT_SECONDS)
    snapshot = job.snapshot()
    assert snapshot.state == "finished", snapshot.error
    first_loss, last_loss = snapshot.batch_points[0][1], snapshot.batch_points[-1][1]
    assert last_loss < first_loss / 2, (first_loss, last_loss)
    assert snapshot.evaluation.accuracy > 0.8


def test_the_time_left_comes_from_the_rate_so_far(squares):
    """Hand-computed: 10 batches of 64 in 2 s is 320 images/s; of 2 × 29 batches, 48 are left,
    48 × 64 images at 320 images/s is 9.6 s."""
    job = tiny_job(squares, epochs=2)  # 1,800 training images: 29 batches of 64 per epoch
    job.receive(("batch", 0, 9, (0.3, 1.0, 0.5), 10, 2.0))  # epoch, batch, point, batches done, seconds
    progress = job.snapshot().progress
    assert progress.samples_per_second == pytest.approx(320.0)
    assert progress.seconds_left == pytest.approx(9.6)
    assert progress.fraction == pytest.approx(10 / 58)
    job.receive(("batch", 1, 28, (2.0, 0.1, 0.9), 58, 10.0))
    assert job.snapshot().progress.seconds_left == 0.0

def test_interval_mean_recovers_each_batch_from_keras_running_means():
    per_batch = np.array([2.0, 1.0, 0.5, 0.4, 0.1])
    running = np.cumsum(per_batch) / np.arange(1, 6)  # what Keras 3 logs after each batch
    assert fitting.interval_mean(running[0], 1, 0.0, 0) == pytest.approx(2.0)
    assert fitting.interval_mean(running[2], 3, running[1], 2) == pytest.approx(0.5)
    assert fitting.interval_mean(running[4], 5, running[1], 2) == pytest.approx((0.5 + 0.4 + 0.1) / 3)


def test_the_live_curve_shows_what_the_batches_did_not_the_epoch_mean(squares):
    """Keras' running mean is dragged down by the first, bad batches; the plotted points are not."""
    job = tiny_job(squares, epochs=1, batch_size=32, subset_size=6000)
    job.start()
    assert job.join(WAIT_SECONDS)
    snapshot = job.snapshot()
    late = [accuracy for position, _, accuracy in snapshot.batch_points if position > 0.5]
    epoch_mean = snapshot.epoch_points[0]["accuracy"]  # Keras' running mean at the epoch's end
    assert np.mean(late) > epoch_mean + 0.02, (np.mean(late), epoch_mean)


def test_fast_default_preset_builds():
    assert build_model(preset("Fast default")).count_params() == 111_610  # see test_build_train_page
    assert np.isfinite(build_model(preset("Fast default"))(np.zeros((1, 28, 28, 1))).numpy()).all()


def numpy_forward(layer, images: np.ndarray) -> np.ndarray:
    """The Fast default's layers up to its second batch norm, in plain NumPy: a reference
    that shares no code with Keras or with the recalibration."""
    import keras

    if isinstance(layer, keras.layers.Conv2D):
        kernel, bias = (np.asarray(weight, np.float64) for weight in layer.get_weights())
        windows = np.lib.stride_tricks.sliding_window_view(images, kernel.shape[:2], axis=(1, 2))
        return np.maximum(np.einsum("nhwcij,ijco->nhwo", windows, kernel) + bias, 0.0)  # valid, ReLU
    if isinstance(layer, keras.layers.MaxPooling2D):
        count, height, width, channels = images.shape
        cut = images[:, :height // 2 * 2, :width // 2 * 2]
        return cut.reshape(count, height // 2, 2, width // 2, 2, channels).max(axis=(2, 4))
    if isinstance(layer, keras.layers.BatchNormalization):
        gamma, beta, mean, variance = (np.asarray(weight, np.float64) for weight in layer.get_weights())
        return gamma * (images - mean) / np.sqrt(variance + layer.epsilon) + beta
    raise AssertionError(f"no reference for {type(layer).__name__}")


@pytest.mark.slow
def test_recalibrated_batch_norm_holds_the_statistics_of_its_inputs(squares):
    import keras

    from playground.training.batchnorm import SAMPLE_IMAGES, recalibrate_batch_norm

    model = build_model(preset("Fast default"))
    images = float_images(squares.train_pixels)
    recalibrate_batch_norm(model, images)
    values = images[:SAMPLE_IMAGES].astype(np.float64)
    checked = 0
    for layer in model.layers[1:]:
        if isinstance(layer, keras.layers.Flatten):
            break
        if isinstance(layer, keras.layers.BatchNormalization):
            mean, variance = values.mean(axis=(0, 1, 2)), values.var(axis=(0, 1, 2))
            np.testing.assert_allclose(layer.moving_mean, mean, rtol=1e-4, atol=1e-5)
            np.testing.assert_allclose(layer.moving_variance, variance, rtol=1e-3, atol=1e-5)
            checked += 1
        values = numpy_forward(layer, values)
    assert checked == 2

@pytest.mark.slow
def test_a_short_training_with_batch_norm_tests_as_well_as_it_trains(mnist):
    """Without recalibration, 31 batches of the Fast default tested at about 12% here."""
    settings = TrainingSettings(epochs=1, batch_size=256, learning_rate=4e-3, optimizer="adam",
                                schedule="warmup_cosine", validation_split=0.05, subset_size=8000)
    job = TrainingJob(build_model(preset("Fast default")), mnist, settings)
    job.start()
    job.join()
    snapshot = job.snapshot()
    assert snapshot.evaluation.accuracy > 0.9
    assert snapshot.epoch_points[-1]["val_accuracy"] > 0.9


@pytest.mark.slow
def test_a_job_handed_to_a_new_session_outlives_the_old_one(squares, monkeypatch):
    """A reload: the new session takes the job over, then Streamlit drops the old session."""
    monkeypatch.setattr(training, "ORPHAN_GRACE_SECONDS", 0.5)
    # Long enough never to end by itself: with 3 epochs a fast run finished during the wait below,
    # and "5 more batches" never came (CI failed twice on that, the job fine).
    job = tiny_job(squares, epochs=50, batch_size=8, subset_size=6000)
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


@pytest.mark.slow
def test_a_job_whose_page_is_gone_stops_by_itself(squares, monkeypatch):
    monkeypatch.setattr(training, "ORPHAN_GRACE_SECONDS", 0.5)
    connected = [True]
    settings = TrainingSettings(epochs=50, batch_size=16, subset_size=6000)
    job = TrainingJob(build_model(TINY_STACK), squares, settings)
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


def test_the_shared_batches_hold_exactly_the_data_sets_images(squares):
    position = {(squares.train_pixels[index] / np.float32(255)).astype(np.float32).tobytes(): index
                for index in range(1000)}
    seen = []
    for images, labels in pipeline.training_batches(squares, 1000, 250, seed=3):
        for image, label in zip(images.numpy(), labels.numpy(), strict=True):
            seen.append(position[image.tobytes()])  # a KeyError if any pixel differs
            assert squares.y_train[seen[-1]] == label
    assert sorted(seen) == list(range(1000)), "every image once per epoch"
    assert seen != list(range(1000)), "in shuffled order"


@pytest.mark.slow
def test_trainings_leave_no_traced_graphs_behind(squares):
    """Each trace of Keras' training step once left a custom gradient in TensorFlow's global
    registry, keeping the whole graph (about 47 MB) alive for the server's lifetime."""
    from tensorflow.python.framework import ops

    def custom_gradients():
        return sum(name.startswith("CustomGradient") for name in ops._gradient_registry.list())

    before = custom_gradients()
    for _ in range(2):
        job = tiny_job(squares, separate_process=False, subset_size=500)
        job.start()
        assert job.join(WAIT_SECONDS)
    assert custom_gradients() == before


def test_batch_norm_recalibration_refuses_bytes(squares):
    from playground.training.batchnorm import recalibrate_batch_norm

    with pytest.raises(ValueError, match="divide them by 255"):
        recalibrate_batch_norm(build_model(preset("Fast default")), squares.train_pixels)


def malloc_in_use_bytes() -> int:
    """Bytes that glibc's malloc has handed out and not had back, after a full collection."""
    import ctypes

    class MallocInfo(ctypes.Structure):
        _fields_ = [(name, ctypes.c_size_t) for name in ("arena", "ordblks", "smblks", "hblks", "hblkhd",
                                                          "usmblks", "fsmblks", "uordblks", "fordblks",
                                                          "keepcost")]

    libc = ctypes.CDLL("libc.so.6")
    libc.mallinfo2.restype = MallocInfo
    gc.collect()
    return libc.mallinfo2().uordblks


@pytest.mark.slow
def test_a_finished_training_leaves_no_compiled_step_behind(squares):
    """TensorFlow caches the kernel of every function it has run, so each model's compiled
    training step stayed alive after its model was gone: about 1 MB of native memory per
    training of the Fast default here, every training, for as long as the server ran."""
    settings = TrainingSettings(epochs=1, batch_size=128, subset_size=1000, validation_split=0.1)

    def train() -> None:
        job = TrainingJob(build_model(preset("Fast default")), squares, settings, separate_process=False)
        job.start()
        assert job.join(WAIT_SECONDS)

    for _ in range(3):  # TensorFlow's and Keras' one-time state
        train()
    before, trainings = malloc_in_use_bytes(), 8
    for _ in range(trainings):
        train()
    kept = (malloc_in_use_bytes() - before) / trainings
    assert kept < 300 * 1024, f"each training kept {kept / 1024:.0f} KiB"


def test_a_failure_reads_as_one_line_and_running_out_of_memory_in_plain_words():
    import tensorflow as tf

    from playground.training.fitting import MAX_FAILURE_CHARACTERS, OUT_OF_MEMORY, failure_message

    report = "OOM when allocating tensor\n" + "detail\n" * 500
    exhausted = tf.errors.ResourceExhaustedError(None, None, report)
    said = failure_message(exhausted)
    assert said.startswith("ResourceExhaustedError: OOM when allocating tensor detail")
    assert said.endswith(OUT_OF_MEMORY) and "\n" not in said and len(said) < 600
    assert failure_message(MemoryError()) == f"MemoryError. {OUT_OF_MEMORY}"
    long = failure_message(ValueError("first line\n" + "x " * 1000))
    assert "\n" not in long and long.startswith("ValueError: first line x")
    assert len(long) <= len("ValueError: ") + MAX_FAILURE_CHARACTERS
