"""The library's layout is its design: sub-packages in layers that import only downward
(import-linter's contracts in pyproject.toml), no Streamlit in the library, and no Keras in
its plain-data layer. The contracts are checked on the tree as it is, and shown to fail on a
copy with an import that goes the wrong way."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

LIBRARY = ROOT / "playground"
LAYERS = ("spec", "data", "lessons", "models", "training", "jobs", "board", "explain", "views")
MAX_SOURCE_LINES = 300


def lint_imports(root: Path) -> subprocess.CompletedProcess:
    run = "from importlinter.cli import lint_imports_command; lint_imports_command()"
    command = [sys.executable, "-c", run, "--config", str(root / "pyproject.toml"), "--no-cache"]
    return subprocess.run(command, cwd=root, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(root)})


def test_the_library_keeps_its_contracts():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 kept, 0 broken" in result.stdout


@pytest.mark.parametrize("module, line, broken", [
    ("spec/layers.py", "from playground.views import figures", "layers import only downward"),
    ("models/building.py", "from playground.explain import inspection", "layers import only downward"),
    ("jobs/job.py", "from playground.explain import saliency", "layers import only downward"),  # siblings
    ("lessons/goals.py", "from playground.board import rooms", "layers import only downward"),
    ("board/rooms.py", "from playground.jobs import job", "layers import only downward"),  # siblings
    ("views/text.py", "import streamlit", "never imports Streamlit"),
    ("spec/costs.py", "import keras", "imports no Keras or TensorFlow"),
])
def test_an_import_the_wrong_way_breaks_a_contract(tmp_path, module, line, broken):
    shutil.copytree(LIBRARY, tmp_path / "playground", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    path = tmp_path / "playground" / module
    path.write_text(path.read_text() + f"\n{line}  # the wrong way\n")
    result = lint_imports(tmp_path)
    assert result.returncode != 0
    assert f"{broken} BROKEN" in result.stdout, result.stdout


def test_the_library_is_its_layers_and_nothing_else():
    top = sorted(path.name for path in LIBRARY.iterdir() if path.name != "__pycache__")
    assert top == sorted(["__init__.py", *LAYERS])
    for layer in LAYERS:
        assert (LIBRARY / layer / "__init__.py").read_text().startswith('"""'), f"{layer} says what it holds"


def test_no_source_file_holds_two_things():
    """A file past about 300 lines probably holds two things."""
    folders = ("playground", "pages", "benchmarks", "deploy", "scripts")
    sources = [path for folder in folders for path in (ROOT / folder).rglob("*.py")] + [ROOT / "app.py"]
    long = {str(path.relative_to(ROOT)): count for path in sources
            if (count := len(path.read_text().splitlines())) > MAX_SOURCE_LINES}
    assert not long, long


@pytest.mark.slow
def test_a_training_process_loads_no_upload_checks():
    """Training code reads no uploaded files: the upload checks stay out of its process."""
    code = ("import sys; import playground.jobs.worker, playground.training.fitting, "
            "playground.training.compiling; print('playground.models.uploads' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                            timeout=120)
    assert result.stdout.strip() == "False", result.stdout + result.stderr


@pytest.mark.parametrize("module", ["pages.parts.streamlit_private", "playground.training.keras_private"])
def test_every_private_api_is_where_it_was_checked_and_a_moved_one_fails_loudly(module, monkeypatch):
    import importlib

    private = importlib.import_module(module)
    private.check_private_apis()
    moved = ("keras", "no_such_name_anywhere")
    monkeypatch.setattr(private, "PRIVATE_NAMES", (*private.PRIVATE_NAMES, moved))
    with pytest.raises(private.PrivateApiChanged, match=r"no longer has keras\.no_such_name_anywhere"):
        private.check_private_apis()
