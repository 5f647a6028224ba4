"""A session's way through a lesson: the lesson it follows, its answers and marks, and the
trainings it finished (which the goals are checked against); opening a step's page and state;
the panel that shows the current step in the sidebar of every page."""

from __future__ import annotations

import streamlit as st

from pages.parts.builder import SHARED_STACK, load_stack
from pages.parts.page_list import PAGE_NAMES, PAGES
from playground.lessons.goals import (
    TrainingOutcome,
    goal_met,
    meeting_training,
    outcome_of,
    steps_done,
    training_goals,
)
from playground.lessons.lesson import Lesson, Step
from playground.lessons.library import shipped_lessons
from playground.spec.datasets import DATASETS
from playground.spec.links import open_link
from playground.spec.own_images import MODEL_SHAPE, OWN_DATASET, OWN_TITLE

OUTCOMES_KEY = "lesson_outcomes"  # the session's finished trainings, newest last
ACTIVE_KEY = "lesson_active"  # the Lesson the session follows
PROGRESS_KEY = "lesson_progress"  # per lesson key: {"step": i, "answers": {i: choice}, "marked": {i}}
UPLOADED_KEY = "lessons_uploaded"  # lessons this session uploaded, by key
RECORDED_KEY = "lesson_recorded_evaluation"  # the last training result kept, so it is kept once
MAX_OUTCOMES = 100
PAGE_PATHS = {name: page.path for name, page in zip(PAGE_NAMES, PAGES, strict=True)}
PAGE_TITLES = {name: page.title for name, page in zip(PAGE_NAMES, PAGES, strict=True)}


@st.cache_resource(show_spinner=False)
def lessons_on_server() -> tuple[list[Lesson], list[str]]:
    """The deployment's lessons (read-only, shared), and a line for each file that is broken."""
    return shipped_lessons(PAGE_NAMES)


def record_outcome(outcome: TrainingOutcome | None) -> None:
    """Keep a finished training's outcome, once: every goal is checked against these."""
    if outcome is None:
        return
    outcomes = st.session_state.setdefault(OUTCOMES_KEY, [])
    outcomes.append(outcome)
    del outcomes[:-MAX_OUTCOMES]


def trained_stack_and_shape(num_classes: int) -> tuple[list[dict] | None, tuple]:
    """The layers this session's training built from scratch (None on a trained base), and
    the shape of its images, from what the page that started it kept."""
    state = st.session_state
    if state.get("training_dataset") == OWN_DATASET:
        from playground.models.own_networks import FROM_SCRATCH, scratch_stack  # Keras: loaded already

        start = state.get("own_trained_start", "scratch")
        if start not in FROM_SCRATCH:
            return None, MODEL_SHAPE
        return scratch_stack(start, num_classes, state.get("own_trained_stack")), MODEL_SHAPE
    from_scratch = state.get("training_base", "scratch") == "scratch"
    shape = DATASETS[state["training_dataset"]].image_shape
    return (state.get("training_stack") if from_scratch else None), shape


def record_finished_training() -> bool:
    """Once this session's training has ended with a result, keep its outcome (whatever page is
    open): the goals of the lesson in the sidebar see it in the same run."""
    job = st.session_state.get("training_job")
    if job is None or "training_dataset" not in st.session_state:
        return False
    snapshot = job.snapshot()
    if snapshot.active or snapshot.evaluation is None:
        return False
    if st.session_state.get(RECORDED_KEY) is snapshot.evaluation:
        return False
    st.session_state[RECORDED_KEY] = snapshot.evaluation
    num_classes = len(job.data.class_names)
    stack, shape = trained_stack_and_shape(num_classes)
    record_outcome(outcome_of(job.model, snapshot, st.session_state["training_dataset"], stack, shape,
                              num_classes))
    return True


def outcomes() -> list[TrainingOutcome]:
    return st.session_state.get(OUTCOMES_KEY, [])


def progress(lesson: Lesson) -> dict:
    return st.session_state.setdefault(PROGRESS_KEY, {}).setdefault(
        lesson.key, {"step": 0, "answers": {}, "marked": set()})


