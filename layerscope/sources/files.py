"""Random access to the files of an image container: a tar archive or a directory.

Both present the same small interface (``exists``, ``size``, ``open``,
``read``) over names relative to the image root, e.g. ``manifest.json`` or
``blobs/sha256/<hex>``. Nothing is extracted: tar members are read in place
with ``os.pread`` (thread-safe, no shared file position), and a compressed
outer archive is decompressed once into a private temporary directory.
Symlinks are resolved inside the archive/layout only, never on the host.
"""

from __future__ import annotations

import contextlib
import io
import os
import posixpath
import shutil
import stat
import tempfile
import weakref
from collections.abc import Callable
from typing import BinaryIO, Protocol

from .._core import Window, header_fields, open_reader, pax_records
from ..errors import ImageError
from ..model import ARCHIVE_DAMAGED, DUPLICATE, LoadWarning, WarningKind

CHUNK = 1 << 20
BLOCK = 512
ZERO_BLOCK = bytes(BLOCK)

MAX_LINK_HOPS = 16
MAX_ARCHIVE_MEMBERS = 1_000_000  # members indexed in an outer archive
MAX_ARCHIVE_META = 1 << 20  # one pax header / long name in an outer archive
MIN_FREE = 1 << 30  # stop inflating a compressed archive when the temp disk gets this full
SPACE_CHECK = 256 << 20  # check free space every this many bytes written
RESYNC_CHUNK = 1 << 20
DATALESS_FLAGS = (b"1", b"2", b"3", b"4", b"5", b"6")
EXTENSION_FLAGS = (b"x", b"g", b"L", b"K")


class FileSource(Protocol):
    """What ``ImageReader`` reads an image's description from: named blobs.

    An archive or a layout directory (here) and a registry
    (``registry.RegistrySource``) are the implementations. Manifests are read
    apart from other blobs because a registry serves them at another path, and
    a layer blob's size and opener come from the source because a registry
    measures a blob only as it streams.
    """

    name: str
    warnings: list[LoadWarning]  # damage found while indexing that did not stop it
    truncated: str | None  # why the source ends before its last member does (None: it does not)

    def exists(self, path: str) -> bool: ...
    def size(self, path: str) -> int: ...
    def open(self, path: str) -> BinaryIO: ...
    def read(self, path: str, limit: int) -> bytes: ...
    def read_manifest(self, path: str, limit: int) -> bytes: ...
    def layer_size(self, path: str, declared: int | None) -> int: ...
    def layer_opener(
        self, path: str, index: int, declared: int | None, on_size: Callable[[int], None]
    ) -> Callable[[], BinaryIO]: ...
    def names(self) -> list[str]: ...
    def close(self) -> None: ...


class _StoredBlobs:
    """The ``FileSource`` operations that are plain reads for files already on
    hand (an archive's members, a layout's files): sizes are measured, and a
    manifest is a blob like any other. A mixin typed by the protocol itself."""

    def read_manifest(self: FileSource, path: str, limit: int) -> bytes:
        return self.read(path, limit)

    def layer_size(self: FileSource, path: str, declared: int | None) -> int:
        return self.size(path)

    def layer_opener(
        self: FileSource, path: str, index: int, declared: int | None, on_size: Callable[[int], None]
    ) -> Callable[[], BinaryIO]:
        return lambda: self.open(path)


def _clean(name: str) -> str:
    name = posixpath.normpath("/" + name.replace("\\", "/")).lstrip("/")
    return "" if name == "." else name


class _Section(io.RawIOBase):
    """A bounded window [offset, offset+size) of a file descriptor."""

    def __init__(self, fd: int, offset: int, size: int) -> None:
        self._fd = fd
        self._start = offset
        self._size = size
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, pos: int, whence: int = 0) -> int:
        base = {0: 0, 1: self._pos, 2: self._size}[whence]
        self._pos = max(0, min(self._size, base + pos))
        return self._pos

    def tell(self) -> int:
        return self._pos

    def window(self) -> Window:
        """The part of the file not read yet."""
        return Window(fd=self._fd, start=self._start + self._pos, length=self._size - self._pos)

    def readinto(self, b: bytearray | memoryview) -> int:  # type: ignore[override]
        n = min(len(b), self._size - self._pos)
        if n <= 0:
            return 0
        data = os.pread(self._fd, n, self._start + self._pos)
        if not data:
            return 0
        got = len(data)
        b[:got] = data
        self._pos += got
        return got

    def read(self, n: int = -1) -> bytes:
        if n is None or n < 0:
            n = self._size - self._pos
        n = min(n, self._size - self._pos)
        if n <= 0:
            return b""
        data = os.pread(self._fd, n, self._start + self._pos)
        self._pos += len(data)
        return data


