"""A class's room and its board: a teacher opens a room, learners join with a nickname, and
each training a learner finishes posts its result, which the board ranks by the challenge.

Rules that keep a room safe for a class:
- room codes (CODE_LENGTH letters and digits) and teacher keys are drawn by `secrets`, and
  only a hash of each key is stored; a room ends ROOM_HOURS after it opened;
- a result is posted by the server, from a training that ran in the learner's session, with
  the seat the learner got when joining; the browser never sends a result;
- nicknames are bounded, plain text, and unique in a room; a board shows nicknames and
  results only;
- stated limits per room (learners, entries) and per server (open rooms).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from sqlalchemy import delete, func, select, update

from playground.board.store import CODE_LENGTH, NICKNAME_CHARACTERS, Entry, Learner, Room, Store
from playground.lessons.format import LessonError, read_goals
from playground.lessons.goals import TrainingOutcome, goal_met
from playground.lessons.lesson import Goal
from playground.spec.datasets import DATASETS
from playground.spec.refusals import Refused

ROOM_HOURS = 12
MAX_OPEN_ROOMS = 200
MAX_LEARNERS_PER_ROOM = 60
MAX_ENTRIES_PER_ROOM = 2_000
MAX_ENTRIES_PER_LEARNER = 100
MAX_TITLE_CHARACTERS = 80
MAX_CHALLENGE_CHARACTERS = 300
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: read aloud and typed by a class
TEACHER_KEY_BYTES = 24
SEAT_KEY_BYTES = 18
_SPACES = re.compile(r"\s+")


class RoomRefused(Refused):
    """Something about a room, a code or a nickname that cannot work; the message says what to do."""


@dataclass(frozen=True)
class RoomKeys:
    code: str
    teacher_key: str  # shown once, in the teacher's own link


@dataclass(frozen=True)
class Seat:
    """What a learner's session holds after joining: it posts with this."""

    code: str
    nickname: str
    key: str


@dataclass(frozen=True)
class BoardEntry:
    id: int
    nickname: str
    link: str
    accuracy: float
    parameters: int
    multiply_adds: int | None
    training_seconds: float
    goal_met: bool
    hidden: bool
    posted: datetime


@dataclass(frozen=True)
class BoardView:
    code: str
    title: str
    dataset: str
    challenge: str
    goals: tuple[Goal, ...]
    closed: bool
    expires: datetime
    version: int
    learners: int
    entries: tuple[BoardEntry, ...]  # ranked, best first


def now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)  # naive UTC, as the database keeps it


def shown_code(code: str) -> str:
    """ABCDEFGH as ABCD-EFGH, easier to read aloud and copy off a board."""
    return f"{code[:4]}-{code[4:]}"


def normalised_code(text: str) -> str:
    """A code as typed (any case, with a dash or spaces) as it is kept; RoomRefused if it cannot be one."""
    code = re.sub(r"[\s-]", "", str(text)).upper()
    if len(code) != CODE_LENGTH or any(letter not in CODE_ALPHABET for letter in code):
        raise RoomRefused(f"A room code is {CODE_LENGTH} letters and digits, like {shown_code('ABCD2345')}: "
                          "check it on your teacher's screen.")
    return code


def clean_nickname(text: str) -> str:
    """A nickname as shown: spaces collapsed, no control characters, 1 to NICKNAME_CHARACTERS long."""
    nickname = _SPACES.sub(" ", "".join(ch for ch in str(text) if unicodedata.category(ch)[0] != "C")).strip()
    if not nickname:
        raise RoomRefused("Choose a nickname to show on the board (no account, no e-mail needed).")
    if len(nickname) > NICKNAME_CHARACTERS:
        raise RoomRefused(f"A nickname has at most {NICKNAME_CHARACTERS} characters; choose a shorter one.")
    return nickname


