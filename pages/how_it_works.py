"""How it works: convolution step by step, pooling, and activation functions. No TensorFlow."""

import numpy as np
import pandas as pd
import streamlit as st

from pages.parts.common import LAST_DIGIT_KEY
from pages.parts.streamlit_private import route_through_app
from playground.explain.convolution import (
    KERNELS,
    PATTERNS,
    convolution_steps,
    downsample,
    output_size_formula,
    pad_input,
    padding_offsets,
    partial_output,
    pool,
    step_arithmetic,
    steps_output,
)
from playground.spec.activations import FUNCTIONS, activation, derivative, softmax
from playground.views.explainer_figures import activation_curves, number_grid, softmax_figure

DRAWING = "Your last drawing (14×14)"
FIGURE_CONFIG = {"displayModeBar": False, "staticPlot": False}
DEFAULT_SCORES = "2.0, 1.0, 0.1, -1.0"
KERNEL_COLUMN_PIXELS = 48  # room for "-0.111"; three fit the controls on a 1,000-pixel screen


def choose_input() -> np.ndarray:
    names = list(PATTERNS)
    if st.session_state.get(LAST_DIGIT_KEY) is not None:
        names.append(DRAWING)
    name = st.selectbox("Input", names, key="conv_input")
    if name == DRAWING:
        return downsample(st.session_state[LAST_DIGIT_KEY][..., 0], 2).round(2)
    return PATTERNS[name]


def choose_kernel() -> np.ndarray:
    """A preset kernel, editable cell by cell; an emptied cell counts as 0."""
    preset = st.selectbox("Kernel", list(KERNELS), key="conv_kernel_preset")
    start = pd.DataFrame(np.round(KERNELS[preset], 3), columns=["1", "2", "3"])
    # A new key per preset, so choosing a preset replaces the user's edits instead of mixing them.
    narrow = {column: st.column_config.NumberColumn(width=KERNEL_COLUMN_PIXELS) for column in start.columns}
    edited = st.data_editor(start, key=f"conv_kernel_{preset}", hide_index=True, width="content",
                            column_config=narrow)
    return np.nan_to_num(edited.to_numpy(dtype=float))


def choose_step(count: int) -> int:
    # A new stride or padding can leave fewer steps than the slider last showed.
    st.session_state.conv_step = min(st.session_state.get("conv_step", 1), count)
    return st.slider("Step: slide the window", 1, count, key="conv_step") - 1


def convolution_section() -> np.ndarray:
    """The interactive convolution; returns its output map for the sections below."""
    st.header("Convolution, step by step")
    controls, input_column, output_column = st.columns([1.3, 1.4, 1.2], gap="medium")
    with controls:
        image, kernel = choose_input(), choose_kernel()
        stride = st.segmented_control("Stride", [1, 2, 3], default=1, key="conv_stride") or 1
        padding = st.segmented_control("Padding", ["valid", "same"], default="valid",
                                       key="conv_padding") or "valid"
    try:
        steps = convolution_steps(image, kernel, stride, padding)
    except ValueError as error:
        st.error(str(error))
        st.stop()
    index = choose_step(len(steps))
    step, output = steps[index], steps_output(steps)
    shown = partial_output(steps, index + 1)  # the cells written so far
    window = kernel.shape[0]
    padded = pad_input(image, window, stride, padding)
    pad = padding_offsets(image.shape[0], window, stride, padding)
    input_column.plotly_chart(number_grid(padded, f"input {image.shape[0]}×{image.shape[1]}",
                                          window=(step.top, step.left, window), padding=pad),
                              config=FIGURE_CONFIG)
    rows, columns = output.shape
    output_column.plotly_chart(number_grid(shown, f"output {rows}×{columns}", diverging=True,
                                           window=(step.row, step.column, 1)), config=FIGURE_CONFIG)
    st.markdown(f"**Output cell (row {step.row}, column {step.column})**: multiply each input value under "
                f"the window by the kernel weight on top of it, and add them up:")
    st.code(step_arithmetic(step, kernel), language=None, wrap_lines=True)
    st.markdown(f"**Output size** with kernel k = {kernel.shape[0]}, stride s = {stride}, padding "
                f"\"{padding}\": {output_size_formula(image.shape[0], kernel.shape[0], stride, padding)}")
    return output


