"""Inspect: every layer's output for one input, and the filters the network learned."""

import numpy as np
import streamlit as st

from pages.parts.common import classifier_or_stop
from pages.parts.inspect_inputs import choose_input
from pages.parts.streamlit_private import route_through_app
from playground.data.images import picture_of
from playground.explain.inspection import (
    activation_probe,
    activations_of,
    colour_filters,
    conv_kernels,
    filter_kernels,
    layer_views,
    tile,
)
from playground.explain.saliency import integrated_gradients
from playground.models.building import as_probabilities
from playground.spec.shapes import shape_text
from playground.training.filter_history import first_convolution, maps_at
from playground.views.describe import top_classes_text
from playground.views.figures import (
    attribution_figure,
    kernel_figure,
    probabilities_figure,
    vector_figure,
)
from playground.views.map_grids import as_maps, grid_layout, grid_picture

INPUT_SIDE = 168  # six screen pixels per input pixel for a digit, five for a CIFAR photo
PAIR_WIDTH = 480  # a pooling layer's source and result share one row
SINGLE_WIDTH = 760
# Enlarged feature maps keep sharp pixels instead of the browser's blur. On a phone, a grid
# wider than the screen shrinks to fit instead of spilling over.
PIXELATED = ("<style>[data-testid='stImage'] img { image-rendering: pixelated; } "
             "[data-testid='stImageContainer'] { max-width: 100%; }</style>")


def show_picture(container, picture: np.ndarray, scale: int, caption: str) -> None:
    """One small PNG, enlarged by the browser: far less to encode and send than a big one."""
    container.image(picture, width=picture.shape[1] * scale, caption=caption, output_format="PNG",
                    alt=f"Feature maps, {caption}")


def show_maps(values: np.ndarray) -> None:
    values = as_maps(values)
    columns, scale = grid_layout(values, SINGLE_WIDTH)
    count = values.shape[-1]
    show_picture(st, grid_picture(values, columns), scale,
                 f"{count} map{'s' if count > 1 else ''} of {values.shape[0]}×{values.shape[1]}, "
                 f"{'each ' if count > 1 else ''}scaled to its own range (dark = low, yellow = high)")


def show_pooled(view) -> None:
    source, pooled = as_maps(view.source.values), view.activation.values
    columns, scale = grid_layout(source, PAIR_WIDTH)
    before = grid_picture(source, columns)
    if pooled.ndim == 3:
        after = grid_picture(pooled, columns)
        left, arrow, right, _ = st.columns([before.shape[1] * scale, 40, after.shape[1] * scale, 200],
                                           vertical_alignment="center")
        show_picture(left, before, scale, f"in: {shape_text(source.shape)}")
        arrow.markdown("## →")
        show_picture(right, after, scale, f"out: {shape_text(pooled.shape)}, same scale")
    else:
        left, right = st.columns(2)
        show_picture(left, before, scale, f"in: {shape_text(source.shape)}")
        right.plotly_chart(vector_figure(pooled, "mean of its map"), config={"displayModeBar": False})
        right.caption(f"out: one number per map ({pooled.shape[0]}): the average of that map")


