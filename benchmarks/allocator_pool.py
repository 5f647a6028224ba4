"""Where a class's memory stays: TensorFlow's CPU allocator pool against resident memory.

    PLAYGROUND_DATA_DIR=../shared/data python benchmarks/allocator_pool.py [--training-process]

With oneDNN on (TensorFlow's default on x86 Linux), every tensor of 4 KB or more comes from
one pool: a best-fit allocator over regions of 32, 64, 128, 256 MiB and so on. The pool
reuses freed memory but never hands a page back to the system, so resident memory keeps what
the pool's tensors once held at their most.

In one process, without Streamlit, this prints resident memory and the pool's bytes in use
and its peak (trainings on threads of this process, as servers trained before training
processes; with --training-process, in a training process, which ends after its last):
1. as a server goes through a class: once MNIST has loaded; after a first training (which
   makes the shared tensor of the training images); after a second training alone; after a
   third while another thread runs "Which pixels mattered?" and one-image predictions, as a
   watching learner does;
2. then a 191 MiB NumPy array made and freed, and a tensor of the same size made and freed
   twice: the array's memory goes back to the system, the tensor's stays, and the second
   tensor reuses it.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from playground.data.loading import float_images, load_dataset  # noqa: E402
from playground.explain.saliency import integrated_gradients  # noqa: E402
from playground.jobs.job import TrainingJob  # noqa: E402
from playground.jobs.worker_pool import training_processes  # noqa: E402
from playground.models.building import build_model  # noqa: E402
from playground.spec.presets import FAST_DEFAULT_TRAINING, preset  # noqa: E402
from playground.spec.settings import TrainingSettings  # noqa: E402

SEPARATE_PROCESS = "--training-process" in sys.argv[1:]

MIB = 2**20
DEMONSTRATION_FLOATS = 50_000_000  # 191 MiB of float32
WATCHER_PAUSE_SECONDS = 0.2


def resident_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS"):
            return int(line.split()[1]) / 1024
    return 0.0


def train(data) -> TrainingJob:
    job = TrainingJob(build_model(preset("Fast default")), data, TrainingSettings(**FAST_DEFAULT_TRAINING),
                      separate_process=SEPARATE_PROCESS)
    job.start()
    job.join()
    return job


def watch(model, image, stop: threading.Event) -> None:
    """A learner clicking on Inspect meanwhile: the attributions, then one prediction."""
    while not stop.is_set():
        integrated_gradients(model, image, class_index=7, from_logits=False)
        model(image[None], training=False)
        time.sleep(WATCHER_PAUSE_SECONDS)


def report(stage: str) -> None:
    pool = tf.config.experimental.get_memory_info("CPU:0")
    print(f"{stage:52} resident {resident_mib():6,.0f} MiB; pool in use {pool['current'] / MIB:6.1f} MiB, "
          f"peak {pool['peak'] / MIB:6.1f} MiB", flush=True)


def main() -> None:
    print("trainings " + ("in a training process" if SEPARATE_PROCESS else "on threads of this process"))
    data = load_dataset("mnist")
    report("1. MNIST loaded")
    model = train(data).model
    report("2. after a first training")
    train(data)
    report("3. after a second training")
    stop = threading.Event()
    watcher = threading.Thread(target=watch, args=(model, float_images(data.x_test[:1])[0], stop))
    watcher.start()
    train(data)
    stop.set()
    watcher.join()
    report("4. after a third, with a watcher clicking meanwhile")
    if SEPARATE_PROCESS:
        training_processes().end_all_idle()
        report("   ... and the training process ended")
    demonstrate_pool()


def demonstrate_pool() -> None:
    array = np.ones(DEMONSTRATION_FLOATS, np.float32)
    report("5. a NumPy array of 191 MiB held")
    del array
    report("6. ... freed")
    for attempt in ("7. a tensor of 191 MiB held", "8. a second tensor of 191 MiB held"):
        tensor = tf.ones((DEMONSTRATION_FLOATS,), tf.float32)
        report(attempt)
        del tensor
        report("   ... freed")


if __name__ == "__main__":
    main()
