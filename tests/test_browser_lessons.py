"""Real-browser test of a lesson: a step's button opens Build & Train with the step's network,
the step stays in the sidebar, and its goal shows as met when the training ends."""

from __future__ import annotations

import pytest
from browser import open_page, streamlit_server
from conftest import ROOT

pytestmark = pytest.mark.browser
ARTIFACTS = ROOT / "test-artifacts"
GOAL = "test accuracy of at least 98.0% on MNIST"


def test_a_step_opens_its_network_and_its_goal_is_met_when_training_ends(browser):
    with streamlit_server(ROOT) as url:
        page = open_page(browser, f"{url}/lessons", timeout_ms=60_000)
        page.get_by_text("Your first CNN (0/5 done").click()
        page.get_by_text("Step 3. Train the seed network").click()
        page.get_by_role("button", name="Open it with its network").click()
        page.get_by_role("heading", name="Build & Train").first.wait_for()
        sidebar = page.get_by_test_id("stSidebar")
        sidebar.get_by_text("9 layers · 111,610 parameters").wait_for()
        panel = sidebar  # the lesson's panel sits at the sidebar's top
        panel.get_by_text("Step 3. Train the seed network").wait_for()
        assert "radio_button_unchecked" in panel.get_by_text(GOAL).inner_text()
        assert page.get_by_label("Epochs", exact=True).input_value() == "1"
        page.get_by_test_id("stMainBlockContainer").get_by_role("button", name="Train", exact=True).click()
        page.get_by_test_id("stMetricLabel").filter(has_text="Test accuracy").wait_for(timeout=180_000)
        panel.get_by_text("1 of 5 steps done").wait_for(timeout=10_000)
        assert "check_circle" in panel.get_by_text(GOAL).inner_text()
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "lesson_goal_met.png"))
        panel.get_by_role("button", name="Next").click()  # step 4 happens on Inspect
        page.get_by_role("heading", name="Inspect").first.wait_for()
        page.get_by_test_id("stSidebar").get_by_text("Step 4. Follow a digit inside").wait_for()
