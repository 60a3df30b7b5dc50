"""The `layerscope.report/1` document is a public interface: today's engine
writes, byte for byte, what the engine before the Rust merge wrote."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import SAMPLES
from imagegen import run_cli

GOLDEN = Path(__file__).parent / "golden"


@pytest.mark.parametrize("name", ["sample-docker", "multistage-oci"])
def test_report_json_is_what_the_old_engine_wrote(name: str) -> None:
    rc, out, err = run_cli("report", str(SAMPLES / f"{name}.tar"), "--json")
    assert rc == 0, err
    # The document names the file as given: the golden was recorded from /work/main.
    here = str(SAMPLES / f"{name}.tar")
    want = (GOLDEN / f"{name}.report.json").read_text()
    assert out == want.replace(f"/work/main/sample_images/{name}.tar", here)
