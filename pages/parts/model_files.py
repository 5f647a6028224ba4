"""Build & Train's files: download the trained model, export a Keras script, upload a model."""

import streamlit as st

from pages.parts.common import SESSION_MODEL_KEY
from pages.parts.transfer import SCRATCH
from playground.jobs.job import TrainingJob
from playground.models.building import Classifier, model_bytes
from playground.models.uploads import UploadRefused, load_uploaded_model
from playground.spec.datasets import DATASETS, NUM_CLASSES, dataset_for_shape, image_shapes_text
from playground.spec.layers import StackError
from playground.training.export import keras_script
from playground.views.text import literal


def saved_model(job: TrainingJob, snapshot) -> bytes:
    """The .keras bytes of the job's model, saved once per result rather than on every rerun."""
    cached = st.session_state.get("saved_model")
    if cached is None or cached[0] is not snapshot.evaluation:
        cached = (snapshot.evaluation, model_bytes(job.model, st.session_state.training_dataset))
        st.session_state.saved_model = cached
    return cached[1]


def keep_the_work(stack, settings, dataset_name) -> None:
    with st.expander("Keep the work: download, upload, export"):
        job = st.session_state.get("training_job")
        download, export = st.columns(2)
        snapshot = None if job is None else job.snapshot()
        if snapshot is not None and not snapshot.active and snapshot.evaluation is not None:
            download.download_button("Download the trained model (.keras)", saved_model(job, snapshot),
                                     "playground_model.keras", icon=":material/download:")
        if st.session_state.get("transfer_base", SCRATCH) != SCRATCH:
            export.caption("The exported script builds a network from scratch; a head on a trained base "
                           "needs that base's weights, so download the trained model instead.")
        elif stack:
            try:
                script = keras_script(stack, settings, dataset_name)
                export.download_button("Export as a Keras script", script, "playground_model.py",
                                       icon=":material/code:")
            except StackError as error:
                export.caption(f"Fix the stack to export it: {error}")
        model_upload(dataset_name)


def model_upload(dataset_name: str) -> None:
    """Load a new upload once (a file stays in the uploader across reruns), then keep saying
    what became of it while it stays there."""
    upload = st.file_uploader("Use a trained model (.keras or .h5)", key="model_upload",
                              help=f"A Keras model of built-in layers that takes {image_shapes_text()} and "
                                   f"scores {NUM_CLASSES} classes, saved with "
                                   "model.save('name.keras').")
    if upload is None:
        return
    outcome = st.session_state.get("upload_outcome")
    if outcome is None or outcome["file_id"] != upload.file_id:
        outcome = apply_upload(upload.name, upload.getvalue(), dataset_name)
        outcome["file_id"] = upload.file_id
        st.session_state.upload_outcome = outcome
    if outcome["error"]:
        st.error(outcome["error"])
    elif st.session_state.get(SESSION_MODEL_KEY) is outcome["classifier"]:
        st.success(outcome["message"])
        for note in outcome["notes"]:
            st.info(note)


def apply_upload(file_name: str, raw: bytes, dataset_name: str) -> dict:
    """Load an uploaded model and make it the session's model; a refusal is a message."""
    name = literal(file_name)
    try:
        uploaded = load_uploaded_model(raw)
    except UploadRefused as error:
        return {"error": f"{name}: {error}"}
    data_name = uploaded.dataset or dataset_for_shape(uploaded.model.input_shape[1:], dataset_name)
    title = DATASETS[data_name].title
    classifier = Classifier(uploaded.model, "Uploaded model", DATASETS[data_name].class_names,
                            description=f"loaded from {file_name}, with {title}'s classes")
    st.session_state[SESSION_MODEL_KEY] = classifier
    origin = "as its file says" if uploaded.dataset else "from the Data set setting above"
    return {"error": None, "classifier": classifier, "notes": [literal(note) for note in uploaded.notes],
            "message": f"{name} is now this session's model, with {title}'s classes ({origin}): "
                       "Draw and Inspect use it."}
