"""Build & Train: assemble a CNN in the sidebar, train it live, and study the results."""

import copy
from dataclasses import asdict

import streamlit as st

from pages.parts.builder import FLOP_NOTE, sidebar_builder
from pages.parts.common import SESSION_MODEL_KEY, dataset
from pages.parts.model_files import keep_the_work
from pages.parts.reload import page_view
from pages.parts.room_membership import poster
from pages.parts.share import keep_link_current, open_shared_link, share_button
from pages.parts.streamlit_private import route_through_app, session_connected_check
from pages.parts.training_live import follow_training
from pages.parts.training_results import show_results
from pages.parts.training_settings import (
    SETTINGS_KEY,
    apply_preset_setup,
    dataset_choice,
    saved_settings,
    setting_key,
    training_settings,
)
from pages.parts.transfer import (
    BASE_TITLES,
    SCRATCH,
    base_choice,
    base_loading_message,
    base_summary,
    make_base,
    show_base,
)
from playground.data.loading import DataFormatError, DataUnavailableError
from playground.jobs.job import ORPHAN_GRACE_SECONDS, TrainingJob
from playground.jobs.line import training_queue
from playground.jobs.process_link import get_ready_to_train
from playground.jobs.starting import start_owned_job
from playground.models.building import Classifier, copy_model
from playground.models.starting_points import fine_tuning_settings, model_from_scratch, model_on_base
from playground.models.transfer import FINE_TUNE_RATE_FACTOR, BaseUnavailableError, unfreeze_for_fine_tuning
from playground.spec.costs import layer_costs
from playground.spec.datasets import DATASETS
from playground.spec.layers import StackError
from playground.spec.links import link_params
from playground.spec.own_images import OWN_DATASET
from playground.spec.settings import TrainingSettings
from playground.spec.shapes import summary_rows
from playground.views.figures import stack_diagram

# What a user's stack, data or base can make Train refuse, with a message saying why.
TRAINING_REFUSALS = (ValueError, StackError, DataUnavailableError, DataFormatError, BaseUnavailableError)
PAGE_WAS_GONE = (f"This training stopped while this page was away (closed, or its connection lost for "
                 f"over {ORPHAN_GRACE_SECONDS:.0f} s), so that others could train. Press **Train** to train "
                 "again.")
# Session state a reloaded tab gets back with its training (pages/parts/reload.py).
KEPT_ACROSS_RELOAD = ("builder_layers", "builder_next_uid", "builder_preset", SETTINGS_KEY, "transfer_base",
                      "training_stack", "training_dataset", "training_base")


def show_architecture(infos: list, input_shape, batch_size: int) -> None:
    with st.expander("Architecture: summary, costs and diagram", expanded=False):
        table, diagram = st.columns([3, 2])
        table.dataframe(summary_rows(infos, layer_costs(infos, input_shape, batch_size)), hide_index=True)
        table.caption(FLOP_NOTE + f" Memory is for batches of {batch_size}.")
        diagram.graphviz_chart(stack_diagram(infos, input_shape))


def chosen_base(dataset_name: str):
    """The trained network to start from (a BaseSummary), or None to build from scratch; and a
    message if it cannot be used with this data set."""
    choice = base_choice(apply_preset_setup)
    if choice == SCRATCH:
        return None, None
    try:
        summary = base_summary(choice)
    except (ValueError, FileNotFoundError, OSError) as error:
        return None, str(error)
    return summary, show_base(summary, dataset_name)


def new_model(stack: list[dict], dataset_name: str, settings: TrainingSettings):
    """A fresh model for a training; raises the user's errors (stack, budget, base)."""
    choice = st.session_state.get("transfer_base", SCRATCH)
    if choice == SCRATCH:
        return model_from_scratch(stack, dataset_name, settings)
    with st.spinner(base_loading_message(choice)):
        return model_on_base(stack, base_summary(choice), lambda: make_base(choice), settings)


def model_description(dataset_name: str, accuracy: float) -> str:
    """How Draw, Inspect and Photos name the session's trained model."""
    data_title = DATASETS[dataset_name].title
    base = st.session_state.get("training_base", SCRATCH)
    start = "trained here" if base == SCRATCH else f"a new head on {BASE_TITLES[base]}, trained here"
    return f"{start} on {data_title}, {accuracy:.2%} test accuracy"


def start_training(stack: list[dict], dataset_name: str, settings: TrainingSettings) -> bool:
    """Build a fresh model and start this session's job; user errors become messages."""
    try:
        model = new_model(stack, dataset_name, settings)
        return start_job(model, dataset_name, settings, stack)
    except TRAINING_REFUSALS as error:
        st.error(str(error))
        return False


def likely_training(stack: list[dict], dataset_name: str, settings: TrainingSettings):
    """What Train would train now, for a training process to get ready for (a new model, its
    data set and settings), or None if Train would refuse it."""
    try:
        return new_model(stack, dataset_name, settings), dataset(dataset_name), settings
    except TRAINING_REFUSALS:
        return None


def start_job(model, dataset_name: str, settings: TrainingSettings, stack: list[dict]) -> bool:
    """This session's job on `model`: owned by the session, kept for a reloaded tab, started."""
    training = {"training_stack": stack, "training_dataset": dataset_name,
                "training_base": st.session_state.get("transfer_base", SCRATCH)}
    # What a reloaded tab needs to show this job again, with the stack and settings it started from.
    kept = {key: st.session_state[key] for key in KEPT_ACROSS_RELOAD if key in st.session_state} | training
    from_scratch = training["training_base"] == SCRATCH
    when_done = poster(dataset_name, stack if from_scratch else None, DATASETS[dataset_name].image_shape,
                       len(DATASETS[dataset_name].class_names),
                       link_params(stack, dataset_name, asdict(settings)) if from_scratch else None)
    try:
        started = start_owned_job(model, dataset(dataset_name), settings, session_connected_check(),
                                  copy.deepcopy(kept), when_done)
    except (ValueError, DataUnavailableError, DataFormatError) as error:
        st.error(str(error))
        return False
    st.session_state.update(training_job=started.job, training_job_owner=started.owner,
                            training_ticket=started.ticket, **training)
    return True


