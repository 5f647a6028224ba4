"""Draw: a digit drawn on the canvas, classified on each stroke's release."""

import numpy as np
import streamlit as st
from PIL import Image

from pages.parts.canvas import digit_canvas
from pages.parts.common import (
    LAST_DIGIT_KEY,
    classifier_or_stop,
    classifier_test_set,
    default_classifier,
    test_image_caption,
)
from pages.parts.streamlit_private import route_through_app
from playground.data.drawing import preprocess_digit
from playground.data.images import picture_of
from playground.data.loading import test_example
from playground.views.describe import top_classes_text
from playground.views.figures import probabilities_figure

CANVAS_SIDE = 300  # fits a phone screen, and leaves room for a fingertip
STROKE_WIDTH = 22
PREVIEW_SIDE = 168  # six screen pixels per model pixel


def drawing_canvas() -> np.ndarray | None:
    """The canvas, its Clear button, and a test image for those who cannot draw; returns the
    RGBA drawing, if any."""
    st.session_state.setdefault("canvas_generation", 0)
    key = f"digit_canvas_{st.session_state.canvas_generation}"
    drawing = digit_canvas(CANVAS_SIDE, STROKE_WIDTH, key=key)
    # Side by side at their own widths, wrapping on a narrow screen: two equal columns cut
    # "Pick a test image" to "Pick a t…" in a 1,000-pixel window.
    buttons = st.container(horizontal=True)
    if buttons.button("Clear", icon=":material/ink_eraser:", key="clear_canvas"):
        st.session_state.canvas_generation += 1  # the canvas only clears when its key changes
        st.session_state.pop("draw_test_pick", None)
        st.rerun()
    if buttons.button("Pick a test image", icon=":material/shuffle:", key="draw_test_image",
                   help="A random image from the model's test set, for when drawing is not an option."):
        st.session_state.draw_test_pick = int(np.random.default_rng().integers(2**31))  # any model's test set
        st.session_state.canvas_generation += 1  # a fresh canvas: the test image shows, not an old drawing
        st.rerun()
    return drawing


def test_digit(classifier) -> np.ndarray | None:
    """The picked test image of the model's data set, if any, with its true label in words."""
    pick = st.session_state.get("draw_test_pick")
    data = None if pick is None else classifier_test_set(classifier)
    if data is None:
        return None
    image, index, label = test_example(data, pick)
    st.caption(f"{test_image_caption(data, index, label)}. Draw on the canvas to use your own instead.")
    return image


def show_prediction(classifier, digit: np.ndarray) -> None:
    probabilities = classifier.probabilities(digit)[0]
    best = int(np.argmax(probabilities))
    st.subheader(f"Prediction: {classifier.class_names[best]} ({probabilities[best]:.1%})")
    st.plotly_chart(probabilities_figure(probabilities, classifier.class_names),
                    config={"displayModeBar": False})
    st.caption(f"Most likely: {top_classes_text(probabilities, classifier.class_names)}")
    preview = picture_of(digit).resize((PREVIEW_SIDE, PREVIEW_SIDE), Image.Resampling.NEAREST)
    st.image(preview, caption="What the model sees: 28×28 pixels, centred like MNIST",
             alt="The drawing as the model receives it: 28 by 28 gray pixels, the digit centred",
             width=PREVIEW_SIDE)


def drawing_classifier():
    """The session's model if it reads drawings; else, once the learner accepts, the default
    digit model (the session's own model stays for Inspect and Photos)."""
    classifier = classifier_or_stop()
    if classifier.reads_drawings:
        return classifier
    shape = " × ".join(str(size) for size in classifier.input_shape)
    st.warning(f"Draw needs a digit model, which reads 28 × 28 gray drawings. This session's model reads "
               f"{shape} colour photos, so it cannot read a drawing.")
    if st.session_state.get("draw_with_default") or st.button(
            "Use the default digit model here", icon=":material/draw:", key="draw_with_default_button"):
        st.session_state.draw_with_default = True
        st.caption("Drawing with the **default digit model**; your model stays in use on Inspect and Photos.")
        return default_classifier()
    st.stop()


def main() -> None:
    route_through_app()
    st.title("Draw a digit")
    classifier = drawing_classifier()
    canvas_column, result_column = st.columns([1, 1], gap="large")
    with canvas_column:
        drawing = drawing_canvas()
    with result_column:
        digit = None if drawing is None else preprocess_digit(drawing)
        if digit is not None:
            st.session_state.pop("draw_test_pick", None)
        else:
            digit = test_digit(classifier)
        if digit is None:
            st.info("Draw a digit from 0 to 9 in the black box. The prediction appears as "
                    "soon as you lift the mouse or your finger.")
        else:
            st.session_state[LAST_DIGIT_KEY] = digit
            show_prediction(classifier, digit)


main()
