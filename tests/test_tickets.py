"""Tickets: a reloaded tab takes back its own job, and nobody else's."""

from __future__ import annotations

import gc
import threading
import time

from playground.jobs.tickets import Tickets


class FakeJob:
    def __init__(self, connected: bool):
        self.connected = connected

    def owner_connected(self) -> bool:
        return self.connected


def test_a_job_whose_page_has_gone_is_claimed_with_its_keepsake():
    tickets, job = Tickets(), FakeJob(connected=False)
    ticket = tickets.issue(job, {"epochs": 50})
    claimed_job, keepsake = tickets.claim(ticket, wait_seconds=0)
    assert claimed_job is job and keepsake == {"epochs": 50}


def test_a_job_whose_page_is_still_open_is_not_claimed():
    tickets, job = Tickets(), FakeJob(connected=True)
    ticket = tickets.issue(job, {})
    started = time.monotonic()
    assert tickets.claim(ticket, wait_seconds=0.3) is None
    assert time.monotonic() - started >= 0.3, "it waits a little for the old page to go"


def test_a_claim_waits_for_the_old_page_to_disconnect():
    tickets, job = Tickets(), FakeJob(connected=True)
    ticket = tickets.issue(job, {})
    threading.Timer(0.3, lambda: setattr(job, "connected", False)).start()
    claimed = tickets.claim(ticket, wait_seconds=3)
    assert claimed is not None and claimed[0] is job


def test_unknown_and_forged_tickets_claim_nothing():
    tickets = Tickets()
    ticket = tickets.issue(FakeJob(connected=False), {})
    for forged in ("", "x", ticket[:-1], ticket + "A", "<script>alert(1)</script>"):
        assert tickets.claim(forged, wait_seconds=0) is None


def test_tickets_are_long_random_and_distinct():
    tickets, job = Tickets(), FakeJob(connected=False)
    issued = {tickets.issue(job, {}) for _ in range(1000)}
    assert len(issued) == 1000
    assert min(len(ticket) for ticket in issued) >= 20


def test_a_ticket_lives_no_longer_than_its_job():
    tickets, job = Tickets(), FakeJob(connected=False)
    ticket = tickets.issue(job, {"big": bytearray(10)})
    assert len(tickets) == 1
    del job
    gc.collect()
    assert tickets.claim(ticket, wait_seconds=0) is None
    assert len(tickets) == 0


def test_a_keepsake_goes_as_soon_as_its_job_does():
    """No later issue() needed: a keepsake may hold a learner's own pictures."""
    import weakref

    class Pictures:
        pass

    tickets, job, pictures = Tickets(), FakeJob(connected=False), Pictures()
    tickets.issue(job, {"own_image_set": pictures})
    kept = weakref.ref(pictures)
    del job, pictures
    gc.collect()
    assert kept() is None
