"""Training in a process of its own (playground.jobs.worker, worker_pool): same results as on a thread, and a
pool that lends, reuses and ends its processes."""

import os
import time
from dataclasses import replace
from multiprocessing.connection import Connection

import keras
import numpy as np
import pytest
import tensorflow as tf

from playground.data.loading import float_images
from playground.jobs import worker
from playground.jobs.job import TrainingJob
from playground.jobs.process_link import PROCESS_GONE, likely_request
from playground.models.building import build_model
from playground.spec.layers import make_layer
from playground.spec.presets import preset
from playground.spec.settings import TrainingSettings
from playground.training.compiling import compile_for_training

SETTINGS = TrainingSettings(epochs=2, batch_size=100, subset_size=2000, validation_split=0.1)
WAIT_SECONDS = 120


def twin_models(stack_name: str = "Fast default") -> tuple[keras.Model, keras.Model]:
    first = build_model(preset(stack_name))
    second = keras.models.model_from_json(first.to_json())
    second.set_weights(first.get_weights())
    return first, second


def trained(model, data, separate_process: bool, settings: TrainingSettings = SETTINGS) -> TrainingJob:
    job = TrainingJob(model, data, settings, separate_process=separate_process)
    job.start()
    assert job.join(WAIT_SECONDS)
    assert job.snapshot().state == "finished", job.snapshot().error
    return job


@pytest.fixture
def sent(monkeypatch) -> list:
    """Every message the server's side sends to a training process, from now on."""
    messages = []
    original_send = Connection.send

    def recording_send(connection, message):
        messages.append(message)
        return original_send(connection, message)

    monkeypatch.setattr(Connection, "send", recording_send)
    return messages


@pytest.mark.slow
def test_a_process_trains_what_a_thread_trains(squares):
    """Same model, data and settings: the same test result, weights and moments, up to the
    float rounding that differs between two processes' kernels."""
    # As in a server: an earlier test may have set TensorFlow's global seed, which changes how
    # the settings' seed shuffles here but not in the fresh training process.
    tf.random.set_seed(None)
    here_model, there_model = twin_models()
    initial = here_model.get_weights()
    here, there = trained(here_model, squares, False), trained(there_model, squares, True)
    here_snapshot, there_snapshot = here.snapshot(), there.snapshot()
    assert there_snapshot.evaluation.accuracy == pytest.approx(here_snapshot.evaluation.accuracy, abs=0.002)
    assert there_snapshot.epoch_points[-1]["val_accuracy"] == pytest.approx(
        here_snapshot.epoch_points[-1]["val_accuracy"], abs=0.002)
    for start, here_weight, there_weight in zip(initial, here.model.get_weights(), there.model.get_weights(),
                                                strict=True):
        moved = np.linalg.norm(here_weight - start)
        assert np.linalg.norm(there_weight - here_weight) <= 0.05 * moved + 1e-6, "trained alike"
    labels = [[moment.label for moment in snapshot.moments] for snapshot in (here_snapshot, there_snapshot)]
    assert labels[0] == labels[1] and len(labels[0]) == 6
    first, last = (np.asarray(there_snapshot.moments[index].weights[0]) for index in (0, -1))
    np.testing.assert_array_equal(first, initial[0])
    np.testing.assert_allclose(last, there.model.get_weights()[0], rtol=1e-6)
    # The weights came back into this process's model: it scores what the process measured.
    predictions = np.asarray(there.model(float_images(squares.x_test), training=False)).argmax(axis=1)
    assert np.mean(predictions == squares.y_test) == pytest.approx(there_snapshot.evaluation.accuracy)
    assert there.model.train_function is None, "nothing was trained in this process"


@pytest.mark.slow
def test_an_optimizer_state_carried_across_processes_trains_on_alike(squares):
    """What Continue relies on: a twin restored from the state steps exactly as the original."""
    settings = SETTINGS.checked(len(squares.train_pixels))
    original, twin = twin_models()
    images, labels = float_images(squares.train_pixels[:100]), squares.y_train[:100]
    compile_for_training(original, settings, 18)
    original.train_on_batch(images, labels)
    twin.set_weights(original.get_weights())
    compile_for_training(twin, settings, 18)
    worker.restore_optimizer(twin, worker.optimizer_state(original))
    assert int(twin.optimizer.iterations.numpy()) == 1
    original.train_on_batch(images, labels)
    twin.train_on_batch(images, labels)
    for original_weight, twin_weight in zip(original.get_weights(), twin.get_weights(), strict=True):
        np.testing.assert_allclose(twin_weight, original_weight, rtol=1e-5, atol=1e-6)