class _IndexWalk:
    """What the walk of an outer archive's headers carries from one header to
    the next: extension records waiting for their member, the members seen,
    names stored twice, and whether damage was skipped (after which an earlier
    copy of a member wins)."""

    def __init__(self) -> None:
        self.pax: dict[str, bytes] = {}
        self.gpax: dict[str, bytes] = {}
        self.long_name: bytes | None = None
        self.long_link: bytes | None = None
        self.dupes: dict[str, int] = {}
        self.members = 0
        self.resynced = False

    def keep_extension(self, flag: bytes, data: bytes) -> None:
        if flag == b"x":
            self.pax.update(pax_records(data))
        elif flag == b"g":
            self.gpax.update(pax_records(data))
        elif flag == b"L":
            self.long_name = data.split(b"\0", 1)[0]
        else:
            self.long_link = data.split(b"\0", 1)[0]

    def take_names(self, hdr: bytes, size: int) -> tuple[bytes, bytes, int]:
        """A member's name, link target and size, with the pending extensions
        applied (and used up: a global pax header stays)."""
        raw_name = self.long_name if self.long_name is not None else hdr[0:100].split(b"\0", 1)[0]
        if self.long_name is None and hdr[257:263] == b"ustar\x00":
            prefix = hdr[345:500].split(b"\0", 1)[0]
            if prefix:
                raw_name = prefix + b"/" + raw_name
        raw_link = self.long_link if self.long_link is not None else hdr[157:257].split(b"\0", 1)[0]
        if self.pax or self.gpax:
            ext = {**self.gpax, **self.pax}
            raw_name = ext.get("path", raw_name)
            raw_link = ext.get("linkpath", raw_link)
            if ext.get("size", b"").isdigit():
                size = int(ext["size"])
            self.pax = {}
        self.long_name = self.long_link = None
        return raw_name, raw_link, size


