"""Where class boards live: a real database, through SQLAlchemy.

SQLite in a file by default, so `streamlit run app.py` needs nothing more; with replicas
behind nginx, `PLAYGROUND_DATABASE_URL` points every replica at one PostgreSQL database
(for example `postgresql+psycopg://user:password@host/playground`), so all see one board.
The tables are made on first use. Any failure of the database becomes BoardUnavailable, a
line for the page to show; nothing a learner is doing waits on it.
"""

from __future__ import annotations

import contextlib
import os
import threading
from datetime import datetime
from pathlib import Path

from sqlalchemy import (
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    create_engine,
    event,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

DATABASE_URL_VARIABLE = "PLAYGROUND_DATABASE_URL"
DEFAULT_DATABASE_FILE = Path.home() / ".cnn-playground" / "board.sqlite"
CONNECT_TIMEOUT_SECONDS = 3  # a database that is down says so quickly; training never waits on it
CODE_LENGTH = 8
NICKNAME_CHARACTERS = 24
HASH_CHARACTERS = 64  # SHA-256, in hexadecimal


class BoardUnavailable(RuntimeError):
    """The database cannot be reached or refused the change; the message says so in a line."""


class Base(DeclarativeBase):
    pass


class Room(Base):
    __tablename__ = "rooms"
    code: Mapped[str] = mapped_column(String(CODE_LENGTH), primary_key=True)
    teacher_key_hash: Mapped[str] = mapped_column(String(HASH_CHARACTERS))
    title: Mapped[str] = mapped_column(String(80))
    dataset: Mapped[str] = mapped_column(String(32))
    challenge: Mapped[str] = mapped_column(Text)  # goals, as a lesson writes them, joined by ";"
    created: Mapped[datetime] = mapped_column(DateTime())  # naive UTC, as SQLite keeps it
    expires: Mapped[datetime] = mapped_column(DateTime(), index=True)
    closed: Mapped[bool] = mapped_column(Boolean, default=False)
    version: Mapped[int] = mapped_column(Integer, default=0)  # bumped by every change: boards poll it


class Learner(Base):
    __tablename__ = "learners"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    room_code: Mapped[str] = mapped_column(ForeignKey("rooms.code", ondelete="CASCADE"), index=True)
    nickname: Mapped[str] = mapped_column(String(NICKNAME_CHARACTERS))
    seat_hash: Mapped[str] = mapped_column(String(HASH_CHARACTERS), unique=True)
    joined: Mapped[datetime] = mapped_column(DateTime())


class Entry(Base):
    __tablename__ = "entries"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    room_code: Mapped[str] = mapped_column(ForeignKey("rooms.code", ondelete="CASCADE"), index=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("learners.id", ondelete="CASCADE"))
    nickname: Mapped[str] = mapped_column(String(NICKNAME_CHARACTERS))
    link: Mapped[str] = mapped_column(Text, default="")  # the network's share-link query; "" if none
    dataset: Mapped[str] = mapped_column(String(32))
    accuracy: Mapped[float] = mapped_column(Float)
    parameters: Mapped[int] = mapped_column(Integer)
    multiply_adds: Mapped[int | None] = mapped_column(Integer, nullable=True)
    training_seconds: Mapped[float] = mapped_column(Float)
    goal_met: Mapped[bool] = mapped_column(Boolean)
    hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    posted: Mapped[datetime] = mapped_column(DateTime())


def database_url() -> str:
    url = os.environ.get(DATABASE_URL_VARIABLE, "").strip()
    if url:
        return url
    DEFAULT_DATABASE_FILE.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{DEFAULT_DATABASE_FILE}"


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": CONNECT_TIMEOUT_SECONDS,
                                                  "check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        engine = create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5,
                               connect_args={"connect_timeout": CONNECT_TIMEOUT_SECONDS})
    return engine


def _sqlite_pragmas(connection, _record) -> None:
    """Foreign keys on (rooms' learners and entries go with them), and write-ahead logging, so
    boards read while learners post."""
    cursor = connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


class Store:
    """One database's boards: sessions opened per operation, tables made on first use."""

    def __init__(self, url: str | None = None):
        self.url = url or database_url()
        self.engine = make_engine(self.url)
        self._ready = False
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def session(self):
        """A database session that commits at the end; any database failure is BoardUnavailable."""
        try:
            self._make_tables()
            with Session(self.engine, expire_on_commit=False) as session, session.begin():
                yield session
        except SQLAlchemyError as error:
            raise BoardUnavailable(f"The class board's database cannot be used now ({_short(error)}). "
                                   "Results are not posted for now; training goes on, and the board comes "
                                   "back when the database does.") from None

    def _make_tables(self) -> None:
        with self._lock:
            if not self._ready:
                Base.metadata.create_all(self.engine)
                self._ready = True

    def dispose(self) -> None:
        self.engine.dispose()


def _short(error: SQLAlchemyError) -> str:
    text = str(getattr(error, "orig", None) or error).strip().split("\n")[0]
    return text if len(text) <= 120 else text[:120] + "…"
