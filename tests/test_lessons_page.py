"""The Lessons page as AppTest runs it: choosing a lesson, a step opening its network on Build &
Train, a question, an uploaded lesson (good and broken), and a goal met when training ends."""

from __future__ import annotations

import pytest
from conftest import open_app_page, save_in_keras_layout
from test_app import run_like_a_started_server  # noqa: F401 - an autouse fixture
from test_build_train_page import TRAINING_TIMEOUT, train_button

from pages.parts.lesson_progress import OUTCOMES_KEY, lessons_on_server
from playground.spec.links import open_link

PAGE = "pages/lessons.py"
QUICK_LINK = "net=c-f8~p~f~d-u10-asoftmax&data=mnist&ep=1&bs=32&n=2000&val=0"
QUICK_LESSON = f"""---
title: A quick one
---

## Train a small network
page: build_train
open: {QUICK_LINK}
goal: accuracy >= 0.5
goal: uses MaxPooling2D

Press **Train**.

## Why
page: draw
question: What is 1 + 1?
choice: 3
choice: 2
answer: 2
"""


@pytest.fixture(scope="module")
def small_data_dir(tmp_path_factory, squares):
    folder = tmp_path_factory.mktemp("data")
    save_in_keras_layout(squares, folder / "mnist.npz")
    return folder


@pytest.fixture
def page(small_data_dir, monkeypatch):
    from pages.parts.common import dataset
    from playground.data.loading import DATA_DIR_VARIABLE

    monkeypatch.setenv(DATA_DIR_VARIABLE, str(small_data_dir))
    dataset.clear()
    yield open_app_page(PAGE)
    dataset.clear()


def lesson_radio(app):
    return next(item for item in app.radio if item.label == "Lesson")


def test_the_page_lists_every_shipped_lesson_and_shows_the_chosen_ones_steps(page):
    options = lesson_radio(page).options
    assert len(options) >= 6
    assert options[0].startswith("Your first CNN (0/5 done")
    lesson_radio(page).set_value(lesson_radio(page).options[1]).run()
    assert not page.exception
    assert page.header[0].value == "Why pooling"
    titles = [expander.label for expander in page.expander if "Step" in expander.label]
    assert [title.split("Step ", 1)[1] for title in titles] == [
        "1. The seed network, with pooling", "2. Take pooling out", "3. Why so many more?",
        "4. Challenge: small and good"]


def test_a_steps_button_opens_its_network_on_build_and_train(page):
    lesson_radio(page).set_value(lesson_radio(page).options[1]).run()  # Why pooling
    page.button(key="lesson_open_02-why-pooling_1").click().run()
    assert not page.exception, page.exception
    assert page.session_state["builder_layers"] is not None
    stack, _, training = open_link({"net": "c-f24-k5~b~c~b~f~d~d-u10-asoftmax", "data": "mnist", "ep": "1"})
    assert [layer["spec"] for layer in page.session_state["builder_layers"]] == stack
    assert page.title[0].value == "Build & Train"
    panel = " ".join(markdown.value for markdown in page.sidebar.markdown)
    assert "Step 2. Take pooling out" in panel
    assert "a network without MaxPooling2D on MNIST" in panel


def test_a_question_is_done_by_the_right_answer(page):
    # The first lesson: its step 2 is a question whose second choice is right.
    question = next(item for item in page.radio if item.label.startswith("A 3 × 3 convolution filter"))
    question.set_value(0).run()
    assert "Not quite" in page.warning[0].value
    question = next(item for item in page.radio if item.label.startswith("A 3 × 3 convolution filter"))
    question.set_value(1).run()
    assert page.success[0].value == "Right."
    assert lesson_radio(page).options[0].startswith("Your first CNN (1/5 done")


def test_a_broken_upload_lists_its_mistakes_by_line_and_the_page_keeps_working(page):
    broken = QUICK_LESSON.replace("page: draw", "page: attic")
    broken = broken.replace("goal: uses MaxPooling2D", "goal: vibes")
    page.file_uploader(key="lesson_upload").upload("mine.md", broken.encode()).run()
    assert not page.exception, page.exception
    assert page.error[0].value == "mine.md has 2 mistake(s); fix them and upload it again:"
    shown = page.text[0].value.split("\n")
    assert shown[0].startswith("line 9: 'vibes' is not a goal")
    assert shown[1].startswith("line 14: there is no page 'attic'")
    assert len(lesson_radio(page).options) == len(lessons_on_server()[0])  # nothing added
    page.file_uploader(key="lesson_upload").upload("<b>mine</b>.md", QUICK_LESSON.encode()).run()
    assert not page.exception and not page.error
    assert page.header[0].value == "A quick one"
    assert lesson_radio(page).options[-1].startswith("A quick one (0/2 done")


@pytest.mark.slow
def test_a_goal_shows_as_met_once_the_training_that_meets_it_ends(page):
    page.file_uploader(key="lesson_upload").upload("quick.md", QUICK_LESSON.encode()).run()
    assert page.header[0].value == "A quick one"
    page.button(key="lesson_open_uploaded-quick_0").click().run()
    assert page.title[0].value == "Build & Train"
    page.switch_page("pages/build_train.py").run()  # AppTest's own idea of the page follows st.switch_page
    panel = " ".join(markdown.value for markdown in page.sidebar.markdown)
    assert ":material/radio_button_unchecked: test accuracy of at least 50.0% on MNIST" in panel
    train_button(page).click().run(timeout=TRAINING_TIMEOUT)
    assert not page.exception, page.exception
    assert not page.error, [error.value for error in page.error]
    assert page.session_state["training_job"].snapshot().state == "finished"
    [outcome] = page.session_state[OUTCOMES_KEY]
    assert outcome.dataset == "mnist" and outcome.accuracy >= 0.5 and "MaxPooling2D" in outcome.layer_types
    panel = " ".join(markdown.value for markdown in page.sidebar.markdown)
    assert ":material/check_circle: test accuracy of at least 50.0% on MNIST" in panel
    assert ":material/check_circle: **Step 1. Train a small network**" in panel
