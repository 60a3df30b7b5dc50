"""Base image detection and grouped base findings (issue #11).

Expectations come from ``sample_images/multistage.Containerfile``, not from
layerscope: the base stage makes 5 layers (L0 userland, L1 eight setuid-root
programs, L2 two setgid, L3 one setgid, L4 the blanked ``.netrc``), the final
stage 2 more (L5 the app, L6 a setuid helper); ``--layers=false`` squashes the
final stage into one layer (6 in all).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import SAMPLES
from imagegen import config_for, docker_archive, file, layer_tar, oci_blobs, oci_index, sha, write_oci_archive

from layerscope.analysis import BASE_NAME, FindingGroup, analyze, detect_base
from layerscope.api import load, open_source
from layerscope.cli import main

OCI = str(SAMPLES / "multistage-oci.tar")
DOCKER = str(SAMPLES / "multistage-docker.tar")
FLAT = str(SAMPLES / "multistage-flat-docker.tar")
BASE = str(SAMPLES / "multistage-base-oci.tar")
BASE_REF = "localhost/layerscope/base:1"

SUID = [f"/usr/bin/{p}" for p in ("chfn", "chsh", "gpasswd", "mount", "newgrp", "passwd", "su", "umount")]
SGID = ["/usr/bin/chage", "/usr/bin/expiry", "/usr/sbin/unix_chkpwd"]
# (path, layer) of every set-id file, from the Containerfile
SETID = {(p, 1) for p in SUID} | {("/usr/bin/chage", 2), ("/usr/bin/expiry", 2), ("/usr/sbin/unix_chkpwd", 3)}
HELPER = ("/usr/local/bin/app-helper", 6)


def _json(*argv: str, capsys: pytest.CaptureFixture[str]) -> Any:
    assert main([*argv, "--json"]) in (0, 1)
    return json.loads(capsys.readouterr().out)


# -- detection on real podman images ----------------------------------------------


@pytest.mark.parametrize(
    ("path", "nlayers", "method"),
    [(OCI, 7, "annotations"), (DOCKER, 7, "history-from"), (FLAT, 6, "history-from")],
)
def test_real_multistage_base_detected(path: str, nlayers: int, method: str) -> None:
    image = open_source(path)
    assert len(image.layers) == nlayers
    info = detect_base(image)
    assert (info.layers, info.method, info.ref) == (5, method, BASE_REF)


def test_oci_manifest_annotations_reach_the_model() -> None:
    assert open_source(OCI).annotations[BASE_NAME] == BASE_REF
    assert open_source(OCI).annotations["org.opencontainers.image.base.digest"].startswith("sha256:")
    assert open_source(DOCKER).annotations == {}  # docker-archive has no manifest annotations


def test_base_image_itself_has_no_base() -> None:
    # its own closing CMD marks nothing: nothing follows it
    assert (detect_base(open_source(BASE)).layers, detect_base(open_source(BASE)).method) == (0, "none")


@pytest.mark.parametrize("path", [OCI, DOCKER, FLAT])
def test_base_flag_with_the_base_image(path: str, capsys: pytest.CaptureFixture[str]) -> None:
    doc = _json("report", path, "--base", BASE, capsys=capsys)
    assert doc["image"]["waste"]["base"] == {"layers": 5, "method": "image", "ref": BASE}
    n = len(doc["layers"])
    assert [la["base"] for la in doc["layers"]] == [True] * 5 + [False] * (n - 5)
    doc = _json("report", path, "--base", "none", capsys=capsys)
    assert doc["image"]["waste"]["base"]["layers"] == 0
    assert not any(f["base"] for f in doc["findings"]) and doc["base_findings"] == []


# -- findings: every one still there, base ones marked and grouped -----------------


def test_real_findings_marked_base() -> None:
    a = analyze(load(OCI))
    setid = {(f.path, f.layer): f.base for f in a.findings if f.rule == "setuid"}
    assert setid == {**dict.fromkeys(SETID, True), HELPER: False}
    secret = next(f for f in a.findings if f.rule == "secret-hidden")
    assert (secret.path, secret.layer, secret.severity, secret.base) == ("/root/.netrc", 0, "high", True)
    groups = {g.rule: g for g in a.base_findings()}
    assert (groups["setuid"].count, groups["setuid"].layers) == (11, [1, 2, 3])
    assert groups["setuid"].summary == "11 setuid/setgid files in base layers"
    assert groups["package-cache"].count == 2  # /var/cache/apt/{pkgcache,srcpkgcache}.bin
    assert groups["secret-hidden"].count == 1


def test_findings_view_groups_all_but_high() -> None:
    a = analyze(load(DOCKER))
    view = a.findings_view()
    rows = [(x.rule, x.count if isinstance(x, FindingGroup) else x.path) for x in view]
    assert rows == [
        ("secret-hidden", "/root/.netrc"),  # high: always listed
        ("secret-present", 1),
        ("setuid", 11),
        ("setuid", "/usr/local/bin/app-helper"),
        ("package-cache", 1 + 1),
    ]
    assert a.findings_view(all_findings=True) == a.findings
    assert analyze(load(DOCKER), base=0).findings_view() == analyze(load(DOCKER), base=0).findings


def test_report_text_groups_base_findings(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", OCI]) == 0
    out = capsys.readouterr().out
    findings = out.split("Findings (", 1)[1]
    assert "11 setuid/setgid files in base layers" in findings
    assert "14 in base layers, grouped: --all-findings lists them" in findings
    assert "/usr/local/bin/app-helper" in findings and "/root/.netrc" in findings
    assert not [p for p in SUID + SGID if p in findings]
    assert "5 base layers (annotations: localhost/layerscope/base:1)" in out

    for argv in (["--all-findings"], ["--base", "none"]):
        assert main(["report", OCI, *argv]) == 0
        findings = capsys.readouterr().out.split("Findings (", 1)[1]
        assert all(p in findings for p in SUID + SGID), argv
        assert "in base layers," not in findings and "setuid/setgid files in base" not in findings


def test_report_json_keeps_every_finding(capsys: pytest.CaptureFixture[str]) -> None:
    doc = _json("report", OCI, capsys=capsys)
    old_fields = {"rule", "severity", "title", "path", "layer", "command", "size", "count", "detail"}
    assert all(old_fields < set(f) for f in doc["findings"])
    assert len(doc["findings"]) == 1 + 1 + 12 + 1  # secret-hidden, secret-present, set-id, package-cache
    assert {(f["path"], f["layer"]) for f in doc["findings"] if f["rule"] == "setuid" and f["base"]} == SETID
    img = doc["image"]
    assert img["findings"] == {"high": 1, "medium": 13, "low": 1, "info": 0}
    assert img["findings_base"] == {"high": 1, "medium": 12, "low": 1, "info": 0}
    assert img["annotations"][BASE_NAME] == BASE_REF
    setuid = next(g for g in doc["base_findings"] if g["rule"] == "setuid")
    assert setuid == {
        **setuid,
        "count": 11,
        "entries": 11,
        "layers": [1, 2, 3],
        "base": True,
        "severity": "medium",
        "summary": "11 setuid/setgid files in base layers",
    }


# -- the gate: base findings count exactly like the others -----------------------


def test_gate_still_fails_on_base_findings(capsys: pytest.CaptureFixture[str]) -> None:
    # the only high finding is in a base layer: the default-style gate fails on it
    assert main(["ci", OCI, "--no-config", "--forbid", "high"]) == 1
    out = capsys.readouterr().out
    assert "high secret-hidden L0 (base) /root/.netrc" in out
    doc = _json("ci", OCI, "--no-config", "--forbid", "setuid", capsys=capsys)
    assert doc["result"] == "fail"
    failed = {(f["path"], f["layer"], f["base"]) for f in doc["failed_findings"]}
    assert failed == {(p, k, True) for p, k in SETID} | {(*HELPER, False)}
    # the usual way out is explicit, per path
    doc = _json(
        "ci",
        OCI,
        "--no-config",
        "--forbid",
        "setuid",
        "--ignore-path",
        "/usr/bin/*",
        "--ignore-path",
        "/usr/sbin/*",
        capsys=capsys,
    )
    assert [f["path"] for f in doc["failed_findings"]] == ["/usr/local/bin/app-helper"]
    assert main(["ci", OCI, "--no-config", "--forbid", "package-cache", "--base", "7"]) == 1


# -- detection rules on generated images -------------------------------------------


def _hist(*steps: tuple[str, bool, str | None]) -> list[dict[str, Any]]:
    out = []
    for created_by, empty, comment in steps:
        h: dict[str, Any] = {"created_by": created_by}
        if empty:
            h["empty_layer"] = True
        if comment is not None:
            h["comment"] = comment
        out.append(h)
    return out


def _docker(tmp_path: Path, nlayers: int, history: list[dict[str, Any]]) -> Any:
    tars = [layer_tar([file(f"f{i}", str(i))]) for i in range(nlayers)]
    return open_source(docker_archive(tmp_path / "i.tar", tars, config_for(tars, history)))


def _oci(
    tmp_path: Path,
    nlayers: int,
    history: list[dict[str, Any]],
    annotations: dict[str, Any],
    desc_annotations: dict[str, Any] | None = None,
) -> Any:
    tars = [layer_tar([file(f"f{i}", str(i))]) for i in range(nlayers)]
    blobs, desc = oci_blobs(tars, config_for(tars, history))
    manifest = json.loads(blobs.pop(desc["digest"]))
    manifest["annotations"] = annotations
    mbytes = json.dumps(manifest).encode()
    blobs[sha(mbytes)] = mbytes
    desc = {**desc, "digest": sha(mbytes), "size": len(mbytes), "annotations": desc_annotations or {}}
    return open_source(write_oci_archive(tmp_path / "o.tar", blobs, oci_index([desc])))


DEBIAN = [("/bin/sh -c #(nop) ADD file:0123 in / ", False, None), ('/bin/sh -c #(nop)  CMD ["bash"]', True, None)]


def test_debian_based_image_with_its_own_cmd(tmp_path: Path) -> None:
    """The issue's case: FROM debian, RUN, CMD. The image's closing CMD used to
    reset the guess to 'no base'."""
    hist = _hist(*DEBIAN, ("/bin/sh -c apt-get install -y x", False, None), ('CMD ["x"]', True, None))
    info = detect_base(_docker(tmp_path, 2, hist))
    assert (info.layers, info.method) == (1, "history")


def test_buildkit_history_without_comments(tmp_path: Path) -> None:
    hist = _hist(
        *DEBIAN,
        ("RUN /bin/sh -c make", False, "buildkit.dockerfile.v0"),
        ("COPY app /app", False, "buildkit.dockerfile.v0"),
        ('ENTRYPOINT ["/app"]', True, "buildkit.dockerfile.v0"),
    )
    assert (detect_base(_docker(tmp_path, 3, hist)).layers, detect_base(_docker(tmp_path, 3, hist)).method) == (
        1,
        "history",
    )


def test_annotation_beats_a_cmd_in_the_users_own_stage(tmp_path: Path) -> None:
    hist = _hist(
        *DEBIAN,
        ("RUN a", False, "FROM docker.example/debian:12"),
        ('CMD ["a"]', True, "FROM 0123456789ab"),
        ("RUN b", False, "FROM 123456789abc"),
    )
    img = _oci(tmp_path, 3, hist, {BASE_NAME: "docker.example/debian:12"})
    assert (detect_base(img).layers, detect_base(img).method) == (1, "annotations")
    # without the annotation the latest build start wins: the user's mid-file CMD
    assert detect_base(_docker(tmp_path, 3, hist)).layers == 2


def test_annotation_in_an_uncached_build(tmp_path: Path) -> None:
    """buildah without --layers: one layer for the whole stage, the comment on its last entry."""
    hist = _hist(
        ("COPY base", False, None),
        ("COPY more", False, "FROM 0123456789ab"),
        ("COPY app", True, None),
        ("ENV A=1", True, None),
        ('CMD ["x"]', False, "FROM base:1"),
    )
    img = _oci(tmp_path, 3, hist, {BASE_NAME: "base:1"})
    assert (detect_base(img).layers, detect_base(img).method) == (2, "annotations")


def test_annotation_on_the_index_descriptor(tmp_path: Path) -> None:
    hist = _hist(("COPY base", False, None), ("COPY app", False, "FROM base:2"))
    img = _oci(tmp_path, 2, hist, {"x": "manifest"}, {BASE_NAME: "base:2", "x": "descriptor"})
    assert img.annotations == {BASE_NAME: "base:2", "x": "manifest"}  # the manifest's own win
    assert (detect_base(img).layers, detect_base(img).method) == (1, "annotations")


def test_final_stage_without_layers_is_all_base(tmp_path: Path) -> None:
    hist = _hist(
        ("COPY base", False, None), ("USER app", True, "FROM base:3"), ('CMD ["x"]', True, "FROM 0a1b2c3d4e5f")
    )
    img = _oci(tmp_path, 1, hist, {BASE_NAME: "base:3"})
    assert (detect_base(img).layers, detect_base(img).method) == (1, "annotations")


def test_untrusted_or_useless_signals(tmp_path: Path) -> None:
    # a base.name no history entry mentions, and no other signal: nothing
    img = _oci(tmp_path, 2, _hist(("COPY a", False, None), ("COPY b", False, None)), {BASE_NAME: "elsewhere:1"})
    assert (detect_base(img).layers, detect_base(img).method) == (0, "none")
    # history that does not match the layers is not trusted
    (tmp_path / "h").mkdir()
    hist = _hist(*DEBIAN, ("RUN a", False, "FROM debian:12"), ("RUN b", False, None))
    assert detect_base(_docker(tmp_path / "h", 2, hist)).method == "none"
    # a comment naming an image id is a cached step, not a stage start
    (tmp_path / "i").mkdir()
    hist = _hist(("COPY a", False, None), ("COPY b", False, "FROM 0123456789ab"))
    assert detect_base(_docker(tmp_path / "i", 2, hist)).method == "none"


def test_base_flag_errors_name_the_flag(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", OCI, "--base", "-3"]) == 2
    assert capsys.readouterr().err.strip() == "layerscope: error: --base -3: a layer count is 0 or more"
    missing = str(tmp_path / "nope.tar")
    assert main(["report", OCI, "--base", missing]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"layerscope: error: --base {missing}") and err.count("\n") == 1
