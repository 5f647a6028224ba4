"""axe-core (from npm, as .ci/run installs it) on every page: no critical or serious findings,
except those the README's accessibility section explains."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from browser import fill_number, open_page, streamlit_server
from conftest import ROOT, skip_unless_ci

from pages.parts.page_list import PAGE_NAMES

pytestmark = pytest.mark.browser
AXE_SCRIPT = Path(os.environ.get("AXE_CORE_JS", ROOT / ".axe" / "node_modules" / "axe-core" / "axe.min.js"))
PAGES = ("", *PAGE_NAMES[1:])  # every page, Home at its own address
# Findings explained in the README's accessibility section, by axe rule: none at present.
EXPLAINED: dict[str, str] = {}
RUN_AXE = """async () => {
  const result = await axe.run(document, {resultTypes: ['violations']});
  const where = node => node.html.slice(0, 100) + ' | ' + JSON.stringify(node.any.map(check => check.data));
  return result.violations
    .filter(violation => ['critical', 'serious'].includes(violation.impact))
    .map(violation => ({rule: violation.id, impact: violation.impact, help: violation.help,
                        where: violation.nodes.slice(0, 4).map(where)}));
}"""


def wait_until_idle(page) -> None:
    """Streamlit fades the page while a script runs, and shows its status widget (with a Stop
    button): axe and the keyboard must meet the page at rest."""
    page.get_by_test_id("stMainBlockContainer").wait_for()
    page.wait_for_timeout(500)
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]') && "
                           "!document.querySelector('[data-testid=\"stSpinner\"]') && "
                           "!document.querySelector('[data-stale=\"true\"]')")
    page.wait_for_timeout(1000)


def audit(page) -> list[dict]:
    wait_until_idle(page)
    if not page.evaluate("() => typeof axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE_SCRIPT))
    return [item for item in page.evaluate(RUN_AXE) if item["rule"] not in EXPLAINED]


def test_no_page_has_critical_or_serious_accessibility_findings(browser, resnet50_weights, mnist, tmp_path):
    """Each page at first sight, and with its results: a test image on Draw, a trained network's
    results on Build & Train, a lesson's step open, a teacher's new room, a photo's classes on Photos."""
    from PIL import Image
    from test_images import encoded

    if not AXE_SCRIPT.is_file():
        skip_unless_ci(f"axe-core is not installed ({AXE_SCRIPT}); .ci/run installs it with npm.")
    photo = tmp_path / "photo.png"
    photo.write_bytes(encoded(Image.new("RGB", (320, 240), (40, 120, 200)), "PNG"))
    findings = {}
    environment = {"PLAYGROUND_RESNET50_WEIGHTS": str(resnet50_weights),
                   "PLAYGROUND_DATABASE_URL": f"sqlite:///{tmp_path / 'board.sqlite'}"}
    with streamlit_server(ROOT, environment) as url:
        for path in PAGES:
            page = open_page(browser, f"{url}/{path}", 1280, 900, timeout_ms=90_000)
            findings[path or "home"] = audit(page)
            if path == "draw":
                page.get_by_role("button", name="Pick a test image").click()
                page.get_by_text("Prediction:").wait_for()
                findings["draw, a test image"] = audit(page)
            if path == "build_train":
                fill_number(page, "Training images", 600)
                page.wait_for_timeout(500)
                page.get_by_role("button", name="Train", exact=True).click()
                page.get_by_text("Test accuracy").wait_for()
                findings["build_train, results"] = audit(page)
            if path == "lessons":
                page.get_by_text("Step 1. Draw a digit").click()
                findings["lessons, a step open"] = audit(page)
            if path == "board":
                page.get_by_role("button", name="Open the room").click()
                page.get_by_text("No results yet").wait_for()
                findings["board, a teacher's room"] = audit(page)
            if path == "photos":
                page.locator("input[type=file]").set_input_files(str(photo))
                page.get_by_text("Top-1:").wait_for()
                findings["photos, a photo"] = audit(page)
            page.close()
    findings = {state: found for state, found in findings.items() if found}
    assert not findings, findings


def tab_to(page, name: str, presses: int = 80) -> None:
    """Press Tab until the focused element is the button called `name`, as a keyboard user would."""
    for _ in range(presses):
        page.keyboard.press("Tab")
        focused = page.evaluate("() => document.activeElement ? document.activeElement.innerText.trim() : ''")
        if focused.split("\n")[-1] == name:  # after the icon's name, if the button has one
            return
    raise AssertionError(f"{name!r} could not be reached with the Tab key (last: {focused!r})")


def test_draw_and_training_work_by_keyboard_alone(browser, mnist):
    with streamlit_server(ROOT) as url:
        page = open_page(browser, f"{url}/draw", 1280, 900, timeout_ms=90_000)
        page.get_by_text("Draw a digit from 0 to 9").wait_for()
        wait_until_idle(page)
        tab_to(page, "Pick a test image")
        page.keyboard.press("Enter")
        page.get_by_text("Prediction:").wait_for()
        page.goto(f"{url}/build_train")
        page.get_by_text("press Train").wait_for()
        wait_until_idle(page)
        page.get_by_label("Training images", exact=True).focus()
        page.keyboard.press("Control+A")
        page.keyboard.type("600")
        page.keyboard.press("Enter")
        wait_until_idle(page)
        tab_to(page, "Train")
        page.keyboard.press("Enter")
        page.get_by_text("Test accuracy").wait_for()
        page.close()
