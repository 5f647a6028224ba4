"""Training as a background job that streams its metrics to whoever polls it.

A job runs `model.fit` on its own thread, so that Streamlit reruns, page switches and
button clicks never interrupt it. The thread never touches Streamlit: it writes to a
lock-protected buffer, and the page reads `snapshot()`s from its own script thread.

Jobs wait their turn for one of the server's training slots (`playground.queue`), and a
job whose page has gone (a closed or reloaded tab) stops by itself within seconds.
"""

from __future__ import annotations

import contextlib
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import replace

import keras
import numpy as np

from playground.batchnorm import SAMPLE_IMAGES, recalibrate_batch_norm
from playground.compiling import compile_for_training, release_training_step
from playground.data import Dataset, float_images
from playground.evaluation import evaluate
from playground.job_state import JobBuffer, JobSnapshot, Progress
from playground.memory import collect_and_release, limit_malloc_arenas
from playground.moments import MomentRecorder
from playground.pipeline import split, training_batches
from playground.queue import TrainingQueue, training_queue
from playground.settings import (
    PRECISE_BATCH_NORM_BELOW,
    TrainingSettings,
    batches_per_epoch,
)

REPORT_INTERVAL_SECONDS = 0.1  # batch metrics reach the buffer at most this often
# A job whose page has been disconnected this long stops. Streamlit reconnects a dropped
# websocket within a second or two, so a brief network blip never stops a training.
ORPHAN_GRACE_SECONDS = 6.0
OWNER_CHECK_SECONDS = 1.0  # how often a running job asks whether its page is still there

limit_malloc_arenas()  # before the first training thread (see playground.memory)


class StopRequested(Exception):
    """Raised inside fit to leave it at once, skipping the epoch's end."""


def interval_mean(mean_now: float, count_now: int, mean_before: float, count_before: int) -> float:
    """The mean of batches count_before+1 … count_now, from two running means over the epoch.

    Keras 3 logs at a batch's end the mean of every batch of the epoch so far; the
    difference of two sums recovers what the batches in between did on their own.
    """
    return (mean_now * count_now - mean_before * count_before) / (count_now - count_before)


class StreamingCallback(keras.callbacks.Callback):
    """Copies metrics into the job's buffer, stops fit within one batch when asked, and
    measures each epoch on the validation images.

    `async_safe` lets Keras run the batch-end hook on its callback thread, so reading the
    metrics never makes the training thread wait for the device. The stop check sits in the
    batch-begin hook, which always runs on the training thread, where raising ends fit.
    """

    async_safe = True

    def __init__(self, job: TrainingJob):
        super().__init__()
        self.job = job
        self.epoch = 0
        self.last_report = 0.0
        self.last_owner_check = 0.0
        self.started = 0.0
        self.batches_done = 0
        self.reported = (0, 0.0, 0.0)  # batches, mean loss, mean accuracy at the last point

    def on_train_begin(self, logs=None):
        self.started = time.perf_counter()
        self.batches_done = 0

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch
        self.reported = (0, 0.0, 0.0)

    def on_train_batch_begin(self, batch, logs=None):
        self.job.keep_moment(self.epoch, batch)  # here, on the training thread, between two updates
        now = time.perf_counter()
        if now - self.last_owner_check >= OWNER_CHECK_SECONDS:
            self.last_owner_check = now
            self.job.check_owner()
        if self.job.stop_requested:
            raise StopRequested  # the weights keep the previous batch's update

    def on_train_batch_end(self, batch, logs=None):
        self.batches_done += 1
        self.job.count_batch()
        now = time.perf_counter()
        last_of_epoch = batch + 1 == self.job.batches_per_epoch
        if now - self.last_report >= REPORT_INTERVAL_SECONDS or last_of_epoch:
            self.last_report = now
            self.report(batch, logs or {}, now)

    def report(self, batch: int, logs: dict, now: float) -> None:
        count = batch + 1
        loss, accuracy = float(logs.get("loss", np.nan)), float(logs.get("accuracy", np.nan))
        before, loss_before, accuracy_before = self.reported
        self.reported = (count, loss, accuracy)
        point = (self.epoch + count / self.job.batches_per_epoch,
                 interval_mean(loss, count, loss_before, before),
                 interval_mean(accuracy, count, accuracy_before, before))
        self.job.record_batch(self.epoch, batch, point, self.batches_done, now - self.started)

    def on_epoch_end(self, epoch, logs=None):
        if self.job.batches_per_epoch < PRECISE_BATCH_NORM_BELOW:
            self.job.recalibrate_batch_norm()  # before this epoch's validation
        self.job.keep_moment(epoch, None)
        self.job.record_epoch(epoch, logs or {}, self.job.validate())


