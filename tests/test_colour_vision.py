"""The colours stay apart for colour-vision deficiencies: each pair the charts show together
is simulated for protanopia, deuteranopia and tritanopia (Machado, Oliveira & Fernandes 2009,
severity 1.0) and must still differ clearly (CIE76 ΔE ≥ 20); Viridis must still rise in
lightness from one end to the other, so a feature map reads the same."""

import numpy as np
import pytest

from playground.views.figures import BAR_COLOR, HIGHLIGHT_COLOR, LINE_COLOR, VIRIDIS

# Machado et al. (2009), severity 1.0, on linear RGB.
SIMULATIONS = {
    "protanopia": [[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216],
                   [-0.003882, -0.048116, 1.051998]],
    "deuteranopia": [[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413],
                     [-0.011820, 0.042940, 0.968881]],
    "tritanopia": [[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602],
                   [0.004733, 0.691367, 0.303900]],
}
PAIRS = {"highlight and bars": (HIGHLIGHT_COLOR, BAR_COLOR),
         "highlight and line": (HIGHLIGHT_COLOR, LINE_COLOR),
         "line and bars": (LINE_COLOR, BAR_COLOR)}


def linear(rgb):
    rgb = np.asarray(rgb, dtype=float) / 255.0
    return np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)


def lab(linear_rgb):
    xyz = np.asarray(linear_rgb) @ np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722],
                                              [0.0193, 0.1192, 0.9505]]).T
    xyz = xyz / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > 0.008856, np.cbrt(xyz), 7.787 * xyz + 16 / 116)
    return np.stack([116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])], -1)


def hex_rgb(colour: str):
    return [int(colour[index:index + 2], 16) for index in (1, 3, 5)]


@pytest.mark.parametrize("vision", [None, *SIMULATIONS])
@pytest.mark.parametrize("pair", list(PAIRS))
def test_colours_shown_together_stay_apart(vision, pair):
    first, second = (linear(hex_rgb(colour)) for colour in PAIRS[pair])
    if vision:
        matrix = np.array(SIMULATIONS[vision])
        first, second = (np.clip(matrix @ colour, 0, 1) for colour in (first, second))
    assert np.linalg.norm(lab(first) - lab(second)) >= 20


@pytest.mark.parametrize("vision", list(SIMULATIONS))
def test_viridis_rises_in_lightness_for_every_vision(vision):
    colours = np.clip(linear(VIRIDIS) @ np.array(SIMULATIONS[vision]).T, 0, 1)
    lightness = lab(colours)[:, 0]
    assert np.all(np.diff(lightness[::16]) > 0)


def test_the_check_would_catch_a_red_green_pair():
    """Plotly's default red and green, which deuteranopia merges: the same check fails them."""
    red, green = linear(hex_rgb("#d62728")), linear(hex_rgb("#2ca02c"))
    assert np.linalg.norm(lab(red) - lab(green)) >= 20
    matrix = np.array(SIMULATIONS["deuteranopia"])
    assert np.linalg.norm(lab(np.clip(matrix @ red, 0, 1)) - lab(np.clip(matrix @ green, 0, 1))) < 20
