"""The sidebar's layer builder: presets, and add, edit, reorder and remove layers.

The stack lives in `st.session_state.builder_layers` as plain data (one spec per layer
with a stable id), not in widget state: Streamlit drops a widget's state when its page is
not shown, and the stack must survive a visit to another page.
"""

from __future__ import annotations

import streamlit as st

from playground.spec.costs import layer_costs
from playground.spec.datasets import NUM_CLASSES
from playground.spec.layers import (
    LAYER_TYPES,
    MAX_LAYERS,
    TYPE_TITLES,
    LayerSpecError,
    StackError,
    describe_settings,
    make_layer,
)
from playground.spec.presets import PRESET_SETUPS, PRESETS, preset
from playground.spec.shapes import shape_text, total_params, trace_partial, trace_shapes
from playground.views.text import megabytes, short_count

STARTING_PRESET = "Fast default"
EMPTY_STACK = "Empty stack"
SHARED_STACK = "From a shared link"  # shown while the stack is the one a link brought


def new_uid() -> int:
    st.session_state.builder_next_uid = st.session_state.get("builder_next_uid", 0) + 1
    return st.session_state.builder_next_uid


def load_stack(specs: list[dict]) -> None:
    st.session_state.builder_layers = [{"uid": new_uid(), "spec": spec} for spec in specs]


def load_preset(name: str) -> None:
    load_stack([] if name == EMPTY_STACK else preset(name))
    st.session_state.builder_preset = name


def choose_preset(apply_setup) -> None:
    """The preset picker's callback: load the stack, and hand its data set and training (if
    it brings them) to `apply_setup`. A callback runs before the page is drawn, the one
    moment when setting a widget's value in session state moves the widget too."""
    name = st.session_state.builder_preset_choice
    load_preset(name)
    if name in PRESET_SETUPS:
        apply_setup(PRESET_SETUPS[name])


def move_layer(index: int, offset: int) -> None:
    layers = st.session_state.builder_layers
    target = index + offset
    if 0 <= target < len(layers):
        layers[index], layers[target] = layers[target], layers[index]


def remove_layer(index: int) -> None:
    del st.session_state.builder_layers[index]


def add_layer() -> None:
    if len(st.session_state.builder_layers) >= MAX_LAYERS:  # a click that raced the button's disabling
        return
    layer_type = st.session_state.builder_new_layer
    st.session_state.builder_layers.append({"uid": new_uid(), "spec": make_layer(layer_type)})


def widget_key(item: dict, name: str) -> str:
    return f"layer_{item['uid']}_{name}"


def current_spec(item: dict) -> dict:
    """The layer's spec with whatever its widgets hold now, so labels show this run's shapes."""
    spec = item["spec"]
    values = {name: st.session_state.get(widget_key(item, name), spec[name])
              for name in LAYER_TYPES[spec["type"]]}
    try:
        return make_layer(spec["type"], **values)
    except LayerSpecError:
        return spec


def setting_widget(item: dict, name: str) -> None:
    """One widget for one setting, made from its `Setting` in playground/spec/layers.py; its value
    is read back by `current_spec` on the next run."""
    spec, key = item["spec"], widget_key(item, name)
    setting = LAYER_TYPES[spec["type"]][name]
    if setting.choices:
        st.selectbox(setting.label, setting.choices, setting.choices.index(spec[name]), key=key)
    elif setting.whole:
        st.number_input(setting.label, setting.low, setting.high, spec[name], setting.step, key=key,
                        placeholder=setting.none_means or None,
                        help=f"Leave it empty for {setting.none_means}." if setting.none_means else None)
    else:
        st.slider(setting.label, setting.low, setting.high, spec[name], setting.step, key=key)


def type_title(layer_type: str) -> str:
    return TYPE_TITLES.get(layer_type, layer_type)


FLOP_NOTE = ("**MACs** are multiply-adds for one image going forward: one product added to a sum. "
             "A FLOP is half of one (papers that quote FLOPs count about twice as many). A convolution "
             "does a multiply-add for every weight of its kernel at every position of its output, so the "
             "first convolutions, on the largest maps, usually cost the most, though the Dense layers "
             "hold most of the parameters. Training costs about three times the forward pass.")


def layer_label(index: int, spec: dict, infos: list, costs: list, error: StackError | None) -> str:
    title = type_title(spec["type"])
    if error is not None and error.index == index:
        return f":red[**{index + 1}. {title}** ⚠]"
    if index < len(infos):
        shape = shape_text(infos[index].output_shape)
        return (f"**{index + 1}. {title}** → {shape} · {infos[index].params:,} params · "
                f"{short_count(costs[index].multiply_adds)} MACs")
    return f"**{index + 1}. {title}**"


