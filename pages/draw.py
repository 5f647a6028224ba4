"""Draw: a digit drawn on the canvas, classified on each stroke's release."""

import numpy as np
import streamlit as st
from PIL import Image

from pages.canvas import digit_canvas
from pages.common import LAST_DIGIT_KEY, classifier_or_stop, default_classifier, route_through_app
from playground.drawing import digit_image, preprocess_digit
from playground.figures import probabilities_figure

CANVAS_SIDE = 300  # fits a phone screen, and leaves room for a fingertip
STROKE_WIDTH = 22
PREVIEW_SIDE = 168  # six screen pixels per model pixel


def drawing_canvas() -> np.ndarray | None:
    """The canvas and its Clear button; returns the RGBA drawing, if any."""
    st.session_state.setdefault("canvas_generation", 0)
    key = f"digit_canvas_{st.session_state.canvas_generation}"
    drawing = digit_canvas(CANVAS_SIDE, STROKE_WIDTH, key=key)
    if st.button("Clear", icon=":material/ink_eraser:", key="clear_canvas"):
        st.session_state.canvas_generation += 1  # the canvas only clears when its key changes
        st.rerun()
    return drawing


def show_prediction(classifier, digit: np.ndarray) -> None:
    probabilities = classifier.probabilities(digit)[0]
    best = int(np.argmax(probabilities))
    st.subheader(f"Prediction: {classifier.class_names[best]} ({probabilities[best]:.1%})")
    st.plotly_chart(probabilities_figure(probabilities, classifier.class_names),
                    config={"displayModeBar": False})
    preview = digit_image(digit).resize((PREVIEW_SIDE, PREVIEW_SIDE), Image.Resampling.NEAREST)
    st.image(preview, caption="What the model sees: 28×28 pixels, centred like MNIST",
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
        if digit is None:
            st.info("Draw a digit from 0 to 9 in the black box. The prediction appears as "
                    "soon as you lift the mouse or your finger.")
        else:
            st.session_state[LAST_DIGIT_KEY] = digit
            show_prediction(classifier, digit)


main()