def check_challenge(dataset: str, challenge: str) -> tuple[Goal, ...]:
    if dataset not in DATASETS:
        raise RoomRefused(f"There is no data set {dataset!r}; choose one of {', '.join(DATASETS)}.")
    if len(challenge) > MAX_CHALLENGE_CHARACTERS:
        raise RoomRefused(f"A challenge has at most {MAX_CHALLENGE_CHARACTERS} characters.")
    try:
        return read_goals(challenge)
    except LessonError as error:
        raise RoomRefused(str(error)) from None


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def open_room(store: Store, title: str, dataset: str, challenge: str) -> RoomKeys:
    """A new room for a class; its code and the teacher's key (kept only as a hash)."""
    title = _SPACES.sub(" ", str(title)).strip()[:MAX_TITLE_CHARACTERS] or "Our class"
    check_challenge(dataset, challenge)
    teacher_key = secrets.token_urlsafe(TEACHER_KEY_BYTES)
    with store.session() as session:
        session.execute(delete(Room).where(Room.expires < now()))
        open_rooms = session.scalar(select(func.count()).select_from(Room).where(~Room.closed))
        if open_rooms >= MAX_OPEN_ROOMS:
            raise RoomRefused(f"This server has {MAX_OPEN_ROOMS} rooms open, its limit: close one, or wait "
                              "until one ends.")
        code = _new_code()
        while session.get(Room, code) is not None:
            code = _new_code()
        session.add(Room(code=code, teacher_key_hash=_hash(teacher_key), title=title, dataset=dataset,
                         challenge=challenge.strip(), created=now(),
                         expires=now() + timedelta(hours=ROOM_HOURS), closed=False, version=0))
    return RoomKeys(code, teacher_key)


def _live_room(session, code: str) -> Room:
    room = session.get(Room, normalised_code(code))
    if room is None:
        raise RoomRefused("There is no room with this code: check it on your teacher's screen.")
    if room.expires < now():
        raise RoomRefused("This room has ended (rooms last "
                          f"{ROOM_HOURS} hours): ask your teacher for a new code.")
    return room


def _teachers_room(session, code: str, teacher_key: str) -> Room:
    room = _live_room(session, code)
    if not hmac.compare_digest(room.teacher_key_hash, _hash(str(teacher_key))):
        raise RoomRefused("This teacher link is not this room's: open the link you got when you opened "
                          "the room.")
    return room


def join_room(store: Store, code: str, nickname: str) -> Seat:
    nickname = clean_nickname(nickname)
    seat_key = secrets.token_urlsafe(SEAT_KEY_BYTES)
    with store.session() as session:
        room = _live_room(session, code)
        if room.closed:
            raise RoomRefused("Your teacher has closed this room.")
        learners = session.scalars(select(Learner.nickname).where(Learner.room_code == room.code)).all()
        if nickname.casefold() in {name.casefold() for name in learners}:
            raise RoomRefused(f"Someone in this room is already called {nickname!r}: choose another "
                              "nickname.")
        if len(learners) >= MAX_LEARNERS_PER_ROOM:
            raise RoomRefused(f"This room is full ({MAX_LEARNERS_PER_ROOM} learners).")
        session.add(Learner(room_code=room.code, nickname=nickname, seat_hash=_hash(seat_key), joined=now()))
        room.version += 1
    return Seat(room.code, nickname, seat_key)


def find_seat(store: Store, code: str, key: str) -> Seat | None:
    """The seat a key gives in a room (a reloaded tab's URL keeps it), or None."""
    with store.session() as session:
        learner = session.scalar(select(Learner).where(Learner.room_code == normalised_code(code),
                                                       Learner.seat_hash == _hash(str(key))))
        return Seat(learner.room_code, learner.nickname, key) if learner is not None else None


