"""docker:// and podman:// sources: a fake engine, error paths, and real podman when present.

The podman test builds a tiny image FROM scratch (COPY only, no registry, no
RUN) into a private vfs store under a temp dir, then reads it back through
``podman://``. It needs the ``podman`` package and root (or working rootless
podman); it is skipped otherwise.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from conftest import SAMPLES, skip_or_fail

from layerscope.analysis import analyze
from layerscope.api import load
from layerscope.cli import main
from layerscope.content import lookup, read_content
from layerscope.sources.engine import EngineError, parse_ref


def _fake_engine(tmp_path: Path, body: str) -> str:
    script = tmp_path / "fake-engine"
    script.write_text("#!/bin/sh\n" + body + "\n")
    script.chmod(0o755)
    return str(script)


def test_parse_ref() -> None:
    assert parse_ref("docker://alpine:3.19") == ("docker", "alpine:3.19")
    assert parse_ref("podman://localhost/x@sha256:ab") == ("podman", "localhost/x@sha256:ab")
    assert parse_ref("/tmp/x.tar") is None
    with pytest.raises(EngineError):
        parse_ref("docker://")


def test_fake_engine_streams_archive(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sample = SAMPLES / "sample-docker.tar"
    # `docker save REF` writes the archive on stdout
    engine = _fake_engine(tmp_path, f'[ "$1" = save ] && [ "$2" = "sample:1" ] && exec cat {shlex.quote(str(sample))}')
    monkeypatch.setenv("LAYERSCOPE_DOCKER", engine)
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmpdir))
    merged = load("docker://sample:1")
    assert merged.image.source == "docker://sample:1"
    assert list(tmpdir.iterdir()) == []  # the saved copy is gone already...
    assert read_content(merged.image, lookup(merged, "/app/NEWS.txt")) == b"added in L4\n"  # ...yet readable
    assert analyze(merged).dive.wasted_bytes == 1439


def test_engine_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("LAYERSCOPE_PODMAN", str(tmp_path / "no-such-podman"))
    assert main(["report", "podman://x:1"]) == 2
    assert capsys.readouterr().err == (
        f"layerscope: error: podman://x:1: the {tmp_path / 'no-such-podman'} command is not installed or not on PATH\n"
    )
    monkeypatch.setenv("LAYERSCOPE_DOCKER", _fake_engine(tmp_path, 'echo "Error: No such image: $2" >&2; exit 1'))
    assert main(["report", "docker://ghost"]) == 2
    err = capsys.readouterr().err
    assert err == "layerscope: error: docker://ghost: docker save failed: Error: No such image: ghost\n"
    (tmp_path / "e2").mkdir()
    monkeypatch.setenv("LAYERSCOPE_DOCKER", _fake_engine(tmp_path / "e2", "echo garbage"))
    assert main(["report", "docker://junk"]) == 2
    assert "unreadable archive" in capsys.readouterr().err


def _podman_usable() -> bool:
    if shutil.which("podman") is None:
        return False
    return os.geteuid() == 0 or bool(os.environ.get("LAYERSCOPE_TEST_ROOTLESS_PODMAN"))


def test_real_podman(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if not _podman_usable():
        skip_or_fail("podman is not installed (or not running as root)")
    store = Path(tempfile.mkdtemp(prefix="ls-", dir="/tmp"))  # podman wants a runroot under 50 characters
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "a.txt").write_text("hello\n")
    (ctx / "Containerfile").write_text("FROM scratch\nCOPY a.txt /a.txt\nCOPY a.txt /etc/a.txt\n")
    podman = ["podman", "--root", str(store / "root"), "--runroot", str(store / "run"), "--storage-driver", "vfs"]
    try:
        build = subprocess.run(
            [
                *podman,
                "build",
                "--isolation=chroot",
                "--cgroup-manager=cgroupfs",
                "--pull=never",
                "-t",
                "localhost/layerscope-test:1",
                str(ctx),
            ],
            capture_output=True,
            text=True,
            timeout=300,
        )
        if build.returncode != 0:
            skip_or_fail(f"podman cannot build here: {build.stderr.strip().splitlines()[-1:]}")
        monkeypatch.setenv("LAYERSCOPE_PODMAN", shlex.join(podman))
        merged = load("podman://localhost/layerscope-test:1")
        assert merged.image.source == "podman://localhost/layerscope-test:1"
        assert len(merged.image.layers) == 2
        assert read_content(merged.image, lookup(merged, "/etc/a.txt")) == b"hello\n"
        assert main(["ci", "podman://localhost/layerscope-test:1", "--no-config", "--max-wasted-bytes", "0"]) == 0
        assert main(["report", "podman://localhost/layerscope-test:nope"]) == 2
    finally:
        subprocess.run([*podman, "rmi", "-a", "-f"], capture_output=True, timeout=120)
        shutil.rmtree(store, ignore_errors=True)
