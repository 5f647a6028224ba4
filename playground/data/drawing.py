"""Turn a drawing (or a photo of a digit) into the 28×28 input MNIST models expect.

MNIST was made this way: each digit's bounding box was scaled to fit 20×20 pixels,
keeping its aspect ratio and anti-aliasing, then placed in a 28×28 field so that its
centre of mass sits at the centre. A canvas drawing that skips these steps arrives
off-centre and at the wrong scale, and a CNN trained on MNIST misreads it far more often.
"""

from __future__ import annotations

import base64
import io

import numpy as np
from PIL import Image, ImageOps

IMAGE_SIDE = 28
DIGIT_BOX = 20
INK_THRESHOLD = 0.1  # a pixel this bright (of 1.0) counts as ink when cropping
MINIMUM_INK_PIXELS = 10  # fewer ink pixels than this is a stray click, not a digit


def to_grayscale(image: np.ndarray) -> np.ndarray:
    """Gray float image in [0, 1] from gray, RGB or RGBA uint8 (or float) pixels.

    Transparent pixels count as background: RGBA is composited over the opposite of the
    ink's brightness, so dark ink on a transparent canvas reads as well as light ink.
    """
    pixels = np.asarray(image)
    scale = 255.0 if pixels.dtype == np.uint8 or pixels.max(initial=0) > 1.0 else 1.0
    pixels = pixels.astype(np.float32) / scale
    if pixels.ndim == 2:
        return pixels
    if pixels.ndim != 3 or pixels.shape[2] not in (1, 3, 4):
        raise ValueError(f"Expected a gray, RGB or RGBA image, got an array of shape {pixels.shape}.")
    if pixels.shape[2] == 1:
        return pixels[..., 0]
    gray = pixels[..., :3] @ np.array([0.299, 0.587, 0.114], np.float32)
    if pixels.shape[2] == 4:
        alpha = pixels[..., 3]
        if alpha.min() < 1.0:
            gray = gray * alpha + _transparent_background(gray, alpha) * (1.0 - alpha)
    return gray


def _transparent_background(gray: np.ndarray, alpha: np.ndarray) -> float:
    """The opposite of the opaque pixels' mean brightness."""
    ink = gray[alpha > 0.5]
    return 0.0 if ink.size == 0 or ink.mean() >= 0.5 else 1.0


def _border(pixels: np.ndarray) -> np.ndarray:
    return np.concatenate([pixels[0], pixels[-1], pixels[1:-1, 0], pixels[1:-1, -1]])


def ink_image(image: np.ndarray) -> np.ndarray:
    """Gray image with bright ink on a dark background, as in MNIST (inverted if needed)."""
    gray = to_grayscale(image)
    if np.median(_border(gray)) > 0.5:
        gray = 1.0 - gray
    return gray


def preprocess_digit(image: np.ndarray) -> np.ndarray | None:
    """A (28, 28, 1) float32 image in [0, 1] ready for the model, or None for a blank image."""
    ink = ink_image(image)
    mask = ink > INK_THRESHOLD
    if mask.sum() < MINIMUM_INK_PIXELS:
        return None
    left, top, right, bottom = Image.fromarray(mask).getbbox()
    digit = scale_to_box(ink[top:bottom, left:right], DIGIT_BOX)
    return center_by_mass(digit, IMAGE_SIDE)[..., np.newaxis]


def scale_to_box(image: np.ndarray, box: int) -> np.ndarray:
    """Resize so the longer side is `box` pixels, keeping the aspect ratio (anti-aliased)."""
    picture = Image.fromarray(image.astype(np.float32), mode="F")
    scaled = ImageOps.contain(picture, (box, box), Image.Resampling.LANCZOS)
    if 0 in scaled.size:  # contain() rounds a stroke thinner than 1/box of its length to nothing
        scaled = picture.resize((max(1, scaled.width), max(1, scaled.height)), Image.Resampling.LANCZOS)
    return np.clip(np.asarray(scaled), 0.0, 1.0)


def center_by_mass(digit: np.ndarray, side: int) -> np.ndarray:
    """Place `digit` in a side×side field with its centre of mass at the field's centre."""
    height, width = digit.shape
    rows, columns = np.indices(digit.shape)
    mass = digit.sum()
    center_row, center_column = (rows * digit).sum() / mass, (columns * digit).sum() / mass
    top = int(np.clip(round(side / 2 - 0.5 - center_row), 0, side - height))
    left = int(np.clip(round(side / 2 - 0.5 - center_column), 0, side - width))
    field = np.zeros((side, side), np.float32)
    field[top:top + height, left:left + width] = digit
    return field


MAX_DRAWING_BYTES = 2 * 1024 * 1024  # a 300×300 drawing is a few kB; anything near this is not one
MAX_CANVAS_PIXELS = 1024 * 1024


def decode_png_data_url(data_url: str) -> np.ndarray | None:
    """The RGBA pixels of a `data:image/png;base64,…` URL sent by the canvas, or None if it
    is not a PNG of sensible size (the browser is not trusted to send one)."""
    prefix = "data:image/png;base64,"
    if not isinstance(data_url, str) or not data_url.startswith(prefix) or len(data_url) > MAX_DRAWING_BYTES:
        return None
    try:
        raw = base64.b64decode(data_url[len(prefix):], validate=True)
        with Image.open(io.BytesIO(raw)) as picture:
            if picture.format != "PNG" or picture.width * picture.height > MAX_CANVAS_PIXELS:
                return None
            return np.asarray(picture.convert("RGBA"))
    except (ValueError, OSError, Image.DecompressionBombError):
        return None
