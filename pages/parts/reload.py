"""A reloaded tab takes its training back (see playground.jobs.tickets), and each page visit is
noted, so a page that opens on a running training knows it (pages/parts/training_live.py).

The router calls `take_back_training`, `keep_ticket_in_url` and `note_page_view` on every
run, on every page, so the ticket survives page switches and a reload on any page finds it.
None of them imports TensorFlow.
"""

import time
from dataclasses import dataclass

import streamlit as st

from pages.parts.streamlit_private import session_connected_check
from playground.jobs.tickets import TICKET_PARAMETER, SessionToken, server_tickets
from playground.spec.own_images import OWN_DATASET

VIEW_KEY = "page_view"


@dataclass
class PageView:
    """One visit to one page, from arriving (a load, a reload, a page switch) until leaving.
    A page that opens on a training already under way draws gently at first (build_train)."""

    page: str
    since: float
    training_at_arrival: bool | None = None  # set by the page's first run

    def seconds(self) -> float:
        return time.monotonic() - self.since


def note_page_view(page: str) -> None:
    """The router's call, each run: a run on another page than the last begins a new view."""
    view = st.session_state.get(VIEW_KEY)
    if view is None or view.page != page:
        st.session_state[VIEW_KEY] = PageView(page, time.monotonic())


def page_view() -> PageView:
    """This run's view (a page run outside the router, as in AppTest's, gets a fresh one)."""
    return st.session_state.setdefault(VIEW_KEY, PageView("", time.monotonic()))


def keep_ticket_in_url() -> None:
    """Put this session's training ticket in the page's URL, where a reload finds it."""
    ticket = st.session_state.get("training_ticket")
    if ticket and st.query_params.get(TICKET_PARAMETER) != ticket:
        st.query_params[TICKET_PARAMETER] = ticket


def take_back_training() -> None:
    """In a new session whose URL holds a ticket: take over that ticket's job, once its old
    page has gone, with the layer stack and settings it was started from."""
    ticket = st.query_params.get(TICKET_PARAMETER)
    if not ticket or "training_job" in st.session_state or st.session_state.get("ticket_tried") == ticket:
        return
    st.session_state.ticket_tried = ticket  # claim once: a failed claim waits a few seconds
    claimed = server_tickets().claim(ticket)
    if claimed is None:
        del st.query_params[TICKET_PARAMETER]  # an old or foreign link: nothing to take back
        return
    job, keepsake = claimed
    owner = SessionToken()
    job.belong_to(owner, session_connected_check())
    st.session_state.update(keepsake)
    st.session_state.update(training_job=job, training_job_owner=owner, training_ticket=ticket)
    where = "Your images" if keepsake.get("training_dataset") == OWN_DATASET else "Build & Train"
    st.toast(f"Welcome back: your training is here, on {where}.", icon=":material/restore:")
