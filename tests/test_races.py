"""Races and lost messages between the server's threads, its training processes and Keras'
callback threads: each test fails on the code before its fix."""

from __future__ import annotations

import os
import threading
import time
from multiprocessing.connection import Pipe

import numpy as np
import pytest

from playground.jobs import worker, worker_pool
from playground.jobs.line import TrainingQueue
from playground.training import fitting

THREADS = 8


class SlowStartingProcess:
    """Stands in for a training process whose start takes a while, as Popen and Python do."""

    started = 0

    def __init__(self):
        type(self).started += 1
        time.sleep(0.05)
        self.idle_mark = None
        self.alive = True

    def end(self) -> None:
        self.alive = False


def test_pages_that_open_together_start_one_process_for_one_slot(monkeypatch):
    monkeypatch.setattr(worker_pool, "TrainingProcess", SlowStartingProcess)
    SlowStartingProcess.started = 0
    pool = worker_pool.TrainingProcesses(idle_seconds=60)
    barrier = threading.Barrier(THREADS)

    def open_build_train():
        barrier.wait()
        pool.start_one_ahead(1)

    threads = [threading.Thread(target=open_build_train) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert SlowStartingProcess.started == 1
    assert len(pool) == 1
    pool.end_all_idle()


def test_a_process_that_cannot_start_leaves_no_socket_open(monkeypatch):
    def no_second_process(*args, **kwargs):
        raise OSError("Resource temporarily unavailable")

    monkeypatch.setattr(worker_pool.subprocess, "Popen", no_second_process)
    before = len(os.listdir("/proc/self/fd"))
    for _ in range(5):
        with pytest.raises(OSError):
            worker_pool.TrainingProcess()
    assert len(os.listdir("/proc/self/fd")) == before


class OverlapRecorder:
    """A run's stand-in: records reports, and whether two ever arrived at once."""

    batches_per_epoch = 1_000

    def __init__(self):
        self.reports, self.inside, self.overlaps = [], 0, 0

    def __call__(self, report) -> None:
        self.inside += 1
        self.overlaps += self.inside > 1
        time.sleep(0.0005)  # a pipe's write takes a moment
        self.reports.append(report)
        self.inside -= 1


def test_batch_end_hooks_on_several_threads_count_and_report_one_at_a_time(monkeypatch):
    """Keras on JAX runs `async_safe` batch-end hooks on several threads at once."""
    monkeypatch.setattr(fitting, "REPORT_INTERVAL_SECONDS", 0.0)
    recorder = OverlapRecorder()

    class Run:
        batches_per_epoch = recorder.batches_per_epoch
        send = staticmethod(fitting.one_at_a_time(recorder))

    callback = fitting.StreamingCallback(Run())
    per_thread = 50
    barrier = threading.Barrier(THREADS)

    def batch_ends(first: int):
        barrier.wait()
        for batch in range(first, first + per_thread):
            callback.on_train_batch_end(batch, {"loss": 1.0, "accuracy": 0.5})

    threads = [threading.Thread(target=batch_ends, args=(index * per_thread,)) for index in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert callback.batches_done == THREADS * per_thread
    assert recorder.overlaps == 0
    assert [report[4] for report in recorder.reports] == list(range(1, THREADS * per_thread + 1))


def test_a_run_sends_one_report_at_a_time(squares):
    """The training thread's moments and the callback threads' batches share one pipe."""
    recorder = OverlapRecorder()
    from playground.spec.settings import TrainingSettings

    run = fitting.TrainingRun.__new__(fitting.TrainingRun)
    fitting.TrainingRun.__init__(run, _tiny_model(), squares, TrainingSettings(epochs=1, subset_size=256),
                                 0, recorder, lambda: None)
    barrier = threading.Barrier(THREADS)

    def send_many():
        barrier.wait()
        for _ in range(20):
            run.send(("batch",))

    threads = [threading.Thread(target=send_many) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert recorder.overlaps == 0 and len(recorder.reports) == THREADS * 20


def _tiny_model():
    from playground.models.building import build_model
    from playground.spec.layers import make_layer

    return build_model([make_layer("Flatten"), make_layer("Dense", units=10, activation="softmax")])


def test_a_training_process_keeps_what_comes_while_it_trains():
    """Between batches the process looks for a "stop"; it used to drop anything else, such as
    the server's "exit", and a data set's arrays would then have been read as messages."""
    server, process = Pipe()
    mailbox = worker.Mailbox(process)
    server.send(("exit",))
    arrays = {"values": np.arange(6, dtype=np.uint8).reshape(2, 3)}
    server.send(("dataset", 7, dict, {}, [("values", (2, 3), "|u1")]))
    server.send_bytes(worker.flat_bytes(arrays["values"]))
    assert mailbox.stop_reason() is None
    server.send(("stop", "asked"))
    assert mailbox.stop_reason() == "asked"
    assert mailbox.next() == ("exit",)
    kind, token, data = mailbox.next()
    assert (kind, token) == ("dataset", 7)
    np.testing.assert_array_equal(data["values"], arrays["values"])
    server.send(("train", "request"))
    assert mailbox.next() == ("train", "request")


class RaisingOwner:
    """A job whose owner check raises, as a page's callback might."""

    def __init__(self):
        self.calls = 0

    def __call__(self) -> bool:
        self.calls += 1
        raise RuntimeError("the session manager is shutting down")


def test_a_job_whose_owner_check_raises_in_line_fails_instead_of_waiting_for_good(squares):
    from playground.jobs.job import TrainingJob
    from playground.models.building import build_model
    from playground.spec.presets import preset
    from playground.spec.settings import TrainingSettings

    queue = TrainingQueue(1)
    settings = TrainingSettings(epochs=1, subset_size=256)
    job = TrainingJob(build_model(preset("Fast default")), squares, settings, separate_process=False)
    owner = RaisingOwner()  # any object a weak reference can follow
    job.belong_to(owner, owner)
    job.start(queue)
    assert job.join(10)
    snapshot = job.snapshot()
    assert snapshot.state == "failed" and "shutting down" in snapshot.error
    assert queue.place(job) is None and not queue._running  # nothing left in line or in a slot


def test_saliency_and_the_probe_wait_for_a_classifier_in_use():
    """The default classifier is shared between sessions: Inspect's calls take its lock too."""
    from playground.explain.inspection import activations_of
    from playground.explain.saliency import integrated_gradients
    from playground.models.building import Classifier

    classifier = Classifier(_tiny_model(), "test", tuple("0123456789"))
    image = np.zeros((28, 28, 1), np.float32)
    calls = {"probe": lambda: activations_of(classifier, image),
             "saliency": lambda: classifier.run_alone(integrated_gradients, image, 3, False)}
    for name, call in calls.items():
        finished = threading.Event()
        with classifier._lock:  # another session's prediction
            thread = threading.Thread(target=lambda call=call, finished=finished: (call(), finished.set()))
            thread.start()
            assert not finished.wait(0.3), f"{name} ran while another thread used the model"
        assert finished.wait(30), name
        thread.join()
