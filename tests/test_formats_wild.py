"""Image formats found in the wild, and OCI checks that used to be silent (issue #11)."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import re
import tarfile
from pathlib import Path
from typing import Any

import pytest
from imagegen import (
    config_for,
    d,
    file,
    layer_tar,
    oci_blobs,
    oci_index,
    run_cli,
    sha,
    write_oci_layout,
)
from test_hostile_outer import expect_error, expect_loaded

APP = [layer_tar([d("app"), file("app/which", "app")])]
EVIL = [layer_tar([d("app"), file("app/which", "evil")])]
WEB = [layer_tar([d("app"), file("app/which", "web")])]
REF = "org.opencontainers.image.ref.name"
INDEX_MT = "application/vnd.oci.image.index.v1+json"


def _add(tf: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tf.addfile(info, io.BytesIO(data))


def _which(path: str, **kw: Any) -> str:
    """What /app/which holds in the image loaded from path: tells the images apart."""
    from layerscope.content import iter_content

    m = expect_loaded(path, **kw)
    e = m.entry_at("/app/which", m.top)
    assert e is not None
    return b"".join(iter_content(m.image, e)).decode()


# -- manifest.json keys, as docker load reads them --------------------------------


def jib_archive(path: Path, keys: dict[str, str], extra: dict[str, Any] | None = None) -> str:
    """A docker-save-like tar whose manifest.json uses the given spellings of Config/RepoTags/Layers."""
    cfg = json.dumps(config_for(APP)).encode()
    cfg_name = hashlib.sha256(cfg).hexdigest() + ".json"
    layer_name = hashlib.sha256(APP[0]).hexdigest() + ".tar"
    entry: dict[str, Any] = {keys["config"]: cfg_name, keys["tags"]: ["jib/app:2"], keys["layers"]: [layer_name]}
    entry.update(extra or {})
    with tarfile.open(path, "w") as tf:
        _add(tf, cfg_name, cfg)
        _add(tf, layer_name, APP[0])
        _add(tf, "manifest.json", json.dumps([entry]).encode())
    return str(path)


def test_jib_lowercase_manifest_keys(tmp_path: Path) -> None:
    """Jib ≤ 2.2 wrote config/repoTags/layers; docker load accepts them (Go's case-insensitive JSON)."""
    path = jib_archive(tmp_path / "jib.tar", {"config": "config", "tags": "repoTags", "layers": "layers"})
    m = expect_loaded(path)
    assert not m.image.messages()
    assert m.image.ref == "jib/app:2" and len(m.image.layers) == 1 and m.image.format == "docker-archive"
    assert _which(path) == "app"
    assert _which(path, image_ref="jib/app:2") == "app"  # --image finds repoTags too
    code, out, err = run_cli("report", path)
    assert code == 0 and "jib/app:2" in out, err


def test_any_case_and_a_later_key_wins(tmp_path: Path) -> None:
    """CONFIG/RepoTAGS work too; with two spellings the later one counts, as in Go."""
    path = jib_archive(tmp_path / "a.tar", {"config": "CONFIG", "tags": "RepoTAGS", "layers": "LAYERS"})
    assert expect_loaded(path).image.ref == "jib/app:2"
    # "Config" first pointing nowhere, then "config" with the real name: the later key is used.
    cfg_name = hashlib.sha256(json.dumps(config_for(APP)).encode()).hexdigest() + ".json"
    p = tmp_path / "b.tar"
    with tarfile.open(
        jib_archive(tmp_path / "src.tar", {"config": "config", "tags": "RepoTags", "layers": "Layers"})
    ) as src:
        files = {m.name: src.extractfile(m).read() for m in src}  # type: ignore[union-attr]
    man = json.loads(files["manifest.json"])[0]
    entry = {"Config": "missing.json", "config": cfg_name, "RepoTags": man["RepoTags"], "Layers": man["Layers"]}
    files["manifest.json"] = json.dumps([entry]).encode()
    with tarfile.open(p, "w") as tf:
        for name, data in files.items():
            _add(tf, name, data)
    assert _which(str(p)) == "app"


# -- Docker 25.0.0/25.0.1: "manifests": null -----------------------------------------


def docker25_untagged(path: Path, manifests: Any) -> str:
    """docker save of an untagged image by Docker 25.0.0/25.0.1: manifest.json + an index listing nothing."""
    blobs, desc = oci_blobs(APP, compress="none")
    manifest = json.loads(blobs[desc["digest"]])
    man_json = [
        {
            "Config": "blobs/sha256/" + manifest["config"]["digest"].split(":")[1],
            "RepoTags": None,
            "Layers": ["blobs/sha256/" + x["digest"].split(":")[1] for x in manifest["layers"]],
        }
    ]
    with tarfile.open(path, "w") as tf:
        for dg, data in sorted(blobs.items()):
            _add(tf, "blobs/sha256/" + dg.split(":")[1], data)
        _add(tf, "index.json", json.dumps({"schemaVersion": 2, "manifests": manifests}).encode())
        _add(tf, "manifest.json", json.dumps(man_json).encode())
        _add(tf, "oci-layout", b'{"imageLayoutVersion":"1.0.0"}')
    return str(path)


def test_docker25_null_manifests_loads_without_warning(tmp_path: Path) -> None:
    m = expect_loaded(docker25_untagged(tmp_path / "d25.tar", None))
    assert m.image.messages() == [] and m.image.ref is None and len(m.image.layers) == 1
    code, _out, _err = run_cli("ci", str(tmp_path / "d25.tar"), "--no-config", "--forbid", "high")
    assert code == 0
    m = expect_loaded(docker25_untagged(tmp_path / "empty.tar", []))
    assert m.image.messages() == []


def test_oci_layout_with_null_manifests_is_a_clear_error(tmp_path: Path) -> None:
    blobs, _desc = oci_blobs(APP)
    root = write_oci_layout(tmp_path / "layout", blobs, {"schemaVersion": 2, "manifests": None})
    expect_error(root, "index.json lists no image manifests")


# -- ref.name counts only in the top-level index.json --------------------------------


def nested_layout(tmp_path: Path) -> str:
    """index.json: [nested index named app:1, manifest named web:2].

    The nested index holds the app manifest, whose descriptor *inside the nested
    index* carries ``ref.name = web:2``: by the image spec that annotation names
    nothing, so ``--image web:2`` must pick the top-level web image.
    """
    app_blobs, app_desc = oci_blobs(APP)
    web_blobs, web_desc = oci_blobs(WEB)
    app_desc["annotations"] = {REF: "web:2"}  # inside the nested index: not a name
    nested = json.dumps(oci_index([app_desc])).encode()
    blobs = {**app_blobs, **web_blobs, sha(nested): nested}
    top = [
        {"mediaType": INDEX_MT, "digest": sha(nested), "size": len(nested), "annotations": {REF: "app:1"}},
        {**web_desc, "annotations": {REF: "web:2"}},
    ]
    return write_oci_layout(tmp_path / "layout", blobs, oci_index(top))


def test_nested_ref_name_does_not_rename(tmp_path: Path) -> None:
    root = nested_layout(tmp_path)
    assert _which(root, image_ref="web:2") == "web"
    assert _which(root, image_ref="app:1") == "app"
    m = expect_loaded(root, image_ref="app:1")
    assert m.image.ref == "app:1"
    # Without --image: two named images, the choice is announced with both names.
    m = expect_loaded(root, "archive holds 2 images (app:1, web:2)")


def test_nested_name_alone_is_not_a_name(tmp_path: Path) -> None:
    """A layout whose only name sits inside a nested index has no image of that name."""
    blobs, desc = oci_blobs(EVIL)
    desc["annotations"] = {REF: "evil:1"}
    nested = json.dumps(oci_index([desc])).encode()
    blobs[sha(nested)] = nested
    root = write_oci_layout(
        tmp_path / "layout", blobs, oci_index([{"mediaType": INDEX_MT, "digest": sha(nested), "size": len(nested)}])
    )
    expect_error(root, "no image 'evil:1'", image_ref="evil:1")
    assert expect_loaded(root).image.ref is None


# -- oci-layout version and descriptor sizes -----------------------------------------


def layout(tmp_path: Path) -> tuple[Path, dict[str, bytes], dict[str, Any]]:
    blobs, desc = oci_blobs(APP)
    return Path(write_oci_layout(tmp_path / "layout", blobs, oci_index([desc]))), blobs, desc


@pytest.mark.parametrize("version", ["2.0.0", "1.1.0", 1, None])
def test_unknown_layout_version_is_a_warning_naming_the_file(tmp_path: Path, version: Any) -> None:
    root, _, _ = layout(tmp_path)
    assert expect_loaded(root).image.messages() == []  # 1.0.0, the one version there is
    (root / "oci-layout").write_text(json.dumps({"imageLayoutVersion": version}))
    m = expect_loaded(root, "oci-layout: unknown imageLayoutVersion")
    assert repr(version) in m.image.messages()[0]
    code, _out, _err = run_cli("ci", str(root), "--no-config", "--forbid", "high")
    assert code == 0  # an odd marker leaves nothing unread: not blocking


def _rewrite(root: Path, blobs: dict[str, bytes], desc: dict[str, Any], man: dict[str, Any]) -> None:
    data = json.dumps(man).encode()
    (root / "blobs" / "sha256" / sha(data).split(":")[1]).write_bytes(data)
    (root / "index.json").write_text(json.dumps(oci_index([{**desc, "digest": sha(data), "size": len(data)}])))


@pytest.mark.parametrize(
    ("size", "needle"),
    [(5, "descriptor says 5 bytes but the blob has"), (-3, "invalid size -3"), ("12", "invalid size '12'")],
)
def test_manifest_descriptor_size(tmp_path: Path, size: Any, needle: str) -> None:
    root, _blobs, desc = layout(tmp_path)
    index = json.loads((root / "index.json").read_text())
    index["manifests"][0]["size"] = size
    (root / "index.json").write_text(json.dumps(index))
    m = expect_loaded(root, needle)
    hexd = desc["digest"].split(":")[1]
    assert any(w.startswith(f"blobs/sha256/{hexd}: manifest 0 descriptor") for w in m.image.messages())
    code, out, _err = run_cli("ci", str(root), "--no-config", "--forbid", "high")
    assert code == 2 and "UNVERIFIED (descriptor-size): blobs/sha256/" in out


def test_config_descriptor_size(tmp_path: Path) -> None:
    root, blobs, desc = layout(tmp_path)
    man = json.loads(blobs[desc["digest"]])
    real = man["config"]["size"]
    man["config"]["size"] = real + 10
    _rewrite(root, blobs, desc, man)
    cfg = man["config"]["digest"].split(":")[1]
    m = expect_loaded(root, f"blobs/sha256/{cfg}: config descriptor says {real + 10} bytes but the blob has {real}")
    assert len([w for w in m.image.messages() if "config descriptor" in w]) == 1  # read twice, warned once


def test_layer_descriptor_size_names_the_blob(tmp_path: Path) -> None:
    root, blobs, desc = layout(tmp_path)
    man = json.loads(blobs[desc["digest"]])
    man["layers"][0]["size"] = -1
    _rewrite(root, blobs, desc, man)
    layer = man["layers"][0]["digest"].split(":")[1]
    m = expect_loaded(root, f"blobs/sha256/{layer}: layer 0 descriptor has an invalid size -1")
    assert not m.image.layers[0].error


def test_descriptor_size_when_digest_also_lies(tmp_path: Path) -> None:
    """A blob swapped on disk: size and digest warnings both name it."""
    root, blobs, desc = layout(tmp_path)
    man = json.loads(blobs[desc["digest"]])
    layer = man["layers"][0]["digest"].split(":")[1]
    (root / "blobs" / "sha256" / layer).write_bytes(gzip.compress(layer_tar([file("other", "x" * 100)])))
    m = expect_loaded(root, "descriptor says", "blob digest mismatch")
    assert any(re.match(rf"blobs/sha256/{layer}: layer 0 descriptor says", w) for w in m.image.messages())
