"""AppTest runs of Inspect and How it works."""

import base64
import io
import json
import subprocess
import sys

import numpy as np
import pytest
from conftest import ROOT, open_app_page
from PIL import Image, ImageDraw
from streamlit.testing.v1 import AppTest
from test_app import APP, TIMEOUT, run_like_a_started_server  # noqa: F401 - an autouse fixture
from test_inspection import STACK_WITH_EVERYTHING, nested_upload, wrapped_cnn

from playground.models.building import Classifier, build_model
from playground.spec.presets import PRESETS, preset

INSPECT = "pages/inspect.py"
HOW = "pages/how_it_works.py"


def open_page(page: str, classifier=None, last_digit=None) -> AppTest:
    state = {"session_classifier": classifier, "last_digit": last_digit}
    return open_app_page(page, **{key: value for key, value in state.items() if value is not None})


def layer_headings(app) -> list[str]:
    return [item.value for item in app.markdown if item.value.startswith("**") and " · " in item.value]


def image_captions(app) -> list[str]:
    return [picture.caption for image in app.get("image") for picture in image.proto.imgs]


def png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def written_digit_one() -> Image.Image:
    """Dark ink on white paper, off-centre in a wide photo: the opposite of MNIST's layout."""
    image = Image.new("RGB", (400, 240), "white")
    ImageDraw.Draw(image).line([(90, 30), (90, 210)], fill="black", width=18)
    return image


def test_a_first_visit_opens_on_a_test_image_with_every_layer(mnist, default_classifier):
    app = open_page(INSPECT)
    assert app.segmented_control(key="inspect_source").value == "Test image"
    assert any(f"true label **{mnist.y_test[0]}**" in item.value for item in app.caption)
    assert len(layer_headings(app)) == len(default_classifier.model.layers) - 1
    app.segmented_control(key="inspect_source").set_value("Last drawing").run()
    assert "No drawing yet" in app.info[0].value
    assert not layer_headings(app)


def test_inspect_walks_through_the_last_drawing(default_classifier, mnist):
    digit = mnist.x_test[0]
    app = open_page(INSPECT, last_digit=digit)
    expected = np.asarray(default_classifier.model(digit[np.newaxis], training=False))[0]  # softmax out
    assert app.subheader[0].value == f"Prediction: 7 ({expected[7]:.1%})"
    headings = layer_headings(app)
    assert len(headings) == len(default_classifier.model.layers) - 1
    assert headings[0] == "**conv2d** · Conv2D · output **26 × 26 × 32**"
    assert any("MaxPooling2D · output **12 × 12 × 32**" in heading for heading in headings)
    captions = image_captions(app)
    assert "in: 24 × 24 × 32" in captions and "out: 12 × 12 × 32, same scale" in captions
    assert any("one row of **1,024** numbers" in item.value for item in app.markdown)
    # the input, six grids of conv or BN maps, two pooling pairs: one image per grid, none per map
    assert len(app.get("image")) == 1 + 6 + 2 * 2
    # saliency, dense bars, softmax; the filters tab's two heatmaps
    assert len(app.get("plotly_chart")) == 1 + 2 + 2


def test_inspect_shows_a_test_image_and_its_label(mnist):
    app = open_page(INSPECT)
    app.segmented_control(key="inspect_source").set_value("Test image").run()
    app.number_input(key="inspect_test_index").set_value(1).run()
    assert not app.exception
    label = mnist.class_names[mnist.y_test[1]]
    assert any(f"true label **{label}**" in item.value for item in app.caption)
    assert app.subheader[0].value.startswith(f"Prediction: {label} ")
    app.button(key="inspect_random").click().run()
    assert app.subheader[0].value.startswith("Prediction: ")


@pytest.mark.slow
@pytest.mark.parametrize("stack_name", [*PRESETS, "every layer type"])
def test_every_preset_and_layer_type_can_be_inspected(stack_name):
    stack = STACK_WITH_EVERYTHING if stack_name == "every layer type" else preset(stack_name)
    model = build_model(stack)
    digit = np.random.default_rng(0).random((28, 28, 1)).astype(np.float32)
    app = open_page(INSPECT, Classifier(model, "Your model", tuple("0123456789"), "test"), last_digit=digit)
    assert not app.error
    assert len(layer_headings(app)) == len(model.layers) - 1
    assert "Your model" in app.caption[0].value


def test_a_nested_upload_shows_its_reshaped_image_as_a_map():
    digit = np.random.default_rng(0).random((28, 28, 1)).astype(np.float32)
    classifier = Classifier(nested_upload(), "Uploaded model", tuple("0123456789"))
    app = open_page(INSPECT, classifier, last_digit=digit)
    assert not app.error
    assert len(layer_headings(app)) == 3  # the Reshape, and the wrapped model's Flatten and Dense
    captions = image_captions(app)
    assert any(caption.startswith("1 map of 28×28, scaled") for caption in captions), captions


