"""Convolution and pooling by hand, step by step, for the "How it works" page.

Everything here is plain NumPy in the layout Keras uses (height, width), so the
explainer's numbers can be checked against `keras.layers.Conv2D` and the pooling layers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from playground.layers import conv_output_size


@dataclass(frozen=True)
class ConvolutionStep:
    row: int  # output cell
    column: int
    top: int  # window's top-left corner in the padded input
    left: int
    products: np.ndarray  # window * kernel, element by element
    total: float  # their sum: the output cell's value


def same_padding(size: int, window: int, stride: int) -> tuple[int, int]:
    """Rows (or columns) Keras adds before and after for padding="same"."""
    total = max((conv_output_size(size, window, stride, "same") - 1) * stride + window - size, 0)
    return total // 2, total - total // 2


def pad_input(image: np.ndarray, window: int, stride: int, padding: str, value: float = 0.0) -> np.ndarray:
    if padding == "valid":
        return image
    rows, columns = same_padding(image.shape[0], window, stride), same_padding(image.shape[1], window, stride)
    return np.pad(image, (rows, columns), constant_values=value)


def output_size_formula(size: int, window: int, stride: int, padding: str) -> str:
    """The output-size formula with the numbers filled in."""
    out = conv_output_size(size, window, stride, padding)
    if padding == "same":
        return f"⌈n / s⌉ = ⌈{size} / {stride}⌉ = {out}"
    return f"⌊(n − k) / s⌋ + 1 = ⌊({size} − {window}) / {stride}⌋ + 1 = {out}"


def convolution_steps(image: np.ndarray, kernel: np.ndarray, stride: int = 1,
                      padding: str = "valid") -> list[ConvolutionStep]:
    """Every position of the sliding window, in reading order (cross-correlation, as in Keras)."""
    window = kernel.shape[0]
    if kernel.shape != (window, window):
        raise ValueError(f"The kernel must be square, not {kernel.shape}.")
    if padding == "valid" and window > min(image.shape):
        raise ValueError(f"A {window}×{window} kernel does not fit a {image.shape[0]}×{image.shape[1]} "
                         "input without padding: choose padding 'same' or a smaller kernel.")
    padded = pad_input(np.asarray(image, np.float64), window, stride, padding)
    rows = conv_output_size(image.shape[0], window, stride, padding)
    columns = conv_output_size(image.shape[1], window, stride, padding)
    steps = []
    for row in range(rows):
        for column in range(columns):
            top, left = row * stride, column * stride
            products = padded[top:top + window, left:left + window] * kernel
            steps.append(ConvolutionStep(row, column, top, left, products, float(products.sum())))
    return steps


def convolve(image: np.ndarray, kernel: np.ndarray, stride: int = 1, padding: str = "valid") -> np.ndarray:
    steps = convolution_steps(image, kernel, stride, padding)
    rows, columns = steps[-1].row + 1, steps[-1].column + 1
    return np.array([step.total for step in steps]).reshape(rows, columns)


def pool(image: np.ndarray, window: int, stride: int | None = None, padding: str = "valid",
         mode: str = "max") -> np.ndarray:
    """Max or average pooling over a 2-D map, as Keras does (padding is ignored by the average)."""
    stride = stride or window
    if mode not in ("max", "average"):
        raise ValueError(f"mode must be 'max' or 'average', not {mode!r}.")
    if padding == "valid" and window > min(image.shape):
        raise ValueError(f"A {window}×{window} window does not fit a "
                         f"{image.shape[0]}×{image.shape[1]} input without padding.")
    padded = pad_input(np.asarray(image, np.float64), window, stride, padding, value=np.nan)
    rows = conv_output_size(image.shape[0], window, stride, padding)
    columns = conv_output_size(image.shape[1], window, stride, padding)
    reduce = np.nanmax if mode == "max" else np.nanmean
    return np.array([[reduce(padded[row * stride:row * stride + window,
                                    column * stride:column * stride + window])
                      for column in range(columns)] for row in range(rows)])
