"""Saving a version to the host (layerscope.export): bytes, names, and what is never touched."""

from __future__ import annotations

import hashlib
import os
import stat
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest
from imagegen import build, file, hard, wh

from layerscope.api import load
from layerscope.content import ContentError
from layerscope.export import (
    SaveError,
    SaveExists,
    last_version,
    name_problem,
    save_version,
    suggested_name,
)
from layerscope.merge import Merged
from layerscope.model import Entry

SECRET = b"id_rsa: not really\n" * 50


def image(tmp: Path) -> Merged:
    """L0 adds /root/.ssh/id_rsa and a hardlink to it; L1 deletes both names."""
    path = build(
        tmp,
        [
            [file("/root/.ssh/id_rsa", SECRET, mode=0o4755), hard("/root/.ssh/link", "/root/.ssh/id_rsa")],
            [wh("/root/.ssh/id_rsa"), wh("/root/.ssh/link"), file("/etc/x", "x")],
        ],
    )
    return load(path)


def version(m: Merged, path: str) -> Entry:
    entry = last_version(m, path, m.top)
    assert entry is not None
    return entry


def test_a_deleted_version_is_saved_byte_for_byte(tmp_path: Path) -> None:
    m = image(tmp_path)
    assert m.entry_at("/root/.ssh/id_rsa", m.top) is None  # deleted as of the top
    out = tmp_path / "out"
    out.mkdir()
    for path in ("/root/.ssh/id_rsa", "/root/.ssh/link"):  # the hardlink's bytes are its target's
        name = suggested_name(path)
        assert save_version(m.image, version(m, path), name, str(out)) == len(SECRET)
        assert (out / name).read_bytes() == SECRET
        assert stat.S_IMODE((out / name).stat().st_mode) == 0o600  # never the image's setuid mode


def test_existing_names_and_symlinks_are_never_written_through(tmp_path: Path) -> None:
    m = image(tmp_path)
    entry = version(m, "/root/.ssh/id_rsa")
    victim = tmp_path / "victim"
    victim.write_text("keep")
    for name, make in (("file", lambda p: p.write_text("old")), ("link", lambda p: p.symlink_to(victim))):
        target = tmp_path / name
        make(target)
        with pytest.raises(SaveExists):
            save_version(m.image, entry, name, str(tmp_path))
        assert victim.read_text() == "keep"
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    with pytest.raises(SaveExists):
        save_version(m.image, entry, "dangling", str(tmp_path))
    assert not (tmp_path / "nowhere").exists()
    # overwrite: the link itself is replaced, its target is untouched
    save_version(m.image, entry, "link", str(tmp_path), overwrite=True)
    assert not (tmp_path / "link").is_symlink() and (tmp_path / "link").read_bytes() == SECRET
    assert victim.read_text() == "keep"
    # a directory is not replaced; no temporary file stays behind
    (tmp_path / "adir").mkdir()
    before = sorted(os.listdir(tmp_path))
    with pytest.raises(SaveError):
        save_version(m.image, entry, "adir", str(tmp_path), overwrite=True)
    assert sorted(os.listdir(tmp_path)) == before


def test_a_failed_read_leaves_no_partial_file(tmp_path: Path) -> None:
    m = image(tmp_path)
    entry = version(m, "/root/.ssh/id_rsa")

    def broken() -> Iterator[bytes]:
        yield b"half"
        raise ContentError("layer 0 ends before the file's content does")

    with pytest.raises(ContentError):
        save_version(m.image, entry, "partial", str(tmp_path), chunks=broken())
    assert not (tmp_path / "partial").exists()
    (tmp_path / "partial").write_text("mine")
    with pytest.raises(ContentError):
        save_version(m.image, entry, "partial", str(tmp_path), overwrite=True, chunks=broken())
    assert (tmp_path / "partial").read_text() == "mine"
    assert sorted(os.listdir(tmp_path)) == ["image.tar", "partial"]  # the temporary file is gone


def test_names_are_plain_names_in_the_directory(tmp_path: Path) -> None:
    for bad in ("", ".", "..", "a/b", "../x", "/etc/passwd", "x\ny", "\x1b[31m", "a" * 256):
        assert name_problem(bad) is not None, bad
    for good in ("credentials", ".env", "id_rsa (L3)", "ü.txt"):
        assert name_problem(good) is None, good
    assert suggested_name("/root/.aws/credentials") == "credentials"
    assert suggested_name("/srv/red\x1b[31m") == "red_[31m"
    assert suggested_name("/srv/\udcff.bin") == "_.bin"  # a byte that is not UTF-8
    m = image(tmp_path)
    with pytest.raises(SaveError, match="no /"):
        save_version(m.image, version(m, "/root/.ssh/id_rsa"), "../escape", str(tmp_path))
    assert not (tmp_path.parent / "escape").exists()
    with pytest.raises(SaveError, match="only regular files"):
        save_version(m.image, version(m, "/root/.ssh"), "ssh", str(tmp_path))


def test_content_is_streamed_not_held_whole(tmp_path: Path) -> None:
    big = os.urandom(1 << 16) * 512  # 32 MiB
    path = build(tmp_path, [[file("/big.bin", big)]])
    m = load(path)
    entry = version(m, "/big.bin")
    tracemalloc.start()
    try:
        save_version(m.image, entry, "big.bin", str(tmp_path))
        _now, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 << 20, peak  # a few 1 MiB chunks, never the 32 MiB
    digest = hashlib.sha256((tmp_path / "big.bin").read_bytes()).digest()
    assert digest == hashlib.sha256(big).digest() == entry.digest
