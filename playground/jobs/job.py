"""Training as a background job that streams its metrics to whoever polls it.

A job trains in the background, so that Streamlit reruns, page switches and button clicks
never interrupt it: by default in a training process (playground.jobs.worker_pool), whose reports a
thread of the job's relays; or, with `separate_process=False`, on that thread itself. The
thread never touches Streamlit: it writes to a lock-protected buffer, and the page reads
`snapshot()`s from its own script thread.

Jobs wait their turn for one of the server's training slots (`playground.jobs.line`), and a
job whose page has gone (a closed or reloaded tab) stops by itself within seconds.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import replace

import keras

from playground.data.loading import Dataset
from playground.jobs import process_link
from playground.jobs.job_state import JobBuffer, JobSnapshot, Progress
from playground.jobs.line import TrainingQueue, training_queue
from playground.jobs.process_link import ProcessLink
from playground.jobs.process_memory import collect_and_release, limit_malloc_arenas
from playground.jobs.worker import model_request
from playground.jobs.worker_pool import dataset_token, training_processes
from playground.spec.settings import TrainingSettings, batches_per_epoch
from playground.training.compiling import compile_for_training
from playground.training.fitting import Report, TrainingRun, failure_message
from playground.training.pipeline import split

# A job whose page has been disconnected this long stops. Streamlit reconnects a dropped
# websocket within a second or two, so a brief network blip never stops a training.
ORPHAN_GRACE_SECONDS = 6.0
OWNER_CHECK_SECONDS = 1.0  # how often a running job asks whether its page is still there
EPOCH_TOLERANCE = 1e-9  # a batch point at an epoch's end sits at epoch + batches / batches per epoch

limit_malloc_arenas()  # before the first training thread (see playground.jobs.process_memory)

logger = logging.getLogger(__name__)


class TrainingJob:
    """One session's training run: start, stop, continue, and read its snapshot.

    `model` stays in this process and gets the trained weights at the end of every start;
    `separate_process` (None: SEPARATE_PROCESS) says where the training itself runs."""

    def __init__(self, model: keras.Model, data: Dataset, settings: TrainingSettings,
                 keep_moments: bool = True, separate_process: bool | None = None):
        self.model = model
        self.data = data
        self.settings = settings.checked(len(data.train_pixels))
        self.separate_process = (process_link.SEPARATE_PROCESS if separate_process is None
                                 else separate_process)
        # Whether the page that owns the job is still open (see belong_to); None: always.
        self._owner_connected: Callable[[], bool] | None = None
        self._owner_gone_since: float | None = None
        self._owner_finalizer: weakref.finalize | None = None
        self._last_owner_check = 0.0
        self.next_epoch = 0
        self._buffer = JobBuffer()
        self._moments: tuple | None = () if keep_moments else None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._queue: TrainingQueue | None = None
        self.process_link = ProcessLink()  # the training process lent to this job while it trains
        self._batches_before = 0  # batches trained in earlier starts
        # Called on the job's thread as each run ends, with no page needed (a result posted to a board).
        self.when_done: list[Callable[[TrainingJob], None]] = []
        (self.train_pixels, self.y_train,
         self.validation_pixels, self.y_validation) = split(data, self.settings)
        self.batches_per_epoch = batches_per_epoch(len(self.train_pixels), self.settings.batch_size)
        compile_for_training(model, self.settings, self.batches_per_epoch)

    @property
    def stop_requested(self) -> bool:
        return self._stop.is_set()

    @property
    def batches_done(self) -> int:
        """Batches trained so far, over every start of this job (as last reported)."""
        return self._buffer.batches_done

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

    def check_owner_now_and_then(self) -> None:
        now = time.monotonic()
        if now - self._last_owner_check >= OWNER_CHECK_SECONDS:
            self._last_owner_check = now
            self.check_owner()

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

        ValueError if the server's slot setting is bad (see `playground.jobs.line`)."""
        if self._thread is not None and self._thread.is_alive():
            raise RuntimeError("This job is already training; stop it first.")
        if self.next_epoch >= self.settings.epochs:
            raise RuntimeError("This job has finished all its epochs.")
        self._queue = queue or training_queue()
        self._forget_unfinished_epoch()
        self._stop.clear()
        self._owner_gone_since = None
        self._set(state="queued", error=None, stop_reason=None)
        if self.separate_process:  # TensorFlow imports while the job waits in line
            training_processes().start_one_ahead(self._queue.slots)
        self._thread = threading.Thread(target=self._run, name="playground-training", daemon=True)
        self._thread.start()

    def _forget_unfinished_epoch(self) -> None:
        """Continue after a Stop inside an epoch trains that epoch again from its first batch
        (the weights keep what its batches so far taught). Its points so far, and the moments
        kept in it, go: the chart would draw that stretch twice, one line over the other."""
        with self._buffer.lock:
            self._buffer.batch_points = [point for point in self._buffer.batch_points
                                         if point[0] <= self.next_epoch + EPOCH_TOLERANCE]
        if self._moments:
            self._moments = tuple(moment for moment in self._moments if moment.position <= self.next_epoch)

    def request_stop(self) -> None:
        self._stop.set()
        with self._buffer.lock:
            if self._buffer.state == "running":
                self._buffer.state = "stopping"
        if self._queue is not None:
            self._queue.wake()  # a waiting job leaves the line now, not at its next check
        self.process_link.tell_to_stop(self._stop_reason())

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
                moments=self._moments or (),
            )
        if snapshot.state == "queued" and queue is not None:
            snapshot = replace(snapshot, place_in_line=queue.place(self),
                               seconds_to_wait=queue.seconds_to_wait(self))
        return snapshot

    def _set(self, **changes) -> None:
        with self._buffer.lock:
            for name, value in changes.items():
                setattr(self._buffer, name, value)

    def _stop_reason(self) -> str | None:
        """Why the training should stop now, if it should: "closed" if the page has gone."""
        if not self._stop.is_set():
            return None
        with self._buffer.lock:
            return self._buffer.stop_reason or "asked"

    def _run(self) -> None:
        has_slot = False
        try:
            has_slot = self._queue.wait_for_turn(self)  # which asks the owner's callback: it may raise
            if not has_slot:
                self._set(state="stopped")
                return
            self._set(state="running")
            if self.separate_process:
                self._train_in_a_process()
            else:
                self._train_here()
        except Exception as error:  # noqa: BLE001 - reported to the page, which shows it
            self._set(state="failed", error=failure_message(error))
        finally:
            if has_slot:
                self._queue.done(self)
                collect_and_release()
            self._tell_done()

    def _tell_done(self) -> None:
        for callback in list(self.when_done):
            try:
                callback(self)
            except Exception:  # noqa: BLE001 - one listener's failure must not touch the training
                logger.exception("A listener of a finished training failed")

    def _train_here(self) -> None:
        def should_stop() -> str | None:
            self.check_owner_now_and_then()
            return self._stop_reason()

        TrainingRun(self.model, self.data, self.settings, self.next_epoch, self.receive, should_stop,
                    self._moments)()

    def _train_in_a_process(self) -> None:
        request = model_request(self.model, self.settings, self.next_epoch, self.process_link.optimizer_state,
                                dataset_token(self.data), self._moments)
        error = self.process_link.train(request, self.data, self._stop_reason, self.receive,
                                        self.model.set_weights, self.check_owner_now_and_then)
        if error is not None:
            self._set(state="failed", error=error)

    def receive(self, report: Report) -> None:
        """Take one report of a run (see playground.training.fitting) into the buffer."""
        kind, *details = report
        if kind == "batch":
            self._record_batch(*details)
        elif kind == "epoch":
            (point,) = details
            self.next_epoch = point["epoch"]
            with self._buffer.lock:
                self._buffer.epoch_points.append(point)
        elif kind == "moments":
            (self._moments,) = details
        elif kind == "state":
            with self._buffer.lock:
                if self._buffer.state in ("running", "stopping"):
                    self._buffer.state = details[0]
        elif kind == "result":
            self._record_result(*details)
        elif kind == "failed":
            self._set(state="failed", error=details[0])
        else:
            raise ValueError(f"Unknown training report {kind!r}.")

    def _record_batch(self, epoch: int, batch: int, point: tuple, batches_done: int, seconds: float) -> None:
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
            self._buffer.batches_done = self._batches_before + batches_done

    def _record_result(self, evaluation, stop_reason: str | None, seconds: float, batches: int) -> None:
        self._batches_before += batches
        with self._buffer.lock:
            self._buffer.batches_done = self._batches_before
            self._buffer.training_seconds += seconds
            if evaluation is None:  # its page has gone, or it stopped before a batch had trained
                self._buffer.state = "stopped"
                return
            self._buffer.evaluation = evaluation
            finished = self.next_epoch >= self.settings.epochs and stop_reason is None
            self._buffer.state = "finished" if finished else "stopped"

