"""report (JSON + text) audit fields, cat, which; headless paths never import textual."""

from __future__ import annotations

import dataclasses
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import SAMPLE_IMAGES, SAMPLES
from imagegen import build, d, file, hard

from layerscope.api import load
from layerscope.cli import main
from layerscope.content import ContentError, iter_content, lookup, read_content

SAMPLE = str(SAMPLES / "sample-docker.tar")


def test_report_json_audit_fields(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", SAMPLE, "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    img = doc["image"]
    # the pre-existing fields are still there
    for key in ("source", "format", "size_bytes", "config", "history", "warnings"):
        assert key in img
    assert {"files", "hidden", "layers", "schema", "as_of_layer"} <= set(doc)
    assert img["dive"]["efficiency"] == 0.9996114171781831
    assert img["dive"]["wasted_bytes"] == 1439
    assert img["dive"]["user_wasted_percent"] == 1439 / 1865
    w = img["waste"]
    assert (
        w["total_bytes"],
        w["overwritten_bytes"],
        w["metadata_bytes"],
        w["identical_bytes"],
        w["deleted_bytes"],
    ) == (825, 56, 340, 275, 154)
    assert w["top"][0]["path"] == "/app/data.bin" and w["top"][0]["by_layer"] == 4
    assert w["base"] == {"layers": 0, "method": "none", "ref": None}
    assert img["findings"]["high"] == 1
    lay = doc["layers"][3]
    assert lay["waste"]["wasted_bytes"] == 154 and lay["base"] is False
    assert doc["layers"][4]["waste"]["caused"]["metadata_bytes"] == 340
    f = next(x for x in doc["findings"] if x["rule"] == "secret-hidden")
    assert f == {**f, "path": "/root/.aws/credentials", "layer": 3, "size": 90, "severity": "high"}


def test_report_base_flag(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", SAMPLE, "--json", "--base", "3"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["image"]["waste"]["base"]["layers"] == 3
    assert [la["base"] for la in doc["layers"]] == [True] * 3 + [False] * 4
    assert main(["report", SAMPLE, "--json", "--base", str(SAMPLES / "sample-oci-gzip.tar")]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["image"]["waste"]["base"]["layers"] == 7


def test_report_text_sections(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", SAMPLE]) == 0
    out = capsys.readouterr().out
    assert "Waste" in out and "userWastedPercent 77.1582 %" in out
    assert "Top offenders" in out and "/app/data.bin" in out
    assert "secret-hidden" in out and "Findings (1 high, 1 medium, 6 low)" in out


def test_report_never_imports_textual() -> None:
    code = (
        "import sys, io; from layerscope.cli import main; "
        f"sys.stdout = io.StringIO(); main(['report', {SAMPLE!r}]); main(['report', {SAMPLE!r}, '--json']); "
        f"main(['ci', {SAMPLE!r}, '--no-config']); main(['which', {SAMPLE!r}, '/etc/motd']); "
        "sys.stdout = sys.__stdout__; print('textual' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


@pytest.mark.parametrize("name", SAMPLE_IMAGES)
def test_content_of_every_file_matches_its_digest(name: str) -> None:
    import hashlib

    merged = load(str(SAMPLES / name))
    n = 0
    for _, tl in merged.timelines():
        for ev in tl:
            if getattr(ev, "type", None) == "file":
                data = read_content(merged.image, ev)
                assert len(data) == ev.size and hashlib.sha256(data).digest() == ev.digest
                n += 1
    assert n > 20


def test_content_limit_hardlink_symlink_dir() -> None:
    merged = load(str(SAMPLES / "sample-oci-gzip.tar"))
    img = merged.image
    assert read_content(img, lookup(merged, "/app/shared-hardlink.txt")) == b"shared content\n"
    assert read_content(img, lookup(merged, "/app/config.txt"), limit=8) == b"# sample"
    assert read_content(img, lookup(merged, "/bin/busybox"), limit=4) == b"\x7fELF"
    assert read_content(img, lookup(merged, "/usr/local/bin/hello")) == b"/app/hello.py"
    assert read_content(img, lookup(merged, "/app/config.txt", 2)).startswith(b"# sample config, version 1")
    with pytest.raises(ContentError, match="directory"):
        read_content(img, lookup(merged, "/app"))
    with pytest.raises(ContentError, match="fifo"):
        read_content(img, lookup(merged, "/var/spool/pipe"))
    assert list(iter_content(img, lookup(merged, "/app/config.txt"), limit=0)) == []


def test_cat_cli(capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    assert main(["cat", SAMPLE, "/root/.aws/credentials", "--layer", "4"]) == 0
    assert capsysbinary.readouterr().out.startswith(b"[default]\naws_access_key_id")
    assert main(["cat", SAMPLE, "app/config.txt", "--layer", "-1"]) == 0
    assert b"version 2" in capsysbinary.readouterr().out
    assert main(["cat", SAMPLE, "/root/.aws/credentials"]) == 2
    err = capsysbinary.readouterr().err.decode()
    assert (
        err == "layerscope: error: /root/.aws/credentials: deleted in layer 5 (whiteout); "
        "the last version is in layer 3 (use --layer 3)\n"
    )
    assert main(["cat", SAMPLE, "/etc"]) == 2
    assert main(["cat", SAMPLE, "/no/such"]) == 2
    assert main(["cat", SAMPLE, "/app/NEWS.txt", "--layer", "2"]) == 2


def test_cat_truncated_layer(tmp_path: Path) -> None:
    # content offsets computed from one copy, read from a blob cut short
    merged = load(build(tmp_path, [[d("a"), file("a/big", b"B" * 5000)]]))
    layer = merged.image.layers[0]
    entry = lookup(merged, "/a/big")
    cut = dataclasses.replace(layer, open_blob=lambda: io.BytesIO(b"\0" * 1000))
    image = dataclasses.replace(merged.image, layers=(cut,))
    with pytest.raises(ContentError, match="ends before"):
        read_content(image, entry)


def test_which_cli(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["which", SAMPLE, "/app/config.txt"]) == 0
    out = capsys.readouterr().out
    assert "L2   added" in out and "[wasted: overwritten by L4]" in out and "* L4   modified" in out
    assert main(["which", SAMPLE, "/root/.aws/credentials", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [v["event"] for v in doc["versions"]] == ["added", "deleted"]
    assert doc["versions"][0]["wasted"] == {"cause": "deleted", "by_layer": 5, "how": "whiteout"}
    assert main(["which", SAMPLE, "/nope"]) == 2
    img = build(tmp_path, [[file("x", "1"), hard("y", "x")]])
    assert main(["which", img, "/y"]) == 0
    assert "hardlink" in capsys.readouterr().out
