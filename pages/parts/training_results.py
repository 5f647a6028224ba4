"""Build & Train's results: test scores, a clickable confusion matrix, and galleries of test images."""

import numpy as np
import streamlit as st

from playground.training.evaluation import worst_cell
from playground.views.describe import largest_mistakes_text, weakest_classes_text
from playground.views.figures import confusion_figure, per_class_figure

GRID_IMAGES = 16
GRID_COLUMNS = 8


def image_grid(images: np.ndarray, captions: list[str]) -> None:
    for start in range(0, len(images), GRID_COLUMNS):
        for column, image, caption in zip(st.columns(GRID_COLUMNS), images[start:start + GRID_COLUMNS],
                                          captions[start:start + GRID_COLUMNS], strict=False):
            column.image(image, caption=caption, width="stretch", clamp=True, alt=f"Test image {caption}")


def start_at_worst_cell(evaluation) -> None:
    """For a new result, point the pickers at its most frequent mistake."""
    if st.session_state.get("cell_for") is not evaluation:
        st.session_state.cell_true, st.session_state.cell_predicted = worst_cell(evaluation.confusion)
        st.session_state.cell_for = evaluation


def select_clicked_cell() -> None:
    """A click on the confusion matrix sets the pickers (this runs before the page reruns)."""
    points = st.session_state.confusion_chart.selection.points
    if points:
        true_class, predicted, _ = points[0]["customdata"]
        st.session_state.cell_true, st.session_state.cell_predicted = int(true_class), int(predicted)


def show_results(snapshot, data, heading: str | None = "Results on the test set") -> None:
    """A finished run's test results: the scores, the confusion matrix, and the images behind it."""
    evaluation, names = snapshot.evaluation, data.class_names
    if heading:
        st.subheader(heading)
    accuracy, loss, seconds = st.columns(3)
    accuracy.metric("Test accuracy", f"{evaluation.accuracy:.2%}")
    loss.metric("Test loss", f"{evaluation.loss:.4f}")
    seconds.metric("Training time", f"{snapshot.training_seconds:.1f} s")
    st.plotly_chart(per_class_figure(evaluation.per_class_accuracy, names))
    st.caption(f"Lowest accuracy: {weakest_classes_text(evaluation.per_class_accuracy, names)}")
    matrix, cell = st.columns([3, 2])
    matrix.plotly_chart(confusion_figure(evaluation.confusion, names), on_select=select_clicked_cell,
                        selection_mode="points", key="confusion_chart", config={"displayModeBar": False})
    matrix.caption(f"Most frequent mistakes: {largest_mistakes_text(evaluation.confusion, names)}")
    with cell:
        st.markdown("**Which images land in a cell?** Click a cell, or pick a true and a predicted class.")
        start_at_worst_cell(evaluation)
        true_class = st.selectbox("True class", range(len(names)), format_func=names.__getitem__,
                                  key="cell_true")
        predicted = st.selectbox("Predicted as", range(len(names)), format_func=names.__getitem__,
                                 key="cell_predicted")
        indices = evaluation.cell_indices(true_class, predicted)
        st.caption(f"{len(indices)} test images")
    if len(indices):
        image_grid(data.x_test[indices[:GRID_IMAGES]], [f"#{index}" for index in indices[:GRID_IMAGES]])
    st.markdown("**Random test images** (true → predicted)")
    shown = min(GRID_IMAGES, len(data.x_test))  # a learner's own set may hold out fewer
    sample = np.random.default_rng(len(snapshot.batch_points)).choice(len(data.x_test), shown, False)
    image_grid(data.x_test[sample], [f"{names[evaluation.labels[i]]} → {names[evaluation.predictions[i]]}"
                                     for i in sample])
    st.markdown("**Misclassified, most confident first** (true → predicted)")
    wrong = evaluation.misclassified(GRID_IMAGES)
    image_grid(data.x_test[wrong], [f"{names[evaluation.labels[i]]} → {names[evaluation.predictions[i]]}"
                                    f" {evaluation.confidences[i]:.0%}" for i in wrong])