def post_result(store: Store, seat: Seat, outcome: TrainingOutcome) -> bool:
    """Post a finished training's result to the seat's room; whether it meets the challenge.
    RoomRefused if the seat is not this room's, the room has closed or ended, the training is
    on another data set, or a limit is reached."""
    with store.session() as session:
        room = _live_room(session, seat.code)
        learner = session.scalar(select(Learner).where(Learner.seat_hash == _hash(str(seat.key)),
                                                       Learner.room_code == room.code))
        if learner is None:
            raise RoomRefused("This session's seat is not in this room: join the room again.")
        if room.closed:
            raise RoomRefused("Your teacher has closed this room: results are no longer posted.")
        if outcome.dataset != room.dataset:
            raise RoomRefused(f"Not posted: this room's challenge is on {DATASETS[room.dataset].title}, "
                              "and this training was not.")
        posted = session.scalar(select(func.count()).select_from(Entry).where(Entry.room_code == room.code))
        mine = session.scalar(select(func.count()).select_from(Entry).where(Entry.learner_id == learner.id))
        if posted >= MAX_ENTRIES_PER_ROOM or mine >= MAX_ENTRIES_PER_LEARNER:
            raise RoomRefused("Not posted: this room has as many results as it keeps.")
        met = all(goal_met(goal, outcome) for goal in check_challenge(room.dataset, room.challenge))
        session.add(Entry(room_code=room.code, learner_id=learner.id, nickname=learner.nickname,
                          link=urlencode(outcome.link) if outcome.link else "", dataset=outcome.dataset,
                          accuracy=outcome.accuracy, parameters=outcome.parameters,
                          multiply_adds=outcome.multiply_adds, training_seconds=outcome.training_seconds,
                          goal_met=met, hidden=False, posted=now()))
        room.version += 1
    return met


def room_version(store: Store, code: str) -> int | None:
    """The room's change counter (None if it is gone): a board polls this, and redraws on a change."""
    with store.session() as session:
        return session.scalar(select(Room.version).where(Room.code == code))


def ranked(entries: list[BoardEntry]) -> tuple[BoardEntry, ...]:
    """Results meeting the challenge first, by accuracy (then fewer parameters, then earlier)."""
    return tuple(sorted(entries, key=lambda entry: (not entry.goal_met, -entry.accuracy, entry.parameters,
                                                    entry.posted)))


def board(store: Store, code: str, teacher_key: str | None = None) -> BoardView:
    """The room's board: a teacher (with the key) sees hidden entries too, marked."""
    with store.session() as session:
        room = _teachers_room(session, code, teacher_key) if teacher_key else _live_room(session, code)
        query = select(Entry).where(Entry.room_code == room.code)
        if not teacher_key:
            query = query.where(~Entry.hidden)
        entries = [BoardEntry(entry.id, entry.nickname, entry.link, entry.accuracy, entry.parameters,
                              entry.multiply_adds, entry.training_seconds, entry.goal_met, entry.hidden,
                              entry.posted) for entry in session.scalars(query)]
        learners = session.scalar(select(func.count()).select_from(Learner)
                                  .where(Learner.room_code == room.code))
        return BoardView(room.code, room.title, room.dataset, room.challenge,
                         check_challenge(room.dataset, room.challenge), room.closed, room.expires,
                         room.version, learners, ranked(entries))


def hide_entry(store: Store, code: str, teacher_key: str, entry_id: int, hidden: bool = True) -> None:
    with store.session() as session:
        room = _teachers_room(session, code, teacher_key)
        session.execute(update(Entry).where(Entry.room_code == room.code, Entry.id == int(entry_id))
                        .values(hidden=hidden))
        room.version += 1


def close_room(store: Store, code: str, teacher_key: str, closed: bool = True) -> None:
    """Closed: the board stays, nobody joins or posts; reopened with closed=False."""
    with store.session() as session:
        room = _teachers_room(session, code, teacher_key)
        room.closed = closed
        room.version += 1


def clear_room(store: Store, code: str, teacher_key: str) -> None:
    """Every result and learner gone; the room and its code stay."""
    with store.session() as session:
        room = _teachers_room(session, code, teacher_key)
        session.execute(delete(Entry).where(Entry.room_code == room.code))
        session.execute(delete(Learner).where(Learner.room_code == room.code))
        room.version += 1
