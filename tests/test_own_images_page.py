"""Your images, as AppTest runs it: collecting, training, results, and sessions kept apart."""

from __future__ import annotations

import io
import time

import numpy as np
import pytest
from conftest import open_app_page
from PIL import Image
from test_own_images import a_zip

PAGE = "pages/own_images.py"
TRAINING_SECONDS = 120


@pytest.fixture(autouse=True)
def routed_once(monkeypatch):
    """AppTest forgets, before every run, that app.py routes (it resets Streamlit's flag for a
    pages/ folder), so the router's one-time rerun would come on every run and eat a click."""
    monkeypatch.setattr("pages.parts.streamlit_private.route_through_app", lambda: None)


def button(app, label):
    return next(item for item in app.button if item.label == label)


def wait_for_training(app):
    job = app.session_state["training_job"]
    deadline = time.monotonic() + TRAINING_SECONDS
    while job.snapshot().active and time.monotonic() < deadline:
        time.sleep(0.5)
    app.run()
    return job.snapshot()


def class_names(app):
    return [box.value for box in app.text_input if box.label == "Class name"]


def test_the_page_opens_with_two_empty_classes_and_explains_privacy():
    app = open_app_page(PAGE)
    assert class_names(app) == ["Class 1", "Class 2"]
    text = " ".join(item.value for item in app.markdown)
    assert "nothing is written to" in text and "Shared links never carry" in text


def test_training_with_too_few_images_says_so_in_one_line():
    app = open_app_page(PAGE)
    button(app, "Train").click().run()
    assert not app.exception
    assert "needs at least" in app.error[0].value and "\n" not in app.error[0].value


@pytest.mark.slow
def test_the_sample_set_trains_and_shows_per_class_results(monkeypatch):
    monkeypatch.setattr("playground.jobs.process_link.SEPARATE_PROCESS", False)
    app = open_app_page(PAGE)
    button(app, "Load the sample set").click().run()
    assert class_names(app) == ["trouser", "sneaker", "bag"]
    app.number_input(key="own_epochs").set_value(8).run()
    button(app, "Train").click().run()
    assert not app.exception and not app.error, [item.value for item in app.error]
    snapshot = wait_for_training(app)
    assert snapshot.state == "finished", snapshot.error
    assert not app.exception
    assert "Test accuracy" in [metric.label for metric in app.metric]
    assert any("held-out" in header.value for header in app.header)
    assert app.session_state["session_classifier"].class_names == ("trouser", "sneaker", "bag")
    app.switch_page("pages/inspect.py").run()  # one of the learner's own held-out pictures, inside
    assert not app.exception, app.exception
    assert any("your images test image 0" in item.value for item in app.caption)
    assert app.subheader[0].value.startswith("Prediction: ")


def picture_bytes(colour, size=(40, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format="PNG")
    return buffer.getvalue()


def test_two_sessions_never_see_each_others_images():
    first, second = open_app_page(PAGE), open_app_page(PAGE)
    button(first, "Load the sample set").click().run()
    assert first.session_state["own_image_set"].count == 90
    second.run()
    assert second.session_state["own_image_set"].count == 0
    assert class_names(second) == ["Class 1", "Class 2"]


def test_a_class_name_with_markdown_and_html_is_kept_as_text():
    from playground.data.own_images import ImageSet

    images = ImageSet()
    name = "**bold** <img src=x onerror=alert(1)>"
    images.add_zip(a_zip({f"{name}/a.png": picture_bytes((255, 0, 0))}), "classes.zip")
    app = open_app_page(PAGE, own_image_set=images)
    assert "**bold** <img src=x onerror=alert(1)>" in class_names(app)
    assert not app.exception
    assert np.asarray(images.classes["**bold** <img src=x onerror=alert(1)>"][0].pixels).shape == (64, 64, 3)


def test_your_own_stack_from_the_builder_must_end_with_one_unit_per_class():
    from playground.data.own_samples import sample_set

    app = open_app_page(PAGE, own_image_set=sample_set())
    app.radio(key="own_start").set_value("stack").run()
    assert not app.exception
    assert "must end with 3 values" in app.error[0].value  # the builder's preset ends with Dense 10
    assert button(app, "Train").disabled
    last = app.session_state["builder_layers"][-1]
    app.sidebar.number_input(key=f"layer_{last['uid']}_units").set_value(3).run()
    assert not app.error, [item.value for item in app.error]
    assert not button(app, "Train").disabled


def test_each_start_brings_its_own_epochs_and_augmentations():
    from playground.models.own_networks import default_epochs

    app = open_app_page(PAGE)
    assert app.number_input(key="own_epochs").value == default_epochs("scratch")
    assert app.session_state["own_augmentations"] == ["flip", "shift", "rotate", "zoom", "brightness",
                                                      "contrast"]
    app.radio(key="own_start").set_value("cifar10").run()
    assert app.number_input(key="own_epochs").value == default_epochs("cifar10") != default_epochs("scratch")
    assert app.session_state["own_augmentations"] == ["flip", "shift", "zoom"]  # a frozen base's
    app.radio(key="own_start").set_value("scratch").run()
    assert len(app.session_state["own_augmentations"]) == 6
    assert not app.exception


def test_the_sample_set_shows_its_own_names_after_a_class_was_added():
    app = open_app_page(PAGE)
    button(app, "Add a class").click().run()
    button(app, "Load the sample set").click().run()
    assert class_names(app) == ["trouser", "sneaker", "bag"]
