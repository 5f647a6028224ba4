"""A session in a class's room: its seat (a learner) or its keys (the teacher), kept across a
reload through the URL, and the result each of its trainings posts when it ends.

Results are posted by the server, on the training's own thread as it ends, from what the
training measured; whatever page the learner is on. The browser never sends one."""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from playground.board.rooms import RoomKeys, RoomRefused, Seat, find_seat, post_result, shown_code
from playground.board.store import BoardUnavailable, Store
from playground.lessons.goals import outcome_of
from playground.views.text import literal

SEAT_KEY, TEACHER_KEY = "room_seat", "room_teacher"
POSTED_KEY = "room_last_post"  # {"text": …, "ok": bool}, written by the training's thread
SEAT_PARAMETER = "seat"  # code.key in the URL, where a reloaded tab finds its seat
ROOM_PARAMETER, TEACHER_PARAMETER = "room", "teacher"  # the board's links


@st.cache_resource(show_spinner=False)
def board_store() -> Store:
    """The server's board database (an engine with its own connection pool: safe to share)."""
    return Store()


def seat() -> Seat | None:
    return st.session_state.get(SEAT_KEY)


def teacher_keys() -> RoomKeys | None:
    return st.session_state.get(TEACHER_KEY)


def keep_seat_in_url() -> None:
    held = seat()
    if held is not None and st.query_params.get(SEAT_PARAMETER) != f"{held.code}.{held.key}":
        st.query_params[SEAT_PARAMETER] = f"{held.code}.{held.key}"


def take_back_seat() -> None:
    """In a new session whose URL holds a seat: sit in it again, once."""
    text = st.query_params.get(SEAT_PARAMETER)
    if not text or seat() is not None or st.session_state.get("seat_tried") == text:
        return
    st.session_state.seat_tried = text
    code, _, key = text.partition(".")
    try:
        found = find_seat(board_store(), code, key)
    except (RoomRefused, BoardUnavailable):
        found = None
    if found is None:
        del st.query_params[SEAT_PARAMETER]
        return
    st.session_state[SEAT_KEY] = found


def poster(dataset: str, stack: list[dict] | None, input_shape: tuple, num_classes: int,
           link: dict | None) -> Callable | None:
    """What a training started now calls as it ends, when this session sits in a room: it
    posts the result and notes how that went (a dict, not st.*: it runs on the job's thread)."""
    held = seat()
    if held is None:
        return None
    store, note = board_store(), st.session_state.setdefault(POSTED_KEY, {})

    def post(job) -> None:
        snapshot = job.snapshot()
        outcome = outcome_of(job.model, snapshot, dataset, stack, input_shape, num_classes, link)
        if outcome is None:
            return
        try:
            met = post_result(store, held, outcome)
        except (RoomRefused, BoardUnavailable) as error:
            note.update(text=str(error), ok=False)
            return
        note.update(text=f"Posted to the board of room {shown_code(held.code)}: {outcome.accuracy:.2%}"
                         f"{', the challenge met' if met else ''}.", ok=True)

    return post


def last_post_note() -> None:
    note = st.session_state.get(POSTED_KEY)
    if note and note.get("text"):
        (st.caption if note["ok"] else st.warning)(note["text"])


def room_caption(box) -> None:
    """In the sidebar of every page, for a learner in a room: where results go, and the last post."""
    held = seat()
    if held is None:
        return
    with box.container():
        st.caption(f"Room {shown_code(held.code)}, as {literal(held.nickname)}: each training you finish is "
                   "posted to the class board.")
        last_post_note()
