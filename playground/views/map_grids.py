"""Layers' outputs laid out as pictures: any output as a stack of maps, a grid that fits a
width on screen, and the grid as one small coloured picture (far cheaper for a browser than
a chart per map)."""

from __future__ import annotations

import numpy as np

from playground.explain.inspection import feature_map_grid
from playground.views.figures import colorize

MAX_SCALE = 8  # screen pixels per map pixel, at most


def grid_layout(maps: np.ndarray, width: int, max_scale: int = MAX_SCALE) -> tuple[int, int]:
    """Columns and the pixel scale that fit `maps` in `width` screen pixels.

    About twice as many columns as rows: a wide grid needs less scrolling than a square one.
    """
    height, map_width, count = maps.shape
    columns = int(np.ceil(np.sqrt(2 * count)))
    return columns, int(np.clip(width // (columns * (map_width + 1)), 1, max_scale))


def as_maps(values: np.ndarray) -> np.ndarray:
    """Height × width × maps: a 2-D output is one map; a vector, one 1 × 1 map per value."""
    if values.ndim == 2:
        return values[..., np.newaxis]
    return values if values.ndim == 3 else values.reshape(1, 1, -1)


def grid_picture(maps: np.ndarray, columns: int) -> np.ndarray:
    return colorize(feature_map_grid(maps, columns))
