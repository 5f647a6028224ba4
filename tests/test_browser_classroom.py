"""Real-browser tests of learners sharing one server: the queue answers, closed tabs free it."""

from __future__ import annotations

import time

import pytest
from browser import fill_number, open_page, streamlit_server
from conftest import ROOT

pytestmark = pytest.mark.browser
ARTIFACTS = ROOT / "test-artifacts"
# A closed tab's job stops within this (the job's grace of 6 s, plus its checks and the queue's).
ORPHAN_STOP_MS = 15_000


def open_build_train(browser, url):
    page = open_page(browser, f"{url}/build_train", timeout_ms=60_000)
    context = page.context
    page.get_by_text("press Train").wait_for()
    return context, page


def press(page, name):
    """A button of the page itself (Streamlit's toolbar has a Stop button of its own)."""
    page.get_by_test_id("stMainBlockContainer").get_by_role("button", name=name, exact=True).click()


def start_a_long_training(page) -> None:
    fill_number(page, "Epochs", 50)  # far longer than any test here
    page.wait_for_timeout(300)
    press(page, "Train")
    page.get_by_text("images/s").first.wait_for()


def queue_behind(browser, url):
    """A learner trains for long; a second one presses Train on a short training and waits."""
    first_context, first = open_build_train(browser, url)
    start_a_long_training(first)
    second_context, second = open_build_train(browser, url)
    fill_number(second, "Training images", 4000)
    fill_number(second, "Epochs", 1)
    second.wait_for_timeout(300)
    press(second, "Train")
    return first_context, first, second_context, second


def test_a_queued_learner_can_stop_and_a_closed_tab_frees_the_slot(browser, mnist):
    with streamlit_server(ROOT, {"PLAYGROUND_MAX_TRAININGS": "1"}) as url:
        first_context, first, second_context, second = queue_behind(browser, url)
        second.get_by_text("1st in line").wait_for()
        ARTIFACTS.mkdir(exist_ok=True)
        second.screenshot(path=str(ARTIFACTS / "queued.png"))
        # Streamlit's running icon redraws itself for as long as the page waits; its Stop stays.
        status = second.get_by_test_id("stStatusWidget")
        status.get_by_role("button", name="Stop").wait_for()
        assert not status.get_by_test_id("stStatusWidgetRunningIcon").is_visible()
        # and the progress bar steps: a half-second slide every 0.4 s would never end
        slides = second.get_by_test_id("stProgress").first.evaluate(
            "bar => [...bar.querySelectorAll('*')].map(e => getComputedStyle(e).transitionDuration)")
        assert slides and set(slides) == {"0s"}, slides
        press(second, "Stop")  # before the fix, a queued page ignored every click
        second.get_by_text("Stopped before it started").wait_for(timeout=5_000)

        press(second, "Train")
        second.get_by_text("1st in line").wait_for()
        first_context.close()  # the tab of the learner who is training closes
        closed = time.monotonic()
        second.get_by_text("images/s").first.wait_for(timeout=ORPHAN_STOP_MS)
        print(f"the queued learner started {time.monotonic() - closed:.1f} s after the other tab closed")
        second.get_by_text("Test accuracy").wait_for(timeout=120_000)
        second_context.close()


# A script that never ends by itself and touches nothing but answer_clicks, as a queued
# page's beat does. A click starts a new run at once (Streamlit's runner.fastReruns); the old
# run's loop ends only at a yield point, and without one it would loop on for good.
LOOPING_APP = """
import sys, time
sys.path.insert(0, {root!r})
import streamlit as st
from pages.parts.streamlit_private import answer_clicks


@st.cache_resource
def loops():
    return {{"running": 0}}


st.session_state.runs = st.session_state.get("runs", 0) + 1
time.sleep(2)  # the run before this one had long enough to end
st.write(f"Run {{st.session_state.runs}}: {{loops()['running']}} loops before it still running")
st.button("Again")
loops()["running"] += 1
try:
    while True:
        answer_clicks()
        time.sleep(0.2)
finally:
    loops()["running"] -= 1
"""


