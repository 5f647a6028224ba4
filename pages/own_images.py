"""Your images: collect classes of pictures, train a CNN on them, try it, and look inside."""

import copy

import streamlit as st

from pages.parts.builder import sidebar_builder
from pages.parts.common import SESSION_MODEL_KEY
from pages.parts.own_collect import IMAGES_KEY, collect
from pages.parts.own_try import keep_the_work, try_it
from pages.parts.reload import page_view
from pages.parts.room_membership import poster
from pages.parts.streamlit_private import route_through_app, session_connected_check
from pages.parts.training_live import follow_training
from pages.parts.training_results import show_results
from playground.data.own_samples import BIAS_BACKGROUNDS
from playground.jobs.starting import start_owned_job
from playground.models.building import Classifier, copy_model
from playground.models.own_networks import (
    FROM_SCRATCH,
    default_augmentations,
    default_epochs,
    own_model,
    scratch_stack,
    start_settings,
)
from playground.models.transfer import BaseUnavailableError
from playground.spec.layers import StackError
from playground.spec.own_images import (
    AUGMENTATIONS,
    HELD_OUT_FRACTION,
    MAX_CLASSES,
    MIN_CLASSES,
    MODEL_SHAPE,
    OWN_DATASET,
    STARTS,
    STARTS_HELP,
    OwnImagesRefused,
    model_shape_text,
)
from playground.spec.settings import EPOCHS_RANGE, augmentation_kinds
from playground.training.augment import preview

INTRODUCTION = f"""
Teach a CNN your own classes: {MIN_CLASSES} to {MAX_CLASSES} of them, a few dozen pictures each, from
files, one zip, or the camera. Train it, see what it gets right on pictures it never trained on, try it on
a new picture with a heatmap of where it looked, then follow one of your pictures through every layer on
**Inspect**.

:material/lock: Your pictures stay in this browser session's memory on the server: nothing is written to
disk, no other learner can see them, and they are gone when you close the tab. Shared links never carry
pictures.
"""
REFUSALS = (OwnImagesRefused, StackError, BaseUnavailableError, ValueError)


def start_changed() -> None:
    """A new start brings its own epochs and augmentations (a callback: the one moment a widget's
    value may be set)."""
    st.session_state.own_epochs = default_epochs(st.session_state.own_start)
    st.session_state.own_augmentations = list(default_augmentations(st.session_state.own_start))


def network_choice() -> tuple[str, object]:
    """The start and the training settings, from the learner's choices."""
    start = st.radio("Start from", list(STARTS), format_func=STARTS.get, key="own_start", help=STARTS_HELP,
                     on_change=start_changed)
    epochs_column, kinds_column = st.columns([1, 3])
    st.session_state.setdefault("own_epochs", default_epochs(start))
    epochs = epochs_column.number_input("Epochs", *EPOCHS_RANGE, key="own_epochs",
                                        help="Each start brings the epochs that suit it; change them here.")
    kinds = kinds_column.pills("Augmentation", list(AUGMENTATIONS), selection_mode="multi",
                               default=list(default_augmentations(start)), key="own_augmentations",
                               format_func=lambda kind: kind.capitalize(),
                               help=" · ".join(f"**{kind}**: {what}" for kind, what in AUGMENTATIONS.items()))
    settings = start_settings(start, epochs=int(epochs), augment=bool(kinds), augmentations=",".join(kinds))
    st.caption(f"Every picture reaches the network as {model_shape_text()} pixels. "
               f"{HELD_OUT_FRACTION:.0%} of each class is held out, never trained on, to test on.")
    return start, settings


def own_stack(images, start: str, settings) -> tuple[list[dict] | None, str | None]:
    """The builder's stack in the sidebar, for the "stack" start: for these classes, on pictures
    of MODEL_SHAPE; and its first problem, if any."""
    if start != "stack":
        return None, None
    stack, _, error = sidebar_builder(MODEL_SHAPE, lambda setup: None, settings.batch_size,
                                      num_classes=len(images.class_names))
    return stack, None if error is None else str(error)


def show_augmentation(images, settings) -> None:
    kinds = augmentation_kinds(settings)
    first = next((pictures[0] for pictures in images.classes.values() if pictures), None)
    if first is None or not kinds:
        return
    with st.expander("What augmentation does: one picture, eight ways", expanded=False):
        versions = preview(first.pixels / 255.0, kinds)
        st.image([first.pixels, *versions], width=72, caption=["original", *[str(n + 1) for n in range(8)]])
        st.caption("Each epoch, every training picture is changed at random like these, so a few dozen "
                   "pictures teach the network more than themselves.")


