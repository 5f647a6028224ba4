"""Plotly figure builders. They take plain arrays and return figures; no app code here."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from PIL import Image
from plotly.colors import sample_colorscale, unlabel_rgb
from plotly.subplots import make_subplots

from playground.spec.datasets import GRAY_SHAPE
from playground.spec.layers import TYPE_TITLES
from playground.spec.shapes import shape_text
from playground.views import colours

HIGHLIGHT_COLOR, BAR_COLOR, LINE_COLOR = colours.HIGHLIGHT, colours.BAR, colours.LINE
SMOOTHING = 0.6  # weight of the past in the training curves' moving average
EPOCH_TITLE = "epoch"
BATCH_POINTS_NOTE = "each faint point: the batches since the one before"
EDGE = 10  # pixels around every figure; more on top where a figure has titles
# Plotly's Viridis as a table of 256 RGB colours, for pictures made without Plotly.
VIRIDIS = np.rint([unlabel_rgb(color) for color in sample_colorscale("Viridis", 256)]).astype(np.uint8)


def margin(top: int = EDGE, bottom: int = EDGE) -> dict:
    """Plotly's layout margin for the playground's figures."""
    return dict(l=EDGE, r=EDGE, t=top, b=bottom)


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
        height=260, margin=margin(), showlegend=False,
        yaxis=dict(range=[0, 1.12], tickformat=".0%", title="probability"),
        xaxis=dict(type="category", title=None),
    )
    return figure


def training_figure(snapshot) -> go.Figure:
    """Loss and accuracy side by side: training batches as they went, validation per epoch.

    Each training point is the mean of the batches since the one before (a tenth of a
    second of training), drawn faintly, with a smoothed line through them. One figure for
    both, so the browser re-renders one chart per live update, not two.
    """
    figure = make_subplots(rows=1, cols=2, subplot_titles=("loss", "accuracy"), horizontal_spacing=0.1)
    points = snapshot.batch_points
    positions = [point[0] for point in points]
    epochs = [point["epoch"] for point in snapshot.epoch_points if "val_loss" in point]
    for column, metric in ((1, "loss"), (2, "accuracy")):
        values = np.array([point[column] for point in points], np.float64)
        figure.add_trace(go.Scatter(
            x=positions, y=values, mode="lines", name="training batches", legendgroup="batches",
            showlegend=column == 1, line=dict(color=BAR_COLOR, width=1), opacity=0.3), row=1, col=column)
        figure.add_trace(go.Scatter(
            x=positions, y=smoothed(values), mode="lines",
            name="training, smoothed", legendgroup="training", showlegend=column == 1,
            line=dict(color=LINE_COLOR, width=2)), row=1, col=column)
        figure.add_trace(go.Scatter(
            x=epochs, y=[point[f"val_{metric}"] for point in snapshot.epoch_points if "val_loss" in point],
            mode="lines+markers", name="validation", legendgroup="validation", showlegend=column == 1,
            line=dict(color=HIGHLIGHT_COLOR, width=2)), row=1, col=column)
    span = [0, max(1, snapshot.progress.epochs)]
    figure.update_xaxes(title_text=EPOCH_TITLE, range=span)
    figure.update_yaxes(rangemode="tozero", row=1, col=1)
    figure.update_yaxes(range=[0, 1], tickformat=".0%", row=1, col=2)
    # Once, across both charts: as each axis's title it overlapped the other's in a narrow window.
    figure.add_annotation(text=BATCH_POINTS_NOTE, x=0.5, y=0, xref="paper", yref="paper", yshift=-54,
                          xanchor="center", yanchor="top", showarrow=False, font=dict(size=12))
    figure.update_layout(height=320, margin=margin(50, bottom=78), uirevision="training",
                         legend=dict(orientation="h", y=1.12, yanchor="bottom", x=1, xanchor="right"))
    return figure


def smoothed(values: np.ndarray, weight: float = SMOOTHING) -> np.ndarray:
    """An exponential moving average, corrected for its start as in Adam (TensorBoard's smoothing)."""
    result, average = np.empty_like(values), 0.0
    for index, value in enumerate(values):
        average = weight * average + (1 - weight) * value
        result[index] = average / (1 - weight ** (index + 1))
    return result


def confusion_figure(confusion: np.ndarray, class_names: tuple[str, ...]) -> go.Figure:
    """Rows are true classes, columns predictions; the diagonal holds the correct ones.

    Plotly heatmaps report no selection events, so an invisible square marker sits on each
    cell: clicking a cell selects its marker, whose customdata is (true, predicted).
    """
    names, counts = list(class_names), np.asarray(confusion).tolist()  # plain lists: readable in the page
    true_classes, predicted = np.indices(np.shape(confusion))
    figure = go.Figure(go.Heatmap(
        z=counts, x=names, y=names, colorscale="Blues", text=counts, texttemplate="%{text}",
        hoverinfo="skip", showscale=False,
    ))
    figure.add_trace(go.Scatter(
        x=[names[index] for index in predicted.ravel()], y=[names[index] for index in true_classes.ravel()],
        customdata=np.stack([true_classes.ravel(), predicted.ravel(), np.ravel(confusion)], axis=-1).tolist(),
        mode="markers", marker=dict(symbol="square", size=30, color="rgba(0, 0, 0, 0)"),
        hovertemplate="true %{y}, predicted %{x}: %{customdata[2]}<br>click to see them<extra></extra>",
        showlegend=False,
    ))
    figure.update_layout(
        height=420, margin=margin(), clickmode="event+select", dragmode=False,
        xaxis=dict(title="predicted", type="category", side="top"),
        yaxis=dict(title="true", type="category", autorange="reversed"),
    )
    return figure


def per_class_figure(accuracies: np.ndarray, class_names: tuple[str, ...]) -> go.Figure:
    figure = go.Figure(go.Bar(
        x=list(class_names), y=accuracies, marker_color=BAR_COLOR,
        hovertemplate="%{x}: %{y:.2%}<extra></extra>",
    ))
    low = max(0.0, float(np.min(accuracies)) - 0.05)
    figure.update_layout(height=240, margin=margin(),
                         yaxis=dict(range=[low, 1.0], tickformat=".0%", title="accuracy"),
                         xaxis=dict(type="category"))
    return figure


def stack_diagram(infos, input_shape=GRAY_SHAPE) -> str:
    """Graphviz DOT for the stack: one box per layer with its output shape; a residual block
    as a frame with its main path and its shortcut side by side, meeting at the sum."""
    lines = ['digraph { rankdir=TB; node [shape=box style="rounded,filled" fillcolor="' + colours.NODE + '" '
             f'fontname="sans-serif" fontsize=11]; edge [color="{colours.BAR}"];',
             f'input [label="input\\n{shape_text(input_shape)}" fillcolor="{colours.INPUT_NODE}"];']
    previous = "input"
    for info in infos:
        if info.inner:
            previous = _block_diagram(lines, info, previous)
            continue
        lines.append(f'n{info.index} [label="{info.spec["type"]}\\n{shape_text(info.output_shape)}"];')
        lines.append(f"{previous} -> n{info.index};")
        previous = f"n{info.index}"
    lines.append("}")
    return "\n".join(lines)


def _block_diagram(lines: list[str], info, previous: str) -> str:
    """A residual block's layers inside a frame; returns the node its output leaves from."""
    lines.append(f'subgraph cluster_{info.index} {{ label="{TYPE_TITLES["ResidualBlock"]} '
                 f'{info.index + 1}" fontname="sans-serif" fontsize=11 style="rounded" color="#8fa7c9";')
    ends = {"main": previous, "shortcut": previous}
    for position, layer in enumerate(info.inner):
        node = f"n{info.index}_{position}"
        fill = ' fillcolor="#fdf1e3"' if layer.path == "shortcut" else ""
        kind = "ReLU" if layer.kind == "Activation" else layer.kind
        lines.append(f'{node} [label="{kind}\\n{shape_text(layer.output_shape)}"{fill}];')
        if layer.path == "merge" and layer.kind == "Add":
            skip = ' [label=" skip" fontname="sans-serif" fontsize=10 color="#e0913a"]' \
                if ends["shortcut"] == previous else ' [color="#e0913a"]'
            lines += [f"{ends['main']} -> {node};", f"{ends['shortcut']} -> {node}{skip};"]
            ends = {"main": node, "shortcut": node}
        else:
            lines.append(f"{ends[layer.path if layer.path != 'merge' else 'main']} -> {node};")
            ends[layer.path if layer.path != "merge" else "main"] = node
    lines.append("}")
    return ends["main"]


def kernel_figure(grid: np.ndarray, height: int = 260) -> go.Figure:
    """Kernel weights as one heatmap, red for positive, blue for negative, white at 0.

    The colour scale is symmetric around 0 so that the sign of a weight is read at a glance.
    """
    figure = signed_heatmap(grid, "weight %{z:.3f}<extra></extra>", colorbar=dict(thickness=12))
    figure.update_layout(height=height, margin=margin())
    return figure


def signed_heatmap(values: np.ndarray, hovertemplate: str, **heatmap_options) -> go.Figure:
    """Square cells, red above 0 and blue below, on a colour scale symmetric around 0."""
    limit = float(np.nanmax(np.abs(values))) or 1.0
    figure = go.Figure(go.Heatmap(z=values, colorscale="RdBu_r", zmid=0.0, zmin=-limit, zmax=limit,
                                  hoverongaps=False, hovertemplate=hovertemplate, **heatmap_options))
    figure.update_layout(xaxis=dict(visible=False, constrain="domain"),
                         yaxis=dict(visible=False, autorange="reversed", scaleanchor="x"))
    return figure


def vector_figure(values: np.ndarray, title: str = "activation") -> go.Figure:
    """One bar per unit of a Dense (or global pooling) layer's output."""
    values = np.asarray(values, dtype=float)
    figure = go.Figure(go.Bar(x=np.arange(len(values)), y=values, marker_color=BAR_COLOR,
                              hovertemplate="unit %{x}: %{y:.3f}<extra></extra>"))
    figure.update_layout(height=200, margin=margin(), bargap=0.1,
                         xaxis=dict(title="unit"), yaxis=dict(title=title))
    return figure


def top_classes_figure(names: list[str], probabilities: list[float]) -> go.Figure:
    """Horizontal bars, the most likely class on top."""
    colors = [HIGHLIGHT_COLOR] + [BAR_COLOR] * (len(names) - 1)
    figure = go.Figure(go.Bar(
        x=probabilities, y=names, orientation="h", marker_color=colors,
        text=[f"{value:.1%}" for value in probabilities], textposition="auto",
        hovertemplate="%{y}: %{x:.2%}<extra></extra>",
    ))
    figure.update_layout(height=60 + 50 * len(names), margin=margin(),
                         xaxis=dict(range=[0, 1], tickformat=".0%", title="probability"),
                         yaxis=dict(autorange="reversed", type="category"))
    return figure


def attribution_figure(attributions: np.ndarray, class_name: str) -> go.Figure:
    """Integrated Gradients over the input, a colour pixel's three channels added up: red raised
    the class's probability, blue lowered it."""
    values = np.asarray(attributions, dtype=float)
    values = values.sum(axis=-1) if values.ndim == 3 else values
    figure = signed_heatmap(
        values, f"row %{{y}}, column %{{x}}: %{{z:+.4f}} to p({class_name})<extra></extra>", showscale=False)
    figure.update_layout(width=190, height=190, margin=dict(l=0, r=0, t=0, b=0))
    return figure


def colorize(grid: np.ndarray, scale: int = 1, gap_color=(255, 255, 255)) -> np.ndarray:
    """A uint8 RGB image of a [0, 1] grid in the Viridis colours, each cell scale×scale pixels."""
    indices = np.nan_to_num(np.clip(grid, 0.0, 1.0) * (len(VIRIDIS) - 1), nan=0.0)
    image = VIRIDIS[np.rint(indices).astype(np.int64)]
    image[np.isnan(grid)] = gap_color
    return np.repeat(np.repeat(image, scale, axis=0), scale, axis=1)

def heatmap_overlay(square: Image.Image, heatmap: np.ndarray, opacity: float = 0.5) -> Image.Image:
    """The heatmap, smoothly enlarged to the photo's square, laid over it in warm colours."""
    enlarged = Image.fromarray((heatmap * 255).astype(np.uint8)).resize(square.size, Image.Resampling.BICUBIC)
    colored = Image.fromarray(colorize(np.asarray(enlarged, np.float32) / 255.0))
    return Image.blend(square.convert("RGB"), colored, opacity)

