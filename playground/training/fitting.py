"""One start of a training job, where the training happens: `model.fit` with a callback that
reports as it goes, then batch-norm recalibration and the test-set evaluation.

A run knows nothing of where its reports go or where its stop requests come from: the job
(playground.jobs.job) runs it on a thread of its own, or hands it to a training process
(playground.jobs.worker), which ships the same reports back over a pipe. Each report is a plain
tuple whose first item names it; `TrainingJob.receive` reads them.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable

import keras
import numpy as np

from playground.data.loading import Dataset, float_images
from playground.spec.settings import (
    PRECISE_BATCH_NORM_BELOW,
    TrainingSettings,
    augmentation_kinds,
    batches_per_epoch,
)
from playground.training.batchnorm import SAMPLE_IMAGES, recalibrate_batch_norm
from playground.training.compiling import release_training_step
from playground.training.evaluation import evaluate
from playground.training.filter_history import Moment, MomentRecorder
from playground.training.pipeline import restart_random_ops, split, training_batches

REPORT_INTERVAL_SECONDS = 0.1  # batch metrics are reported at most this often
OUT_OF_MEMORY = ("The training ran out of memory: try a smaller batch, fewer or smaller layers, or fewer "
                 "training images.")
MAX_FAILURE_CHARACTERS = 300

Report = tuple  # ("batch", …), ("epoch", …), ("moments", …), ("state", …), ("result", …)


class StopRequested(Exception):
    """Raised inside fit to leave it at once, skipping the epoch's end."""


def failure_message(error: BaseException) -> str:
    """What the learner reads of a training that failed: one line, however long the error
    (TensorFlow's out-of-memory report runs to pages), and plain words for that commonest cause."""
    name = type(error).__name__
    text = " ".join(str(error).split())[:MAX_FAILURE_CHARACTERS]
    said = f"{name}: {text}" if text else name
    if isinstance(error, MemoryError) or name == "ResourceExhaustedError":
        return f"{said.rstrip('.')}. {OUT_OF_MEMORY}"
    return said


def interval_mean(mean_now: float, count_now: int, mean_before: float, count_before: int) -> float:
    """The mean of batches count_before+1 … count_now, from two running means over the epoch.

    Keras 3 logs at a batch's end the mean of every batch of the epoch so far; the
    difference of two sums recovers what the batches in between did on their own.
    """
    return (mean_now * count_now - mean_before * count_before) / (count_now - count_before)


def attach_training_state(model: keras.Model) -> None:
    """Give the model's variables their values of the moment, inside an epoch. On JAX, fit
    keeps them in its own state and empties the variables until the epoch ends; Keras'
    callbacks put them back (`jax_state_sync`) when they read `self.model`. Done only when a
    value is read: each time costs the next batch a new gathering of that state."""
    if keras.backend.backend() == "jax":
        model.jax_state_sync()


class StreamingCallback(keras.callbacks.Callback):
    """Reports metrics, stops fit within one batch when asked, and measures each epoch on the
    validation images.

    `async_safe` lets Keras run the batch-end hook on its callback thread, so reading the
    metrics never makes the training thread wait for the device. The stop check sits in the
    batch-begin hook, which always runs on the training thread, where raising ends fit.
    """

    async_safe = True

    def __init__(self, run: TrainingRun):
        super().__init__()
        self.run = run
        # On JAX, Keras runs batch-end hooks on several threads at once: the counts and the
        # last point are read and written by one of them at a time.
        self._batch_end_lock = threading.Lock()
        self.epoch = 0
        self.last_report = 0.0
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
        self.run.keep_moment(self.epoch, batch)  # here, on the training thread, between two updates
        self.run.stop_reason = self.run.should_stop()
        if self.run.stop_reason:
            raise StopRequested  # the weights keep the previous batch's update

    def on_train_batch_end(self, batch, logs=None):
        with self._batch_end_lock:
            self.batches_done += 1
            now = time.perf_counter()
            last_of_epoch = batch + 1 == self.run.batches_per_epoch
            if now - self.last_report >= REPORT_INTERVAL_SECONDS or last_of_epoch:
                self.last_report = now
                self.report(batch, logs or {}, now)

    def report(self, batch: int, logs: dict, now: float) -> None:
        count = batch + 1
        loss, accuracy = float(logs.get("loss", np.nan)), float(logs.get("accuracy", np.nan))
        before, loss_before, accuracy_before = self.reported
        self.reported = (count, loss, accuracy)
        point = (self.epoch + count / self.run.batches_per_epoch,
                 interval_mean(loss, count, loss_before, before),
                 interval_mean(accuracy, count, accuracy_before, before))
        self.run.send(("batch", self.epoch, batch, point, self.batches_done, now - self.started))

    def on_epoch_end(self, epoch, logs=None):
        if self.run.batches_per_epoch < PRECISE_BATCH_NORM_BELOW:
            self.run.recalibrate_batch_norm()  # before this epoch's validation
        self.run.keep_moment(epoch, None)
        point = {"epoch": epoch + 1, **{name: float(value) for name, value in (logs or {}).items()},
                 **self.run.validate()}
        self.run.send(("epoch", point))