def start_training(images, start: str, settings, stack) -> None:
    try:
        data = images.dataset(settings.seed)
        session_model = st.session_state.get(SESSION_MODEL_KEY)
        with st.spinner("Building the network…"):
            model = own_model(start, len(images.class_names), settings,
                              session_model.model if session_model is not None else None, stack)
        # What a reloaded tab gets back with the training: the pictures too (in memory, with the job).
        training = {"training_dataset": OWN_DATASET, "own_trained_start": start, "own_trained_stack": stack,
                    "own_trained_biased": biased(images)}
        kept = {"own_start": start, IMAGES_KEY: images, **training}
        scratch = scratch_stack(start, len(images.class_names), stack) if start in FROM_SCRATCH else None
        when_done = poster(OWN_DATASET, scratch, MODEL_SHAPE, len(images.class_names), None)
        started = start_owned_job(model, data, settings, session_connected_check(), copy.copy(kept),
                                  when_done)
    except REFUSALS as error:
        st.error(str(error))
        return
    st.session_state.update(training_job=started.job, training_job_owner=started.owner,
                            training_ticket=started.ticket, **training)
    st.rerun()


def biased(images) -> bool:
    return set(images.class_names) == set(BIAS_BACKGROUNDS)


def controls(images, start, settings, stack, problem, job) -> None:
    own_job = job if st.session_state.get("training_dataset") == OWN_DATASET else None
    active = job is not None and job.snapshot().active
    if problem:
        st.error(problem)
    train, stop, resume = st.columns(3)
    if train.button("Train", type="primary", icon=":material/play_arrow:", width="stretch",
                    disabled=active or problem is not None, key="own_train"):
        start_training(images, start, settings, stack)
    stop.button("Stop", icon=":material/stop:", disabled=not active, width="stretch", key="own_stop",
                on_click=lambda: job.request_stop())
    if resume.button("Continue", icon=":material/resume:", width="stretch", key="own_continue",
                     disabled=own_job is None or not own_job.can_continue):
        own_job.start()
        st.rerun()
    if active and own_job is None:
        st.info("Your training on Build & Train is under way: it must end (or be stopped) before this one.")


def publish(job, snapshot) -> Classifier:
    """The trained network becomes the session's model, for Inspect: its test images are the
    held-out pictures."""
    if st.session_state.get("own_published") is not snapshot.evaluation:
        st.session_state[SESSION_MODEL_KEY] = Classifier(
            copy_model(job.model), "Your images model", job.data.class_names,
            description=f"trained here on your images, {snapshot.evaluation.accuracy:.2%} held-out accuracy",
            moments=snapshot.moments, test_set=job.data)
        st.session_state.own_published = snapshot.evaluation
    return st.session_state[SESSION_MODEL_KEY]


def main() -> None:
    route_through_app()
    st.title("Your images")
    st.markdown(INTRODUCTION)
    st.header("1. Your classes")
    images = collect()
    st.header("2. The network")
    start, settings = network_choice()
    stack, problem = own_stack(images, start, settings)
    show_augmentation(images, settings)
    job = st.session_state.get("training_job")
    controls(images, start, settings, stack, problem, job)
    if job is None or st.session_state.get("training_dataset") != OWN_DATASET:
        return
    view = page_view()
    if view.training_at_arrival is None:
        view.training_at_arrival = job.snapshot().active
    snapshot = job.snapshot()
    if snapshot.state == "stopped" and not snapshot.started:
        st.info("Stopped before it started: press **Train** to queue again.")
        return
    was_active = snapshot.active
    snapshot = follow_training(job, view)
    if was_active:
        st.rerun()
    if snapshot.state == "failed":
        st.error(f"Training failed: {snapshot.error}")
        return
    if snapshot.evaluation is None:
        return
    classifier = publish(job, snapshot)
    st.header("3. Results on the held-out pictures")
    st.caption("The test images here are your held-out pictures: the network never trained on them.")
    show_results(snapshot, job.data, heading=None)
    st.page_link("pages/inspect.py", label="Follow one of your pictures through every layer on Inspect",
                 icon=":material/frame_inspect:")
    try_it(classifier, st.session_state.get("own_trained_biased", False))
    trained = st.session_state
    keep_the_work(classifier, trained.get(IMAGES_KEY, images), trained.get("own_trained_start", start),
                  job.settings, trained.get("own_trained_stack"))


main()
