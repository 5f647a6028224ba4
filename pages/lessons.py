"""Lessons: a path through the playground with goals the app checks by itself."""

from __future__ import annotations

import importlib

import streamlit as st

from pages.parts.lesson_progress import (
    PAGE_TITLES,
    UPLOADED_KEY,
    active_lesson,
    done_flags,
    follow,
    goal_lines,
    lessons_on_server,
    open_step_state,
    progress,
)
from pages.parts.page_list import PAGE_NAMES
from pages.parts.streamlit_private import route_through_app
from playground.lessons.format import MAX_LESSON_BYTES, LessonError
from playground.lessons.lesson import Lesson, Step
from playground.lessons.library import uploaded_lesson

INTRODUCTION = """A lesson is a short path of steps. Each step says what to notice and what to try, opens
the right page (often with a network ready to train), and many have a **goal the app checks by
itself**: a test accuracy, a size, a layer used or left out, or a question. A goal shows as met
the moment the training that meets it ends; the current step stays in the sidebar of every page."""
UPLOAD_HELP = ("A lesson is a Markdown file with a small front matter; lessons/README.md in the project "
               "describes the format, and `python scripts/check_lessons.py FILE` names every mistake.")


def uploaded_lessons() -> dict[str, Lesson]:
    return st.session_state.setdefault(UPLOADED_KEY, {})


def upload() -> None:
    """A teacher's or learner's own lesson file, for this session only; read once per file."""
    file = st.file_uploader("Your own lesson (.md)", type=["md", "markdown", "txt"], help=UPLOAD_HELP,
                            key="lesson_upload")
    if file is None or st.session_state.get("lesson_upload_done") == file.file_id:
        return
    st.session_state.lesson_upload_done = file.file_id
    if file.size > MAX_LESSON_BYTES:
        st.error(f"{file.name} is {file.size:,} bytes; a lesson may have at most {MAX_LESSON_BYTES:,}.")
        return
    try:
        lesson = uploaded_lesson(file.getvalue(), file.name, PAGE_NAMES)
    except LessonError as error:
        st.error(f"{error.source} has {len(error.problems)} mistake(s); fix them and upload it again:")
        st.text("\n".join(error.problems))  # as text: the file's own words, never rendered
        return
    uploaded_lessons()[lesson.key] = lesson
    follow(lesson)
    st.toast(f"Lesson “{lesson.title}” loaded, for this session.", icon=":material/upload_file:")


def choose_lesson(lessons: list[Lesson]) -> Lesson | None:
    if not lessons:
        st.info("This server has no lessons yet: upload one above.")
        return None
    active = active_lesson()
    keys = [lesson.key for lesson in lessons]
    index = keys.index(active.key) if active is not None and active.key in keys else 0
    by_key = {lesson.key: lesson for lesson in lessons}
    key = st.radio("Lesson", keys, index=index, key=f"lesson_choice_{'-'.join(keys)}",
                   format_func=lambda key: lesson_label(by_key[key]))
    return by_key[key]


def lesson_label(lesson: Lesson) -> str:
    flags = done_flags(lesson)
    minutes = f", about {lesson.minutes} min" if lesson.minutes else ""
    return f"{lesson.title} ({sum(flags)}/{len(flags)} done{minutes})"


def remember_answer(lesson: Lesson, index: int, key: str) -> None:
    """A callback, so the lesson's count of steps done (drawn above) is current in this run."""
    progress(lesson)["answers"][index] = st.session_state[key]


def remember_mark(lesson: Lesson, index: int, key: str) -> None:
    marked = progress(lesson)["marked"]
    if st.session_state[key]:
        marked.add(index)
    else:
        marked.discard(index)


def question(lesson: Lesson, index: int, step: Step) -> None:
    key = f"lesson_answer_{lesson.key}_{index}"
    answer = progress(lesson)["answers"].get(index)
    choices = step.question.choices
    st.radio(step.question.text, range(len(choices)), index=answer, key=key,
             format_func=lambda number: choices[number], on_change=remember_answer, args=(lesson, index, key))
    if answer is None:
        return
    if answer == step.question.answer:
        st.success("Right.", icon=":material/check_circle:")
    else:
        st.warning("Not quite: think again, or try it on the page.", icon=":material/help:")


def show_step(lesson: Lesson, index: int, step: Step, done: bool) -> None:
    mark = ":material/check_circle:" if done else ":material/radio_button_unchecked:"
    current = progress(lesson)["step"] == index
    with st.expander(f"{mark} Step {index + 1}. {step.title}", expanded=current):
        st.markdown(step.text)  # Markdown without HTML: st.markdown shows HTML as text
        what = "Open it with its network" if step.link else f"Go to {PAGE_TITLES[step.page]}"
        if step.start:
            what = f"Go to {PAGE_TITLES[step.page]}, start picked"
        if step.page != "lessons":
            st.button(what, icon=":material/arrow_forward:", key=f"lesson_open_{lesson.key}_{index}",
                      on_click=open_step_state, args=(lesson, index))
        for line in goal_lines(step):
            st.markdown(line)
        if step.question is not None:
            question(lesson, index, step)
        if not step.checked:
            key = f"lesson_mark_{lesson.key}_{index}"
            st.checkbox("Done", value=index in progress(lesson)["marked"], key=key, on_change=remember_mark,
                        args=(lesson, index, key))


# What Build & Train imports (Keras among them): imported while the learner reads, once per
# server, so a step's button opens its network at once (benchmarks/lessons.py).
BUILD_AND_TRAIN_MODULES = ("pages.parts.training_settings", "pages.parts.transfer", "pages.parts.model_files",
                           "pages.parts.training_live", "pages.parts.training_results",
                           "playground.jobs.starting", "playground.models.starting_points")


def get_ready_for_a_step() -> None:
    for name in BUILD_AND_TRAIN_MODULES:
        importlib.import_module(name)


def main() -> None:
    route_through_app()
    st.title("Lessons")
    st.markdown(INTRODUCTION)
    lessons, problems = lessons_on_server()
    for problem in problems:
        st.warning(problem, icon=":material/error:")
    with st.expander("Upload your own lesson", icon=":material/upload_file:"):
        upload()
    lesson = choose_lesson([*lessons, *uploaded_lessons().values()])
    if lesson is None:
        return
    follow(lesson)
    st.header(lesson.title)
    if lesson.summary:
        st.caption(lesson.summary)
    for index, (step, done) in enumerate(zip(lesson.steps, done_flags(lesson), strict=True)):
        show_step(lesson, index, step, done)
    get_ready_for_a_step()


main()
