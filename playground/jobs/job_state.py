"""What a training job knows of itself: the buffer its thread writes, under a lock, and the
immutable snapshots a page reads from its own thread (see playground.jobs.job)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from playground.training.evaluation import Evaluation
from playground.training.filter_history import Moment


@dataclass(frozen=True)
class Progress:
    epoch: int = 0  # 1-based epoch being trained, 0 before the first batch
    epochs: int = 0
    batch: int = 0
    batches_per_epoch: int = 0
    samples_per_second: float = 0.0
    seconds_left: float | None = None

    @property
    def fraction(self) -> float:
        """How much of the whole run is done, from 0 to 1."""
        done = max(0, self.epoch - 1) * self.batches_per_epoch + self.batch
        return min(1.0, done / max(1, self.epochs * self.batches_per_epoch))


@dataclass(frozen=True)
class JobSnapshot:
    """An immutable copy of a job's state, safe to read from any thread."""

    state: str  # idle, queued, running, stopping, evaluating, stopped, finished, failed
    progress: Progress
    # (epoch position, loss, accuracy): the mean over the batches since the previous point,
    # not Keras' running mean over the epoch so far.
    batch_points: tuple[tuple[float, float, float], ...]
    epoch_points: tuple[dict, ...]  # one dict per finished epoch: loss, accuracy, val_loss, ...
    evaluation: Evaluation | None
    error: str | None
    training_seconds: float
    stop_reason: str | None = None  # "closed" when the job stopped because its page went away
    place_in_line: int | None = None  # while queued: 1 = next to start
    seconds_to_wait: float | None = None  # while queued, when the server has a speed to go by
    moments: tuple[Moment, ...] = ()  # the first layer's weights along the way (training.filter_history)

    @property
    def active(self) -> bool:
        return self.state in ("queued", "running", "stopping", "evaluating")

    @property
    def started(self) -> bool:
        """True once the first batch has trained."""
        return self.progress.epoch > 0


@dataclass
class JobBuffer:
    lock: threading.Lock = field(default_factory=threading.Lock)
    state: str = "idle"
    progress: Progress = field(default_factory=Progress)
    batch_points: list = field(default_factory=list)
    epoch_points: list = field(default_factory=list)
    evaluation: Evaluation | None = None
    error: str | None = None
    training_seconds: float = 0.0
    stop_reason: str | None = None
    batches_done: int = 0  # written under the lock; TrainingJob.batches_done reads it without (one load)
