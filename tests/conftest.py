"""Shared fixtures. Tests that need real MNIST read it through PLAYGROUND_DATA_DIR, as CI does."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

ROOT = Path(__file__).resolve().parent.parent


def skip_unless_ci(reason: str) -> None:
    """Skip, saying why; but in CI, where everything is installed, a missing piece is a failure."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} CI must provide it.")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def mnist():
    """The real MNIST, from PLAYGROUND_DATA_DIR (CI points it at ../shared/data)."""
    from playground.data import DATA_DIR_VARIABLE, load_dataset

    if not os.environ.get(DATA_DIR_VARIABLE):
        skip_unless_ci(f"{DATA_DIR_VARIABLE} is not set, so real MNIST is not available offline.")
    return load_dataset("mnist")


@pytest.fixture(scope="session")
def default_classifier():
    from playground.model import load_default_classifier

    return load_default_classifier()
