"""Comparing two images: shared layers by diff_id and merged-tree differences."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import SAMPLES
from imagegen import build, d, file, hard, sym

from layerscope.api import load
from layerscope.cli import main
from layerscope.compare import compare

BASE = [[d("etc"), file("etc/os", "base"), file("bin/sh", b"s" * 100)]]


def _pair(tmp_path: Path) -> tuple[str, str]:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    a = build(
        tmp_path / "a",
        [*BASE, [d("app"), file("app/x", "one"), file("app/gone", b"g" * 9), file("app/mode", "m"), sym("app/l", "x")]],
    )
    b = build(
        tmp_path / "b",
        [
            *BASE,
            [
                d("app"),
                file("app/x", "two!"),
                file("app/mode", "m", mode=0o600),
                sym("app/l", "y"),
                file("app/new", b"n" * 20),
                hard("app/new2", "app/new"),
            ],
        ],
    )
    return a, b


def test_compare_layers_and_paths(tmp_path: Path) -> None:
    a, b = _pair(tmp_path)
    c = compare(load(a), load(b))
    assert c.shared_prefix == 1 and [(m.a, m.b) for m in c.shared] == [(0, 0)]
    assert c.only_a == [1] and c.only_b == [1]
    kinds = {p.path: (p.kind, p.what) for p in c.paths}
    assert kinds == {
        "/app/gone": ("removed", []),
        "/app/new": ("added", []),
        "/app/new2": ("added", []),
        "/app/x": ("changed", ["content"]),
        "/app/mode": ("changed", ["mode"]),
        "/app/l": ("changed", ["link"]),
    }
    t = c.totals()
    assert t["added_bytes"] == 20  # hardlinked content once
    assert t["removed_bytes"] == 9 and t["changed_bytes_delta"] == 1


def test_identical_images(tmp_path: Path) -> None:
    c = compare(load(str(SAMPLES / "sample-docker.tar")), load(str(SAMPLES / "sample-oci-zstd.tar")))
    assert c.shared_prefix == 7 and not c.paths and not c.only_a and not c.only_b


def test_cli_diff(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a, b = _pair(tmp_path)
    assert main(["diff", a, b]) == 0
    out = capsys.readouterr().out
    assert "Shared layers: 1 (1 leading)" in out
    assert "+ /app/new  file  20 B" in out and "- /app/gone" in out and "~ /app/x" in out
    assert main(["diff", a, b, "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["schema"] == "layerscope.diff/1" and doc["totals"]["added"] == 2
    assert main(["diff", a, str(tmp_path / "nope")]) == 2
