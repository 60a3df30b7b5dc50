"""Random access to the files of an image container: a tar archive or a directory.

Both present the same small interface (``exists``, ``size``, ``open``,
``read``) over names relative to the image root, e.g. ``manifest.json`` or
``blobs/sha256/<hex>``. Nothing is extracted: tar members are read in place
with ``os.pread`` (thread-safe, no shared file position), and a compressed
outer archive is decompressed once into a private temporary directory.
Symlinks are resolved inside the archive/layout only, never on the host.
"""

from __future__ import annotations

import io
import os
import posixpath
import shutil
import stat
import tarfile
import tempfile
import weakref
from typing import BinaryIO, Protocol

from ..errors import ImageError
from ..streams import CHUNK, LayerStream

MAX_LINK_HOPS = 16


class FileSource(Protocol):
    name: str

    def exists(self, path: str) -> bool: ...
    def size(self, path: str) -> int: ...
    def open(self, path: str) -> BinaryIO: ...
    def read(self, path: str, limit: int) -> bytes: ...
    def names(self) -> list[str]: ...
    def close(self) -> None: ...


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


class TarSource:
    """An (uncompressed) tar archive indexed once: name -> (offset, size)."""

    def __init__(self, path: str, display: str | None = None) -> None:
        self.name = display or path
        self._tmpdir: str | None = None
        real = self._maybe_decompress(path)
        try:
            self._fd = os.open(real, os.O_RDONLY)
        except OSError as exc:
            raise ImageError(f"{self.name}: cannot open ({exc.strerror})") from None
        self._finalizer = weakref.finalize(self, TarSource._cleanup, self._fd, self._tmpdir)
        self._members: dict[str, tuple[int, int]] = {}
        self._links: dict[str, str] = {}
        self._index()

    @staticmethod
    def _cleanup(fd: int, tmpdir: str | None) -> None:
        try:
            os.close(fd)
        except OSError:
            pass
        if tmpdir:
            shutil.rmtree(tmpdir, ignore_errors=True)

    def close(self) -> None:
        self._finalizer()

    def _maybe_decompress(self, path: str) -> str:
        """A gzip/zstd/xz-compressed archive is inflated once into a private temp dir."""
        with open(path, "rb") as fh:
            stream = LayerStream(fh, self.name, verify=False)
            if stream.compression == "none":
                return path
            self._tmpdir = tempfile.mkdtemp(prefix="layerscope-")
            out = os.path.join(self._tmpdir, "archive.tar")
            with open(out, "wb") as dst:
                for chunk in stream.chunks():
                    dst.write(chunk)
            return out

    def _index(self) -> None:
        try:
            fh = os.fdopen(os.dup(self._fd), "rb", buffering=CHUNK)
        except OSError as exc:
            raise ImageError(f"{self.name}: cannot read ({exc.strerror})") from None
        with fh:
            try:
                with tarfile.open(fileobj=fh, mode="r:") as tf:
                    for m in tf:
                        name = _clean(m.name)
                        if not name:
                            continue
                        if m.isfile():
                            self._members[name] = (m.offset_data, m.size)
                            self._links.pop(name, None)
                        elif m.issym():
                            self._links[name] = posixpath.join(posixpath.dirname(name), m.linkname)
                            self._members.pop(name, None)
                        elif m.islnk():
                            self._links[name] = m.linkname
                            self._members.pop(name, None)
            except (tarfile.TarError, EOFError, OSError) as exc:
                if not self._members:
                    raise ImageError(f"{self.name}: not a tar archive ({exc})") from None
        end = os.fstat(self._fd).st_size
        for name, (off, size) in list(self._members.items()):
            if off + size > end:  # truncated member: its reader reports it
                self._members[name] = (off, max(0, end - off))
        if not self._members and not self._links:
            raise ImageError(f"{self.name}: empty archive or not a tar archive")

    def _resolve(self, path: str) -> str:
        name = _clean(path)
        for _ in range(MAX_LINK_HOPS):
            if name in self._members:
                return name
            target = self._links.get(name)
            if target is None:
                raise ImageError(f"{self.name}: {path!r} is missing from the archive")
            if posixpath.isabs(target) or posixpath.normpath(target).startswith(".."):
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
        return io.BufferedReader(_Section(self._fd, off, size), CHUNK)  # type: ignore[return-value]

    def read(self, path: str, limit: int) -> bytes:
        real = self._resolve(path)
        off, size = self._members[real]
        if size > limit:
            raise ImageError(f"{self.name}: {path} is {size} bytes, over the {limit}-byte limit")
        return os.pread(self._fd, size, off)


class DirSource:
    """An image laid out as a directory (OCI layout, or an unpacked docker save)."""

    def __init__(self, root: str) -> None:
        self.name = root
        self.root = os.path.realpath(root)

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
