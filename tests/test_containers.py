"""``container://NAME`` on real podman containers, checked against podman itself.

Each test store is private (``--root``/``--runroot`` under a temp dir) so the
machine's own images and containers are never touched. The sample image is
loaded, a container is created (never run: running needs privileges these
machines may not give) and changed through ``podman mount``: a file written,
one overwritten, one chmod'ed, one deleted, a directory removed and
re-created, a symlink, a hardlink, a secret written and deleted. The
expectations are podman's: ``podman diff`` for the top layer, and a listing of
the mounted (merged) filesystem for the whole tree.

Without podman, or root, or a kernel overlay, the tests say so and skip; in
CI (``CI=true``, where ``.ci/run`` installs podman) they fail instead.
"""

from __future__ import annotations

import hashlib
import json
import os
import shlex
import shutil
import stat
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from conftest import SAMPLES, skip_or_fail
from imagegen import run_cli

from layerscope.analysis import analyze
from layerscope.api import load
from layerscope.content import lookup, read_content
from layerscope.merge import Merged
from layerscope.model import ADDED, CONTAINER_LAYER, FILE, SYMLINK

IMAGE = "localhost/layerscope/sample:1"


@dataclass
class Store:
    """A private podman store with the sample image loaded."""

    base: Path
    driver: str
    podman: list[str]
    made: list[str] = field(default_factory=list)

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run([*self.podman, *args], capture_output=True, text=True, timeout=300)
        if check and proc.returncode != 0:
            raise AssertionError(f"podman {' '.join(args)}: {proc.stderr.strip()}")
        return proc

    def create(self) -> str:
        name = f"ls-test-{uuid.uuid4().hex[:10]}"
        self.run("create", "--name", name, IMAGE)
        self.made.append(name)
        return name


def _store(driver: str) -> Iterator[Store]:
    if shutil.which("podman") is None:
        skip_or_fail("podman is not installed")
    if os.geteuid() != 0 and not os.environ.get("LAYERSCOPE_TEST_ROOTLESS_PODMAN"):
        skip_or_fail("podman tests need root")
    base = Path(tempfile.mkdtemp(prefix="lsc-", dir="/tmp"))  # podman wants a short runroot
    podman = ["podman", "--root", str(base / "root"), "--runroot", str(base / "run"), "--storage-driver", driver]
    store = Store(base, driver, podman)
    try:
        loaded = store.run("load", "-i", str(SAMPLES / "sample-docker.tar"), check=False)
        if loaded.returncode != 0:
            skip_or_fail(f"podman cannot load an image with the {driver} driver here: {loaded.stderr.strip()[-300:]}")
        yield store
    finally:
        for name in store.made:
            store.run("umount", "--force", name, check=False)
            store.run("rm", "--force", name, check=False)
        store.run("rmi", "--all", "--force", check=False)
        subprocess.run(["umount", "-R", str(base / "root")], capture_output=True)  # should be nothing left
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="module")
def overlay_store() -> Iterator[Store]:
    yield from _store("overlay")


@pytest.fixture(scope="module")
def vfs_store() -> Iterator[Store]:
    yield from _store("vfs")


SECRET = "-----BEGIN OPENSSH PRIVATE KEY-----\nnot really\n"


def _change(root: Path) -> None:
    """What the container does, through its mounted filesystem."""
    (root / "app" / "token.txt").write_text("written by the container\n")  # a new file
    (root / "app" / "config.txt").write_text("overwritten\n")  # an image file, new content
    (root / "app" / "data.bin").chmod(0o600)  # metadata only: a whole copy-up
    (root / "app" / "NEWS.txt").unlink()  # an image file deleted
    shutil.rmtree(root / "var" / "lib")  # a directory removed ...
    (root / "var" / "lib" / "fresh").mkdir(parents=True)  # ... and re-created
    (root / "var" / "lib" / "fresh" / "f").write_text("new\n")
    (root / "srv" / "link").symlink_to("../app/hello.py")
    os.link(root / "app" / "token.txt", root / "app" / "token-hard")
    (root / "root" / ".ssh").mkdir()
    (root / "root" / ".ssh" / "id_rsa").write_text(SECRET)  # a secret the container leaves
    (root / "root" / ".netrc").write_text("machine x login y password z\n")  # a secret written ...
    (root / "root" / ".netrc").unlink()  # ... then deleted: overlay keeps no trace of it


