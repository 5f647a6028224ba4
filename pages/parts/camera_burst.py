"""A camera that takes a burst: hold the button and it sends up to BURST_FRAMES frames,
BURST_PER_SECOND a second, each already cut square and scaled down in the browser, as
Teachable Machine's "hold to record" does. `st.camera_input` (one shot per click) stays as
the fallback. A custom component (Streamlit's components v2: inline HTML and JavaScript)."""

from __future__ import annotations

import base64
from pathlib import Path

import streamlit as st

from playground.spec.own_images import STORED_SIDE

BURST_FRAMES = 30
BURST_PER_SECOND = 10
FRAME_QUALITY = 0.9  # JPEG, in the browser
DATA_URL_PREFIX = "data:image/jpeg;base64,"
STATIC = Path(__file__).parent / "static"
CAMERA_BLOCKED = ("The camera is blocked. Browsers allow it only on https:// pages or on localhost: ask for "
                  "the https:// address (deploy/ sets one up), or allow the camera in the address bar's "
                  "site settings. Meanwhile, upload files.")

_burst = st.components.v2.component(
    "camera_burst",
    html=(STATIC / "camera_burst.html").read_text(),
    css=(STATIC / "camera_burst.css").read_text(),
    js=(STATIC / "camera_burst.js").read_text(),
)


def camera_burst(key: str) -> list[tuple[bytes, str]] | None:
    """The frames of a finished burst, as (JPEG bytes, name) pairs, once; else None."""
    result = _burst(key=key, data={"frames": BURST_FRAMES, "perSecond": BURST_PER_SECOND, "side": STORED_SIDE,
                                   "quality": FRAME_QUALITY, "blocked": CAMERA_BLOCKED},
                    on_frames_change=lambda: None)
    frames = getattr(result, "frames", None)
    if not frames:
        return None
    pictures = []
    for number, frame in enumerate(frames[:BURST_FRAMES]):
        if isinstance(frame, str) and frame.startswith(DATA_URL_PREFIX):
            try:
                pictures.append((base64.b64decode(frame[len(DATA_URL_PREFIX):], validate=True),
                                 f"camera frame {number + 1}"))
            except ValueError:
                continue
    return pictures
