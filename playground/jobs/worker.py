"""What runs inside a training process, and what it is sent: one training per request.

TensorFlow's CPU tensor pool reuses freed memory but never hands it back (see
playground.jobs.process_memory), so every training a server ran kept its high-water mark in the server
for good. A training process takes that memory with it when it ends. It also trains beside
the server rather than inside it, so a training's Python never holds the lock the server's
own threads need to answer clicks.

The server's side, the pool of processes that jobs borrow, is playground.jobs.worker_pool. A job
sends its process the model as plain data (its architecture, weights and optimizer state),
and relays the run's reports (playground.training.fitting) into its own buffer.

A process keeps the last model it trained, its training step traced, for the next request
with the same network, settings and data set (`ReadyModel`): in a class, that is most of
them. A page can have a process get ready for what its Train button would start (`warm_up`).
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import json
import os
from multiprocessing.connection import Connection

import numpy as np

# Data sets a process keeps between trainings, the latest last. One: with a second kept, a
# CIFAR-10 training after an MNIST one (or a warm-up for it) peaked higher with ResNet50
# loaded (benchmarks/photos.py --cifar). A learner who switches back sends the other again.
DATASETS_KEPT = 1
TRAINING_NICENESS = 10  # how much lower a training process's CPU priority is than the server's


@dataclasses.dataclass
class TrainingRequest:
    """All a training process needs for one start of a job: no Keras objects, only data."""

    architecture: str  # the model's JSON, without its compile settings (see `architecture`)
    weights: list[np.ndarray]
    optimizer_state: list[np.ndarray] | None  # None: a fresh optimizer
    settings: object  # playground.spec.settings.TrainingSettings
    first_epoch: int
    dataset_token: int  # the data set, sent before (see worker_pool's TrainingProcess.send_training)
    moments: tuple | None  # those kept so far, or None to keep none


def model_request(model, settings, first_epoch: int, optimizer_state, dataset_token: int,
                  moments) -> TrainingRequest:
    return TrainingRequest(architecture(model), model.get_weights(), optimizer_state, settings, first_epoch,
                           dataset_token, moments)


def architecture(model) -> str:
    """The model's JSON without its compile settings: the process compiles from the request's
    settings, and a compiled model's JSON names its optimizer uniquely ("adam_7"), so two
    learners' identical networks would never match (see `ready_model`)."""
    config = json.loads(model.to_json())
    config.pop("compile_config", None)
    return json.dumps(config)


def flat_bytes(array: np.ndarray) -> np.ndarray:
    """`array`'s bytes as one flat uint8 array, for a pipe to read or write in place."""
    return np.ascontiguousarray(array).reshape(-1).view(np.uint8)


def optimizer_state(model) -> list[np.ndarray] | None:
    """The optimizer's variables (its step count, momenta…), or None if it has none yet."""
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None or not optimizer.built:
        return None
    return [np.array(variable) for variable in optimizer.variables]


def restore_optimizer(model, state: list[np.ndarray]) -> None:
    optimizer = model.optimizer
    optimizer.build(model.trainable_variables)
    if len(optimizer.variables) != len(state):
        raise ValueError(f"The optimizer has {len(optimizer.variables)} variables but "
                         f"{len(state)} were saved: the model changed between two starts.")
    for variable, value in zip(optimizer.variables, state, strict=True):
        variable.assign(value)


def serve(connection) -> None:
    """The training process's loop: one training per request, until told to end."""
    import playground.training.fitting  # noqa: F401 - TensorFlow's import, while the first request may still be on its way

    datasets: dict[int, object] = {}
    kept: list[ReadyModel] = []  # the last model trained here, ready for the same again
    mailbox = Mailbox(connection)
    while True:
        try:
            message = mailbox.next()
        except EOFError:  # the server has gone
            return
        if message[0] == "exit":
            return
        if message[0] == "dataset":
            datasets[message[1]] = message[2]
        elif message[0] == "train":
            train(message[1], connection, datasets, kept, mailbox)
        elif message[0] == "warm":
            warm_up(message[1], datasets, kept)
        elif message[0] == "forget":
            forget(message[1], datasets, kept)
        # a "stop" for a training that has ended already is passed over


def forget(token: int, datasets: dict, kept: list) -> None:
    """Drop a data set, the model made ready for it, and the tensors made of its pictures."""
    from playground.training.pipeline import drop_unused_tensors

    datasets.pop(token, None)
    kept.clear()
    drop_unused_tensors()


class Mailbox:
    """The server's messages to this process, in their order. A training looks for a "stop"
    between its batches; anything else that comes meanwhile waits here for the loop."""

    def __init__(self, connection):
        self.connection = connection
        self.waiting: collections.deque = collections.deque()

    def next(self):
        """The next message (EOFError once the server has gone); a data set's arrays read with it."""
        return self.waiting.popleft() if self.waiting else self._read()

    def _read(self):
        message = self.connection.recv()
        if message[0] == "dataset":  # its arrays follow at once, as raw bytes
            return ("dataset", message[1], received_dataset(message, self.connection))
        return message

    def stop_reason(self) -> str | None:
        """Why to stop ("asked", "closed") if a stop has come, else None."""
        while self.connection.poll():
            message = self._read()
            if message[0] == "stop":
                return message[1]
            self.waiting.append(message)
        return None


def received_dataset(message, connection) -> object:
    """A data set sent as its plain fields, then each array's bytes (see
    playground.jobs.worker_pool's TrainingProcess.send_dataset)."""
    _, _, kind, fields, array_specs = message
    arrays = {}
    for name, shape, dtype in array_specs:
        arrays[name] = np.empty(shape, dtype)
        connection.recv_bytes_into(flat_bytes(arrays[name]))
    return kind(**fields, **arrays)


