"""A learner's own images: every hostile input gets one line, loses nothing, and the set
keeps working; the held-out split is stratified; the sample set and the bias example load."""

from __future__ import annotations

import io
import stat
import zipfile

import numpy as np
import pytest
from PIL import Image

from playground.data.archives import ArchiveRefused, read_class_folders
from playground.data.own_images import ImageSet
from playground.data.own_samples import bias_example, sample_set
from playground.spec.own_images import (
    MAX_CLASSES,
    MAX_IMAGES,
    MIN_IMAGES_TO_TRAIN,
    MODEL_SHAPE,
    STORED_SIDE,
    OwnImagesRefused,
    check_augmentations,
    held_out_count,
)


def picture(mode="RGB", size=(40, 30), colour=(200, 30, 30), format="PNG", **save) -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size, colour).save(buffer, format=format, **save)
    return buffer.getvalue()


def a_zip(entries: dict[str, bytes], symlinks=(), compression=zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, raw in entries.items():
            archive.writestr(name, raw)
        for name, target in symlinks:
            info = zipfile.ZipInfo(name)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, target)
    return buffer.getvalue()


def one_line(message: str) -> bool:
    return bool(message) and "\n" not in message and "Traceback" not in message


def test_a_zip_of_class_folders_fills_the_classes_and_replaces_the_default_names():
    images = ImageSet()
    added = images.add_zip(a_zip({"set/cats/1.png": picture(), "set/cats/2.jpg": picture(format="JPEG"),
                                  "set/dogs/1.png": picture(colour=(0, 0, 255))}), "pets.zip")
    assert added.count == 3 and not added.notes
    assert images.class_names == ("cats", "dogs")
    assert images.classes["cats"][0].pixels.shape == (STORED_SIDE, STORED_SIDE, 3)


def test_clutter_from_other_systems_is_skipped_without_a_word():
    images = ImageSet()
    added = images.add_zip(a_zip({"cats/1.png": picture(), "__MACOSX/cats/._1.png": b"\0\5\x16\7junk",
                                  "cats/._2.png": b"\0\5\x16\7", "cats/.DS_Store": b"\0\0\0\1Bud1",
                                  "cats/Thumbs.db": b"\xd0\xcf\x11\xe0"}), "mac.zip")
    assert added.count == 1 and added.notes == []


@pytest.mark.parametrize("name", ["../cats/evil.png", "/etc/cats/evil.png", "cats/../../evil.png",
                                  "C:/cats/evil.png"])
