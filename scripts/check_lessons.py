"""Check lesson files: every mistake, named by file and line.

    python scripts/check_lessons.py                # every lesson in lessons/
    python scripts/check_lessons.py my-lesson.md   # these files

Prints "file:line: mistake" for each, or a line per lesson that reads well; exits 1 if any
file has a mistake. The format is described in lessons/README.md.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pages.parts.page_list import PAGE_NAMES  # noqa: E402
from playground.lessons.format import LessonError, read_lesson  # noqa: E402
from playground.lessons.library import lesson_files  # noqa: E402


def check(paths: list[Path]) -> int:
    mistakes = 0
    for path in paths:
        try:
            lesson = read_lesson(path.read_bytes(), path.stem, PAGE_NAMES, source=path.name)
        except OSError as error:
            print(f"{path}: cannot be read ({error.strerror})")
            mistakes += 1
            continue
        except LessonError as error:
            for problem in error.problems:
                line, _, message = problem.partition(": ")
                print(f"{path}:{line.removeprefix('line ')}: {message}")
            mistakes += len(error.problems)
            continue
        goals = sum(len(step.goals) for step in lesson.steps)
        print(f"{path}: fine, “{lesson.title}”, {len(lesson.steps)} steps, {goals} goals")
    return mistakes


def main() -> None:
    paths = [Path(name) for name in sys.argv[1:]] or lesson_files()
    if not paths:
        sys.exit("No lesson files to check.")
    sys.exit(1 if check(paths) else 0)


if __name__ == "__main__":
    main()
