"""Your images, step 1: name the classes and fill them from files, one zip, the camera (a
burst, or one shot at a time) or the sample set; see each class's thumbnails, remove some.

Every upload is acted on once, by its file_id: a file stays in its uploader across reruns."""

from __future__ import annotations

import streamlit as st

from pages.parts.camera_burst import camera_burst
from playground.data.archives import ArchiveRefused
from playground.data.images import FORMATS_TEXT, UPLOAD_TYPES
from playground.data.own_images import ImageSet
from playground.data.own_samples import SAMPLE_SET_SOURCE, bias_example, sample_set
from playground.jobs.process_memory import collect_and_release
from playground.spec.own_images import MAX_CLASS_NAME, MAX_CLASSES, MAX_IMAGES, STORED_SIDE, OwnImagesRefused
from playground.views.text import literal

IMAGES_KEY = "own_image_set"
SEEN_KEY = "own_seen_uploads"  # file_ids already taken in
UPLOADS_TAKEN_KEY = "own_uploads_taken"  # how many times uploaders were emptied
NOTES_KEY = "own_notes"  # what the last action could not use, shown once
THUMBNAIL_PIXELS = 56
THUMBNAILS_SHOWN = 40  # per class, until the learner asks for all
NOTES_SHOWN = 8


def image_set() -> ImageSet:
    if IMAGES_KEY not in st.session_state:  # not setdefault: that would make a set on every rerun
        st.session_state[IMAGES_KEY] = ImageSet()
    return st.session_state[IMAGES_KEY]


def say(notes: list[str]) -> None:
    """Keep notes for this run and the next (an action's rerun would lose them)."""
    st.session_state.setdefault(NOTES_KEY, []).extend(notes)


def show_notes() -> None:
    notes = st.session_state.pop(NOTES_KEY, [])
    if not notes:
        return
    more = [f"…and {len(notes) - NOTES_SHOWN} more."] if len(notes) > NOTES_SHOWN else []
    lines = notes[:NOTES_SHOWN] + more
    st.warning("\n\n".join(literal(line) for line in lines), icon=":material/info:")


def uploader_key(name: str) -> str:
    """An uploader's key, new once its files are taken in: the old uploader goes, and Streamlit
    lets go of the files it held (a zip of 600 photos is megabytes, per learner)."""
    return f"{name}_{st.session_state.get(UPLOADS_TAKEN_KEY, 0)}"


def uploads_taken() -> None:
    """Empty the uploaders, and hand back the memory that decoding the pictures used: a zip of
    600 photos passes through three times the memory its small copies keep, and thirty
    learners filling their sets at once would leave the server's heap that much larger."""
    st.session_state[UPLOADS_TAKEN_KEY] = st.session_state.get(UPLOADS_TAKEN_KEY, 0) + 1
    collect_and_release()


def first_time(upload) -> bool:
    seen = st.session_state.setdefault(SEEN_KEY, set())
    if upload.file_id in seen:
        return False
    seen.add(upload.file_id)
    return True


def load_sample_set() -> None:
    st.session_state[IMAGES_KEY] = sample_set()
    forget_class_widgets()


def forget_class_widgets() -> None:
    """New class names for the text boxes: their keys change with the set's version."""
    st.session_state["own_classes_version"] = st.session_state.get("own_classes_version", 0) + 1


def clear_all() -> None:
    st.session_state[IMAGES_KEY] = ImageSet()
    forget_class_widgets()


def zip_upload(images: ImageSet) -> None:
    upload = st.file_uploader("One zip whose folders are the classes", type=["zip"],
                              key=uploader_key("own_zip"),
                              help="The layout of Keras' image_dataset_from_directory: a folder per class "
                                   "(cats/…, dogs/…), pictures inside. Nothing is unpacked to disk.")
    if upload is None or not first_time(upload):
        return
    try:
        added = images.add_zip(upload.getvalue(), upload.name)
    except (ArchiveRefused, OwnImagesRefused) as error:
        say([str(error)])
        return
    finally:
        uploads_taken()
    forget_class_widgets()
    say(added.notes)
    st.toast(f"Added {added.count} images from {upload.name}.", icon=":material/folder_zip:")
    st.rerun()


def rename(images: ImageSet, old: str, key: str) -> None:
    try:
        images.rename_class(old, st.session_state[key])
    except OwnImagesRefused as error:
        say([str(error)])
    forget_class_widgets()


