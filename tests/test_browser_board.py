"""Real-browser test of a class's room: a teacher and two learners, each in a browser of their
own; both learners train, the board ranks them by itself, and the teacher opens one entry."""

from __future__ import annotations

import re

import pytest
from browser import choose_option, fill_number, open_page, streamlit_server
from conftest import ROOT

from playground.board.store import DATABASE_URL_VARIABLE

pytestmark = pytest.mark.browser
ARTIFACTS = ROOT / "test-artifacts"
TRAINING_TIMEOUT_MS = 180_000


def go_to(page, title: str) -> None:
    """Through the app's own navigation, as a learner clicks: the session (and its seat) stays."""
    page.get_by_test_id("stSidebarNav").get_by_text(title, exact=True).click()
    page.get_by_role("heading", name=title).first.wait_for()


def open_room(teacher) -> str:
    teacher.get_by_label("Room title").fill("Room 12")
    challenge = "Challenge (goals, as in a lesson; separated by ;)"
    teacher.get_by_role("textbox", name=challenge).fill("accuracy >= 0.5")
    teacher.get_by_role("button", name="Open the room").click()
    heading = teacher.get_by_role("heading", name=re.compile(r"Room 12 · room [A-Z0-9]{4}-[A-Z0-9]{4}"))
    heading.wait_for()
    return heading.inner_text().rsplit(" ", 1)[1]


def join_and_train(learner, code: str, nickname: str, preset: str | None) -> None:
    learner.get_by_label("Room code").fill(code.lower())
    learner.get_by_role("textbox", name="Nickname").fill(nickname)
    learner.get_by_role("button", name="Join").click()
    learner.get_by_text(f"You are {nickname}").wait_for()
    go_to(learner, "Build & Train")
    if preset:
        choose_option(learner, "Start from", preset)
        learner.get_by_text("2 layers · 7,850 parameters").wait_for()
    fill_number(learner, "Training images", 2000)
    fill_number(learner, "Epochs", 1)
    learner.wait_for_function("() => location.search.includes('n=2000')")
    learner.get_by_role("button", name="Train", exact=True).click()


def test_two_learners_post_the_board_ranks_them_and_the_teacher_opens_an_entry(browser, tmp_path):
    database = {DATABASE_URL_VARIABLE: f"sqlite:///{tmp_path / 'board.sqlite'}"}
    with streamlit_server(ROOT, database) as url:
        teacher = open_page(browser, f"{url}/board", timeout_ms=60_000)
        code = open_room(teacher)
        ada = open_page(browser, f"{url}/board?room={code}", timeout_ms=60_000)
        bob = open_page(browser, f"{url}/board", timeout_ms=60_000)
        join_and_train(ada, code, "Ada", None)
        join_and_train(bob, code, "Bob", "Blog: Dense-only baseline")
        for learner in (ada, bob):
            result = learner.get_by_test_id("stMetricLabel").filter(has_text="Test accuracy")
            result.wait_for(timeout=TRAINING_TIMEOUT_MS)
        board = teacher.get_by_test_id("stTable")
        board.get_by_text("Bob").wait_for(timeout=30_000)  # the board redraws by itself
        board.get_by_text("Ada").wait_for(timeout=30_000)
        rows = board.locator("tbody tr").all_inner_texts()
        assert len(rows) == 2 and "Ada" in rows[0] and "Bob" in rows[1], rows  # a CNN beats a dense layer
        ARTIFACTS.mkdir(exist_ok=True)
        teacher.screenshot(path=str(ARTIFACTS / "class_board_teacher.png"), full_page=True)
        go_to(bob, "Class board")
        bob.get_by_test_id("stTable").get_by_text("Ada").wait_for()
        assert bob.get_by_text("Your teacher link").count() == 0  # a learner sees no teacher controls

        teacher.get_by_label("A result, to open its network in your session or to hide it").click()
        teacher.get_by_role("option", name=re.compile(r"^2\. Bob · ")).click()
        teacher.get_by_role("button", name="Open its network on Build & Train").click()
        teacher.get_by_role("heading", name="Build & Train").first.wait_for()
        teacher.get_by_text("2 layers · 7,850 parameters").wait_for()  # Bob's network, in the teacher's