def test_the_filters_of_a_wrapped_upload_are_shown():
    """The upload advice wraps a model whole; its filters stay inside, and Inspect finds them."""
    digit = np.random.default_rng(0).random((28, 28, 1)).astype(np.float32)
    classifier = Classifier(wrapped_cnn(), "Uploaded model", tuple("0123456789"))
    app = open_page(INSPECT, classifier, last_digit=digit)
    assert not app.error
    assert not any("no convolution layers" in item.value for item in app.info)
    assert any(item.value.startswith("**inner_conv**: its 6 kernels of 3×3") for item in app.markdown)
    assert len(layer_headings(app)) == 7  # the wrapping Reshape, then each of the wrapped model's layers


def test_inspect_converts_an_uploaded_photo_of_a_digit(default_classifier):
    app = open_page(INSPECT)
    app.segmented_control(key="inspect_source").set_value("Upload").run()
    upload = app.file_uploader(key="inspect_upload")
    upload.upload("one.png", png_bytes(written_digit_one()), "image/png").run()
    assert not app.exception and not app.error
    captions = image_captions(app)
    assert "one.png: 400×240" in captions and "28×28, centred like MNIST" in captions
    assert app.subheader[0].value.startswith("Prediction: 1 ")


def test_inspect_refuses_a_file_that_is_not_a_picture():
    app = open_page(INSPECT)
    app.segmented_control(key="inspect_source").set_value("Upload").run()
    app.file_uploader(key="inspect_upload").upload("notes.png", b"these are not pixels", "image/png").run()
    assert not app.exception
    assert "notes.png is not a picture" in app.error[0].value
    assert not layer_headings(app)
    assert app.get("plotly_chart"), "the filters tab still works"


def test_inspect_says_when_an_upload_is_blank():
    app = open_page(INSPECT)
    app.segmented_control(key="inspect_source").set_value("Upload").run()
    app.file_uploader(key="inspect_upload").upload("blank.png", png_bytes(Image.new("L", (50, 50), 255)),
                                                   "image/png").run()
    assert not app.exception
    assert "blank.png: no digit found" in app.warning[0].value


def test_deeper_filters_follow_the_chosen_layer_and_filter(default_classifier):
    app = open_page(INSPECT)
    app.selectbox(key="inspect_filter_layer").select("conv2d_2").run()
    app.slider(key="inspect_filter_conv2d_2").set_value(63).run()
    assert not app.exception
    text = next(item.value for item in app.markdown if item.value.startswith("Filter "))
    assert text.startswith("Filter 63 of **conv2d_2** has one 3×3 kernel per input channel: 32 in all.")
    heatmap = json.loads(app.get("plotly_chart")[-1].proto.spec)["data"][0]
    kernel = np.asarray(default_classifier.model.get_layer("conv2d_2").kernel)[..., 63]
    assert heatmap["zmax"] == pytest.approx(np.abs(kernel).max(), rel=1e-5)
    assert heatmap["zmid"] == 0


def test_how_it_works_steps_through_the_convolution():
    app = open_page(HOW)
    assert app.code[0].value.endswith("= 3")  # the X's first window lies on its diagonal
    assert "⌊(9 − 3) / 1⌋ + 1 = 7" in app.markdown[1].value
    app.slider(key="conv_step").set_value(2).run()
    assert app.markdown[0].value.startswith("**Output cell (row 0, column 1)**")
    assert app.code[0].value.endswith("= -2")  # two strokes of the X fall on the kernel's -1s
    app.selectbox(key="conv_kernel_preset").select("Identity").run()
    assert app.code[0].value.endswith("= 0")  # the X's cell (1, 2) is empty


def test_how_it_works_keeps_the_step_in_range_when_the_stride_grows():
    app = open_page(HOW)
    app.slider(key="conv_step").set_value(49).run()
    app.segmented_control(key="conv_stride").set_value(3).run()
    assert not app.exception
    assert app.slider(key="conv_step").value == 9
    assert "⌊(9 − 3) / 3⌋ + 1 = 3" in app.markdown[1].value
    app.segmented_control(key="conv_padding").set_value("same").run()
    assert "⌈9 / 3⌉ = 3" in app.markdown[1].value


def test_how_it_works_pools_7_to_4_and_4_to_2():
    app = open_page(HOW)
    pooling = next(item.value for item in app.markdown if item.value.startswith("**Output size**: "))
    assert "⌈7 / 2⌉ = 4" in pooling
    assert any("4×4 → 2×2" in item.value for item in app.caption)
    app.segmented_control(key="pool_padding").set_value("valid").run()
    app.segmented_control(key="pool_window").set_value(3).run()
    pooling = next(item.value for item in app.markdown if item.value.startswith("**Output size**: "))
    assert "⌊(7 − 3) / 2⌋ + 1 = 3" in pooling


