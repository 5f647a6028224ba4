"""The Inspect page's full rerun with 256 feature maps shown (course notes' Conv256 preset).

    PLAYGROUND_DATA_DIR=../shared/data python benchmarks/inspect_rerun.py

Two measures, both for a new test image chosen with "Random test image":
- server: the page script's whole rerun, run in-process by Streamlit's AppTest;
- browser: from the click in Chromium until every layer's picture of the new image has
  loaded, with the model uploaded through Build & Train as a user would.
Target: ≤ 1.5 s. Prints the median and worst of several reruns.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from apptest_routing import route_like_a_started_server  # noqa: E402

from playground.models.building import Classifier, build_model  # noqa: E402
from playground.spec.presets import preset  # noqa: E402

PRESET = "Course notes: Conv256 → Conv128"
RERUNS = 10
TARGET_SECONDS = 1.5
# The input and the layers' grids: the input, 2 convolutions, and 2 pooling pairs.
PICTURES = 1 + 2 + 2 * 2
NEW_PICTURES_LOADED = f"""before => {{
    const fresh = [...document.images].filter(i => !before.includes(i.src));
    return fresh.length >= {PICTURES} && fresh.every(i => i.complete && i.naturalWidth > 0);
}}"""


def report(label: str, seconds: list[float]) -> None:
    print(f"  {label:<8} median {statistics.median(seconds):.3f} s   worst {max(seconds):.3f} s   "
          f"({len(seconds)} reruns; target ≤ {TARGET_SECONDS} s)")


def server_reruns(model) -> list[float]:
    from streamlit.testing.v1 import AppTest

    route_like_a_started_server()
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    app.run()
    app.session_state["session_classifier"] = Classifier(model, "Course notes", tuple("0123456789"))
    app.switch_page("pages/inspect.py").run()
    app.segmented_control(key="inspect_source").set_value("Test image").run()
    seconds = []
    for _ in range(RERUNS):
        started = time.perf_counter()
        app.button(key="inspect_random").click().run()
        seconds.append(time.perf_counter() - started)
    assert not app.exception and "conv2d · Conv2D" not in str(app.error)
    return seconds


def browser_reruns(model_path: Path) -> list[float]:
    from browser import launch_chromium, open_page, streamlit_server
    from playwright.sync_api import sync_playwright

    with streamlit_server(ROOT) as url, sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        page = open_page(browser, f"{url}/build_train")
        page.get_by_text("Keep the work").click()
        page.locator("input[type=file]").set_input_files(str(model_path))
        page.get_by_text("is now this session's model").wait_for()
        page.get_by_test_id("stSidebarNav").get_by_role("link", name="Inspect").click()
        page.get_by_text("Test image", exact=True).click()
        page.get_by_text("256 maps of 26×26").wait_for()
        seconds = []
        for _ in range(RERUNS):
            before = page.evaluate("() => [...document.images].map(i => i.src)")
            started = time.perf_counter()
            page.get_by_role("button", name="Random test image").click()
            page.wait_for_function(NEW_PICTURES_LOADED, arg=before)
            seconds.append(time.perf_counter() - started)
        browser.close()
    return seconds


def main() -> None:
    model = build_model(preset(PRESET))
    print(f"Inspect, full rerun for a new test image, {PRESET} (256 maps of 26×26, then 128 of 11×11):")
    report("server", server_reruns(model))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "course_notes.keras"
        model.save(path)
        report("browser", browser_reruns(path))


if __name__ == "__main__":
    main()