def test_a_changed_model_is_refused_an_old_optimizer_state(squares):
    settings = SETTINGS.checked(len(squares.train_pixels))
    small = build_model(preset("Fast default"))
    large = build_model(preset("Tutorial: Conv32 → Conv64 → Dense128"))
    compile_for_training(small, settings, 18)
    small.optimizer.build(small.trainable_variables)
    compile_for_training(large, settings, 18)
    with pytest.raises(ValueError, match="the model changed between two starts"):
        worker.restore_optimizer(large, worker.optimizer_state(small))


@pytest.mark.slow
def test_stop_and_continue_in_a_process_end_where_a_whole_run_would(squares):
    settings = TrainingSettings(epochs=3, batch_size=100, subset_size=2000, validation_split=0.1)
    job = TrainingJob(build_model(preset("Fast default")), squares, settings, separate_process=True)
    job.start()
    deadline = time.monotonic() + WAIT_SECONDS
    while job.next_epoch < 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    job.request_stop()
    assert job.join(WAIT_SECONDS) and job.can_continue
    job.start()
    assert job.join(WAIT_SECONDS)
    snapshot = job.snapshot()
    assert snapshot.state == "finished"
    assert [point["epoch"] for point in snapshot.epoch_points] == [1, 2, 3]
    assert job.batches_done >= 3 * 18
    assert snapshot.evaluation.accuracy > 0.9


@pytest.mark.slow
def test_a_process_that_dies_fails_its_job_in_one_line_and_the_next_job_trains(squares, quick_pool):
    settings = TrainingSettings(epochs=50, batch_size=16, subset_size=6000)
    job = TrainingJob(build_model(preset("Fast default")), squares, settings, separate_process=True)
    job.start()
    deadline = time.monotonic() + WAIT_SECONDS
    while job.batches_done < 5 and time.monotonic() < deadline:
        time.sleep(0.01)
    job.process_link.process.process.kill()  # as the kernel's out-of-memory killer would
    assert job.join(10)
    snapshot = job.snapshot()
    assert (snapshot.state, snapshot.error) == ("failed", PROCESS_GONE)
    trained(build_model(preset("Fast default")), squares, True)


@pytest.mark.slow
def test_an_idle_process_ends_and_a_data_set_is_sent_once(squares, quick_pool, sent):
    settings = TrainingSettings(epochs=1, batch_size=100, subset_size=500, validation_split=0.1)
    trained(build_model(preset("Fast default")), squares, True, settings)
    trained(build_model(preset("Fast default")), squares, True, settings)
    kinds = [message[0] for message in sent if message[0] in ("dataset", "train")]
    assert kinds == ["dataset", "train", "train"], "the process kept the data set"
    (process,) = quick_pool._idle
    deadline = time.monotonic() + 10
    while process.alive and time.monotonic() < deadline:
        time.sleep(0.05)
    assert process.process.returncode == 0, "told to end, it ended by itself"
    assert len(quick_pool) == 0


@pytest.mark.slow
def test_a_stop_pressed_while_the_process_starts_ends_the_run_before_its_first_batch(squares, quick_pool):
    """Train, then Stop at once, while the new process still imports TensorFlow."""
    job = TrainingJob(build_model(preset("Fast default")), squares, SETTINGS, separate_process=True)
    job.start()
    deadline = time.monotonic() + WAIT_SECONDS
    while job.snapshot().state != "running" and time.monotonic() < deadline:
        time.sleep(0.001)  # its turn has come: the request goes to the process
    job.request_stop()
    assert job.join(WAIT_SECONDS)
    snapshot = job.snapshot()
    assert snapshot.state == "stopped" and not snapshot.started and job.batches_done == 0
    assert snapshot.evaluation is None, "an untrained network is not evaluated"
    assert not job.can_continue


class RecordingConnection:
    """The server's end of a training process's pipe, in this process: it keeps each report."""

    def __init__(self):
        self.reports = []

    def poll(self) -> bool:
        return False

    def send(self, report) -> None:
        self.reports.append(report)


def result_of(request: worker.TrainingRequest, data, kept: list) -> tuple:
    """Train `request` as a training process would, here; its ("result", …) report."""
    connection = RecordingConnection()
    worker.train(request, connection, {request.dataset_token: data}, kept)
    assert connection.reports[-1][0] == "result", connection.reports[-1]
    return connection.reports[-1]


def dropout_stack() -> list[dict]:
    """A small network with a random layer, whose generator's state a kept model must reset."""
    return [make_layer("Conv2D", filters=8, kernel_size=3, activation="relu"), make_layer("MaxPooling2D"),
            make_layer("Flatten"), make_layer("Dropout", rate=0.3), make_layer("Dense", units=10)]


