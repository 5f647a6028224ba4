"""What runs inside a training process, and what it is sent: one training per request.

TensorFlow's CPU tensor pool reuses freed memory but never hands it back (see
playground.memory), so every training a server ran kept its high-water mark in the server
for good. A training process takes that memory with it when it ends. It also trains beside
the server rather than inside it, so a training's Python never holds the lock the server's
own threads need to answer clicks.

The server's side, the pool of processes that jobs borrow, is playground.worker_pool. A job
sends its process the model as plain data (its architecture, weights and optimizer state),
and relays the run's reports (playground.fitting) into its own buffer.
"""

from __future__ import annotations

import contextlib
import dataclasses
from multiprocessing.connection import Connection

import numpy as np

DATASETS_KEPT = 2  # data sets a process keeps between trainings, the latest last


@dataclasses.dataclass
class TrainingRequest:
    """All a training process needs for one start of a job: no Keras objects, only data."""

    architecture: str  # the model's JSON
    weights: list[np.ndarray]
    optimizer_state: list[np.ndarray] | None  # None: a fresh optimizer
    settings: object  # playground.settings.TrainingSettings
    first_epoch: int
    dataset_token: int  # the data set, sent before (see worker_pool's TrainingProcess.send_training)
    moments: tuple | None  # those kept so far, or None to keep none


def model_request(model, settings, first_epoch: int, optimizer_state, dataset_token: int,
                  moments) -> TrainingRequest:
    return TrainingRequest(model.to_json(), model.get_weights(), optimizer_state, settings, first_epoch,
                           dataset_token, moments)


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
    import playground.fitting  # noqa: F401 - TensorFlow's import, while the first request may still be on its way

    datasets: dict[int, object] = {}
    while True:
        try:
            message = connection.recv()
        except EOFError:  # the server has gone
            return
        if message[0] == "exit":
            return
        if message[0] == "dataset":
            datasets[message[1]] = received_dataset(message, connection)
        elif message[0] == "train":
            train(message[1], connection, datasets)
        # a "stop" for a training that has ended already is passed over


def received_dataset(message, connection) -> object:
    """A data set sent as its plain fields, then each array's bytes (see
    playground.worker_pool's TrainingProcess.send_dataset)."""
    _, _, kind, fields, array_specs = message
    arrays = {}
    for name, shape, dtype in array_specs:
        arrays[name] = np.empty(shape, dtype)
        connection.recv_bytes_into(flat_bytes(arrays[name]))
    return kind(**fields, **arrays)


def serve_descriptor(descriptor: int) -> None:
    serve(Connection(descriptor))


def train(request: TrainingRequest, connection, datasets: dict) -> None:
    """Run one training and report on `connection`; a "stop" message there ends it early."""
    # Imported here, not at the top: the server imports this module without TensorFlow.
    import keras

    from playground.compiling import compile_for_training
    from playground.fitting import TrainingRun
    from playground.memory import collect_and_release

    stop_reason: list[str | None] = [None]

    def should_stop() -> str | None:
        while stop_reason[0] is None and connection.poll():
            message = connection.recv()
            if message[0] == "stop":
                stop_reason[0] = message[1]
        return stop_reason[0]

    try:
        data = kept_dataset(request.dataset_token, datasets)
        model = keras.models.model_from_json(request.architecture)
        model.set_weights(request.weights)

        def send(report) -> None:
            if report[0] == "result":  # the trained model goes back with it
                report = (*report, model.get_weights(), optimizer_state(model))
            connection.send(report)

        run = TrainingRun(model, data, request.settings, request.first_epoch, send, should_stop,
                          request.moments)
        compile_for_training(model, request.settings, run.batches_per_epoch)
        if request.optimizer_state is not None:
            restore_optimizer(model, request.optimizer_state)
        run()
    except Exception as error:  # noqa: BLE001 - reported to the job, which shows it
        # Whatever failed, the job hears of it: its thread waits for a result or a failure. If
        # the server itself has gone, the send fails too, and serve's next receive ends here.
        with contextlib.suppress(OSError):
            connection.send(("failed", f"{type(error).__name__}: {error}"))
    finally:
        collect_and_release()


def kept_dataset(token: int, datasets: dict) -> object:
    """The data set `token`, now the latest used: the latest last, in step with
    `TrainingProcess.datasets` on the server's side (playground.worker_pool)."""
    data = datasets.pop(token)
    datasets[token] = data
    for old in list(datasets)[:-DATASETS_KEPT]:
        del datasets[old]
    return data
