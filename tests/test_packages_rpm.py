"""RPM's SQLite database, against rpm itself: packages built by rpmbuild,
installed and upgraded by rpm into a root, the root packed as layers; the
truth is ``rpm -qa`` / ``rpm -ql`` on that root."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import imagegen as g
from conftest import need_tools

from layerscope.api import load
from layerscope.packages import rpm
from layerscope.packages.index import How, build

SPEC = """Name: {name}
Version: {version}
Release: 1
Summary: test
License: MIT
BuildArch: noarch
%description
test
%install
mkdir -p %{{buildroot}}/usr/bin %{{buildroot}}/usr/share/{name}
printf '#!/bin/sh\\necho {version}\\n' > %{{buildroot}}/usr/bin/{name}
printf 'data {version}\\n' > %{{buildroot}}/usr/share/{name}/data.txt
%files
/usr/bin/{name}
/usr/share/{name}
"""


def _rpm_file(tmp: Path, name: str, version: str) -> Path:
    top = tmp / "top"
    spec = tmp / f"{name}-{version}.spec"
    spec.write_text(SPEC.format(name=name, version=version))
    subprocess.run(["rpmbuild", "-bb", "--define", f"_topdir {top}", str(spec)], check=True, capture_output=True)
    return top / "RPMS" / "noarch" / f"{name}-{version}-1.noarch.rpm"


def _rpm(root: Path, *args: str) -> str:
    cmd = ["rpm", "--root", str(root), "--dbpath", "/var/lib/rpm", *args]
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout


def _specs(root: Path) -> list[g.F]:
    out = []
    for dirpath, _dirnames, filenames in os.walk(root):
        rel = "/" + os.path.relpath(dirpath, root)
        if rel != "/.":
            out.append(g.d(rel))
        for f in sorted(filenames):
            p = Path(dirpath) / f
            if not p.is_symlink() and f != ".rpm.lock":
                out.append(g.file(f"{rel.rstrip('/.')}/{f}".replace("/./", "/"), p.read_bytes()))
    return out


def test_rpmdb_sqlite_matches_rpm(tmp_path: Path) -> None:
    need_tools("rpm", "rpmbuild")
    a1 = _rpm_file(tmp_path, "alpha", "1.0")
    a2 = _rpm_file(tmp_path, "alpha", "2.0")
    b1 = _rpm_file(tmp_path, "beta", "1.0")
    root = tmp_path / "root"
    _rpm(root, "--initdb")
    _rpm(root, "-i", "--nodeps", "--nosignature", str(a1), str(b1))
    layer0 = _specs(root)
    truth0 = set(_rpm(root, "-qa", "--qf", "%{NAME} %{VERSION}-%{RELEASE} %{ARCH}\n").split("\n")) - {""}
    listed = set(_rpm(root, "-ql", "alpha").split())
    _rpm(root, "-U", "--nodeps", "--nosignature", str(a2))
    _rpm(root, "-e", "--nodeps", "beta")
    shutil.rmtree(root / "usr/share/beta", ignore_errors=True)
    layer1 = _specs(root)
    truth1 = set(_rpm(root, "-qa", "--qf", "%{NAME} %{VERSION}-%{RELEASE} %{ARCH}\n").split("\n")) - {""}
    (tmp_path / "img").mkdir()
    merged = load(g.build(tmp_path / "img", [layer0, layer1]))
    ix = build(merged)
    assert not ix.problems
    for k, truth in ((0, truth0), (1, truth1)):
        assert {f"{p.name} {p.version} {p.arch}" for p in ix.at(k).values()} == truth
    (alpha,) = [p for p in ix.at(0).values() if p.name == "alpha"]
    assert set(alpha.files) == listed
    assert ix.owner_at("/usr/bin/alpha", 0) == alpha
    # rpm records sha256 digests: the same as the core's own content digests
    entry = merged.entry_at("/usr/bin/alpha", 0)
    assert entry is not None and entry.digest_str is not None
    assert dict(alpha.digests)["/usr/bin/alpha"] == entry.digest_str
    hows = {(str(c.how), c.package.name, c.old_version) for c in ix.layers[1].changes}
    assert hows == {("upgraded", "alpha", "1.0-1"), ("removed", "beta", None)}


def test_hostile_rpmdb_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    layers = [
        [g.file("/var/lib/rpm/rpmdb.sqlite", b"SQLite format 3\0" + b"\xff" * 4000)],
        [g.file("/usr/lib/sysimage/rpm/Packages", b"\0" * 100)],
        [g.wh("/var/lib/rpm/rpmdb.sqlite"), g.file("/var/lib/rpm/Packages.db", b"\0" * 100)],
    ]
    merged = load(g.build(tmp_path, layers))
    ix = build(merged)
    texts = [p.text() for p in ix.problems]
    assert texts[0].startswith("layer 0: /var/lib/rpm/rpmdb.sqlite: not readable as a package database")
    assert texts[1] == (
        "layer 1: /usr/lib/sysimage/rpm/Packages: not readable as a package database "
        "(shorter than a Berkeley DB meta page)"
    )
    assert texts[2] == "layer 2: /var/lib/rpm/Packages.db: an RPM ndb database: reading it is not supported yet"
    assert not ix.any


def test_header_bounds_are_checked() -> None:
    import struct

    import pytest

    blob = struct.pack(">II", 1, 4) + struct.pack(">IIiI", rpm.NAME, rpm.STRING_ARRAY, 0, 1_000) + b"abc\0"
    with pytest.raises(rpm.HeaderError):
        rpm.header(blob)
    with pytest.raises(rpm.HeaderError):
        rpm.header(struct.pack(">II", 5_000_000, 0))
    assert rpm.header(struct.pack(">II", 1, 4) + struct.pack(">IIiI", rpm.NAME, rpm.STRING, 0, 1) + b"abc\0") == {
        rpm.NAME: ["abc"]
    }
    assert How.ADDED == "added"


def test_berkeley_db_packages_hold_the_same_headers_as_sqlite(tmp_path: Path) -> None:
    """RHEL 7/8's BerkeleyDB ``Packages``: made by db5.3_load from the header blobs
    rpm wrote (db5.3_dump is the truth of what the file holds), read back to the
    same packages as the SQLite database rpm made."""
    need_tools("rpm", "rpmbuild", "db5.3_load", "db5.3_dump")
    import sqlite3
    import struct

    root = tmp_path / "root"
    _rpm(root, "--initdb")
    big = _rpm_file(tmp_path, "alpha", "1.0")
    _rpm(root, "-i", "--nodeps", "--nosignature", str(big), str(_rpm_file(tmp_path, "beta", "1.0")))
    con = sqlite3.connect(root / "var/lib/rpm/rpmdb.sqlite")
    rows = con.execute("SELECT hnum, blob FROM Packages").fetchall()
    con.close()
    dump = "VERSION=3\nformat=bytevalue\ntype=hash\nHEADER=END\n"
    dump += " 00000000\n " + struct.pack("<I", len(rows) + 1).hex() + "\n"  # rpm's counter record
    for hnum, blob in rows:
        dump += f" {struct.pack('<I', hnum).hex()}\n {blob.hex()}\n"
    dump += "DATA=END\n"
    db = tmp_path / "Packages"
    subprocess.run(["db5.3_load", str(db)], input=dump.encode(), check=True)
    dumped = subprocess.run(["db5.3_dump", "-p", str(db)], capture_output=True, check=True).stdout
    assert dumped.count(b"\n ") >= 2 * (len(rows) + 1)
    sql = sorted((p.owner, p.files) for p in rpm.packages((root / "var/lib/rpm/rpmdb.sqlite").read_bytes(), "x")[0])
    got, bad = rpm.bdb_packages(db.read_bytes(), "x")
    assert bad == 0 and sorted((p.owner, p.files) for p in got) == sql
    assert len(sql) == 2
