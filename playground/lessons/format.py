"""A lesson file, read: a short path of steps, each with its text, its page, the network it
opens there, and the goals the app checks by itself.

The format is Markdown, written for teachers to edit in any text editor:

    ---
    title: Why pooling
    summary: Parameters and multiply-adds with and without pooling.
    minutes: 15
    ---

    ## Train it without pooling
    page: build_train
    open: net=c-f8~f~d-u10-asoftmax&data=mnist&ep=1
    goal: parameters <= 60000

    The text of the step, in Markdown: what to notice, what to try.

    ## Check yourself
    page: how_it_works
    question: What does a 2 × 2 max pooling keep?
    choice: The largest value of each 2 × 2 window
    choice: The average of each 2 × 2 window
    answer: 1

    Text…

A step begins at a line starting "## " (its title). Settings follow the heading directly,
one "name: value" a line, up to the first blank line; the rest is the step's text. GOAL_KINDS
lists the goals. A lesson file is untrusted: it is bounded in size, nothing in it runs, and
its Markdown is shown without HTML. Every mistake is named with its line
(`python scripts/check_lessons.py`).
"""

from __future__ import annotations

import re
from collections.abc import Collection

from playground.lessons.lesson import Goal, Lesson, Step
from playground.lessons.step_settings import Reader, quoted, read_goal, step_from_settings
from playground.spec.refusals import Refused

MAX_LESSON_BYTES = 32 * 1024
MAX_STEPS = 20
MAX_TITLE_CHARACTERS = 80
MAX_SUMMARY_CHARACTERS = 300
MAX_STEP_TEXT_CHARACTERS = 4_000
MAX_MINUTES = 240

FRONT_MATTER_FENCE = "---"
STEP_HEADING = "## "
LESSON_KEYS = ("title", "summary", "minutes")
STEP_KEYS = ("page", "open", "data", "start", "goal", "reference", "question", "choice", "answer")
_SETTING = re.compile(r"([a-z_]+):\s*(.*)")
_IMAGE = re.compile(r"!\[[^\]]*\]\(")


class LessonError(Refused):
    """A lesson file with mistakes; `problems` names each with its line."""

    def __init__(self, source: str, problems: list[str]):
        self.source, self.problems = source, problems
        shown = "; ".join(problems[:3]) + (f"; and {len(problems) - 3} more" if len(problems) > 3 else "")
        super().__init__(f"{source}: {shown}.")


def read_lesson(raw: bytes | str, key: str, pages: Collection[str], source: str | None = None) -> Lesson:
    """The lesson in a file's contents, or LessonError naming every mistake by line. `pages`:
    the page names a step may name (the app's, from pages/parts/page_list.py)."""
    source = source or f"{key}.md"
    reader = Reader(source, pages)
    text = _text(raw, reader)
    if text is None:
        raise LessonError(source, reader.problems)
    lines = text.split("\n")
    header, body_start = _front_matter(lines, reader)
    steps = _steps(lines, body_start, reader)
    if not reader.problems and not steps:
        reader.problem(body_start + 1, f'no steps: each step begins with a line "{STEP_HEADING}Its title"')
    if reader.problems:
        raise LessonError(source, sorted(reader.problems, key=_line_number))
    minutes = header.get("minutes")
    return Lesson(key, header["title"], header.get("summary", ""), int(minutes) if minutes else None,
                  tuple(steps))


def read_goals(text: str, source: str = "The challenge") -> tuple[Goal, ...]:
    """Goals written as a lesson's `goal:` lines are, separated by ";" (a room's challenge, for
    example "parameters <= 20000; accuracy >= 0.97"); LessonError if any cannot be read."""
    reader = Reader(source, ())
    parts = [part.strip() for part in text.split(";") if part.strip()]
    goals = [read_goal(part, number, reader) for number, part in enumerate(parts, start=1)]
    if reader.problems:
        raise LessonError(source, [problem.replace("line ", "goal ", 1) for problem in reader.problems])
    return tuple(goals)


def _text(raw: bytes | str, reader: Reader) -> str | None:
    size = len(raw.encode() if isinstance(raw, str) else raw)
    if size > MAX_LESSON_BYTES:
        reader.problem(1, f"the file is {size:,} bytes; a lesson may have at most {MAX_LESSON_BYTES:,}")
        return None
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            line = raw[:error.start].count(b"\n") + 1
            reader.problem(line, "this is not UTF-8 text; save the lesson as UTF-8")
            return None
    if "\x00" in raw:
        reader.problem(raw[:raw.index("\x00")].count("\n") + 1, "a NUL byte: this is not a text file")
        return None
    return raw.replace("\r\n", "\n").replace("\r", "\n")


