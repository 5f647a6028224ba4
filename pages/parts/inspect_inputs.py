"""Inspect's inputs: the last drawing, a test image, or an upload, for digit and photo models."""

import numpy as np
import streamlit as st

from pages.parts.common import LAST_DIGIT_KEY, classifier_test_set, test_image_caption
from playground.data.drawing import ink_image, preprocess_digit
from playground.data.images import UPLOAD_TYPES, ImageError, open_picture, photo_input, picture_of
from playground.data.loading import random_test_index, test_example

DIGIT_SOURCES = ("Last drawing", "Test image", "Upload")
PHOTO_SOURCES = ("Test image", "Upload")
INPUT_SIDE = 168
TEST_INDEX_PIXELS = 200  # the test image number: wide enough for its label, "Test image (0 to 9999)"


def last_drawing() -> np.ndarray | None:
    digit = st.session_state.get(LAST_DIGIT_KEY)
    if digit is None:
        st.info("No drawing yet in this session. Draw a digit first, then come back.")
        st.page_link("pages/draw.py", label="Draw a digit", icon=":material/draw:")
    return digit


def test_image(classifier) -> np.ndarray | None:
    data = classifier_test_set(classifier)
    if data is None:
        return None
    count = len(data.x_test)
    # Side by side, wrapping on a narrow screen: in thirds of a 1,000-pixel window the button
    # read "Random t…".
    row = st.container(horizontal=True, vertical_alignment="bottom")
    number_slot = row.empty()
    if row.button("Random test image", icon=":material/shuffle:", key="inspect_random"):
        st.session_state.inspect_test_index = random_test_index(data)
    st.session_state.setdefault("inspect_test_index", 0)
    index = number_slot.number_input(f"Test image (0 to {count - 1})", 0, count - 1,
                                     key="inspect_test_index", width=TEST_INDEX_PIXELS)
    image, index, label = test_example(data, index)
    st.caption(test_image_caption(data, index, label))
    return image


def uploaded_digit() -> np.ndarray | None:
    upload = st.file_uploader("A picture of one digit", type=UPLOAD_TYPES, key="inspect_upload")
    if upload is None:
        st.caption("Any photo or scan of a single digit: it is converted the way Draw converts a drawing.")
        return None
    try:
        picture = open_picture(upload.getvalue(), upload.name, smallest_side=4 * 28)
    except ImageError as error:
        st.error(str(error))
        return None
    pixels = np.asarray(picture)
    digit = preprocess_digit(pixels)
    original, ink, converted = st.columns(3)
    original.image(picture, caption=f"{upload.name}: {picture.width}×{picture.height}", width=INPUT_SIDE,
                   alt=f"The uploaded picture {upload.name}")
    ink.image(ink_image(pixels), caption="gray, ink made bright", width=INPUT_SIDE, clamp=True,
              alt="The picture in gray, its ink made bright on dark")
    if digit is None:
        converted.warning(f"{upload.name}: no digit found. The picture looks blank; upload one with a "
                          "dark digit on a light background, or a light one on dark.")
    else:
        converted.image(picture_of(digit), caption="28×28, centred like MNIST", width=INPUT_SIDE,
                        alt="The digit as the model receives it: 28 by 28 pixels, centred",
                        output_format="PNG")
    return digit


def uploaded_photo(input_shape) -> np.ndarray | None:
    upload = st.file_uploader("A photo", type=UPLOAD_TYPES, key="inspect_photo_upload")
    if upload is None:
        st.caption(f"Any photo: its centre is cut square and scaled down to the model's "
                   f"{input_shape[0]} × {input_shape[1]} pixels.")
        return None
    try:
        picture = open_picture(upload.getvalue(), upload.name, smallest_side=4 * input_shape[0])
    except ImageError as error:
        st.error(str(error))
        return None
    photo = photo_input(picture, input_shape)
    original, converted, _ = st.columns(3)
    original.image(picture, caption=f"{upload.name}: {picture.width}×{picture.height}", width=INPUT_SIDE,
                   alt=f"The uploaded photo {upload.name}")
    converted.image(picture_of(photo), caption=f"{input_shape[0]}×{input_shape[1]}, what the model sees",
                    alt=f"The photo's centre, scaled to {input_shape[0]} by {input_shape[1]} pixels",
                    width=INPUT_SIDE)
    return photo


def choose_input(classifier) -> np.ndarray | None:
    """The input to walk through: a digit model offers the last drawing too; a photo model
    (CIFAR-10's colour input) takes test photos and uploads, made to fit its input. With
    nothing drawn yet, the page opens on a test image, so the layers show at once."""
    input_shape = classifier.input_shape
    sources = DIGIT_SOURCES if classifier.reads_drawings else PHOTO_SOURCES
    drawn = classifier.reads_drawings and st.session_state.get(LAST_DIGIT_KEY) is not None
    first = "Last drawing" if drawn else "Test image"
    source = st.segmented_control("Input", sources, default=first, key="inspect_source") or first
    if source not in sources:  # kept from a digit model's visit
        source = first
    if source == "Last drawing":
        return last_drawing()
    if source == "Test image":
        return test_image(classifier)
    return uploaded_digit() if classifier.reads_drawings else uploaded_photo(input_shape)
