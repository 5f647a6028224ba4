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
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

from playground.lessons.lesson import GOAL_KINDS, MEASURES, Goal, Lesson, Question, Step
from playground.spec.datasets import DATASETS
from playground.spec.layers import LAYER_TYPES
from playground.spec.links import ShareLinkError, open_link
from playground.spec.own_images import OWN_DATASET, STARTS
from playground.spec.refusals import Refused

MAX_LESSON_BYTES = 32 * 1024
MAX_STEPS = 20
MAX_TITLE_CHARACTERS = 80
MAX_SUMMARY_CHARACTERS = 300
MAX_STEP_TEXT_CHARACTERS = 4_000
MAX_CHOICES = 6
MAX_CHOICE_CHARACTERS = 200
MAX_MINUTES = 240

FRONT_MATTER_FENCE = "---"
STEP_HEADING = "## "
LESSON_KEYS = ("title", "summary", "minutes")
STEP_KEYS = ("page", "open", "data", "start", "goal", "reference", "question", "choice", "answer")
OPEN_PAGE = "build_train"  # the page whose network and settings a step's `open` sets
OWN_IMAGES_PAGE = "own_images"  # the page whose start a step's `start` picks
_SETTING = re.compile(r"([a-z_]+):\s*(.*)")
_MEASURE_GOAL = re.compile(r"([a-z_]+)\s*(>=|<=)\s*([0-9][0-9,_]*(?:\.[0-9]+)?)\s*(%?)")
_LAYER_GOAL = re.compile(r"(uses|avoids)\s+([A-Za-z0-9]+)")
_IMAGE = re.compile(r"!\[[^\]]*\]\(")


class LessonError(Refused):
    """A lesson file with mistakes; `problems` names each with its line."""

    def __init__(self, source: str, problems: list[str]):
        self.source, self.problems = source, problems
        shown = "; ".join(problems[:3]) + (f"; and {len(problems) - 3} more" if len(problems) > 3 else "")
        super().__init__(f"{source}: {shown}.")


@dataclass
class _Reader:
    source: str
    pages: Collection[str]
    problems: list[str] = field(default_factory=list)

    def problem(self, line: int, message: str) -> None:
        self.problems.append(f"line {line}: {message}")


def read_lesson(raw: bytes | str, key: str, pages: Collection[str], source: str | None = None) -> Lesson:
    """The lesson in a file's contents, or LessonError naming every mistake by line. `pages`:
    the page names a step may name (the app's, from pages/parts/page_list.py)."""
    source = source or f"{key}.md"
    reader = _Reader(source, pages)
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
    reader = _Reader(source, ())
    parts = [part.strip() for part in text.split(";") if part.strip()]
    goals = [_goal(part, number, reader) for number, part in enumerate(parts, start=1)]
    if reader.problems:
        raise LessonError(source, [problem.replace("line ", "goal ", 1) for problem in reader.problems])
    return tuple(goals)


def _text(raw: bytes | str, reader: _Reader) -> str | None:
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


