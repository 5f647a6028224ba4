"""A lesson step's settings (page, open, data, start, goal, reference, question), read and
checked; each mistake is noted with its line by the Reader that playground.lessons.format
passes in."""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

from playground.lessons.lesson import GOAL_KINDS, MEASURES, Goal, Question, Step
from playground.spec.datasets import DATASETS
from playground.spec.layers import LAYER_TYPES
from playground.spec.links import ShareLinkError, open_link
from playground.spec.own_images import OWN_DATASET, STARTS

MAX_CHOICES = 6
MAX_CHOICE_CHARACTERS = 200
OPEN_PAGE = "build_train"  # the page whose network and settings a step's `open` sets
OWN_IMAGES_PAGE = "own_images"  # the page whose start a step's `start` picks
_MEASURE_GOAL = re.compile(r"([a-z_]+)\s*(>=|<=)\s*([0-9][0-9,_]*(?:\.[0-9]+)?)\s*(%?)")
_LAYER_GOAL = re.compile(r"(uses|avoids)\s+([A-Za-z0-9]+)")


@dataclass
class Reader:
    source: str
    pages: Collection[str]
    problems: list[str] = field(default_factory=list)

    def problem(self, line: int, message: str) -> None:
        self.problems.append(f"line {line}: {message}")


def step_from_settings(title: str, text: str, settings: list, heading_line: int, reader: Reader) -> Step:
    values: dict[str, tuple[int, str]] = {}
    goals, choices = [], []
    for number, name, value in settings:
        if name == "goal":
            goal = read_goal(value, number, reader)
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


def _page(values: dict, heading_line: int, reader: Reader) -> str:
    if "page" not in values:
        reader.problem(heading_line, f"the step names no page (page: one of {', '.join(reader.pages)})")
        return ""
    number, page = values["page"]
    if page not in reader.pages:
        reader.problem(number, f"there is no page {quoted(page)}; the pages are {', '.join(reader.pages)}")
    return page


def _link(values: dict, key: str, page: str, reader: Reader) -> tuple[dict | None, str | None]:
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


def _dataset(values: dict, linked: str | None, reader: Reader) -> str | None:
    if "data" not in values:
        return linked
    number, name = values["data"]
    names = (*DATASETS, OWN_DATASET)
    if name not in names:
        reader.problem(number, f"there is no data set {quoted(name)}; the data sets are {', '.join(names)}")
    elif linked and linked != name:
        reader.problem(number, f"data: {name} is not the data set of the step's network ({linked})")
    return name


def _start(values: dict, page: str, reader: Reader) -> str | None:
    if "start" not in values:
        return None
    number, start = values["start"]
    if page != OWN_IMAGES_PAGE:
        reader.problem(number, f"start: picks a start on the {OWN_IMAGES_PAGE} page only")
    if start not in STARTS:
        reader.problem(number, f"there is no start {quoted(start)}; the starts are {', '.join(STARTS)}")
    return start


def read_goal(text: str, number: int, reader: Reader) -> Goal | None:
    measure, layer = _MEASURE_GOAL.fullmatch(text), _LAYER_GOAL.fullmatch(text)
    if measure:
        name, comparison, amount, percent = measure.groups()
        if name not in MEASURES:
            reader.problem(number, f"{quoted(name)} is not a goal; the goals are {', '.join(GOAL_KINDS)}")
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
            reader.problem(number, f"there is no layer type {quoted(layer_type)}; the types are "
                                   f"{', '.join(LAYER_TYPES)}")
            return None
        return Goal(kind, layer_type)
    reader.problem(number, f"{quoted(text)} is not a goal; write for example \"accuracy >= 0.98\", "
                           "\"parameters <= 20000\", \"multiply_adds <= 1000000\", "
                           "\"training_seconds <= 60\", \"uses MaxPooling2D\" or \"avoids Dropout\"; a "
                           "question has its own settings")
    return None


def _question(values: dict, choices: list, heading_line: int, reader: Reader) -> Question | None:
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
                                    f"not {quoted(answer)}")
    if len(reader.problems) > problems or not text:
        if not text:
            reader.problem(number, "the question is empty")
        return None
    return Question(text, tuple(choice for _, choice in choices), int(answer) - 1)


def quoted(text: str) -> str:
    """A piece of an untrusted file, shown safely: short, and quoted."""
    return repr(text if len(text) <= 40 else text[:40] + "…")
