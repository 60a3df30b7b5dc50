from __future__ import annotations

import os
import shutil
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


def built_image(recipe_name: str) -> Path:
    """The archive a recipe in tests/fixtures/ builds (see cache.py there), built now unless cached.

    The first build needs the recipe's ``TOOLS``, root (podman) and the Debian mirror
    (minutes). Skipped without them, except in CI (``CI=true``), where a skip
    would hide what the tests are for.
    """
    import importlib
    import subprocess

    sys.path.insert(0, str(ROOT / "tests" / "fixtures"))
    recipe = importlib.import_module(recipe_name)
    archive: Path = recipe.image_dir() / recipe.ARCHIVE
    if not archive.is_file():
        missing = [tool for tool in recipe.TOOLS if shutil.which(tool) is None]
        if os.geteuid() != 0 and not os.environ.get("LAYERSCOPE_TEST_ROOTLESS_PODMAN"):
            missing.append("root")
        if missing:
            skip_or_fail(f"{recipe_name} needs {', '.join(missing)} (see tests/fixtures/{recipe_name}.py)")
        try:
            archive = getattr(recipe, recipe_name)()
        except (subprocess.CalledProcessError, SystemExit) as exc:
            skip_or_fail(f"could not build {recipe_name}: {exc}")
    return archive


@pytest.fixture(scope="session")
def debian_image() -> Path:
    """A real Debian bookworm image with long RUN/COPY commands (tests/fixtures/debian_image.py)."""
    return built_image("debian_image")


@pytest.fixture(scope="session")
def worked_image() -> Path:
    """The README's worked Debian image: jq, a transient less, COPY/ADD'd files, a replaced
    and a chmodded packaged file (tests/fixtures/debian_worked.py)."""
    return built_image("debian_worked")


@pytest.fixture(scope="session")
def node_image() -> Path:
    """A real image whose node_modules trees npm laid out (tests/fixtures/node_image.py)."""
    return built_image("node_image")
