"""Photos: ResNet50's top-3 ImageNet classes for each photo, where it looked, and its first maps."""

import numpy as np
import streamlit as st

from pages.parts.common import SESSION_MODEL_KEY, photo_classifier
from pages.parts.streamlit_private import route_through_app
from playground.data.images import (
    FORMATS_TEXT,
    UPLOAD_TYPES,
    ImageError,
    open_picture,
    photo_input,
    picture_of,
)
from playground.explain.inspection import feature_map_grid
from playground.explain.photos import INPUT_SIDE, WeightsUnavailableError, weights_source
from playground.views.describe import top_classes_text
from playground.views.figures import colorize, heatmap_overlay, top_classes_figure

MAX_PHOTOS = 12  # per run: each holds the shared model for a moment
EARLY_MAPS_SHOWN = 16
THUMBNAIL_SIDE = 600


def chosen_photos() -> list:
    limit = st.get_option("server.maxUploadSize")
    uploads = st.file_uploader(
        "Photos", type=UPLOAD_TYPES, accept_multiple_files=True, key="photo_uploads",
        help=f"{FORMATS_TEXT}, up to {limit} MB each; {MAX_PHOTOS} at a time.")
    photos = list(uploads or [])
    if st.toggle("Take a photo with the camera", key="photo_camera_on"):
        shot = st.camera_input("Camera", key="photo_camera")
        if shot is not None:
            photos.append(shot)
    if len(photos) > MAX_PHOTOS:
        st.warning(f"Showing the first {MAX_PHOTOS} of {len(photos)} photos; remove some to see the others.")
    return photos[:MAX_PHOTOS]


def load_classifier():
    try:
        classifier = photo_classifier()
    except WeightsUnavailableError as error:
        st.error(str(error), icon=":material/cloud_off:")
        return None
    st.caption(f"ResNet50 with weights from {weights_source()}.")
    return classifier


def thumbnail(picture):
    """A small copy to send to the browser: a 12-megapixel PNG would take seconds to encode."""
    small = picture.copy()
    small.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE))
    return small


def own_photo_model():
    """This session's own model, if it reads colour photos (one trained on CIFAR-10)."""
    classifier = st.session_state.get(SESSION_MODEL_KEY)
    return classifier if classifier is not None and not classifier.reads_drawings else None


def show_own_model(own, picture, upload) -> None:
    """The session's CIFAR-10 model on the same photo, cut and scaled to its 32 × 32 input."""
    pixels = photo_input(picture, own.input_shape)
    probabilities = own.probabilities(pixels)[0]
    top = np.argsort(probabilities)[::-1][:3]
    best = int(top[0])
    st.markdown(f"**{own.title}** ({own.description}): {own.class_names[best]} ({probabilities[best]:.1%})")
    small, chart = st.columns([1, 2.5])
    small.image(picture_of(pixels), caption="what it sees", width=96, output_format="PNG",
                alt=f"The photo scaled to your model's {own.input_shape[0]} by {own.input_shape[1]} pixels")
    chart.plotly_chart(top_classes_figure([own.class_names[index] for index in top],
                                          [float(probabilities[index]) for index in top]),
                       config={"displayModeBar": False}, key=f"own_top3_{upload.file_id}")
    chart.caption(f"Top 3: {top_classes_text(probabilities, own.class_names)}")


def show_photo(classifier, upload, own=None) -> None:
    with st.container(border=True):
        try:
            picture = open_picture(upload.getvalue(), upload.name, smallest_side=INPUT_SIDE)
        except ImageError as error:
            st.error(str(error))
            return
        if own is not None:
            show_own_model(own, picture, upload)
        if classifier is None:
            return
        result = classifier.classify(picture)
        best = result.top[0]
        st.markdown(f"#### Top-1: {best.name} ({best.probability:.1%})")
        photo_column, looked_column, chart_column = st.columns([1, 1, 1.5])
        photo_column.image(thumbnail(picture), caption=upload.name, width="stretch",
                           alt=f"The uploaded photo {upload.name}")
        looked_column.image(heatmap_overlay(result.crop, result.heatmap), width="stretch",
                            alt=f"Grad-CAM heatmap over the photo's centre for {best.name}",
                            caption=f"Grad-CAM: where the photo raised the score of “{best.name}” "
                                    "(yellow), on the 224×224 centre ResNet50 saw")
        chart_column.plotly_chart(top_classes_figure([item.name for item in result.top],
                                                     [item.probability for item in result.top]),
                                  config={"displayModeBar": False}, key=f"top3_{upload.file_id}")
        top = ", ".join(f"{item.name} {item.probability:.1%}" for item in result.top)
        chart_column.caption(f"Top 3: {top}")
        show_early_maps(result.early_maps)


def show_early_maps(maps) -> None:
    grid = colorize(feature_map_grid(maps[..., :EARLY_MAPS_SHOWN], columns=EARLY_MAPS_SHOWN // 2, gap=3))
    st.image(grid, width="stretch", output_format="JPEG",
             alt=f"{EARLY_MAPS_SHOWN} feature maps of 112 by 112 after ResNet50's first convolution",
             caption=f"Inside: {EARLY_MAPS_SHOWN} of the 64 maps after ResNet50's first convolution "
                     "(112×112). Like a small CNN's first layer on Inspect, they respond to edges and "
                     "colours.")


def main() -> None:
    route_through_app()
    st.title("Photos")
    st.write("Upload photos and see what **ResNet50**, a 50-layer CNN trained on the 1.3 million "
             "photos of ImageNet, recognises in them: its three most likely of 1,000 classes.")
    photos = chosen_photos()
    if not photos:
        st.info(f"Upload one or more photos ({FORMATS_TEXT}, up to "
                f"{st.get_option('server.maxUploadSize')} MB each), or take one with the camera.")
        return
    own = own_photo_model()
    classifier = load_classifier()
    if classifier is None and own is None:
        return
    for upload in photos:
        show_photo(classifier, upload, own)


main()
