"""The merged tree of each real sample image equals what `umoci unpack` produced.

The expected listings were computed once by sample_images/build.sh from real
unpacked root filesystems; here the model must reproduce them, for every layer.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys

import pytest
from conftest import SAMPLE_IMAGES, SAMPLES

from layerscope.api import load
from layerscope.merge import Merged
from layerscope.model import Entry

_spec = importlib.util.spec_from_file_location("listing", SAMPLES / "listing.py")
assert _spec and _spec.loader
listing = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(listing)

_cache: dict[str, Merged] = {}


def sample(name: str) -> Merged:
    if name not in _cache:
        _cache[name] = load(str(SAMPLES / name))
    return _cache[name]


def model_listing(m: Merged, k: int) -> list[str]:
    lines = []
    for e in m.files_at(k):
        t = "file" if e.type == "hardlink" else e.type
        lines.append(
            listing.format_line(
                e.path,
                t,
                e.mode,
                e.uid,
                e.gid,
                e.size if t == "file" else None,
                e.digest_str if t == "file" else None,
                e.link if t == "symlink" else None,
            )
        )
    return sorted(lines)


@pytest.mark.parametrize("name", SAMPLE_IMAGES)
def test_each_layer_matches_umoci(name: str) -> None:
    m = sample(name)
    stem = name.removesuffix(".tar")
    assert len(m.image.layers) == 7
    for k in range(len(m.image.layers)):
        expected = (SAMPLES / f"{stem}.L{k}.expected.txt").read_text().splitlines()
        assert model_listing(m, k) == sorted(expected), f"layer {k}"
    top = (SAMPLES / f"{stem}.expected.txt").read_text().splitlines()
    assert model_listing(m, m.top) == sorted(top)


@pytest.mark.parametrize("name", SAMPLE_IMAGES)
def test_sample_loads_clean_and_verified(name: str) -> None:
    m = sample(name)
    img = m.image
    assert img.messages() == []
    for la in img.layers:
        assert la.error is None
        assert la.computed_diff_id == la.diff_id
    assert img.platform == "linux/amd64"
    assert {"oci": "oci-archive", "doc": "docker-archive"}[name[7:10]] == img.format
    comp = {la.compression for la in img.layers}
    assert (
        comp == {"sample-docker.tar": {"none"}, "sample-oci-gzip.tar": {"gzip"}, "sample-oci-zstd.tar": {"zstd"}}[name]
    )


def test_history_maps_empty_layers() -> None:
    img = sample("sample-docker.tar").image
    assert len(img.history) == 14
    empties = [h for h in img.history if h.empty_layer]
    assert len(empties) == 7 and all(h.layer is None for h in empties)
    layered = [h.layer for h in img.history if not h.empty_layer]
    assert layered == list(range(7))
    assert "busybox" in img.layers[0].command


def _top(name: str = "sample-docker.tar") -> dict[str, Entry]:
    m = sample(name)
    return {e.path: e for e in m.files_at(m.top)}


def test_change_classes_on_real_layers() -> None:
    m = sample("sample-docker.tar")
    top = _top()
    assert top["/app/config.txt"].change == "modified" and top["/app/config.txt"].layer == 4
    assert top["/etc/motd"].change == "metadata" and top["/etc/motd"].mode == 0o600
    assert top["/app/data.bin"].change == "metadata"
    assert top["/etc/group"].change == "rewritten"
    assert top["/app/hello.py"].change == "rewritten"
    assert top["/var/lib/thing"].change == "type-changed" and top["/var/lib/thing"].type == "dir"
    assert top["/data/dirtofile"].change == "type-changed" and top["/data/dirtofile"].type == "file"
    assert top["/usr/local/bin/suid-helper"].mode == 0o4755
    assert top["/usr/local/bin/hello"].type == "symlink"
    hl = [e for e in top.values() if e.type == "hardlink"]
    assert hl and all(e.digest == e.data_entry.digest and e.data_entry.type == "file" for e in hl)
    c4 = m.image.layers[4].counts
    assert (c4.modified, c4.metadata, c4.rewritten) == (1, 2, 2)


def test_version_stacks_and_hidden_secret() -> None:
    m = sample("sample-docker.tar")
    top = _top()
    cfg = top["/app/config.txt"]
    below = m.versions_below(cfg)
    assert [v.layer for v in below] == [2]
    assert below[0].digest != cfg.digest
    hidden = {d.path: (d.layer, d.how, [v.layer for v in vs]) for d, vs in m.hidden_at(m.top)}
    assert hidden["/root/.aws/credentials"] == (5, "whiteout", [3])
    assert hidden["/srv/old/sub/b.txt"][1] == "whiteout"
    assert hidden["/opt/cache/one.txt"][1] == "opaque"
    assert hidden["/data/dirtofile/x.txt"][1] == "replaced"


def test_report_json_document() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "layerscope", "report", "--json", str(SAMPLES / "sample-oci-gzip.tar")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    doc = json.loads(out)
    assert doc["schema"] == "layerscope.report/1"
    img = doc["image"]
    for key in (
        "source",
        "format",
        "ref",
        "platform",
        "config_digest",
        "layer_count",
        "size_bytes",
        "history",
        "warnings",
    ):
        assert key in img
    assert img["format"] == "oci-archive" and img["layer_count"] == 7
    assert img["size_bytes"] == sum(la["size_bytes"] for la in doc["layers"])
    keys = {
        "index",
        "digest",
        "diff_id",
        "media_type",
        "compressed_bytes",
        "size_bytes",
        "command",
        "entries",
        "added",
        "modified",
        "metadata",
        "rewritten",
        "type_changed",
        "deleted",
    }
    assert all(keys <= set(la) for la in doc["layers"])
    assert doc["layers"][0]["media_type"].endswith("+gzip")
    files = {f["path"]: f for f in doc["files"]}
    assert "/" not in files
    cfg = files["/app/config.txt"]
    assert cfg["type"] == "file" and cfg["layer"] == 4 and cfg["change"] == "modified"
    assert cfg["digest"].startswith("sha256:") and cfg["versions"][0]["layer"] == 2
    assert files["/usr/local/bin/suid-helper"]["mode"] == 0o4755
    hidden = {h["path"]: h for h in doc["hidden"]}
    assert hidden["/root/.aws/credentials"]["deleted_in"] == 5
    assert hidden["/root/.aws/credentials"]["how"] == "whiteout"


def test_report_json_as_of_layer() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "layerscope", "report", "--json", "--layer", "3", str(SAMPLES / "sample-docker.tar")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    doc = json.loads(out)
    files = {f["path"]: f for f in doc["files"]}
    assert files["/root/.aws/credentials"]["layer"] == 3
    assert "/app/NEWS.txt" not in files
