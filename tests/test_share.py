"""Share links: every preset survives the round trip; hostile queries are refused in a line."""

from urllib.parse import parse_qsl, urlencode

import pytest

from playground.spec.links import MAX_LAYERS, ShareLinkError, link_params, open_link
from playground.spec.presets import FAST_DEFAULT_TRAINING, PRESET_SETUPS, PRESETS, preset
from playground.spec.settings import TrainingSettings


def through_a_url(params: dict) -> dict:
    """What a browser gives back after the link was pasted: the query, encoded and parsed."""
    return dict(parse_qsl(urlencode(params)))


@pytest.mark.parametrize("name", list(PRESETS))
def test_every_preset_survives_the_round_trip(name):
    setup = PRESET_SETUPS.get(name, {"dataset": "mnist", "training": FAST_DEFAULT_TRAINING})
    training = {**FAST_DEFAULT_TRAINING, **setup.get("training", {})}
    if setup["dataset"] == "cifar10":
        training["subset_size"] = min(training["subset_size"], 50_000)
    stack, dataset, settings = open_link(through_a_url(link_params(preset(name), setup["dataset"], training)))
    assert stack == preset(name)
    assert dataset == setup["dataset"]
    assert TrainingSettings(**settings) == TrainingSettings(**training)


def test_the_default_networks_link_is_short():
    query = urlencode(link_params(preset("Fast default"), "mnist", FAST_DEFAULT_TRAINING))
    assert len("https://cnn-playground.streamlit.app/build_train?" + query) < 300


def test_odd_values_survive_too():
    from playground.spec.layers import make_layer

    stack = [make_layer("Conv2D", filters=7, kernel_size=2, strides=2, padding="same",
                        activation="leaky_relu"),
             make_layer("AveragePooling2D", pool_size=3, strides=1, padding="same"),
             make_layer("Dropout", rate=0.35),
             make_layer("ResidualBlock", filters=9, kernel_size=5, strides=2),
             make_layer("GlobalAveragePooling2D"), make_layer("Dense", units=10, activation="linear")]
    training = {"learning_rate": 1e-05, "augment": True, "validation_split": 0.0, "subset_size": 123}
    opened, _, settings = open_link(through_a_url(link_params(stack, "fashion_mnist", training)))
    assert opened == stack and settings == training


GOOD = link_params(preset("Fast default"), "mnist", FAST_DEFAULT_TRAINING)


@pytest.mark.parametrize("change, message", [
    ({"net": "z"}, "unknown type 'z'"),
    ({"net": "c-f999999999"}, "filters must be between 1 and 1024"),
    ({"net": "c-fabc"}, "'abc' is not a number"),
    ({"net": "~".join(["b"] * 5000)}, "longer than 2,000 characters"),
    ({"net": "~".join(["b"] * (MAX_LAYERS + 1))}, f"has {MAX_LAYERS + 1} layers"),
    ({"net": "c-f<script>alert(1)</script>"}, "is not written as the playground writes layers"),
    ({"net": ""}, "holds no network"),
    ({"net": "c-f24-k5~p~b~c"}, "network cannot work: .*must end with 10 values"),  # a cut-off paste
    ({"net": "c-f24-f25"}, "unknown or repeated setting 'f25'"),
    ({"net": "p-f24"}, "unknown or repeated setting 'f24'"),
    ({"net": "c-f2.5"}, "filters must be a whole number"),
    ({"net": "c-k99~f~d-u10"}, "kernel_size must be between 1 and 28, not 99"),
    ({"net": "c-aevil"}, "activation must be one of"),
    ({"net": "d-u-3"}, "is not written as the playground writes layers"),
    ({"data": "imagenet"}, "data set 'imagenet'"),
    ({"lr": "nan"}, "not a finite number"),
    ({"lr": "inf"}, "not a finite number"),
    ({"lr": "5"}, "learning rate must be above 0 and at most 1"),
    ({"ep": "1e9"}, "epochs must be between 1 and 100"),
    ({"bs": "-4"}, "batch size must be between 1 and 4096"),
    ({"opt": "adagrad"}, "optimizer must be one of"),
    ({"aug": "yes"}, "augment must be 0 or 1"),
    ({"n": "60001"}, "between 1 and 60,000 images"),
    ({"data": "cifar10"}, "between 1 and 50,000 images"),  # MNIST's 60,000 images, CIFAR-10's data set
    ({"sch": "x" * 40}, "is not a number or a name"),
    # A fraction where a whole number belongs: the Epochs widget, made with an int, would raise on
    # every rerun of Build & Train.
    ({"ep": "2.5"}, "epochs must be a whole number, not 2.5"),
    ({"bs": "64.5"}, "batch size must be a whole number"),
    ({"n": "1000.5"}, "subset size must be a whole number"),
])
def test_a_hostile_or_broken_link_is_refused_in_one_line(change, message):
    with pytest.raises(ShareLinkError, match=message) as raised:
        open_link(through_a_url({**GOOD, **change}))
    assert "\n" not in str(raised.value) and len(str(raised.value)) < 400
