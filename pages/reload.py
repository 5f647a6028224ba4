"""A reloaded tab takes its training back (see playground.tickets).

The router calls both functions on every run, on every page, so the ticket survives page
switches and a reload on any page finds it. Neither imports TensorFlow.
"""

import streamlit as st

from pages.common import session_connected_check
from playground.tickets import TICKET_PARAMETER, SessionToken, server_tickets


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
    st.toast("Welcome back: your training is here, on Build & Train.", icon=":material/restore:")
