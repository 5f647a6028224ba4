"""Your images' parsers of outside input, fuzzed as tests/test_fuzz.py fuzzes the others: zips
of class folders, class names, and augmentation names each give a valid object or a one-line
`Refused`; and whatever a zip holds, nothing is written to disk."""

from __future__ import annotations

import io
import zipfile

from hypothesis import given
from hypothesis import strategies as st
from PIL import Image
from test_fuzz import examples, refused_in_one_line

from playground.data.own_images import ImageSet
from playground.spec.own_images import MAX_CLASS_NAME, STORED_SIDE, check_augmentations, clean_class_name


def small_png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (9, 7), (10, 200, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


PNG = small_png()
PATH_PIECES = st.sampled_from(["cats", "dogs", "..", ".", "", "/", "\\", "__MACOSX", "._x", ".DS_Store",
                               "Thumbs.db", "a.png", "b.JPG", "c.zip", "C:", "<b>", "**x**", " ", "é"])
ENTRY_NAMES = st.lists(PATH_PIECES, min_size=1, max_size=4).map("/".join)
CONTENTS = st.one_of(st.just(PNG), st.binary(max_size=64), st.just(PNG[: len(PNG) // 2]))


def zip_of(entries) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, raw in entries:
            if name.strip("/"):
                archive.writestr(name, raw)
    return buffer.getvalue()


@examples(150)
@given(st.lists(st.tuples(ENTRY_NAMES, CONTENTS), max_size=8))
def test_any_zip_of_folders_fills_classes_or_is_refused_in_one_line(entries):
    images = ImageSet()
    added = refused_in_one_line(images.add_zip, zip_of(entries), "upload.zip")
    if added is None:
        assert images.count == 0
        return
    assert 2 <= len(images.class_names) <= 10
    assert all(note and "\n" not in note for note in added.notes)
    assert all(picture.pixels.shape == (STORED_SIDE, STORED_SIDE, 3)
               for pictures in images.classes.values() for picture in pictures)


@examples(60)
@given(st.binary(max_size=300))
def test_any_bytes_as_a_zip_are_refused_in_one_line_or_read(raw):
    refused_in_one_line(ImageSet().add_zip, raw, "upload.zip")


@examples(200)
@given(st.text(max_size=80))
def test_any_class_name_is_cleaned_or_refused(name):
    cleaned = refused_in_one_line(clean_class_name, name)
    if cleaned is not None:
        assert 0 < len(cleaned) <= MAX_CLASS_NAME and cleaned == cleaned.strip()
        assert cleaned.isprintable()


@examples(100)
@given(st.one_of(st.text(max_size=40), st.lists(st.text(max_size=12), max_size=4)))
def test_any_augmentation_list_is_checked(kinds):
    refused_in_one_line(check_augmentations, kinds)
