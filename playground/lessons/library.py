"""The lessons a deployment offers: every `*.md` file in lessons/, in the order of their names."""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

from playground.lessons.format import LessonError, read_lesson
from playground.lessons.lesson import Lesson

LESSONS_DIR = Path(__file__).resolve().parents[2] / "lessons"
LESSON_SUFFIX = ".md"
MAX_LESSONS = 50
UPLOADED_PREFIX = "uploaded-"  # an uploaded lesson's key, so it never shadows a shipped one


def lesson_files(folder: Path = LESSONS_DIR) -> list[Path]:
    """The lesson files in `folder`, by name; README.md describes the format and is no lesson."""
    return sorted(path for path in folder.glob(f"*{LESSON_SUFFIX}")
                  if path.is_file() and path.name.lower() != "readme.md")[:MAX_LESSONS]


def shipped_lessons(pages: Collection[str], folder: Path = LESSONS_DIR) -> tuple[list[Lesson], list[str]]:
    """(the lessons that read well, one line for each file that does not)."""
    lessons, problems = [], []
    for path in lesson_files(folder):
        try:
            lessons.append(read_lesson(path.read_bytes(), path.stem, pages, source=path.name))
        except LessonError as error:
            problems.append(str(error))
    return lessons, problems


def uploaded_lesson(raw: bytes, file_name: str, pages: Collection[str]) -> Lesson:
    """A lesson a learner or teacher uploads for their own session; LessonError if it has mistakes."""
    stem = Path(file_name).stem[:40] or "lesson"
    return read_lesson(raw, UPLOADED_PREFIX + stem, pages, source=file_name[:60])