def test_paths_that_leave_the_zip_are_set_aside_and_nothing_is_extracted(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    contents = read_class_folders(a_zip({name: picture(), "dogs/ok.png": picture()}), "evil.zip")
    assert [item.class_name for item in contents.pictures] == ["dogs"]
    assert len(contents.notes) == 1 and "leaves the zip" in contents.notes[0]
    assert list(tmp_path.iterdir()) == []


def test_symbolic_links_and_nested_zips_are_set_aside_with_a_note():
    raw = a_zip({"cats/1.png": picture(), "cats/more.zip": a_zip({"cats/2.png": picture()})},
                symlinks=[("cats/link.png", "/etc/passwd")])
    contents = read_class_folders(raw, "links.zip")
    assert len(contents.pictures) == 1
    assert any("link" in note for note in contents.notes) and any("archives inside" in note
                                                                  for note in contents.notes)


def test_a_zip_bomb_is_refused_before_anything_is_inflated():
    bomb = a_zip({"cats/bomb.png": b"\0" * (50 * 2**20)})
    with pytest.raises(ArchiveRefused, match="zip bomb"):
        read_class_folders(bomb, "bomb.zip")


def test_a_zip_that_is_not_a_zip_or_holds_no_class_folders_is_refused_in_one_line():
    for raw, name in ((b"not a zip at all", "fake.zip"), (a_zip({"loose.png": picture()}), "flat.zip")):
        with pytest.raises(ArchiveRefused) as refusal:
            read_class_folders(raw, name)
        assert one_line(str(refusal.value)) and name in str(refusal.value)


def test_bad_pictures_get_a_line_each_and_the_good_ones_are_kept():
    jpeg = picture(format="JPEG")
    heic = b"\0\0\0\x18ftypheic\0\0\0\0mif1heic" + b"\0" * 64
    files = [(b"%PDF-1.4 not a picture", "notes.pdf"), (jpeg[: len(jpeg) // 2], "cut.jpg"),
             (heic, "IMG_1.HEIC"), (picture(), "good.png"), (b"", "empty.png")]
    images = ImageSet()
    added = images.add_files("Class 1", files)
    assert added.count == 1 and len(added.notes) == 4
    assert all(one_line(note) for note in added.notes)
    assert "HEIC" in added.notes[2] and "JPEG" in added.notes[2]


@pytest.mark.parametrize("raw", [
    picture("CMYK", colour=(0, 255, 255, 0), format="JPEG"),
    picture("I;16", colour=40000),
    picture("P", colour=3),
    picture("RGBA", colour=(255, 0, 0, 0)),
    picture("LA", colour=(80, 128)),
    picture("1", colour=1),
    picture(size=(1, 1)),
], ids=["cmyk", "16-bit", "palette", "transparent", "gray-alpha", "bilevel", "one-pixel"])
def test_every_mode_comes_out_as_a_small_rgb_square(raw):
    images = ImageSet()
    assert images.add_files("Class 1", [(raw, "odd.png")]).count == 1
    pixels = images.classes["Class 1"][0].pixels
    assert pixels.shape == (STORED_SIDE, STORED_SIDE, 3) and pixels.dtype == np.uint8


def test_an_animated_gif_gives_its_first_frame():
    frames = [Image.new("RGB", (20, 20), colour) for colour in ((255, 0, 0), (0, 0, 255))]
    buffer = io.BytesIO()
    frames[0].save(buffer, format="GIF", save_all=True, append_images=frames[1:])
    images = ImageSet()
    images.add_files("Class 1", [(buffer.getvalue(), "moving.gif")])
    red, _, blue = images.classes["Class 1"][0].pixels[32, 32]
    assert red > 200 and blue < 50


def test_a_phone_photo_is_turned_upright_by_its_exif_orientation():
    wide = Image.new("RGB", (80, 40), (0, 0, 0))
    wide.paste((255, 255, 255), (0, 0, 40, 40))  # white on the left half
    exif = Image.Exif()
    exif[0x0112] = 6  # rotated 90° clockwise: upright, the white half is on top
    buffer = io.BytesIO()
    wide.save(buffer, format="JPEG", exif=exif)
    images = ImageSet()
    images.add_files("Class 1", [(buffer.getvalue(), "phone.jpg")])
    pixels = images.classes["Class 1"][0].pixels.astype(int)
    assert pixels[:STORED_SIDE // 4].mean() > 200 and pixels[-STORED_SIDE // 4:].mean() < 60


def test_a_decompression_bomb_is_refused_unread():
    buffer = io.BytesIO()
    Image.new("1", (20_000, 20_000)).save(buffer, format="PNG")
    added = ImageSet().add_files("Class 1", [(buffer.getvalue(), "huge.png")])
    assert added.count == 0 and "megapixel" in added.notes[0] and one_line(added.notes[0])


def test_eleven_classes_are_refused_and_the_ten_kept():
    images = ImageSet([f"class {number}" for number in range(MAX_CLASSES)])
    with pytest.raises(OwnImagesRefused, match="At most"):
        images.add_class("one too many")
    assert len(images.class_names) == MAX_CLASSES
    with pytest.raises(OwnImagesRefused, match="2 to 10"):
        ImageSet([f"class {number}" for number in range(MAX_CLASSES + 1)])


def test_a_class_with_one_image_is_warned_of_and_cannot_train_yet():
    images = ImageSet()
    images.add_files("Class 1", [(picture(), "one.png")])
    images.add_files("Class 2", [(picture(), f"{n}.png") for n in range(MIN_IMAGES_TO_TRAIN)])
    assert any("“Class 1” has 1 image:" in line for line in images.warnings())
    with pytest.raises(OwnImagesRefused, match="at least"):
        images.dataset()


def test_names_with_markup_stay_as_typed_and_duplicates_are_refused():
    images = ImageSet(["<script>alert(1)</script>", "**bold**"])
    assert images.class_names == ("<script>alert(1)</script>", "**bold**")
    with pytest.raises(OwnImagesRefused, match="Two classes"):
        images.rename_class("**bold**", "<SCRIPT>alert(1)</SCRIPT>")
    assert images.rename_class("**bold**", "  thumbs\tup \n") == "thumbs up"


def test_the_set_stops_at_its_limit_and_says_so():
    images = ImageSet()
    for _ in range(MAX_IMAGES):
        images.add_pixels("Class 1", np.zeros((STORED_SIDE, STORED_SIDE, 3), np.uint8), "x")
    added = images.add_files("Class 2", [(picture(), "late.png")])
    assert added.count == 0 and "at most" in added.notes[0] and images.count == MAX_IMAGES


def test_the_held_out_images_are_a_stratified_seeded_split():
    data = sample_set().dataset(seed=3)
    counts = np.bincount(data.y_test)
    assert list(counts) == [held_out_count(30)] * 3
    assert data.train_pixels.shape[1:] == MODEL_SHAPE and data.train_pixels.dtype == np.uint8
    assert len(data.train_pixels) + len(data.x_test) == 90
    again = sample_set().dataset(seed=3)
    np.testing.assert_array_equal(again.x_test, data.x_test)


def test_the_downloaded_zip_reads_back_as_the_same_classes():
    images = sample_set()
    back = ImageSet()
    back.add_zip(images.zip_bytes(), "your_images.zip")
    assert back.class_names == images.class_names and back.count == images.count


def test_the_bias_example_puts_each_class_on_its_own_background():
    biased = bias_example()
    assert biased.class_names == ("sneaker", "bag")
    corners = {name: images[0].pixels[0, 0] for name, images in biased.classes.items()}
    assert tuple(corners["bag"]) != tuple(corners["sneaker"])


def test_augmentation_kinds_are_checked():
    assert check_augmentations("zoom,flip") == ("flip", "zoom")
    with pytest.raises(OwnImagesRefused, match="Unknown augmentation"):
        check_augmentations(["flip", "melt"])
