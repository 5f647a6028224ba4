"""AppTest runs of Photos, with ResNet50's seeded local weights file (see conftest)."""

import numpy as np
import pytest
from conftest import open_app_page
from PIL import Image
from streamlit.testing.v1 import AppTest
from test_app import APP, TIMEOUT, run_like_a_started_server  # noqa: F401 - an autouse fixture
from test_images import bomb_png, encoded

from playground.explain.photos import WEIGHTS_VARIABLE, center_square, class_names, model_input

PAGE = "pages/photos.py"


@pytest.fixture
def fresh_model_cache():
    from pages.parts.common import photo_classifier

    photo_classifier.clear()
    yield
    photo_classifier.clear()


@pytest.fixture
def page(monkeypatch, resnet50_weights) -> AppTest:
    monkeypatch.setenv(WEIGHTS_VARIABLE, str(resnet50_weights))
    return open_app_page(PAGE)


def a_photo(seed: int) -> Image.Image:
    return Image.fromarray(np.random.default_rng(seed).integers(0, 256, (360, 480, 3), np.uint8))


def top_lines(app) -> list[str]:
    return [item.value for item in app.markdown if item.value.startswith("#### Top-1: ")]


def test_asks_for_photos_and_loads_no_model_before(page):
    assert "Upload one or more photos" in page.info[0].value
    assert not page.error


@pytest.mark.slow
def test_each_photo_gets_its_top_3(page, photo_classifier):
    files = [("cat.jpg", encoded(a_photo(0), "JPEG", quality=95), "image/jpeg"),
             ("dog.png", encoded(a_photo(1), "PNG"), "image/png"),
             ("scan.tif", encoded(a_photo(4), "TIFF"), "image/tiff")]
    page.file_uploader(key="photo_uploads").set_value(files).run()
    assert not page.exception and not page.error
    lines = top_lines(page)
    assert len(lines) == 3
    for (name, raw, _), line in zip(files, lines, strict=True):
        from playground.data.images import open_picture

        square = center_square(open_picture(raw, name, smallest_side=224))
        scores = np.asarray(photo_classifier.model(model_input(square), training=False))[0]
        best = int(scores.argmax())
        assert line == f"#### Top-1: {class_names()[best]} ({scores[best]:.1%})"
    assert len(page.get("plotly_chart")) == 3
    assert len(page.get("image")) == 3 * 3  # the photo, Grad-CAM, the early maps
    assert "local weights file" in page.caption[0].value


def test_bad_files_are_named_and_the_good_ones_still_shown(page):
    files = [
        ("good.jpg", encoded(a_photo(2), "JPEG"), "image/jpeg"),
        ("empty.png", b"", "image/png"),
        ("text.jpg", b"hello, this is text", "image/jpeg"),
        ("bomb.png", bomb_png(), "image/png"),
        ("cut.jpg", encoded(a_photo(3), "JPEG")[:2000], "image/jpeg"),
        ("drawing.png", b"<svg xmlns='http://www.w3.org/2000/svg'/>", "image/png"),
        ("gray.png", encoded(Image.new("L", (50, 40), 90), "PNG"), "image/png"),
    ]
    page.file_uploader(key="photo_uploads").set_value(files).run()
    assert not page.exception
    errors = [item.value for item in page.error]
    for name in ("empty.png", "text.jpg", "bomb.png", "cut.jpg", "drawing.png"):
        assert sum(message.startswith(name) for message in errors) == 1, (name, errors)
    assert len(top_lines(page)) == 2  # good.jpg and gray.png


def test_too_many_photos_are_capped_with_a_message(page):
    raw = encoded(Image.new("RGB", (32, 32), "white"), "PNG")
    files = [(f"white{index}.png", raw, "image/png") for index in range(13)]
    page.file_uploader(key="photo_uploads").set_value(files).run()
    assert "Showing the first 12 of 13 photos" in page.warning[0].value
    assert len(top_lines(page)) == 12


def test_missing_weights_give_a_fix_and_the_app_goes_on(monkeypatch, tmp_path, fresh_model_cache):
    monkeypatch.setenv(WEIGHTS_VARIABLE, str(tmp_path / "missing.h5"))
    app = AppTest.from_file(APP, default_timeout=TIMEOUT)
    app.run()
    app.switch_page(PAGE).run()
    app.file_uploader(key="photo_uploads").upload("a.png", encoded(a_photo(4), "PNG"), "image/png").run()
    assert not app.exception
    assert f"{WEIGHTS_VARIABLE} names" in app.error[0].value and "does not exist" in app.error[0].value
    app.switch_page("pages/how_it_works.py").run()
    assert not app.exception and app.title[0].value == "How it works"


@pytest.mark.slow
def test_camera_photo_is_classified_too(page):
    page.toggle(key="photo_camera_on").set_value(True).run()
    assert not page.exception
    assert not top_lines(page)
    page.get("camera_input")[0].upload("camera.jpg", encoded(a_photo(5), "JPEG")).run()
    assert not page.exception
    assert len(top_lines(page)) == 1
    assert any(picture.caption == "camera.jpg" for image in page.get("image") for picture in image.proto.imgs)