def active_lesson() -> Lesson | None:
    return st.session_state.get(ACTIVE_KEY)


def follow(lesson: Lesson) -> None:
    st.session_state[ACTIVE_KEY] = lesson


def done_flags(lesson: Lesson) -> list[bool]:
    state = progress(lesson)
    return steps_done(lesson, outcomes(), state["answers"], state["marked"])


def dataset_title(name: str) -> str:
    return DATASETS[name].title if name in DATASETS else OWN_TITLE


def goal_lines(step: Step) -> list[str]:
    """Each of the step's training goals, said with whether a training has met it."""
    goals = training_goals(step)
    if not goals:
        return []
    on = f" on {dataset_title(step.dataset)}" if step.dataset else ""
    found = meeting_training(step, outcomes())
    lines = []
    for goal in goals:
        met = found is not None or any(goal_met(goal, outcome) for outcome in outcomes()
                                       if not step.dataset or outcome.dataset == step.dataset)
        lines.append(f"{':material/check_circle:' if met else ':material/radio_button_unchecked:'} "
                     f"{goal.describe()}{on}")
    if len(goals) > 1 and found is None:
        lines.append("All of them in one training.")
    return lines


def open_step_state(lesson: Lesson, index: int) -> None:
    """A button's callback: make `index` the current step and load its network or start (the one
    moment widgets' values may be set). The page switch follows in the script."""
    follow(lesson)
    progress(lesson)["step"] = index
    step = lesson.steps[index]
    if step.link:
        open_network(step.link)
    if step.start:
        st.session_state.own_start = step.start
        st.session_state.pop("own_epochs", None)  # the start's own epochs, as choosing it would give
    st.session_state.lesson_switch_to = step.page


def open_network(params: dict[str, str]) -> None:
    """In a callback: the network and training of a share-link query (checked already) become
    Build & Train's, built from scratch."""
    from pages.parts.training_settings import apply_preset_setup  # Keras: not before a page needs it

    stack, dataset, training = open_link(params)
    load_stack(stack)
    st.session_state.builder_preset = SHARED_STACK
    apply_preset_setup({"dataset": dataset, "training": training})
    st.session_state.transfer_base = "scratch"


def switch_if_asked() -> None:
    """After a step's button: go to its page."""
    page = st.session_state.pop("lesson_switch_to", None)
    if page:
        st.switch_page(PAGE_PATHS[page])


def sidebar_panel(box, again: bool = False) -> None:
    """The current step of the lesson this session follows, in `box` (a sidebar st.empty);
    `again`: drawn a second time in this run, over the first (its buttons need other keys)."""
    lesson = active_lesson()
    if lesson is None:
        return
    state, flags = progress(lesson), done_flags(lesson)
    index = min(state["step"], len(lesson.steps) - 1)
    step = lesson.steps[index]
    with box.container(border=True):
        st.caption(f"Lesson: **{lesson.title}** · {sum(flags)} of {len(flags)} steps done")
        mark = ":material/check_circle:" if flags[index] else ":material/radio_button_unchecked:"
        st.markdown(f"{mark} **Step {index + 1}. {step.title}**")
        for line in goal_lines(step):
            st.markdown(line)
        if step.text:
            with st.expander("What to do"):
                st.markdown(step.text)
        if step.question is not None:
            st.caption("A question waits on the Lessons page." if not flags[index] else "Question answered.")
        back, forward = st.columns(2)
        suffix = "_again" if again else ""
        back.button("Back", icon=":material/arrow_back:", key=f"lesson_panel_back{suffix}",
                    disabled=index == 0, on_click=open_step_state, args=(lesson, index - 1), width="stretch")
        forward.button("Next", icon=":material/arrow_forward:", key=f"lesson_panel_next{suffix}",
                       disabled=index == len(lesson.steps) - 1, on_click=open_step_state,
                       args=(lesson, index + 1), width="stretch")
        st.page_link("pages/lessons.py", label="The whole lesson", icon=":material/route:")
