"""The training chart while a training runs: loss and accuracy as two small SVGs drawn here.

The page redraws its chart several times a second. As a Plotly chart, each redraw built a
new chart in the learner's browser, which took a good part of a core from the training on
the same two cores; the same curves as SVG pictures cost about a third of that
(benchmarks/live_training.py; the README gives the figures). The
interactive Plotly figure (`figures.training_figure`) takes over once the training ends;
both show the same curves in the same colours. One picture per metric, so that a narrow
screen stacks them (Streamlit's columns do) instead of shrinking both into one line."""

from __future__ import annotations

import math
from html import escape

import numpy as np

from playground.views import colours
from playground.views.figures import (
    BAR_COLOR,
    BATCH_POINTS_NOTE,
    EPOCH_TITLE,
    HIGHLIGHT_COLOR,
    LINE_COLOR,
    smoothed,
)

WIDTH, HEIGHT = 450, 300  # one picture's own units; it scales to its column's width
LEFT, RIGHT, TOP, BOTTOM = 48, 12, 52, 46  # room for tick labels, titles, legend, axis title
PANEL_WIDTH = WIDTH - LEFT - RIGHT
PANEL_HEIGHT = HEIGHT - TOP - BOTTOM
MAX_TICKS = 5
LABEL = f'font-family="sans-serif" fill="{colours.TEXT}" font-size="12"'
TITLE = f'font-family="sans-serif" fill="{colours.TEXT}" font-size="14"'
GRID_COLOR, AXIS_COLOR = colours.GRID, colours.AXIS
X_TITLE = f"{EPOCH_TITLE} ({BATCH_POINTS_NOTE})"
# What each picture shows, for those who cannot see it (the caption under them gives the numbers).
DESCRIPTIONS = ("The loss so far, batch by batch", "The accuracy so far, batch by batch")
LEGEND = (("training batches", BAR_COLOR, 1, 0.3), ("training, smoothed", LINE_COLOR, 2, 1.0),
          ("validation", HIGHLIGHT_COLOR, 2, 1.0))


def nice_ticks(upper: float) -> list[float]:
    """Round tick values from 0 to at least `upper`: steps of 1, 2, 2.5 or 5 times a power of ten."""
    if not math.isfinite(upper) or upper <= 0:
        upper = 1.0
    power = 10.0 ** math.floor(math.log10(upper / MAX_TICKS))
    step = next(power * factor for factor in (1, 2, 2.5, 5, 10) if upper / (power * factor) <= MAX_TICKS)
    count = math.ceil(upper / step - 1e-9)
    return [round(index * step, 10) for index in range(count + 1)]


class Panel:
    """One picture's plot area: maps (epoch position, value) to the drawing's units."""

    def __init__(self, x_ticks: list[float], y_ticks: list[float]):
        self.x_ticks, self.y_ticks = x_ticks, y_ticks

    def x(self, position: float) -> float:
        return LEFT + PANEL_WIDTH * position / self.x_ticks[-1]

    def y(self, value: float) -> float:
        return TOP + PANEL_HEIGHT * (1 - value / self.y_ticks[-1])


def _polylines(panel: Panel, positions, values, color: str, width: int, opacity: float) -> list[str]:
    """The curve as polylines, broken wherever a value is not finite (a diverging loss)."""
    runs, run = [], []
    for position, value in zip(positions, values, strict=True):
        if math.isfinite(value):
            run.append(f"{panel.x(position):.1f},{panel.y(value):.1f}")
        elif run:
            runs.append(run)
            run = []
    runs.append(run)
    return [f'<polyline points="{" ".join(run)}" fill="none" stroke="{color}" stroke-width="{width}" '
            f'stroke-opacity="{opacity}" stroke-linejoin="round"/>' for run in runs if run]


