"""A drawing canvas that sends the picture the moment the pen lifts.

streamlit-drawable-canvas waited 200 ms (a fixed debounce in its bundle) before sending a
stroke: two thirds of Draw's time from mouse-up to prediction. This canvas is a few lines
of JavaScript on Streamlit's own components (v2): white ink on black, a round pen, and on
every pointer-up the whole picture as a PNG. It works with a mouse, a pen or a finger.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from playground.data.drawing import decode_png_data_url
from playground.views import colours

CANVAS_CSS = """
canvas { touch-action: none; border-radius: 0.5rem; cursor: crosshair; display: block;
         max-width: 100%; height: auto; }
"""

CANVAS_JS = """
export default function (component) {
  const { parentElement, data, setStateValue } = component;
  if (parentElement.querySelector("canvas")) return;  // a rerun: keep the drawing
  const canvas = document.createElement("canvas");
  canvas.width = canvas.height = data.side;
  canvas.setAttribute("aria-label", data.label);
  parentElement.appendChild(canvas);
  const pen = canvas.getContext("2d");
  pen.fillStyle = data.paper;
  pen.fillRect(0, 0, data.side, data.side);
  pen.strokeStyle = data.ink;
  pen.lineWidth = data.stroke;
  pen.lineCap = pen.lineJoin = "round";
  let drawing = false;
  const point = (event) => {
    const box = canvas.getBoundingClientRect();
    const scale = data.side / box.width;  // the canvas may be shown smaller than its pixels
    return [(event.clientX - box.left) * scale, (event.clientY - box.top) * scale];
  };
  canvas.addEventListener("pointerdown", (event) => {
    drawing = true;
    canvas.setPointerCapture(event.pointerId);
    const [x, y] = point(event);
    pen.beginPath();
    pen.moveTo(x, y);
    pen.lineTo(x, y);
    pen.stroke();
  });
  canvas.addEventListener("pointermove", (event) => {
    if (!drawing) return;
    const [x, y] = point(event);
    pen.lineTo(x, y);
    pen.stroke();
  });
  const lift = () => {
    if (!drawing) return;
    drawing = false;
    setStateValue("png", canvas.toDataURL("image/png"));
  };
  canvas.addEventListener("pointerup", lift);
  canvas.addEventListener("pointercancel", lift);
}
"""

_canvas = st.components.v2.component("playground_digit_canvas", css=CANVAS_CSS, js=CANVAS_JS)


def digit_canvas(side: int, stroke: int, key: str) -> np.ndarray | None:
    """Mount the canvas; the RGBA drawing after the latest stroke, or None before the first."""
    result = _canvas(key=key, data={"side": side, "stroke": stroke, "label": "Drawing area for one digit",
                                         "ink": colours.INK, "paper": colours.PAPER},
                     on_png_change=lambda: None)
    png = getattr(result, "png", None)
    return None if png is None else decode_png_data_url(png)
