"""The CI gate never passes what it could not read (issue #11).

Each image here hides a deleted secret in layer 1, which the default gate
fails on when it can read the layer. Damaging that layer must not turn the
failure into a pass: ``ci`` exits 2 and names every problem, unless
``--allow-damaged`` asks to gate on what was read.
"""

from __future__ import annotations

import gzip
import json
import re
import tarfile
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT
from imagegen import (
    config_for,
    d,
    docker_archive,
    docker_archive_blobs,
    file,
    layer_tar,
    member,
    oci_blobs,
    oci_index,
    pax_member,
    raw_tar,
    run_cli,
    sha,
    wh,
    write_oci_layout,
)

from layerscope.api import load

KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n"
BASE = layer_tar([d("etc"), file("etc/os-release", "ID=test\n" * 40)])
SECRET = layer_tar([d("root"), d("root/.ssh"), file("root/.ssh/id_rsa", KEY, mode=0o600)])
REMOVE = layer_tar([d("root/.ssh"), wh("root/.ssh/id_rsa")])
LAYERS = [BASE, SECRET, REMOVE]
FLAGS = ("--no-config", "--forbid", "high")


@pytest.fixture(autouse=True)
def _no_config_search(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


def with_layer1(tmp_path: Path, blob: bytes) -> str:
    """The three-layer image with layer 1's blob replaced (the config still names the good one)."""
    return docker_archive_blobs(tmp_path / "image.tar", [BASE, blob, REMOVE], config=config_for(LAYERS))


def ci(*argv: str) -> tuple[int, str]:
    code, out, err = run_cli("ci", *argv)
    assert "Traceback" not in err
    return code, out


def ci_json(*argv: str) -> tuple[int, dict[str, Any]]:
    code, out = ci(*argv, "--json")
    return code, json.loads(out)


def gzip_truncated() -> bytes:
    gz = gzip.compress(SECRET, mtime=0)
    return gz[: len(gz) // 2]


def gzip_corrupt() -> bytes:
    bad = bytearray(gzip.compress(SECRET + bytes(20000), mtime=0))
    bad[len(bad) // 2] ^= 0xFF
    return bytes(bad)


def test_the_readable_image_fails_on_the_secret(tmp_path: Path) -> None:
    """The baseline the other tests break: nothing damaged, the finding fails the gate."""
    path = docker_archive(tmp_path / "good.tar", LAYERS)
    code, out = ci(path, *FLAGS)
    assert code == 1 and "/root/.ssh/id_rsa" in out and "Result: FAIL" in out
    assert "DAMAGED" not in out and "NOT VERIFIED" not in out
    code, doc = ci_json(path, *FLAGS)
    assert code == 1
    assert doc["verified"] is True and doc["damaged"] == [] and doc["unverified"] == [] and doc["warnings"] == []
    assert doc["allow_damaged"] is False
    assert "verified" not in {c["name"] for c in doc["checks"]}  # a clean image keeps its old checks


@pytest.mark.parametrize(
    ("blob", "reason"),
    [
        (gzip_truncated(), "gzip stream is truncated"),
        (gzip_corrupt(), "gzip"),
        (b"this is not a tar archive\n" * 50, "tar header"),
        (SECRET[:1100], "truncated"),
    ],
    ids=["gzip-truncated", "gzip-corrupt", "not-a-tar", "tar-truncated"],
)
def test_damaged_layer_is_exit_2_never_pass(tmp_path: Path, blob: bytes, reason: str) -> None:
    path = with_layer1(tmp_path, blob)
    code, out = ci(path, *FLAGS)
    assert code == 2, out
    lines = [ln.strip() for ln in out.splitlines()]
    damaged = [ln for ln in lines if ln.startswith("DAMAGED: ")]
    assert len(damaged) == 1 and damaged[0].startswith("DAMAGED: layer 1 (") and reason in damaged[0]
    assert lines[-1].startswith("Result: NOT VERIFIED")
    assert "Result: PASS" not in out
    code, doc = ci_json(path, *FLAGS)
    assert code == 2
    assert doc["result"] == "fail" and doc["verified"] is False
    assert [x["layer"] for x in doc["damaged"]] == [1] and reason in doc["damaged"][0]["error"]
    assert doc["unverified"][0]["kind"] == "damaged"
    assert any("layer 1 is damaged" in w for w in doc["warnings"])
    verified = [c for c in doc["checks"] if c["name"] == "verified"]
    assert verified and verified[0]["status"] == "fail" and verified[0]["fatal"] is True


def test_layer_missing_from_the_archive(tmp_path: Path) -> None:
    good = docker_archive(tmp_path / "good.tar", LAYERS)
    with tarfile.open(good) as src:
        manifest = json.loads(src.extractfile("manifest.json").read())  # type: ignore[union-attr]
        gone = manifest[0]["Layers"][1]
        dst = tmp_path / "missing.tar"
        with tarfile.open(dst, "w") as tf:
            for m in src:
                if m.name != gone:
                    tf.addfile(m, src.extractfile(m) if m.isfile() else None)
    code, out = ci(str(dst), *FLAGS)
    assert code == 2
    # the problem's line (with its continuation lines, folded to the width: 160 when piped)
    text = " ".join(out.split())
    line = text[text.index("DAMAGED") :].split(" PASS ", 1)[0].split(" FAIL ", 1)[0]
    assert line.startswith("DAMAGED: layer 1 (") and gone in line and "missing" in line


def test_allow_damaged_reports_a_non_fatal_check(tmp_path: Path) -> None:
    path = with_layer1(tmp_path, gzip_truncated())
    code, out = ci(path, *FLAGS, "--allow-damaged")
    assert code == 0, out  # the other checks decide: the secret was in the unread layer
    assert re.search(r"FAIL\s+verified: 1 damaged layer:.*not fatal", out)
    assert "DAMAGED: layer 1 (" in out and out.rstrip().endswith("Result: PASS")
    code, doc = ci_json(path, *FLAGS, "--allow-damaged")
    assert code == 0 and doc["result"] == "pass" and doc["verified"] is False and doc["allow_damaged"] is True
    verified = next(c for c in doc["checks"] if c["name"] == "verified")
    assert verified["status"] == "fail" and verified["fatal"] is False
    # Another check still fails the gate by itself.
    code, out = ci(path, "--no-config", "--forbid-path", "/etc/*", "--allow-damaged")
    assert code == 1 and out.rstrip().endswith("Result: FAIL")


def test_digest_mismatch_blocks(tmp_path: Path) -> None:
    """An OCI layer blob swapped for another one: both digests disagree, nothing is damaged."""
    blobs, desc = oci_blobs(LAYERS)
    manifest = json.loads(blobs[desc["digest"]])
    blobs[manifest["layers"][1]["digest"]] = gzip.compress(layer_tar([file("root/other", "x")]))
    root = write_oci_layout(tmp_path / "layout", blobs, oci_index([desc]))
    code, doc = ci_json(root, *FLAGS)
    assert code == 2 and doc["damaged"] == []
    kinds = {(u["kind"], u["layer"]) for u in doc["unverified"]}
    assert {("digest-mismatch", 1), ("diff-id-mismatch", 1)} <= kinds
    code, out = ci(root, *FLAGS)
    assert "UNVERIFIED (digest-mismatch): layer 1 (blobs/sha256/" in out


def test_diff_id_mismatch_blocks(tmp_path: Path) -> None:
    cfg = config_for([BASE, layer_tar([file("root/decoy", "x")]), REMOVE])
    path = docker_archive(tmp_path / "image.tar", LAYERS, config=cfg)
    code, out = ci(path, *FLAGS)
    assert code == 2 and "UNVERIFIED (diff-id-mismatch): layer 1 (" in out


def test_descriptor_size_mismatch_blocks(tmp_path: Path) -> None:
    blobs, desc = oci_blobs(LAYERS)
    manifest = json.loads(blobs[desc["digest"]])
    manifest["layers"][0]["size"] += 1
    data = json.dumps(manifest).encode()
    blobs[sha(data)] = data
    root = write_oci_layout(
        tmp_path / "layout",
        blobs,
        oci_index([{"mediaType": desc["mediaType"], "digest": sha(data), "size": len(data)}]),
    )
    code, out = ci(root, *FLAGS)
    assert code == 2
    assert re.search(r"UNVERIFIED \(descriptor-size\): blobs/sha256/[0-9a-f]{64}: layer 0 descriptor says", out)


def test_content_left_unread_blocks(tmp_path: Path) -> None:
    """Data past the tar end and a sparse file are not hashed: the gate cannot vouch for them."""
    trailing = SECRET + b"hidden after the end" * 30
    code, out = ci(with_layer1(tmp_path, trailing), *FLAGS)
    assert code == 2 and "UNVERIFIED (trailing-data): layer 1 (" in out
    sparse = pax_member({"GNU.sparse.major": "1", "GNU.sparse.minor": "0", "GNU.sparse.realsize": "4096"})
    blob = raw_tar(
        sparse, member("GNUSparseFile.0/img", b"1\n0\n512\n".ljust(512, b"\0") + b"x" * 512), member("root/a", "1")
    )
    (tmp_path / "image.tar").unlink()
    code, out = ci(docker_archive_blobs(tmp_path / "image.tar", [BASE, blob]), "--no-config", "--forbid", "high")
    assert code == 2 and "UNVERIFIED (sparse): layer 1 (" in out


def test_the_warning_cap_never_hides_a_blocking_problem(tmp_path: Path) -> None:
    """60 harmless warnings first, then a sparse file: past the per-layer cap it is still counted."""
    junk = b"".join(member(f"d/.wh.{'.' * (1 + i % 2)}", "") for i in range(30))  # invalid whiteouts
    junk += b"".join(member(f"e/.wh.{'.' * (1 + i % 2)}", "") for i in range(30))
    sparse = pax_member({"GNU.sparse.major": "1", "GNU.sparse.minor": "0", "GNU.sparse.realsize": "4096"})
    body = member("GNUSparseFile.0/late", b"1\n0\n512\n".ljust(512, b"\0") + b"x" * 512)
    path = docker_archive_blobs(tmp_path / "image.tar", [BASE, raw_tar(junk, sparse, body)])
    merged = load(path)
    layer = merged.image.layers[1]
    assert len(layer.messages()) <= 51 and not any("sparse" in w for w in layer.messages())  # cut from the strings
    assert [w.kind for w in merged.image.unverified()] == ["sparse"]  # ... but not from the gate
    code, out = ci(path, "--no-config", "--forbid", "high")
    assert code == 2 and "UNVERIFIED (sparse): " in out and "more sparse warnings not shown" in out


def test_harmless_warnings_are_listed_but_do_not_block(tmp_path: Path) -> None:
    dupes = raw_tar(member("root/a", "first"), member("root/a", "second"))
    path = docker_archive_blobs(tmp_path / "image.tar", [BASE, dupes])
    code, out = ci(path, *FLAGS)
    assert code == 0, out
    assert "1 other load warning:" in out and "paths appear more than once" in out
    assert "verified" not in out and out.rstrip().endswith("Result: PASS")
    code, doc = ci_json(path, *FLAGS)
    assert code == 0 and doc["verified"] is True and doc["unverified"] == []
    assert len(doc["warnings"]) == 1 and "more than once" in doc["warnings"][0]


def test_damaged_outer_archive_blocks(tmp_path: Path) -> None:
    """A garbage header in the outer archive: the indexer skips to the next member and says so."""
    good = Path(docker_archive(tmp_path / "good.tar", LAYERS))
    with tarfile.open(good) as tf:
        name = json.loads(tf.extractfile("manifest.json").read())[0]["Layers"][2]  # type: ignore[union-attr]
        offset = tf.getmember(name).offset
    data = bytearray(good.read_bytes())
    data[offset : offset + 512] = b"\x01" * 512
    bad = tmp_path / "bad.tar"
    bad.write_bytes(bytes(data))
    code, doc = ci_json(str(bad), *FLAGS)
    assert code == 2
    kinds = {(u["kind"], u["layer"]) for u in doc["unverified"]}
    assert ("archive-damaged", None) in kinds and ("damaged", 2) in kinds


def test_report_marks_unverified_warnings(tmp_path: Path) -> None:
    path = with_layer1(tmp_path, gzip_truncated())
    code, out, _ = run_cli("report", path)
    assert code == 0
    tail = out[out.index("Warnings (") :]
    assert "✗ layer 1 is damaged:" in tail and "Not verified: 1 of these" in tail and "ci` exits 2" in tail
    dupes = raw_tar(member("root/a", "first"), member("root/a", "second"))
    (tmp_path / "image.tar").unlink()
    code, out, _ = run_cli("report", docker_archive_blobs(tmp_path / "image.tar", [BASE, dupes]))
    assert "! layer 1 (" in out and "Not verified" not in out and "✗" not in out


def test_every_kind_is_documented_and_classified() -> None:
    """docs/warnings.md's list of kinds that block the gate is the model's list, no more, no less."""
    from layerscope.model import UNVERIFIED_KINDS, LoadWarning

    readme = (ROOT / "docs" / "warnings.md").read_text()
    section = readme[readme.index("<!-- unverified-kinds -->") : readme.index("<!-- /unverified-kinds -->")]
    documented = set(re.findall(r"^- `([a-z-]+)`", section, re.M))
    assert documented == set(UNVERIFIED_KINDS)
    assert LoadWarning("sparse", "x").unverified and not LoadWarning("duplicate", "x").unverified


def test_blocking_kinds_are_raised_somewhere() -> None:
    """No blocking kind is dead: the code that loads images names each one (``damaged`` is Layer.error);
    the compiled core (``src/*.rs``) names its kinds by value."""
    import layerscope.loader
    import layerscope.model as model
    import layerscope.sources.files
    import layerscope.sources.image
    import layerscope.sources.overlay
    from layerscope.model import UNVERIFIED_KINDS

    mods = (layerscope.loader, layerscope.sources.image, layerscope.sources.files, layerscope.sources.overlay)
    src = "".join(Path(m.__file__ or "").read_text() for m in mods)
    core = "".join(p.read_text() for p in (Path(__file__).parent.parent / "src").glob("*.rs"))
    for name in dir(model):
        value = getattr(model, name)
        if isinstance(value, str) and value in UNVERIFIED_KINDS and value != "damaged":
            assert re.search(rf"\b{name}\b", src) or f'"{value}"' in core, name