def _front_matter(lines: list[str], reader: Reader) -> tuple[dict, int]:
    """The settings between the opening and closing "---", and the index of the line after."""
    if not lines or lines[0].strip() != FRONT_MATTER_FENCE:
        reader.problem(1, f'a lesson starts with a line "{FRONT_MATTER_FENCE}", then its title, summary and '
                          f'minutes, then "{FRONT_MATTER_FENCE}"')
        return {"title": ""}, 0
    header: dict[str, str] = {}
    for index in range(1, len(lines)):
        line, number = lines[index].strip(), index + 1
        if line == FRONT_MATTER_FENCE:
            break
        if not line:
            continue
        match = _SETTING.fullmatch(line)
        if not match or match.group(1) not in LESSON_KEYS:
            reader.problem(number, f"{quoted(line)} is not one of the lesson's settings "
                                   f"({', '.join(f'{key}: …' for key in LESSON_KEYS)})")
            continue
        name, value = match.groups()
        if name in header:
            reader.problem(number, f"{name} is given twice")
        header[name] = value.strip()
    else:
        reader.problem(1, f'the front matter is never closed: add a line "{FRONT_MATTER_FENCE}" after it')
        return {"title": ""}, len(lines)
    _check_header(header, reader)
    return header, index + 1


def _check_header(header: dict, reader: Reader) -> None:
    title = header.get("title", "")
    if not title:
        reader.problem(2, "the lesson has no title (title: …)")
    elif len(title) > MAX_TITLE_CHARACTERS:
        reader.problem(2, f"the title has {len(title)} characters; at most {MAX_TITLE_CHARACTERS}")
    if len(header.get("summary", "")) > MAX_SUMMARY_CHARACTERS:
        reader.problem(2, f"the summary is longer than {MAX_SUMMARY_CHARACTERS} characters")
    minutes = header.get("minutes")
    if minutes is not None and not (minutes.isdigit() and 1 <= int(minutes) <= MAX_MINUTES):
        reader.problem(2, f"minutes must be a whole number from 1 to {MAX_MINUTES}, not {quoted(minutes)}")
    header.setdefault("title", "")


def _steps(lines: list[str], start: int, reader: Reader) -> list[Step]:
    headings = [index for index in range(start, len(lines)) if lines[index].startswith(STEP_HEADING)]
    before = "\n".join(lines[start:headings[0] if headings else len(lines)]).strip()
    if before and headings:
        reader.problem(start + 1, "text before the first step: start each step with "
                                  f'"{STEP_HEADING}Its title"')
    if len(headings) > MAX_STEPS:
        reader.problem(headings[MAX_STEPS] + 1, f"a lesson has at most {MAX_STEPS} steps")
        return []
    if not headings:
        return []
    ends = [*headings[1:], len(lines)]
    return [_step(lines, begin, end, reader) for begin, end in zip(headings, ends, strict=True)]


def _step(lines: list[str], begin: int, end: int, reader: Reader) -> Step:
    heading_line = begin + 1
    title = lines[begin][len(STEP_HEADING):].strip()
    if not title:
        reader.problem(heading_line, "a step needs a title after the ##")
    elif len(title) > MAX_TITLE_CHARACTERS:
        reader.problem(heading_line, f"the step's title is longer than {MAX_TITLE_CHARACTERS} characters")
    settings: list[tuple[int, str, str]] = []
    index = begin + 1
    while index < end and lines[index].strip():
        match = _SETTING.fullmatch(lines[index].strip())
        if not match or match.group(1) not in STEP_KEYS:
            reader.problem(index + 1, f"{quoted(lines[index].strip())} is not a step's setting "
                                      f"({', '.join(STEP_KEYS)}); leave a blank line before the step's text")
        else:
            settings.append((index + 1, match.group(1), match.group(2).strip()))
        index += 1
    text = "\n".join(lines[index:end]).strip()
    if len(text) > MAX_STEP_TEXT_CHARACTERS:
        reader.problem(heading_line, f"the step's text has {len(text):,} characters; at most "
                                     f"{MAX_STEP_TEXT_CHARACTERS:,}")
    for offset, line in enumerate(lines[index:end]):
        if _IMAGE.search(line):
            reader.problem(index + offset + 1, "pictures are not shown in lessons (they would be fetched "
                                               "from another server); describe it, or link to it")
    return step_from_settings(title, text, settings, heading_line, reader)


def _line_number(problem: str) -> int:
    return int(problem.split(":", 1)[0].removeprefix("line "))


