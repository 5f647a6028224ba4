"""The cheap ones of benchmarks/faults.py: a training process that hangs or dies, with a
learner waiting in line. The learner gets a one-line message and can train again, the next
in line trains, and no process is left behind."""

from __future__ import annotations

import os
import signal
import time

import pytest

from playground.jobs import process_link
from playground.jobs.job import TrainingJob
from playground.jobs.line import TrainingQueue
from playground.jobs.process_link import PROCESS_GONE, PROCESS_HUNG
from playground.models.building import build_model
from playground.spec.presets import preset
from playground.spec.settings import TrainingSettings

pytestmark = pytest.mark.slow
WAIT_SECONDS = 120
LONG = TrainingSettings(epochs=50, batch_size=16, subset_size=6000)
SHORT = TrainingSettings(epochs=1, batch_size=100, subset_size=1000)


def started(data, settings=LONG, queue=None) -> TrainingJob:
    job = TrainingJob(build_model(preset("Fast default")), data, settings, separate_process=True)
    job.start(queue)
    return job


def training(job: TrainingJob) -> int:
    """The pid of the process training `job`, once it has trained a few batches."""
    deadline = time.monotonic() + WAIT_SECONDS
    while job.batches_done < 3 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert job.batches_done >= 3, job.snapshot()
    return job.process_link.process.process.pid


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().rsplit(")", 1)[1].split()[0] == "Z"  # ended, its exit status not yet read


def test_a_process_that_hangs_and_ignores_stop_is_ended_and_its_learner_told(squares, quick_pool,
                                                                            monkeypatch):
    monkeypatch.setattr(process_link, "STOP_ANSWER_SECONDS", 2.0)
    job = started(squares)
    pid = training(job)
    os.kill(pid, signal.SIGSTOP)  # alive, holding its slot, answering nothing
    job.request_stop()
    assert job.join(15), "the job's thread gave up on the process"
    assert (job.snapshot().state, job.snapshot().error) == ("failed", PROCESS_HUNG)
    assert gone(pid)
    assert started(squares, SHORT).join(WAIT_SECONDS), "a new training gets a new process"


def test_a_process_that_falls_silent_is_ended_and_the_next_in_line_trains(squares, quick_pool, monkeypatch):
    monkeypatch.setattr(process_link, "SILENT_SECONDS", 2.0)
    queue = TrainingQueue(1)
    first = started(squares, queue=queue)
    pid = training(first)
    second = started(squares, SHORT, queue)
    assert queue.place(second) == 1
    os.kill(pid, signal.SIGSTOP)
    assert first.join(15)
    assert (first.snapshot().state, first.snapshot().error) == ("failed", PROCESS_HUNG)
    assert second.join(WAIT_SECONDS) and second.snapshot().state == "finished", second.snapshot()
    assert gone(pid)


def test_a_process_killed_while_others_wait_fails_its_job_and_the_line_goes_on(squares, quick_pool):
    queue = TrainingQueue(1)
    first = started(squares, queue=queue)
    pid = training(first)
    second, third = started(squares, SHORT, queue), started(squares, SHORT, queue)
    assert (queue.place(second), queue.place(third)) == (1, 2)
    os.kill(pid, signal.SIGKILL)  # as the kernel's out-of-memory killer would
    assert first.join(15)
    assert (first.snapshot().state, first.snapshot().error) == ("failed", PROCESS_GONE)
    assert second.join(WAIT_SECONDS) and third.join(WAIT_SECONDS)
    assert [job.snapshot().state for job in (second, third)] == ["finished", "finished"]
    again = started(squares, SHORT, queue)  # and the learner whose training died presses Train again
    assert again.join(WAIT_SECONDS) and again.snapshot().state == "finished"


def test_a_process_whose_training_failed_is_not_lent_again(squares, quick_pool):
    import numpy as np

    job = TrainingJob(build_model(preset("Fast default")), squares, SHORT, separate_process=True)
    job.process_link.optimizer_state = [np.zeros(1)]  # another network's: the process refuses it
    job.start()
    assert job.join(WAIT_SECONDS) and job.snapshot().state == "failed"
    assert "the model changed between two starts" in job.snapshot().error
    assert len(quick_pool) == 0, "the failed process was ended, not kept idle"
