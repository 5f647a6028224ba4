"""AppTest runs of every page: the real scripts, in-process, without a browser."""

import subprocess
import sys
import types

import numpy as np
import pytest
from apptest_routing import route_like_a_started_server
from conftest import APP, APP_TIMEOUT, open_app_page
from PIL import Image, ImageDraw
from streamlit.testing.v1 import AppTest

TIMEOUT = APP_TIMEOUT


def vertical_stroke() -> np.ndarray:
    image = Image.new("RGBA", (300, 300), "black")
    ImageDraw.Draw(image).line([(150, 40), (150, 260)], fill="white", width=22)
    return np.asarray(image)


@pytest.fixture(autouse=True)
def run_like_a_started_server(monkeypatch):
    """Run app.py as the router on every AppTest run, as a real server does.

    AppTest resets Streamlit's "there is a pages/ folder" flag before every run, so each
    run would start in the old multipage mode that a real server leaves after its first
    run (see `pages.common.route_through_app`, and the browser test for that first run).
    """
    route_like_a_started_server(monkeypatch)


@pytest.fixture
def canvas_drawing(monkeypatch):
    """Stand in for the canvas component, which AppTest cannot draw on.

    Returns a one-item list whose item the canvas gives as its drawing (RGBA, as decoded from
    the browser's PNG), and the list of the canvas's calls.
    """
    drawing, calls = [None], []

    def fake_canvas(side, stroke, key):
        calls.append({"side": side, "stroke": stroke, "key": key})
        return drawing[0]

    module = types.ModuleType("pages.parts.canvas")
    module.digit_canvas = fake_canvas
    monkeypatch.setitem(sys.modules, "pages.parts.canvas", module)
    return drawing, calls


def test_home_page_introduces_the_playground():
    app = open_app_page("pages/home.py")
    assert app.title[0].value == "CNN Playground"
    assert "convolutional neural networks" in app.markdown[0].value


