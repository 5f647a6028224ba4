"""Training as a background job that streams its metrics to whoever polls it.

A job runs `model.fit` on its own thread, so that Streamlit reruns, page switches and
button clicks never interrupt it. The thread never touches Streamlit: it writes to a
lock-protected buffer, and the page reads `snapshot()`s from its own script thread.

At most `max_concurrent_trainings()` jobs train at once across the whole server (two
cores are easily saturated by one); the rest wait in the "queued" state.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
import weakref
from dataclasses import dataclass, field, replace

import keras
import numpy as np

from playground.batchnorm import recalibrate_batch_norm
from playground.data import Dataset
from playground.evaluation import Evaluation, evaluate

MAX_TRAININGS_VARIABLE = "PLAYGROUND_MAX_TRAININGS"
DEFAULT_MAX_TRAININGS = 1
REPORT_INTERVAL_SECONDS = 0.1  # batch metrics reach the buffer at most this often
# With fewer batches than this per epoch, batch norm's moving averages lag the weights
# (see playground.batchnorm); above it they have caught up, and the recalibration is skipped.
PRECISE_BATCH_NORM_BELOW = 200
OPTIMIZERS = ("adam", "sgd", "rmsprop")
SCHEDULES = ("constant", "warmup_cosine")
SGD_MOMENTUM = 0.9
WARMUP_FRACTION = 0.05


def max_concurrent_trainings() -> int:
    value = os.environ.get(MAX_TRAININGS_VARIABLE, str(DEFAULT_MAX_TRAININGS))
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"{MAX_TRAININGS_VARIABLE} must be a whole number ≥ 1, not {value!r}.")
    return int(value)


_training_slots = threading.BoundedSemaphore(max_concurrent_trainings())


@dataclass(frozen=True)
class TrainingSettings:
    epochs: int = 3
    batch_size: int = 128
    optimizer: str = "adam"
    learning_rate: float = 1e-3
    schedule: str = "constant"
    validation_split: float = 0.1
    subset_size: int | None = None  # None: the whole training set

    def checked(self, available: int) -> TrainingSettings:
        """These settings if they can work on `available` training images, else ValueError."""
        problems = []
        if not 1 <= self.epochs <= 100:
            problems.append(f"epochs must be between 1 and 100, not {self.epochs}")
        if not 1 <= self.batch_size <= 4096:
            problems.append(f"batch size must be between 1 and 4096, not {self.batch_size}")
        if self.optimizer not in OPTIMIZERS:
            problems.append(f"optimizer must be one of {', '.join(OPTIMIZERS)}, not {self.optimizer!r}")
        if self.schedule not in SCHEDULES:
            problems.append(f"schedule must be one of {', '.join(SCHEDULES)}, not {self.schedule!r}")
        if not 0 < self.learning_rate <= 1:
            problems.append(f"learning rate must be above 0 and at most 1, not {self.learning_rate}")
        if not 0 <= self.validation_split <= 0.5:
            problems.append(f"validation split must be between 0 and 0.5, not {self.validation_split}")
        subset = available if self.subset_size is None else self.subset_size
        if not 1 <= subset <= available:
            problems.append(f"training subset must be between 1 and {available:,} images, not {subset:,}")
        if problems:
            raise ValueError("Cannot train: " + "; ".join(problems) + ".")
        return replace(self, subset_size=subset)


@dataclass(frozen=True)
class Progress:
    epoch: int = 0  # 1-based epoch being trained, 0 before the first batch
    epochs: int = 0
    batch: int = 0
    batches_per_epoch: int = 0
    samples_per_second: float = 0.0
    seconds_left: float | None = None


@dataclass(frozen=True)
class JobSnapshot:
    """An immutable copy of a job's state, safe to read from any thread."""

    state: str  # idle, queued, running, stopping, evaluating, stopped, finished, failed
    progress: Progress
    batch_points: tuple[tuple[float, float, float], ...]  # (epoch position, loss, accuracy)
    epoch_points: tuple[dict, ...]  # one dict per finished epoch: loss, accuracy, val_loss, ...
    evaluation: Evaluation | None
    error: str | None
    training_seconds: float

    @property
    def active(self) -> bool:
        return self.state in ("queued", "running", "stopping", "evaluating")


