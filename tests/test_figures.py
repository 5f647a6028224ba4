"""Figure builders: what they show is what the data says."""

import numpy as np

from playground.views.explainer_figures import number_grid
from playground.views.figures import confusion_figure, kernel_figure, top_classes_figure


def test_each_confusion_cell_has_a_clickable_marker_naming_it():
    confusion = np.array([[5, 1, 0], [2, 7, 0], [0, 3, 9]])
    figure = confusion_figure(confusion, ("a", "b", "c"))
    heatmap, markers = figure.data
    assert heatmap.hoverinfo == "skip"  # the markers answer hovers and clicks
    for x, y, (true_class, predicted, count) in zip(markers.x, markers.y, markers.customdata, strict=True):
        assert (y, x) == ("abc"[true_class], "abc"[predicted])
        assert count == confusion[true_class, predicted]
    assert len(markers.x) == confusion.size


def test_kernel_colours_are_symmetric_around_zero():
    figure = kernel_figure(np.array([[0.5, -0.2], [np.nan, 0.1]]))
    assert (figure.data[0].zmin, figure.data[0].zmid, figure.data[0].zmax) == (-0.5, 0.0, 0.5)


def test_top_classes_are_listed_most_likely_first():
    figure = top_classes_figure(["tabby cat", "tiger cat", "lynx"], [0.7, 0.2, 0.05])
    assert list(figure.data[0].y) == ["tabby cat", "tiger cat", "lynx"]
    assert figure.layout.yaxis.autorange == "reversed"  # the first bar at the top
    assert list(figure.data[0].text) == ["70.0%", "20.0%", "5.0%"]


def test_number_grid_writes_numbers_and_leaves_uncomputed_cells_blank():
    figure = number_grid(np.array([[1.0, -0.25], [np.nan, 3.0]]), "output", window=(0, 1, 1))
    assert figure.data[0].text.tolist() == [["1", "-0.25"], ["", "3"]]
    (window,) = figure.layout.shapes
    assert (window.x0, window.y0, window.x1, window.y1) == (0.5, -0.5, 1.5, 0.5)
