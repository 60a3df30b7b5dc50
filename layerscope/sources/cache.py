"""A cache of verified registry blobs, by digest, bounded in size.

A second look at the same image (another command, the content view, a
``--base`` that shares layers) should not download it again. A blob is copied
into the cache while it streams to the engine and kept only if every byte
arrived and its digest is the one asked for: the cache never holds a blob that
was not verified, so a hit is read like a file (in place, in parallel).

Layout: ``DIR/blobs/<alg>/<hex>``, the directory mode 0700 and files 0600 (a
private registry's layers are as private here as the registry made them).
``DIR`` is ``$LAYERSCOPE_CACHE_DIR``, else ``${XDG_CACHE_HOME:-~/.cache}/layerscope``;
the size bound is ``$LAYERSCOPE_CACHE_SIZE`` (default 2 GiB). When a new blob
takes it over the bound, the least recently used blobs go first.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import threading
import uuid
from typing import BinaryIO

DEFAULT_MAX_BYTES = 2 << 30
CHUNK = 1 << 20
_DIGEST = re.compile(r"^(sha256:[0-9a-f]{64}|sha512:[0-9a-f]{128})$")
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]i?b?|b)?\s*$", re.I)


class CacheConfigError(ValueError):
    """``$LAYERSCOPE_CACHE_SIZE`` is not a size."""


def parse_size(text: str) -> int:
    """``2GiB``, ``500MB``, ``1g``, a byte count."""
    m = _SIZE.match(text)
    if not m:
        raise CacheConfigError(f"LAYERSCOPE_CACHE_SIZE={text[:40]!r} is not a size (e.g. 2GiB, 500MB, bytes)")
    unit = (m.group(2) or "b").lower()
    base = 1024 if "i" in unit else 1000
    return int(float(m.group(1)) * base ** "bkmgt".index(unit[0]))


def default_dir() -> str:
    env = os.environ
    if env.get("LAYERSCOPE_CACHE_DIR"):
        return env["LAYERSCOPE_CACHE_DIR"]
    base = env.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "layerscope")


class BlobCache:
    """Verified blobs on disk, addressed by digest."""

    def __init__(self, root: str | None = None, max_bytes: int | None = None) -> None:
        self.root = root or default_dir()
        if max_bytes is None:
            raw = os.environ.get("LAYERSCOPE_CACHE_SIZE")
            max_bytes = parse_size(raw) if raw else DEFAULT_MAX_BYTES
        self.max_bytes = max_bytes
        self._lock = threading.Lock()

    def _path(self, digest: str) -> str | None:
        if not _DIGEST.match(digest):
            return None
        alg, hexd = digest.split(":", 1)
        return os.path.join(self.root, "blobs", alg, hexd)

    def open(self, digest: str) -> BinaryIO | None:
        """The cached blob, or None. A hit counts as a use (it is kept longer)."""
        path = self._path(digest)
        if path is None:
            return None
        try:
            fh = open(path, "rb", buffering=CHUNK)  # noqa: SIM115 - the caller closes it
        except OSError:
            return None
        with contextlib.suppress(OSError):
            os.utime(fh.fileno())
        return fh

    def read(self, digest: str, limit: int) -> bytes | None:
        """A small cached blob (a config) whole, or None."""
        fh = self.open(digest)
        if fh is None:
            return None
        with fh:
            data = fh.read(limit + 1)
        return data if len(data) <= limit else None

    def writer(self, digest: str) -> CacheWriter | None:
        """Somewhere to copy a blob while it streams; None when the cache cannot take it."""
        path = self._path(digest)
        if path is None:
            return None
        try:
            os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
            os.chmod(self.root, 0o700)
            tmp = os.path.join(os.path.dirname(path), f".partial-{uuid.uuid4().hex}")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        except OSError:
            return None
        return CacheWriter(self, digest, path, tmp, os.fdopen(fd, "wb", buffering=CHUNK))

    def put(self, digest: str, data: bytes) -> None:
        """Keep a small blob already in memory (and already verified by the caller)."""
        w = self.writer(digest)
        if w is not None:
            w.write(data)
            w.finish(verified=True)

    def prune(self) -> None:
        """Drop the least recently used blobs until the cache fits its bound."""
        with self._lock:
            files: list[tuple[float, int, str]] = []
            blobs = os.path.join(self.root, "blobs")
            try:
                algs = os.listdir(blobs)
            except OSError:
                return
            for alg in algs:
                d = os.path.join(blobs, alg)
                try:
                    names = os.listdir(d)
                except OSError:
                    continue
                for name in names:
                    if name.startswith(".partial-"):
                        continue
                    p = os.path.join(d, name)
                    try:
                        st = os.stat(p)
                    except OSError:
                        continue
                    files.append((st.st_mtime, st.st_size, p))
            total = sum(size for _, size, _ in files)
            for _, size, p in sorted(files):
                if total <= self.max_bytes:
                    break
                with contextlib.suppress(OSError):
                    os.unlink(p)
                    total -= size


class CacheWriter:
    """A blob being copied into the cache; it appears under its digest only once verified."""

    def __init__(self, cache: BlobCache, digest: str, path: str, tmp: str, fh: BinaryIO) -> None:
        self._cache = cache
        self._digest = digest
        self._path = path
        self._tmp = tmp
        self._fh: BinaryIO | None = fh
        alg = digest.split(":", 1)[0]
        self._hash = hashlib.new(alg)
        self.size = 0

    def write(self, data: bytes) -> None:
        """Copy one chunk; a full disk only means the blob is not cached."""
        if self._fh is None:
            return
        self._hash.update(data)
        self.size += len(data)
        try:
            self._fh.write(data)
        except OSError:
            self.finish(verified=False)

    def finish(self, verified: bool) -> bool:
        """Keep the copy when the whole blob arrived (``verified``) and its digest matches."""
        fh, self._fh = self._fh, None
        if fh is None:
            return False
        keep = verified and self._hash.hexdigest() == self._digest.split(":", 1)[1]
        try:
            fh.close()
            if keep:
                os.replace(self._tmp, self._path)
        except OSError:
            keep = False
        if not keep:
            with contextlib.suppress(OSError):
                os.unlink(self._tmp)
            return False
        if self.size:
            self._cache.prune()
        return True
