"""The class board's rooms, on SQLite and on PostgreSQL: opening, joining, posting, ranking,
the teacher's controls, and every way a room refuses (forged posts, guessed or expired
codes, hostile nicknames, limits, a database that is down)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from conftest import postgres_url
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import event, update

from playground.board import rooms
from playground.board.rooms import (
    RoomRefused,
    Seat,
    board,
    check_challenge,
    clean_nickname,
    clear_room,
    close_room,
    hide_entry,
    join_room,
    normalised_code,
    open_room,
    post_result,
    room_version,
)
from playground.board.store import BoardUnavailable, Room, Store
from playground.lessons.goals import TrainingOutcome
from playground.lessons.lesson import GOAL_KINDS

CHALLENGE = "parameters <= 20000; accuracy >= 0.97"


def outcome(accuracy=0.98, parameters=10_000, dataset="mnist") -> TrainingOutcome:
    return TrainingOutcome(dataset, accuracy, parameters, 200_000, 5.0, frozenset({"Conv2D", "Dense"}),
                           {"net": "c-f8~p~f~d-u10-asoftmax", "data": dataset})


def postgres_store() -> Store:
    return Store(postgres_url())


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path):
    made = Store(f"sqlite:///{tmp_path / 'board.sqlite'}") if request.param == "sqlite" else postgres_store()
    yield made
    made.dispose()


def test_a_room_ranks_its_learners_results_by_the_challenge(store):
    keys = open_room(store, "Room 12", "mnist", CHALLENGE)
    ada, bob, cy = (join_room(store, keys.code, name) for name in ("Ada", "Bob", "Cy"))
    assert post_result(store, ada, outcome(0.975)) is True
    assert post_result(store, bob, outcome(0.991)) is True
    assert post_result(store, cy, outcome(0.995, parameters=90_000)) is False  # over the size limit
    view = board(store, keys.code)
    assert [(entry.nickname, entry.goal_met) for entry in view.entries] == [
        ("Bob", True), ("Ada", True), ("Cy", False)]
    assert view.learners == 3 and view.title == "Room 12" and view.dataset == "mnist"
    assert view.entries[0].link == "net=c-f8~p~f~d-u10-asoftmax&data=mnist"


def test_the_version_moves_with_every_change_so_a_board_knows_when_to_redraw(store):
    keys = open_room(store, "", "mnist", "")
    versions = [room_version(store, keys.code)]
    seat = join_room(store, keys.code, "Ada")
    versions.append(room_version(store, keys.code))
    post_result(store, seat, outcome())
    versions.append(room_version(store, keys.code))
    assert versions == sorted(set(versions)) and len(versions) == 3
    assert room_version(store, "ZZZZZZZZ") is None


def test_the_teacher_hides_an_entry_closes_and_clears_the_room(store):
    keys = open_room(store, "Room", "mnist", CHALLENGE)
    seat = join_room(store, keys.code, "Ada")
    post_result(store, seat, outcome())
    [entry] = board(store, keys.code).entries
    hide_entry(store, keys.code, keys.teacher_key, entry.id)
    assert board(store, keys.code).entries == ()  # learners no longer see it
    assert board(store, keys.code, keys.teacher_key).entries[0].hidden  # the teacher does, marked
    close_room(store, keys.code, keys.teacher_key)
    with pytest.raises(RoomRefused, match="closed"):
        join_room(store, keys.code, "Bob")
    with pytest.raises(RoomRefused, match="closed"):
        post_result(store, seat, outcome())
    clear_room(store, keys.code, keys.teacher_key)
    view = board(store, keys.code, keys.teacher_key)
    assert view.entries == () and view.learners == 0 and view.closed


def test_forged_posts_are_refused(store):
    keys = open_room(store, "Room", "mnist", CHALLENGE)
    other = open_room(store, "Other", "mnist", CHALLENGE)
    seat = join_room(store, keys.code, "Ada")
    with pytest.raises(RoomRefused, match="not in this room"):
        post_result(store, Seat(keys.code, "Ada", "made-up-key"), outcome())
    with pytest.raises(RoomRefused, match="not in this room"):
        post_result(store, Seat(other.code, "Ada", seat.key), outcome())  # a real seat, another room
    with pytest.raises(RoomRefused, match="challenge is on MNIST"):
        post_result(store, seat, outcome(dataset="cifar10"))
    assert board(store, keys.code).entries == () and board(store, other.code).entries == ()


def test_a_teacher_key_is_needed_for_the_teachers_controls(store):
    keys = open_room(store, "Room", "mnist", "")
    other = open_room(store, "Other", "mnist", "")
    actions = (lambda key: close_room(store, keys.code, key), lambda key: clear_room(store, keys.code, key),
               lambda key: hide_entry(store, keys.code, key, 1), lambda key: board(store, keys.code, key))
    for action in actions:
        for key in ("", "guess", other.teacher_key):
            with pytest.raises(RoomRefused):
                action(key or "x")
    with store.session() as session:
        assert keys.teacher_key not in session.get(Room, keys.code).teacher_key_hash  # only its hash is kept


def test_guessed_and_expired_codes_are_refused(store):
    keys = open_room(store, "Room", "mnist", "")
    with pytest.raises(RoomRefused, match="no room with this code"):
        join_room(store, "ABCD-EFGH" if keys.code != "ABCDEFGH" else "ABCD-EFGJ", "Ada")
    with pytest.raises(RoomRefused, match="8 letters and digits"):
        join_room(store, "' OR 1=1 --", "Ada")
    assert normalised_code(f" {keys.code[:4].lower()} - {keys.code[4:]} ") == keys.code
    with store.session() as session:
        ended = rooms.now() - timedelta(seconds=1)
        session.execute(update(Room).where(Room.code == keys.code).values(expires=ended))
    with pytest.raises(RoomRefused, match="has ended"):
        join_room(store, keys.code, "Ada")
    open_room(store, "Next", "mnist", "")  # opening a room sweeps ended ones away
    assert room_version(store, keys.code) is None


def test_nicknames_are_bounded_plain_text_and_unique_in_a_room(store):
    keys = open_room(store, "Room", "mnist", "")
    seat = join_room(store, keys.code, "  <b>Ada</b>\u0000\n  ")
    assert seat.nickname == "<b>Ada</b>"  # kept as text; the board shows it as text
    with pytest.raises(RoomRefused, match="already called"):
        join_room(store, keys.code, "<B>ADA</B>")
    with pytest.raises(RoomRefused, match="at most 24"):
        join_room(store, keys.code, "x" * 25)
    with pytest.raises(RoomRefused, match="Choose a nickname"):
        join_room(store, keys.code, " \t ")


def test_limits_per_room_and_per_server(store, monkeypatch):
    monkeypatch.setattr(rooms, "MAX_LEARNERS_PER_ROOM", 2)
    monkeypatch.setattr(rooms, "MAX_ENTRIES_PER_LEARNER", 2)
    keys = open_room(store, "Room", "mnist", "")
    seat = join_room(store, keys.code, "Ada")
    join_room(store, keys.code, "Bob")
    with pytest.raises(RoomRefused, match="full"):
        join_room(store, keys.code, "Cy")
    post_result(store, seat, outcome())
    post_result(store, seat, outcome())
    with pytest.raises(RoomRefused, match="as many results"):
        post_result(store, seat, outcome())
    monkeypatch.setattr(rooms, "MAX_OPEN_ROOMS", 1)
    with pytest.raises(RoomRefused, match="limit"):
        open_room(store, "One too many", "mnist", "")


def test_a_challenge_is_read_as_a_lessons_goals_are(store):
    with pytest.raises(RoomRefused, match="'vibes' is not a goal"):
        open_room(store, "Room", "mnist", "vibes >= 3")
    with pytest.raises(RoomRefused, match="no data set"):
        open_room(store, "Room", "imagenet", "")
    keys = open_room(store, "Room", "mnist", "uses Dropout")
    seat = join_room(store, keys.code, "Ada")
    assert post_result(store, seat, outcome()) is False  # no Dropout in it


def test_a_database_that_is_down_says_so_in_a_line(tmp_path):
    down = Store("postgresql+psycopg://nobody@127.0.0.1:9/none")  # nothing listens on port 9
    with pytest.raises(BoardUnavailable, match="cannot be used now") as caught:
        open_room(down, "Room", "mnist", "")
    assert "\n" not in str(caught.value)
    not_a_folder = tmp_path / "notes.txt"
    not_a_folder.write_text("a file where the database's folder should be")
    with pytest.raises(BoardUnavailable):
        open_room(Store(f"sqlite:///{not_a_folder / 'board.sqlite'}"), "Room", "mnist", "")


def test_a_database_that_is_full_says_so_and_keeps_what_it_had(tmp_path, monkeypatch):
    monkeypatch.setattr(rooms, "MAX_ENTRIES_PER_LEARNER", 10_000)
    store = Store(f"sqlite:///{tmp_path / 'board.sqlite'}")
    small = "PRAGMA max_page_count=12"  # SQLite's own limit: the file is full at 12 pages
    event.listen(store.engine, "connect", lambda connection, _: connection.execute(small))
    keys = open_room(store, "Room", "mnist", "")
    seat = join_room(store, keys.code, "Ada")
    with pytest.raises(BoardUnavailable, match="full") as caught:
        for _ in range(10_000):
            post_result(store, seat, outcome())
    assert "\n" not in str(caught.value)
    assert len(board(store, keys.code).entries) > 0  # what was posted before stays readable


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=80))
def test_any_challenge_reads_as_goals_or_is_refused_in_a_line(typed):
    try:
        goals = check_challenge("mnist", typed)
    except RoomRefused as error:
        assert "\n" not in str(error)
    else:
        assert all(goal.kind in GOAL_KINDS for goal in goals)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40))
def test_any_typed_nickname_is_cleaned_or_refused_in_a_line(typed):
    try:
        nickname = clean_nickname(typed)
    except RoomRefused as error:
        assert "\n" not in str(error)
    else:
        assert 1 <= len(nickname) <= 24 and nickname == nickname.strip()
        assert not any(character in nickname for character in "\n\r\t\x00")


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=20))
def test_any_typed_code_is_normalised_or_refused_in_a_line(typed):
    try:
        code = normalised_code(typed)
    except RoomRefused as error:
        assert "\n" not in str(error)
    else:
        assert len(code) == 8 and set(code) <= set(rooms.CODE_ALPHABET)
