"""Convolution and pooling by hand, step by step, for the "How it works" page.

Everything here is plain NumPy in the layout Keras uses (height, width), so the
explainer's numbers can be checked against `keras.layers.Conv2D` and the pooling layers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from playground.spec.shapes import conv_output_size


@dataclass(frozen=True)
class ConvolutionStep:
    row: int  # output cell
    column: int
    top: int  # window's top-left corner in the padded input
    left: int
    window: np.ndarray  # the input values under the kernel
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
            values = padded[top:top + window, left:left + window]
            products = values * kernel
            steps.append(ConvolutionStep(row, column, top, left, values, products, float(products.sum())))
    return steps


def convolve(image: np.ndarray, kernel: np.ndarray, stride: int = 1, padding: str = "valid") -> np.ndarray:
    return steps_output(convolution_steps(image, kernel, stride, padding))


def steps_output(steps: list[ConvolutionStep]) -> np.ndarray:
    """The output map that `steps` (all of one convolution's, in order) write."""
    return np.array([step.total for step in steps]).reshape(steps[-1].row + 1, steps[-1].column + 1)


def partial_output(steps: list[ConvolutionStep], done: int) -> np.ndarray:
    """The output map after the first `done` steps: cells not written yet are NaN."""
    output = steps_output(steps)
    shown = np.full(output.shape, np.nan)
    shown.flat[:done] = output.flat[:done]
    return shown


def padding_offsets(size: int, window: int, stride: int, padding: str) -> tuple[int, int]:
    """Rows (and columns) of zeros added before and after the input: none for "valid"."""
    return same_padding(size, window, stride) if padding == "same" else (0, 0)


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


def _pattern(rows: str) -> np.ndarray:
    return np.array([[float(cell) for cell in row] for row in rows.split()])


# Small inputs whose numbers fit on screen. X and O are the classic teaching pair: the
# diagonal kernels find the X's strokes, and the O has none.
PATTERNS = {
    "X": _pattern("100000001 010000010 001000100 000101000 000010000 "
                  "000101000 001000100 010000010 100000001"),
    "O": _pattern("000000000 001111100 010000010 010000010 010000010 "
                  "010000010 010000010 001111100 000000000"),
    "Digit 7": _pattern("000000000 011111110 000000110 000001100 000011000 000110000 000110000 001100000 "
                        "000000000"),
}

KERNELS = {
    "Diagonal ↘": [[1, -1, -1], [-1, 1, -1], [-1, -1, 1]],
    "Diagonal ↙": [[-1, -1, 1], [-1, 1, -1], [1, -1, -1]],
    "Vertical edge": [[1, 0, -1], [1, 0, -1], [1, 0, -1]],
    "Horizontal edge": [[1, 1, 1], [0, 0, 0], [-1, -1, -1]],
    "Blur": [[1 / 9] * 3] * 3,
    "Sharpen": [[0, -1, 0], [-1, 5, -1], [0, -1, 0]],
    "Identity": [[0, 0, 0], [0, 1, 0], [0, 0, 0]],
}


def downsample(image: np.ndarray, factor: int) -> np.ndarray:
    """Average factor×factor blocks, so a 28×28 drawing becomes a 14×14 or 7×7 input."""
    height, width = (image.shape[0] // factor) * factor, (image.shape[1] // factor) * factor
    blocks = image[:height, :width].reshape(height // factor, factor, width // factor, factor)
    return blocks.mean(axis=(1, 3))


def step_arithmetic(step: ConvolutionStep, kernel: np.ndarray) -> str:
    """"a×b + c×d + … = total" for one step, numbers rounded for reading."""
    terms = " + ".join(f"{value:.3g}×{weight:.3g}"
                       for value, weight in zip(step.window.ravel(), np.ravel(kernel), strict=True))
    return f"{terms} = {step.total:.3g}"
