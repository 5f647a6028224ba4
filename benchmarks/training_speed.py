"""Training speed: the playground's job against plain `model.fit`, and time to 99 %.

    PLAYGROUND_DATA_DIR=../shared/data python benchmarks/training_speed.py

1. Overhead (run last: it sets a global seed): the same model, data and batch size trained
   by a plain `model.fit` and by a `TrainingJob` (a training process, metric streaming),
   alternately, twice each. Prints images per second and the ratio job / plain (target ≥ 0.95).
2. Time to accuracy: the "Fast default" preset with the page's default settings on all
   of MNIST, through the job: in a new training process, and in one that Build & Train got
   ready ahead. Prints training seconds (evaluation excluded) and test accuracy (target
   ≥ 99.0 % in one epoch, within 8 s).
3. A class's queue: ten learners, Build & Train open (a training process got ready), press
   Train on the default at once; their jobs go through the server's queue (one slot), in
   this process, without Streamlit or browsers. Prints the
   time until the last result (what benchmarks/classroom.py measures with real browsers,
   which on this machine share the two cores with the server).
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import keras  # noqa: E402

from playground.data.loading import float_images, load_dataset  # noqa: E402
from playground.jobs.job import TrainingJob
from playground.jobs.process_link import get_ready_to_train  # noqa: E402
from playground.jobs.worker_pool import training_processes  # noqa: E402
from playground.models.building import build_model  # noqa: E402
from playground.spec.presets import FAST_DEFAULT_TRAINING, preset  # noqa: E402
from playground.spec.settings import TrainingSettings  # noqa: E402
from playground.training.compiling import compile_for_training  # noqa: E402

FAST_DEFAULT_SETTINGS = TrainingSettings(**FAST_DEFAULT_TRAINING)
OVERHEAD_SETTINGS = TrainingSettings(epochs=1, batch_size=128, validation_split=0.05, subset_size=40000)
REPEATS = 6
TARGET_SECONDS = 8
QUEUE_LEARNERS = 10
READING_SECONDS = 10  # a learner on Build & Train before pressing Train: the process imports and traces


def plain_fit_rate(data, settings: TrainingSettings) -> float:
    keras.utils.set_random_seed(0)
    model = build_model(preset("Fast default"))
    job_like = TrainingJob(build_model(preset("Fast default")), data, settings)  # same split
    compile_for_training(model, job_like.settings, job_like.batches_per_epoch)
    images, validation_images = float_images(job_like.train_pixels), float_images(job_like.validation_pixels)
    started = time.perf_counter()
    model.fit(images, job_like.y_train, batch_size=settings.batch_size, epochs=settings.epochs, verbose=0,
              validation_data=(validation_images, job_like.y_validation))
    return settings.epochs * len(job_like.train_pixels) / (time.perf_counter() - started)


def job_fit_rate(data, settings: TrainingSettings) -> float:
    keras.utils.set_random_seed(0)
    job = TrainingJob(build_model(preset("Fast default")), data, settings)
    job.start()
    job.join()
    snapshot = job.snapshot()
    if snapshot.state != "finished":
        raise RuntimeError(f"job ended {snapshot.state}: {snapshot.error}")
    return settings.epochs * len(job.train_pixels) / snapshot.training_seconds


def overhead(data) -> None:
    """Back-to-back pairs, in alternating order: this machine's speed drifts by ±15 % from
    minute to minute, so a ratio within a pair is far steadier than a ratio of averages."""
    plain, streamed = [], []
    for pair in range(REPEATS):
        if pair % 2:
            streamed.append(job_fit_rate(data, OVERHEAD_SETTINGS))
            plain.append(plain_fit_rate(data, OVERHEAD_SETTINGS))
        else:
            plain.append(plain_fit_rate(data, OVERHEAD_SETTINGS))
            streamed.append(job_fit_rate(data, OVERHEAD_SETTINGS))
    ratios = [job / fit for job, fit in zip(streamed, plain, strict=True)]
    ratio = statistics.median(ratios)
    print(f"Overhead, Fast default, {OVERHEAD_SETTINGS.subset_size:,} images, batch "
          f"{OVERHEAD_SETTINGS.batch_size}, {OVERHEAD_SETTINGS.epochs} epochs, {REPEATS} pairs:")
    print("  plain model.fit   " + "  ".join(f"{rate:7,.0f}" for rate in plain) + "  images/s")
    print("  TrainingJob       " + "  ".join(f"{rate:7,.0f}" for rate in streamed) + "  images/s")
    print("  ratio per pair    " + "  ".join(f"{value:7.3f}" for value in ratios))
    verdict = "met" if ratio >= 0.95 else "NOT met"
    print(f"  median ratio job / plain: {ratio:.3f}  target ≥ 0.95: {verdict}")


def time_to_accuracy(data) -> None:
    """As the app trains: no global seed, only the settings' seed. Twice, each in a new
    training process: one that has just imported TensorFlow, and one that Build & Train got
    ready while its learner read the page (get_ready_to_train: the step traced ahead)."""
    print(f"Time to accuracy, Fast default, {FAST_DEFAULT_SETTINGS}:")
    for ready in (False, True):
        training_processes().end_all_idle()
        if ready:
            get_ready_to_train(lambda: (build_model(preset("Fast default")), data, FAST_DEFAULT_SETTINGS))
            time.sleep(READING_SECONDS)
        job = TrainingJob(build_model(preset("Fast default")), data, FAST_DEFAULT_SETTINGS)
        job.start()
        job.join()
        snapshot = job.snapshot()
        accuracy, seconds = snapshot.evaluation.accuracy, snapshot.training_seconds
        met = accuracy >= 0.99 and seconds <= TARGET_SECONDS and FAST_DEFAULT_SETTINGS.epochs == 1
        process = (f"a process Build & Train got ready {READING_SECONDS} s before" if ready
                   else "a new process, its step traced in the training")
        print(f"  {process}: training {seconds:.1f} s (evaluation excluded), test accuracy {accuracy:.2%}; "
              f"target ≥ 99.0 % in one epoch, ≤ {TARGET_SECONDS} s: {'met' if met else 'NOT met'}")


def class_queue(data, learners: int = QUEUE_LEARNERS) -> None:
    """The learners have Build & Train open: a new training process got ready for the default."""
    training_processes().end_all_idle()
    get_ready_to_train(lambda: (build_model(preset("Fast default")), data, FAST_DEFAULT_SETTINGS))
    time.sleep(READING_SECONDS)
    started = time.perf_counter()
    jobs = [TrainingJob(build_model(preset("Fast default"), seed=FAST_DEFAULT_SETTINGS.seed), data,
                        FAST_DEFAULT_SETTINGS) for _ in range(learners)]
    for job in jobs:
        job.start()
    for job in jobs:
        job.join()
    last = time.perf_counter() - started
    seconds = [job.snapshot().training_seconds for job in jobs]
    accuracies = [job.snapshot().evaluation.accuracy for job in jobs]
    print(f"A class's queue, {learners} Fast default trainings, one slot:")
    print(f"  last result after {last:.0f} s (target ≤ 120 s: {'met' if last <= 120 else 'NOT met'}); "
          f"training {min(seconds):.1f}–{max(seconds):.1f} s each; "
          f"test accuracy {min(accuracies):.2%}–{max(accuracies):.2%}")


def main() -> None:
    data = load_dataset("mnist")
    which = sys.argv[1:] or ["accuracy", "queue", "overhead"]
    # The overhead pairs set Keras' global seed, which changes how the settings' seed shuffles:
    # run after them, the default tested at 98.98 % rather than the app's 99.06 %.
    if "accuracy" in which:
        time_to_accuracy(data)
    if "queue" in which:
        class_queue(data)
    if "overhead" in which:
        overhead(data)


if __name__ == "__main__":
    main()