class TarSource(_StoredBlobs):
    """An (uncompressed) tar archive indexed once: name -> (offset, size)."""

    def __init__(self, path: str, display: str | None = None) -> None:
        self.name = display or path
        self._tmpdir: str | None = None
        real = self._maybe_decompress(path)
        try:
            self._fd = os.open(real, os.O_RDONLY)
        except OSError as exc:
            self._drop_tmp()
            raise ImageError(f"{self.name}: cannot open ({exc.strerror})") from None
        self._finalizer = weakref.finalize(self, TarSource._cleanup, self._fd, self._tmpdir)
        self._members: dict[str, tuple[int, int]] = {}
        self._links: dict[str, str] = {}
        self.warnings: list[LoadWarning] = []
        self.truncated: str | None = None
        try:
            self._index()
        except BaseException:
            self.close()
            raise

    @staticmethod
    def _cleanup(fd: int, tmpdir: str | None) -> None:
        with contextlib.suppress(OSError):
            os.close(fd)
        if tmpdir:
            shutil.rmtree(tmpdir, ignore_errors=True)

    def close(self) -> None:
        self._finalizer()

    def _maybe_decompress(self, path: str) -> str:
        """A gzip/zstd/xz-compressed archive is inflated once into a private temp dir."""
        try:
            fh = open(path, "rb")  # noqa: SIM115 - closed by the with below
        except OSError as exc:
            raise ImageError(f"{self.name}: cannot open ({exc.strerror})") from None
        try:
            stream = open_reader(fh, None, self.name)
        except OSError as exc:
            fh.close()
            raise ImageError(f"{self.name}: cannot read ({exc})") from None
        with stream:
            if stream.compression == "none":
                return path
            self._tmpdir = tempfile.mkdtemp(prefix="layerscope-")
            out = os.path.join(self._tmpdir, "archive.tar")
            try:
                written = 0
                # O_EXCL|O_NOFOLLOW: our own fresh file in our own 0700 dir, nothing else.
                fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
                with os.fdopen(fd, "wb") as dst:
                    while chunk := stream.read(CHUNK):
                        dst.write(chunk)
                        written += len(chunk)
                        if written % SPACE_CHECK < len(chunk) and shutil.disk_usage(self._tmpdir).free < MIN_FREE:
                            raise ImageError(
                                f"{self.name}: decompressing the archive would fill the disk "
                                f"({written >> 20} MiB written so far); decompress it yourself"
                            )
            except OSError as exc:
                self._drop_tmp()
                raise ImageError(f"{self.name}: cannot decompress the archive ({exc.strerror or exc})") from None
            except BaseException:
                self._drop_tmp()
                raise
            return out

    def _drop_tmp(self) -> None:
        if self._tmpdir:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
            self._tmpdir = None

    def _warn(self, msg: str, kind: WarningKind = ARCHIVE_DAMAGED, truncated: str | None = None) -> None:
        """Damage to the outer archive: what sits in or past it may not be read as written.

        ``truncated``: the file ends before the archive does, and where (the
        first is kept: when no image can be found, the cut is the cause).
        """
        if truncated is not None and self.truncated is None:
            self.truncated = truncated
        if len(self.warnings) < 20:
            self.warnings.append(LoadWarning(kind, f"{self.name}: {msg}"))

    def _index(self) -> None:
        """Walk the tar headers with pread (content is skipped, never read).

        Damage after the first member is a warning (what was indexed stays
        usable); an archive whose first header is bad is not a tar archive.
        """
        try:
            end = os.fstat(self._fd).st_size
        except OSError as exc:
            raise ImageError(f"{self.name}: cannot read ({exc.strerror})") from None
        walk = _IndexWalk()
        off: int | None = 0
        while off is not None:
            off = self._index_one(off, end, walk)
        if walk.dupes:
            listed = ", ".join(f"{n!r} ({c}x)" for n, c in sorted(walk.dupes.items())[:5])
            more = f" and {len(walk.dupes) - 5} more" if len(walk.dupes) > 5 else ""
            self._warn(f"members stored more than once: {listed}{more}; the last copy is used", DUPLICATE)
        if not self._members and not self._links:
            raise ImageError(f"{self.name}: empty archive or not a tar archive")

    def _index_one(self, off: int, end: int, walk: _IndexWalk) -> int | None:
        """Index the header at ``off``: the offset of the next one, or None at the end."""
        hdr = self._header_at(off, end)
        if hdr is None:
            return None
        if hdr == ZERO_BLOCK:
            return self._past_end_marker(off, end, walk)
        fields = header_fields(hdr)
        ok, size = fields.ok, fields.size
        if not ok or size is None or size < 0:
            return self._past_bad_header(off, end, walk)
        walk.members += 1
        if walk.members > MAX_ARCHIVE_MEMBERS:
            self._warn(f"over {MAX_ARCHIVE_MEMBERS} members; the rest of the archive is ignored")
            return None
        flag = hdr[156:157]
        data_off = off + BLOCK
        if flag in EXTENSION_FLAGS:
            return self._extension(flag, off, size, walk)
        raw_name, raw_link, size = walk.take_names(hdr, size)
        name = _clean(raw_name.decode("utf-8", "surrogateescape"))
        known = name in self._members or name in self._links
        if name and known:
            walk.dupes[name] = walk.dupes.get(name, 1) + 1
        nxt = data_off if flag in DATALESS_FLAGS else data_off + size + (-size % BLOCK)
        # After damage, what was read before it is the better copy.
        if name and not (walk.resynced and known):
            self._record(name, raw_link.decode("utf-8", "surrogateescape"), flag, data_off, size, end)
        return nxt

    def _header_at(self, off: int, end: int) -> bytes | None:
        """The 512-byte header at ``off``, or None where the file ends (warned if mid-header)."""
        try:
            hdr = os.pread(self._fd, BLOCK, off) if off < end else b""
        except OSError as exc:
            raise ImageError(f"{self.name}: read error at offset {off} ({exc.strerror})") from None
        if len(hdr) == BLOCK:
            return hdr
        if hdr.strip(b"\0"):
            self._warn(
                f"truncated tar header at offset {off}; the archive ends early",
                truncated=f"it ends inside the tar header at offset {off}",
            )
        return None  # no end-of-archive zeros: tolerated, like GNU tar

    def _past_end_marker(self, off: int, end: int, walk: _IndexWalk) -> int | None:
        """A zero block: the end, unless members follow it (then they are read too)."""
        nxt = self._find_header(off + BLOCK, end)
        if nxt is None:
            return None  # the end-of-archive marker, then only zeros (or nothing)
        self._warn(f"tar members after the end-of-archive marker at offset {off}; read as well")
        walk.resynced = True
        return nxt

    def _past_bad_header(self, off: int, end: int, walk: _IndexWalk) -> int | None:
        """A header that does not parse: fatal at offset 0, else skip to the next good one."""
        if off == 0:
            raise ImageError(f"{self.name}: not a tar archive (bad header at offset 0)")
        nxt = self._find_header(off + 1, end)
        if nxt is None:
            self._warn(f"bad tar header at offset {off}; the rest of the archive is ignored")
            return None
        self._warn(f"bad tar header at offset {off}; skipped to the next header at offset {nxt}")
        walk.resynced = True
        return nxt

    def _extension(self, flag: bytes, off: int, size: int, walk: _IndexWalk) -> int | None:
        """A pax or GNU long-name header: kept for the member it precedes."""
        if size > MAX_ARCHIVE_META:
            self._warn(f"extension header of {size} bytes at offset {off}; the rest of the archive is ignored")
            return None
        data_off = off + BLOCK
        data = os.pread(self._fd, size, data_off)
        if len(data) < size:
            self._warn(
                f"truncated extension header at offset {off}",
                truncated=f"it ends inside the extension header at offset {off}",
            )
            return None
        walk.keep_extension(flag, data)
        return data_off + size + (-size % BLOCK)

    def _record(self, name: str, linkname: str, flag: bytes, data_off: int, size: int, end: int) -> None:
        """Index one member: a file's place, a link's target; any other type replaces either."""
        if flag in (b"0", b"\0", b"7"):
            if data_off + size > end:
                missing = data_off + size - end
                self._warn(
                    f"member {name!r} is truncated ({missing} bytes missing)",
                    truncated=f"it ends inside member {name!r}, {missing} bytes short",
                )
                size = max(0, end - data_off)
            self._members[name] = (data_off, size)
            self._links.pop(name, None)
        elif flag == b"2":
            self._links[name] = posixpath.join(posixpath.dirname(name), linkname)
            self._members.pop(name, None)
        elif flag == b"1":
            self._links[name] = linkname
            self._members.pop(name, None)
        else:
            self._members.pop(name, None)
            self._links.pop(name, None)

    def _find_header(self, start: int, end: int) -> int | None:
        """The next offset >= start holding a valid ustar header (damage recovery, rare)."""
        pos = start
        while pos < end:
            chunk = os.pread(self._fd, RESYNC_CHUNK + BLOCK, pos)
            if not chunk:
                return None
            i = chunk.find(b"ustar", 257)
            while 0 <= i <= RESYNC_CHUNK + 257:
                cand = pos + i - 257
                hdr = os.pread(self._fd, BLOCK, cand)
                if len(hdr) == BLOCK and (fields := header_fields(hdr)).ok and fields.size is not None:
                    return cand
                i = chunk.find(b"ustar", i + 1)
            pos += RESYNC_CHUNK
        return None

    def _resolve(self, path: str) -> str:
        name = _clean(path)
        for _ in range(MAX_LINK_HOPS):
            if name in self._members:
                return name
            target = self._links.get(name)
            if target is None:
                damage = f" ({self.warnings[0].message.removeprefix(self.name + ': ')})" if self.warnings else ""
                raise ImageError(f"{self.name}: {path!r} is missing from the archive{damage}")
            norm = posixpath.normpath(target)
            if posixpath.isabs(target) or norm == ".." or norm.startswith("../"):
                raise ImageError(f"{self.name}: {path!r} is a link that escapes the archive")
            name = _clean(target)
        raise ImageError(f"{self.name}: {path!r} is a link cycle inside the archive")

    def names(self) -> list[str]:
        return sorted(set(self._members) | set(self._links))

    def exists(self, path: str) -> bool:
        try:
            self._resolve(path)
        except ImageError:
            return False
        return True

    def size(self, path: str) -> int:
        return self._members[self._resolve(path)][1]

    def open(self, path: str) -> BinaryIO:
        off, size = self._members[self._resolve(path)]
        return io.BufferedReader(_Section(self._fd, off, size), CHUNK)

    def read(self, path: str, limit: int) -> bytes:
        real = self._resolve(path)
        off, size = self._members[real]
        if size > limit:
            raise ImageError(f"{self.name}: {path} is {size} bytes, over the {limit}-byte limit")
        return os.pread(self._fd, size, off)