def _front_matter(lines: list[str], reader: _Reader) -> tuple[dict, int]:
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
            reader.problem(number, f"{_quoted(line)} is not one of the lesson's settings "
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


def _check_header(header: dict, reader: _Reader) -> None:
    title = header.get("title", "")
    if not title:
        reader.problem(2, "the lesson has no title (title: …)")
    elif len(title) > MAX_TITLE_CHARACTERS:
        reader.problem(2, f"the title has {len(title)} characters; at most {MAX_TITLE_CHARACTERS}")
    if len(header.get("summary", "")) > MAX_SUMMARY_CHARACTERS:
        reader.problem(2, f"the summary is longer than {MAX_SUMMARY_CHARACTERS} characters")
    minutes = header.get("minutes")
    if minutes is not None and not (minutes.isdigit() and 1 <= int(minutes) <= MAX_MINUTES):
        reader.problem(2, f"minutes must be a whole number from 1 to {MAX_MINUTES}, not {_quoted(minutes)}")
    header.setdefault("title", "")


def _steps(lines: list[str], start: int, reader: _Reader) -> list[Step]:
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


def _step(lines: list[str], begin: int, end: int, reader: _Reader) -> Step:
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
            reader.problem(index + 1, f"{_quoted(lines[index].strip())} is not a step's setting "
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
    return _step_from_settings(title, text, settings, heading_line, reader)


def _step_from_settings(title: str, text: str, settings: list, heading_line: int, reader: _Reader) -> Step:
    values: dict[str, tuple[int, str]] = {}
    goals, choices = [], []
    for number, name, value in settings:
        if name == "goal":
            goal = _goal(value, number, reader)
            if goal is not None:
                goals.append(goal)
        elif name == "choice":
            choices.append((number, value))
        elif name in values:
            reader.problem(number, f"{name} is given twice in one step")
        else:
            values[name] = (number, value)
    page = _page(values, heading_line, reader)
    link, dataset = _link(values, "open", page, reader)
    reference, reference_dataset = _link(values, "reference", page, reader)
    dataset = _dataset(values, dataset or reference_dataset, reader)
    start = _start(values, page, reader)
    question = _question(values, choices, heading_line, reader)
    if question is not None:
        goals.append(Goal("question"))
    return Step(title, page, text, link, dataset, start, reference, tuple(goals), question, heading_line)


def _page(values: dict, heading_line: int, reader: _Reader) -> str:
    if "page" not in values:
        reader.problem(heading_line, f"the step names no page (page: one of {', '.join(reader.pages)})")
        return ""
    number, page = values["page"]
    if page not in reader.pages:
        reader.problem(number, f"there is no page {_quoted(page)}; the pages are {', '.join(reader.pages)}")
    return page


def _link(values: dict, key: str, page: str, reader: _Reader) -> tuple[dict | None, str | None]:
    if key not in values:
        return None, None
    number, text = values[key]
    if page and page != OPEN_PAGE:
        reader.problem(number, f"{key}: is a network, which only the {OPEN_PAGE} page takes")
    params = dict(parse_qsl(text.removeprefix("?"), keep_blank_values=True))
    try:
        _, dataset, _ = open_link(params)
    except ShareLinkError as error:
        reader.problem(number, str(error).rstrip("."))
        return None, None
    return params, dataset


def _dataset(values: dict, linked: str | None, reader: _Reader) -> str | None:
    if "data" not in values:
        return linked
    number, name = values["data"]
    names = (*DATASETS, OWN_DATASET)
    if name not in names:
        reader.problem(number, f"there is no data set {_quoted(name)}; the data sets are {', '.join(names)}")
    elif linked and linked != name:
        reader.problem(number, f"data: {name} is not the data set of the step's network ({linked})")
    return name


def _start(values: dict, page: str, reader: _Reader) -> str | None:
    if "start" not in values:
        return None
    number, start = values["start"]
    if page != OWN_IMAGES_PAGE:
        reader.problem(number, f"start: picks a start on the {OWN_IMAGES_PAGE} page only")
    if start not in STARTS:
        reader.problem(number, f"there is no start {_quoted(start)}; the starts are {', '.join(STARTS)}")
    return start


def _goal(text: str, number: int, reader: _Reader) -> Goal | None:
    measure, layer = _MEASURE_GOAL.fullmatch(text), _LAYER_GOAL.fullmatch(text)
    if measure:
        name, comparison, amount, percent = measure.groups()
        if name not in MEASURES:
            reader.problem(number, f"{_quoted(name)} is not a goal; the goals are {', '.join(GOAL_KINDS)}")
            return None
        if comparison != MEASURES[name][0]:
            reader.problem(number, f"a goal on {name} is written with {MEASURES[name][0]}")
            return None
        value = float(amount.replace(",", "").replace("_", "")) / (100 if percent else 1)
        if name == "accuracy" and not 0 < value <= 1:
            reader.problem(number, "an accuracy goal is between 0 and 1 (or 0 % and 100 %)")
            return None
        return Goal(name, value)
    if layer:
        kind, layer_type = layer.groups()
        if layer_type not in LAYER_TYPES:
            reader.problem(number, f"there is no layer type {_quoted(layer_type)}; the types are "
                                   f"{', '.join(LAYER_TYPES)}")
            return None
        return Goal(kind, layer_type)
    reader.problem(number, f"{_quoted(text)} is not a goal; write for example \"accuracy >= 0.98\", "
                           "\"parameters <= 20000\", \"multiply_adds <= 1000000\", "
                           "\"training_seconds <= 60\", \"uses MaxPooling2D\" or \"avoids Dropout\"; a "
                           "question has its own settings")
    return None


def _question(values: dict, choices: list, heading_line: int, reader: _Reader) -> Question | None:
    if "question" not in values:
        for number, _ in choices[:1]:
            reader.problem(number, "choice: without a question: in the same step")
        if "answer" in values:
            reader.problem(values["answer"][0], "answer: without a question: in the same step")
        return None
    number, text = values["question"]
    problems = len(reader.problems)
    if not 2 <= len(choices) <= MAX_CHOICES:
        reader.problem(number, f"a question needs 2 to {MAX_CHOICES} choice: lines, not {len(choices)}")
    for choice_line, choice in choices:
        if not choice or len(choice) > MAX_CHOICE_CHARACTERS:
            reader.problem(choice_line, f"a choice has 1 to {MAX_CHOICE_CHARACTERS} characters")
    if "answer" not in values:
        reader.problem(number, "the question has no answer: (the number of the right choice, from 1)")
        return None
    answer_line, answer = values["answer"]
    if not (answer.isdigit() and 1 <= int(answer) <= len(choices)):
        reader.problem(answer_line, f"answer: is the number of the right choice, from 1 to {len(choices)}, "
                                    f"not {_quoted(answer)}")
    if len(reader.problems) > problems or not text:
        if not text:
            reader.problem(number, "the question is empty")
        return None
    return Question(text, tuple(choice for _, choice in choices), int(answer) - 1)


def _line_number(problem: str) -> int:
    return int(problem.split(":", 1)[0].removeprefix("line "))


def _quoted(text: str) -> str:
    """A piece of an untrusted file, shown safely: short, and quoted."""
    return repr(text if len(text) <= 40 else text[:40] + "…")