def test_how_it_works_uses_the_last_drawing_when_there_is_one(mnist):
    app = open_page(HOW, last_digit=mnist.x_test[0])
    app.selectbox(key="conv_input").select("Your last drawing (14×14)").run()
    assert not app.exception
    assert "⌊(14 − 3) / 1⌋ + 1 = 12" in app.markdown[1].value


def test_softmax_demo_refuses_text_that_is_not_numbers():
    app = open_page(HOW)
    app.text_input(key="softmax_scores").input("2, one, 3").run()
    assert not app.exception
    assert "Could not read" in app.error[0].value
    app.text_input(key="softmax_scores").input("1, 1").run()
    assert not app.error


def test_how_it_works_does_not_import_tensorflow():
    script = (
        "import sys\n"
        f"sys.path.insert(0, {str(ROOT / 'tests')!r})\n"
        "from apptest_routing import route_like_a_started_server\n"
        "route_like_a_started_server()\n"
        "from streamlit.testing.v1 import AppTest\n"
        f"app = AppTest.from_file({APP!r}, default_timeout=30).run()\n"
        f"app.switch_page({HOW!r}).run()\n"
        "assert not app.exception, app.exception\n"
        "assert app.title[0].value == 'How it works'\n"
        "print('tensorflow' in sys.modules, 'keras' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-2:] == ["False", "False"]


def plotly_array(value) -> np.ndarray:
    """An array from a figure's JSON: Plotly 6 writes NumPy arrays as base64 with dtype and shape."""
    if isinstance(value, dict):
        flat = np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"])
        shape = [int(side) for side in str(value.get("shape", len(flat))).split(",")]
        return flat.reshape(shape).astype(np.float64)
    return np.asarray(value, dtype=np.float64)


def test_saliency_shows_integrated_gradients_and_can_be_hidden(default_classifier, mnist):
    digit = mnist.x_test[0]
    app = open_page(INSPECT, last_digit=digit)
    charts = len(app.get("plotly_chart"))
    app.toggle(key="inspect_saliency").set_value(False).run()
    assert len(app.get("plotly_chart")) == charts - 1
    app.toggle(key="inspect_saliency").set_value(True).run()
    assert not app.exception
    assert len(app.get("plotly_chart")) == charts
    heatmap = json.loads(app.get("plotly_chart")[0].proto.spec)["data"][0]
    # Completeness, the property that defines Integrated Gradients: the pixels' attributions
    # add up to p(7) for the drawing minus p(7) for a black image, both from direct calls.
    model = default_classifier.model
    change = float(model(digit[np.newaxis], training=False)[0, 7] - model(np.zeros_like(digit)[np.newaxis],
                                                                          training=False)[0, 7])
    shown = plotly_array(heatmap["z"])
    assert shown.shape == (28, 28)
    assert shown.sum() == pytest.approx(change, abs=0.02)
    assert heatmap["zmax"] == pytest.approx(np.abs(shown).max(), rel=1e-6)  # a scale symmetric about 0
    assert "red: raised p(7), blue: lowered it" in [item.value for item in app.caption]


def test_the_filters_slider_shows_the_weights_kept_at_each_moment():
    from playground.explain.inspection import filter_kernels, tile
    from playground.training.filter_history import MomentRecorder

    model = build_model(preset("Fast default"))
    recorder = MomentRecorder(model, batches_per_epoch=10)
    kernel = model.layers[1].kernel
    recorder.before_batch(0, 0)
    kept = []
    for epoch in range(3):  # stand-ins for training: the kernel changes between moments
        kernel.assign(np.random.default_rng(epoch).normal(size=kernel.shape).astype(np.float32))
        recorder.after_epoch(epoch)
        kept.append(np.array(kernel))
    classifier = Classifier(model, "Your model", tuple("0123456789"), "test", moments=tuple(recorder.moments))
    digit = np.random.default_rng(9).random((28, 28, 1)).astype(np.float32)
    app = open_page(INSPECT, classifier, last_digit=digit)
    slider = app.select_slider(key="inspect_moment")
    assert slider.options == ["start", "end of epoch 1", "end of epoch 2", "end of epoch 3"]
    for label, weights in (("end of epoch 1", kept[0]), ("start", recorder.moments[0].weights[0])):
        slider.set_value(label).run()
        assert not app.exception
        heatmap = json.loads(app.tabs[1].get("plotly_chart")[0].proto.spec)["data"][0]  # the first layer's
        np.testing.assert_allclose(np.nan_to_num(plotly_array(heatmap["z"]), nan=0.0),
                                   np.nan_to_num(tile(filter_kernels(weights)), nan=0.0), rtol=1e-6)
    assert any("2,496 bytes each" in item.value for item in app.caption)  # 624 weights of 4 bytes
    assert any("What these filters make of the input" in item.value for item in app.markdown)
