"""The server's training processes (see playground.jobs.worker): started ahead, lent to one job
at a time, and ended once no training has come for WORKER_IDLE_SECONDS.

One process per training slot at most. A process takes seconds to start (it imports
TensorFlow), so one is started as soon as a page expects training.
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import os
import socket
import subprocess
import sys
import threading
import weakref
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import numpy as np

from playground.jobs.worker import DATASETS_KEPT, TrainingRequest, flat_bytes

ReadyFor = tuple[TrainingRequest, Any]  # a request, and its data set

WORKER_IDLE_SECONDS = 60.0  # an idle training process ends this long after its last training
END_WAIT_SECONDS = 5.0  # how long an ending process may take before it is killed
PROJECT_ROOT = Path(__file__).resolve().parents[2]
# A fresh interpreter, not a fork (TensorFlow's threads do not survive one) and not
# multiprocessing's spawn, which would run the server's main script again in the child.
START_COMMAND = ("import sys; from playground.jobs.worker import serve_descriptor; "
                 "serve_descriptor(int(sys.argv[1]))")


class TrainingProcess:
    """The server's handle on one training process."""

    def __init__(self):
        server_end, child_end = socket.socketpair()
        search_path = os.pathsep.join(filter(None, [str(PROJECT_ROOT), os.environ.get("PYTHONPATH")]))
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-c", START_COMMAND, str(child_end.fileno())], pass_fds=[child_end.fileno()],
                env={**os.environ, "PYTHONPATH": search_path}, stdin=subprocess.DEVNULL)
        except BaseException:
            server_end.close()  # a host that allows no second process: no sockets left open either
            raise
        finally:
            child_end.close()
        self.connection = Connection(server_end.detach())
        self.datasets: list[int] = []  # tokens of the data sets it holds, the latest last
        self.lock = threading.Lock()  # sends come from the job's thread and from Stop's page thread
        self.idle_mark: object | None = None  # new each time it goes idle; None while lent

    def send(self, message) -> None:
        with self.lock:
            self.connection.send(message)

    def send_training(self, request: TrainingRequest, dataset, kind: str = "train") -> None:
        """Send `request`, after its data set if this process does not hold it yet. `kind`
        "warm": not to train, but to get ready for a training like it (worker.warm_up)."""
        token = request.dataset_token
        with self.lock:  # nothing may come between a data set's header and its arrays
            if token in self.datasets:
                self.datasets.remove(token)
            else:
                self.send_dataset(token, dataset)
            self.datasets = [*self.datasets, token][-DATASETS_KEPT:]
            self.connection.send((kind, request))

    def forget_dataset(self, token: int) -> None:
        """Have the process drop a data set it holds (a learner's own pictures, once trained on)."""
        with self.lock:
            if token in self.datasets:
                self.datasets.remove(token)
                self.connection.send(("forget", token))

    def send_dataset(self, token: int, dataset) -> None:
        """A dataclass of arrays: its plain fields pickled, then each array's bytes as they lie
        in memory, so that neither side makes a copy of the whole (CIFAR-10's arrays are hundreds of MB)."""
        values = {field.name: getattr(dataset, field.name) for field in dataclasses.fields(dataset)}
        arrays = {name: value for name, value in values.items() if isinstance(value, np.ndarray)}
        fields = {name: value for name, value in values.items() if name not in arrays}
        specs = [(name, array.shape, array.dtype.str) for name, array in arrays.items()]
        self.connection.send(("dataset", token, type(dataset), fields, specs))
        for array in arrays.values():
            self.connection.send_bytes(flat_bytes(array))

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def end(self) -> None:
        with contextlib.suppress(OSError):
            self.send(("exit",))
        try:
            self.process.wait(END_WAIT_SECONDS)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.connection.close()


class TrainingProcesses:
    """Idle training processes, lent to one job at a time and ended when idle too long."""

    def __init__(self, idle_seconds: float = WORKER_IDLE_SECONDS):
        self.idle_seconds = idle_seconds
        self._idle: list[TrainingProcess] = []
        self._lent = 0
        self._starting = 0  # processes start_one_ahead is starting now
        self._lock = threading.Lock()

    def borrow(self) -> TrainingProcess:
        """An idle process, or a new one. Either may still be importing TensorFlow: its first
        training then waits in its pipe."""
        with self._lock:
            self._lent += 1
            while self._idle:
                process = self._idle.pop()
                process.idle_mark = None
                if process.alive:
                    return process
        try:
            return TrainingProcess()
        except BaseException:
            with self._lock:
                self._lent -= 1
            raise

    def give_back(self, process: TrainingProcess, lent: bool = True) -> None:
        """Take `process` back (or in, if it was never `lent`) as idle, or end it if it died."""
        with self._lock:
            self._lent -= lent
        if not process.alive:
            process.end()
            return
        mark = object()
        with self._lock:
            process.idle_mark = mark
            self._idle.append(process)
        timer = threading.Timer(self.idle_seconds, self._end_if_still_idle, (weakref.ref(process), mark))
        timer.daemon = True
        timer.start()

    def discard(self, process: TrainingProcess) -> None:
        """End a lent process that is not to be lent again."""
        with self._lock:
            self._lent -= 1
        process.end()

    def start_one_ahead(self, most: int, likely: Callable[[], ReadyFor | None] | None = None) -> None:
        """Start a process now, unless one is idle already or `most` exist, so that a training
        about to start finds TensorFlow imported. `likely`, called only if a process starts,
        gives the training most likely to come (a request and its data set) or None: the
        process gets ready for it too."""
        with self._lock:
            if self._idle or self._lent + self._starting >= most:
                return
            self._starting += 1  # counted before the lock goes: pages that open together start one
        try:
            process = TrainingProcess()
        finally:
            with self._lock:
                self._starting -= 1
        ready_for = likely() if likely is not None else None
        if ready_for is not None:
            # On a thread: the send waits while the new process imports TensorFlow.
            threading.Thread(target=self._send_quietly, args=(process, *ready_for), daemon=True,
                             name="playground-warm-up").start()
        self.give_back(process, lent=False)

    @staticmethod
    def _send_quietly(process: TrainingProcess, request: TrainingRequest, dataset) -> None:
        with contextlib.suppress(OSError):  # it died or ended meanwhile: no training will find it
            process.send_training(request, dataset, kind="warm")

    def _end_if_still_idle(self, reference: weakref.ref, mark: Any) -> None:
        process = reference()
        with self._lock:
            if process is None or process.idle_mark is not mark or process not in self._idle:
                return  # lent out since, or gone
            self._idle.remove(process)
        process.end()

    def end_all_idle(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for process in idle:
            process.end()

    def __len__(self) -> int:
        with self._lock:
            return len(self._idle)


_dataset_tokens: dict[int, tuple[weakref.ref, int]] = {}
_dataset_numbers = itertools.count(1)
_dataset_lock = threading.Lock()


def dataset_token(data) -> int:
    """A number for `data` that no other data set gets while it lives, nor after."""
    with _dataset_lock:
        entry = _dataset_tokens.get(id(data))
        if entry is not None and entry[0]() is data:
            return entry[1]
        for key in [key for key, (reference, _) in _dataset_tokens.items() if reference() is None]:
            del _dataset_tokens[key]
        token = next(_dataset_numbers)
        _dataset_tokens[id(data)] = (weakref.ref(data), token)
        return token


_processes = TrainingProcesses()


def training_processes() -> TrainingProcesses:
    """The server's one pool of training processes."""
    return _processes
