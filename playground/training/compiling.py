"""How a network is compiled for training: its optimizer, learning-rate schedule and loss,
from the user's `TrainingSettings`."""

from __future__ import annotations

import keras

from playground.models.building import outputs_probabilities
from playground.spec.settings import (
    OPTIMIZER_CLASSES,
    WARMUP_SCHEDULES,
    TrainingSettings,
    optimizer_arguments,
    warmup_steps,
)
from playground.training.keras_private import clear_kernel_cache, skip_single_replica_all_reduce


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


def release_training_step(model: keras.Model) -> None:
    """Drop the model's traced training step once a fit has ended. Each holds megabytes of
    TensorFlow graph, and every session keeps the model it trained (tests/test_training.py
    checks none is left). Continue traces the step again, as the first fit did; the weights
    and the optimizer's state stay.

    TensorFlow also caches the kernel of every function it has run, this step's too, for as
    long as the process lives (benchmarks/allocator_pool.py), so that cache is cleared as
    well. Other threads' next calls rebuild their kernels once, a few milliseconds; a call in
    flight keeps its own."""
    model.train_function = None
    clear_kernel_cache()
