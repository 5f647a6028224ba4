"""Every use of Streamlit's private APIs, in one place, checked on Streamlit CHECKED_ON.

The playground needs a few things Streamlit has no public API for: routing a bookmarked
page through app.py, keeping Keras' session between reruns, telling a closed tab from a
connected one, a yield point that sends nothing, telling the toolbar's Stop from a click,
and running a stopped page again. Each private name is listed in PRIVATE_NAMES; at start-up
app.py calls `check_private_apis`, which fails loudly, in one way, naming what changed, if an
upgrade has moved any of them (tests/test_app.py runs it too). The browser tests catch a
change of behaviour that keeps the names.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import inspect
import re
import threading
import time
from collections.abc import Callable, Iterator

import streamlit as st

CHECKED_ON = "1.67.0"
# (module, attribute path) of every private name used below.
PRIVATE_NAMES = (
    ("streamlit.runtime.pages_manager", "PagesManager.uses_pages_directory"),
    ("streamlit.runtime.scriptrunner.script_runner", "_clean_problem_modules"),
    ("streamlit.runtime", "Runtime.is_active_session"),
    ("streamlit.runtime", "Runtime._session_mgr"),
    ("streamlit.runtime.scriptrunner_utils.exceptions", "StopException"),
    ("streamlit.runtime.app_session", "AppSession.request_rerun"),
    ("streamlit.runtime.app_session", "AppSession._client_state"),
    ("streamlit.runtime.app_session", "AppSession._scriptrunner"),
    ("streamlit.runtime.scriptrunner.script_runner", "ScriptRunner._script_thread"),
)
# A closing tab's stop request reaches the script a moment before its session is marked gone.
DISCONNECT_SETTLE_SECONDS = 0.3
RERUN_WAIT_SECONDS = 5.0  # how long a stopped run may take to end before its page runs again
ANSWER_CLICKS_KEY = "answer_clicks"  # never set: only read, see answer_clicks


class PrivateApiChanged(RuntimeError):
    """An upgrade of Streamlit moved a private name the playground relies on."""


def check_private_apis() -> None:
    """PrivateApiChanged naming every private name that is gone, else nothing."""
    missing = [f"{module}.{path}" for module, path in PRIVATE_NAMES if not _exists(module, path)]
    if missing:
        raise PrivateApiChanged(f"Streamlit {st.__version__} no longer has {', '.join(missing)}; the "
                                f"playground was checked on {CHECKED_ON}. Update "
                                "pages/parts/streamlit_private.py.")


@functools.cache
def check_private_apis_once() -> None:
    """`check_private_apis`, once per server: app.py runs on every rerun, a click's hot path."""
    check_private_apis()


def _exists(module: str, path: str) -> bool:
    """Whether `module` has `path`; for a class, an attribute its __init__ sets counts too."""
    try:
        owner = importlib.import_module(module)
    except ImportError:
        return False
    *parents, name = path.split(".")
    for parent in parents:
        owner = getattr(owner, parent, None)
    if owner is None:
        return False
    return hasattr(owner, name) or (inspect.isclass(owner) and re.search(
        rf"self\.{name}\b", inspect.getsource(owner.__init__)) is not None)


def route_through_app() -> None:
    """Make sure app.py's navigation is in charge, whatever URL the server saw first.

    Because a pages/ folder exists, Streamlit starts in its older multipage mode and, if
    the first visitor opens a page's URL (a bookmarked /draw, say), runs that page script
    alone, with a sidebar listing every file in pages/. Clearing the flag and rerunning
    lets app.py route this run and every later one.

    Private API (see CHECKED_ON) (tests/test_app.py checks it is still there).
    """
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()


def keep_keras_between_reruns() -> None:
    """Stop Streamlit from clearing Keras' session after every script run.

    Private API (see CHECKED_ON): after each run, `ScriptRunner` calls the module
    function `_clean_problem_modules`, which calls `keras.backend.clear_session()` whenever
    Keras is loaded. That cost a good part of a trivial click's server CPU on every rerun
    (benchmarks/classroom.py times a trivial click), and it clears TensorFlow's kernel cache
    under the trainings running on other threads. The playground holds its models on purpose
    (session state, cache_resource), so there is nothing to clean; matplotlib, the function's
    other concern, is not used.
    """
    from streamlit.runtime.scriptrunner import script_runner

    script_runner._clean_problem_modules = _clean_nothing


def _clean_nothing() -> None:
    """Streamlit's post-run clean-up, minus Keras' clear_session (see keep_keras_between_reruns)."""


def session_connected_check() -> Callable[[], bool]:
    """A function that tells, from any thread, whether this browser session is still connected.

    Private API (see CHECKED_ON): `Runtime.is_active_session` is False from the
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
    (its SafeSessionState yield callback; private behaviour (see CHECKED_ON), and a
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

    Private API (see CHECKED_ON): a stop request surfaces in the script thread as
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

    Private API (see CHECKED_ON): `AppSession.request_rerun(session._client_state)`,
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
    run. Private API (see CHECKED_ON) (see `on_streamlit_stop`; the browser tests
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