def slot_problem() -> str | None:
    """A message if the server's training-slot setting is bad; training is off until it is fixed."""
    try:
        training_queue()
    except ValueError as error:
        return str(error)
    return None


def training_controls(stack, dataset_name, settings, error) -> None:
    job = st.session_state.get("training_job")
    active = job is not None and job.snapshot().active
    train, stop, resume = st.columns(3)
    pressed = train.button("Train", type="primary", icon=":material/play_arrow:", width="stretch",
                           disabled=error is not None or active)
    if pressed and start_training(stack, dataset_name, settings):
        st.rerun()  # draw the controls again, now with Stop enabled
    stop.button("Stop", icon=":material/stop:", disabled=not active, width="stretch",
                on_click=lambda: job.request_stop())
    if resume.button("Continue", icon=":material/resume:", width="stretch",
                     disabled=job is None or not job.can_continue):
        job.start()
        st.rerun()


def publish_model(job: TrainingJob, snapshot) -> None:
    """The trained model becomes this session's model, for Draw and Inspect."""
    # A copy: Continue changes job.model's weights (training it on a thread, or taking those a
    # training process sends back) while Draw and Inspect call this one.
    st.session_state[SESSION_MODEL_KEY] = Classifier(
        copy_model(job.model), "Your model", job.data.class_names,
        description=model_description(st.session_state.training_dataset, snapshot.evaluation.accuracy),
        moments=snapshot.moments)


def offer_fine_tuning(job: TrainingJob, snapshot) -> None:
    """After a head trained on a frozen base: unfreeze the base and train on, more gently."""
    if st.session_state.get("training_base", SCRATCH) == SCRATCH or snapshot.state != "finished":
        return
    if st.session_state.get("fine_tuning_of") is job:
        return
    settings = fine_tuning_settings(job.settings)
    with st.container(border=True):
        st.markdown(f"**Fine-tune?** The head has learned on the frozen base. Now the base's layers can "
                    f"learn too (batch norm stays frozen), at {FINE_TUNE_RATE_FACTOR:g} times the rate "
                    f"({settings.learning_rate:g}), for {settings.epochs} more epochs: with few images this "
                    "often adds a point or two, and with too high a rate it would undo what the base knew.")
        if st.button("Unfreeze and fine-tune", icon=":material/lock_open:", key="fine_tune"):
            unfreeze_for_fine_tuning(job.model)
            if start_job(job.model, st.session_state.training_dataset, settings,
                         st.session_state.training_stack):
                st.session_state.fine_tuning_of = st.session_state.training_job
                st.rerun()


def main() -> None:
    route_through_app()
    st.title("Build & Train")
    open_shared_link(apply_preset_setup)
    dataset_name = dataset_choice()
    input_shape = DATASETS[dataset_name].image_shape
    base, base_problem = chosen_base(dataset_name)
    batch_size = st.session_state.get(setting_key("batch_size"), saved_settings()["batch_size"])
    stack, infos, error = sidebar_builder(base.output_shape if base else input_shape, apply_preset_setup,
                                          batch_size, base.frozen if base else None)
    if base_problem:
        st.sidebar.error(base_problem)
    error = error or (StackError(None, base_problem) if base_problem else None)
    if error is None and base is None:
        show_architecture(infos, input_shape, batch_size)
    settings = training_settings(dataset_name)
    shareable = base is None and error is None
    share_button(keep_link_current(stack, dataset_name, saved_settings(), shareable))
    problem = slot_problem()
    if problem:
        st.error(problem)
    # From scratch only: a trained base takes seconds to build, and a learner may not keep it.
    get_ready_to_train(lambda: likely_training(stack, dataset_name, settings) if shareable else None)
    training_controls(stack, dataset_name, settings, error or problem)
    keep_the_work(stack, settings, dataset_name)
    job, view = st.session_state.get("training_job"), page_view()
    if view.training_at_arrival is None:
        view.training_at_arrival = job is not None and job.snapshot().active
    if job is None:
        st.info("Pick a preset or build a stack in the sidebar, then press **Train**.")
        return
    if st.session_state.get("training_dataset") == OWN_DATASET:
        st.info("This session's training is on your own images.", icon=":material/add_photo_alternate:")
        st.page_link("pages/own_images.py", label="See it on Your images", icon=":material/arrow_forward:")
        return
    snapshot = job.snapshot()
    if snapshot.state == "stopped" and not snapshot.started:
        st.info("Stopped before it started: press **Train** to queue again.")
        return
    if snapshot.state == "stopped" and snapshot.stop_reason == "closed":
        st.warning(PAGE_WAS_GONE, icon=":material/wifi_off:")  # above its last progress and chart
    was_active = snapshot.active
    snapshot = follow_training(job, view)
    if was_active:
        st.rerun()  # the run ended while this script drew it: draw the page afresh, with results
    if snapshot.state == "failed":
        st.error(f"Training failed: {snapshot.error}")

    elif snapshot.evaluation is not None:
        if st.session_state.get("published_job") is not snapshot.evaluation:
            publish_model(job, snapshot)
            st.session_state.published_job = snapshot.evaluation
        offer_fine_tuning(job, snapshot)
        show_results(snapshot, job.data)


main()
