"""Plotly figures for "How it works": small grids with their numbers, and activation curves."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from playground.spec.activations import activation, derivative
from playground.views import colours
from playground.views.figures import margin

WINDOW_COLOR, PADDING_COLOR = colours.HIGHLIGHT, colours.BAR
EMPTY_COLOR, COLORS = colours.EMPTY, colours.SERIES
CELL_PIXELS = 34  # big enough for a number like -0.25 in each cell


def number_grid(values: np.ndarray, title: str, window: tuple[int, int, int] | None = None,
                padding: tuple[int, int] = (0, 0), diverging: bool = False) -> go.Figure:
    """A heatmap with each cell's number written on it; NaN cells stay empty.

    `window` (top, left, size) outlines the kernel's or pool's current position, and
    `padding` (rows or columns added before, after) outlines the original input inside a
    padded one.
    """
    values = np.asarray(values, dtype=float)
    rows, columns = values.shape
    limit = float(np.nanmax(np.abs(values))) if np.isfinite(values).any() else 1.0
    scale = dict(colorscale="RdBu_r", zmid=0.0, zmin=-limit or -1, zmax=limit or 1) if diverging else \
        dict(colorscale="Greys", zmin=min(0.0, float(np.nanmin(values, initial=0.0))), zmax=limit or 1)
    figure = go.Figure(go.Heatmap(
        z=values, text=np.vectorize(_cell_text)(values), texttemplate="%{text}", hoverongaps=False,
        hovertemplate="row %{y}, column %{x}: %{z:.3g}<extra></extra>", showscale=False, xgap=1, ygap=1,
        **scale,
    ))
    before, after = padding
    if before or after:
        figure.add_shape(type="rect", x0=before - 0.5, y0=before - 0.5, x1=columns - after - 0.5,
                         y1=rows - after - 0.5, line=dict(color=PADDING_COLOR, width=2, dash="dash"))
    if window is not None:
        top, left, size = window
        figure.add_shape(type="rect", x0=left - 0.5, y0=top - 0.5, x1=left + size - 0.5, y1=top + size - 0.5,
                         line=dict(color=WINDOW_COLOR, width=4))
    side = max(rows, columns) * CELL_PIXELS
    figure.update_layout(
        title=dict(text=title, font=dict(size=14)), width=side + 20, height=side + 50,
        margin=margin(40), font=dict(size=11), plot_bgcolor=EMPTY_COLOR,
        xaxis=dict(visible=False, range=[-0.5, columns - 0.5], constrain="domain"),
        yaxis=dict(visible=False, autorange="reversed", scaleanchor="x"),
    )
    return figure


def _cell_text(value: float) -> str:
    if np.isnan(value):
        return ""
    return f"{value:.2f}".rstrip("0").rstrip(".") if value != int(value) else str(int(value))


def activation_curves(names: list[str], low: float = -6.0, high: float = 6.0) -> go.Figure:
    """Each function beside its derivative: where the derivative is near 0, learning stalls."""
    x = np.linspace(low, high, 241)
    figure = make_subplots(rows=1, cols=2, subplot_titles=("f(x)", "derivative f′(x)"),
                           horizontal_spacing=0.1)
    for index, name in enumerate(names):
        color = COLORS[index % len(COLORS)]
        figure.add_trace(go.Scatter(x=x, y=activation(name, x), name=name, legendgroup=name,
                                    line=dict(color=color, width=2)), row=1, col=1)
        figure.add_trace(go.Scatter(x=x, y=derivative(name, x), name=name, legendgroup=name, showlegend=False,
                                    line=dict(color=color, width=2)), row=1, col=2)
    figure.update_xaxes(title_text="x", zeroline=True)
    figure.update_layout(height=320, margin=margin(40),
                         legend=dict(orientation="h", y=-0.25))
    return figure


def softmax_figure(scores: np.ndarray, probabilities: np.ndarray) -> go.Figure:
    labels = [f"class {index}" for index in range(len(scores))]
    figure = make_subplots(rows=1, cols=2, subplot_titles=("scores (logits)", "softmax: probabilities"))
    figure.add_trace(go.Bar(x=labels, y=scores, marker_color=PADDING_COLOR, showlegend=False), row=1, col=1)
    figure.add_trace(go.Bar(x=labels, y=probabilities, marker_color=WINDOW_COLOR, showlegend=False,
                            text=[f"{value:.1%}" for value in probabilities], textposition="outside"),
                     row=1, col=2)
    figure.update_yaxes(range=[0, 1.15], tickformat=".0%", row=1, col=2)
    figure.update_layout(height=280, margin=margin(40))
    return figure