@pytest.mark.slow
def test_a_kept_model_trains_the_next_request_exactly_as_a_new_model_would(squares):
    """A training process keeps its last model, traced, for the same network and settings: set
    back to its start, it must learn exactly what a new one learns (optimizer state, dropout's
    random generator and all)."""
    def request() -> worker.TrainingRequest:
        """Another learner's job on the server: a new model, compiled there."""
        model = build_model(dropout_stack(), seed=3)
        compile_for_training(model, SETTINGS, 18)
        return worker.model_request(model, SETTINGS, 0, None, 1, None)

    kept = []
    result_of(request(), squares, kept)
    (ready,) = kept
    assert ready.model.train_function is not None, "its training step stays traced"
    again = result_of(request(), squares, kept)
    assert kept == [ready], "the same model trained again"
    new = result_of(request(), squares, [])
    *_, reused_weights, reused_optimizer = again
    *_, new_weights, new_optimizer = new
    assert again[1].accuracy == new[1].accuracy
    reused_values, new_values = [*reused_weights, *reused_optimizer], [*new_weights, *new_optimizer]
    for reused, fresh in zip(reused_values, new_values, strict=True):
        np.testing.assert_allclose(reused, fresh, rtol=1e-5, atol=1e-7)


@pytest.mark.slow
def test_another_network_or_setting_gets_a_new_model_and_a_failure_keeps_none(squares):
    model = build_model(preset("Fast default"))
    settings = replace(SETTINGS, epochs=1)
    kept = []
    result_of(worker.model_request(model, settings, 0, None, 1, None), squares, kept)
    first = kept[0].model
    result_of(worker.model_request(model, replace(settings, learning_rate=0.002), 0, None, 1, None),
              squares, kept)
    assert len(kept) == 1 and kept[0].model is not first
    assert first.train_function is None, "the model no longer kept let go of its training step"
    broken = worker.model_request(model, settings, 0, [np.zeros(1)], 1, None)  # an optimizer state too short
    connection = RecordingConnection()
    worker.train(broken, connection, {1: squares}, kept)
    assert connection.reports[-1][0] == "failed" and kept == []


def test_a_warm_up_leaves_the_network_traced_for_the_training_that_follows(squares, monkeypatch):
    # Python runs a training step's code only while TensorFlow traces it (Keras 3's TensorFlow
    # trainer; private): each call here is one trace.
    from keras.src.backend.tensorflow.trainer import TensorFlowTrainer

    traces, original_step = [], TensorFlowTrainer.train_step

    def counted_step(self, data):
        traces.append(data)
        return original_step(self, data)

    monkeypatch.setattr(TensorFlowTrainer, "train_step", counted_step)
    request = worker.model_request(build_model(dropout_stack(), seed=3), SETTINGS, 0, None, 1, None)
    kept = []
    worker.warm_up(request, {1: squares}, kept)
    (ready,) = kept
    assert traces, "the warm-up traced the training step"
    traced = len(traces)
    result_of(request, squares, kept)
    assert kept == [ready], "the training used the model the warm-up got ready"
    assert len(traces) == traced, "the warm-up's one batch traced the very step the training runs"
    worker.warm_up(replace(request, architecture="not a network"), {1: squares}, kept)
    assert kept == [], "a warm-up that fails keeps nothing, and says nothing"


@pytest.mark.slow
def test_a_page_gets_a_process_ready_for_the_very_network_its_train_button_starts(squares, quick_pool, sent):
    settings = TrainingSettings(epochs=1, batch_size=100, subset_size=500, validation_split=0.1)
    quick_pool.idle_seconds = 60
    likely = likely_request(lambda: (build_model(preset("Fast default")), squares, settings))
    quick_pool.start_one_ahead(1, lambda: likely)
    deadline = time.monotonic() + WAIT_SECONDS
    while not any(message[0] == "warm" for message in sent) and time.monotonic() < deadline:
        time.sleep(0.01)  # sent on a thread of its own: a learner takes longer to press Train
    job = trained(build_model(preset("Fast default")), squares, True, settings)
    kinds = [message[0] for message in sent if message[0] in ("dataset", "warm", "train")]
    assert kinds == ["dataset", "warm", "train"]
    warm, train = (message[1] for message in sent if message[0] in ("warm", "train"))
    assert (warm.architecture, warm.settings, warm.dataset_token) == (
        train.architecture, train.settings, train.dataset_token), "the process's kept model matches"
    assert job.snapshot().state == "finished"


@pytest.mark.slow
def test_a_training_process_yields_the_cores_to_the_server(squares, quick_pool):
    """A click's answer comes before a training's next batch when the cores are short."""
    process = quick_pool.borrow()
    try:
        server, training = (os.getpriority(os.PRIO_PROCESS, pid) for pid in (0, process.process.pid))
        deadline = time.monotonic() + 10
        while training == server and process.alive and time.monotonic() < deadline:
            time.sleep(0.01)  # it lowers its priority as it starts
            training = os.getpriority(os.PRIO_PROCESS, process.process.pid)
        assert training == min(server + worker.TRAINING_NICENESS, 19)
    finally:
        quick_pool.discard(process)
