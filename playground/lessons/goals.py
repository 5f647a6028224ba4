"""Whether a learner's session meets a step's goals: checked by the app, from the trainings
the session finished and the answers it gave, never from anything the browser claims."""

from __future__ import annotations

from dataclasses import dataclass

from playground.lessons.lesson import MEASURES, Goal, Lesson, Step
from playground.spec.costs import multiply_adds_by_kind
from playground.spec.shapes import total_params, trace_shapes


@dataclass(frozen=True)
class TrainingOutcome:
    """What one finished (or stopped) training measured: what goals and the board read."""

    dataset: str
    accuracy: float
    parameters: int
    multiply_adds: int | None  # None for a network on a trained base, whose costs are not traced
    training_seconds: float
    layer_types: frozenset[str]
    link: dict[str, str] | None = None  # its share-link query, if it was built from scratch

    def measure(self, name: str) -> float | None:
        return getattr(self, name)


def outcome_of(model, snapshot, dataset: str, stack: list[dict] | None, input_shape: tuple,
               num_classes: int, link: dict | None = None) -> TrainingOutcome | None:
    """A finished or stopped training's outcome (None if it was never evaluated). `stack`: the
    layers it built from scratch; None for a head on a trained base."""
    if snapshot.evaluation is None:
        return None
    multiply_adds = stack_costs(stack, input_shape, num_classes)[1] if stack else None
    types = layer_types(stack) if stack else frozenset(type(layer).__name__ for layer in model.layers)
    return TrainingOutcome(dataset, float(snapshot.evaluation.accuracy), int(model.count_params()),
                           multiply_adds, float(snapshot.training_seconds), types, link)


def stack_costs(stack: list[dict], input_shape: tuple, num_classes: int) -> tuple[int, int]:
    """(parameters, multiply-adds per image) of a stack built from scratch."""
    infos = trace_shapes(stack, input_shape, num_classes)
    return total_params(infos), sum(multiply_adds_by_kind(infos, input_shape).values())


def layer_types(stack: list[dict]) -> frozenset[str]:
    return frozenset(spec["type"] for spec in stack)


def goal_met(goal: Goal, outcome: TrainingOutcome) -> bool:
    if goal.kind in MEASURES:
        value = outcome.measure(goal.kind)
        if value is None:
            return False
        return value >= goal.target if MEASURES[goal.kind][0] == ">=" else value <= goal.target
    if goal.kind == "uses":
        return goal.target in outcome.layer_types
    if goal.kind == "avoids":
        return goal.target not in outcome.layer_types
    return False  # a question is met by its answer, not by a training


def training_goals(step: Step) -> tuple[Goal, ...]:
    return tuple(goal for goal in step.goals if goal.kind != "question")


def meeting_training(step: Step, outcomes: list[TrainingOutcome]) -> TrainingOutcome | None:
    """The first training that meets every one of the step's training goals at once (on the
    step's data set, if it opens one), or None."""
    goals = training_goals(step)
    if not goals:
        return None
    for outcome in outcomes:
        if step.dataset and outcome.dataset != step.dataset:
            continue
        if all(goal_met(goal, outcome) for goal in goals):
            return outcome
    return None


def step_done(step: Step, outcomes: list[TrainingOutcome], answer: int | None, marked: bool) -> bool:
    """A checked step is done when one training meets all its goals and its question (if any)
    has the right answer; any other step when the learner marked it done."""
    if not step.checked:
        return marked
    if training_goals(step) and meeting_training(step, outcomes) is None:
        return False
    return step.question is None or answer == step.question.answer


def steps_done(lesson: Lesson, outcomes: list[TrainingOutcome], answers: dict[int, int],
               marked: set[int]) -> list[bool]:
    return [step_done(step, outcomes, answers.get(index), index in marked)
            for index, step in enumerate(lesson.steps)]
