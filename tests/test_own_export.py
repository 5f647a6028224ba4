"""Your images' exported script: run on the downloaded zip's folders, it trains as the page
did and reaches the page's accuracy on the same held-out pictures."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import sys
import zipfile

import pytest

from playground.data.own_samples import sample_set
from playground.jobs.job import TrainingJob
from playground.models.building import CIFAR10_BASE_PATH
from playground.models.own_networks import own_model, start_settings
from playground.spec.presets import preset
from playground.training.own_export import BASE_FILE, own_images_script

EPOCHS = 20  # enough to learn the sample set, short enough for a test


def residual_stack(num_classes: int) -> list[dict]:
    """The slides' residual example, ending with one unit per class: a learner's own stack."""
    stack = preset("Slides: residual example (CIFAR-10)")
    stack[-1]["units"] = num_classes
    return stack


def app_and_script(start: str, folder) -> tuple:
    images = sample_set()
    settings = start_settings(start, epochs=EPOCHS)
    stack = residual_stack(len(images.class_names)) if start == "stack" else None
    job = TrainingJob(own_model(start, len(images.class_names), settings, stack=stack),
                      images.dataset(settings.seed), settings, separate_process=False)
    job.start()
    assert job.join(300)
    evaluation = job.snapshot().evaluation
    zipfile.ZipFile(io.BytesIO(images.zip_bytes(settings.seed))).extractall(folder)
    script = own_images_script(start, settings, images.class_names, stack)
    (folder / "train_your_images.py").write_text(script)
    if start == "cifar10":
        shutil.copy(CIFAR10_BASE_PATH, folder / BASE_FILE)
    run = subprocess.run([sys.executable, str(folder / "train_your_images.py")], capture_output=True,
                         text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    accuracy, loss = map(float, re.search(r"held-out accuracy (\S+), loss (\S+)", run.stdout).groups())
    return evaluation, accuracy, loss


@pytest.mark.slow
@pytest.mark.parametrize("start", ["scratch", "stack", "cifar10"])
def test_the_exported_script_matches_the_page_on_the_sample_set(start, tmp_path):
    evaluation, accuracy, loss = app_and_script(start, tmp_path)
    assert evaluation.accuracy > 0.6, "the comparison means something only if the network learned"
    assert abs(accuracy - evaluation.accuracy) <= 0.02, (accuracy, evaluation.accuracy)
    # Same pictures, order, seeds and steps. In a process that has trained other networks first
    # (the whole suite), the two trainings drift apart a little (6 and 11 % in the loss in a CI
    # run, the accuracy the same): the loss still tells a different training apart.
    assert loss == pytest.approx(evaluation.loss, rel=0.25), (loss, evaluation.loss)


def test_a_start_the_script_cannot_rebuild_says_so():
    source = own_images_script("mobilenet_v2", start_settings("mobilenet_v2"), ("a", "b"))
    assert "does not rebuild" in source