def class_files(images: ImageSet, name: str, index: int) -> None:
    uploads = st.file_uploader(f"Pictures of “{name}”", type=UPLOAD_TYPES, accept_multiple_files=True,
                               key=uploader_key(f"own_files_{index}"),
                               help=f"{FORMATS_TEXT} files; several at once.")
    fresh = [upload for upload in uploads or [] if first_time(upload)]
    if fresh:
        added = images.add_files(name, [(upload.getvalue(), upload.name) for upload in fresh])
        say(added.notes)
        uploads_taken()
        st.rerun()  # the class's count and thumbnails, drawn above and below, all at once


def class_camera(images: ImageSet, name: str, index: int) -> None:
    if not st.toggle("Camera", key=f"own_camera_on_{index}"):
        return
    frames = camera_burst(f"own_burst_{index}")
    if frames:
        added = images.add_files(name, frames)
        say(added.notes)
        collect_and_release()
        st.toast(f"Added {added.count} frames to {name}.", icon=":material/photo_camera:")
        st.rerun()
    if not st.checkbox("One photo at a time instead", key=f"own_single_{index}",
                       help="Streamlit's own camera: one photo per click, where the burst does not work."):
        return
    shot = st.camera_input("One photo", key=f"own_shot_{index}")
    if shot is not None and first_time(shot):
        say(images.add_files(name, [(shot.getvalue(), "camera photo")]).notes)
        st.rerun()


def thumbnails(images: ImageSet, name: str, index: int) -> None:
    pictures = images.classes[name]
    if not pictures:
        st.caption("No images yet.")
        return
    shown = len(pictures)
    if shown > THUMBNAILS_SHOWN and not st.toggle(f"Show all {len(pictures)}", key=f"own_all_{index}"):
        shown = THUMBNAILS_SHOWN  # each is a picture sent on every rerun: a full set would be 600
    st.image([picture.pixels for picture in pictures[:shown]], width=THUMBNAIL_PIXELS,
             caption=[str(number + 1) for number in range(shown)])
    choice, button = st.columns([3, 1], vertical_alignment="bottom")
    doomed = choice.multiselect("Remove images (by number)", range(len(pictures)), key=f"own_remove_{index}",
                                format_func=lambda number: str(number + 1), placeholder="Pick numbers")
    if button.button("Remove", key=f"own_remove_button_{index}", disabled=not doomed):
        images.remove_images(name, doomed)
        del st.session_state[f"own_remove_{index}"]
        st.rerun()


def one_class(images: ImageSet, name: str, index: int) -> None:
    version = st.session_state.get("own_classes_version", 0)
    with st.container(border=True):
        title, count, remove = st.columns([4, 1, 1], vertical_alignment="bottom")
        key = f"own_name_{index}_{version}"
        title.text_input("Class name", name, key=key, max_chars=MAX_CLASS_NAME, on_change=rename,
                         args=(images, name, key))
        count.metric("Images", len(images.classes[name]))
        if remove.button("Remove class", key=f"own_drop_{index}", icon=":material/delete:",
                         disabled=len(images.classes) <= 2):
            images.remove_class(name)
            forget_class_widgets()
            st.rerun()
        class_files(images, name, index)
        class_camera(images, name, index)
        thumbnails(images, name, index)


def collect() -> ImageSet:
    """The collecting step, drawn; the session's image set."""
    images = image_set()
    start, bias, clear = st.columns(3)
    start.button("Load the sample set", icon=":material/photo_library:", on_click=load_sample_set,
                 width="stretch", help=SAMPLE_SET_SOURCE)
    bias.button("Load the bias example", icon=":material/science:", on_click=load_bias_example,
                width="stretch", help="The sample set's sneakers and bags, every bag on grass: see the "
                                      "bias lesson after training.")
    clear.button("Start over", icon=":material/restart_alt:", on_click=clear_all, width="stretch")
    zip_upload(images)
    show_notes()
    for index, name in enumerate(images.class_names):
        one_class(images, name, index)
    add, limit = st.columns([1, 2], vertical_alignment="center")
    if add.button("Add a class", icon=":material/add:", disabled=len(images.classes) >= MAX_CLASSES):
        add_class(images)
    limit.caption(f"{images.count} of at most {MAX_IMAGES} images, each kept at {STORED_SIDE} × "
                  f"{STORED_SIDE} pixels ({images.megabytes():.1f} MB), in this browser session's memory "
                  "only.")
    for warning in images.warnings():
        st.warning(literal(warning), icon=":material/warning:")
    show_notes()
    return images


def add_class(images: ImageSet) -> None:
    number = len(images.classes) + 1
    while True:
        try:
            images.add_class(f"Class {number}")
            break
        except OwnImagesRefused:
            number += 1
    forget_class_widgets()
    st.rerun()


def load_bias_example() -> None:
    st.session_state[IMAGES_KEY] = bias_example()
    forget_class_widgets()
