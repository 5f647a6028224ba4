"""Opening uploaded pictures safely: any common format, or a clear reason why not.

Uploads come from anyone, so every step is bounded before pixels are decoded: the header's
claimed size is checked against a pixel budget (a 40000×40000 PNG is refused unread), and
JPEGs are decoded at a reduced scale when the caller needs only a small image, which keeps
a 12-megapixel photo cheap in time and memory. Odd modes (CMYK, 16-bit, palette,
transparency, bilevel) all come out as plain 8-bit RGB, upright as the camera meant.
"""

from __future__ import annotations

import io
import struct
import warnings

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from playground.spec.refusals import Refused

MAX_PIXELS = 50_000_000  # a 50-megapixel photo is fine; a header claiming more is refused
BACKGROUND = (255, 255, 255)  # transparent pixels are shown over white, as a browser does
# Only these parsers ever see an upload: Pillow's name, how a person writes it, its file endings.
FORMATS = {"JPEG": ("JPEG", "jpg", "jpeg"), "PNG": ("PNG", "png"), "WEBP": ("WebP", "webp"),
           "BMP": ("BMP", "bmp"), "GIF": ("GIF", "gif"), "TIFF": ("TIFF", "tif", "tiff")}
UPLOAD_TYPES = [ending for _, *endings in FORMATS.values() for ending in endings]
_TITLES = [title for title, *_ in FORMATS.values()]
FORMATS_TEXT = f"{', '.join(_TITLES[:-1])} or {_TITLES[-1]}"  # "JPEG, PNG, WebP, BMP, GIF or TIFF"


class ImageError(Refused):
    """An upload that cannot be used as a picture; the message names the file and says why."""


def open_picture(raw: bytes, name: str, smallest_side: int | None = None) -> Image.Image:
    """An upright 8-bit RGB image from the bytes of an uploaded file.

    With `smallest_side`, a JPEG may be decoded at 1/2, 1/4 or 1/8 scale, never below that
    side, so a huge photo costs little to open.
    """
    if not raw:
        raise ImageError(f"{name} is empty (0 bytes). Upload the picture again.")
    if _looks_like_heif(raw):
        raise ImageError(f"{name} is a HEIC/HEIF photo (an iPhone's usual format), which this app cannot "
                         "read. Export it as JPEG (Photos › Share › Options › Most Compatible, or Preview › "
                         "Export), or set Settings › Camera › Formats › Most Compatible.")
    if _looks_like_svg(raw):
        raise ImageError(f"{name} is an SVG drawing, which has no pixels to classify. "
                         "Export it as PNG or JPEG and upload that.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(raw), formats=list(FORMATS))
    except UnidentifiedImageError:
        raise ImageError(f"{name} is not a picture this app can read. Use a {FORMATS_TEXT} file.") from None
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise ImageError(f"{name} claims to be far larger than the {MAX_PIXELS / 1e6:.0f}-megapixel "
                         "limit, so it was not decoded. Resize it and upload it again.") from None
    except (OSError, SyntaxError, ValueError, struct.error) as error:  # a header cut short or damaged
        raise _damaged(name, error) from None
    with image:  # the upright RGB copy made below outlives the file Pillow opened
        return _decoded(image, name, smallest_side)


def _decoded(image: Image.Image, name: str, smallest_side: int | None) -> Image.Image:
    _check_size(image, name)
    if smallest_side and image.format == "JPEG":
        image.draft("RGB", (smallest_side, smallest_side))
    try:
        image.seek(0)  # the first frame of an animation
        image.load()
        image = ImageOps.exif_transpose(image)
    except (OSError, SyntaxError, ValueError, struct.error) as error:
        raise _damaged(name, error) from None
    return to_rgb(image)


def _damaged(name: str, error: Exception) -> ImageError:
    return ImageError(f"{name} is damaged or cut short and cannot be decoded ({error}).")


HEIF_BRANDS = (b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1", b"avif")


def _looks_like_heif(raw: bytes) -> bool:
    """An ISO media file (`ftyp` box) of a HEIF brand: what iPhones save photos as."""
    return raw[4:8] == b"ftyp" and raw[8:12] in HEIF_BRANDS


def _looks_like_svg(raw: bytes) -> bool:
    head = raw[:1024].lstrip().lower()
    return head.startswith(b"<svg") or (head.startswith(b"<?xml") and b"<svg" in head)


def _check_size(image: Image.Image, name: str) -> None:
    width, height = image.size
    if width < 1 or height < 1:
        raise ImageError(f"{name} has no pixels ({width}×{height}).")
    if width * height > MAX_PIXELS:
        raise ImageError(f"{name} claims to be {width:,}×{height:,} pixels "
                         f"({width * height / 1e6:,.0f} megapixels); the limit is "
                         f"{MAX_PIXELS / 1e6:.0f} megapixels. Resize it and upload it again.")


def to_rgb(image: Image.Image) -> Image.Image:
    """8-bit RGB from any Pillow mode, keeping the full range of 16-bit and float images."""
    if image.mode in ("I", "I;16", "I;16B", "I;16L", "F"):
        pixels = np.asarray(image, dtype=np.float64)
        scaled = pixels / _full_scale(pixels, image.mode) * 255.0
        image = Image.fromarray(scaled.clip(0, 255).astype(np.uint8))
    if image.mode == "P":
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (*BACKGROUND, 255))
        image = Image.alpha_composite(background, rgba)
    return image.convert("RGB")


def _full_scale(pixels: np.ndarray, mode: str) -> float:
    """The value that means "white": 1.0 for float images in [0, 1], else 255 or 65535."""
    brightest = float(pixels.max(initial=0.0))
    if mode == "F" and brightest <= 1.0:
        return 1.0
    return 255.0 if brightest <= 255.0 else 65535.0


def picture_of(image: np.ndarray) -> Image.Image:
    """A model input in [0, 1], (height, width, 1) or (height, width, 3), as an 8-bit picture."""
    pixels = (np.clip(np.asarray(image, np.float32), 0.0, 1.0) * 255).round().astype(np.uint8)
    return Image.fromarray(pixels[..., 0] if pixels.shape[-1] == 1 else pixels)


def photo_input(picture: Image.Image, input_shape) -> np.ndarray:
    """A photo as a colour model's input: its centre cut to the model's proportions and scaled
    down to its size (32 × 32 for CIFAR-10), as floats in [0, 1]."""
    height, width = input_shape[:2]
    fitted = ImageOps.fit(picture.convert("RGB"), (width, height), Image.Resampling.LANCZOS)
    return np.asarray(fitted, np.float32) / 255.0
