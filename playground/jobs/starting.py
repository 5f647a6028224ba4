"""A session's training, started: the job made, owned by a token that the session keeps (the
job stops once the session goes), given a ticket for a reloaded tab, and put in line."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import keras

from playground.data.loading import Dataset
from playground.jobs.job import TrainingJob
from playground.jobs.tickets import SessionToken, server_tickets
from playground.spec.settings import TrainingSettings


@dataclass(frozen=True)
class StartedJob:
    job: TrainingJob
    owner: SessionToken  # the session keeps it: when Streamlit drops the session, the job stops
    ticket: str  # for the page's URL: a reloaded tab takes the job back with it


def start_owned_job(model: keras.Model, data: Dataset, settings: TrainingSettings,
                    owner_connected: Callable[[], bool], keepsake: Any,
                    when_done: Callable[[TrainingJob], None] | None = None) -> StartedJob:
    """Start training `model`; `keepsake` is what a reloaded tab needs to show the job again;
    `when_done` is called as each of its runs ends (TrainingJob.when_done). ValueError if the
    settings cannot work on `data`, or the server's slot setting is bad."""
    job = TrainingJob(model, data, settings)
    if when_done is not None:
        job.when_done.append(when_done)
    owner = SessionToken()
    job.belong_to(owner, owner_connected)
    ticket = server_tickets().issue(job, keepsake)
    job.start()
    return StartedJob(job, owner, ticket)
