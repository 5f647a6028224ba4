"""The camera needs a secure page: deploy/ serves HTTPS with a self-signed certificate, and
where the browser withholds the camera the page says what to do."""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

import pytest
from browser import free_port, open_page, wait_until_healthy
from conftest import ROOT, skip_unless_ci

sys.path.insert(0, str(ROOT / "deploy"))
from replicas import nginx_config, self_signed_certificate, start_nginx, start_replica  # noqa: E402

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def https_url():
    if shutil.which("nginx") is None or shutil.which("openssl") is None:
        skip_unless_ci("nginx and openssl are needed (apt-get install nginx openssl).")
    with tempfile.TemporaryDirectory() as name, open(Path(name) / "streamlit.log", "w+") as log:
        folder, port, listen = Path(name), free_port(), free_port()
        certificate = self_signed_certificate(folder)
        replica = start_replica(port, (), log)
        nginx = start_nginx(nginx_config(listen, [port], folder, "127.0.0.1", certificate), folder)
        try:
            wait_until_healthy(f"http://127.0.0.1:{port}", replica, log)
            yield f"https://127.0.0.1:{listen}"
        finally:
            for process in (nginx, replica):
                process.terminate()
                process.wait(timeout=15)


def test_the_page_is_served_over_https_as_a_secure_context(browser, https_url):
    context = browser.new_context(ignore_https_errors=True)  # the self-signed certificate
    page = context.new_page()
    page.set_default_timeout(90_000)
    page.goto(f"{https_url}/own_images")
    page.get_by_text("1. Your classes").wait_for()
    assert page.evaluate("() => window.isSecureContext && !!navigator.mediaDevices")
    context.close()


def test_a_page_without_the_camera_says_how_to_get_it(browser):
    from browser import streamlit_server

    with streamlit_server(ROOT) as url:
        page = open_page(browser, f"{url}/own_images", timeout_ms=90_000)
        # What an http:// page at a network address gets: no navigator.mediaDevices at all.
        page.add_init_script("Object.defineProperty(navigator, 'mediaDevices', {value: undefined})")
        page.reload()
        page.get_by_text("1. Your classes").wait_for()
        page.get_by_text("Camera", exact=True).first.click()
        page.get_by_role("button", name="Turn the camera on").click()
        page.get_by_text("The camera is blocked. Browsers allow it only on https:// pages").wait_for()
        page.close()
