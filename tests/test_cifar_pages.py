"""AppTest runs of the colour chapter: CIFAR-10 presets, training, Draw, Inspect and Photos
with a CIFAR-10 model. The data is a tiny cifar10.npz the tests make."""

import numpy as np
import pytest
from conftest import save_colour_cifar
from streamlit.testing.v1 import AppTest
from test_app import APP, TIMEOUT, run_like_a_started_server  # noqa: F401 - an autouse fixture
from test_build_train_page import train_button, widget
from test_images import encoded

from playground.models.building import Classifier, build_model
from playground.spec.presets import preset

BUILD = "pages/build_train.py"
CIFAR_NAMES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")


@pytest.fixture(scope="module")
def cifar_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cifar")
    save_colour_cifar(folder / "cifar10.npz", 1200, 200)
    return folder


@pytest.fixture
def app(cifar_dir, monkeypatch) -> AppTest:
    from pages.parts.common import dataset
    from playground.data.loading import DATA_DIR_VARIABLE

    monkeypatch.setenv(DATA_DIR_VARIABLE, str(cifar_dir))
    dataset.clear()
    test = AppTest.from_file(APP, default_timeout=TIMEOUT)
    test.run()
    yield test
    dataset.clear()


def cifar_classifier() -> Classifier:
    return Classifier(build_model(preset("Slides: residual example (CIFAR-10)"), (32, 32, 3)), "Your model",
                      CIFAR_NAMES, "trained here on CIFAR-10")


def train_here(app: AppTest, images: int, epochs: int):
    """Set the subset and epochs on Build & Train, press Train, and return the finished job."""
    widget(app.number_input, "Training images").set_value(images).run()
    widget(app.number_input, "Epochs").set_value(epochs).run()
    train_button(app).click().run(timeout=240)
    assert not app.exception, app.exception
    job = app.session_state["training_job"]
    assert job.snapshot().state == "finished", job.snapshot().error
    return job


def test_the_fast_cifar_preset_brings_its_data_set_and_training(app):
    app.switch_page(BUILD).run()
    widget(app.sidebar.selectbox, "Start from").select("Fast CIFAR").run()
    assert not app.exception, app.exception
    assert widget(app.sidebar.selectbox, "Data set").value == "cifar10"
    assert widget(app.number_input, "Epochs").value == 15
    assert widget(app.checkbox, "Augment: mirror and shift each image").value is True
    assert widget(app.number_input, "Training images").max == 50_000
    assert app.sidebar.success[0].value == "8 layers · 310,026 parameters"
    block = [item for item in app.sidebar.expander if "Residual block" in item.label]
    assert len(block) == 3 and "→ 16 × 16 × 32 · 18,688 params" in block[0].label
    inner = block[1].dataframe[0].value  # the stride-2 block: main path, shortcut, sum
    assert list(inner["path"]) == ["main"] * 5 + ["shortcut"] * 2 + ["merge"] * 2
    # 3·3·32·64 + 4·64 + 3·3·64·64 + 4·64 + (1·1·32·64 + 4·64) for the 1×1 projection shortcut
    assert inner["params"].sum() == 18_432 + 256 + 36_864 + 256 + 2_048 + 256


@pytest.mark.slow
def test_a_residual_network_trains_on_cifar_and_names_its_classes(app):
    app.switch_page(BUILD).run()
    widget(app.sidebar.selectbox, "Start from").select("Slides: residual example (CIFAR-10)").run()
    job = train_here(app, 1000, 2)
    assert job.model.input_shape == (None, 32, 32, 3)
    assert widget(app.selectbox, "True class").options[0] == "airplane"
    classifier = app.session_state["session_classifier"]
    assert classifier.class_names == CIFAR_NAMES and not classifier.reads_drawings


def test_draw_says_it_needs_a_digit_model_and_offers_the_default(app):
    app.session_state["session_classifier"] = cifar_classifier()
    app.switch_page("pages/draw.py").run()
    assert "Draw needs a digit model" in app.warning[0].value
    assert not app.get("subheader") or all("Prediction" not in item.value for item in app.subheader)
    app.button(key="draw_with_default_button").click().run()
    assert not app.exception
    assert any("default digit model" in item.value for item in app.caption)
    assert app.session_state["session_classifier"].class_names == CIFAR_NAMES, "the session keeps its model"


def test_inspect_walks_a_colour_photo_through_the_residual_block(app):
    classifier = cifar_classifier()
    app.session_state["session_classifier"] = classifier
    app.switch_page("pages/inspect.py").run()
    assert not app.exception, app.exception
    assert app.segmented_control(key="inspect_source").options == ["Test image", "Upload"]
    captions = [picture.caption for image in app.get("image") for picture in image.proto.imgs]
    assert "input: 32 × 32 × 3" in captions
    assert "residual_block_add: 32 × 32 × 32, the sum, map by map" in captions
    assert "residual_block_bn2: 32 × 32 × 32" in captions and "batch_normalization: 32 × 32 × 32" in captions
    assert any("colour picture of what it looks for" in item.value for item in app.markdown)
    label = CIFAR_NAMES[int(np.load(app_data_file(app))["y_test"][0, 0])]
    assert any(f"true label **{label}**" in item.value for item in app.caption)