def one_at_a_time(send: Callable[[Report], None]) -> Callable[[Report], None]:
    """`send` behind a lock: reports come from the training thread and from Keras' callback
    threads, and a training process's reports share one pipe."""
    lock = threading.Lock()

    def locked_send(report: Report) -> None:
        with lock:
            send(report)

    return locked_send


class TrainingRun:
    """Train a compiled `model` from `first_epoch` up to `settings.epochs`, reporting through
    `send` and asking `should_stop` before every batch: None to go on, or why to stop
    ("asked", or "closed" when the job's page has gone and nobody will see the results).

    `moments`: those the job kept in its earlier starts, so a Continue keeps to the same budget.
    `keep_training_step`: leave the traced training step with the model for its next training
    (a training process keeps its last model: playground.jobs.worker.ReadyModel).
    """

    def __init__(self, model: keras.Model, data: Dataset, settings: TrainingSettings, first_epoch: int,
                 send: Callable[[Report], None], should_stop: Callable[[], str | None],
                 moments: tuple[Moment, ...] | None = (), keep_training_step: bool = False):
        self.model, self.data, self.settings = model, data, settings
        self.keep_training_step = keep_training_step
        self.first_epoch = first_epoch
        self.send, self.should_stop = one_at_a_time(send), should_stop
        self.stop_reason: str | None = None
        (self.train_pixels, self.y_train,
         self.validation_pixels, self.y_validation) = split(data, settings)
        self.batches_per_epoch = batches_per_epoch(len(self.train_pixels), settings.batch_size)
        self.moments = None
        if moments is not None:
            self.moments = MomentRecorder(model, self.batches_per_epoch)
            self.moments.moments = list(moments)

    def __call__(self) -> None:
        """Train, then report ("result", evaluation or None, stop reason or None, seconds, batches)."""
        started = time.perf_counter()
        callback = StreamingCallback(self)
        seed = self.settings.seed + self.first_epoch
        restart_random_ops(seed)
        with contextlib.suppress(StopRequested):
            self.model.fit(
                training_batches(self.data, len(self.train_pixels), self.settings.batch_size, seed,
                                 augmentation_kinds(self.settings)),
                epochs=self.settings.epochs, initial_epoch=self.first_epoch, shuffle=False,  # shuffled above
                callbacks=[callback], verbose=0,
            )
        if not self.keep_training_step:
            release_training_step(self.model)  # before any page may press Continue
        seconds = time.perf_counter() - started
        if self.stop_reason == "closed" or not callback.batches_done:
            # Nobody is left to see the results, or nothing changed since the last ones.
            self.send(("result", None, self.stop_reason, seconds, callback.batches_done))
            return
        self.send(("state", "evaluating"))
        if self.stop_reason:
            self.recalibrate_batch_norm()  # stopped mid-epoch, at a high learning rate
        evaluation = evaluate(self.model, self.data.x_test, self.data.y_test, len(self.data.class_names))
        self.send(("result", evaluation, self.stop_reason, seconds, callback.batches_done))

    def keep_moment(self, epoch: int, batch: int | None) -> None:
        """Keep the first layer's weights before `batch` of `epoch`, or at its end (batch None)."""
        if self.moments is None or (batch is not None and not self.moments.wants(epoch, batch)):
            return
        attach_training_state(self.model)
        if batch is None:
            self.moments.after_epoch(epoch)
        else:
            self.moments.before_batch(epoch, batch)
        self.send(("moments", tuple(self.moments.moments)))

    def recalibrate_batch_norm(self) -> None:
        recalibrate_batch_norm(self.model, float_images(self.train_pixels[:SAMPLE_IMAGES]))

    def validate(self) -> dict:
        """Loss and accuracy on the validation images, by direct calls (no second input pipeline)."""
        if not len(self.validation_pixels):
            return {}
        result = evaluate(self.model, self.validation_pixels, self.y_validation, len(self.data.class_names))
        return {"val_loss": result.loss, "val_accuracy": result.accuracy}
