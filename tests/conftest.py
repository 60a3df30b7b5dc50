from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, os.path.dirname(__file__))

# Headless text is laid out for COLUMNS (else the terminal, else 160 columns): tests that
# care set it themselves; the width of the terminal pytest runs in must not leak in.
os.environ.pop("COLUMNS", None)
os.environ.pop("LINES", None)

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample_images"
SAMPLE_IMAGES = ["sample-docker.tar", "sample-oci-gzip.tar", "sample-oci-zstd.tar"]


@pytest.fixture(scope="session")
def sample_dir() -> Path:
    return SAMPLES
