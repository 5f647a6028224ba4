"""Your images in a real Chromium: fill classes from a zip and from files, train, try a new
picture, inspect it; and fill a class with a burst from Chromium's fake camera."""

from __future__ import annotations

import io
import re
import time
import zipfile

import numpy as np
import pytest
from browser import CHROMIUM_ARGS, chromium_path, fill_number, open_page, streamlit_server
from conftest import ROOT
from PIL import Image

pytestmark = pytest.mark.browser
ARTIFACTS = ROOT / "test-artifacts"
TRAINING_MS = 240_000
COLOURS = {"red": (220, 30, 30), "blue": (30, 40, 220), "green": (40, 200, 60)}


@pytest.fixture(scope="module")
def app_url():
    with streamlit_server(ROOT) as url:
        yield url


def png(colour, seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    pixels = np.clip(np.asarray(colour) + rng.normal(0, 25, (48, 48, 3)), 0, 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


def upload(page, label: str, files) -> None:
    """Give a Streamlit file uploader, found by its label, these files."""
    uploader = page.locator("[data-testid='stFileUploader']").filter(has_text=label)
    uploader.locator("input[type=file]").set_input_files(files)


def class_zip(path, names) -> None:
    with zipfile.ZipFile(path, "w") as archive:
        for name in names:
            for number in range(12):
                archive.writestr(f"colours/{name}/{number}.png", png(COLOURS[name], number))


def test_zip_files_train_try_and_inspect(browser, app_url, tmp_path):
    class_zip(tmp_path / "colours.zip", ["red", "blue"])
    greens = []
    for number in range(12):
        greens.append(tmp_path / f"green_{number}.png")
        greens[-1].write_bytes(png(COLOURS["green"], 100 + number))
    page = open_page(browser, f"{app_url}/own_images", 1400, 1000, timeout_ms=TRAINING_MS)
    page.get_by_text("1. Your classes").wait_for()
    upload(page, "One zip whose folders are the classes", str(tmp_path / "colours.zip"))
    page.get_by_text("Pictures of “blue”").wait_for()
    page.get_by_role("button", name="Add a class").click()
    upload(page, "Pictures of “Class 3”", [str(path) for path in greens])
    page.get_by_text("36 of at most").wait_for()
    fill_number(page, "Epochs", 15)
    page.get_by_role("button", name="Train").click()
    page.get_by_text("3. Results on the held-out pictures").wait_for()
    page.get_by_text("Test accuracy").wait_for()
    trial = tmp_path / "new_blue.png"
    trial.write_bytes(png(COLOURS["blue"], 999))
    upload(page, "A new picture", str(trial))
    said = page.get_by_text("the network says")
    said.wait_for()
    assert "blue" in said.inner_text()
    page.screenshot(path=str(ARTIFACTS / "own_images.png"), full_page=False)
    with page.expect_download() as download:
        page.get_by_role("button", name="The images (.zip of class folders)").click()
    with zipfile.ZipFile(download.value.path()) as archive:
        folders = {name.split("/")[0] for name in archive.namelist()}
        assert folders == {"train", "held_out"} and len(archive.namelist()) == 36
    with page.expect_download() as download:
        page.get_by_role("button", name="The model (.keras)").click()
    assert zipfile.is_zipfile(download.value.path())  # a .keras file is a zip
    page.get_by_role("link", name="Follow one of your pictures through every layer on Inspect").click()
    page.get_by_text("Prediction:").first.wait_for()
    assert page.get_by_text("your images test image 0").count() > 0


def fake_camera_file(path, frames: int = 20, width: int = 64, height: int = 48) -> None:
    """A .y4m video (4:2:0) that Chromium's fake camera plays: a bright orange picture."""
    header = f"YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 C420jpeg\n".encode()
    luma, chroma = bytes([170]) * (width * height), (width // 2) * (height // 2)
    frame = b"FRAME\n" + luma + bytes([60]) * chroma + bytes([200]) * chroma
    path.write_bytes(header + frame * frames)


def camera_arguments(video) -> list[str]:
    """Chromium's flags for a fake camera that plays `video`, allowed without asking."""
    return [*CHROMIUM_ARGS, "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
            f"--use-file-for-fake-video-capture={video}"]


def record_burst(page, hold_ms: int = 3_500) -> float:
    """Turn the first class's camera on and hold its button for `hold_ms` (30 frames come in
    3 s); the seconds from letting go until the page shows the 30 frames in the set."""
    page.get_by_text("1. Your classes").wait_for()
    page.get_by_text("Camera", exact=True).first.click()
    page.get_by_role("button", name="Turn the camera on").click()
    hold = page.get_by_role("button", name="Hold to record")
    page.get_by_text("Hold to take up to 30 frames").wait_for()
    hold.scroll_into_view_if_needed()
    box = hold.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.wait_for_timeout(hold_ms)
    page.mouse.up()
    released = time.perf_counter()
    page.get_by_text("30 of at most").wait_for()
    return time.perf_counter() - released


def test_a_held_camera_button_sends_a_burst_of_frames(browser, app_url, tmp_path):
    video = tmp_path / "camera.y4m"
    fake_camera_file(video)
    camera_browser = browser.browser_type.launch(executable_path=chromium_path(),
                                                 args=camera_arguments(video))
    try:
        page = open_page(camera_browser, f"{app_url}/own_images", 1400, 1000, timeout_ms=60_000)
        record_burst(page)
        page.screenshot(path=str(ARTIFACTS / "own_images_camera.png"))
    finally:
        camera_browser.close()


def test_a_reload_mid_training_keeps_the_training_and_the_pictures(browser, app_url):
    page = open_page(browser, f"{app_url}/own_images", 1400, 1000, timeout_ms=TRAINING_MS)
    page.get_by_role("button", name="Load the sample set").click()
    page.get_by_text("90 of at most").wait_for()
    fill_number(page, "Epochs", 100)
    page.get_by_role("button", name="Train").click()
    page.get_by_text(re.compile(r"Epoch \d+/100 · batch")).wait_for()  # training, whichever epoch shows
    page.reload()
    page.get_by_text("Welcome back: your training is here, on Your images.").wait_for()
    page.get_by_text("90 of at most").wait_for()
    page.get_by_test_id("stMainBlockContainer").get_by_role("button", name="Stop").click()
    page.get_by_text("Test accuracy").wait_for()
