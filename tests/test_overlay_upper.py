"""``--upper DIR``: an overlay upper directory made by hand, on top of a synthetic image.

The upper directory is built the way the kernel writes one (character devices
0/0 for whiteouts, ``trusted.overlay.*`` xattrs for opaque directories,
redirects and metadata-only copy-ups), which needs root. The expectations are
written out by hand from overlayfs' documented rules, not computed by
layerscope's own functions.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import skip_or_fail
from imagegen import build, d, file, run_cli

from layerscope.analysis import analyze
from layerscope.api import load
from layerscope.content import ContentError, lookup, read_content
from layerscope.merge import Merged
from layerscope.model import CONTAINER_LAYER, IMAGE_LAYER, Deletion, Entry


def _whiteout(path: Path) -> None:
    os.mknod(path, stat.S_IFCHR | 0o000, os.makedev(0, 0))


def _xattr(path: Path, name: str, value: bytes) -> None:
    os.setxattr(path, name, value, follow_symlinks=False)


@pytest.fixture
def upper_ok(tmp_path: Path) -> None:
    probe = tmp_path / "probe"
    probe.mkdir()
    try:
        _whiteout(probe / "wh")
        _xattr(probe, "trusted.overlay.opaque", b"y")
    except (PermissionError, OSError) as exc:
        skip_or_fail(f"cannot make overlay markers here (root and trusted xattrs needed): {exc}")
    (probe / "wh").unlink()
    probe.rmdir()


SECRET = b"AKIAIOSFODNN7EXAMPLE\n"
DATA = b"x" * 1000


def _image(tmp_path: Path) -> str:
    out = tmp_path / "img"
    out.mkdir()
    return build(
        out,
        [
            [
                d("etc"),
                file("etc/passwd", "root:x:0:0::/root:/bin/sh\n"),
                file("etc/app.key", SECRET, mode=0o600),
                d("app"),
                file("app/data.bin", DATA),
                file("app/gone.txt", "gone\n"),
                file("app/xgone.txt", "xattr whiteout\n"),
                file("app/ocigone.txt", "oci-style whiteout\n"),
                file("app/meta.bin", b"m" * 4096),
                d("cache"),
                file("cache/one", "1" * 100),
                file("cache/two", "2" * 200),
                d("old"),
                file("old/kept-by-rename.txt", "moved\n"),
            ]
        ],
    )


def _upper(tmp_path: Path) -> Path:
    """What a container that did the following leaves in its upper directory:

    - ``chmod 600 /app/data.bin`` (a copy-up: whole file, new mode);
    - ``rm /etc/app.key`` (whiteout: char 0/0);
    - ``rm /app/gone.txt``; ``/app/xgone.txt`` by an xattr whiteout; ``/app/ocigone.txt`` by ``.wh.``;
    - ``rm -rf /cache && mkdir /cache && echo 3 > /cache/three`` (opaque dir);
    - ``echo secret > /app/new.txt && ln /app/new.txt /app/new-link`` (a hardlink);
    - ``ln -s /etc/passwd /app/pw`` and a symlink to a host dir ``/app/hostetc -> /etc``;
    - ``mkfifo /app/fifo``, a socket ``/app/sock``;
    - ``chown`` of ``/app/meta.bin`` with metacopy on (metadata only, no data);
    - ``mv /old /new`` with redirect_dir on.
    """
    up = tmp_path / "upper"
    (up / "app").mkdir(parents=True)
    (up / "etc").mkdir()
    (up / "cache").mkdir()
    (up / "new").mkdir()
    for dirname in ("app", "etc"):
        _xattr(up / dirname, "trusted.overlay.origin", b"\x00\xfb\x1d")  # overlay's own: never shown
        _xattr(up / dirname, "trusted.overlay.impure", b"y")
    (up / "app" / "data.bin").write_bytes(DATA)
    (up / "app" / "data.bin").chmod(0o600)
    _xattr(up / "app" / "data.bin", "trusted.overlay.origin", b"\x00\x01")
    _xattr(up / "app" / "data.bin", "user.note", b"kept")
    _whiteout(up / "etc" / "app.key")
    _whiteout(up / "app" / "gone.txt")
    (up / "app" / "xgone.txt").write_bytes(b"")
    _xattr(up / "app" / "xgone.txt", "trusted.overlay.whiteout", b"y")
    _xattr(up / "app", "trusted.overlay.opaque", b"x")  # "holds xattr whiteouts", not opaque
    (up / "app" / ".wh.ocigone.txt").write_bytes(b"")
    _xattr(up / "cache", "trusted.overlay.opaque", b"y")
    (up / "cache" / "three").write_bytes(b"3\n")
    (up / "app" / "new.txt").write_bytes(b"secret\n")
    os.link(up / "app" / "new.txt", up / "app" / "new-link")
    (up / "app" / "pw").symlink_to("/etc/passwd")
    (up / "app" / "hostetc").symlink_to("/etc")
    os.mkfifo(up / "app" / "fifo")
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(up / "app" / "sock"))
    sock.close()
    meta = up / "app" / "meta.bin"
    with open(meta, "wb") as fh:
        fh.truncate(4096)  # sparse: metacopy keeps no data
    os.chown(meta, 1000, 1000)
    _xattr(meta, "trusted.overlay.metacopy", b"")
    _xattr(up / "new", "trusted.overlay.redirect", b"/old")
    _whiteout(up / "old")
    return up


def _top(merged: Merged) -> list[Entry]:
    return merged.layer_entries(merged.top)


def test_upper_dir_on_an_image(tmp_path: Path, upper_ok: None) -> None:
    image = _image(tmp_path)
    up = _upper(tmp_path)
    merged = load(image, upper=str(up))
    layers = merged.image.layers
    assert [la.kind for la in layers] == [IMAGE_LAYER, CONTAINER_LAYER]
    top = layers[1]
    assert top.label == "C1" and top.source_name == str(up) and top.error is None
    got = {e.path: (e.type, e.change, oct(e.mode), e.size) for e in merged.layer_entries(top.index)}
    assert got == {
        "/app": ("dir", "rewritten", "0o755", 0),
        "/app/data.bin": ("file", "metadata", "0o600", 1000),
        "/app/fifo": ("fifo", "added", "0o644", 0),
        "/app/hostetc": ("symlink", "added", "0o777", 0),
        "/app/meta.bin": ("file", "metadata", "0o644", 4096),
        "/app/new-link": ("file", "added", "0o644", 7),
        "/app/new.txt": ("hardlink", "added", "0o644", 7),
        "/app/pw": ("symlink", "added", "0o777", 0),
        "/cache": ("dir", "rewritten", "0o755", 0),
        "/cache/three": ("file", "added", "0o644", 2),
        "/etc": ("dir", "rewritten", "0o755", 0),
        "/new": ("dir", "added", "0o755", 0),
    }
    assert sorted(top.whiteouts) == ["/app/gone.txt", "/app/ocigone.txt", "/app/xgone.txt", "/etc/app.key", "/old"]
    assert top.opaque_dirs == ["/cache"]  # "x" is not opaque
    # overlay's bookkeeping never reaches the model; the container's own xattrs do
    by_path = {e.path: e for e in merged.layer_entries(top.index)}
    assert by_path["/app"].xattrs is None
    assert by_path["/app/data.bin"].xattrs == {"user.note": b"kept"}
    assert by_path["/app/data.bin"].digest == hashlib.sha256(DATA).digest()
    assert by_path["/app/hostetc"].link == "/etc" and by_path["/app/pw"].link == "/etc/passwd"
    # size_bytes: what the upper dir stores (a metacopy file stores none; a hardlink counts once)
    assert top.size_bytes == len(DATA) + len(b"secret\n") + 2

    deleted = {p: ev.how for p in merged.paths() if type(ev := merged.state_at(p, 1)) is Deletion}
    assert deleted == {
        "/app/gone.txt": "whiteout",
        "/app/xgone.txt": "whiteout",
        "/app/ocigone.txt": "whiteout",
        "/etc/app.key": "whiteout",
        "/cache/one": "opaque",
        "/cache/two": "opaque",
        "/old": "whiteout",
        "/old/kept-by-rename.txt": "whiteout",
    }
    # the walk never went through the symlink to the host's /etc
    assert not any(p.startswith("/app/hostetc/") for p in merged.paths())

    warnings = "\n".join(top.messages())
    assert "1 socket left out" in warnings
    assert "/new: renamed by the container from /old (overlay redirect_dir)" in warnings
    assert "1 metadata-only copy-up (overlay metacopy)" in warnings
    kinds = {w.kind for w in top.warnings}
    assert {"overlay-redirect", "container-layer"} <= kinds


def test_upper_content_waste_and_findings(tmp_path: Path, upper_ok: None) -> None:
    merged = load(_image(tmp_path), upper=str(_upper(tmp_path)))
    image = merged.image
    assert read_content(image, lookup(merged, "/app/new.txt")) == b"secret\n"
    assert read_content(image, lookup(merged, "/app/new-link")) == b"secret\n"
    assert read_content(image, lookup(merged, "/app/data.bin")) == DATA
    assert read_content(image, lookup(merged, "/app/pw")) == b"/etc/passwd"  # the text, never the host file
    # metacopy: the bytes are the image's, read from the image layer
    meta = lookup(merged, "/app/meta.bin")
    assert (meta.layer, meta.uid) == (1, 1000)
    assert read_content(image, meta) == b"m" * 4096
    assert meta.digest == hashlib.sha256(b"m" * 4096).digest()

    a = analyze(merged)
    items = {(i.path, i.cause, i.layer, i.by_layer, i.size) for i in a.items}
    assert items == {
        ("/app/data.bin", "metadata", 0, 1, 1000),  # the chmod copied the whole file up
        ("/etc/app.key", "deleted", 0, 1, len(SECRET)),
        ("/app/gone.txt", "deleted", 0, 1, 5),
        ("/app/xgone.txt", "deleted", 0, 1, 15),
        ("/app/ocigone.txt", "deleted", 0, 1, 19),
        ("/cache/one", "deleted", 0, 1, 100),
        ("/cache/two", "deleted", 0, 1, 200),
        ("/old/kept-by-rename.txt", "deleted", 0, 1, 6),
        # /app/meta.bin is not waste: the metacopy still shows the lower bytes
    }
    found = {(f.rule, f.severity, f.path, f.layer) for f in a.findings}
    assert ("secret-hidden", "high", "/etc/app.key", 0) in found  # deleted by the container, still in the image
    assert ("deleted-later", "low", "/cache", 0) in found


def test_upper_cli_views(tmp_path: Path, upper_ok: None) -> None:
    image = _image(tmp_path)
    up = str(_upper(tmp_path))
    code, out, err = run_cli("ls", image, "--upper", up, "--changes", "--layer", "-1")
    assert code == 0, err
    lines = out.splitlines()
    assert "C1 metadata     /app/data.bin" in lines
    assert "C1 deleted      /etc/app.key  (whiteout; still ships in L0)" in lines
    assert "C1 deleted      /cache/one  (opaque dir /cache; still ships in L0)" in lines
    code, out, _ = run_cli("which", image, "--upper", up, "/app/data.bin")
    assert code == 0 and "* C1   metadata     file     -rw-------" in out and "[wasted: metadata by C1]" in out
    code, out, _ = run_cli("report", image, "--upper", up, "--json")
    doc = json.loads(out)
    assert [la["kind"] for la in doc["layers"]] == ["image", "container"]
    assert doc["layers"][1]["media_type"] is None and doc["layers"][1]["whiteouts"] == 5
    c = doc["image"]["container"]
    assert c["upper_dir"] == up and c["read_via"] == "upper-dir" and c["name"] is None and c["engine"] is None
    code, out, _ = run_cli("report", image, "--upper", up)
    assert code == 0 and f"Container  -; writable layer C1 read from {up}" in out
    # a renamed directory's lower content is not shown: the gate does not pass what it did not see
    code, out, _ = run_cli("ci", image, "--upper", up, "--no-config", "--min-efficiency", "0")
    assert code == 2 and "UNVERIFIED (overlay-redirect)" in out
    cat = subprocess.run(
        [sys.executable, "-m", "layerscope", "cat", image, "--upper", up, "/app/new-link"], capture_output=True
    )
    assert (cat.returncode, cat.stdout) == (0, b"secret\n")


def test_upper_content_changed_after_reading(tmp_path: Path, upper_ok: None) -> None:
    """Content is read again at its path, relative to the directory, never through a symlink planted since."""
    up = tmp_path / "upper"
    (up / "app").mkdir(parents=True)
    (up / "app" / "f").write_bytes(b"first\n")
    (up / "app" / "g").write_bytes(b"second\n")
    merged = load(_image(tmp_path), upper=str(up))
    (up / "app" / "f").unlink()
    (up / "app" / "f").symlink_to("/etc/passwd")
    with pytest.raises(ContentError, match=r"/app/f: cannot open it in layer 1"):
        read_content(merged.image, lookup(merged, "/app/f"))
    (up / "app" / "g").write_bytes(b"changed!\n")
    with pytest.raises(ContentError, match="changed in the upper directory since the layer was read"):
        read_content(merged.image, lookup(merged, "/app/g"))
    os.rename(up / "app", up / "moved")
    (up / "app").symlink_to("/etc")  # a directory on the way swapped for a link to the host
    (up / "moved" / "passwd").write_bytes(b"")
    with pytest.raises(ContentError):
        read_content(merged.image, lookup(merged, "/app/g"))


def test_upper_errors(tmp_path: Path) -> None:
    image = _image(tmp_path)
    missing = tmp_path / "nope"
    code, _, err = run_cli("report", image, "--upper", str(missing))
    assert code == 2
    assert err == f"layerscope: error: --upper {missing}: cannot open the upper directory (No such file or directory)\n"
    (tmp_path / "afile").write_text("x")
    code, _, err = run_cli("ls", image, "--upper", str(tmp_path / "afile"))
    assert (code, err) == (2, f"layerscope: error: --upper {tmp_path / 'afile'}: not a directory\n")
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    code, _, err = run_cli("report", image, "--upper", str(tmp_path / "link"))
    link = tmp_path / "link"
    assert (code, err) == (2, f"layerscope: error: --upper {link}: is a symlink; give the directory itself\n")
    code, _, err = run_cli("report", "container://x", "--upper", str(tmp_path / "real"))
    real = tmp_path / "real"
    assert (code, err) == (2, f"layerscope: error: --upper {real}: container://x already has its writable layer\n")


def test_upper_unreadable_parts_are_reported(tmp_path: Path, upper_ok: None) -> None:
    """An empty upper dir is an empty layer; names that cannot be read are left out and said to be."""
    image = _image(tmp_path)
    empty = tmp_path / "empty"
    empty.mkdir()
    merged = load(image, upper=str(empty))
    top = merged.image.layers[-1]
    assert (merged.layer_entries(top.index), top.whiteouts, top.opaque_dirs, top.messages()) == ([], [], [], [])
    assert sum(1 for _ in merged.files_at(1)) == sum(1 for _ in merged.files_at(0))
    deep = tmp_path / "deep"
    p = deep
    for _ in range(300):
        p = p / "d"
    p.mkdir(parents=True)
    merged = load(image, upper=str(deep))
    top = merged.image.layers[-1]
    assert max(e.path.count("/") for e in merged.layer_entries(top.index)) == 256
    assert any("nested over 256 directories deep; left out" in w for w in top.messages())
    assert "entries-left-out" in {w.kind for w in top.warnings}


def test_upper_hardlinks_first_name_holds_the_bytes(tmp_path: Path) -> None:
    """Whatever order the directory lists them in, the first name holds the bytes and the others link to it."""
    up = tmp_path / "upper"
    (up / "x").mkdir(parents=True)
    (up / "x" / "zz").write_bytes(b"shared\n")
    for n in ("mm", "aa", "qq"):
        os.link(up / "x" / "zz", up / "x" / n)
    (up / "b").mkdir()
    os.link(up / "x" / "zz", up / "b" / "first")  # /b/first sorts before every /x/ name
    merged = load(_image(tmp_path), upper=str(up))
    top = merged.image.layers[-1]
    links = {e.path: (e.type, e.link) for e in merged.layer_entries(top.index) if e.type in ("file", "hardlink")}
    assert links == {
        "/b/first": ("file", None),
        "/x/aa": ("hardlink", "/b/first"),
        "/x/mm": ("hardlink", "/b/first"),
        "/x/qq": ("hardlink", "/b/first"),
        "/x/zz": ("hardlink", "/b/first"),
    }
    assert top.size_bytes == 7
    for p in links:
        assert read_content(merged.image, lookup(merged, p)) == b"shared\n"


async def test_the_tui_names_the_writable_layer_c(tmp_path: Path, upper_ok: None) -> None:
    """Layer pane, status bar and tree rows call the writable layer C<n>, not L<n>."""
    from layerscope.api import BackgroundLoad, open_source
    from layerscope.ui.app import LayerscopeApp
    from layerscope.ui.widgets.file_tree import FileTree

    image = open_source(_image(tmp_path), upper=str(_upper(tmp_path)))
    top = len(image.layers) - 1
    app = LayerscopeApp(image, preload=BackgroundLoad(image))
    async with app.run_test(size=(160, 45)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        status = str(app.query_one("#status").render())
        assert f"C{top} of L0–C{top}" in status
        tree = app.query_one(FileTree)
        labels = [c.layer.plain for p in tree._shown if (c := tree.row_cells(p)) is not None]
        assert f"C{top}" in labels and f"L{top}" not in labels
