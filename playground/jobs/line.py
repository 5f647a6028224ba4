"""One server's training slots, handed out first come, first served.

Two cores are easily saturated by one training, so at most `max_concurrent_trainings()`
jobs train at once and the rest wait in line. A waiting job knows its place and an
estimate of its wait, leaves the line at once when stopped, and is passed over while its
page is gone (a closed or reloaded tab), so an orphan never trains ahead of a learner.
"""

from __future__ import annotations

import os
import threading
from collections import deque
from typing import Protocol

MAX_TRAININGS_VARIABLE = "PLAYGROUND_MAX_TRAININGS"
DEFAULT_MAX_TRAININGS = 1
WAKE_SECONDS = 0.5  # a waiting job re-checks its stop request and its page this often


class QueuedJob(Protocol):
    def should_leave_queue(self) -> bool: ...
    def owner_connected(self) -> bool: ...
    def seconds_of_work_left(self, images_per_second: float) -> float: ...


def max_concurrent_trainings() -> int:
    """The server's number of training slots, or ValueError saying how to fix the variable."""
    value = os.environ.get(MAX_TRAININGS_VARIABLE, str(DEFAULT_MAX_TRAININGS)).strip()
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"The server setting {MAX_TRAININGS_VARIABLE} must be a whole number of at least 1, "
                         f"not {value!r}: ask whoever runs this server to fix it, then restart it.")
    return int(value)


class TrainingQueue:
    def __init__(self, slots: int):
        self.slots = slots
        self._condition = threading.Condition()
        self._waiting: deque[QueuedJob] = deque()
        self._running: list[QueuedJob] = []
        self.images_per_second: float | None = None  # the latest measured training speed

    def wait_for_turn(self, job: QueuedJob) -> bool:
        """Block until `job` may train (True), or until it should leave the line (False)."""
        with self._condition:
            self._waiting.append(job)
            try:
                while not job.should_leave_queue():
                    if len(self._running) < self.slots and self._first_connected() is job:
                        self._running.append(job)
                        return True
                    self._condition.wait(WAKE_SECONDS)
                return False
            finally:
                self._waiting.remove(job)
                self._condition.notify_all()

    def _first_connected(self) -> QueuedJob | None:
        return next((job for job in self._waiting if job.owner_connected()), None)

    def done(self, job: QueuedJob) -> None:
        """`job` gives its slot back; the next in line starts."""
        with self._condition:
            self._running.remove(job)
            self._condition.notify_all()

    def wake(self) -> None:
        """Let waiting jobs re-check at once (a stop request, say)."""
        with self._condition:
            self._condition.notify_all()

    def place(self, job: QueuedJob) -> int | None:
        """1 for the next job to start, 2 for the one after it…; None if `job` is not waiting."""
        with self._condition:
            return self._waiting.index(job) + 1 if job in self._waiting else None

    def seconds_to_wait(self, job: QueuedJob) -> float | None:
        """About how long until `job` starts: the work of those training and ahead in line,
        spread over the slots. None until a training speed has been measured."""
        rate = self.images_per_second
        with self._condition:
            if not rate or job not in self._waiting:
                return None
            ahead = [*self._running, *list(self._waiting)[:self._waiting.index(job)]]
        return sum(other.seconds_of_work_left(rate) for other in ahead) / self.slots


_queue: TrainingQueue | None = None
_queue_lock = threading.Lock()


def training_queue() -> TrainingQueue:
    """The server's one queue, made on first use (ValueError if the slot setting is bad)."""
    global _queue
    with _queue_lock:
        if _queue is None:
            _queue = TrainingQueue(max_concurrent_trainings())
        return _queue
