"""The class board's chart: every result of a room, accuracy against size, in one figure."""

from __future__ import annotations

import html

import plotly.graph_objects as go

from playground.views import colours
from playground.views.figures import margin

MET_NAME, UNMET_NAME = "meets the challenge", "does not"


def board_figure(entries, height: int = 360) -> go.Figure:
    """Accuracy against parameters (a log axis: networks differ by orders of magnitude), one
    point per result; hovering names the learner (escaped: Plotly reads some HTML in labels)."""
    figure = go.Figure()
    for met, name, colour in ((True, MET_NAME, colours.HIGHLIGHT), (False, UNMET_NAME, colours.BAR)):
        chosen = [entry for entry in entries if entry.goal_met == met]
        figure.add_trace(go.Scatter(
            x=[entry.parameters for entry in chosen], y=[entry.accuracy * 100 for entry in chosen],
            mode="markers", name=name, marker=dict(size=11, color=colour, line=dict(width=1, color="white")),
            text=[html.escape(entry.nickname) for entry in chosen],
            hovertemplate="%{text}<br>%{y:.2f} % test accuracy<br>%{x:,} parameters<extra></extra>"))
    figure.update_layout(height=height, margin=margin(top=40, bottom=40), showlegend=True,
                         legend=dict(orientation="h", y=1.12),
                         xaxis=dict(type="log", dtick=1, title="parameters (each line ten times the last)"),
                         yaxis=dict(title="test accuracy (%)"))
    return figure
