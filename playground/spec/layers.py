"""A network as plain data: a list of layer specs, checked before anything is built.

A layer spec is a dict such as `{"type": "Conv2D", "filters": 32, "kernel_size": 3}`.
`make_layer` fills in defaults and checks each value; `playground.spec.shapes` walks a
stack. Every setting's range is stated here once: the builder's widgets are made from it.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

ACTIVATIONS = ("relu", "sigmoid", "tanh", "softmax", "elu", "gelu", "leaky_relu", "swish", "linear")
PADDINGS = ("valid", "same")
# The most layers a stack may have: the builder stops adding there, and a link with more is refused.
MAX_LAYERS = 40

@dataclass(frozen=True)
class Setting:
    """One layer setting: its default and the values it may take, either `choices` or the
    numbers from `low` to `high` in steps of `step`. The builder's widgets are made from
    these, so a range is stated here only."""

    default: object
    label: str
    choices: tuple = ()
    low: float | None = None
    high: float | None = None
    step: float = 1
    none_means: str = ""  # for a setting that may be left empty (None): what that means

    @property
    def whole(self) -> bool:
        return isinstance(self.low, int)


def _window(default: int, label: str) -> Setting:
    return Setting(default, label, low=1, high=28)


def _pooling() -> dict[str, Setting]:
    return {"pool_size": _window(2, "window"),
            "strides": Setting(None, "stride", low=1, high=28, none_means="the window size"),  # as in Keras
            "padding": Setting("valid", "padding", PADDINGS)}


LAYER_TYPES: dict[str, dict[str, Setting]] = {
    "Conv2D": {
        "filters": Setting(32, "filters", low=1, high=1024),
        "kernel_size": _window(3, "kernel"),
        "strides": _window(1, "stride"),
        "padding": Setting("valid", "padding", PADDINGS),
        "activation": Setting("relu", "activation", ACTIVATIONS),
    },
    "MaxPooling2D": _pooling(),
    "AveragePooling2D": _pooling(),
    "BatchNormalization": {},
    "Dropout": {"rate": Setting(0.25, "rate", low=0.0, high=0.95, step=0.05)},
    "Flatten": {},
    "GlobalAveragePooling2D": {},
    "Dense": {"units": Setting(128, "units", low=1, high=8192),
              "activation": Setting("relu", "activation", ACTIVATIONS)},
    "Activation": {"activation": Setting("relu", "activation", ACTIVATIONS)},
    # He et al.'s basic block: conv → BN → ReLU → conv → BN, plus the input, then ReLU.
    "ResidualBlock": {
        "filters": Setting(32, "filters", low=1, high=1024),
        "kernel_size": Setting(3, "kernel", low=1, high=7),
        "strides": Setting(1, "stride", low=1, high=4),
    },
}
SPATIAL_TYPES = ("Conv2D", "MaxPooling2D", "AveragePooling2D", "GlobalAveragePooling2D", "ResidualBlock")
TYPE_TITLES = {"ResidualBlock": "Residual block"}  # how the pages name a type; others by their Keras name


class LayerSpecError(ValueError):
    """A single layer's settings are invalid (unknown type, value out of range)."""


class StackError(ValueError):
    """The stack cannot work; `index` is the 0-based position of the guilty layer."""

    def __init__(self, index: int | None, message: str):
        super().__init__(message)
        self.index = index


def make_layer(layer_type: str, **params) -> dict:
    """A complete, checked layer spec: defaults filled in, every value in range."""
    if layer_type not in LAYER_TYPES:
        raise LayerSpecError(f"Unknown layer type {layer_type!r}; choose one of {list(LAYER_TYPES)}.")
    allowed = LAYER_TYPES[layer_type]
    unknown = set(params) - set(allowed)
    if unknown:
        raise LayerSpecError(f"{layer_type} has no setting {sorted(unknown)}; it has {list(allowed)}.")
    spec = {"type": layer_type}
    for name, setting in allowed.items():
        spec[name] = _checked_value(layer_type, name, params.get(name, setting.default), setting)
    return spec


def _checked_value(layer_type: str, name: str, value, setting: Setting):
    where = f"{layer_type} {name}"
    if value is None and setting.none_means:
        return None
    if setting.choices:
        if value not in setting.choices:
            raise LayerSpecError(f"{where} must be one of {list(setting.choices)}, not {value!r}.")
        return value
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise LayerSpecError(f"{where} must be a number, not {value!r}.")
    if setting.whole and not float(value).is_integer():
        raise LayerSpecError(f"{where} must be a whole number, not {value!r}.")
    if not setting.low <= value <= setting.high:
        raise LayerSpecError(f"{where} must be between {setting.low} and {setting.high}, not {value}.")
    return int(value) if setting.whole else float(value)


def normalize_stack(stack: list[dict]) -> list[dict]:
    """Every spec of `stack` completed and checked; errors name the layer's position."""
    normalized = []
    for index, spec in enumerate(stack):
        settings = {key: value for key, value in spec.items() if key != "type"}
        try:
            normalized.append(make_layer(spec.get("type", "?"), **settings))
        except LayerSpecError as error:
            raise StackError(index, f"Layer {index + 1}: {error}") from error
    return normalized


def layer_names(stack: list[dict]) -> list[str]:
    """Keras-style unique names: conv2d, conv2d_1, max_pooling2d, ..."""
    counts: dict[str, int] = {}
    names = []
    for spec in stack:
        base = _snake_case(spec["type"])
        count = counts.get(base, 0)
        names.append(base if count == 0 else f"{base}_{count}")
        counts[base] = count + 1
    return names


def _snake_case(layer_type: str) -> str:
    return {
        "ResidualBlock": "residual_block",
        "Conv2D": "conv2d",
        "MaxPooling2D": "max_pooling2d",
        "AveragePooling2D": "average_pooling2d",
        "BatchNormalization": "batch_normalization",
        "GlobalAveragePooling2D": "global_average_pooling2d",
    }.get(layer_type, layer_type.lower())


def describe_settings(spec: dict) -> str:
    kind = spec["type"]
    if kind in ("Conv2D", "ResidualBlock"):
        size = spec["kernel_size"]
        window = f"{spec['filters']} filters {size}×{size}, stride {spec['strides']}"
        return window if kind == "ResidualBlock" else f"{window}, {spec['padding']}, {spec['activation']}"
    if kind in ("MaxPooling2D", "AveragePooling2D"):
        stride = spec["strides"] or spec["pool_size"]
        return f"{spec['pool_size']}×{spec['pool_size']}, stride {stride}, {spec['padding']}"
    if kind == "Dense":
        return f"{spec['units']} units, {spec['activation']}"
    if kind == "Dropout":
        return f"rate {spec['rate']}"
    if kind == "Activation":
        return spec["activation"]
    return ""


