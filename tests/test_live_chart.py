"""The live training chart as an SVG: valid, placed where its axes say, and the Plotly chart's curves."""

import math
import xml.etree.ElementTree as ElementTree

import pytest

from playground.figures import training_figure
from playground.job_state import JobSnapshot, Progress
from playground.live_chart import nice_ticks, training_svg

SVG = "{http://www.w3.org/2000/svg}"


def snapshot(batch_points, epoch_points=(), epochs=2) -> JobSnapshot:
    return JobSnapshot(state="running", progress=Progress(epoch=1, epochs=epochs),
                       batch_points=tuple(batch_points), epoch_points=tuple(epoch_points),
                       evaluation=None, error=None, training_seconds=0.0)


def parsed(chart: JobSnapshot) -> ElementTree.Element:
    return ElementTree.fromstring(training_svg(chart))  # raises on anything but well-formed XML


def polylines(svg: ElementTree.Element) -> list[list[tuple[float, float]]]:
    return [[tuple(map(float, pair.split(","))) for pair in line.get("points").split()]
            for line in svg.iter(f"{SVG}polyline")]


def labelled_positions(svg: ElementTree.Element, anchor: str, coordinate: str) -> dict[str, float]:
    """Where each label sits; a label on both panels, where it sits on the first (the loss)."""
    positions = {}
    for text in svg.iter(f"{SVG}text"):
        if text.get("text-anchor") == anchor:
            positions.setdefault(text.text, float(text.get(coordinate)))
    return positions


@pytest.mark.parametrize(("upper", "expected"), [
    (2.93, [0, 1, 2, 3]), (1, [0, 0.2, 0.4, 0.6, 0.8, 1]), (0.37, [0, 0.1, 0.2, 0.3, 0.4]),
    (7, [0, 2, 4, 6, 8]), (10, [0, 2, 4, 6, 8, 10]), (math.nan, [0, 0.2, 0.4, 0.6, 0.8, 1]),
    (0, [0, 0.2, 0.4, 0.6, 0.8, 1]),
])
def test_ticks_are_round_and_reach_the_top(upper, expected):
    assert nice_ticks(upper) == pytest.approx(expected)


def test_points_sit_where_the_axes_say():
    chart = snapshot([(0.5, 1.0, 0.5), (1.0, 2.0, 1.0)], epochs=2)
    svg = parsed(chart)
    x_labels = labelled_positions(svg, "middle", "x")  # the tick labels under the panels (and titles)
    # a y label's baseline sits 4 units below its grid line
    y_labels = {text: y - 4 for text, y in labelled_positions(svg, "end", "y").items()}
    faint_loss = polylines(svg)[0]
    # the loss panel's ticks: 0, 1, 2 epochs on x; 0 to 2 on y
    assert faint_loss[0][0] == pytest.approx((x_labels["0"] + x_labels["1"]) / 2, abs=0.1)
    assert faint_loss[1][0] == pytest.approx(x_labels["1"], abs=0.1)
    assert faint_loss[0][1] == pytest.approx(y_labels["1"], abs=0.1)
    assert faint_loss[1][1] == pytest.approx(y_labels["2"], abs=0.1)
    faint_accuracy = polylines(svg)[2]  # loss: faint, smoothed; then accuracy: faint, smoothed
    assert faint_accuracy[0][1] == pytest.approx((y_labels["40%"] + y_labels["60%"]) / 2, abs=0.1)
    assert faint_accuracy[1][1] == pytest.approx(y_labels["100%"], abs=0.1)


def test_the_same_curves_and_colours_as_the_plotly_chart():
    points = [(index / 10, 2.0 / (index + 1), index / 10) for index in range(1, 11)]
    epochs = [{"epoch": 1, "loss": 0.3, "accuracy": 0.9, "val_loss": 0.25, "val_accuracy": 0.92}]
    chart = snapshot(points, epochs, epochs=2)
    lines = list(parsed(chart).iter(f"{SVG}polyline"))
    figure = training_figure(chart)
    assert len(lines) == len(figure.data) == 6  # per metric: batches, smoothed, validation
    for line, trace in zip(lines, figure.data, strict=True):
        assert line.get("stroke") == trace.line.color
        assert len(line.get("points").split()) == len(trace.x)
    assert len(list(parsed(chart).iter(f"{SVG}circle"))) == 2  # the validation point, on both panels


def test_a_diverging_loss_breaks_the_line_and_nothing_else():
    chart = snapshot([(0.1, 2.0, 0.2), (0.2, math.nan, 0.1), (0.3, 1.5, 0.3), (0.4, math.inf, 0.3)])
    svg_text = training_svg(chart)
    assert "nan" not in svg_text and "inf" not in svg_text
    faint_loss = polylines(ElementTree.fromstring(svg_text))[0:2]
    assert [len(line) for line in faint_loss] == [1, 1]  # 2.0, then 1.5: the line broken at the NaN


def test_before_the_first_batch_only_axes():
    svg = parsed(snapshot([]))
    assert polylines(svg) == []
    assert svg.get("data-batch-points") == "0"
    assert {text.text for text in svg.iter(f"{SVG}text")} >= {"loss", "accuracy", "0", "100%"}
