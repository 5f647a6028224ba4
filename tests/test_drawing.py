import numpy as np
import pytest
from PIL import Image, ImageDraw

from playground.data.drawing import center_by_mass, preprocess_digit, scale_to_box, to_grayscale

CANVAS = 300


def canvas_with(draw_strokes, ink="white", background="black", mode="RGBA") -> np.ndarray:
    image = Image.new(mode, (CANVAS, CANVAS), background)
    draw_strokes(ImageDraw.Draw(image), ink)
    return np.asarray(image)


def seven(left, top, size, width=20):
    def draw(pen, ink):
        pen.line([(left, top), (left + size, top), (left + size * 0.4, top + size)], fill=ink, width=width)
    return draw


def one(x, top, height, width=18):
    def draw(pen, ink):
        pen.line([(x, top), (x, top + height)], fill=ink, width=width)
    return draw


def bounding_box(digit):
    rows, columns = np.nonzero(digit[..., 0] > 0.05)
    return rows.max() - rows.min() + 1, columns.max() - columns.min() + 1


def center_of_mass(digit):
    image = digit[..., 0]
    rows, columns = np.indices(image.shape)
    return (rows * image).sum() / image.sum(), (columns * image).sum() / image.sum()


@pytest.mark.parametrize("left, top, size", [(10, 10, 60), (200, 180, 80), (20, 20, 260), (120, 40, 150)])
def test_digit_is_scaled_to_20_pixels_and_centred(left, top, size):
    digit = preprocess_digit(canvas_with(seven(left, top, size)))
    assert digit.shape == (28, 28, 1) and digit.dtype == np.float32
    assert digit.min() >= 0.0 and digit.max() <= 1.0
    assert max(bounding_box(digit)) in (20, 21)  # anti-aliasing may bleed into one more pixel
    row, column = center_of_mass(digit)
    assert abs(row - 13.5) <= 0.5 and abs(column - 13.5) <= 0.5


def test_small_and_large_drawings_of_the_same_shape_agree():
    small = preprocess_digit(canvas_with(seven(30, 200, 50, width=5)))
    large = preprocess_digit(canvas_with(seven(10, 10, 250, width=25)))
    assert np.corrcoef(small.ravel(), large.ravel())[0, 1] > 0.85


def test_aspect_ratio_is_kept():
    digit = preprocess_digit(canvas_with(one(250, 40, 200)))
    height, width = bounding_box(digit)
    assert height in (20, 21)
    assert width <= 4  # a 200-by-18 stroke stays a thin vertical bar


def test_dark_ink_on_white_is_inverted_like_mnist():
    light_on_dark = preprocess_digit(canvas_with(seven(40, 40, 180)))
    dark_on_light = preprocess_digit(canvas_with(seven(40, 40, 180), ink="black", background="white"))
    np.testing.assert_allclose(dark_on_light, light_on_dark, atol=1e-5)


def test_transparent_canvas_with_dark_ink():
    transparent = canvas_with(seven(40, 40, 180), ink=(0, 0, 0, 255), background=(0, 0, 0, 0))
    expected = preprocess_digit(canvas_with(seven(40, 40, 180)))
    np.testing.assert_allclose(preprocess_digit(transparent), expected, atol=1e-5)


def test_gray_and_rgb_inputs():
    rgba = canvas_with(seven(40, 40, 180))
    expected = preprocess_digit(rgba)
    np.testing.assert_allclose(preprocess_digit(rgba[..., :3]), expected, atol=1e-5)
    np.testing.assert_allclose(preprocess_digit(rgba[..., 0]), expected, atol=1e-5)


@pytest.mark.parametrize("drawing", [
    np.zeros((CANVAS, CANVAS, 4), np.uint8),
    np.full((CANVAS, CANVAS, 3), 255, np.uint8),
    canvas_with(lambda pen, ink: pen.point([(5, 5), (6, 5)], fill=ink)),
])
def test_blank_or_nearly_blank_canvas_gives_none(drawing):
    assert preprocess_digit(drawing) is None


def test_bad_array_shape():
    with pytest.raises(ValueError, match="gray, RGB or RGBA"):
        to_grayscale(np.zeros((10, 10, 2), np.uint8))


