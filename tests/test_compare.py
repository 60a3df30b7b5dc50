"""Comparing two images: shared layers by diff_id and merged-tree differences."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import SAMPLES
from imagegen import build, d, file, hard, run_cli, sym

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
    assert main(["diff", a, b]) == 1  # they differ: 1, as diff(1) and cmp
    out = capsys.readouterr().out
    assert "Shared layers: 1 (1 leading)" in out
    assert "+ /app/new  file  20 B" in out and "- /app/gone" in out and "~ /app/x" in out
    assert main(["diff", a, b, "--json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc["schema"] == "layerscope.diff/1" and doc["totals"]["added"] == 2
    assert main(["diff", a, str(tmp_path / "nope")]) == 2


@pytest.mark.parametrize("json_out", [False, True])
def test_diff_exit_status_is_diffs(json_out: bool) -> None:
    """0 same, 1 different, 2 trouble (diff(1), cmp, git diff --exit-code), text or JSON alike."""
    extra = ["--json"] if json_out else []
    docker, zstd = str(SAMPLES / "sample-docker.tar"), str(SAMPLES / "sample-oci-zstd.tar")
    assert run_cli("diff", docker, zstd, *extra)[0] == 0  # the same layers, recompressed
    assert run_cli("diff", docker, docker, *extra)[0] == 0
    # the same merged tree, built from other layers (a multi-stage build and its flattened twin)
    multi, flat = str(SAMPLES / "multistage-docker.tar"), str(SAMPLES / "multistage-flat-docker.tar")
    code, out, _ = run_cli("diff", multi, flat, *extra)
    assert code == 1
    if not json_out:
        assert "only in A: 2; only in B: 1" in out and "Paths: 0 added" in out
    assert run_cli("diff", docker, str(SAMPLES / "multistage-docker.tar"), *extra)[0] == 1
    code, _, err = run_cli("diff", docker, "/nonexistent.tar", *extra)
    assert code == 2 and err.startswith("layerscope: error: ")


def test_diff_shows_both_types_when_the_type_changed(tmp_path: Path) -> None:
    """A's /bin/sh is a symlink, B's a file: `symlink -> file`, not a bare `file`."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    a = build(tmp_path / "a", [[d("bin"), file("bin/busybox", "bb"), sym("bin/sh", "busybox")]])
    b = build(tmp_path / "b", [[d("bin"), file("bin/busybox", "bb"), file("bin/sh", b"#" * 42)]])
    code, out, err = run_cli("diff", a, b)
    assert code == 1, err
    lines = [ln for ln in out.splitlines() if ln.startswith("~ ")]
    assert lines == ["~ /bin/sh  symlink -> file  0 B -> 42 B  [type, mode]"], out
    # and back: the file became a symlink
    code, out, _ = run_cli("diff", b, a)
    assert [ln for ln in out.splitlines() if ln.startswith("~ ")] == [
        "~ /bin/sh  file -> symlink  42 B -> 0 B  [type, mode]"
    ]
    # an unchanged type is named once
    (tmp_path / "a2").mkdir()
    a2 = build(tmp_path / "a2", [[d("bin"), file("bin/busybox", "bb"), file("bin/sh", b"#" * 41)]])
    code, out, _ = run_cli("diff", a2, b)
    assert "~ /bin/sh  file  41 B -> 42 B  [content]" in out.splitlines()