def serve_descriptor(descriptor: int) -> None:
    yield_to_the_server()
    serve(Connection(descriptor))


def yield_to_the_server() -> None:
    """Lower this process's CPU priority: when the cores are short, the server's answer to a
    click comes before a training's next batch. A training still takes every core nobody
    else wants, so alone it trains as fast as before."""
    if hasattr(os, "nice"):  # POSIX
        os.nice(TRAINING_NICENESS)


def train(request: TrainingRequest, connection, datasets: dict, kept: list[ReadyModel],
          mailbox: Mailbox | None = None) -> None:
    """Run one training and report on `connection`; a "stop" message there ends it early."""
    from playground.jobs.process_memory import collect_and_release
    from playground.training.fitting import TrainingRun, failure_message

    mailbox = mailbox or Mailbox(connection)
    stop_reason: list[str | None] = [None]

    def should_stop() -> str | None:
        if stop_reason[0] is None:
            stop_reason[0] = mailbox.stop_reason()
        return stop_reason[0]

    try:
        data = kept_dataset(request.dataset_token, datasets)
        model = ready_model(request, data, kept)
        if request.optimizer_state is not None:
            restore_optimizer(model, request.optimizer_state)

        def send(report) -> None:
            if report[0] == "result":  # the trained model goes back with it
                report = (*report, model.get_weights(), optimizer_state(model))
            connection.send(report)

        run = TrainingRun(model, data, request.settings, request.first_epoch, send, should_stop,
                          request.moments, keep_training_step=True)
        run()
    except Exception as error:  # noqa: BLE001 - reported to the job, which shows it
        kept.clear()  # whatever state the failure left the model in, it is not reused
        # Whatever failed, the job hears of it: its thread waits for a result or a failure. If
        # the server itself has gone, the send fails too, and serve's next receive ends here.
        with contextlib.suppress(OSError):
            connection.send(("failed", failure_message(error)))
    finally:
        collect_and_release()


def warm_up(request: TrainingRequest, datasets: dict, kept: list[ReadyModel]) -> None:
    """Get ready for a training like `request` before it comes, while its learner still reads
    the page: build and compile its model, and trace its training step on one batch (a good
    part of a short training's time: benchmarks/training_speed.py). Nothing is reported: if
    this fails, nothing is kept, and the training itself, should it come, says what went wrong."""
    from playground.spec.settings import augmentation_kinds
    from playground.training.pipeline import training_batches

    try:
        data = kept_dataset(request.dataset_token, datasets)
        model = ready_model(request, data, kept)
        settings = request.settings
        # One batch's images only: training_batches makes a tensor of every image it may draw
        # from, which TensorFlow's pool would keep should the learner switch data.
        images = dataclasses.replace(data, train_pixels=data.train_pixels[:settings.batch_size],
                                     y_train=data.y_train[:settings.batch_size])
        one_batch = training_batches(images, settings.batch_size, settings.batch_size, settings.seed,
                                     augmentation_kinds(settings))
        model.fit(one_batch, shuffle=False, verbose=0)
    except Exception:  # noqa: BLE001 - the training, if it comes, reports it
        kept.clear()


@dataclasses.dataclass
class ReadyModel:
    """A model built and compiled here, whose training step its first fit traced, with the
    values its variables (weights, random generators' states) and its optimizer's started from.

    In a class most learners train the same network with the same settings, one after
    another: tracing a training step is a good part of a short training's time, and a model
    kept from the last training starts its first batch at once. Set back to
    those starting values and given the request's weights, it trains as a new one would: the
    same test accuracy to the last digit (benchmarks/training_speed.py's queue)."""

    key: tuple
    model: object
    variables_start: list[np.ndarray]
    optimizer_start: list[np.ndarray]

    def restart(self, weights: list[np.ndarray]) -> None:
        for variable, value in zip(self.model.variables, self.variables_start, strict=True):
            variable.assign(value)
        for variable, value in zip(self.model.optimizer.variables, self.optimizer_start, strict=True):
            variable.assign(value)
        self.model.set_weights(weights)


def ready_model(request: TrainingRequest, data, kept: list[ReadyModel]):
    """The request's model, compiled, with its weights and a fresh optimizer: the one kept from
    the last training if it had the same architecture, settings and data set, else a new one."""
    import keras

    from playground.spec.settings import batches_per_epoch
    from playground.training.compiling import compile_for_training, release_training_step
    from playground.training.pipeline import split

    key = (request.architecture, request.settings, request.dataset_token)
    if kept and kept[0].key == key:
        kept[0].restart(request.weights)
        return kept[0].model
    while kept:
        release_training_step(kept.pop().model)  # its traced step and TensorFlow's kernels for it
    model = keras.models.model_from_json(request.architecture)
    settings = request.settings
    training_images = len(split(data, settings)[0])
    compile_for_training(model, settings, batches_per_epoch(training_images, settings.batch_size))
    model.optimizer.build(model.trainable_variables)
    ready = ReadyModel(key, model, _values(model.variables), _values(model.optimizer.variables))
    kept.append(ready)
    ready.restart(request.weights)
    return model


def _values(variables) -> list[np.ndarray]:
    return [np.array(variable.numpy()) for variable in variables]


def kept_dataset(token: int, datasets: dict) -> object:
    """The data set `token`, now the latest used: the latest last, in step with
    `TrainingProcess.datasets` on the server's side (playground.jobs.worker_pool)."""
    data = datasets.pop(token)
    datasets[token] = data
    for old in list(datasets)[:-DATASETS_KEPT]:
        del datasets[old]
    return data