def _listing(root: Path) -> dict[str, tuple[Any, ...]]:
    """The merged filesystem as the mount shows it: type, mode, owner, size, sha256 or link."""
    out: dict[str, tuple[Any, ...]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for n in dirnames + filenames:
            full = os.path.join(dirpath, n)
            st = os.lstat(full)
            path = "/" + os.path.relpath(full, root)
            perm = stat.S_IMODE(st.st_mode)
            if stat.S_ISREG(st.st_mode):
                with open(full, "rb") as fh:
                    out[path] = ("file", perm, st.st_uid, st.st_gid, st.st_size, hashlib.sha256(fh.read()).hexdigest())
            elif stat.S_ISLNK(st.st_mode):
                out[path] = ("symlink", perm, st.st_uid, st.st_gid, os.readlink(full))
            elif stat.S_ISDIR(st.st_mode):
                out[path] = ("dir", perm, st.st_uid, st.st_gid)
            else:
                out[path] = ("other", perm, st.st_uid, st.st_gid)
    return out


def _model_listing(merged: Merged) -> dict[str, tuple[Any, ...]]:
    out: dict[str, tuple[Any, ...]] = {}
    for e in merged.files_at(merged.top):
        if e.path == "/":
            continue
        if e.content_type == FILE:
            assert e.digest is not None
            out[e.path] = ("file", e.mode, e.uid, e.gid, e.size, e.digest.hex())
        elif e.type == SYMLINK:
            out[e.path] = ("symlink", e.mode, e.uid, e.gid, e.link)
        elif e.type == "dir":
            out[e.path] = ("dir", e.mode, e.uid, e.gid)
        else:
            out[e.path] = ("other", e.mode, e.uid, e.gid)
    return out


def _diff(store: Store, name: str) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {"A": set(), "C": set(), "D": set()}
    for line in store.run("diff", name).stdout.splitlines():
        out[line[0]].add(line[2:])
    return out


@dataclass
class Made:
    name: str
    expected: dict[str, tuple[Any, ...]]  # the mounted tree
    diff: dict[str, set[str]]  # podman diff
    inspect: dict[str, Any]


def _make(store: Store) -> Made:
    name = store.create()
    mnt = Path(store.run("mount", name).stdout.strip())
    try:
        _change(mnt)
        expected = _listing(mnt)
    finally:
        store.run("umount", name)
    inspect = json.loads(store.run("inspect", "--type", "container", name).stdout)[0]
    return Made(name, expected, _diff(store, name), inspect)


@pytest.fixture(scope="module")
def overlay_container(overlay_store: Store) -> Made:
    made = _make(overlay_store)
    if made.inspect["GraphDriver"]["Name"] != "overlay" or not made.inspect["GraphDriver"]["Data"].get("UpperDir"):
        skip_or_fail(f"podman did not use the overlay driver: {made.inspect['GraphDriver']}")
    return made


@pytest.fixture
def use_store(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    def use(store: Store) -> None:
        monkeypatch.setenv("LAYERSCOPE_PODMAN", shlex.join(store.podman))

    yield use


def _check_top_against_diff(merged: Merged, diff: dict[str, set[str]]) -> None:
    """podman diff: A = entries new to the image, C = the others, D = whiteouts and opaque dirs
    (podman lists a directory removed and re-created as deleted, and what is in it as added)."""
    top = merged.image.layers[-1]
    opaque = set(top.opaque_dirs)
    assert {e.path for e in merged.layer_entries(top.index) if e.change == ADDED} == diff["A"]
    assert {e.path for e in merged.layer_entries(top.index) if e.change != ADDED} - opaque == diff["C"]
    assert set(top.whiteouts) | opaque == diff["D"]


def test_container_overlay_upper(overlay_store: Store, overlay_container: Made, use_store: Any) -> None:
    use_store(overlay_store)
    made = overlay_container
    merged = load(f"container://{made.name}")
    image = merged.image
    top = image.layers[-1]
    assert [la.kind for la in image.layers] == ["image"] * 7 + [CONTAINER_LAYER]
    assert top.source_name == made.inspect["GraphDriver"]["Data"]["UpperDir"] and top.source is not None
    assert image.container is not None and image.container.read_via == "upper-dir"
    assert (image.container.name, image.container.id, image.container.state) == (
        made.name,
        made.inspect["Id"],
        "created",
    )
    _check_top_against_diff(merged, made.diff)
    assert _model_listing(merged) == made.expected
    # the changes, one by one, as the model names them
    changes = {e.path: e.change for e in merged.layer_entries(top.index)}
    assert changes["/app/data.bin"] == "metadata" and changes["/app/config.txt"] == "modified"
    assert {e.path: e.type for e in merged.layer_entries(top.index) if e.path.startswith("/app/token")} == {
        "/app/token-hard": "file",
        "/app/token.txt": "hardlink",
    }
    assert "/root/.netrc" not in merged  # written and deleted in the container: nothing left
    assert read_content(image, lookup(merged, "/app/token.txt")) == b"written by the container\n"
    assert read_content(image, lookup(merged, "/srv/link")) == b"../app/hello.py"
    assert read_content(image, lookup(merged, "/app/NEWS.txt", layer=6)) == b"added in L4\n"

    a = analyze(merged)
    assert a.base.layers == 0  # the sample has no base; the container layer does not upset the history
    items = {(i.path, i.cause, i.by_layer) for i in a.items if i.by_layer == 7}
    assert items == {
        ("/app/data.bin", "metadata", 7),  # chmod: the whole file copied up
        ("/app/config.txt", "overwritten", 7),
        ("/app/NEWS.txt", "deleted", 7),  # deleted by the container, still in the image
        ("/var/lib/thing/inside.txt", "deleted", 7),
    }
    found = {(f.rule, f.path, f.layer) for f in a.findings}
    assert ("secret-present", "/root/.ssh/id_rsa", 7) in found
    assert ("deleted-later", "/app/NEWS.txt", 4) in found


def test_container_cli(overlay_store: Store, overlay_container: Made, use_store: Any) -> None:
    use_store(overlay_store)
    ref = f"container://{overlay_container.name}"
    code, out, err = run_cli("report", ref, "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert [la["kind"] for la in doc["layers"]][-2:] == ["image", "container"]
    c = doc["image"]["container"]
    assert c["name"] == overlay_container.name and c["engine"] == "podman" and c["image"] == IMAGE
    assert c["id"] == overlay_container.inspect["Id"] and c["state"] == "created" and c["driver"] == "overlay"
    assert doc["image"]["source"] == ref
    code, out, _ = run_cli("ls", ref, "--deleted", "--changes", "--layer", "7")
    assert out.splitlines() == [
        "C7 deleted      /app/NEWS.txt  (whiteout; still ships in L4)",
        "C7 deleted      /var/lib/thing  (opaque dir /var/lib; still ships in L3, L6)",
        "C7 deleted      /var/lib/thing/inside.txt  (opaque dir /var/lib; still ships in L6)",
    ]
    code, out, _ = run_cli("report", ref)
    assert code == 0 and f"Container  {overlay_container.name} (" in out and "▶C7 │" in out
    # forced engine, and the error when no engine knows the container
    assert run_cli("ls", f"podman-container://{overlay_container.name}")[0] == 0
    code, _, err = run_cli("report", "podman-container://ls-no-such-container")
    assert code == 2 and err.startswith("layerscope: error: podman-container://ls-no-such-container: no such container")


def test_container_diff_export_fallback(vfs_store: Store, use_store: Any) -> None:
    """Another storage driver has no upper directory: the layer comes from podman diff + export."""
    use_store(vfs_store)
    made = _make(vfs_store)
    merged = load(f"container://{made.name}")
    image = merged.image
    assert image.container is not None and image.container.read_via == "diff-export"
    assert image.container.driver == "vfs"
    top = image.layers[-1]
    assert top.kind == CONTAINER_LAYER
    assert any("read through `podman diff` and `podman export`" in w for w in top.messages())
    assert any("the vfs storage driver keeps no overlay upper directory" in w for w in top.messages())
    assert _model_listing(merged) == made.expected
    assert {e.path for e in merged.layer_entries(top.index) if e.change == ADDED} == made.diff["A"]
    assert set(top.whiteouts) == made.diff["D"]
    assert read_content(image, lookup(merged, "/app/token-hard")) == b"written by the container\n"
    a = analyze(merged)
    assert ("/app/data.bin", "metadata") in {(i.path, i.cause) for i in a.items if i.by_layer == 7}


def _fake_docker(tmp_path: Path, store: Store, inspect: dict[str, Any]) -> str:
    """A docker that answers ``inspect`` in docker's shape and hands everything else to the podman store."""
    doc = tmp_path / "inspect.json"
    doc.write_text(json.dumps([inspect]))
    script = tmp_path / "docker"
    body = f'[ "$1" = inspect ] && exec cat {shlex.quote(str(doc))}\nexec {shlex.join(store.podman)} "$@"\n'
    script.write_text("#!/bin/sh\n" + body)
    script.chmod(0o755)
    return str(script)


def test_container_docker_shapes(
    tmp_path: Path, overlay_store: Store, overlay_container: Made, monkeypatch: pytest.MonkeyPatch
) -> None:
    """docker's inspect: ``/name``, ``Config.Image``, ``sha256:`` image ids, ``overlay2``; podman asked first."""
    made = overlay_container
    gd = made.inspect["GraphDriver"]
    docker_inspect = {
        "Id": made.inspect["Id"],
        "Name": "/" + made.name,
        "State": {"Status": "running"},
        "Image": "sha256:" + made.inspect["Image"],
        "Config": {"Image": "sample:1"},
        "GraphDriver": {"Name": "overlay2", "Data": {"UpperDir": gd["Data"]["UpperDir"]}},
    }
    monkeypatch.setenv("LAYERSCOPE_DOCKER", _fake_docker(tmp_path, overlay_store, docker_inspect))
    monkeypatch.setenv("LAYERSCOPE_PODMAN", str(tmp_path / "no-podman-here"))  # podman missing: docker answers
    merged = load(f"container://{made.name}")
    c = merged.image.container
    assert c is not None and (c.engine, c.name, c.state, c.image, c.read_via) == (
        "docker",
        made.name,
        "running",
        "sample:1",
        "upper-dir",
    )
    assert _model_listing(merged) == made.expected
    notes = merged.image.layers[-1].messages()
    assert f"container://{made.name}: the container is running: its writable layer may change while it is read" in notes
    # the upper directory unreadable here (e.g. not root): diff + export, said so
    docker_inspect["GraphDriver"]["Data"]["UpperDir"] = str(tmp_path / "not-here")
    monkeypatch.setenv("LAYERSCOPE_DOCKER", _fake_docker(tmp_path, overlay_store, docker_inspect))
    merged = load(f"docker-container://{made.name}")
    top = merged.image.layers[-1]
    assert merged.image.container is not None and merged.image.container.read_via == "diff-export"
    assert merged.image.container.upper_dir is None
    assert any("cannot open the upper directory (No such file or directory)" in w for w in top.messages())
    assert _model_listing(merged) == made.expected
    # neither engine knows it: one line naming both
    monkeypatch.setenv("LAYERSCOPE_DOCKER", str(tmp_path / "no-docker-either"))
    code, _, err = run_cli("report", f"container://{made.name}")
    assert code == 2
    assert err == (
        f"layerscope: error: container://{made.name}: no such container (podman: the {tmp_path}/no-podman-here "
        f"command is not installed or not on PATH; docker: the {tmp_path}/no-docker-either command is not "
        "installed or not on PATH)\n"
    )
