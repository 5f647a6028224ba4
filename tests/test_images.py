"""Opening uploads: every awkward kind of file, each made here, is read or refused by name."""

import contextlib
import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from playground.data.images import MAX_PIXELS, UPLOAD_TYPES, ImageError, open_picture


def encoded(image: Image.Image, format: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=format, **options)
    return buffer.getvalue()


def bomb_png(width: int = 40_000, height: int = 40_000) -> bytes:
    """A valid little PNG whose header claims width×height pixels."""
    raw = encoded(Image.new("L", (8, 8)), "PNG")
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    chunk = b"IHDR" + header
    return raw[:8] + struct.pack(">I", 13) + chunk + struct.pack(">I", zlib.crc32(chunk)) + raw[33:]


def test_a_plain_jpeg_opens_as_rgb():
    picture = open_picture(encoded(Image.new("RGB", (64, 48), (200, 10, 10)), "JPEG"), "red.jpg")
    assert picture.mode == "RGB" and picture.size == (64, 48)
    assert picture.getpixel((10, 10))[0] > 180


@pytest.mark.parametrize("raw, name, message", [
    (b"", "empty.jpg", "empty.jpg is empty"),
    (b"just some text, not pixels", "notes.png", "notes.png is not a picture"),
    (b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"></svg>', "logo.svg",
     "logo.svg is an SVG"),
    (b"<svg width='10' height='10'></svg>", "icon.png", "icon.png is an SVG"),
])
def test_files_that_are_not_pictures_are_refused_by_name(raw, name, message):
    with pytest.raises(ImageError, match=message):
        open_picture(raw, name)


def test_the_refusal_names_every_format_the_uploaders_take():
    with pytest.raises(ImageError, match="Use a JPEG, PNG, WebP, BMP, GIF or TIFF file"):
        open_picture(b"just some text", "notes.png")
    assert {"tif", "tiff", "jpg", "webp"} <= set(UPLOAD_TYPES)


@pytest.mark.parametrize("raw", [
    encoded(Image.new("RGB", (64, 48)), "PNG"),
    encoded(Image.fromarray(np.random.default_rng(0).integers(0, 255, (300, 400, 3), np.uint8)),
            "JPEG")[:20_000],  # damaged: refused after opening
    bomb_png(8_000, 8_000),  # within Pillow's own limit, beyond the budget: refused after opening
], ids=["png", "damaged jpeg", "oversized png"])
def test_the_file_pillow_opens_is_closed_whatever_becomes_of_it(raw, monkeypatch):
    opened = []
    original = Image.open

    def recording_open(*args, **kwargs):
        opened.append(original(*args, **kwargs))
        return opened[-1]

    monkeypatch.setattr(Image, "open", recording_open)
    with contextlib.suppress(ImageError):
        open_picture(raw, "photo")
    assert len(opened) == 1 and opened[0].fp is None, "Pillow's file is still open"