@dataclass
class _Buffer:
    lock: threading.Lock = field(default_factory=threading.Lock)
    state: str = "idle"
    progress: Progress = field(default_factory=Progress)
    batch_points: list = field(default_factory=list)
    epoch_points: list = field(default_factory=list)
    evaluation: Evaluation | None = None
    error: str | None = None
    training_seconds: float = 0.0
    batches_done: int = 0  # written every batch, without the lock: one int store is atomic


class StopRequested(Exception):
    """Raised inside fit to leave it at once, skipping the epoch's end and its validation."""


class StreamingCallback(keras.callbacks.Callback):
    """Copies metrics into the job's buffer and stops fit within one batch when asked."""

    def __init__(self, job: TrainingJob):
        super().__init__()
        self.job = job
        self.epoch = 0
        self.last_report = 0.0
        self.started = 0.0
        self.batches_done = 0

    def on_train_begin(self, logs=None):
        self.started = time.perf_counter()
        self.batches_done = 0

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        self.batches_done += 1
        self.job.count_batch()
        if self.job.stop_requested:
            raise StopRequested  # the weights keep this batch's update
        if batch + 1 == self.job.batches_per_epoch and self.job.batches_per_epoch < PRECISE_BATCH_NORM_BELOW:
            recalibrate_batch_norm(self.model, self.job.x_train)  # before this epoch's validation
        now = time.perf_counter()
        if now - self.last_report >= REPORT_INTERVAL_SECONDS or batch + 1 == self.job.batches_per_epoch:
            self.last_report = now
            self.job.record_batch(self.epoch, batch, logs or {}, self.batches_done, now - self.started)

    def on_epoch_end(self, epoch, logs=None):
        self.job.record_epoch(epoch, logs or {})


