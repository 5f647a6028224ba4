"""Build & Train: assemble a CNN in the sidebar, train it live, and study the results."""

import copy
import time

import streamlit as st

from pages.builder_ui import sidebar_builder
from pages.common import (
    SESSION_MODEL_KEY,
    dataset,
    on_streamlit_stop,
    route_through_app,
    session_connected_check,
)
from pages.model_files import keep_the_work
from pages.training_results import show_results
from playground.augment import MAX_SHIFT
from playground.data import DATASETS, DataFormatError, DataUnavailableError
from playground.figures import stack_diagram, training_figure
from playground.layers import StackError, check_budget, summary_rows, trace_shapes
from playground.model import Classifier, build_model, copy_model
from playground.presets import FAST_DEFAULT_TRAINING
from playground.queue import training_queue
from playground.text import duration, ordinal
from playground.tickets import SessionToken, server_tickets
from playground.training import (
    BATCH_SIZE_RANGE,
    EPOCHS_RANGE,
    LEARNING_RATE_MAX,
    OPTIMIZER_LABELS,
    OPTIMIZERS,
    SCHEDULE_HELP,
    SCHEDULE_LABELS,
    SCHEDULES,
    VALIDATION_SPLIT_RANGE,
    TrainingJob,
    TrainingSettings,
)

# The script thread redraws the live charts this often while training runs. Two redraws a
# second keep the charts lively; each costs Chromium a Plotly re-render on the same two
# cores that train (benchmarks/live_training.py).
POLL_SECONDS = 0.4
SETTINGS_KEY = "train_settings"
# Session state a reloaded tab gets back with its training (pages/reload.py).
KEPT_ACROSS_RELOAD = ("builder_layers", "builder_next_uid", "builder_preset", SETTINGS_KEY,
                      "training_stack", "training_dataset")
STATE_TEXT = {"evaluating": "Evaluating on the test set…", "stopping": "Stopping…"}


def show_architecture(infos: list, input_shape) -> None:
    with st.expander("Architecture: summary and diagram", expanded=False):
        table, diagram = st.columns([3, 2])
        table.dataframe(summary_rows(infos), hide_index=True)
        diagram.graphviz_chart(stack_diagram(infos, input_shape))


def saved_settings() -> dict:
    """This session's training settings, kept in session state across page visits."""
    return st.session_state.setdefault(SETTINGS_KEY, {"dataset": "mnist", **FAST_DEFAULT_TRAINING})


def apply_preset_setup(setup: dict) -> None:
    """A preset made for a data set, with its own training, brings them along: the saved
    settings and the widgets both take them (this runs in the preset picker's callback)."""
    values = {"dataset": setup["dataset"], **setup.get("training", {})}
    saved_settings().update(values)
    for name, value in values.items():
        st.session_state[f"setting_{name}"] = value


def dataset_choice() -> str:
    """The data set, at the top of the sidebar: it sets the network's input shape."""
    saved, names = saved_settings(), list(DATASETS)
    saved["dataset"] = st.sidebar.selectbox(
        "Data set", names, names.index(saved["dataset"]), key="setting_dataset",
        format_func=lambda name: DATASETS[name]["title"],
        help="The network's input follows it: 28 × 28 × 1 for the gray sets, 32 × 32 × 3 for CIFAR-10.")
    return saved["dataset"]


def training_settings(dataset_name: str) -> TrainingSettings:
    """The settings widgets; their values are kept in session state across page visits."""
    saved, available = saved_settings(), DATASETS[dataset_name]["train_images"]
    # CIFAR-10 has 50,000 training images, the others 60,000: a count kept from another set shrinks
    saved["subset_size"] = min(saved["subset_size"], available)
    if st.session_state.get("setting_subset_size", 0) > available:
        st.session_state.setting_subset_size = available
    first, second, third, fourth = st.columns(4)
    saved["subset_size"] = first.number_input("Training images", 1, available, saved["subset_size"], 1000,
                                              key="setting_subset_size")
    saved["epochs"] = second.number_input("Epochs", *EPOCHS_RANGE, saved["epochs"], key="setting_epochs")
    saved["batch_size"] = third.number_input("Batch size", *BATCH_SIZE_RANGE, saved["batch_size"],
                                             key="setting_batch_size")
    saved["optimizer"] = fourth.selectbox(
        "Optimizer", OPTIMIZERS, OPTIMIZERS.index(saved["optimizer"]), key="setting_optimizer",
        format_func=OPTIMIZER_LABELS.get)
    first, second, third = st.columns(3)
    saved["learning_rate"] = first.number_input(
        "Learning rate", 0.0, LEARNING_RATE_MAX, saved["learning_rate"], step=0.0005, format="%.4f",
        key="setting_learning_rate")
    saved["schedule"] = second.selectbox(
        "Schedule", SCHEDULES, SCHEDULES.index(saved["schedule"]), key="setting_schedule",
        format_func=SCHEDULE_LABELS.get, help=SCHEDULE_HELP)
    saved["validation_split"] = third.slider("Validation split", *VALIDATION_SPLIT_RANGE,
                                             saved["validation_split"], 0.05, key="setting_validation_split")
    saved["augment"] = st.checkbox(
        "Augment: mirror and shift each image", saved.get("augment", False), key="setting_augment",
        help="Each time the network sees a training photo, it is flipped left to right (half the time) and "
             f"moved by up to {MAX_SHIFT} pixels, so it learns the classes rather than the photos. Good for "
             "CIFAR-10; not for digits, where a mirrored 3 is no 3.")
    return TrainingSettings(**{name: value for name, value in saved.items() if name != "dataset"})


