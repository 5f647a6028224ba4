"""Tickets that let a reloaded tab take its training back.

A reload gives the browser a new Streamlit session with empty state, and the old session's
job would stop as an orphan. So each job gets a ticket, which the page keeps in its URL;
the reloaded page shows it, and takes the job over, with the settings it was started with,
if the job still exists and its old page has gone. A ticket is a long random string: it
gives nothing to someone who does not have the URL, and a page that is still open keeps its
job even from someone who does.

Imports no TensorFlow: the router consults tickets before any page loads.
"""

from __future__ import annotations

import secrets
import threading
import time
import weakref
from typing import Any, Protocol

TICKET_PARAMETER = "run"  # the URL query parameter that carries a page's ticket
TICKET_BYTES = 16
# A reload's new session can start before the server has seen the old tab's websocket close.
CLAIM_WAIT_SECONDS = 3.0
CLAIM_POLL_SECONDS = 0.1


class SessionToken:
    """Kept in one browser session's state: when Streamlit drops the session, it goes too."""


class OwnedJob(Protocol):
    def owner_connected(self) -> bool: ...


class Tickets:
    """Ticket → (job, keepsake), where the keepsake is whatever the page needs to show the
    job again (its layer stack and settings). Jobs are held weakly: a ticket lives no longer
    than its job, which lives as long as a session or its thread holds it."""

    def __init__(self):
        self._entries: dict[str, tuple[weakref.ref, Any]] = {}
        self._lock = threading.Lock()

    def issue(self, job: OwnedJob, keepsake: Any) -> str:
        ticket = secrets.token_urlsafe(TICKET_BYTES)
        with self._lock:
            self._forget_collected()
            self._entries[ticket] = (weakref.ref(job), keepsake)
        # The keepsake goes with its job, at once: it may hold a learner's own pictures.
        weakref.finalize(job, self._forget, ticket)
        return ticket

    def _forget(self, ticket: str) -> None:
        with self._lock:
            self._entries.pop(ticket, None)

    def claim(self, ticket: str, wait_seconds: float = CLAIM_WAIT_SECONDS) -> tuple[OwnedJob, Any] | None:
        """The ticket's job and keepsake once its page has gone; None if there is no such job,
        or if its page is still connected after `wait_seconds`."""
        deadline = time.monotonic() + wait_seconds
        while True:
            with self._lock:
                entry = self._entries.get(ticket)
            job = entry[0]() if entry else None
            if job is None:
                return None
            if not job.owner_connected():
                return job, entry[1]
            if time.monotonic() >= deadline:
                return None
            time.sleep(CLAIM_POLL_SECONDS)

    def __len__(self) -> int:
        with self._lock:
            self._forget_collected()
            return len(self._entries)

    def _forget_collected(self) -> None:
        for ticket in [ticket for ticket, (job, _) in self._entries.items() if job() is None]:
            del self._entries[ticket]


_tickets = Tickets()


def server_tickets() -> Tickets:
    """The server's one ticket office, shared by every session."""
    return _tickets
