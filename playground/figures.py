"""Plotly figure builders. They take plain arrays and return figures; no app code here."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

HIGHLIGHT_COLOR = "#e4572e"
BAR_COLOR = "#8fa7c9"


def probabilities_figure(probabilities: np.ndarray, class_names: tuple[str, ...]) -> go.Figure:
    """Vertical bars of every class's probability, the most likely one highlighted."""
    probabilities = np.asarray(probabilities, dtype=float)
    best = int(np.argmax(probabilities))
    colors = [HIGHLIGHT_COLOR if index == best else BAR_COLOR for index in range(len(probabilities))]
    figure = go.Figure(go.Bar(
        x=list(class_names), y=probabilities, marker_color=colors,
        text=[f"{value:.0%}" if value >= 0.01 else "" for value in probabilities],
        textposition="outside", hovertemplate="%{x}: %{y:.2%}<extra></extra>",
    ))
    figure.update_layout(
        height=260, margin=dict(l=10, r=10, t=10, b=10), showlegend=False,
        yaxis=dict(range=[0, 1.12], tickformat=".0%", title="probability"),
        xaxis=dict(type="category", title=None),
    )
    return figure
