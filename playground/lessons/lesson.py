"""A lesson as plain data: its steps, each step's goals and question (read from a file by
playground.lessons.format)."""

from __future__ import annotations

from dataclasses import dataclass

# Measures a training is checked against: the comparison each allows, and how it is said.
MEASURES = {
    "accuracy": (">=", "test accuracy"),
    "parameters": ("<=", "parameters"),
    "multiply_adds": ("<=", "multiply-adds per image"),
    "training_seconds": ("<=", "seconds of training"),
}
LAYER_GOALS = ("uses", "avoids")
GOAL_KINDS = (*MEASURES, *LAYER_GOALS, "question")


@dataclass(frozen=True)
class Goal:
    kind: str  # one of GOAL_KINDS
    target: float | str | None = None  # a number for MEASURES, a layer type for LAYER_GOALS

    def describe(self) -> str:
        if self.kind == "accuracy":
            return f"test accuracy of at least {self.target:.1%}"
        if self.kind in MEASURES:
            return f"at most {self.target:,.0f} {MEASURES[self.kind][1]}"
        if self.kind == "uses":
            return f"a network with {self.target}"
        if self.kind == "avoids":
            return f"a network without {self.target}"
        return "the right answer to the question"


@dataclass(frozen=True)
class Question:
    text: str
    choices: tuple[str, ...]
    answer: int  # an index into choices


@dataclass(frozen=True)
class Step:
    title: str
    page: str
    text: str
    link: dict[str, str] | None = None  # the share-link query it opens on OPEN_PAGE
    dataset: str | None = None  # goals count trainings on it: the link's, or named by `data`
    start: str | None = None  # the Your images start it picks (a key of STARTS)
    # A network that meets the goals (the teacher's answer), for the tests and the benchmark:
    # a share-link query; else the link it opens, or the start it picks on the sample set.
    reference: dict[str, str] | None = None
    goals: tuple[Goal, ...] = ()
    question: Question | None = None
    line: int = 0  # where its heading is, for messages

    @property
    def checked(self) -> bool:
        """Whether the app checks this step by itself (else the learner marks it done)."""
        return bool(self.goals) or self.question is not None


@dataclass(frozen=True)
class Lesson:
    key: str  # the file's name without .md, or "uploaded-…" for a learner's own
    title: str
    summary: str
    minutes: int | None
    steps: tuple[Step, ...]
