"""Real-browser tests: what only a browser shows, such as drawing on the canvas."""

from __future__ import annotations

import re

import numpy as np
import pytest
from browser import open_page, streamlit_server, wait_for_pictures
from conftest import ROOT
from PIL import Image

pytestmark = pytest.mark.browser
ARTIFACTS = ROOT / "test-artifacts"
PAGE_TIMEOUT_MS = 60_000


@pytest.fixture(scope="module")
def app_url(resnet50_weights):
    with streamlit_server(ROOT, {"PLAYGROUND_RESNET50_WEIGHTS": str(resnet50_weights)}) as url:
        yield url


def draw_seven(page, canvas_box) -> None:
    left, top = canvas_box["x"], canvas_box["y"]
    width, height = canvas_box["width"], canvas_box["height"]
    points = [(0.25, 0.2), (0.75, 0.2), (0.45, 0.85)]
    page.mouse.move(left + points[0][0] * width, top + points[0][1] * height)
    page.mouse.down()
    for x, y in points[1:]:
        page.mouse.move(left + x * width, top + y * height, steps=15)
    page.mouse.up()


def test_drawing_on_the_canvas_shows_a_prediction(browser, app_url):
    page = open_page(browser, f"{app_url}/draw", 1280, 900, timeout_ms=PAGE_TIMEOUT_MS)
    page.get_by_text("Draw a digit from 0 to 9").wait_for()
    canvas = page.locator("canvas").first
    canvas.wait_for()
    draw_seven(page, canvas.bounding_box())
    prediction = page.get_by_text("Prediction:")
    prediction.wait_for()
    page.locator(".js-plotly-plot").first.wait_for()
    page.get_by_text("What the model sees").wait_for()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "draw.png"), full_page=True)
    assert re.fullmatch(r"Prediction: 7 \(\d+\.\d%\)", prediction.inner_text()), prediction.inner_text()
    # The first visit to a fresh server opened /draw directly: app.py must still route it.
    sidebar = page.get_by_test_id("stSidebarNav")
    assert sidebar.get_by_role("link", name="Home").is_visible()
    assert sidebar.get_by_role("link", name="common").count() == 0
    page.close()


def test_inspect_walks_through_the_digit_drawn_on_draw(browser, app_url):
    page = open_page(browser, f"{app_url}/draw", 1400, 2400, timeout_ms=PAGE_TIMEOUT_MS)
    canvas = page.locator("canvas").first
    canvas.wait_for()
    draw_seven(page, canvas.bounding_box())
    page.get_by_text("Prediction:").wait_for()
    drawn = page.get_by_text("Prediction:").inner_text()
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Inspect").click()
    page.get_by_text("conv2d · Conv2D · output 26 × 26 × 32").wait_for()
    page.get_by_text("MaxPooling2D · output 4 × 4 × 64").wait_for()
    wait_for_pictures(page, 11)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "inspect.png"))
    # The same drawing, so the same prediction as on Draw.
    assert page.get_by_text("Prediction:").inner_text() == drawn
    page.close()


def test_a_photo_upload_shows_its_top_1(browser, app_url, tmp_path, photo_classifier):
    """The page's top-1 is a direct Keras call's on the same photo and the same (seeded) weights."""
    from playground.data.images import open_picture
    from playground.explain.photos import center_square, class_names, model_input

    photo = tmp_path / "street.jpg"
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 256, (480, 640, 3), np.uint8)).save(photo)
    page = open_page(browser, f"{app_url}/photos", 1280, 1400, timeout_ms=PAGE_TIMEOUT_MS)
    page.get_by_text("Upload one or more photos").wait_for()
    page.locator("input[type=file]").set_input_files(str(photo))
    top = page.get_by_text("Top-1:")
    top.wait_for()
    page.get_by_text("Grad-CAM: where the photo").wait_for()
    wait_for_pictures(page, 3)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "photos.png"))
    square = center_square(open_picture(photo.read_bytes(), photo.name, smallest_side=224))
    scores = np.asarray(photo_classifier.model(model_input(square), training=False))[0]
    best = int(scores.argmax())
    assert top.inner_text() == f"Top-1: {class_names()[best]} ({scores[best]:.1%})"
    page.close()


def test_editing_the_kernel_changes_the_convolution(browser, app_url):
    from playwright.sync_api import expect

    page = open_page(browser, f"{app_url}/how_it_works", 1400, 1200, timeout_ms=PAGE_TIMEOUT_MS)
    page.get_by_text("Output size").first.wait_for()
    arithmetic = page.locator("pre code").first
    assert arithmetic.inner_text().startswith("1×1 + 0×-1")
    grid = page.get_by_test_id("stDataFrame").first
    grid.locator("canvas").first.wait_for()
    kernel = grid.bounding_box()
    header, row = 35, 34  # the grid's header height and row height, in pixels
    page.mouse.dblclick(kernel["x"] + 25, kernel["y"] + header + row / 2)  # the top-left weight
    editor = page.locator(".gdg-input").first  # the cell editor that the double click opened
    editor.fill("5")
    editor.press("Enter")
    expect(arithmetic).to_contain_text("1×5 + 0×-1", timeout=PAGE_TIMEOUT_MS)
    assert arithmetic.inner_text().endswith("= 7")  # the X's top-left 1 now counts five times
    page.close()


def test_all_three_kernel_columns_show_on_a_small_screen(browser, app_url):
    """A 1,000-pixel-wide window with the sidebar open: the kernel editor must not hide a
    column behind a scroll bar."""
    page = open_page(browser, f"{app_url}/how_it_works", 1000, 800, timeout_ms=PAGE_TIMEOUT_MS)
    grid = page.get_by_test_id("stDataFrame").first
    grid.locator("canvas").first.wait_for()
    widths = grid.evaluate("frame => { const scroller = frame.querySelector('.dvn-scroller'); "
                           "return [scroller.scrollWidth, scroller.clientWidth]; }")
    assert widths[0] <= widths[1], f"the kernel is {widths[0]} px wide but shows {widths[1]} px"
    page.close()


def cut_short(button) -> bool:
    """Whether any part of the button's label is cut off (shown with an ellipsis)."""
    return button.evaluate("button => [...button.querySelectorAll('*')]"
                           ".some(part => part.scrollWidth > part.clientWidth + 1)")


@pytest.mark.parametrize(("path", "label", "ready"), [
    ("draw", "Pick a test image", "Draw a digit from 0 to 9"),
    ("inspect", "Random test image", "Prediction:"),
])
def test_buttons_show_their_whole_label_on_a_small_screen(browser, app_url, path, label, ready):
    page = open_page(browser, f"{app_url}/{path}", 1000, 800, timeout_ms=PAGE_TIMEOUT_MS)
    page.get_by_text(ready).first.wait_for()
    assert not cut_short(page.get_by_role("button", name=label)), f"{label!r} is cut short"
    page.close()
