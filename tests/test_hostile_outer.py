"""Hostile and broken outer files, manifest.json and image configs (issue #6).

Every case must end as one clear LayerscopeError naming what is wrong, or as a
loaded image with a visible warning; never a traceback, hang or stray write.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import tarfile
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import pytest
from imagegen import (
    config_for,
    d,
    docker_archive,
    file,
    layer_tar,
    load_outcome,
    member,
    oci_blobs,
    oci_index,
    raw_tar,
    run_cli,
    sha,
    tar_header,
)

from layerscope.merge import Merged


def expect_error(path: str | Path, *needles: str, **kw: Any) -> str:
    kind, msg = load_outcome(str(path), **kw)
    assert kind == "error", f"expected an error, got a loaded image with warnings {msg.image.messages()}"
    assert "\n" not in msg
    for n in needles:
        assert n in msg, f"{n!r} not in {msg!r}"
    return msg


def expect_loaded(path: str | Path, *needles: str, **kw: Any) -> Merged:
    kind, m = load_outcome(str(path), **kw)
    assert kind == "ok", f"expected a loaded image, got error {m!r}"
    text = "\n".join(m.image.messages())
    for n in needles:
        assert n in text, f"{n!r} not in warnings {m.image.messages()}"
    return m


def simple_layers() -> list[bytes]:
    return [layer_tar([d("etc"), file("etc/a", "one")]), layer_tar([file("etc/b", "two")])]


def good_docker(tmp_path: Path, **kw: Any) -> str:
    return docker_archive(tmp_path / "image.tar", simple_layers(), **kw)


def repack(src: str, dst: Path, first: list[str] | None = None, edit: Any = None) -> str:
    """Rewrite an archive: chosen members first, optional per-member edits (name, data) -> list."""
    with tarfile.open(src) as tf:
        items = [(m, tf.extractfile(m).read() if m.isfile() else None) for m in tf]  # type: ignore[union-attr]
    if first:
        items.sort(key=lambda it: (it[0].name not in first, first.index(it[0].name) if it[0].name in first else 0))
    with tarfile.open(dst, "w", format=tarfile.USTAR_FORMAT) as out:
        for m, data in items:
            for m2, data2 in edit(m, data) if edit else [(m, data)]:
                if data2 is not None:
                    m2.size = len(data2)
                out.addfile(m2, io.BytesIO(data2) if data2 is not None else None)
    return str(dst)


def offset_of(path: str, name: str) -> int:
    with tarfile.open(path) as tf:
        return tf.getmember(name).offset


# -- outer file --------------------------------------------------------------


def test_empty_file(tmp_path: Path) -> None:
    p = tmp_path / "empty.tar"
    p.write_bytes(b"")
    expect_error(p, "empty file", str(p))


def test_zip_file(tmp_path: Path) -> None:
    p = tmp_path / "image.zip"
    with zipfile.ZipFile(p, "w") as z:
        z.writestr("manifest.json", "[]")
    expect_error(p, "not a tar archive", str(p))


def test_random_bytes(tmp_path: Path) -> None:
    import random

    rnd = random.Random(6)
    p = tmp_path / "random.tar"
    p.write_bytes(bytes(rnd.getrandbits(8) for _ in range(20000)))
    expect_error(p, str(p))


def test_nul_bytes_only(tmp_path: Path) -> None:
    p = tmp_path / "zeros.tar"
    p.write_bytes(bytes(10240))
    expect_error(p, "empty archive")


def test_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    p = tmp_path / "fifo.tar"
    os.mkfifo(p)
    expect_error(p, "not a regular file")


def test_missing_path(tmp_path: Path) -> None:
    expect_error(tmp_path / "nope.tar", "no such file")


def test_truncated_in_a_layer_with_manifest_first(tmp_path: Path) -> None:
    src = good_docker(tmp_path)
    cfg, _ = _names(tmp_path)
    p = repack(src, tmp_path / "mfirst.tar", first=["manifest.json", cfg])
    with tarfile.open(p) as tf:
        last = [m for m in tf if m.name.endswith("layer.tar")][-1]
    data = Path(p).read_bytes()[: last.offset_data + 700]
    cut = tmp_path / "cut.tar"
    cut.write_bytes(data)
    m = expect_loaded(cut, "is truncated", "layer 1 is damaged")
    assert "/etc/a" in {e.path for e in m.files_at(m.top)}  # the rest still shows


def test_truncated_before_manifest_names_the_truncation(tmp_path: Path) -> None:
    src = good_docker(tmp_path)
    cut = tmp_path / "cut.tar"
    cut.write_bytes(Path(src).read_bytes()[:1500])
    msg = expect_error(cut, "the archive is truncated: it ends inside member ")
    assert "not a container image" not in msg  # the cut is the cause, not the image's shape


def test_bad_header_checksum_first_member(tmp_path: Path) -> None:
    p = tmp_path / "bad.tar"
    p.write_bytes(raw_tar(member("manifest.json", b"[]", checksum=1)))
    expect_error(p, "not a tar archive")


def test_bad_header_checksum_later_member_is_a_warning(tmp_path: Path) -> None:
    src = repack(good_docker(tmp_path), tmp_path / "mfirst.tar", first=["manifest.json"])
    with tarfile.open(src) as tf:
        names = [m.name for m in tf]
    cfg = next(n for n in names if n.endswith(".json") and n != "manifest.json")
    src = repack(src, tmp_path / "ordered.tar", first=["manifest.json", cfg])
    data = bytearray(Path(src).read_bytes())
    off = offset_of(src, [n for n in names if n.endswith("layer.tar")][-1])
    data[off + 148 : off + 156] = b"0000001\0"
    p = tmp_path / "badsum.tar"
    p.write_bytes(bytes(data))
    expect_loaded(p, "bad tar header at offset", "layer 1 is damaged")


def test_missing_end_of_archive_zeros_is_fine(tmp_path: Path) -> None:
    src = good_docker(tmp_path)
    with tarfile.open(src) as tf:
        end = max(m.offset_data + m.size + (-m.size % 512) for m in tf)
    p = tmp_path / "noend.tar"
    p.write_bytes(Path(src).read_bytes()[:end])
    m = expect_loaded(p)
    assert not m.image.messages()


def test_dot_slash_member_names_are_fine(tmp_path: Path) -> None:
    def dot(m: tarfile.TarInfo, data: bytes | None) -> list[Any]:
        m.name = "./" + m.name
        return [(m, data)]

    p = repack(good_docker(tmp_path), tmp_path / "dot.tar", edit=dot)
    m = expect_loaded(p)
    assert not m.image.messages() and len(m.image.layers) == 2


def _link_layer(tmp_path: Path, target: str) -> str:
    layers = simple_layers()
    src = docker_archive(tmp_path / "image.tar", layers)

    def relink(m: tarfile.TarInfo, data: bytes | None) -> list[Any]:
        if m.name.endswith("layer.tar") and m.name != _first[0]:
            m.type = tarfile.SYMTYPE
            m.linkname = target
            return [(m, None)]
        return [(m, data)]

    with tarfile.open(src) as tf:
        _first = [next(x.name for x in tf if x.name.endswith("layer.tar"))]
    return repack(src, tmp_path / "linked.tar", edit=relink)


def test_symlinked_layer_member_cycle(tmp_path: Path) -> None:
    p = _link_layer(tmp_path, "layer.tar")  # points at itself
    expect_loaded(p, "layer 1 is damaged", "link cycle")


def test_symlinked_layer_member_escaping_the_archive(tmp_path: Path) -> None:
    expect_loaded(_link_layer(tmp_path, "../../../../etc/passwd"), "layer 1 is damaged", "escapes the archive")
    expect_loaded(_link_layer(tmp_path / "..", "/etc/passwd"), "escapes the archive")


def test_two_manifest_json(tmp_path: Path) -> None:
    src = good_docker(tmp_path)

    def twice(m: tarfile.TarInfo, data: bytes | None) -> list[Any]:
        if m.name == "manifest.json":
            return [(tarfile.TarInfo(m.name), b"[]"), (m, data)]
        return [(m, data)]

    p = repack(src, tmp_path / "two.tar", edit=twice)
    expect_loaded(p, "manifest.json", "more than once")


def test_compressed_outer_archive_and_temp_cleanup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    src = good_docker(tmp_path)
    gz = tmp_path / "image.tar.gz"
    gz.write_bytes(gzip.compress(Path(src).read_bytes()))
    expect_loaded(gz)
    broken = tmp_path / "broken.tar.gz"
    broken.write_bytes(gz.read_bytes()[:-100] + b"x" * 100)
    expect_error(broken, str(broken))
    short = tmp_path / "short.tar.gz"
    short.write_bytes(gz.read_bytes()[:300])
    expect_error(short, "truncated")
    import gc

    gc.collect()
    assert list(tmp.iterdir()) == []  # nothing left behind, nothing written elsewhere


# -- manifest.json -------------------------------------------------------------


def _docker_with_manifest(tmp_path: Path, manifest: Any) -> str:
    raw = manifest if isinstance(manifest, bytes) else None
    p = docker_archive(tmp_path / "image.tar", simple_layers(), manifest=manifest if raw is None else [])
    if raw is not None:

        def swap(m: tarfile.TarInfo, data: bytes | None) -> list[Any]:
            return [(m, raw if m.name == "manifest.json" else data)]

        p = repack(p, tmp_path / "swapped.tar", edit=swap)
    return p


def _names(tmp_path: Path) -> tuple[str, list[str]]:
    p = good_docker(tmp_path / "..")
    with tarfile.open(p) as tf:
        man = json.load(tf.extractfile("manifest.json"))  # type: ignore[arg-type]
    return man[0]["Config"], man[0]["Layers"]


def test_manifest_missing(tmp_path: Path) -> None:
    p = tmp_path / "x.tar"
    p.write_bytes(raw_tar(member("hello.txt", b"hi")))
    expect_error(p, "not a container image", "no manifest.json")


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (b"{not json", "not valid JSON"),
        (b"\xff\xfe\x00garbage", "not valid JSON"),
        (b"[" * 100000 + b"]" * 100000, "nested too deeply"),
        (b"[]", "lists no images"),
        (b"42", "not a list"),
        (b'"text"', "not a list"),
        (b"[1, 2, null]", "lists no images"),
        (b'[{"Config": 5, "Layers": []}]', "no Config"),
        (b'[{"Config": "x.json", "Layers": "a/layer.tar"}]', "no valid Layers"),
        (b'[{"Config": "x.json", "Layers": [1, 2]}]', "no valid Layers"),
        (b'[{"Config": "missing.json", "Layers": []}]', "missing.json"),
        (b'[{"Config": "../../etc/passwd", "Layers": []}]', "etc/passwd"),
    ],
)
def test_manifest_broken(tmp_path: Path, content: bytes, needle: str) -> None:
    p = _docker_with_manifest(tmp_path, content)
    msg = expect_error(p, needle)
    assert "manifest" in msg or "config" in msg or "Config" in msg or "missing" in msg or "passwd" in msg


def test_manifest_oversize(tmp_path: Path) -> None:
    big = b"[" + b" " * (17 << 20) + b"]"
    expect_error(_docker_with_manifest(tmp_path, big), "manifest.json", "limit")


def test_manifest_wrong_types_in_optional_fields(tmp_path: Path) -> None:
    cfg, layers = _names(tmp_path)
    man = [{"Config": cfg, "Layers": layers, "RepoTags": 5, "LayerSources": [1], "Extra": {"x": [None]}}]
    expect_loaded(_docker_with_manifest(tmp_path, man))
    man = [{"Config": cfg, "Layers": layers, "RepoTags": [[1], {"a": 2}], "LayerSources": {"x": 3}}]
    expect_loaded(_docker_with_manifest(tmp_path, man))


def test_several_images_warn_and_list(tmp_path: Path) -> None:
    cfg, layers = _names(tmp_path)
    man = [
        {"Config": cfg, "Layers": layers, "RepoTags": ["one:1"]},
        {"Config": cfg, "Layers": layers[:1], "RepoTags": ["two:2"]},
    ]
    p = _docker_with_manifest(tmp_path, man)
    expect_loaded(p, "2 images", "one:1", "two:2", "--image")
    m = expect_loaded(p, image_ref="two:2")
    assert len(m.image.layers) == 1
    expect_error(p, "no image 'three'", "one:1", "two:2", image_ref="three")


def test_layer_missing_is_a_damaged_layer(tmp_path: Path) -> None:
    cfg, layers = _names(tmp_path)
    man = [{"Config": cfg, "Layers": [layers[0], "0" * 64 + "/layer.tar"]}]
    m = expect_loaded(_docker_with_manifest(tmp_path, man), "layer 1 is damaged", "missing")
    assert "/etc/a" in {e.path for e in m.files_at(m.top)}


def test_layer_paths_with_dotdot_and_absolute_stay_inside(tmp_path: Path) -> None:
    cfg, layers = _names(tmp_path)
    man = [{"Config": "/" + cfg, "Layers": ["../../" + layers[0], "/" + layers[1]]}]
    m = expect_loaded(_docker_with_manifest(tmp_path, man))  # resolved inside the archive, never on the host
    assert len(m.image.layers) == 2 and not any(la.error for la in m.image.layers)
    man = [{"Config": cfg, "Layers": ["../../../../../../etc/passwd"]}]
    expect_loaded(_docker_with_manifest(tmp_path, man), "layer 0 is damaged", "etc/passwd")


# -- image config ----------------------------------------------------------------


def _docker_with_config(tmp_path: Path, config: Any, layers: list[bytes] | None = None) -> str:
    layers = simple_layers() if layers is None else layers
    if isinstance(config, bytes):
        p = docker_archive(tmp_path / "image.tar", layers)
        with tarfile.open(p) as tf:
            cfg_name = json.load(tf.extractfile("manifest.json"))[0]["Config"]  # type: ignore[arg-type]

        def swap(m: tarfile.TarInfo, data: bytes | None) -> list[Any]:
            return [(m, config if m.name == cfg_name else data)]

        return repack(p, tmp_path / "cfg.tar", edit=swap)
    return docker_archive(tmp_path / "image.tar", layers, config=config)


@pytest.mark.parametrize("content", [b"{oops", b"[" * 50000, b"[1,2]", b"null", b"\x00" * 10])
def test_config_invalid(tmp_path: Path, content: bytes) -> None:
    expect_error(_docker_with_config(tmp_path, content), "config")


def test_config_diff_ids_more_or_fewer(tmp_path: Path) -> None:
    layers = simple_layers()
    cfg = config_for(layers)
    cfg["rootfs"]["diff_ids"].append("sha256:" + "1" * 64)
    expect_loaded(_docker_with_config(tmp_path, cfg, layers), "3 diff_ids", "2 layers")
    cfg = config_for(layers)
    cfg["rootfs"]["diff_ids"] = cfg["rootfs"]["diff_ids"][:1]
    expect_loaded(_docker_with_config(tmp_path, cfg, layers), "1 diff_ids", "2 layers")
    cfg = config_for(layers)
    cfg["rootfs"] = {"diff_ids": "nope"}
    expect_loaded(_docker_with_config(tmp_path, cfg, layers), "0 diff_ids")


def test_config_history_does_not_match(tmp_path: Path) -> None:
    layers = simple_layers()
    cfg = config_for(layers, history=[{"created_by": "only one"}, {"empty_layer": True}, 5])
    expect_loaded(_docker_with_config(tmp_path, cfg, layers), "history lists 1")
    cfg = config_for(layers, history=[{"created_by": f"step {i}"} for i in range(5)])
    expect_loaded(_docker_with_config(tmp_path, cfg, layers), "history lists 5")
    cfg = config_for(layers, history={"not": "a list"})
    expect_loaded(_docker_with_config(tmp_path, cfg, layers))


def test_config_wrong_types(tmp_path: Path) -> None:
    layers = simple_layers()
    cfg = config_for(layers)
    cfg.update(
        {
            "os": ["linux"],
            "architecture": {"x": 1},
            "created": 5,
            "config": {"Env": "A=b", "Cmd": 7, "Labels": [1], "ExposedPorts": ["80"], "Volumes": 3, "User": ["x"]},
        }
    )
    expect_loaded(_docker_with_config(tmp_path, cfg, layers))


def test_zero_layers(tmp_path: Path) -> None:
    p = docker_archive(tmp_path / "image.tar", [], config=config_for([], history=[]))
    m = expect_loaded(p)
    assert m.image.layers == ()
    code, _out, err = run_cli("report", p)
    assert code != 0 and err.startswith("layerscope: error:") and "no layers" in err


# -- Docker 25+: manifest.json beside index.json ------------------------------------


def _docker25(tmp_path: Path, disagree: bool) -> str:
    layers = simple_layers()
    blobs, desc = oci_blobs(layers, compress="none")
    other_blobs, other_desc = oci_blobs([layer_tar([file("other")])], compress="none")
    manifest = json.loads(blobs[desc["digest"]])
    man_json = [
        {
            "Config": "blobs/sha256/" + manifest["config"]["digest"].split(":")[1],
            "RepoTags": ["d25:1"],
            "Layers": ["blobs/sha256/" + x["digest"].split(":")[1] for x in manifest["layers"]],
        }
    ]
    if disagree:
        blobs.update(other_blobs)
    index = oci_index([other_desc if disagree else desc])
    p = tmp_path / "d25.tar"
    with tarfile.open(p, "w") as tf:
        for dg, data in sorted(blobs.items()):
            info = tarfile.TarInfo("blobs/sha256/" + dg.split(":")[1])
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
        for name, data in (
            ("oci-layout", b'{"imageLayoutVersion": "1.0.0"}'),
            ("index.json", json.dumps(index).encode()),
            ("manifest.json", json.dumps(man_json).encode()),
        ):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return str(p)


def test_docker25_agreeing_has_no_warning(tmp_path: Path) -> None:
    m = expect_loaded(_docker25(tmp_path, False))
    assert not m.image.messages()


def test_docker25_disagreeing_index_warns(tmp_path: Path) -> None:
    expect_loaded(_docker25(tmp_path, True), "manifest.json and index.json describe different images")


def test_docker25_broken_index_warns(tmp_path: Path) -> None:
    p = _docker25(tmp_path, False)

    def broken(m: tarfile.TarInfo, data: bytes | None) -> list[Any]:
        return [(m, b'{"manifests": [{"digest": ["x"], "mediaType": []}]}' if m.name == "index.json" else data)]

    expect_loaded(repack(p, tmp_path / "b.tar", edit=broken), "index.json beside manifest.json is unusable")


def test_outer_tar_with_hostile_headers(tmp_path: Path) -> None:
    """pax and GNU extensions in the outer archive are bounded too."""
    src = good_docker(tmp_path)
    data = Path(src).read_bytes()
    huge_pax = tar_header("PaxHeader", size=64 << 20, flag=b"x")
    p = tmp_path / "pax.tar"
    with tarfile.open(src) as tf:
        end = max(m.offset_data + m.size + (-m.size % 512) for m in tf)
    p.write_bytes(data[:end] + huge_pax + bytes(1 << 20))
    expect_loaded(p, "extension header of")
    hashlib.sha256(sha(b"").encode())  # keep imports used
