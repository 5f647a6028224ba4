"""Your images, after training: try the network on a new picture, with the probabilities and
a Grad-CAM of where it looked; the bias lesson; and keep the work (model, images, script)."""

from __future__ import annotations

import numpy as np
import streamlit as st

from playground.data.images import UPLOAD_TYPES, ImageError, open_picture, picture_of
from playground.data.own_images import model_input, stored
from playground.data.own_samples import bias_trials
from playground.explain.grad_cam import explain_prediction
from playground.models.building import model_bytes
from playground.spec.own_images import OWN_DATASET, STORED_SIDE
from playground.training.own_export import own_images_script
from playground.views.describe import top_classes_text
from playground.views.figures import heatmap_overlay, top_classes_figure

SHOWN_SIDE = 192
BIAS_LESSON = (
    "**The bias lesson.** In the bias example every bag was photographed on grass and every sneaker on a "
    "plain floor. The network needs only the background to tell them apart, so it learns the background. "
    "Try the pictures below: a sneaker on grass, a bag on the floor. Grad-CAM shows where it looked. "
    "Teachable Machine's lessons show the same with a skewed cat and dog set: vary the backgrounds, or the "
    "network learns them.")


def new_picture() -> tuple[np.ndarray, str] | None:
    """A new picture to try, stored as the training images were; None until there is one."""
    upload, shot = st.columns(2)
    file = upload.file_uploader("A new picture", type=UPLOAD_TYPES, key="own_try_upload")
    photo = shot.camera_input("Or a photo", key="own_try_camera") if shot.toggle("Camera", key="own_try_on") \
        else None
    chosen = photo or file
    if chosen is None:
        return None
    try:
        picture = open_picture(chosen.getvalue(), getattr(chosen, "name", "camera photo"), STORED_SIDE)
    except ImageError as error:
        st.error(str(error))
        return None
    return stored(picture), getattr(chosen, "name", "camera photo")


def show_prediction(classifier, pixels: np.ndarray, title: str) -> None:
    probabilities, heatmap = explain_prediction(classifier, model_input(pixels))
    names = classifier.class_names
    best = int(np.argmax(probabilities))
    st.markdown(f"**{title}**: the network says **{names[best]}** ({probabilities[best]:.0%}).")
    picture, overlay, chart = st.columns([1, 1, 2])
    picture.image(pixels, caption="the picture", width=SHOWN_SIDE, alt=title)
    overlay.image(heatmap_overlay(picture_of(pixels / 255.0), heatmap), width=SHOWN_SIDE,
                  caption=f"Grad-CAM: what raised the score of “{names[best]}” (yellow)",
                  alt=f"Grad-CAM heatmap over {title} for {names[best]}")
    order = np.argsort(probabilities)[::-1]
    chart.plotly_chart(top_classes_figure([names[index] for index in order],
                                          [float(probabilities[index]) for index in order]),
                       config={"displayModeBar": False}, key=f"own_try_{title}")
    chart.caption(top_classes_text(probabilities, names))


def try_it(classifier, biased: bool) -> None:
    st.subheader("Try it")
    chosen = new_picture()
    if chosen is not None:
        pixels, name = chosen
        show_prediction(classifier, pixels, name)
    if biased:
        st.markdown(BIAS_LESSON)
        for title, pixels in bias_trials():
            show_prediction(classifier, pixels, title)


def keep_the_work(classifier, images, start: str, settings, stack=None) -> None:
    st.subheader("Keep your work")
    model, data, script = st.columns(3)
    # Made when clicked, not on every rerun: the zip is hundreds of PNGs.
    model.download_button("The model (.keras)", lambda: model_bytes(classifier.model, OWN_DATASET),
                          file_name="your_images_model.keras", icon=":material/download:",
                          on_click="ignore")
    data.download_button("The images (.zip of class folders)", lambda: images.zip_bytes(settings.seed),
                         file_name="your_images.zip", icon=":material/folder_zip:", on_click="ignore")
    script.download_button("A Keras script that trains it",
                           own_images_script(start, settings, images.class_names, stack),
                           file_name="train_your_images.py", icon=":material/code:", on_click="ignore")
    st.caption("The zip holds train/ and held_out/, each with a folder per class: the script reads them with "
               "keras.utils.image_dataset_from_directory and trains as this page did.")
