"""The server's training queue: first come, first served, places, estimates, and leaving."""

import threading
import time

import pytest

from playground.jobs import line as training_queue_module
from playground.jobs.line import TrainingQueue


class FakeJob:
    """Stands in for a TrainingJob: only what the queue asks of one."""

    def __init__(self, name, images=1000):
        self.name, self.images, self.leave, self.connected = name, images, threading.Event(), True

    def should_leave_queue(self):
        return self.leave.is_set()

    def owner_connected(self):
        return self.connected

    def seconds_of_work_left(self, images_per_second):
        return self.images / images_per_second


def line_up(queue, jobs, order):
    """Each job asks for a slot on its own thread, in this order, each after the one before."""
    for job in jobs:
        wait_in_thread(queue, job, order)
        wait_until(lambda job=job: job.name in order or queue.place(job) is not None)


def wait_in_thread(queue, job, order):
    def run():
        if queue.wait_for_turn(job):
            order.append(job.name)
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def wait_until(condition, seconds=5.0):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


def test_jobs_start_in_the_order_they_came_and_know_their_place():
    queue, order = TrainingQueue(slots=1), []
    jobs = [FakeJob(name) for name in "abcd"]
    line_up(queue, jobs, order)
    assert order == ["a"]
    assert [queue.place(job) for job in jobs[1:]] == [1, 2, 3]
    for expected in "bcd":
        queue.done(jobs["abcd".index(order[-1])])
        wait_until(lambda expected=expected: order[-1] == expected)
    assert order == list("abcd")


def test_a_stopped_job_leaves_the_line_at_once():
    queue, order = TrainingQueue(slots=1), []
    running, waiting, behind = FakeJob("running"), FakeJob("waiting"), FakeJob("behind")
    line_up(queue, (running, waiting, behind), order)
    waiting.leave.set()
    started = time.monotonic()
    queue.wake()
    wait_until(lambda: queue.place(waiting) is None)
    assert time.monotonic() - started < 0.3
    assert queue.place(behind) == 1


def test_a_job_whose_page_is_gone_is_passed_over():
    queue, order = TrainingQueue(slots=1), []
    running, orphan, learner = FakeJob("running"), FakeJob("orphan"), FakeJob("learner")
    line_up(queue, (running, orphan, learner), order)
    orphan.connected = False
    queue.done(running)
    wait_until(lambda: "learner" in order)
    assert "orphan" not in order


def test_the_wait_estimate_adds_up_the_work_ahead():
    queue, order = TrainingQueue(slots=1), []
    jobs = [FakeJob("a", 3000), FakeJob("b", 6000), FakeJob("c", 1000)]
    line_up(queue, jobs, order)
    assert queue.seconds_to_wait(jobs[2]) is None, "no speed measured yet"
    queue.images_per_second = 1000.0
    assert queue.seconds_to_wait(jobs[1]) == pytest.approx(3.0)
    assert queue.seconds_to_wait(jobs[2]) == pytest.approx(9.0)
    assert queue.seconds_to_wait(jobs[0]) is None, "a running job does not wait"


def test_two_slots_run_two_jobs():
    queue, order = TrainingQueue(slots=2), []
    for name in "abc":
        wait_in_thread(queue, FakeJob(name), order)
    wait_until(lambda: len(order) == 2)
    time.sleep(0.2)
    assert order == ["a", "b"]


@pytest.mark.parametrize("value", ["0", "-1", "two", "1.5", ""])
def test_a_bad_slot_setting_is_a_message_not_an_import_error(monkeypatch, value):
    monkeypatch.setenv(training_queue_module.MAX_TRAININGS_VARIABLE, value)
    expected = f"PLAYGROUND_MAX_TRAININGS must be a whole number of at least 1, not '{value}'"
    with pytest.raises(ValueError, match=expected):
        training_queue_module.max_concurrent_trainings()


def test_the_slot_setting_is_read(monkeypatch):
    monkeypatch.setenv(training_queue_module.MAX_TRAININGS_VARIABLE, "3")
    assert training_queue_module.max_concurrent_trainings() == 3