class TrainingJob:
    """One session's training run: start, stop, continue, and read its snapshot."""

    def __init__(self, model: keras.Model, data: Dataset, settings: TrainingSettings,
                 keep_moments: bool = True):
        self.model = model
        self.data = data
        self.settings = settings.checked(len(data.train_pixels))
        # Whether the page that owns the job is still open (see belong_to); None: always.
        self._owner_connected: Callable[[], bool] | None = None
        self._owner_gone_since: float | None = None
        self._owner_finalizer: weakref.finalize | None = None
        self.next_epoch = 0
        self._buffer = JobBuffer()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._queue: TrainingQueue | None = None
        (self.train_pixels, self.y_train,
         self.validation_pixels, self.y_validation) = split(data, self.settings)
        self.batches_per_epoch = batches_per_epoch(len(self.train_pixels), self.settings.batch_size)
        compile_for_training(model, self.settings, self.batches_per_epoch)
        self._moments = MomentRecorder(model, self.batches_per_epoch) if keep_moments else None

    @property
    def stop_requested(self) -> bool:
        return self._stop.is_set()

    @property
    def batches_done(self) -> int:
        """Batches trained so far, over every start of this job."""
        return self._buffer.batches_done

    def keep_moment(self, epoch: int, batch: int | None) -> None:
        """Keep the first layer's weights before `batch` of `epoch`, or at its end (batch None)."""
        if self._moments is None or (batch is not None and not self._moments.wants(epoch, batch)):
            return
        with self._buffer.lock:
            if batch is None:
                self._moments.after_epoch(epoch)
            else:
                self._moments.before_batch(epoch, batch)

    def count_batch(self) -> None:
        self._buffer.batches_done += 1

    def owner_connected(self) -> bool:
        return self._owner_connected is None or self._owner_connected()

    def check_owner(self) -> None:
        """Stop the job once its page has been gone for ORPHAN_GRACE_SECONDS."""
        now = time.monotonic()
        if self.owner_connected():
            self._owner_gone_since = None
        elif self._owner_gone_since is None:
            self._owner_gone_since = now
        elif now - self._owner_gone_since >= ORPHAN_GRACE_SECONDS:
            self._set(stop_reason="closed")
            self.request_stop()

    def belong_to(self, owner: object, owner_connected: Callable[[], bool] | None = None) -> None:
        """Make `owner` (a token kept in a browser session's state) this job's owner.

        The job stops once `owner` is garbage-collected (Streamlit dropped the session), or
        once `owner_connected` has said False for ORPHAN_GRACE_SECONDS. Called again, it hands
        the job over: a reloaded tab's new session takes its old session's job this way, and
        the old session's going no longer stops it."""
        if self._owner_finalizer is not None:
            self._owner_finalizer.detach()
        self._owner_finalizer = weakref.finalize(owner, self.request_stop)
        self._owner_connected = owner_connected
        self._owner_gone_since = None

    def should_leave_queue(self) -> bool:
        self.check_owner()
        return self._stop.is_set()

    def seconds_of_work_left(self, images_per_second: float) -> float:
        batches_left = (self.settings.epochs - self.next_epoch) * self.batches_per_epoch
        with self._buffer.lock:
            if self._buffer.state in ("running", "stopping"):
                batches_left -= self._buffer.progress.batch
        return max(0, batches_left) * self.settings.batch_size / images_per_second

    def start(self, queue: TrainingQueue | None = None) -> None:
        """Train (or continue) in the background up to `settings.epochs`, once a slot is free.

        ValueError if the server's slot setting is bad (see `playground.queue`)."""
        if self._thread is not None and self._thread.is_alive():
            raise RuntimeError("This job is already training; stop it first.")
        if self.next_epoch >= self.settings.epochs:
            raise RuntimeError("This job has finished all its epochs.")
        self._queue = queue or training_queue()
        self._stop.clear()
        self._owner_gone_since = None
        self._set(state="queued", error=None, stop_reason=None)
        self._thread = threading.Thread(target=self._run, name="playground-training", daemon=True)
        self._thread.start()

    def request_stop(self) -> None:
        self._stop.set()
        with self._buffer.lock:
            if self._buffer.state == "running":
                self._buffer.state = "stopping"
        if self._queue is not None:
            self._queue.wake()  # a waiting job leaves the line now, not at its next check

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the thread; True if it has ended."""
        if self._thread is not None:
            self._thread.join(timeout)
        return self._thread is None or not self._thread.is_alive()

    @property
    def can_continue(self) -> bool:
        snapshot = self.snapshot()
        return (snapshot.state == "stopped" and snapshot.started and snapshot.stop_reason is None
                and self.next_epoch < self.settings.epochs)

    def snapshot(self) -> JobSnapshot:
        buffer, queue = self._buffer, self._queue
        with buffer.lock:
            snapshot = JobSnapshot(
                state=buffer.state, progress=buffer.progress,
                batch_points=tuple(buffer.batch_points), epoch_points=tuple(buffer.epoch_points),
                evaluation=buffer.evaluation, error=buffer.error,
                training_seconds=buffer.training_seconds, stop_reason=buffer.stop_reason,
                moments=tuple(self._moments.moments) if self._moments is not None else (),
            )
        if snapshot.state == "queued" and queue is not None:
            snapshot = replace(snapshot, place_in_line=queue.place(self),
                               seconds_to_wait=queue.seconds_to_wait(self))
        return snapshot

    def _set(self, **changes) -> None:
        with self._buffer.lock:
            for name, value in changes.items():
                setattr(self._buffer, name, value)

    def _run(self) -> None:
        if not self._queue.wait_for_turn(self):
            self._set(state="stopped")
            return
        try:
            self._train_and_evaluate()
        except Exception as error:  # noqa: BLE001 - reported to the page, which shows it
            self._set(state="failed", error=f"{type(error).__name__}: {error}")
        finally:
            self._queue.done(self)
            collect_and_release()

    def _train_and_evaluate(self) -> None:
        self._set(state="running")
        started = time.perf_counter()
        with contextlib.suppress(StopRequested):
            self.model.fit(
                training_batches(self.data, len(self.train_pixels), self.settings.batch_size,
                                 self.settings.seed + self.next_epoch, self.settings.augment),
                epochs=self.settings.epochs, initial_epoch=self.next_epoch, shuffle=False,  # shuffled above
                callbacks=[StreamingCallback(self)], verbose=0,
            )
        release_training_step(self.model)  # before any page may press Continue
        with self._buffer.lock:
            self._buffer.training_seconds += time.perf_counter() - started
            if self._buffer.stop_reason == "closed":  # nobody is left to see the results
                self._buffer.state = "stopped"
                return
            self._buffer.state = "evaluating"
        if self._stop.is_set():
            self.recalibrate_batch_norm()  # stopped mid-epoch, at a high learning rate
        evaluation = evaluate(self.model, self.data.x_test, self.data.y_test)
        finished = self.next_epoch >= self.settings.epochs and not self._stop.is_set()
        self._set(evaluation=evaluation, state="finished" if finished else "stopped")

    def recalibrate_batch_norm(self) -> None:
        recalibrate_batch_norm(self.model, float_images(self.train_pixels[:SAMPLE_IMAGES]))

    def validate(self) -> dict:
        """Loss and accuracy on the validation images, by direct calls (no second input pipeline)."""
        if not len(self.validation_pixels):
            return {}
        result = evaluate(self.model, self.validation_pixels, self.y_validation)
        return {"val_loss": result.loss, "val_accuracy": result.accuracy}

    def record_batch(self, epoch: int, batch: int, point: tuple, batches_done: int, seconds: float) -> None:
        rate = batches_done * self.settings.batch_size / seconds if seconds > 0 else 0.0
        remaining = (self.settings.epochs - epoch) * self.batches_per_epoch - (batch + 1)
        seconds_left = remaining * self.settings.batch_size / rate if rate else None
        progress = Progress(epoch + 1, self.settings.epochs, batch + 1, self.batches_per_epoch,
                            rate, seconds_left)
        if rate and self._queue is not None:
            self._queue.images_per_second = rate
        with self._buffer.lock:
            self._buffer.progress = progress
            self._buffer.batch_points.append(point)

    def record_epoch(self, epoch: int, logs: dict, validation: dict) -> None:
        point = {"epoch": epoch + 1, **{name: float(value) for name, value in logs.items()}, **validation}
        self.next_epoch = epoch + 1
        with self._buffer.lock:
            self._buffer.epoch_points.append(point)
