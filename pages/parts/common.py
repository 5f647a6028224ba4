"""What several pages share: server-wide cached resources and the session's model.

Cached resources are shared by every session, so they are only ever read. A model the
user trains lives in `st.session_state` and belongs to that browser session alone.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator

import streamlit as st

from playground.jobs.process_memory import freeze_long_lived
from playground.spec.datasets import DATASETS, dataset_named_by
from playground.views.text import literal

SESSION_MODEL_KEY = "session_classifier"
# A closing tab's stop request reaches the script a moment before its session is marked gone.
DISCONNECT_SETTLE_SECONDS = 0.3
RERUN_WAIT_SECONDS = 5.0  # how long a stopped run may take to end before its page runs again
LAST_DIGIT_KEY = "last_digit"  # the last 28×28 drawing, for Inspect and How it works

ANSWER_CLICKS_KEY = "answer_clicks"  # never set: only read, see answer_clicks


def long_lived(resource):
    """A shared resource, just loaded: it and the modules it needed stay for the server's life,
    so later garbage collections skip them (see playground.jobs.process_memory)."""
    freeze_long_lived()
    return resource


@st.cache_resource(show_spinner="Loading the default model…")
def default_classifier():
    from playground.models.building import load_default_classifier

    return long_lived(load_default_classifier())


DOWNLOAD_SIZES = ", ".join(f"{info.title} about {info.download_megabytes} MB"
                           for info in DATASETS.values())


@st.cache_resource(show_spinner=f"Loading the data set, once per server. The first time, Keras downloads it "
                                f"({DOWNLOAD_SIZES}); this can take a few minutes…")
def dataset(name: str):
    from playground.data.loading import load_dataset

    return long_lived(load_dataset(name))


def route_through_app() -> None:
    """Make sure app.py's navigation is in charge, whatever URL the server saw first.

    Because a pages/ folder exists, Streamlit starts in its older multipage mode and, if
    the first visitor opens a page's URL (a bookmarked /draw, say), runs that page script
    alone, with a sidebar listing every file in pages/. Clearing the flag and rerunning
    lets app.py route this run and every later one.

    Private API, checked on Streamlit 1.67 (tests/test_app.py checks it is still there).
    """
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()


def keep_keras_between_reruns() -> None:
    """Stop Streamlit from clearing Keras' session after every script run.

    Private API, checked on Streamlit 1.67: after each run, `ScriptRunner` calls the module
    function `_clean_problem_modules`, which calls `keras.backend.clear_session()` whenever
    Keras is loaded. That cost about 0.19 s of server CPU per rerun here (0.38 s for one click
    on Draw's Clear), and it clears TensorFlow's kernel cache under the trainings running on
    other threads. The playground holds its models on purpose (session state, cache_resource),
    so there is nothing to clean; matplotlib, the function's other concern, is not used.
    """
    from streamlit.runtime.scriptrunner import script_runner

    if not callable(getattr(script_runner, "_clean_problem_modules", None)):
        raise RuntimeError("Streamlit no longer has script_runner._clean_problem_modules: check whether it "
                           "still clears Keras after every rerun, and update keep_keras_between_reruns.")
    script_runner._clean_problem_modules = _clean_nothing


def _clean_nothing() -> None:
    """Streamlit's post-run clean-up, minus Keras' clear_session (see keep_keras_between_reruns)."""


def session_connected_check() -> Callable[[], bool]:
    """A function that tells, from any thread, whether this browser session is still connected.

    Private API, checked on Streamlit 1.67: `Runtime.is_active_session` is False from the
    moment a tab's websocket closes (a closed or reloaded tab), while Streamlit keeps the
    session itself for `server.disconnectedSessionTTL` (120 s) and drops it only when some
    other session disconnects. Outside a running server (AppTest), always True.
    """
    from streamlit.runtime import Runtime
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    context = get_script_run_ctx()
    if context is None or not Runtime.exists():
        return lambda: True
    runtime, session_id = Runtime.instance(), context.session_id
    return lambda: runtime.is_active_session(session_id)


def answer_clicks() -> None:
    """A yield point that sends the browser nothing. A click or page switch starts a new run
    at once (Streamlit's runner.fastReruns) and asks the old one to stop, but the old run's
    thread stops only at a yield point: every st.* element, and every read of st.session_state
    (its SafeSessionState yield callback; private behaviour, checked on Streamlit 1.67, and a
    browser test fails if it changes). A loop without one runs on, unseen, for good. An empty
    element per beat did the same, but cost each waiting page's browser a re-render.
    """
    _ = ANSWER_CLICKS_KEY in st.session_state


@contextlib.contextmanager
def on_streamlit_stop(action: Callable[[], None]) -> Iterator[None]:
    """Call `action` if Streamlit's own Stop (the toolbar's) ends this script run inside the
    block. A click or a page switch also stops the run (Streamlit's `runner.fastReruns`
    stops it to start a new one), and so does a tab that closes or reloads: those pass
    through, and a closed tab's job is left to the orphan check, so a reload can take it back.

    Private API, checked on Streamlit 1.67: a stop request surfaces in the script thread as
    `StopException` at its next st.* call. Only after the toolbar's Stop is this run still
    the session's current one, on a session that is still connected (a closing websocket
    requests the stop a moment before it leaves the active sessions).
    """
    from streamlit.runtime.scriptrunner_utils.exceptions import StopException

    still_current = this_run_still_current()
    try:
        yield
    except StopException:
        # A click has already replaced this run; a closing tab may not have left the active
        # sessions yet, so the toolbar's Stop is told apart only after a moment.
        if still_current():
            time.sleep(DISCONNECT_SETTLE_SECONDS)
            if still_current():
                action()
                rerun_once_stopped()  # else the page shows the training as it was, frozen
        raise


def rerun_once_stopped() -> None:
    """Run this session's page again once its stopped run has ended, with the same widgets,
    page and URL, as Streamlit's own run-on-save does.

    Private API, checked on Streamlit 1.67: `AppSession.request_rerun(session._client_state)`,
    called off the script thread; the session's `_scriptrunner` is None once a run has ended.
    Outside a running server (AppTest), nothing happens."""
    from streamlit.runtime import Runtime
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    context = get_script_run_ctx()
    sessions = getattr(Runtime.instance(), "_session_mgr", None) if Runtime.exists() else None
    active = sessions.get_active_session_info(context.session_id) if context and sessions else None
    if active is None:
        return
    session = active.session

    def rerun() -> None:
        deadline = time.monotonic() + RERUN_WAIT_SECONDS
        while session._scriptrunner is not None and time.monotonic() < deadline:
            time.sleep(0.05)
        session.request_rerun(session._client_state)

    threading.Thread(target=rerun, name="playground-rerun-after-stop", daemon=True).start()


def this_run_still_current() -> Callable[[], bool]:
    """A function that tells whether this script run is still its connected session's current
    run. Private API, checked on Streamlit 1.67 (see `on_streamlit_stop`; the browser tests
    fail if it changes). Outside a running server (AppTest's stand-in runtime), always True."""
    from streamlit.runtime import Runtime
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    context = get_script_run_ctx()
    sessions = getattr(Runtime.instance(), "_session_mgr", None) if Runtime.exists() else None
    if context is None or sessions is None:
        return lambda: True
    session_id, thread = context.session_id, threading.current_thread()

    def still_current() -> bool:
        active = sessions.get_active_session_info(session_id)
        runner = active.session._scriptrunner if active is not None else None
        return runner is not None and runner._script_thread is thread

    return still_current


def classifier_test_set(classifier):
    """The test set of the data set whose classes `classifier` names; None, said on the page,
    if it cannot be loaded."""
    from playground.data.loading import DataFormatError, DataUnavailableError

    try:
        return dataset(dataset_named_by(classifier.class_names))
    except (DataUnavailableError, DataFormatError) as error:
        st.error(str(error))
        return None


def test_image_caption(data, index: int, class_name: str) -> str:
    return f"{data.title} test image {index}, true label **{class_name}**"


def session_classifier():
    """This session's own model if it trained one, else the shared default model."""
    return st.session_state.get(SESSION_MODEL_KEY) or default_classifier()


def classifier_or_stop():
    """This session's classifier, with a caption saying which; stops the page if there is none."""
    try:
        classifier = session_classifier()
    except (FileNotFoundError, OSError, ValueError) as error:
        st.error(f"No model to work with: {error}")
        st.stop()
    st.caption(f"Using **{classifier.title}**: {literal(classifier.description)}.")
    return classifier


@st.cache_resource(show_spinner="Loading ResNet50. The first time, Keras downloads its ImageNet weights "
                                "(about 100 MB); this takes a minute…")
def photo_classifier():
    """ResNet50, once per server, shared read-only by every session (it calls under a lock)."""
    from playground.explain.photos import PhotoClassifier, load_resnet50

    return long_lived(PhotoClassifier(load_resnet50()))
