"""Every use of Keras' and TensorFlow's private APIs, in one place, checked on CHECKED_ON.

A server that trains for a whole class must not grow with every training: two fixes need
TensorFlow's internals (the optimizer's all-reduce, the eager kernel cache). Inspect needs to
know which layer made a tensor. Each private name is listed in PRIVATE_NAMES, and a use whose
name has gone raises `PrivateApiChanged`, the same way Streamlit's do
(pages/parts/streamlit_private.py); tests/test_architecture.py checks them all.
"""

from __future__ import annotations

import importlib

import keras

CHECKED_ON = {"keras": "3.15.1", "tensorflow": "2.21.0"}
# (module, attribute path) of every private name used below.
PRIVATE_NAMES = (
    ("tensorflow.python.eager.context", "context"),
    ("tensorflow.python.eager.context", "Context.clear_kernel_cache"),
    ("keras.src.backend.tensorflow.optimizer", "TFOptimizer._all_reduce_sum_gradients"),
    ("keras.src.backend.common.keras_tensor", "KerasTensor"),
)


class PrivateApiChanged(RuntimeError):
    """An upgrade moved a private name the playground relies on; the message says which."""


def changed(library: str, name: str, version: str) -> PrivateApiChanged:
    return PrivateApiChanged(f"{library} {version} no longer has {name}; the playground was checked on Keras "
                             f"{CHECKED_ON['keras']} with TensorFlow {CHECKED_ON['tensorflow']}. Update "
                             "playground/training/keras_private.py.")


def check_private_apis() -> None:
    """PrivateApiChanged naming every private name that is gone, else nothing."""
    for module, path in PRIVATE_NAMES:
        if not _exists(module, path):
            library = module.split(".")[0]
            raise changed(library, f"{module}.{path}", _version(library))


def _exists(module: str, path: str) -> bool:
    try:
        value = importlib.import_module(module)
    except ImportError:
        return False
    for name in path.split("."):
        value = getattr(value, name, None)
        if value is None:
            return False
    return True


def _version(library: str) -> str:
    return importlib.import_module(library).__version__


def skip_single_replica_all_reduce(optimizer: keras.optimizers.Optimizer) -> None:
    """Leave out the optimizer's gradient all-reduce when there is only one replica.

    On TensorFlow, each trace of the training step sums the gradients over replicas with
    `ReplicaContext.all_reduce`, which registers a custom gradient in TensorFlow's global
    gradient registry and never removes it. That entry keeps the whole traced graph alive
    (benchmarks/allocator_pool.py measures it) for as long as the server runs. With one
    replica the sum is the gradients themselves.
    """
    if keras.backend.backend() != "tensorflow":
        return  # another backend: nothing to leave out
    import tensorflow as tf

    if not hasattr(optimizer, "_all_reduce_sum_gradients"):
        raise changed("Keras", "TFOptimizer._all_reduce_sum_gradients", keras.__version__)
    if tf.distribute.get_strategy().num_replicas_in_sync == 1:
        optimizer._all_reduce_sum_gradients = lambda grads_and_vars: list(grads_and_vars)


def clear_kernel_cache() -> None:
    """Drop TensorFlow's cache of the kernels of every function it has run: no public API does."""
    if keras.backend.backend() != "tensorflow":
        return
    from tensorflow.python.eager import context

    if not hasattr(context.context(), "clear_kernel_cache"):
        raise changed("TensorFlow", "context.clear_kernel_cache", _version("tensorflow"))
    context.context().clear_kernel_cache()


def producing_operation(tensor):
    """The layer (operation) that made a symbolic tensor: Keras 3's record of it."""
    history = getattr(tensor, "_keras_history", None)
    if history is None:
        raise changed("Keras", "KerasTensor._keras_history", keras.__version__)
    return history.operation
