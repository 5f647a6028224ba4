"""CNN Playground: `streamlit run app.py`.

A small router. Each page is a script in pages/; the home page imports no TensorFlow, so
the app opens fast and pays for TensorFlow only when a page needs it.
"""

import os
from pathlib import Path

import streamlit as st

from pages.parts import page_list
from pages.parts.lesson_progress import record_finished_training, sidebar_panel, switch_if_asked
from pages.parts.reload import keep_ticket_in_url, note_page_view, take_back_training
from pages.parts.room_membership import keep_seat_in_url, room_caption, take_back_seat
from pages.parts.streamlit_private import check_private_apis_once, keep_keras_between_reruns
from playground.jobs.process_memory import SessionMemory

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TensorFlow's start-up chatter out of logs

# A local icon: a Material icon here would be fetched from a font server, which fails offline.
ICON = Path(__file__).parent / "assets" / "icon.png"
st.set_page_config(page_title="CNN Playground", page_icon=str(ICON), layout="wide")
check_private_apis_once()  # an upgrade that moved one fails here, loudly, not in a page later
keep_keras_between_reruns()

PAGES = [st.Page(page.path, title=page.title, icon=page.icon, default=index == 0)
         for index, page in enumerate(page_list.PAGES)]

st.session_state.setdefault("session_memory", SessionMemory())  # hands memory back once the session goes
take_back_training()  # before any page draws: a reloaded tab gets its training back
take_back_seat()  # and its seat in a class's room
keep_ticket_in_url()
keep_seat_in_url()
page = st.navigation(PAGES)
switch_if_asked()  # a lesson step's button, pressed on another page: go to the step's page
note_page_view(page.url_path)
room_box = st.sidebar.empty()  # a learner's room, and how the last post went
lesson_box = st.sidebar.empty()  # the lesson's current step, beside every page but Lessons
show_lesson, show_room = page.url_path != "lessons", page.url_path != "board"
if show_room:
    room_caption(room_box)
if show_lesson:
    sidebar_panel(lesson_box)
page.run()
if show_room:
    room_caption(room_box)  # again: a post made while the page ran shows
if record_finished_training() and show_lesson:
    sidebar_panel(lesson_box, again=True)  # a training this run saw end may have met a goal
