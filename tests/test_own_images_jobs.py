"""A learner's own pictures travel to the training process with the job and leave with it."""

from __future__ import annotations

import dataclasses

import pytest

from playground.data.own_samples import sample_set
from playground.jobs.job import TrainingJob
from playground.models.own_networks import own_model, start_settings


@pytest.mark.slow
def test_the_training_process_forgets_a_learners_pictures_once_trained(quick_pool):
    images = sample_set()
    settings = start_settings("scratch", epochs=1)
    job = TrainingJob(own_model("scratch", 3, settings), images.dataset(), settings, separate_process=True)
    job.start()
    assert job.join(180)
    assert job.snapshot().state == "finished", job.snapshot().error
    (process,) = quick_pool._idle
    assert process.datasets == [], "the process was told to drop the pictures"
    job.settings = dataclasses.replace(job.settings, epochs=2)  # Continue sends them again
    job.start()
    assert job.join(180)
    assert job.snapshot().state == "finished", job.snapshot().error