def inner_layers(info) -> None:
    """A block's own layers, each with its path, output shape and parameters, and the total."""
    st.dataframe([{"layer": layer.name, "path": layer.path, "output": shape_text(layer.output_shape),
                   "params": layer.params} for layer in info.inner], hide_index=True)
    st.caption(f"{len(info.inner)} layers inside · {info.params:,} parameters in all")


def layer_editor(index: int, item: dict, infos: list, costs: list, error: StackError | None,
                 batch_size: int) -> None:
    count = len(st.session_state.builder_layers)
    with st.expander(layer_label(index, item["spec"], infos, costs, error)):
        st.caption(describe_settings(item["spec"]) or "no settings")
        if index < len(costs):
            st.caption(f"{costs[index].multiply_adds:,} multiply-adds per image · about "
                       f"{megabytes(costs[index].training_bytes)} to train at batch {batch_size}")
        if index < len(infos) and infos[index].inner:
            inner_layers(infos[index])
        for name in LAYER_TYPES[item["spec"]["type"]]:
            setting_widget(item, name)
        up, down, remove = st.columns(3)
        up.button("", icon=":material/arrow_upward:", key=f"up_{item['uid']}", help="Move up",
                  on_click=move_layer, args=(index, -1), disabled=index == 0)
        down.button("", icon=":material/arrow_downward:", key=f"down_{item['uid']}", help="Move down",
                    on_click=move_layer, args=(index, 1), disabled=index == count - 1)
        remove.button("", icon=":material/delete:", key=f"remove_{item['uid']}", help="Remove",
                      on_click=remove_layer, args=(index,))


def traced(stack: list[dict], input_shape, num_classes: int = NUM_CLASSES) -> tuple[list, StackError | None]:
    """Infos for every layer that works, and the stack's first error, if any."""
    infos, error = trace_partial(stack, input_shape)
    if error is None:
        try:
            trace_shapes(stack, input_shape, num_classes)
        except StackError as final_error:
            error = final_error
    return infos, error


def sidebar_builder(input_shape, apply_setup, batch_size: int, frozen_params: int | None = None,
                    num_classes: int = NUM_CLASSES) -> tuple[list[dict], list, StackError | None]:
    """Render the builder for inputs of `input_shape`; return the stack, its layer infos and
    its first error. A preset that brings a data set and training passes them to `apply_setup`.
    Costs are shown for batches of `batch_size`. With `frozen_params`, the stack is a new head
    on a frozen base of that many parameters. The stack must end with `num_classes` values."""
    if "builder_layers" not in st.session_state:
        load_preset(STARTING_PRESET)
    with st.sidebar:
        if frozen_params is None:
            st.header("Network")
            choices = [*PRESETS, EMPTY_STACK]
            if st.session_state.builder_preset == SHARED_STACK:
                choices.append(SHARED_STACK)
            st.selectbox("Start from", choices, index=choices.index(st.session_state.builder_preset),
                         key="builder_preset_choice", on_change=choose_preset, args=(apply_setup,))
        else:
            st.header("New head")
            st.caption(f"Trained on the base's {shape_text(input_shape)} maps.")
        for item in st.session_state.builder_layers:
            item["spec"] = current_spec(item)
        stack = [item["spec"] for item in st.session_state.builder_layers]
        infos, error = traced(stack, input_shape, num_classes)
        costs = layer_costs(infos, input_shape, batch_size)
        for index, item in enumerate(st.session_state.builder_layers):
            layer_editor(index, item, infos, costs, error, batch_size)
        add_column, button_column = st.columns([3, 1], vertical_alignment="bottom")
        add_column.selectbox("New layer", list(LAYER_TYPES), key="builder_new_layer", format_func=type_title)
        full = len(stack) >= MAX_LAYERS
        button_column.button("", icon=":material/add:", on_click=add_layer, key="builder_add", disabled=full,
                             help=f"The stack has the most layers it may have, {MAX_LAYERS}" if full
                             else "Add this layer at the end")
        if error is not None:
            st.error(str(error))
        elif frozen_params is None:
            st.success(f"{len(stack)} layers · {total_params(infos):,} parameters")
        else:
            st.success(f"Head: {len(stack)} layers · {total_params(infos):,} trainable parameters · "
                       f"{frozen_params:,} frozen in the base")
        if error is None:
            st.caption(f"{short_count(sum(cost.multiply_adds for cost in costs))} multiply-adds per image · "
                       f"about {megabytes(sum(cost.training_bytes for cost in costs))} to train at batch "
                       f"{batch_size}", help=FLOP_NOTE)
    return stack, infos, error
