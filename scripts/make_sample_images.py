"""Make the sample set that Your images offers: assets/sample_images.zip.

    python scripts/make_sample_images.py      # needs Fashion-MNIST (Debian: dataset-fashion-mnist)

Fashion-MNIST (Zalando Research, MIT licence: https://github.com/zalandoresearch/fashion-mnist)
test images of three clearly different things, SAMPLE_PER_CLASS each, the first of each class
in the test set's order, as PNGs in one folder per class: the layout Keras'
`image_dataset_from_directory` reads, and Your images' zip upload.
"""

from __future__ import annotations

import io
import sys
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from playground.data.loading import load_dataset  # noqa: E402
from playground.data.own_samples import SAMPLE_SET_PATH  # noqa: E402

SAMPLE_CLASSES = {"Trouser": "trouser", "Sneaker": "sneaker", "Bag": "bag"}
SAMPLE_PER_CLASS = 30


def main() -> None:
    data = load_dataset("fashion_mnist")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for title, folder in SAMPLE_CLASSES.items():
            label = data.class_names.index(title)
            for number, index in enumerate(np.flatnonzero(data.y_test == label)[:SAMPLE_PER_CLASS]):
                gray = (data.x_test[index, :, :, 0] * 255).round().astype(np.uint8)
                png = io.BytesIO()
                Image.fromarray(gray).convert("RGB").save(png, format="PNG", optimize=True)
                archive.writestr(f"{folder}/{folder}_{number + 1:02d}.png", png.getvalue())
    SAMPLE_SET_PATH.write_bytes(buffer.getvalue())
    print(f"wrote {SAMPLE_SET_PATH}: {len(buffer.getvalue()):,} bytes")


if __name__ == "__main__":
    main()
