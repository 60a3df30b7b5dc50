"""The compiled scanner against an independent reference: Python's ``tarfile``.

Random layers are written by ``tarfile`` in each of its formats (GNU with
long names, pax with xattrs and big numbers, plain ustar), compressed or not,
then read by ``layerscope._core`` and by ``tarfile``; every member must agree
on path, type, mode, owner, size, mtime, link and content digest, and the
diff_id must be the sha256 of the uncompressed stream.
"""

from __future__ import annotations

import bz2
import gzip
import hashlib
import io
import lzma
import os
import tarfile
from pathlib import Path
from typing import Any

import zstandard
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from layerscope import _core

TYPES = {
    tarfile.REGTYPE: "file",
    tarfile.AREGTYPE: "file",
    tarfile.DIRTYPE: "dir",
    tarfile.SYMTYPE: "symlink",
    tarfile.LNKTYPE: "hardlink",
    tarfile.CHRTYPE: "char",
    tarfile.BLKTYPE: "block",
    tarfile.FIFOTYPE: "fifo",
}

segment = st.text(alphabet="abcxyz-_.é", min_size=1, max_size=40).filter(
    lambda s: s not in (".", "..") and not s.startswith(".wh.")
)
paths = st.lists(segment, min_size=1, max_size=6).map("/".join)


@st.composite
def members(draw: Any) -> list[tuple[tarfile.TarInfo, bytes]]:
    out = []
    seen: set[str] = set()
    for _ in range(draw(st.integers(1, 12))):
        name = draw(paths)
        if name in seen:
            continue
        seen.add(name)
        kind = draw(st.sampled_from(["file", "file", "dir", "symlink", "hardlink", "fifo", "char"]))
        ti = tarfile.TarInfo(name)
        ti.mode = draw(st.sampled_from([0o644, 0o755, 0o4755, 0o600, 0o1777]))
        ti.uid = draw(st.sampled_from([0, 1000, 65534, 3_000_000]))
        ti.gid = draw(st.sampled_from([0, 100, 2_500_000]))
        ti.mtime = draw(st.integers(0, 2**33))
        data = b""
        if kind == "file":
            data = draw(st.binary(max_size=3000))
            ti.size = len(data)
        elif kind == "dir":
            ti.type = tarfile.DIRTYPE
        elif kind == "symlink":
            ti.type = tarfile.SYMTYPE
            ti.linkname = draw(paths)
        elif kind == "hardlink":
            files = [t.name for t, _ in out if t.type == tarfile.REGTYPE]
            if not files:
                continue
            ti.type = tarfile.LNKTYPE
            ti.linkname = draw(st.sampled_from(files))
        elif kind == "fifo":
            ti.type = tarfile.FIFOTYPE
        else:
            ti.type = tarfile.CHRTYPE
            ti.devmajor, ti.devminor = 1, 3
        if draw(st.booleans()):
            ti.pax_headers = {"SCHILY.xattr.user.note": draw(st.text(alphabet="xyz", max_size=20))}
        out.append((ti, data))
    return out


def write_tar(items: list[tuple[tarfile.TarInfo, bytes]], fmt: int) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as tf:
        for ti, data in items:
            if fmt != tarfile.PAX_FORMAT:
                ti.pax_headers = {}
            tf.addfile(ti, io.BytesIO(data) if ti.type == tarfile.REGTYPE else None)
    return buf.getvalue()


def normalise(name: str) -> str | None:
    """The reference's own reading of a member name (POSIX path rules, as tar
    extracts it): ``.`` and empty parts dropped, ``..`` refused."""
    parts = [p for p in name.split("/") if p not in ("", ".")]
    return None if ".." in parts else "/" + "/".join(parts)


def reference(blob: bytes) -> list[tuple[Any, ...]]:
    """What tarfile reads: the expected rows (last duplicate wins is moot: names are unique)."""
    rows = []
    with tarfile.open(fileobj=io.BytesIO(blob), mode="r:") as tf:
        for ti in tf:
            path = normalise(ti.name)
            kind = TYPES[ti.type]
            digest = None
            size = 0
            link = None
            if kind == "file":
                f = tf.extractfile(ti)
                assert f is not None
                digest = hashlib.sha256(f.read()).digest()
                size = ti.size
            elif kind == "symlink":
                link = ti.linkname
            elif kind == "hardlink":
                link = normalise(ti.linkname)
            xattrs = {k[13:]: v.encode() for k, v in ti.pax_headers.items() if k.startswith("SCHILY.xattr.")} or None
            rows.append((path, kind, ti.mode & 0o7777, ti.uid, ti.gid, size, ti.mtime, link, digest, xattrs))
    return rows


def scan(tmp: Path, blob: bytes) -> _core.LayerScan:
    p = tmp / "blob"
    p.write_bytes(blob)
    fh = open(p, "rb")  # noqa: SIM115 - the core closes it

    def open_it() -> _core.Blob:
        return _core.Blob(raw=fh, window=_core.Window(fd=fh.fileno(), start=0, length=os.fstat(fh.fileno()).st_size))

    (result,) = _core.scan_layers([_core.ScanJob(index=0, name="layer 0 (t)", open=open_it)])
    return result


COMPRESS = {
    "none": lambda b: b,
    "gzip": lambda b: gzip.compress(b, 1),
    "zstd": lambda b: zstandard.ZstdCompressor().compress(b),
    "xz": lzma.compress,
    "bzip2": bz2.compress,
}


@settings(
    max_examples=120, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    items=members(),
    fmt=st.sampled_from([tarfile.GNU_FORMAT, tarfile.PAX_FORMAT, tarfile.USTAR_FORMAT]),
    comp=st.sampled_from(sorted(COMPRESS)),
)
def test_core_reads_what_tarfile_reads(
    tmp_path: Path, items: list[tuple[tarfile.TarInfo, bytes]], fmt: int, comp: str
) -> None:
    try:
        tar = write_tar(items, fmt)
    except ValueError:  # ustar cannot hold this name or number: not a case
        return
    blob = COMPRESS[comp](tar)
    got = scan(tmp_path, blob)
    assert got.error is None, got.error
    assert got.compression == comp
    assert got.diff_id == "sha256:" + hashlib.sha256(tar).hexdigest()
    assert got.digest == "sha256:" + hashlib.sha256(blob).hexdigest()
    assert got.uncompressed_bytes == len(tar)
    rows = [
        (e.path, e.type, e.mode, e.uid, e.gid, e.size, e.mtime, e.link, e.digest, e.xattrs) for e in got.rows.entries()
    ]
    assert rows == reference(tar)


def test_content_offsets_point_at_the_bytes(tmp_path: Path) -> None:
    items = []
    for i in range(5):
        ti = tarfile.TarInfo(f"d/f{i}" + "x" * (i * 60))
        data = bytes([i]) * (i * 1000 + 1)
        ti.size = len(data)
        items.append((ti, data))
    tar = write_tar(items, tarfile.GNU_FORMAT)
    got = scan(tmp_path, tar)
    for row, (_ti, data) in zip(got.rows.entries(), items):
        offset = row.offset
        assert tar[offset : offset + len(data)] == data