class TrainingJob:
    """One session's training run: start, stop, continue, and read its snapshot."""

    def __init__(self, model: keras.Model, data: Dataset, settings: TrainingSettings):
        self.model = model
        self.data = data
        self.settings = settings.checked(len(data.x_train))
        self.next_epoch = 0
        self._buffer = _Buffer()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        subset = self.settings.subset_size
        validation = round(subset * self.settings.validation_split)
        # Views, not copies: datasets are shared by every session and can be large.
        self.x_train, self.y_train = data.x_train[:subset - validation], data.y_train[:subset - validation]
        self.x_validation = data.x_train[subset - validation:subset]
        self.y_validation = data.y_train[subset - validation:subset]
        self.batches_per_epoch = -(-len(self.x_train) // self.settings.batch_size)
        compile_for_training(model, self.settings, self.batches_per_epoch)

    @property
    def stop_requested(self) -> bool:
        return self._stop.is_set()

    @property
    def batches_done(self) -> int:
        """Batches trained so far, over every start of this job."""
        return self._buffer.batches_done

    def count_batch(self) -> None:
        self._buffer.batches_done += 1

    def start(self) -> None:
        """Train (or continue) in the background up to `settings.epochs`."""
        if self._thread is not None and self._thread.is_alive():
            raise RuntimeError("This job is already training; stop it first.")
        if self.next_epoch >= self.settings.epochs:
            raise RuntimeError("This job has finished all its epochs.")
        self._stop.clear()
        self._set(state="queued", error=None)
        self._thread = threading.Thread(target=self._run, name="playground-training", daemon=True)
        self._thread.start()

    def request_stop(self) -> None:
        self._stop.set()
        with self._buffer.lock:
            if self._buffer.state == "running":
                self._buffer.state = "stopping"

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the thread; True if it has ended."""
        if self._thread is not None:
            self._thread.join(timeout)
        return self._thread is None or not self._thread.is_alive()

    @property
    def can_continue(self) -> bool:
        snapshot = self.snapshot()
        return not snapshot.active and snapshot.state == "stopped" and self.next_epoch < self.settings.epochs

    def snapshot(self) -> JobSnapshot:
        buffer = self._buffer
        with buffer.lock:
            return JobSnapshot(
                state=buffer.state, progress=buffer.progress,
                batch_points=tuple(buffer.batch_points), epoch_points=tuple(buffer.epoch_points),
                evaluation=buffer.evaluation, error=buffer.error,
                training_seconds=buffer.training_seconds,
            )

    def _set(self, **changes) -> None:
        with self._buffer.lock:
            for name, value in changes.items():
                setattr(self._buffer, name, value)

    def _run(self) -> None:
        while not _training_slots.acquire(timeout=0.1):
            if self._stop.is_set():
                self._set(state="stopped")
                return
        try:
            self._train_and_evaluate()
        except Exception as error:  # noqa: BLE001 - reported to the page, which shows it
            self._set(state="failed", error=f"{type(error).__name__}: {error}")
        finally:
            _training_slots.release()

    def _train_and_evaluate(self) -> None:
        if self._stop.is_set():
            self._set(state="stopped")
            return
        self._set(state="running")
        started = time.perf_counter()
        validation = (self.x_validation, self.y_validation) if len(self.x_validation) else None
        with contextlib.suppress(StopRequested):
            self.model.fit(
                self.x_train, self.y_train, batch_size=self.settings.batch_size,
                epochs=self.settings.epochs, initial_epoch=self.next_epoch,
                validation_data=validation, callbacks=[StreamingCallback(self)], verbose=0,
            )
        if self._stop.is_set():
            recalibrate_batch_norm(self.model, self.x_train)  # stopped mid-epoch, at a high learning rate
        with self._buffer.lock:
            self._buffer.training_seconds += time.perf_counter() - started
            self._buffer.state = "evaluating"
        evaluation = evaluate(self.model, self.data.x_test, self.data.y_test)
        finished = self.next_epoch >= self.settings.epochs and not self._stop.is_set()
        self._set(evaluation=evaluation, state="finished" if finished else "stopped")

    def record_batch(self, epoch: int, batch: int, logs: dict, batches_done: int, seconds: float) -> None:
        rate = batches_done * self.settings.batch_size / seconds if seconds > 0 else 0.0
        remaining = (self.settings.epochs - epoch) * self.batches_per_epoch - (batch + 1)
        seconds_left = remaining * self.settings.batch_size / rate if rate else None
        progress = Progress(epoch + 1, self.settings.epochs, batch + 1, self.batches_per_epoch,
                            rate, seconds_left)
        point = (epoch + (batch + 1) / self.batches_per_epoch, float(logs.get("loss", np.nan)),
                 float(logs.get("accuracy", np.nan)))
        with self._buffer.lock:
            self._buffer.progress = progress
            self._buffer.batch_points.append(point)

    def record_epoch(self, epoch: int, logs: dict) -> None:
        point = {"epoch": epoch + 1, **{name: float(value) for name, value in logs.items()}}
        self.next_epoch = epoch + 1
        with self._buffer.lock:
            self._buffer.epoch_points.append(point)


def compile_for_training(model: keras.Model, settings: TrainingSettings, batches_per_epoch: int) -> None:
    steps = settings.epochs * batches_per_epoch
    if settings.schedule == "warmup_cosine":
        rate = keras.optimizers.schedules.CosineDecay(
            0.0, steps, warmup_target=settings.learning_rate,
            warmup_steps=max(1, round(steps * WARMUP_FRACTION)))
    else:
        rate = settings.learning_rate
    optimizer = {
        "adam": lambda: keras.optimizers.Adam(rate),
        "sgd": lambda: keras.optimizers.SGD(rate, momentum=SGD_MOMENTUM),
        "rmsprop": lambda: keras.optimizers.RMSprop(rate),
    }[settings.optimizer]()
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=not outputs_probabilities(model))
    model.compile(optimizer=optimizer, loss=loss, metrics=["accuracy"])


def outputs_probabilities(model: keras.Model) -> bool:
    """True if the last layer squashes its outputs (softmax or sigmoid), False for logits."""
    activation = getattr(model.layers[-1], "activation", None)
    return getattr(activation, "__name__", "") in ("softmax", "sigmoid")


class SessionToken:
    """Kept in one browser session's state: when Streamlit drops the session, it goes too."""


def stop_when_collected(owner: object, job: TrainingJob) -> None:
    """Stop `job` once `owner` is garbage-collected, e.g. with a closed session's state."""
    weakref.finalize(owner, job.request_stop)
