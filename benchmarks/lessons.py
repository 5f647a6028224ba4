"""Every shipped lesson's goals, reached on real data: each step with training goals has its
reference network (`reference:`, else the network it opens, else the Your images start it
picks, on the sample set) trained as the server trains, and its goals checked.

    PLAYGROUND_DATA_DIR=../shared/data python benchmarks/lessons.py [--lesson 02-why-pooling] [--no-browser]

Prints, beside the machine's pace, per step: the measures that the goals read, and whether
every goal is met. Exits 1 if any is not. The tests check the goals that need no training
(parameters, multiply-adds, layer types) and that the references train; the accuracy and
time goals need the real data sets, so they are met here.

Then, in Chromium: a lesson's step button pressed on the Lessons page → Build & Train showing
the step's network (its layers and parameters in the sidebar), for steps 1 and 2 of "Why
pooling" in turn. Target: at most 1 s.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks"), str(ROOT / "tests")]

from own_images import machine_pace  # noqa: E402

from pages.parts.page_list import PAGE_NAMES  # noqa: E402
from playground.data.loading import load_dataset  # noqa: E402
from playground.data.own_samples import sample_set  # noqa: E402
from playground.jobs.job import TrainingJob  # noqa: E402
from playground.lessons.goals import goal_met, outcome_of, training_goals  # noqa: E402
from playground.lessons.library import shipped_lessons  # noqa: E402
from playground.models.own_networks import own_model, scratch_stack, start_settings  # noqa: E402
from playground.models.starting_points import model_from_scratch  # noqa: E402
from playground.spec.links import open_link  # noqa: E402
from playground.spec.own_images import MODEL_SHAPE, OWN_DATASET  # noqa: E402
from playground.spec.settings import TrainingSettings  # noqa: E402


def train_reference(step):
    """The step's reference network, trained; its TrainingOutcome."""
    if step.dataset == OWN_DATASET:
        images = sample_set()
        settings = start_settings(step.start)
        model = own_model(step.start, len(images.class_names), settings)
        data = images.dataset(settings.seed)
        stack = scratch_stack(step.start, len(images.class_names)) if step.start == "scratch" else None
        shape = MODEL_SHAPE
    else:
        stack, dataset_name, training = open_link(step.reference or step.link)
        data = load_dataset(dataset_name)
        settings = TrainingSettings(**training)
        model = model_from_scratch(stack, dataset_name, settings)
        shape = data.input_shape
    job = TrainingJob(model, data, settings)
    job.start()
    job.join()
    return outcome_of(job.model, job.snapshot(), data.name, stack, shape, len(data.class_names))


OPEN_REPEATS = 6
STEP_TITLES = ("Step 1. The seed network, with pooling", "Step 2. Take pooling out")  # Why pooling
STEP_NETWORKS = ("9 layers · 111,610 parameters", "7 layers · 1,991,674 parameters")


def step_opening_seconds() -> list[float]:
    """Seconds from a step's button to its network shown on Build & Train."""
    import time

    from browser import launch_chromium, open_page, streamlit_server
    from playwright.sync_api import sync_playwright

    seconds = []
    with streamlit_server(ROOT) as url, sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        page = open_page(browser, f"{url}/lessons", timeout_ms=120_000)
        for repeat in range(OPEN_REPEATS):
            step = repeat % 2
            page.get_by_test_id("stSidebarNav").get_by_role("link", name="Lessons").click()
            page.get_by_text("Why pooling (").first.click()
            expander = page.get_by_test_id("stExpander").filter(has_text=STEP_TITLES[step])
            button = expander.get_by_role("button", name="Open it with its network")
            page.wait_for_timeout(1_000)  # the page settled: an expander keeps what the learner opened
            if not button.is_visible():
                expander.get_by_text(STEP_TITLES[step]).click()
            button.wait_for()
            started = time.perf_counter()
            button.click()
            page.get_by_text(STEP_NETWORKS[step]).wait_for()
            seconds.append(time.perf_counter() - started)
        browser.close()
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lesson", help="only this lesson (its file name without .md)")
    parser.add_argument("--no-browser", action="store_true", help="leave out the step-opening time")
    arguments = parser.parse_args()
    print(f"machine's pace at the start: {machine_pace():.2f} s for the fixed workload", flush=True)
    lessons, problems = shipped_lessons(PAGE_NAMES)
    if problems:
        sys.exit("\n".join(problems))
    missed = 0
    for lesson in lessons:
        if arguments.lesson and lesson.key != arguments.lesson:
            continue
        for number, step in enumerate(lesson.steps, start=1):
            goals = training_goals(step)
            if not goals:
                continue
            outcome = train_reference(step)
            met = all(goal_met(goal, outcome) for goal in goals)
            missed += not met
            verdict = "every goal met" if met else "NOT MET: " + "; ".join(goal.describe() for goal in goals)
            print(f"{lesson.key}, step {number} ({step.title}): {outcome.dataset}, accuracy "
                  f"{outcome.accuracy:.2%}, {outcome.parameters:,} parameters, "
                  f"{outcome.training_seconds:.1f} s of training → {verdict}", flush=True)
    if not arguments.no_browser:
        seconds = step_opening_seconds()
        print(f"a step's button → its network on Build & Train (n={len(seconds)}): "
              f"{', '.join(f'{value:.2f}' for value in seconds)} s "
              "(the first: this server's first Build & Train)")
    print(f"machine's pace at the end: {machine_pace():.2f} s for the fixed workload")
    sys.exit(1 if missed else 0)


if __name__ == "__main__":
    main()