def _axes(panel: Panel, title: str, label) -> list[str]:
    right, bottom = panel.x(panel.x_ticks[-1]), TOP + PANEL_HEIGHT
    parts = [f'<text x="{(LEFT + right) / 2:.1f}" y="{TOP - 10}" text-anchor="middle" {TITLE}>'
             f'{title}</text>']
    for value in panel.y_ticks:
        y = panel.y(value)
        parts.append(f'<line x1="{LEFT:.1f}" x2="{right:.1f}" y1="{y:.1f}" y2="{y:.1f}" '
                     f'stroke="{GRID_COLOR}"/>')
        parts.append(f'<text x="{LEFT - 6:.1f}" y="{y + 4:.1f}" text-anchor="end" {LABEL}>'
                     f'{label(value)}</text>')
    for value in panel.x_ticks:
        x = panel.x(value)
        parts.append(f'<text x="{x:.1f}" y="{bottom + 16}" text-anchor="middle" {LABEL}>{value:g}</text>')
    parts.append(f'<line x1="{LEFT:.1f}" x2="{right:.1f}" y1="{bottom}" y2="{bottom}" '
                 f'stroke="{AXIS_COLOR}"/>')
    parts.append(f'<text x="{(LEFT + right) / 2:.1f}" y="{bottom + 36}" text-anchor="middle" {LABEL}>'
                 f'{X_TITLE}</text>')
    return parts


def _legend() -> list[str]:
    parts, right = [], WIDTH - RIGHT
    for name, color, width, opacity in reversed(LEGEND):  # laid out from the right edge
        text_start = right - 6.5 * len(name)
        parts.append(f'<text x="{text_start:.1f}" y="16" {LABEL}>{name}</text>')
        parts.append(f'<line x1="{text_start - 30:.1f}" x2="{text_start - 6:.1f}" y1="12" y2="12" '
                     f'stroke="{color}" stroke-width="{width}" stroke-opacity="{opacity}"/>')
        right = text_start - 48
    return parts


def training_svgs(snapshot) -> tuple[str, str]:
    """Loss and accuracy, as `figures.training_figure` draws them side by side: one SVG each,
    the legend on the first."""
    points = snapshot.batch_points
    positions = [point[0] for point in points]
    validated = [point for point in snapshot.epoch_points if "val_loss" in point]
    epochs = [point["epoch"] for point in validated]
    losses, accuracies = (np.array([point[column] for point in points], np.float64) for column in (1, 2))
    all_losses = [*losses, *(point["val_loss"] for point in validated)]
    finite = [value for value in all_losses if math.isfinite(value)]
    x_ticks = nice_ticks(max(1, snapshot.progress.epochs))
    panels = (Panel(x_ticks, nice_ticks(max(finite, default=1.0))),
              Panel(x_ticks, [0, 0.2, 0.4, 0.6, 0.8, 1.0]))
    labels = (lambda value: f"{value:g}", lambda value: f"{value:.0%}")
    pictures = []
    for panel, metric, values, label, description in zip(
            panels, ("loss", "accuracy"), (losses, accuracies), labels, DESCRIPTIONS, strict=True):
        parts = _legend() if metric == "loss" else []
        parts += _axes(panel, metric, label)
        parts += _polylines(panel, positions, values, BAR_COLOR, 1, 0.3)
        parts += _polylines(panel, positions, smoothed(values), LINE_COLOR, 2, 1.0)
        scores = [point[f"val_{metric}"] for point in validated]
        parts += _polylines(panel, epochs, scores, HIGHLIGHT_COLOR, 2, 1.0)
        parts += [f'<circle cx="{panel.x(epoch):.1f}" cy="{panel.y(score):.1f}" r="4" '
                  f'fill="{HIGHLIGHT_COLOR}"/>'
                  for epoch, score in zip(epochs, scores, strict=True) if math.isfinite(score)]
        pictures.append(f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
                        f'width="100%" role="img" aria-label="{escape(description)}" '
                        f'data-batch-points="{len(points)}">'
                        f'{"".join(parts)}</svg>')
    return tuple(pictures)
