"""Hostile and broken OCI layouts and archives (issue #6)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from imagegen import config_for, d, file, layer_tar, oci_blobs, oci_index, sha, write_oci_archive, write_oci_layout
from test_hostile_outer import expect_error, expect_loaded


def layers() -> list[bytes]:
    return [layer_tar([d("etc"), file("etc/a", "one")]), layer_tar([file("etc/b", "two")])]


def layout(tmp_path: Path, **kw: Any) -> tuple[Path, dict[str, bytes], dict[str, Any]]:
    blobs, desc = oci_blobs(layers(), **kw)
    root = Path(write_oci_layout(tmp_path / "layout", blobs, oci_index([desc])))
    return root, blobs, desc


def blob_path(root: Path, digest: str) -> Path:
    return root / "blobs" / "sha256" / digest.split(":")[1]


def manifest_of(blobs: dict[str, bytes], desc: dict[str, Any]) -> dict[str, Any]:
    return json.loads(blobs[desc["digest"]])


def put_blob(root: Path, obj: Any) -> dict[str, Any]:
    data = obj if isinstance(obj, bytes) else json.dumps(obj).encode()
    blob_path(root, sha(data)).write_bytes(data)
    return {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": sha(data), "size": len(data)}


def set_index(root: Path, index: Any) -> None:
    (root / "index.json").write_bytes(index if isinstance(index, bytes) else json.dumps(index).encode())


def test_good_layout_has_no_warnings(tmp_path: Path) -> None:
    root, _, _ = layout(tmp_path)
    assert not expect_loaded(root).image.messages()


def test_oci_layout_file_missing_or_bad(tmp_path: Path) -> None:
    root, _, _ = layout(tmp_path)
    (root / "oci-layout").unlink()
    expect_loaded(root, "oci-layout file is missing")
    (root / "oci-layout").write_text("{nope")
    expect_loaded(root, "oci-layout is not valid JSON")
    (root / "oci-layout").write_text('{"other": 1}')
    expect_loaded(root, "no imageLayoutVersion")
    (root / "oci-layout").write_text("[" * 4000)
    expect_loaded(root, "oci-layout is not valid JSON")


@pytest.mark.parametrize(
    ("index", "needle"),
    [
        (None, "not a container image"),
        (b"{bad", "not valid JSON"),
        (b"[]", "not a JSON object"),
        (b"{}", "lists no image manifests"),
        (b'{"manifests": []}', "lists no image manifests"),
        (b'{"manifests": {"a": 1}}', "not a list"),
        (b'{"manifests": [1, "x", null]}', "lists no image manifests"),
        (b'{"manifests": [{"digest": "sha256:xyz"}]}', "invalid digest"),
        (b'{"manifests": [{"digest": ["sha256:00"]}]}', "invalid digest"),
        (b'{"manifests": [{"digest": "md5:abc"}]}', "invalid digest"),
        (b'{"manifests": [{"digest": "sha256:' + b"0" * 64 + b'"}]}', "missing"),
        (b'{"manifests": [{"digest": "sha256:../../../../etc/passwd"}]}', "invalid digest"),
    ],
)
def test_index_broken(tmp_path: Path, index: bytes | None, needle: str) -> None:
    root, _, _ = layout(tmp_path)
    if index is None:
        (root / "index.json").unlink()
    else:
        set_index(root, index)
    expect_error(root, needle)


def test_index_oversize(tmp_path: Path) -> None:
    root, _, _ = layout(tmp_path)
    set_index(root, b'{"manifests": [' + b" " * (17 << 20) + b"]}")
    expect_error(root, "index.json", "limit")


def test_no_matching_platform_lists_choices(tmp_path: Path) -> None:
    root = tmp_path / "layout"
    descs = []
    all_blobs: dict[str, bytes] = {}
    for arch in ("amd64", "arm64"):
        cfg = config_for(layers())
        cfg["architecture"] = arch
        blobs, desc = oci_blobs(layers(), config=cfg)
        desc["platform"] = {"os": "linux", "architecture": arch}
        all_blobs.update(blobs)
        descs.append(desc)
    write_oci_layout(root, all_blobs, oci_index(descs))
    expect_error(root, "no image for platform linux/s390x", "linux/amd64", "linux/arm64", platform="linux/s390x")
    m = expect_loaded(root, platform="linux/arm64")
    assert m.image.platform == "linux/arm64"


def test_index_nested_too_deep(tmp_path: Path) -> None:
    root, _, desc = layout(tmp_path)
    cur = desc
    for _ in range(12):
        cur = put_blob(root, oci_index([cur]))
        cur["mediaType"] = "application/vnd.oci.image.index.v1+json"
    set_index(root, oci_index([cur]))
    expect_error(root, "nested deeper than")


def test_index_cycle(tmp_path: Path) -> None:
    root, _, _ = layout(tmp_path)
    fake = "sha256:" + "ab" * 32
    body = oci_index([{"mediaType": "application/vnd.oci.image.index.v1+json", "digest": fake, "size": 10}])
    blob_path(root, fake).write_text(json.dumps(body))  # a blob naming itself (its digest is a lie)
    set_index(root, body)
    expect_error(root, "cycle")


def test_index_fan_out_is_bounded(tmp_path: Path) -> None:
    root, _, desc = layout(tmp_path)
    inner = put_blob(root, oci_index([desc] * 60))
    inner["mediaType"] = "application/vnd.oci.image.index.v1+json"
    mid = put_blob(root, oci_index([inner] * 60))
    mid["mediaType"] = "application/vnd.oci.image.index.v1+json"
    set_index(root, oci_index([mid] * 60))  # 216,000 paths to one manifest
    expect_error(root, "over 1000 manifests")


def test_ambiguous_manifests_warn(tmp_path: Path) -> None:
    root, _blobs, desc = layout(tmp_path)
    b2, desc2 = oci_blobs([layer_tar([file("other")])])
    write_oci_layout(root, b2, oci_index([desc, desc2]))
    expect_loaded(root, "2 manifests match; showing the first")


def test_blob_digest_mismatch(tmp_path: Path) -> None:
    root, blobs, desc = layout(tmp_path)
    layer_desc = manifest_of(blobs, desc)["layers"][1]
    p = blob_path(root, layer_desc["digest"])
    import gzip

    p.write_bytes(gzip.compress(layer_tar([file("etc/b", "TWO")])))
    expect_loaded(root, "blob digest mismatch", "diff_id mismatch")
    mp = blob_path(root, desc["digest"])
    mp.write_bytes(mp.read_bytes() + b" ")
    expect_loaded(root, "does not match its digest")


def _edit_manifest(root: Path, blobs: dict[str, bytes], desc: dict[str, Any], fn: Any) -> None:
    man = manifest_of(blobs, desc)
    fn(man)
    set_index(root, oci_index([put_blob(root, man)]))


@pytest.mark.parametrize(
    ("size", "needle"),
    [(5, "descriptor says 5 bytes"), (-1, "invalid size -1"), (10**30, "descriptor says"), ("12", "invalid size")],
)
def test_descriptor_size_wrong(tmp_path: Path, size: Any, needle: str) -> None:
    root, blobs, desc = layout(tmp_path)

    def fn(man: dict[str, Any]) -> None:
        man["layers"][0]["size"] = size

    _edit_manifest(root, blobs, desc, fn)
    m = expect_loaded(root, needle)
    assert not any(la.error for la in m.image.layers)


def test_manifest_layers_wrong_types(tmp_path: Path) -> None:
    root, blobs, desc = layout(tmp_path)
    _edit_manifest(root, blobs, desc, lambda man: man.update(layers="x"))
    expect_error(root, "not a list")
    _edit_manifest(root, blobs, desc, lambda man: man.update(layers=[5]))
    expect_error(root, "layer descriptor 0 is not an object")
    _edit_manifest(root, blobs, desc, lambda man: man.update(config=[]))
    expect_error(root, "no config descriptor")
    _edit_manifest(root, blobs, desc, lambda man: man["layers"][0].update(mediaType=["x"], annotations=5))
    expect_loaded(root)


def test_zero_layers_oci(tmp_path: Path) -> None:
    root, blobs, desc = layout(tmp_path)
    _edit_manifest(root, blobs, desc, lambda man: man.update(layers=[]))
    expect_loaded(root, "config lists 2 diff_ids but the manifest lists 0 layers")


def test_config_blob_missing_or_special(tmp_path: Path) -> None:
    root, blobs, desc = layout(tmp_path)
    cfg = blob_path(root, manifest_of(blobs, desc)["config"]["digest"])
    cfg.unlink()
    expect_error(root, "missing")
    os.mkfifo(cfg)
    expect_error(root, "not a regular file")
    cfg.unlink()
    cfg.symlink_to("/dev/zero")
    expect_error(root, "outside the image directory")


def _layer_blob(root: Path, blobs: dict[str, bytes], desc: dict[str, Any], i: int = 1) -> Path:
    return blob_path(root, manifest_of(blobs, desc)["layers"][i]["digest"])


def test_layer_blob_missing(tmp_path: Path) -> None:
    root, blobs, desc = layout(tmp_path)
    _layer_blob(root, blobs, desc).unlink()
    m = expect_loaded(root, "layer 1 is damaged", "missing")
    assert "/etc/a" in {e.path for e in m.files_at(m.top)}


@pytest.mark.parametrize("kind", ["outside", "devzero", "fifo", "dir", "loop"])
def test_layer_blob_special_files(tmp_path: Path, kind: str) -> None:
    root, blobs, desc = layout(tmp_path)
    p = _layer_blob(root, blobs, desc)
    p.unlink()
    if kind == "outside":
        secret = tmp_path / "secret"
        secret.write_bytes(layer_tar([file("stolen", "x")]))
        p.symlink_to(secret)
    elif kind == "devzero":
        p.symlink_to("/dev/zero")
    elif kind == "fifo":
        os.mkfifo(p)
    elif kind == "dir":
        p.mkdir()
    else:
        p.symlink_to(p.name)
    m = expect_loaded(root, "layer 1 is damaged")
    assert m.image.layers[1].error
    assert "/stolen" not in {e.path for e in m.files_at(m.top)}


def test_media_type_lies_about_compression(tmp_path: Path) -> None:
    root, blobs, desc = layout(tmp_path, compress="zstd")

    def fn(man: dict[str, Any]) -> None:
        man["layers"][0]["mediaType"] = "application/vnd.oci.image.layer.v1.tar+gzip"

    _edit_manifest(root, blobs, desc, fn)
    m = expect_loaded(root, "says gzip but the blob is zstd")
    assert m.image.layers[0].compression == "zstd" and not m.image.layers[0].error


def test_oci_archive_blob_symlinks(tmp_path: Path) -> None:
    """In an archive, blob symlinks are resolved inside the archive, never on the host."""
    import io
    import tarfile

    blobs, desc = oci_blobs(layers())
    src = write_oci_archive(tmp_path / "oci.tar", blobs, oci_index([desc]))
    target = manifest_of(blobs, desc)["layers"][1]["digest"].split(":")[1]
    out = tmp_path / "linked.tar"
    with tarfile.open(src) as tf, tarfile.open(out, "w") as dst:
        for m in tf:
            if m.name.endswith(target):
                m2 = tarfile.TarInfo(m.name)
                m2.type = tarfile.SYMTYPE
                m2.linkname = "/dev/zero"
                dst.addfile(m2)
            else:
                dst.addfile(m, io.BytesIO(tf.extractfile(m).read()) if m.isfile() else None)  # type: ignore[union-attr]
    expect_loaded(out, "layer 1 is damaged", "escapes the archive")
