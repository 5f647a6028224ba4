"""Real-browser test of Build & Train: the live charts grow, and the results appear."""

from __future__ import annotations

import time

import pytest
from browser import chart_point_counts, choose_option, fill_number, open_page, streamlit_server
from conftest import ROOT, save_colour_cifar

pytestmark = pytest.mark.browser
ARTIFACTS = ROOT / "test-artifacts"
TRAINING_TIMEOUT_MS = 180_000
CIFAR_TIMEOUT_MS = 60_000


def test_training_charts_grow_live_and_results_appear(browser, mnist):
    with streamlit_server(ROOT) as url:
        page = open_page(browser, f"{url}/build_train", timeout_ms=60_000)
        page.get_by_text("press Train").wait_for()
        fill_number(page, "Training images", 8000)
        fill_number(page, "Epochs", 2)
        fill_number(page, "Batch size", 32)
        page.wait_for_timeout(500)
        page.get_by_role("button", name="Train", exact=True).click()
        page.get_by_text("images/s").first.wait_for()
        seen = []
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not page.get_by_text("Test accuracy").count():
            counts = chart_point_counts(page)
            if counts and (not seen or counts[0] != seen[-1]):
                seen.append(counts[0])
            time.sleep(0.1)
        page.get_by_text("Test accuracy").wait_for(timeout=TRAINING_TIMEOUT_MS)
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "build_train.png"), full_page=True)
        assert len(seen) >= 3, f"the loss chart should gain points several times, saw {seen}"
        assert seen == sorted(seen)
        accuracy = page.get_by_test_id("stMetricValue").first.inner_text()
        assert float(accuracy.rstrip("%")) > 80
        click_confusion_cell(page, true_class=3, predicted=3)
        page.set_viewport_size({"width": 1000, "height": 800})  # a small laptop, the sidebar open
        page.wait_for_timeout(1000)
        problems = axis_text_problems(page)
        assert not problems, f"the training chart's axis texts overlap or are cut off: {problems}"
        page.close()


def axis_text_problems(page) -> list:
    """The final training chart's axis titles and notes: pairs whose boxes overlap, and any
    that reach past the chart's edge."""
    chart = page.locator(".js-plotly-plot").filter(has_text="accuracy").first
    return chart.evaluate("""chart => {
        const boxes = [...chart.querySelectorAll('.xtitle, .x2title, .annotation-text')]
            .map(text => text.getBoundingClientRect());
        const edge = chart.getBoundingClientRect();
        const overlaps = boxes.filter(box => box.bottom > edge.bottom || box.left < edge.left
                                             || box.right > edge.right).map(box => ['cut off', box.bottom]);
        boxes.forEach((a, i) => boxes.slice(i + 1).forEach(b => {
            if (a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom)
                overlaps.push([a.left, a.right, b.left, b.right]);
        }));
        return overlaps;
    }""")


def click_confusion_cell(page, true_class: int, predicted: int) -> None:
    """Clicking a cell of the confusion matrix points the pickers at it and shows its images."""
    chart = page.locator(".js-plotly-plot").filter(has_text="predicted").first
    chart.scroll_into_view_if_needed()
    area = chart.locator(".nsewdrag").first.bounding_box()
    count = chart.evaluate(f"element => element.data[0].z[{true_class}][{predicted}]")
    page.mouse.click(area["x"] + (predicted + 0.5) * area["width"] / 10,
                     area["y"] + (true_class + 0.5) * area["height"] / 10)
    page.get_by_text(f"{count} test images", exact=True).wait_for()
    for label, value in (("True class", true_class), ("Predicted as", predicted)):
        picker = page.get_by_test_id("stSelectbox").filter(has_text=label)
        assert picker.locator("input").input_value() == str(value)


def test_the_fast_cifar_preset_trains_in_colour_and_names_its_classes(browser, tmp_path):
    """On a small cifar10.npz made here (each class its own colour), a few hundred images."""
    save_colour_cifar(tmp_path / "cifar10.npz", 1000, 200)
    with streamlit_server(ROOT, {"PLAYGROUND_DATA_DIR": str(tmp_path)}) as url:
        page = open_page(browser, f"{url}/build_train", timeout_ms=60_000)
        page.get_by_text("press Train").wait_for()
        choose_option(page, "Start from", "Fast CIFAR")
        page.get_by_text("8 layers · 310,026 parameters").wait_for()
        fill_number(page, "Training images", 800)
        fill_number(page, "Epochs", 1)
        page.wait_for_timeout(500)
        page.get_by_role("button", name="Train", exact=True).click()
        try:
            page.get_by_text("Test accuracy").wait_for(timeout=CIFAR_TIMEOUT_MS)
        finally:
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "build_train_cifar.png"), full_page=True)
        page.get_by_text("Random test images").wait_for()
        captions = page.get_by_test_id("stImageCaption").all_inner_texts()
        names = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
        assert any(name in caption for caption in captions for name in names), captions[:4]
        page.screenshot(path=str(ARTIFACTS / "build_train_cifar.png"), full_page=True)
        page.close()
