"""Class board: a teacher opens a room, learners join with a nickname, and each training they
finish posts its result; the board ranks the room by the challenge and updates by itself."""

from __future__ import annotations

from urllib.parse import parse_qsl

import pandas
import streamlit as st

from pages.parts.lesson_progress import lessons_on_server, open_network
from pages.parts.room_membership import (
    ROOM_PARAMETER,
    SEAT_KEY,
    SEAT_PARAMETER,
    TEACHER_KEY,
    TEACHER_PARAMETER,
    board_store,
    last_post_note,
    seat,
    teacher_keys,
)
from pages.parts.streamlit_private import route_through_app
from playground.board.rooms import (
    ROOM_HOURS,
    BoardView,
    RoomKeys,
    RoomRefused,
    board,
    clear_room,
    close_room,
    hide_entry,
    join_room,
    normalised_code,
    open_room,
    room_version,
    shown_code,
)
from playground.board.store import BoardUnavailable
from playground.spec.datasets import DATASETS
from playground.views.board_figures import board_figure
from playground.views.text import literal

POLL_SECONDS = 1.0  # how often an open board asks the database whether anything changed
FAILURES = (RoomRefused, BoardUnavailable)
INTRODUCTION = ("A teacher opens a room and sets a challenge; learners join with a nickname (no account, "
                "no e-mail). Each training a learner finishes, on Build & Train or Your images, posts its "
                "result here, and the board ranks the room. Learners see one another's nicknames and "
                "results, nothing more.")


def open_room_form() -> None:
    st.subheader("Open a room (teachers)")
    lessons, _ = lessons_on_server()
    steps = {f"{lesson.title} · step {number}: {step.title}": step for lesson in lessons
             for number, step in enumerate(lesson.steps, start=1) if step.dataset in DATASETS and step.goals}
    picked = st.selectbox("Take the challenge from a lesson's step", ["(none: write it below)", *steps],
                          key="room_from_step")
    step = steps.get(picked)
    with st.form("open_room"):
        title = st.text_input("Room title", "Our class", max_chars=80)
        names = list(DATASETS)
        dataset = st.selectbox("Data set", names, names.index(step.dataset) if step else 0,
                               format_func=lambda name: DATASETS[name].title)
        goals = "; ".join(goal_text(goal) for goal in step.goals if goal.kind != "question") if step else ""
        challenge = st.text_input("Challenge (goals, as in a lesson; separated by ;)", goals,
                                  placeholder="parameters <= 20000; accuracy >= 0.97",
                                  help="Ranked by test accuracy; results meeting every goal first.")
        if not st.form_submit_button("Open the room", icon=":material/meeting_room:"):
            return
    try:
        keys = open_room(board_store(), title, dataset, challenge)
    except FAILURES as error:
        st.error(str(error))
        return
    st.session_state[TEACHER_KEY] = keys
    st.query_params.update({ROOM_PARAMETER: keys.code, TEACHER_PARAMETER: keys.teacher_key})
    st.rerun()


def goal_text(goal) -> str:
    from playground.lessons.lesson import MEASURES

    if goal.kind in MEASURES:
        return f"{goal.kind} {MEASURES[goal.kind][0]} {goal.target:g}"
    return f"{goal.kind} {goal.target}"


def join_form() -> None:
    st.subheader("Join a room")
    with st.form("join_room"):
        code = st.text_input("Room code", st.query_params.get(ROOM_PARAMETER, ""), placeholder="ABCD-2345",
                             max_chars=12)
        nickname = st.text_input("Nickname", max_chars=40, help="Shown on the board, as you type it.")
        if not st.form_submit_button("Join", icon=":material/login:"):
            return
    try:
        st.session_state[SEAT_KEY] = join_room(board_store(), code, nickname)
    except FAILURES as error:
        st.error(str(error))
        return
    st.rerun()


def show_board(view: BoardView, teacher: bool) -> None:
    st.markdown(f"**Challenge** on {DATASETS[view.dataset].title}: "
                f"{', '.join(goal.describe() for goal in view.goals) or 'the best test accuracy'}.")
    st.caption(f"{view.learners} learners joined · {len(view.entries)} results · the room ends "
               f"{view.expires:%H:%M} UTC{' · closed: nobody joins or posts' if view.closed else ''}")
    if not view.entries:
        st.info("No results yet: they appear here as trainings end.")
        return
    rows = [{"rank": rank, "nickname": entry.nickname, "test accuracy": f"{entry.accuracy:.2%}",
             "parameters": f"{entry.parameters:,}",
             "multiply-adds": "" if entry.multiply_adds is None else f"{entry.multiply_adds:,}",
             "seconds": f"{entry.training_seconds:.1f}", "challenge": "met" if entry.goal_met else "not met",
             **({"hidden": "hidden" if entry.hidden else ""} if teacher else {})}
            for rank, entry in enumerate(view.entries, start=1)]
    st.table(pandas.DataFrame(rows))  # plain text cells: nicknames are shown as typed
    st.plotly_chart(board_figure(view.entries), key="board_chart", config={"displayModeBar": False})
    if teacher:
        entry_controls(view)


