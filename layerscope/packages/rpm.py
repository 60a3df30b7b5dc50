"""RPM's database: ``rpmdb.sqlite`` (Fedora >= 36, RHEL 9), under
``/var/lib/rpm`` or ``/usr/lib/sysimage/rpm``.

The SQLite file is opened in memory (``sqlite3``'s ``deserialize``: nothing
is written to disk) read-only; each row of its ``Packages`` table is an RPM
header blob, read here (no maintained Python library parses a header without
librpm): a count of index entries and of data bytes, the entries (tag, type,
offset, count), then the data. Every offset and count is checked against the
blob, so a hostile header is a problem, never an exception or a huge list.
BerkeleyDB ``Packages`` (RHEL 7/8) is read by ``bdb.py``; ndb ``Packages.db``
(SUSE) is named as not read yet (a problem on the layer), never skipped silently.
"""

from __future__ import annotations

import posixpath
import sqlite3
import struct
from collections.abc import Callable

from . import bdb
from .records import LIMITS, Ecosystem, Package, clip
from .view import LayerView

DIRS = ("/var/lib/rpm", "/usr/lib/sysimage/rpm")
SQLITE = "rpmdb.sqlite"
BDB, NDB = "Packages", "Packages.db"  # RHEL 7/8 and CentOS; SUSE
DB_BYTES = 256 << 20

NAME, VERSION, RELEASE, EPOCH, ARCH = 1000, 1001, 1002, 1003, 1022
DIRINDEXES, BASENAMES, DIRNAMES = 1116, 1117, 1118
FILEDIGESTS, FILEDIGESTALGO = 1035, 5011
INT32, STRING, STRING_ARRAY, I18NSTRING = 4, 6, 8, 9
# rpm's PGPHASHALGO numbers -> names
_ALGO = {1: "md5", 2: "sha1", 8: "sha256", 9: "sha384", 10: "sha512"}
_WANTED = {NAME, VERSION, RELEASE, EPOCH, ARCH, DIRINDEXES, BASENAMES, DIRNAMES, FILEDIGESTS, FILEDIGESTALGO}


class HeaderError(ValueError):
    """A header blob whose offsets or counts do not fit it."""


def is_state(path: str) -> bool:
    return any(path == d or path.startswith(d + "/") for d in DIRS)


def _strings(data: bytes, off: int, count: int) -> list[str]:
    out = []
    for _ in range(count):
        end = data.find(b"\0", off)
        if end < 0:
            raise HeaderError("a string runs past the header")
        out.append(data[off:end].decode("utf-8", "replace"))
        off = end + 1
    return out


def header(blob: bytes) -> dict[int, list[str] | list[int]]:
    """The wanted tags of one header blob."""
    if len(blob) < 8:
        raise HeaderError("shorter than a header")
    il, dl = struct.unpack_from(">II", blob, 0)
    start = 8 + 16 * il
    if il > 100_000 or start + dl > len(blob):
        raise HeaderError(f"{il} entries and {dl} data bytes do not fit {len(blob)} bytes")
    data = blob[start : start + dl]
    tags: dict[int, list[str] | list[int]] = {}
    for i in range(il):
        tag, typ, off, count = struct.unpack_from(">IIiI", blob, 8 + 16 * i)
        if tag not in _WANTED:
            continue
        if off < 0 or off > dl or count > dl:
            raise HeaderError(f"tag {tag} points outside the header")
        if typ == INT32:
            if off + 4 * count > dl:
                raise HeaderError(f"tag {tag} runs past the header")
            tags[tag] = list(struct.unpack_from(f">{count}i", data, off))
        elif typ in (STRING, STRING_ARRAY, I18NSTRING):
            tags[tag] = _strings(data, off, 1 if typ == STRING else count)
    return tags


def _one(tags: dict[int, list[str] | list[int]], tag: int) -> str:
    v = tags.get(tag)
    return clip(str(v[0])) if v else ""


def package(blob: bytes, db: str) -> Package:
    tags = header(blob)
    epoch = _one(tags, EPOCH)
    version = f"{_one(tags, VERSION)}-{_one(tags, RELEASE)}"
    if epoch and epoch != "0":
        version = f"{epoch}:{version}"
    dirs = [str(d) for d in tags.get(DIRNAMES, [])]
    idx = tags.get(DIRINDEXES, [])
    bases = [str(b) for b in tags.get(BASENAMES, [])]
    files: list[str] = []
    for base, i in zip(bases, idx):
        if isinstance(i, int) and 0 <= i < len(dirs):
            files.append(posixpath.normpath(dirs[i] + base))
    algo = _ALGO.get(int(tags[FILEDIGESTALGO][0]) if tags.get(FILEDIGESTALGO) else 1, "md5")
    digests = tuple((path, f"{algo}:{d}") for path, d in zip(files, (str(x) for x in tags.get(FILEDIGESTS, []))) if d)
    return Package(Ecosystem.RPM, _one(tags, NAME), version, _one(tags, ARCH), db, tuple(files), digests)


def packages(data: bytes, db: str) -> tuple[list[Package], int]:
    """Every package of an ``rpmdb.sqlite``, opened in memory, read-only, and
    how many header blobs could not be read."""
    if data[:16] == b"SQLite format 3\0" and len(data) >= 20 and data[18:20] == b"\x02\x02":
        # rpm keeps the file in WAL mode, which an in-memory database cannot open: as a
        # rollback-journal file it reads the same (a WAL's own changes are warned of apart).
        data = data[:18] + b"\x01\x01" + data[20:]
    con = sqlite3.connect(":memory:")
    try:
        con.deserialize(data)
        con.execute("PRAGMA query_only = ON")
        rows = con.execute("SELECT blob FROM Packages LIMIT ?", (LIMITS.packages,)).fetchall()
    except sqlite3.DatabaseError as exc:
        raise ValueError(f"not an RPM SQLite database: {exc}") from None
    finally:
        con.close()
    out = []
    bad = 0
    for (blob,) in rows:
        try:
            out.append(package(blob if isinstance(blob, bytes) else b"", db))
        except HeaderError:
            bad += 1
    return out, bad


def read(view: LayerView, key: str) -> list[Package]:
    """The packages in RPM database directory ``key`` as of the view's layer."""
    names = set(view.names(key))
    if SQLITE in names:
        path = f"{key}/{SQLITE}"
        wal = view.entry(path + "-wal")
        if wal is not None and wal.size:
            view.problem(path + "-wal", "a write-ahead log with changes not in rpmdb.sqlite: they are not read")
        return _headers(view, path, packages)
    if BDB in names:
        return _headers(view, f"{key}/{BDB}", bdb_packages)
    if NDB in names:
        view.problem(f"{key}/{NDB}", "an RPM ndb database: reading it is not supported yet")
    return []


def _headers(view: LayerView, path: str, parse: Callable[[bytes, str], tuple[list[Package], int]]) -> list[Package]:
    """The packages a database file's header blobs hold; the blobs that do not parse are a problem."""
    found = view.parsed(path, DB_BYTES, lambda data: parse(data, path))
    if found is None:
        return []
    if found[1]:
        view.problem(path, f"{found[1]} package headers that do not parse were left out")
    return found[0]


def bdb_packages(data: bytes, db: str) -> tuple[list[Package], int]:
    """Every package of a BerkeleyDB ``Packages`` file (its values are header blobs)."""
    out = []
    bad = 0
    for blob in bdb.values(data, LIMITS.packages):
        if len(blob) <= 8:
            continue  # rpm's own counter record (key 0), not a package
        try:
            out.append(package(blob, db))
        except HeaderError:
            bad += 1
    return out, bad
