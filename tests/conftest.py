from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, os.path.dirname(__file__))

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample_images"
SAMPLE_IMAGES = ["sample-docker.tar", "sample-oci-gzip.tar", "sample-oci-zstd.tar"]


def skip_or_fail(reason: str) -> None:
    """Skip where a tool is missing, but fail in CI (CI=true).

    .ci/run installs every tool the tests use and stops when an install fails,
    so in CI a skip could only hide a test that did not run.
    """
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: .ci/run installs it, so this test must run)")
    pytest.skip(reason)


def need_tools(*tools: str) -> None:
    """Skip (fail in CI) unless every command in ``tools`` is on PATH."""
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        skip_or_fail(f"{', '.join(missing)} not installed")


@pytest.fixture(scope="session")
def sample_dir() -> Path:
    return SAMPLES
