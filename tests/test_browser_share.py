"""Real-browser test of share links: a link opened in a fresh browser context shows the same network."""

from __future__ import annotations

import pytest
from browser import choose_option, fill_number, open_page, streamlit_server
from conftest import ROOT

pytestmark = pytest.mark.browser
ARTIFACTS = ROOT / "test-artifacts"


def layer_labels(page) -> list[str]:
    return page.get_by_test_id("stSidebar").get_by_test_id("stExpander").locator("summary").all_inner_texts()


def test_a_shared_link_opens_the_same_network_in_a_fresh_browser(browser):
    with streamlit_server(ROOT) as url:
        teacher = open_page(browser, f"{url}/build_train", timeout_ms=60_000)
        teacher.get_by_text("press Train").wait_for()
        choose_option(teacher, "Start from", "Slides: Conv32 → Conv64 → Conv64 → Dense64")
        teacher.get_by_text("8 layers · 93,322 parameters").wait_for()
        fill_number(teacher, "Epochs", 7)
        teacher.wait_for_function("() => location.search.includes('ep=7')")
        teacher.get_by_role("button", name="Copy link").click()
        shown = teacher.get_by_test_id("stCode").inner_text()
        link = teacher.url
        assert shown.strip() == link, (shown, link)
        expected = layer_labels(teacher)

        learner = open_page(browser, link, 390, 844, timeout_ms=60_000)  # a phone, in a fresh context
        learner.get_by_text("Build & Train").first.wait_for()
        learner.get_by_test_id("stExpandSidebarButton").click()  # the phone opens with the sidebar shut
        learner.get_by_text("8 layers · 93,322 parameters").wait_for()
        assert layer_labels(learner) == expected
        assert learner.get_by_label("Epochs", exact=True).input_value() == "7"
        ARTIFACTS.mkdir(exist_ok=True)
        learner.screenshot(path=str(ARTIFACTS / "shared_link_phone.png"), full_page=True)
        teacher.screenshot(path=str(ARTIFACTS / "shared_link_desktop.png"))