def pooling_section(feature_map: np.ndarray) -> None:
    st.header("Pooling")
    st.write("Pooling shrinks each feature map by keeping one number per window: the largest "
             "(max) or the mean (average). Here it pools the convolution's output above.")
    window_column, stride_column, padding_column = st.columns(3)
    window = window_column.segmented_control("Window", [2, 3], default=2, key="pool_window") or 2
    stride = stride_column.segmented_control("Stride", [1, 2, 3], default=2, key="pool_stride") or 2
    padding = padding_column.segmented_control("Padding", ["same", "valid"], default="same",
                                               key="pool_padding") or "same"
    try:
        pooled = {mode: pool(feature_map, window, stride, padding, mode) for mode in ("max", "average")}
    except ValueError as error:
        st.error(f"{error} Choose padding \"same\" or a smaller window.")
        return
    size = feature_map.shape[0]
    columns = st.columns(3)
    columns[0].plotly_chart(number_grid(feature_map, f"feature map {size}×{size}", diverging=True),
                            config=FIGURE_CONFIG)
    for column, (mode, values) in zip(columns[1:], pooled.items(), strict=True):
        column.plotly_chart(number_grid(values, f"{mode} pooling → {values.shape[0]}×{values.shape[1]}",
                                        diverging=True), config=FIGURE_CONFIG)
    st.markdown(f"**Output size**: {output_size_formula(size, window, stride, padding)}. With \"same\" "
                "padding a 7×7 map becomes 4×4 (the window hangs over the edge, and the missing cells "
                "are ignored); pooling that 4×4 again without padding gives 2×2.")
    pool_again(pooled["max"])


def pool_again(values: np.ndarray) -> None:
    if min(values.shape) < 2:
        return
    again = pool(values, 2, 2, "valid", "max")
    st.caption(f"Max pooling once more, 2×2, stride 2, \"valid\": {values.shape[0]}×{values.shape[1]} → "
               f"{again.shape[0]}×{again.shape[1]}: {output_size_formula(values.shape[0], 2, 2, 'valid')}")
    st.plotly_chart(number_grid(again, "pooled again", diverging=True), config=FIGURE_CONFIG)


def activation_section(feature_map: np.ndarray) -> None:
    st.header("Activation functions")
    names = st.multiselect("Functions", list(FUNCTIONS), default=["relu", "sigmoid", "tanh"], key="act_names")
    if names:
        st.plotly_chart(activation_curves(names), config=FIGURE_CONFIG)
    st.markdown(
        f"**Vanishing gradient**: sigmoid's derivative is at most {derivative('sigmoid', 0.0):.2f} and is "
        f"{derivative('sigmoid', 5.0):.4f} at x = 5. Each sigmoid layer multiplies the gradient by such a "
        "factor, so in a deep stack the first layers barely learn. ReLU's derivative is 1 for every "
        "positive input.")
    relu_on_map(feature_map)
    softmax_demo()


def relu_on_map(feature_map: np.ndarray) -> None:
    st.subheader("ReLU on a feature map")
    before, after = st.columns(2)
    before.plotly_chart(number_grid(feature_map, "convolution output", diverging=True), config=FIGURE_CONFIG)
    after.plotly_chart(number_grid(activation("relu", feature_map), "after ReLU: negatives become 0",
                                   diverging=True), config=FIGURE_CONFIG)


def softmax_demo() -> None:
    st.subheader("Softmax: scores into probabilities")
    text = st.text_input("Scores, separated by commas", DEFAULT_SCORES, key="softmax_scores")
    try:
        scores = np.array([float(part) for part in text.split(",") if part.strip()])
    except ValueError:
        st.error(f"Could not read {text!r} as numbers: write them like {DEFAULT_SCORES}.")
        return
    if not 2 <= len(scores) <= 12 or not np.isfinite(scores).all():
        st.error("Give between 2 and 12 finite scores, separated by commas.")
        return
    st.plotly_chart(softmax_figure(scores, softmax(scores)), config=FIGURE_CONFIG)
    st.caption("Softmax raises e to each score and divides by the total: the largest score gets the "
               "largest share, and the shares add up to 100%.")


def main() -> None:
    route_through_app()
    st.title("How it works")
    feature_map = convolution_section()
    pooling_section(feature_map)
    activation_section(feature_map)


main()