class DirSource(_StoredBlobs):
    """An image laid out as a directory (OCI layout, or an unpacked docker save)."""

    def __init__(self, root: str) -> None:
        self.name = root
        self.root = os.path.realpath(root)
        self.warnings: list[LoadWarning] = []
        self.truncated: str | None = None  # a directory has no end to be cut at

    def close(self) -> None:
        pass

    def _path(self, path: str) -> str:
        name = _clean(path)
        full = os.path.realpath(os.path.join(self.root, name))
        if full != self.root and not full.startswith(self.root + os.sep):
            raise ImageError(f"{self.name}: {path!r} points outside the image directory")
        return full

    def names(self) -> list[str]:
        out = []
        for dirpath, _dirs, files in os.walk(self.root):
            for f in files:
                out.append(os.path.relpath(os.path.join(dirpath, f), self.root))
        return sorted(out)

    def exists(self, path: str) -> bool:
        try:
            return os.path.isfile(self._path(path))
        except ImageError:
            return False

    def _open_fd(self, path: str) -> int:
        full = self._path(path)
        try:
            fd = os.open(full, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW)
        except FileNotFoundError:
            raise ImageError(f"{self.name}: {path} is missing") from None
        except OSError as exc:
            raise ImageError(f"{self.name}: cannot open {path} ({exc.strerror})") from None
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            os.close(fd)
            raise ImageError(f"{self.name}: {path} is not a regular file")
        os.set_blocking(fd, True)
        return fd

    def size(self, path: str) -> int:
        fd = self._open_fd(path)
        try:
            return os.fstat(fd).st_size
        finally:
            os.close(fd)

    def open(self, path: str) -> BinaryIO:
        return os.fdopen(self._open_fd(path), "rb", buffering=CHUNK)

    def read(self, path: str, limit: int) -> bytes:
        with self.open(path) as fh:
            data = fh.read(limit + 1)
        if len(data) > limit:
            raise ImageError(f"{self.name}: {path} is over the {limit}-byte limit")
        return data


def open_files(path: str) -> FileSource:
    """Open an image path as a directory or an archive; fail in one clear line."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise ImageError(f"{path}: no such file or directory") from None
    except OSError as exc:
        raise ImageError(f"{path}: cannot open ({exc.strerror})") from None
    if stat.S_ISDIR(st.st_mode):
        return DirSource(path)
    if not stat.S_ISREG(st.st_mode):
        raise ImageError(f"{path}: not a regular file or directory")
    if st.st_size == 0:
        raise ImageError(f"{path}: empty file")
    return TarSource(path)


def window_of(raw: BinaryIO) -> Window | None:
    """The window of a blob opened by a source in its file, for the core to
    read with positioned reads; None for a stream that is not a plain file."""
    inner = getattr(raw, "raw", None)
    if isinstance(inner, _Section):
        return inner.window()
    if isinstance(inner, io.FileIO):
        try:
            st = os.fstat(inner.fileno())
            pos = raw.tell()
        except OSError:
            return None
        if stat.S_ISREG(st.st_mode):
            return Window(fd=inner.fileno(), start=pos, length=max(0, st.st_size - pos))
    return None
