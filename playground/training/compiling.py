"""How a network is compiled for training: its optimizer, learning-rate schedule and loss,
from the user's `TrainingSettings`."""

from __future__ import annotations

import keras
import tensorflow as tf
from tensorflow.python.eager import context as eager_context  # no public API clears its kernel cache

from playground.models.building import outputs_probabilities
from playground.spec.settings import (
    OPTIMIZER_CLASSES,
    WARMUP_SCHEDULES,
    TrainingSettings,
    optimizer_arguments,
    warmup_steps,
)


def compile_for_training(model: keras.Model, settings: TrainingSettings, batches_per_epoch: int) -> None:
    steps = settings.epochs * batches_per_epoch
    if settings.schedule in WARMUP_SCHEDULES:
        rate = keras.optimizers.schedules.CosineDecay(
            0.0, steps, warmup_target=settings.learning_rate, warmup_steps=warmup_steps(steps))
    else:
        rate = settings.learning_rate
    optimizer_class = getattr(keras.optimizers, OPTIMIZER_CLASSES[settings.optimizer])
    optimizer = optimizer_class(rate, **optimizer_arguments(settings))
    skip_single_replica_all_reduce(optimizer)
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=not outputs_probabilities(model))
    model.compile(optimizer=optimizer, loss=loss, metrics=["accuracy"])


def skip_single_replica_all_reduce(optimizer: keras.optimizers.Optimizer) -> None:
    """Leave out the optimizer's gradient all-reduce when there is only one replica.

    Private API, checked on Keras 3.15 with TensorFlow 2.21. On TensorFlow, each trace of the
    training step sums the gradients over replicas with `ReplicaContext.all_reduce`, which
    registers a custom gradient in TensorFlow's global gradient registry and never removes
    it. That entry keeps the whole traced graph alive: about 47 MB for every training, for as
    long as the server runs. With one replica the sum is the gradients themselves.
    """
    if not hasattr(optimizer, "_all_reduce_sum_gradients"):
        return  # another backend: nothing to leave out
    if tf.distribute.get_strategy().num_replicas_in_sync == 1:
        optimizer._all_reduce_sum_gradients = lambda grads_and_vars: list(grads_and_vars)


def release_training_step(model: keras.Model) -> None:
    """Drop the model's traced training step once a fit has ended. Each holds about 15 MB of
    TensorFlow graph, and every session keeps the model it trained: six finished jobs held
    113 MB here, 24 MB without their steps. Continue traces the step again, as the first fit
    did; the weights and the optimizer's state stay.

    TensorFlow also caches the kernel of every function it has run, this step's too, for as
    long as the process lives: about 1 MB per training of the Fast default here (929 KiB of
    malloc'd memory, measured over 8 trainings), so that cache is cleared as well. Other
    threads' next calls rebuild their kernels once: 14 ms more for Draw's, 25 ms for
    "Which pixels mattered?", 35 ms for ResNet50's; a call in flight keeps its own."""
    model.train_function = None
    if keras.backend.backend() == "tensorflow":
        eager_context.context().clear_kernel_cache()
