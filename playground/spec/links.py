"""A network and its training settings as a short link, and back.

A teacher puts a link on a slide; thirty learners open the same starting point, on any
server, with nothing stored anywhere. The query holds:
- `net`: the layers, joined by "~"; each is a one-letter type, then its settings that differ
  from the defaults as "-<letter><value>": `c-f24-k5` is Conv2D with 24 filters of 5 × 5;
- `data`, and the training settings under short keys (`ep`, `bs`, `opt`, `lr`, `sch`, `val`,
  `n`, `aug`).
The Fast default's link is short enough for a slide (the README gives its length, and a test
keeps it under 300 characters). Anything else in a query is a hand edit, a cut-off paste or
an attack: it is refused with a message that says what was wrong, and every value passes the
same checks as the builder's own (`make_layer`, `trace_shapes`, `TrainingSettings.checked`).
"""

from __future__ import annotations

import math
import re

from playground.spec.datasets import DATASETS
from playground.spec.layers import LAYER_TYPES, MAX_LAYERS, LayerSpecError, StackError, make_layer
from playground.spec.refusals import Refused
from playground.spec.settings import TrainingSettings
from playground.spec.shapes import trace_shapes

MAX_LINK_CHARACTERS = 2_000  # a network at the builder's limits fits well within this
TYPE_CODES = {"Conv2D": "c", "MaxPooling2D": "p", "AveragePooling2D": "a", "BatchNormalization": "b",
              "Dropout": "o", "Flatten": "f", "GlobalAveragePooling2D": "g", "Dense": "d",
              "Activation": "t", "ResidualBlock": "r"}
SETTING_CODES = {"filters": "f", "kernel_size": "k", "strides": "s", "padding": "p", "activation": "a",
                 "pool_size": "w", "rate": "r", "units": "u"}
TRAINING_KEYS = {"epochs": "ep", "batch_size": "bs", "optimizer": "opt", "learning_rate": "lr",
                 "schedule": "sch", "validation_split": "val", "subset_size": "n", "augment": "aug"}
NETWORK_KEY, DATASET_KEY = "net", "data"
SHARED_KEYS = (NETWORK_KEY, DATASET_KEY, *TRAINING_KEYS.values())
_TYPES_BY_CODE = {code: layer_type for layer_type, code in TYPE_CODES.items()}
_SETTINGS_BY_CODE = {code: name for name, code in SETTING_CODES.items()}
_TOKEN = re.compile(r"[a-z](-[a-z][a-z0-9_.]*)*")
_VALUE = re.compile(r"[a-z0-9_.+-]{1,24}")


class ShareLinkError(Refused):
    """A link that cannot be opened; the message says what was wrong, in a line."""


def link_params(stack: list[dict], dataset: str, training: dict) -> dict[str, str]:
    """The query parameters that describe this network, data set and training."""
    params = {NETWORK_KEY: "~".join(_layer_token(spec) for spec in stack), DATASET_KEY: dataset}
    for name, key in TRAINING_KEYS.items():
        if name in training:
            params[key] = _value_text(training[name])
    return params


def _layer_token(spec: dict) -> str:
    layer_type = spec["type"]
    parts = [TYPE_CODES[layer_type]]
    for name, setting in LAYER_TYPES[layer_type].items():
        value = spec.get(name, setting.default)
        if value != setting.default:
            parts.append(SETTING_CODES[name] + _value_text(value))
    return "-".join(parts)


def _value_text(value) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "1" if value else "0"
    return f"{value:g}" if isinstance(value, float) else str(value)


def open_link(params: dict[str, str]) -> tuple[list[dict], str, dict]:
    """(stack, data set, training settings) from a link's query, or ShareLinkError."""
    if sum(len(str(key)) + len(str(value)) for key, value in params.items()) > MAX_LINK_CHARACTERS:
        raise ShareLinkError(f"This link is longer than {MAX_LINK_CHARACTERS:,} characters, far more than "
                             "any network here needs.")
    dataset = params.get(DATASET_KEY, "mnist")
    if dataset not in DATASETS:
        raise ShareLinkError(f"This link names the data set {_quoted(dataset)}; the playground has "
                             f"{', '.join(DATASETS)}.")
    stack = _stack(params.get(NETWORK_KEY, ""))
    try:
        trace_shapes(stack, DATASETS[dataset].image_shape)
    except StackError as error:
        raise ShareLinkError(f"This link's network cannot work: {error}") from None
    training = _training(params)
    try:
        TrainingSettings(**training).checked(DATASETS[dataset].train_images)
    except (ValueError, TypeError) as error:
        raise ShareLinkError(f"This link's training settings cannot work: {error}") from None
    return stack, dataset, training


def _stack(text: str) -> list[dict]:
    tokens = [token for token in text.split("~")] if text else []
    if not tokens:
        raise ShareLinkError("This link holds no network (its 'net' part is missing or empty).")
    if len(tokens) > MAX_LAYERS:
        raise ShareLinkError(f"This link's network has {len(tokens):,} layers; the builder takes at most "
                             f"{MAX_LAYERS}.")
    return [_layer(position, token) for position, token in enumerate(tokens, start=1)]


def _layer(position: int, token: str) -> dict:
    if not _TOKEN.fullmatch(token):
        raise ShareLinkError(f"Layer {position} of this link, {_quoted(token)}, is not written as the "
                             "playground writes layers.")
    code, *parts = token.split("-")
    layer_type = _TYPES_BY_CODE.get(code)
    if layer_type is None:
        raise ShareLinkError(f"Layer {position} of this link has the unknown type {_quoted(code)}.")
    settings = {}
    for part in parts:
        name = _SETTINGS_BY_CODE.get(part[0])
        if name is None or name not in LAYER_TYPES[layer_type] or name in settings:
            raise ShareLinkError(f"Layer {position} of this link ({layer_type}) has an unknown or repeated "
                                 f"setting {_quoted(part)}.")
        settings[name] = _parsed(part[1:], LAYER_TYPES[layer_type][name].default)
    try:
        return make_layer(layer_type, **settings)
    except LayerSpecError as error:
        raise ShareLinkError(f"Layer {position} of this link: {error}") from None


def _training(params: dict[str, str]) -> dict:
    defaults = TrainingSettings()
    training = {}
    for name, key in TRAINING_KEYS.items():
        if key in params:
            training[name] = _parsed(str(params[key]), getattr(defaults, name), name=name)
    return training


def _parsed(text: str, example, name: str | None = None):
    """`text` as a value of the same kind as `example` (the setting's default)."""
    if not _VALUE.fullmatch(text):
        raise ShareLinkError(f"This link's value {_quoted(text)}{f' for {name}' if name else ''} is not a "
                             "number or a name the playground uses.")
    if text == "none":
        return None
    if isinstance(example, bool):
        if text not in ("0", "1"):
            raise ShareLinkError(f"This link's {name} must be 0 or 1, not {_quoted(text)}.")
        return text == "1"
    if isinstance(example, (int, float)) or example is None:
        try:
            number = float(text)
        except ValueError:
            for_name = f" for {name}" if name else ""
            raise ShareLinkError(f"This link's value {_quoted(text)}{for_name} is not a number.") from None
        if not math.isfinite(number):
            raise ShareLinkError(f"This link's value {_quoted(text)} is not a finite number.")
        whole = isinstance(example, int) or (example is None and number.is_integer())
        return int(number) if whole and number.is_integer() else number
    return text


def _quoted(text: str) -> str:
    """A piece of a hostile link, shown safely: short, and as plain text."""
    shown = text if len(text) <= 30 else text[:30] + "…"
    return repr(shown)