def test_scale_to_box_keeps_ratio():
    assert scale_to_box(np.ones((100, 50), np.float32), 20).shape == (20, 10)
    assert scale_to_box(np.ones((3, 90), np.float32), 20).shape == (1, 20)
    assert scale_to_box(np.ones((1, 60), np.float32), 20).shape == (1, 20)  # thinner than 1/20


def test_a_one_pixel_dash_is_kept_as_a_dash():
    canvas = np.zeros((280, 280), np.uint8)
    canvas[140, 40:240] = 255
    digit = preprocess_digit(canvas)[..., 0]
    inked_rows = np.flatnonzero(digit.max(axis=1) > 0.05)
    inked_columns = np.flatnonzero(digit.max(axis=0) > 0.05)
    assert len(inked_rows) <= 2 and 19 <= len(inked_columns) <= 21
    assert abs(inked_rows.mean() - 13.5) <= 1.0


def test_center_by_mass_moves_mass_to_the_centre():
    digit = np.full((20, 12), 0.3, np.float32)
    digit[:8, :] = 1.0  # most mass in the top rows: the digit must sit low in the field
    field = center_by_mass(digit, 28)
    row, column = center_of_mass(field[..., None])
    assert abs(row - 13.5) <= 0.5 and abs(column - 13.5) <= 0.5
    assert np.flatnonzero(field.any(axis=1))[0] > 4
    assert field.sum() == pytest.approx(digit.sum())


def test_lopsided_digit_is_never_cut_off():
    digit = np.zeros((20, 12), np.float32)
    digit[:2, :] = 1.0  # centring by mass alone would push the bottom rows out of the field
    field = center_by_mass(digit, 28)
    assert field.sum() == pytest.approx(digit.sum())


def test_mnist_digits_redrawn_on_a_canvas_are_still_recognised(mnist, default_classifier):
    """MNIST test digits, enlarged and moved about a canvas, come back readable."""
    rng = np.random.default_rng(7)
    indices = rng.choice(len(mnist.x_test), 300, replace=False)
    correct = 0
    for index in indices:
        size = int(rng.integers(100, 280))
        digit = Image.fromarray((mnist.x_test[index, ..., 0] * 255).astype(np.uint8)).resize((size, size))
        canvas = Image.new("L", (CANVAS, CANVAS))
        corner = rng.integers(0, CANVAS - size + 1, 2)
        canvas.paste(digit, (int(corner[0]), int(corner[1])))
        prediction = default_classifier.probabilities(preprocess_digit(np.asarray(canvas))).argmax()
        correct += int(prediction == mnist.y_test[index])
    assert correct / len(indices) >= 0.97


def test_the_canvas_png_decodes_to_its_pixels():
    import base64
    import io

    from PIL import Image

    from playground.data.drawing import decode_png_data_url

    pixels = np.zeros((300, 300, 4), np.uint8)
    pixels[..., 3] = 255
    pixels[40:260, 140:160, :3] = 255
    buffer = io.BytesIO()
    Image.fromarray(pixels, "RGBA").save(buffer, format="PNG")
    url = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()
    np.testing.assert_array_equal(decode_png_data_url(url), pixels)


@pytest.mark.parametrize("sent", [
    None, 42, "", "data:image/jpeg;base64,AAAA", "data:image/png;base64,not base64!",
    "data:image/png;base64," + "A" * (3 * 1024 * 1024),
    "data:image/png;base64,iVBORw0KGgo=",  # a PNG signature and nothing else
])
def test_anything_but_a_sensible_png_is_no_drawing(sent):
    from playground.data.drawing import decode_png_data_url

    assert decode_png_data_url(sent) is None


def test_a_png_bomb_from_the_browser_is_no_drawing():
    import base64
    import io

    from PIL import Image

    from playground.data.drawing import decode_png_data_url

    buffer = io.BytesIO()
    Image.new("L", (4000, 4000)).save(buffer, format="PNG")  # 16 megapixels in a few kB
    url = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()
    assert len(url) < 100_000
    assert decode_png_data_url(url) is None