def entry_controls(view: BoardView) -> None:
    by_id = {entry.id: (rank, entry) for rank, entry in enumerate(view.entries, start=1)}
    chosen = st.selectbox("A result, to open its network in your session or to hide it", list(by_id),
                          format_func=lambda id_: f"{by_id[id_][0]}. {by_id[id_][1].nickname} · "
                                                  f"{by_id[id_][1].accuracy:.2%}", key="board_entry")
    entry, keys = by_id[chosen][1], teacher_keys()
    open_column, hide_column = st.columns(2)
    if entry.link:
        if open_column.button("Open its network on Build & Train", icon=":material/open_in_new:",
                              on_click=open_network, args=(dict(parse_qsl(entry.link)),)):
            st.switch_page("pages/build_train.py")
    else:
        open_column.caption("This result's network was a head on a trained base: it has no link.")
    if hide_column.button("Show it again" if entry.hidden else "Hide it", icon=":material/visibility_off:"):
        act(lambda: hide_entry(board_store(), keys.code, keys.teacher_key, entry.id, not entry.hidden))


def act(action) -> None:
    try:
        action()
    except FAILURES as error:
        st.error(str(error))
        return
    st.rerun()


def teacher_controls(view: BoardView, keys: RoomKeys) -> None:
    with st.expander("Your room", icon=":material/settings:", expanded=not view.entries):
        base = st.context.url.split("?", 1)[0] if st.context.url else ""
        st.markdown(f"Learners join on this page with the code **{shown_code(keys.code)}**, or with this "
                    "link:")
        st.code(f"{base}?{ROOM_PARAMETER}={keys.code}", language=None)
        st.markdown("**Your teacher link** (keep it to yourself: it controls the room):")
        st.code(f"{base}?{ROOM_PARAMETER}={keys.code}&{TEACHER_PARAMETER}={keys.teacher_key}", language=None)
        close_column, clear_column = st.columns(2)
        closing = "Reopen the room" if view.closed else "Close the room"
        if close_column.button(closing, icon=":material/lock:"):
            act(lambda: close_room(board_store(), keys.code, keys.teacher_key, not view.closed))
        sure = clear_column.checkbox("Yes, remove every result and learner")
        if clear_column.button("Clear the room", icon=":material/delete:", disabled=not sure):
            act(lambda: clear_room(board_store(), keys.code, keys.teacher_key))


@st.fragment(run_every=POLL_SECONDS)
def follow_changes(code: str, version: int) -> None:
    """Every POLL_SECONDS, one small query: the page redraws only when the room has changed."""
    try:
        current = room_version(board_store(), code)
    except BoardUnavailable:
        return
    if current != version:
        st.rerun()


def leave() -> None:
    st.session_state.pop(SEAT_KEY, None)
    st.session_state.pop(TEACHER_KEY, None)
    for name in (SEAT_PARAMETER, ROOM_PARAMETER, TEACHER_PARAMETER):
        st.query_params.pop(name, None)


def teacher_from_link() -> None:
    """A teacher link opened in a fresh session: the room's keys, if they are right."""
    code, key = st.query_params.get(ROOM_PARAMETER), st.query_params.get(TEACHER_PARAMETER)
    if code and key and teacher_keys() is None:
        try:
            board(board_store(), code, key)
        except FAILURES as error:
            st.error(str(error))
            return
        st.session_state[TEACHER_KEY] = RoomKeys(normalised_code(code), key)


def main() -> None:
    route_through_app()
    st.title("Class board")
    teacher_from_link()
    keys, held = teacher_keys(), seat()
    if keys is None and held is None:
        st.markdown(INTRODUCTION)
        join_column, open_column = st.columns(2)
        with join_column:
            join_form()
        with open_column:
            open_room_form()
        st.caption(f"Rooms last {ROOM_HOURS} hours.")
        return
    if keys is not None and st.query_params.get(TEACHER_PARAMETER) != keys.teacher_key:
        st.query_params.update({ROOM_PARAMETER: keys.code, TEACHER_PARAMETER: keys.teacher_key})  # a reload
    code = keys.code if keys else held.code
    try:
        view = board(board_store(), code, keys.teacher_key if keys else None)
    except FAILURES as error:
        st.error(str(error))
        st.button("Leave the room", on_click=leave)
        return
    st.header(f"{view.title} · room {shown_code(view.code)}")
    if held is not None:
        st.markdown(f"You are **{literal(held.nickname)}**. Each training you finish posts its result here.")
        last_post_note()
    if keys is not None:
        teacher_controls(view, keys)
    show_board(view, teacher=keys is not None)
    follow_changes(view.code, view.version)
    st.button("Leave the room", icon=":material/logout:", on_click=leave)


main()
