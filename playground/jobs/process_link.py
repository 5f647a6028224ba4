"""A job's training in a training process (playground.jobs.worker_pool): a process got
ready ahead for what a page would train, the request going out, the process's reports coming
back to the job, and a Stop passed on at once."""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable

import keras

from playground.data.loading import Dataset
from playground.jobs.line import training_queue
from playground.jobs.worker import TrainingRequest, model_request
from playground.jobs.worker_pool import TrainingProcess, dataset_token, training_processes
from playground.spec.own_images import OWN_DATASET
from playground.spec.settings import TrainingSettings

RELAY_WAIT_SECONDS = 0.1  # how long the job's thread waits for a report before checking its stop and page
# A training process reports at every tenth of a second of training, and answers a Stop at its
# next batch. One that stays silent this long (it may be starting under a full class's load)
# has hung, and is ended: its slot goes to the next learner in line.
SILENT_SECONDS = 90.0
STOP_ANSWER_SECONDS = 30.0  # after a Stop, silence this long means the same
PROCESS_GONE = ("The training process ended unexpectedly (the server may be short of memory): "
                "press Train to try again.")
PROCESS_HUNG = "The training process stopped answering and was ended: press Train to try again."


class ProcessHung(Exception):
    """The lent process has said nothing for too long."""


class ProcessLink:
    """The training process lent to one job while it trains, and the optimizer's state that
    the job keeps between two starts (a Stop, then Continue)."""

    def __init__(self):
        self.process: TrainingProcess | None = None
        self.optimizer_state = None
        self._lock = threading.Lock()
        self._stop_sent_at: float | None = None

    def tell_to_stop(self, reason: str | None) -> None:
        """Pass a stop request on to the process at once, if one trains the job."""
        with self._lock:
            if self.process is not None and self._stop_sent_at is None:
                self._stop_sent_at = time.monotonic()
                with contextlib.suppress(OSError):  # it died: the relay reports that
                    self.process.send(("stop", reason))

    def train(self, request: TrainingRequest, data, stop_reason: Callable[[], str | None],
              receive: Callable, set_weights: Callable, check_owner: Callable[[], None]) -> str | None:
        """Train `request` in a borrowed process, passing its reports to `receive` (the trained
        weights to `set_weights` first) until its result or failure. None, or PROCESS_GONE if
        the process died (out of memory, or killed)."""
        processes = training_processes()
        process = processes.borrow()
        try:
            process.send_training(request, data)
            with self._lock:
                self.process, self._stop_sent_at = process, None
            if stop_reason() is not None:
                self.tell_to_stop(stop_reason())  # asked while the request was on its way
            failed = self._relay(process, receive, set_weights, check_owner)
        except (EOFError, OSError):
            processes.discard(process)
            return PROCESS_GONE
        except ProcessHung:
            process.process.kill()
            processes.discard(process)
            return PROCESS_HUNG
        except BaseException:
            processes.discard(process)  # in an unknown state: never lend it again
            raise
        finally:
            with self._lock:
                self.process = None
        if failed:  # whatever state the failure left it in (a grown memory pool, say): never lend it again
            processes.discard(process)
            return None
        if getattr(data, "name", None) == OWN_DATASET:  # a learner's own pictures leave with the job
            process.forget_dataset(request.dataset_token)
        processes.give_back(process)
        return None

    def _relay(self, process: TrainingProcess, receive: Callable, set_weights: Callable,
               check_owner: Callable[[], None]) -> bool:
        """Pass the reports on until the result (False) or a failure (True) comes."""
        heard = time.monotonic()
        while True:
            if process.connection.poll(RELAY_WAIT_SECONDS):
                heard = time.monotonic()
                report = process.connection.recv()
                if report[0] == "result":
                    weights, self.optimizer_state = report[-2:]
                    set_weights(weights)
                    receive(report[:-2])
                    return False
                receive(report)
                if report[0] == "failed":
                    return True
            check_owner()  # which may ask it to stop
            self._check_answering(heard)

    def _check_answering(self, heard: float) -> None:
        """ProcessHung if the process has been silent for SILENT_SECONDS, or has not answered a
        Stop within STOP_ANSWER_SECONDS (any report after it is an answer)."""
        now, stopped = time.monotonic(), self._stop_sent_at
        if now - heard > SILENT_SECONDS or (stopped is not None and heard < stopped
                                            and now - stopped > STOP_ANSWER_SECONDS):
            raise ProcessHung


# "0" trains on threads of the server's own process, as before training processes existed.
SEPARATE_PROCESS_VARIABLE = "PLAYGROUND_TRAINING_PROCESS"
SEPARATE_PROCESS = os.environ.get(SEPARATE_PROCESS_VARIABLE, "1").strip() != "0"

LikelyTraining = Callable[[], tuple[keras.Model, Dataset, TrainingSettings] | None]


def get_ready_to_train(likely: LikelyTraining | None = None) -> None:
    """Start a training process ahead, if trainings run in one and none is idle: a page that
    offers Train calls this, so that a learner's first training finds TensorFlow imported.
    `likely`, called only then, gives what the page would train now (a new model, its data
    set and settings) or None: the process traces that network's training step meanwhile."""
    if SEPARATE_PROCESS:
        with contextlib.suppress(ValueError):  # a bad slot setting: the page says so, and nobody trains
            training_processes().start_one_ahead(training_queue().slots, lambda: likely_request(likely))


def likely_request(likely: LikelyTraining | None) -> tuple[TrainingRequest, Dataset] | None:
    """The request a job would send for `likely()`'s training, and its data set."""
    training = likely() if likely is not None else None
    if training is None:
        return None
    model, data, settings = training
    settings = settings.checked(len(data.train_pixels))
    return model_request(model, settings, 0, None, dataset_token(data), None), data