def show_merge(view) -> None:
    """A merge beside what it merges: for a residual block, the main path's maps, the
    shortcut's, and their sum, on one row, each map scaled to its own range."""
    activation, parts = view.activation, view.merged
    sign = "+" if activation.kind == "Add" else "&"
    widths = [weight for _ in parts for weight in (4, 1)]
    columns = st.columns(widths[:-1] + [1, 4], vertical_alignment="center")
    for position, part in enumerate(parts):
        values = as_maps(part.values)
        grid_columns, scale = grid_layout(values, PAIR_WIDTH // len(parts))
        show_picture(columns[2 * position], grid_picture(values, grid_columns), scale,
                     f"{part.name}: {shape_text(part.shape)}")
        columns[2 * position + 1].markdown(f"## {sign if position < len(parts) - 1 else '='}")
    values = as_maps(activation.values)
    grid_columns, scale = grid_layout(values, PAIR_WIDTH // len(parts))
    show_picture(columns[-1], grid_picture(values, grid_columns), scale,
                 f"{activation.name}: {shape_text(activation.shape)}"
                 + (", the sum, map by map" if activation.kind == "Add" else ""))


def show_layer(view, classifier, probabilities: np.ndarray) -> None:
    activation = view.activation
    with st.container(border=True):
        st.markdown(f"**{activation.name}** · {activation.kind} · output **{shape_text(activation.shape)}**")
        if view.kind == "maps":
            show_maps(activation.values)
        elif view.kind == "pooled":
            show_pooled(view)
        elif view.kind == "merge":
            show_merge(view)
        elif view.kind == "flatten":
            st.write(f"Flatten lays the {shape_text(view.source.shape)} values out in one row of "
                     f"**{activation.shape[0]:,}** numbers, so the Dense layers can read them.")
        elif view.kind == "inactive":
            st.write("Dropout only acts during training; when the network predicts, it passes its input "
                     "through unchanged.")
        elif view.kind == "vector":
            st.plotly_chart(vector_figure(activation.values), config={"displayModeBar": False})
        else:
            st.plotly_chart(probabilities_figure(probabilities, classifier.class_names),
                            config={"displayModeBar": False})
            st.caption(f"Most likely: {top_classes_text(probabilities, classifier.class_names)}")


def show_walkthrough(classifier, digit: np.ndarray) -> None:
    try:
        probe = activation_probe(classifier)
        activations = activations_of(classifier, digit)
    except ValueError as error:
        st.error(f"This model cannot be inspected: {error}")
        return
    probabilities = as_probabilities(activations[-1].values, classifier.from_logits)  # no second pass
    best = int(np.argmax(probabilities))
    left, middle, right = st.columns([1, 1, 2])
    left.image(picture_of(digit), caption=f"input: {shape_text(digit.shape)}", width=INPUT_SIDE,
               alt=f"The input image, {shape_text(digit.shape)} pixels",
               output_format="PNG")
    right.subheader(f"Prediction: {classifier.class_names[best]} ({probabilities[best]:.1%})")
    right.write("Below, each layer's output for this input, from the first layer to the last.")
    with middle:
        show_saliency(classifier, digit, best)
    for view in layer_views(digit, activations, probe.sources):
        show_layer(view, classifier, probabilities)


@st.fragment
def show_saliency(classifier, digit: np.ndarray, best: int) -> None:
    """Integrated Gradients: many forward and backward passes (saliency.STEPS) of the model.

    A fragment: the toggle reruns this block alone, not every layer's pictures below it."""
    if not st.toggle("Which pixels mattered?", value=True, key="inspect_saliency",
                     help="Integrated Gradients: red pixels raised the predicted class's probability, "
                          "blue ones lowered it. They add up to that probability minus a black image's."):
        return
    name = classifier.class_names[best]
    attributions = saliency_for(classifier, digit, best)
    st.plotly_chart(attribution_figure(attributions, name), config={"displayModeBar": False})
    st.caption(f"red: raised p({name}), blue: lowered it")


def saliency_for(classifier, digit: np.ndarray, best: int) -> np.ndarray:
    """The attributions for this model, input and class: computed once, then kept (the latest only)."""
    key = (id(classifier.model), digit.tobytes(), best)
    kept = st.session_state.get("saliency_kept")
    if kept is None or kept[0] != key:
        kept = (key, classifier.run_alone(integrated_gradients, digit, best, classifier.from_logits))
        st.session_state.saliency_kept = kept
    return kept[1]


def show_filters(classifier, image: np.ndarray | None) -> None:
    model = classifier.model
    kernels = conv_kernels(model)
    if not kernels:
        st.info("This model has no convolution layers, so it has no filters to show.")
        return
    name, first = kernels[0]
    moment = chosen_moment(classifier)
    if moment is not None:
        first = moment.weights[0]
    if first.shape[2] == 3:
        picture = colour_filters(first)
        st.markdown(f"**{name}**: its {first.shape[-1]} filters of {first.shape[0]}×{first.shape[1]}, each a "
                    "small colour picture of what it looks for in the photo: its red, green and blue weights "
                    "as colours, gray for 0 (one scale for all).")
        st.image(picture, width=min(SINGLE_WIDTH, picture.shape[1] * 12), output_format="PNG",
                 alt=f"The {first.shape[-1]} first-layer filters of {name} as small colour pictures")
    else:
        st.markdown(f"**{name}**: its {first.shape[-1]} kernels of {first.shape[0]}×{first.shape[1]}, "
                    "one per filter. Red weights add, blue ones subtract, white is 0.")
        st.plotly_chart(kernel_figure(tile(filter_kernels(first))), config={"displayModeBar": False})
    if moment is not None and image is not None:
        maps = maps_at(moment, first_convolution(model), image)
        st.markdown(f"**What these filters make of the input** at that moment: {maps.shape[-1]} maps")
        show_maps(maps)
    if len(kernels) > 1:
        show_deeper_filter(kernels[1:])


def chosen_moment(classifier):
    """A moment of the model's training, picked on a slider, or None (today's weights only)."""
    moments = classifier.moments
    if len(moments) < 2:
        return None
    labels = [moment.label for moment in moments]
    label = st.select_slider("Training moment", labels, value=labels[-1], key="inspect_moment",
                             help="The first layer's filters, and what they make of the input, as they were "
                                  "at that point of the training: watch noise turn into edge detectors.")
    moment = moments[labels.index(label)]
    st.caption(f"{len(moments)} moments kept while it trained, {moment.nbytes:,} bytes each (the first "
               f"layer's {sum(weight.size for weight in moment.weights):,} weights).")
    return moment


def show_deeper_filter(kernels) -> None:
    names = [name for name, _ in kernels]
    chosen = st.selectbox("Deeper convolution", names, key="inspect_filter_layer")
    kernel = dict(kernels)[chosen]
    filter_index = st.slider("Filter", 0, kernel.shape[3] - 1, 0, key=f"inspect_filter_{chosen}")
    st.markdown(f"Filter {filter_index} of **{chosen}** has one {kernel.shape[0]}×{kernel.shape[1]} kernel "
                f"per input channel: {kernel.shape[2]} in all. It adds up what each kernel finds.")
    st.plotly_chart(kernel_figure(tile(filter_kernels(kernel, filter_index))),
                    config={"displayModeBar": False})


def main() -> None:
    route_through_app()
    st.html(PIXELATED)
    st.title("Inspect")
    classifier = classifier_or_stop()
    layers_tab, filters_tab = st.tabs(["Layer by layer", "Learned filters"])
    with layers_tab:
        digit = choose_input(classifier)
        if digit is not None:
            show_walkthrough(classifier, digit)
    with filters_tab:
        show_filters(classifier, digit)


main()
