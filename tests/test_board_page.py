"""The Class board page as AppTest runs it: a teacher opens a room, a learner joins and trains,
the result is posted by the server as the training ends, and the teacher's controls work."""

from __future__ import annotations

import time

import pytest
from conftest import open_app_page, save_in_keras_layout
from test_app import run_like_a_started_server  # noqa: F401 - an autouse fixture
from test_build_train_page import TRAINING_TIMEOUT, train_button

from playground.board.store import DATABASE_URL_VARIABLE

PAGE = "pages/board.py"


@pytest.fixture(scope="module")
def small_data_dir(tmp_path_factory, squares):
    folder = tmp_path_factory.mktemp("data")
    save_in_keras_layout(squares, folder / "mnist.npz")
    return folder


@pytest.fixture
def database(tmp_path, monkeypatch, small_data_dir):
    from pages.parts.common import dataset
    from pages.parts.room_membership import board_store
    from playground.data.loading import DATA_DIR_VARIABLE

    monkeypatch.setenv(DATABASE_URL_VARIABLE, f"sqlite:///{tmp_path / 'board.sqlite'}")
    monkeypatch.setenv(DATA_DIR_VARIABLE, str(small_data_dir))
    board_store.clear()
    dataset.clear()
    yield
    board_store.clear()
    dataset.clear()


def text_input(app, label):
    return next(item for item in app.text_input if item.label.startswith(label))


def open_a_room(challenge: str = "accuracy >= 0.5"):
    teacher = open_app_page(PAGE)
    text_input(teacher, "Room title").set_value("Room 12")
    text_input(teacher, "Challenge").set_value(challenge)
    next(button for button in teacher.button if button.label == "Open the room").click().run()
    assert not teacher.exception, teacher.exception
    return teacher


def join(code: str, nickname: str):
    learner = open_app_page(PAGE)
    text_input(learner, "Room code").set_value(code)
    text_input(learner, "Nickname").set_value(nickname)
    next(button for button in learner.button if button.label == "Join").click().run()
    assert not learner.exception, learner.exception
    return learner


def test_a_teacher_opens_a_room_and_gets_the_code_and_a_secret_link(database):
    teacher = open_a_room()
    keys = teacher.session_state["room_teacher"]
    assert teacher.header[0].value == f"Room 12 · room {keys.code[:4]}-{keys.code[4:]}"
    links = [code.value for code in teacher.code]
    assert any(link.endswith(f"?room={keys.code}") for link in links)
    assert any(link.endswith(f"?room={keys.code}&teacher={keys.teacher_key}") for link in links)
    assert teacher.query_params["teacher"] == keys.teacher_key
    assert "No results yet" in teacher.info[0].value


@pytest.mark.slow
def test_a_learners_training_posts_its_result_and_the_teacher_sees_it(database):
    teacher = open_a_room()
    code = teacher.session_state["room_teacher"].code
    learner = join(code.lower(), "<b>Ada</b>")
    assert learner.session_state["room_seat"].nickname == "<b>Ada</b>"
    assert learner.markdown[0].value.startswith("You are **\\<b\\>Ada\\</b\\>**.")  # shown as typed
    note = train_and_wait_for_the_post(learner)
    assert note["ok"], note
    learner.run()
    captions = [caption.value for caption in learner.sidebar.caption]
    assert any(caption.startswith("Room ") and "as \\<b\\>Ada\\</b\\>" in caption for caption in captions)
    assert any(caption.startswith("Posted to the board of room") for caption in captions), captions
    teacher.run()
    table = teacher.table[0].value
    assert list(table["nickname"]) == ["<b>Ada</b>"] and list(table["challenge"]) == ["met"]
    assert float(table["test accuracy"].iloc[0].rstrip("%")) >= 50


def train_and_wait_for_the_post(learner) -> dict:
    learner.switch_page("pages/build_train.py").run()
    for label, value in (("Training images", 2000), ("Epochs", 1), ("Batch size", 32)):
        next(item for item in learner.number_input if item.label == label).set_value(value).run()
    train_button(learner).click().run(timeout=TRAINING_TIMEOUT)
    job = learner.session_state["training_job"]
    deadline = time.monotonic() + TRAINING_TIMEOUT
    while job.snapshot().active and time.monotonic() < deadline:
        time.sleep(0.2)
    deadline = time.monotonic() + 10
    while not learner.session_state["room_last_post"] and time.monotonic() < deadline:
        time.sleep(0.1)  # posted on the training's thread as it ended
    return learner.session_state["room_last_post"]


@pytest.mark.slow
def test_a_database_that_fails_while_a_learner_trains_leaves_the_training_whole(database):
    from sqlalchemy import event

    from pages.parts.room_membership import board_store

    teacher = open_a_room()
    learner = join(teacher.session_state["room_teacher"].code, "Ada")
    engine = board_store().engine
    engine.dispose()  # new connections from here on refuse every write, as a full or broken disk does
    event.listen(engine, "connect", lambda connection, _: connection.execute("PRAGMA query_only=ON"))
    note = train_and_wait_for_the_post(learner)
    assert not note["ok"] and note["text"].startswith("The class board's database cannot be used now")
    assert learner.session_state["training_job"].snapshot().state == "finished"
    learner.run()
    assert not learner.exception
    assert any(metric.label == "Test accuracy" for metric in learner.metric)  # the results, as ever


def test_a_wrong_code_or_a_taken_nickname_is_refused_in_a_line(database):
    teacher = open_a_room()
    code = teacher.session_state["room_teacher"].code
    join(code, "Ada")
    again = join(code, "ada")
    assert "already called" in again.error[0].value
    wrong = join("ZZZZ-ZZZZ" if code != "ZZZZZZZZ" else "YYYY-YYYY", "Bob")
    assert "no room with this code" in wrong.error[0].value
    garbled = join("<script>", "Bob")
    assert "8 letters and digits" in garbled.error[0].value


def test_a_database_that_is_down_gives_a_line_and_the_page_keeps_working(database, monkeypatch):
    from pages.parts.room_membership import board_store

    monkeypatch.setenv(DATABASE_URL_VARIABLE, "postgresql+psycopg://nobody@127.0.0.1:9/none")
    board_store.clear()
    teacher = open_app_page(PAGE)
    next(button for button in teacher.button if button.label == "Open the room").click().run()
    assert not teacher.exception
    assert "cannot be used now" in teacher.error[0].value
    teacher.switch_page("pages/draw.py").run()
    assert not teacher.exception


def open_with_query(**query):
    from conftest import APP, APP_TIMEOUT
    from streamlit.testing.v1 import AppTest

    app = AppTest.from_file(APP, default_timeout=APP_TIMEOUT)
    for name, value in query.items():
        app.query_params[name] = value
    app.run()
    app.switch_page(PAGE).run()
    assert not app.exception, app.exception
    return app


def test_the_teacher_link_opens_the_room_in_a_fresh_session_and_a_forged_one_does_not(database):
    keys = open_a_room().session_state["room_teacher"]
    again = open_with_query(room=f"{keys.code[:4]}-{keys.code[4:]}", teacher=keys.teacher_key)
    assert again.session_state["room_teacher"] == keys
    assert any(button.label == "Clear the room" for button in again.button)
    forged = open_with_query(room=keys.code, teacher="made-up-key")
    assert "not this room's" in forged.error[0].value
    assert not any(button.label == "Clear the room" for button in forged.button)
