"""AppTest runs routed as a started server routes them: the one private Streamlit call the
tests and benchmarks make, kept here.

Private API, checked on Streamlit 1.67. Because a pages/ folder exists, Streamlit starts in
its old multipage mode, and a real server leaves it after its first run
(`pages.common.route_through_app`). AppTest resets that flag before every run, so each run
would start in the old mode again; replacing `script_runner._mpa_v1` (the old mode's entry)
with a plain run of app.py gives every AppTest run the router, as a started server does.
"""

from __future__ import annotations

import runpy


def route_like_a_started_server(monkeypatch=None) -> None:
    """Make every later AppTest run go through app.py's router; undone by `monkeypatch`, if given."""
    from streamlit.runtime.scriptrunner import script_runner

    if not callable(getattr(script_runner, "_mpa_v1", None)):
        raise RuntimeError("Streamlit no longer has script_runner._mpa_v1: check how AppTest routes a "
                           "project with a pages/ folder, and update tests/apptest_routing.py.")
    replacement = lambda main_script: runpy.run_path(main_script)  # noqa: E731
    if monkeypatch is None:
        script_runner._mpa_v1 = replacement
    else:
        monkeypatch.setattr(script_runner, "_mpa_v1", replacement)
