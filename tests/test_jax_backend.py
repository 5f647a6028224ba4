"""The library on Keras' JAX backend, as on a lent GPU machine (KERAS_BACKEND=jax), on this
CPU: a subprocess, since a process picks its backend once, at its first Keras import."""

import os
import subprocess
import sys
import textwrap

import pytest
from conftest import ROOT, skip_unless_ci

TIMEOUT_SECONDS = 300
JAX_FOLDER = ROOT / ".jax"  # outside the venv: requirements-jax.txt says why

# A Fast default training in a training process, as Build & Train starts it. Its moments read
# the first layer's weights inside an epoch, where JAX's fit keeps them apart from the model.
TRAINING = textwrap.dedent("""
    import keras
    import numpy as np
    from conftest import squares_dataset
    from playground.models.building import Classifier, build_model
    from playground.spec.presets import preset
    from playground.spec.settings import TrainingSettings
    from playground.jobs.job import TrainingJob

    assert keras.backend.backend() == "jax", keras.backend.backend()
    data = squares_dataset(2000, 300)
    job = TrainingJob(build_model(preset("Fast default")), data,
                      TrainingSettings(epochs=2, batch_size=100, subset_size=2000, validation_split=0.0))
    job.start()
    assert job.join(240), "the training did not end"
    snapshot = job.snapshot()
    assert snapshot.state == "finished", (snapshot.state, snapshot.error)
    labels = [moment.label for moment in snapshot.moments]
    assert labels == ["start", "epoch 1, 10% done", "epoch 1, 25% done", "epoch 1, 50% done",
                      "end of epoch 1", "end of epoch 2"], labels
    assert not np.array_equal(snapshot.moments[1].weights[0], snapshot.moments[0].weights[0])
    np.testing.assert_array_equal(snapshot.moments[-1].weights[0], np.asarray(job.model.layers[1].kernel))
    probabilities = Classifier(job.model, "jax", data.class_names).probabilities(data.x_test[:5])
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)
    print(f"accuracy {snapshot.evaluation.accuracy:.3f}")
""")


@pytest.mark.slow
def test_a_training_with_its_moments_runs_on_the_jax_backend():
    if not (JAX_FOLDER / "jax").is_dir():
        skip_unless_ci("JAX is not in .jax/ (pip install --target .jax --no-deps -r requirements-jax.txt).")
    search_path = [str(ROOT), str(ROOT / "tests"), str(JAX_FOLDER), os.environ.get("PYTHONPATH")]
    environment = {**os.environ, "KERAS_BACKEND": "jax", "TF_CPP_MIN_LOG_LEVEL": "3",
                   "PYTHONPATH": os.pathsep.join(filter(None, search_path))}
    finished = subprocess.run([sys.executable, "-c", TRAINING], cwd=ROOT, env=environment,
                              capture_output=True, text=True, timeout=TIMEOUT_SECONDS)
    assert finished.returncode == 0, finished.stderr[-3000:]
    accuracy = float(finished.stdout.split("accuracy")[-1])
    assert accuracy > 0.9, finished.stdout
