"""The live training chart as SVGs: valid, placed where their axes say, and the Plotly chart's curves."""

import math
import xml.etree.ElementTree as ElementTree

import pytest

from playground.jobs.job_state import JobSnapshot, Progress
from playground.views.figures import training_figure
from playground.views.live_chart import nice_ticks, training_svgs

SVG = "{http://www.w3.org/2000/svg}"


def snapshot(batch_points, epoch_points=(), epochs=2) -> JobSnapshot:
    return JobSnapshot(state="running", progress=Progress(epoch=1, epochs=epochs),
                       batch_points=tuple(batch_points), epoch_points=tuple(epoch_points),
                       evaluation=None, error=None, training_seconds=0.0)


def parsed(chart: JobSnapshot) -> list[ElementTree.Element]:
    """The loss picture and the accuracy picture; raises on anything but well-formed XML."""
    return [ElementTree.fromstring(picture) for picture in training_svgs(chart)]


def polylines(svg: ElementTree.Element) -> list[list[tuple[float, float]]]:
    return [[tuple(map(float, pair.split(","))) for pair in line.get("points").split()]
            for line in svg.iter(f"{SVG}polyline")]


def labelled_positions(svg: ElementTree.Element, anchor: str, coordinate: str) -> dict[str, float]:
    return {text.text: float(text.get(coordinate)) for text in svg.iter(f"{SVG}text")
            if text.get("text-anchor") == anchor}


@pytest.mark.parametrize(("upper", "expected"), [
    (2.93, [0, 1, 2, 3]), (1, [0, 0.2, 0.4, 0.6, 0.8, 1]), (0.37, [0, 0.1, 0.2, 0.3, 0.4]),
    (7, [0, 2, 4, 6, 8]), (10, [0, 2, 4, 6, 8, 10]), (math.nan, [0, 0.2, 0.4, 0.6, 0.8, 1]),
    (0, [0, 0.2, 0.4, 0.6, 0.8, 1]),
])
def test_ticks_are_round_and_reach_the_top(upper, expected):
    assert nice_ticks(upper) == pytest.approx(expected)


def test_points_sit_where_the_axes_say():
    chart = snapshot([(0.5, 1.0, 0.5), (1.0, 2.0, 1.0)], epochs=2)
    loss, accuracy = parsed(chart)
    x_labels = labelled_positions(loss, "middle", "x")  # the tick labels under the plot (and titles)

    def y_labels(svg):  # a y label's baseline sits 4 units below its grid line
        return {text: y - 4 for text, y in labelled_positions(svg, "end", "y").items()}

    faint_loss = polylines(loss)[0]
    # the loss picture's ticks: 0, 1, 2 epochs on x; 0 to 2 on y
    assert faint_loss[0][0] == pytest.approx((x_labels["0"] + x_labels["1"]) / 2, abs=0.1)
    assert faint_loss[1][0] == pytest.approx(x_labels["1"], abs=0.1)
    assert faint_loss[0][1] == pytest.approx(y_labels(loss)["1"], abs=0.1)
    assert faint_loss[1][1] == pytest.approx(y_labels(loss)["2"], abs=0.1)
    faint_accuracy, percent = polylines(accuracy)[0], y_labels(accuracy)
    assert faint_accuracy[0][1] == pytest.approx((percent["40%"] + percent["60%"]) / 2, abs=0.1)
    assert faint_accuracy[1][1] == pytest.approx(percent["100%"], abs=0.1)


def test_the_same_curves_and_colours_as_the_plotly_chart():
    points = [(index / 10, 2.0 / (index + 1), index / 10) for index in range(1, 11)]
    epochs = [{"epoch": 1, "loss": 0.3, "accuracy": 0.9, "val_loss": 0.25, "val_accuracy": 0.92}]
    chart = snapshot(points, epochs, epochs=2)
    lines = [line for svg in parsed(chart) for line in svg.iter(f"{SVG}polyline")]
    figure = training_figure(chart)
    assert len(lines) == len(figure.data) == 6  # per metric: batches, smoothed, validation
    for line, trace in zip(lines, figure.data, strict=True):
        assert line.get("stroke") == trace.line.color
        assert len(line.get("points").split()) == len(trace.x)
    assert [len(list(svg.iter(f"{SVG}circle"))) for svg in parsed(chart)] == [1, 1]  # the validation point


def test_a_diverging_loss_breaks_the_line_and_nothing_else():
    chart = snapshot([(0.1, 2.0, 0.2), (0.2, math.nan, 0.1), (0.3, 1.5, 0.3), (0.4, math.inf, 0.3)])
    loss_text, accuracy_text = training_svgs(chart)
    assert "nan" not in loss_text + accuracy_text and "inf" not in loss_text + accuracy_text
    faint_loss = polylines(ElementTree.fromstring(loss_text))[0:2]
    assert [len(line) for line in faint_loss] == [1, 1]  # 2.0, then 1.5: the line broken at the NaN


def test_before_the_first_batch_only_axes():
    loss, accuracy = parsed(snapshot([]))
    assert polylines(loss) == polylines(accuracy) == []
    assert loss.get("data-batch-points") == accuracy.get("data-batch-points") == "0"
    assert {text.text for text in loss.iter(f"{SVG}text")} >= {"loss", "0", "training batches"}
    assert {text.text for text in accuracy.iter(f"{SVG}text")} >= {"accuracy", "0%", "100%"}