def start_training(stack: list[dict], dataset_name: str, settings: TrainingSettings) -> bool:
    """Build a fresh model and start this session's job; user errors become messages."""
    try:
        input_shape = DATASETS[dataset_name]["image_shape"]
        check_budget(trace_shapes(stack, input_shape), settings.batch_size)
        data = dataset(dataset_name)
        job = TrainingJob(build_model(stack, input_shape, seed=settings.seed), data, settings)
    except (ValueError, StackError, DataUnavailableError, DataFormatError) as error:
        st.error(str(error))
        return False
    owner = SessionToken()
    job.belong_to(owner, session_connected_check())
    st.session_state.update(training_job=job, training_job_owner=owner, training_stack=stack,
                            training_dataset=dataset_name)
    # What a reloaded tab needs to show this job again, with the stack and settings it started from.
    keepsake = {key: copy.deepcopy(st.session_state[key])
                for key in KEPT_ACROSS_RELOAD if key in st.session_state}
    st.session_state.training_ticket = server_tickets().issue(job, keepsake)
    job.start()
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


def queue_text(snapshot) -> str:
    if snapshot.place_in_line is None:
        return "Queued: starting…"
    seconds = snapshot.seconds_to_wait
    wait = "" if seconds is None else f" · starts in about {duration(seconds)}"
    return (f"Queued: {ordinal(snapshot.place_in_line)} in line{wait}. Other learners are training on this "
            "server; yours starts by itself, and you may visit other pages meanwhile.")


def progress_text(snapshot) -> str:
    progress = snapshot.progress
    if snapshot.state == "queued":
        return queue_text(snapshot)
    if snapshot.state in STATE_TEXT:
        return STATE_TEXT[snapshot.state]
    if not snapshot.started:
        return "Starting: preparing the first batch…"
    left = "" if progress.seconds_left is None else f" · about {progress.seconds_left:.0f} s left"
    return (f"Epoch {progress.epoch}/{progress.epochs} · batch {progress.batch}/{progress.batches_per_epoch}"
            f" · {progress.samples_per_second:,.0f} images/s{left}")


def draw_chart(snapshot, slot, frame: int) -> None:
    # A static plot skips Plotly's hover and zoom layers: much less work per live redraw.
    slot.plotly_chart(training_figure(snapshot), key=f"training_chart_{frame}",
                      config={"staticPlot": snapshot.active, "displayModeBar": False})


def follow_training(job: TrainingJob):
    """Redraw from the script thread until the job ends; the job's thread never calls Streamlit.

    Every beat makes an st.* call, even when nothing changed: Streamlit acts on a rerun or
    stop request (a click on Stop, a page switch) only at an st.* call, so a loop without one
    would freeze a queued learner's page until someone else's training ended. When nothing
    changed, that call is an empty element, which costs the browser nothing to draw; a
    progress line redrawn unchanged cost it about a tenth of a core per waiting page.

    Streamlit's own Stop (top right, while a script runs) would end this loop and leave the
    display frozen while the job trained on; it stops the job, as the page's Stop does.
    """
    progress_slot, chart_slot, beat_slot = st.empty(), st.empty(), st.empty()
    frame, drawn, shown, next_draw = 0, None, None, time.monotonic()
    with on_streamlit_stop(job.request_stop):
        while True:
            snapshot = job.snapshot()
            progress = (snapshot.progress.fraction, progress_text(snapshot))
            if progress != shown:
                progress_slot.progress(progress[0], text=progress[1])
                shown = progress
            else:
                beat_slot.empty()
            seen = None if drawn is None else (drawn.batch_points, drawn.state)
            if snapshot.started and (snapshot.batch_points, snapshot.state) != seen:
                draw_chart(snapshot, chart_slot, frame)  # the chart only when it has something new
                drawn, frame = snapshot, frame + 1
            if not snapshot.active:
                return snapshot
            next_draw += POLL_SECONDS  # a steady beat, however long the drawing took
            time.sleep(max(0.0, next_draw - time.monotonic()))


def publish_model(job: TrainingJob, snapshot) -> None:
    """The trained model becomes this session's model, for Draw and Inspect."""
    data_title = DATASETS[st.session_state.training_dataset]["title"]
    # A copy: Continue trains job.model on another thread while Draw and Inspect call this one.
    st.session_state[SESSION_MODEL_KEY] = Classifier(
        copy_model(job.model), "Your model", job.data.class_names,
        description=f"trained here on {data_title}, {snapshot.evaluation.accuracy:.2%} test accuracy")


def main() -> None:
    route_through_app()
    st.title("Build & Train")
    dataset_name = dataset_choice()
    input_shape = DATASETS[dataset_name]["image_shape"]
    stack, infos, error = sidebar_builder(input_shape, apply_preset_setup)
    if error is None:
        show_architecture(infos, input_shape)
    settings = training_settings(dataset_name)
    problem = slot_problem()
    if problem:
        st.error(problem)
    training_controls(stack, dataset_name, settings, error or problem)
    keep_the_work(stack, settings, dataset_name)
    job = st.session_state.get("training_job")
    if job is None:
        st.info("Pick a preset or build a stack in the sidebar, then press **Train**.")
        return
    snapshot = job.snapshot()
    if snapshot.state == "stopped" and not snapshot.started:
        st.info("Stopped before it started: press **Train** to queue again.")
        return
    was_active = snapshot.active
    snapshot = follow_training(job)
    if was_active:
        st.rerun()  # the run ended while this script drew it: draw the page afresh, with results
    if snapshot.state == "failed":
        st.error(f"Training failed: {snapshot.error}")
    elif snapshot.evaluation is not None:
        if st.session_state.get("published_job") is not snapshot.evaluation:
            publish_model(job, snapshot)
            st.session_state.published_job = snapshot.evaluation
        show_results(snapshot, job.data)


main()