def test_home_page_does_not_import_tensorflow():
    script = (
        "import sys\n"
        "from streamlit.testing.v1 import AppTest\n"
        f"app = AppTest.from_file({APP!r}, default_timeout=30).run()\n"
        "assert not app.exception, app.exception\n"
        "print('tensorflow' in sys.modules, 'keras' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-2:] == ["False", "False"]


def test_an_old_or_foreign_training_link_opens_the_page_as_usual():
    """A URL with a ticket nobody holds (an old bookmark, a classmate's link): no error, the
    ticket leaves the URL, and the home page still imports no TensorFlow."""
    script = (
        "import sys\n"
        "from streamlit.testing.v1 import AppTest\n"
        f"app = AppTest.from_file({APP!r}, default_timeout=30)\n"
        "app.query_params['run'] = 'not-a-ticket-anyone-holds'\n"
        "app.run()\n"
        "assert not app.exception, app.exception\n"
        "assert 'run' not in app.query_params, dict(app.query_params)\n"
        "assert app.title[0].value == 'CNN Playground'\n"
        "print('tensorflow' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-1] == "False"


def test_draw_page_asks_for_a_digit_on_a_blank_canvas():
    """With the real canvas component, which starts empty."""
    app = open_app_page("pages/draw.py")
    assert "Draw a digit from 0 to 9" in app.info[0].value
    assert "Default model" in app.caption[0].value
    assert not [heading for heading in app.subheader if "Prediction" in heading.value]


def test_draw_page_classifies_a_drawing(canvas_drawing, default_classifier):
    drawing, _ = canvas_drawing
    drawing[0] = vertical_stroke()
    app = open_app_page("pages/draw.py")
    from playground.data.drawing import preprocess_digit

    # the shipped model ends in softmax: a direct call gives the probabilities, without Classifier
    model_input = preprocess_digit(drawing[0])[np.newaxis]
    probabilities = np.asarray(default_classifier.model(model_input, training=False))[0]
    assert probabilities.argmax() == 1, "the default model should read a vertical stroke as 1"
    assert app.subheader[0].value == f"Prediction: 1 ({probabilities[1]:.1%})"
    assert len(app.get("plotly_chart")) == 1
    assert len(app.get("image")) == 1


def test_clear_gives_the_canvas_a_new_key(canvas_drawing):
    _, calls = canvas_drawing
    app = open_app_page("pages/draw.py")
    first_key = calls[-1]["key"]
    app.button[0].click().run()
    assert calls[-1]["key"] != first_key


def test_draw_page_uses_the_session_model_and_says_so(canvas_drawing):
    from playground.models.building import Classifier, build_model
    from playground.spec.presets import preset

    drawing, _ = canvas_drawing
    drawing[0] = vertical_stroke()
    app = AppTest.from_file(APP, default_timeout=TIMEOUT)
    app.run()
    app.session_state["session_classifier"] = Classifier(
        build_model(preset("Blog: Dense-only baseline")), "Your model", tuple("0123456789"),
        description="trained on Build & Train")
    app.switch_page("pages/draw.py").run()
    assert not app.exception
    assert "Your model" in app.caption[0].value
    assert app.subheader[0].value.startswith("Prediction: ")


def test_streamlit_does_not_clear_keras_after_each_rerun(monkeypatch):
    """Streamlit calls keras.backend.clear_session() after every script run: 0.19 s of server
    CPU per rerun, and TensorFlow's kernel cache cleared under running trainings."""
    import keras
    from streamlit.runtime.scriptrunner import script_runner

    cleared = []
    monkeypatch.setattr(keras.backend, "clear_session", lambda *args, **kwargs: cleared.append(1))
    # Streamlit's own clean-up, as it is before app.py has run in this process.
    monkeypatch.setattr(script_runner, "_clean_problem_modules", lambda: keras.backend.clear_session())
    app = AppTest.from_file(APP, default_timeout=TIMEOUT)
    app.run()
    app.switch_page("pages/draw.py").run()
    assert not app.exception
    assert cleared == []


def test_the_streamlit_clean_up_that_the_app_replaces_is_still_there():
    """If a Streamlit upgrade renames or stops this, keep_keras_between_reruns must be revisited."""
    import inspect

    from streamlit.runtime.scriptrunner import script_runner

    source = inspect.getsource(script_runner)
    assert "_log_if_error(_clean_problem_modules)" in source
    assert "backend.clear_session()" in source


def test_the_private_streamlit_api_the_app_relies_on_is_still_there():
    """pages/parts/common.py reaches into Streamlit (checked on 1.67) in three places. An upgrade
    that renames any of these must fail here, not silently in a classroom."""
    import inspect

    from streamlit.runtime import Runtime
    from streamlit.runtime.app_session import AppSession
    from streamlit.runtime.pages_manager import PagesManager
    from streamlit.runtime.scriptrunner import script_runner

    assert isinstance(PagesManager.uses_pages_directory, (bool, type(None)))  # route_through_app
    assert "self._session_mgr" in inspect.getsource(Runtime.__init__)  # this_run_still_current
    assert "self._scriptrunner" in inspect.getsource(AppSession.__init__)
    assert "self._script_thread" in inspect.getsource(script_runner.ScriptRunner.__init__)
    assert callable(getattr(script_runner, "_mpa_v1", None))  # tests/apptest_routing.py


def test_draw_offers_a_test_image_to_those_who_cannot_draw(canvas_drawing, mnist, default_classifier):
    app = open_app_page("pages/draw.py")
    app.button(key="draw_test_image").click().run()
    assert not app.exception, app.exception
    caption = next(item.value for item in app.caption if "MNIST test image" in item.value)
    index = int(caption.split("test image ")[1].split(",")[0])
    label = mnist.class_names[mnist.y_test[index]]
    assert f"true label **{label}**" in caption
    expected = np.asarray(default_classifier.model(mnist.x_test[index][np.newaxis], training=False))[0]
    best = int(expected.argmax())
    assert app.subheader[0].value == f"Prediction: {best} ({expected[best]:.1%})"
    assert any(item.value.startswith(f"Most likely: {best} ") for item in app.caption)
    assert app.session_state["last_digit"] is not None, "Inspect can follow the picked image"