def test_a_truncated_jpeg_is_refused_by_name():
    photo = Image.fromarray(np.random.default_rng(0).integers(0, 255, (300, 400, 3), np.uint8))
    raw = encoded(photo, "JPEG")
    with pytest.raises(ImageError, match="cut.jpg is damaged or cut short"):
        open_picture(raw[:len(raw) // 3], "cut.jpg")


def test_a_decompression_bomb_is_refused_before_decoding():
    with pytest.raises(ImageError, match=f"bomb.png claims .*{MAX_PIXELS // 1_000_000}-megapixel limit"):
        open_picture(bomb_png(), "bomb.png")
    with pytest.raises(ImageError, match="claims to be 9,000×9,000 pixels"):
        open_picture(bomb_png(9_000, 9_000), "big.png")  # under Pillow's own limit, over ours


@pytest.mark.parametrize("make, name, colour", [
    (lambda: encoded(Image.new("CMYK", (40, 30), (0, 255, 255, 0)), "JPEG"), "cmyk.jpg", (255, 0, 0)),
    (lambda: encoded(Image.fromarray(np.full((30, 40), 65535, np.uint16)), "PNG"), "sixteen.png",
     (255, 255, 255)),
    (lambda: encoded(Image.new("RGB", (40, 30), "red").convert("P", palette=Image.Palette.ADAPTIVE), "PNG"),
     "palette.png", (255, 0, 0)),
    (lambda: encoded(Image.new("RGBA", (40, 30), (255, 0, 0, 0)), "PNG"), "transparent.png", (255, 255, 255)),
    (lambda: encoded(Image.new("LA", (40, 30), (0, 128)), "PNG"), "half-clear.png", (127, 127, 127)),
    (lambda: encoded(Image.new("L", (40, 30), 128), "PNG"), "gray.png", (128, 128, 128)),
    (lambda: encoded(Image.new("1", (40, 30), 1), "BMP"), "bilevel.bmp", (255, 255, 255)),
    (lambda: encoded(Image.new("RGB", (1, 1), "blue"), "PNG"), "dot.png", (0, 0, 255)),
    (lambda: encoded(Image.new("RGB", (40, 30), (0, 128, 0)), "WEBP"), "green.webp", (0, 128, 0)),
    (lambda: encoded(Image.new("RGB", (40, 30), (10, 200, 30)), "TIFF"), "scan.tif", (10, 200, 30)),
    (lambda: encoded(Image.new("RGB", (40, 30), (10, 200, 30)), "TIFF", compression="tiff_lzw"),
     "lzw.tiff", (10, 200, 30)),
    (lambda: encoded(Image.fromarray(np.full((30, 40), 16384, np.uint16)), "TIFF"), "sixteen.tif",
     (63, 63, 63)),
    (lambda: encoded(Image.fromarray(np.full((30, 40), 0.5, np.float32)), "TIFF"), "float.tif",
     (127, 127, 127)),
    (lambda: encoded(Image.new("CMYK", (40, 30), (255, 0, 255, 0)), "TIFF"), "cmyk.tif", (0, 255, 0)),
])
def test_every_mode_comes_out_as_8_bit_rgb_of_the_right_colour(make, name, colour):
    """Each expected colour is the file's own, worked out by hand (16384 of 65535 is 63 of 255)."""
    picture = open_picture(make(), name)
    assert picture.mode == "RGB" and np.asarray(picture).dtype == np.uint8
    centre = picture.getpixel((picture.width // 2, picture.height // 2))
    assert np.abs(np.subtract(centre, colour)).max() <= 3, (name, centre, colour)


def test_colours_survive_the_conversions():
    cmyk = open_picture(encoded(Image.new("CMYK", (8, 8), (0, 255, 255, 0)), "JPEG"), "cmyk.jpg")
    assert cmyk.getpixel((4, 4))[0] > 200 and cmyk.getpixel((4, 4))[1] < 60  # red
    white16 = open_picture(encoded(Image.fromarray(np.full((8, 8), 65535, np.uint16)), "PNG"), "w.png")
    assert white16.getpixel((4, 4)) == (255, 255, 255)  # not clipped to a wrong grey
    mid16 = open_picture(encoded(Image.fromarray(np.full((8, 8), 32768, np.uint16)), "PNG"), "m.png")
    assert mid16.getpixel((4, 4))[0] == 127
    clear = open_picture(encoded(Image.new("RGBA", (8, 8), (255, 0, 0, 0)), "PNG"), "clear.png")
    assert clear.getpixel((4, 4)) == (255, 255, 255)  # transparent shows the white background


def test_an_animated_gif_gives_its_first_frame():
    frames = [Image.new("RGB", (20, 20), color) for color in ("red", "blue", "green")]
    buffer = io.BytesIO()
    frames[0].save(buffer, format="GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    picture = open_picture(buffer.getvalue(), "anim.gif")
    red, green, blue = picture.getpixel((10, 10))
    assert red > 200 and blue < 50


def test_exif_orientation_is_honoured():
    landscape = Image.new("RGB", (60, 20), "white")
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to view": a phone held upright
    picture = open_picture(encoded(landscape, "JPEG", exif=exif), "phone.jpg")
    assert picture.size == (20, 60)


def test_a_12_megapixel_jpeg_is_decoded_at_a_reduced_scale():
    big = Image.new("RGB", (4000, 3000), "gray")
    raw = encoded(big, "JPEG", quality=80)
    picture = open_picture(raw, "camera.jpg", smallest_side=224)
    assert picture.size == (500, 375)  # 1/8 scale: never below 224 on the shorter side
    assert open_picture(raw, "camera.jpg").size == (4000, 3000)


def test_a_photo_becomes_a_32_by_32_colour_input_and_back():
    from playground.data.images import photo_input, picture_of

    photo = Image.new("RGB", (300, 200), (255, 0, 0))
    photo.paste(Image.new("RGB", (200, 200), (0, 0, 255)), (50, 0))  # red strips left and right, cut off
    pixels = photo_input(photo, (32, 32, 3))
    assert pixels.shape == (32, 32, 3) and pixels.dtype == np.float32
    np.testing.assert_allclose(pixels[16, 16], [0.0, 0.0, 1.0], atol=0.02)  # the blue centre square
    assert pixels[..., 0].max() < 0.1, "the square centre is kept; the red strips are not squeezed in"
    assert picture_of(pixels).mode == "RGB" and picture_of(pixels).getpixel((16, 16))[2] >= 250
    assert picture_of(np.full((28, 28, 1), 0.5)).mode == "L"