def app_data_file(app):
    import os

    from playground.data.loading import DATA_DIR_VARIABLE

    return os.path.join(os.environ[DATA_DIR_VARIABLE], "cifar10.npz")


@pytest.mark.slow
def test_photos_runs_the_sessions_cifar_model_beside_resnet50(app, monkeypatch, resnet50_weights):
    from PIL import Image

    from playground.explain.photos import WEIGHTS_VARIABLE

    monkeypatch.setenv(WEIGHTS_VARIABLE, str(resnet50_weights))
    classifier = cifar_classifier()
    app.session_state["session_classifier"] = classifier
    app.switch_page("pages/photos.py").run()
    photo = Image.fromarray(np.random.default_rng(3).integers(0, 256, (240, 320, 3), np.uint8))
    upload = [("street.png", encoded(photo, "PNG"), "image/png")]
    app.file_uploader(key="photo_uploads").set_value(upload).run()
    assert not app.exception, app.exception
    from playground.data.images import photo_input

    expected = classifier.model(photo_input(photo, (32, 32, 3))[None], training=False).numpy()[0]
    best = int(expected.argmax())
    line = next(item.value for item in app.markdown if item.value.startswith("**Your model**"))
    assert line.endswith(f"{CIFAR_NAMES[best]} ({expected[best]:.1%})")
    assert any(item.value.startswith("#### Top-1: ") for item in app.markdown), "ResNet50 still answers"


@pytest.fixture(scope="module")
def mobilenet_weights(tmp_path_factory):
    """MobileNetV2 without its top, with seeded random weights: no ImageNet weights exist here,
    and nothing below pretends these know anything."""
    import keras
    from conftest import set_seeded_weights

    from playground.models.transfer import IMAGENET_SIDE

    network = keras.applications.MobileNetV2(include_top=False, weights=None,
                                             input_shape=(IMAGENET_SIDE, IMAGENET_SIDE, 3))
    set_seeded_weights(network, seed=0)
    path = tmp_path_factory.mktemp("mobilenet") / "mobilenet_v2_no_top.weights.h5"
    network.save_weights(path)
    return path


@pytest.mark.slow
def test_a_head_trains_on_a_frozen_mobilenet_base(app, monkeypatch, mobilenet_weights):
    monkeypatch.setenv("PLAYGROUND_MOBILENETV2_WEIGHTS", str(mobilenet_weights))
    app.switch_page(BUILD).run()
    widget(app.sidebar.selectbox, "Start from a trained network").select("mobilenet_v2").run()
    assert not app.exception, app.exception
    assert widget(app.sidebar.selectbox, "Data set").value == "cifar10"
    # global pooling, then Dense 10 on MobileNetV2's 1,280 channels: 1280·10 + 10
    assert app.sidebar.success[0].value == ("Head: 2 layers · 12,810 trainable parameters · "
                                            "2,257,984 frozen in the base")
    job = train_here(app, 300, 1)
    network = job.model.get_layer("mobilenetv2_1.00_96")
    assert not network.trainable and job.model.count_params() == 2_257_984 + 12_810


def test_missing_imagenet_weights_are_named_with_the_fix(app, monkeypatch, tmp_path):
    monkeypatch.setenv("PLAYGROUND_VGG16_WEIGHTS", str(tmp_path / "absent.h5"))
    app.switch_page(BUILD).run()
    widget(app.sidebar.selectbox, "Start from a trained network").select("vgg16").run()
    widget(app.number_input, "Training images").set_value(100).run()
    train_button(app).click().run(timeout=120)
    assert not app.exception
    assert "VGG16 (ImageNet)'s weights could not be loaded from the file" in app.error[0].value
    assert "PLAYGROUND_VGG16_WEIGHTS" in app.error[0].value


def test_a_cifar_session_model_as_a_base_keeps_cifar_10(app):
    """Its base reads colour photos: the data set must not turn to Fashion-MNIST."""
    app.session_state["session_classifier"] = cifar_classifier()
    app.switch_page(BUILD).run()
    widget(app.sidebar.selectbox, "Data set").select("cifar10").run()
    widget(app.sidebar.selectbox, "Start from a trained network").select("session").run()
    assert not app.exception, app.exception
    assert widget(app.sidebar.selectbox, "Data set").value == "cifar10"
    assert not app.sidebar.error, [item.value for item in app.sidebar.error]
    assert any("Frozen base" in item.label for item in app.sidebar.expander)
