"""Peak server memory while hostile or oversized model uploads are refused (target: ≤ 300 MB rise).

    python benchmarks/upload_memory.py

Each case runs in a fresh Python process: Keras is imported, the resident memory read, the
upload refused, and the peak resident memory (VmHWM) read again. Cases, as seen in the field:
a .keras whose config is padded to 1 GiB, a .keras with 8 filler entries of 240 MiB, and an
.h5 whose gzip-compressed weights would expand to 1 GiB.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

MAKE = {
    "config padded to 1 GiB": """
import io, json, zipfile
buffer = io.BytesIO()
with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
    archive.writestr("metadata.json", "{}")
    with archive.open("config.json", "w", force_zip64=True) as entry:
        entry.write(b'{"class_name": "Sequential", "padding": "')
        for _ in range(1024):
            entry.write(b" " * 2**20)
        entry.write(b'"}')
raw = buffer.getvalue()
""",
    "8 filler entries of 240 MiB": """
import io, zipfile
buffer = io.BytesIO()
with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
    archive.writestr("config.json", '{"class_name": "Sequential"}')
    for index in range(8):
        with archive.open(f"filler{index}", "w", force_zip64=True) as entry:
            for _ in range(240):
                entry.write(bytes(2**20))
raw = buffer.getvalue()
""",
    "h5 weights that expand to 1 GiB": """
import io, h5py
buffer = io.BytesIO()
with h5py.File(buffer, "w") as file:
    file.create_dataset("zeros", shape=(2**30,), dtype="u1", compression="gzip", chunks=(2**22,))
    file.attrs["model_config"] = '{"class_name": "Sequential"}'
raw = buffer.getvalue()
""",
}

MEASURE = """
import sys
sys.path.insert(0, {root!r})
import keras  # noqa: F401 - the server has Keras loaded
from playground.models.uploads import UploadRefused, load_uploaded_model
raw = open({path!r}, "rb").read()

def status(field):
    for line in open("/proc/self/status"):
        if line.startswith(field):
            return int(line.split()[1]) / 1024

before = status("VmRSS")
try:
    load_uploaded_model(raw)
    print("ACCEPTED")
except UploadRefused as error:
    print(f"refused: {{error}}")
print(f"{{len(raw) / 2**20:.1f}} MB file, peak rise {{status('VmHWM') - before:.0f}} MB")
"""


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        for name, make in MAKE.items():
            path = Path(folder) / "upload.bin"
            namespace: dict = {}
            exec(make, namespace)
            path.write_bytes(namespace["raw"])
            result = subprocess.run([sys.executable, "-c", MEASURE.format(root=str(ROOT), path=str(path))],
                                    capture_output=True, text=True, env={"TF_CPP_MIN_LOG_LEVEL": "3"})
            lines = [line for line in result.stdout.splitlines() if line]
            print(f"{name}:\n  " + "\n  ".join(lines[-2:] or [result.stderr[-500:]]))


if __name__ == "__main__":
    main()
