"""The sidebar's widgets are made from the layer specs: every range is stated once."""

from __future__ import annotations

import pytest
from conftest import ROOT
from streamlit.testing.v1 import AppTest

from playground.spec.layers import LAYER_TYPES, make_layer

PAGE = "pages/build_train.py"


@pytest.fixture(scope="module")
def every_layer_type() -> AppTest:
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    app.run()
    app.session_state["builder_layers"] = [{"uid": 100 + index, "spec": make_layer(layer_type)}
                                           for index, layer_type in enumerate(LAYER_TYPES)]
    app.session_state["builder_next_uid"] = 100 + len(LAYER_TYPES)
    app.session_state["builder_preset"] = "Empty stack"  # the preset picker shows this
    app.switch_page(PAGE).run()
    assert not app.exception, app.exception
    return app


def widget_of(app: AppTest, key: str):
    for kind in (app.sidebar.number_input, app.sidebar.selectbox, app.sidebar.slider):
        found = [item for item in kind if item.key == key]
        if found:
            return found[0]
    raise AssertionError(f"no widget with key {key}")


@pytest.mark.parametrize(("layer_type", "name"), [(layer_type, name) for layer_type, settings in
                                                   LAYER_TYPES.items() for name in settings])
def test_each_setting_widget_follows_its_spec(every_layer_type, layer_type, name):
    setting = LAYER_TYPES[layer_type][name]
    uid = 100 + list(LAYER_TYPES).index(layer_type)
    widget = widget_of(every_layer_type, f"layer_{uid}_{name}")
    assert widget.label == setting.label
    if setting.choices:
        assert widget.type == "selectbox"
        assert widget.options == [str(choice) for choice in setting.choices]
    else:
        assert widget.type == ("number_input" if setting.whole else "slider")
        assert (widget.min, widget.max, widget.step) == (setting.low, setting.high, setting.step)
    assert widget.value == setting.default


def test_the_ranges_that_once_disagreed(every_layer_type):
    """The sidebar once offered stride 1–4 and dropout up to 0.9 while the specs allowed 1–28 and 0.95."""
    conv_stride = widget_of(every_layer_type, f"layer_{100 + list(LAYER_TYPES).index('Conv2D')}_strides")
    dropout = widget_of(every_layer_type, f"layer_{100 + list(LAYER_TYPES).index('Dropout')}_rate")
    assert (conv_stride.min, conv_stride.max) == (1, 28)
    assert dropout.max == 0.95


def test_an_empty_pooling_stride_means_the_window(every_layer_type):
    uid = 100 + list(LAYER_TYPES).index("MaxPooling2D")
    stride = widget_of(every_layer_type, f"layer_{uid}_strides")
    assert stride.value is None
    stride.set_value(1).run()
    assert every_layer_type.session_state[f"layer_{uid}_strides"] == 1


def test_the_training_settings_offer_what_the_settings_accept(every_layer_type):
    from playground.spec.datasets import DATASETS
    from playground.spec.settings import (
        BATCH_SIZE_RANGE,
        EPOCHS_RANGE,
        LEARNING_RATE_MAX,
        VALIDATION_SPLIT_RANGE,
    )

    def main_widget(kind, label):
        return next(item for item in kind if item.label == label)

    app = every_layer_type
    epochs = main_widget(app.number_input, "Epochs")
    assert (epochs.min, epochs.max) == EPOCHS_RANGE
    batch = main_widget(app.number_input, "Batch size")
    assert (batch.min, batch.max) == BATCH_SIZE_RANGE
    assert main_widget(app.number_input, "Learning rate").max == LEARNING_RATE_MAX
    split = main_widget(app.slider, "Validation split")
    assert (split.min, split.max) == VALIDATION_SPLIT_RANGE
    assert main_widget(app.number_input, "Training images").max == DATASETS["mnist"].train_images
    # and the bounds are what the product promises
    assert EPOCHS_RANGE == (1, 100) and BATCH_SIZE_RANGE == (1, 4096) and VALIDATION_SPLIT_RANGE == (0.0, 0.5)


def test_the_builder_stops_at_the_layer_limit_that_links_keep():
    from playground.spec.layers import MAX_LAYERS
    from playground.spec.links import link_params, open_link

    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    app.run()
    app.session_state["builder_layers"] = [{"uid": 100 + index, "spec": make_layer("BatchNormalization")}
                                           for index in range(MAX_LAYERS - 2)]
    app.session_state["builder_next_uid"] = 100 + MAX_LAYERS
    app.session_state["builder_preset"] = "Empty stack"
    app.switch_page(PAGE).run()
    for _ in range(2):
        add = next(button for button in app.sidebar.button if button.key == "builder_add")
        assert not add.disabled
        add.click().run()
    add = next(button for button in app.sidebar.button if button.key == "builder_add")
    assert not app.exception, app.exception
    assert len(app.session_state["builder_layers"]) == MAX_LAYERS
    assert add.disabled
    # the largest stack the builder makes travels in a link
    stack = [item["spec"] for item in app.session_state["builder_layers"]]
    stack[-2:] = [make_layer("Flatten"), make_layer("Dense", units=10, activation="softmax")]
    assert open_link(link_params(stack, "mnist", {}))[0] == stack