def test_a_loop_that_only_answers_clicks_ends_when_the_page_runs_again(browser, tmp_path):
    (tmp_path / "app.py").write_text(LOOPING_APP.format(root=str(ROOT)))
    with streamlit_server(tmp_path) as url:
        page = open_page(browser, url)
        context = page.context
        page.get_by_text("Run 1: 0 loops").wait_for(timeout=30_000)
        page.get_by_role("button", name="Again").click()
        page.get_by_text("Run 2: ").wait_for(timeout=10_000)
        assert page.get_by_text("Run 2: 0 loops before it still running").is_visible()
        context.close()


def test_a_reloaded_tab_gets_its_training_and_settings_back(browser, mnist):
    with streamlit_server(ROOT, {"PLAYGROUND_MAX_TRAININGS": "1"}) as url:
        context, page = open_build_train(browser, url)
        start_a_long_training(page)
        assert "run=" in page.url, "the page keeps its training's ticket in its URL"

        page.reload()  # a new Streamlit session, with empty state
        page.get_by_text("images/s").first.wait_for(timeout=10_000)
        assert page.get_by_label("Epochs").input_value() == "50", "the settings come back too"
        # Well past the orphan grace of 6 s: the job now belongs to the reloaded page and trains on.
        first = progress_position(page)
        page.wait_for_timeout(10_000)
        assert progress_position(page) > first

        # A page switch mid-training is a rerun, not a stop; the ticket stays in the URL on
        # every page, so a reload on Draw takes the training back too.
        navigation = page.get_by_test_id("stSidebarNav")
        navigation.get_by_role("link", name="Draw").click()
        page.get_by_text("Draw a digit from 0 to 9").wait_for()
        page.wait_for_function("() => location.search.includes('run=')", timeout=10_000)
        page.reload()
        page.get_by_text("Draw a digit from 0 to 9").wait_for()
        page.wait_for_timeout(1_000)
        navigation.get_by_role("link", name="Build & Train").click()
        page.get_by_text("images/s").first.wait_for(timeout=10_000)
        second = progress_position(page)
        assert second > first
        page.wait_for_timeout(3_000)
        assert progress_position(page) > second
        press(page, "Stop")
        page.get_by_text("Test accuracy").wait_for(timeout=60_000)
        context.close()


def test_streamlits_own_stop_stops_the_training(browser, mnist):
    """Streamlit's toolbar Stop ends the page's script run; the training must not go on unseen."""
    with streamlit_server(ROOT) as url:
        context, page = open_build_train(browser, url)
        start_a_long_training(page)
        first = progress_position(page)
        # Any click reruns the page, and Streamlit stops the running script to do it: that is
        # not a Stop, and the training goes on.
        fill_number(page, "Learning rate", 0.005)
        page.wait_for_timeout(3_000)
        assert progress_position(page) > first
        page.get_by_test_id("stStatusWidget").get_by_role("button", name="Stop").click()
        page.wait_for_timeout(2_000)
        fill_number(page, "Batch size", 64)  # any widget: the page runs again and shows the job
        page.get_by_text("Test accuracy").wait_for(timeout=30_000)
        assert page.get_by_test_id("stMainBlockContainer").get_by_role("button", name="Continue").is_enabled()
        context.close()


def test_streamlits_own_stop_takes_a_queued_training_out_of_the_line(browser, mnist):
    """The toolbar's Stop, like the page's, and the page shows it without another click."""
    with streamlit_server(ROOT, {"PLAYGROUND_MAX_TRAININGS": "1"}) as url:
        first_context, first, second_context, second = queue_behind(browser, url)
        second.get_by_text("1st in line").wait_for()
        second.get_by_test_id("stStatusWidget").get_by_role("button", name="Stop").click()
        second.get_by_text("Stopped before it started").wait_for(timeout=5_000)
        assert not second.get_by_text("1st in line").is_visible()
        # and the running training shows its results the same way, without a click
        first.get_by_test_id("stStatusWidget").get_by_role("button", name="Stop").click()
        first.get_by_text("Test accuracy").wait_for(timeout=30_000)
        first_context.close()
        second_context.close()


def progress_position(page) -> tuple[int, int]:
    """(epoch, batch) of the progress line, "Epoch 1/50 · batch 37/223 · …"."""
    line = page.get_by_test_id("stProgress").first.inner_text()
    return int(line.split("Epoch ")[1].split("/")[0]), int(line.split("batch ")[1].split("/")[0])
