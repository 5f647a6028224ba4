"""Opening uploads: every awkward kind of file, each made here, is read or refused by name."""

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from playground.images import MAX_PIXELS, ImageError, open_picture


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


@pytest.mark.parametrize("make, name", [
    (lambda: encoded(Image.new("CMYK", (40, 30), (0, 255, 255, 0)), "JPEG"), "cmyk.jpg"),
    (lambda: encoded(Image.fromarray(np.full((30, 40), 65535, np.uint16)), "PNG"), "sixteen.png"),
    (lambda: encoded(Image.new("RGB", (40, 30), "red").convert("P", palette=Image.Palette.ADAPTIVE), "PNG"),
     "palette.png"),
    (lambda: encoded(Image.new("RGBA", (40, 30), (255, 0, 0, 0)), "PNG"), "transparent.png"),
    (lambda: encoded(Image.new("L", (40, 30), 128), "PNG"), "gray.png"),
    (lambda: encoded(Image.new("1", (40, 30), 1), "BMP"), "bilevel.bmp"),
    (lambda: encoded(Image.new("RGB", (1, 1), "blue"), "PNG"), "dot.png"),
    (lambda: encoded(Image.new("RGB", (40, 30), "green"), "WEBP"), "green.webp"),
])
def test_every_mode_comes_out_as_8_bit_rgb(make, name):
    picture = open_picture(make(), name)
    assert picture.mode == "RGB"
    assert np.asarray(picture).dtype == np.uint8


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
