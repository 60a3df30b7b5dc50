"""A container's writable layer, read in place from an overlay upper directory.

With the overlay driver every change a container makes lands in one
directory, the *upper* directory (``GraphDriver.Data.UpperDir`` in
``inspect``): a copy-up of each file it wrote or changed the metadata of,
every directory on the way to them, and the kernel's markers for what it
deleted. This module reads that directory as a layer of the model, the way
the core reads a tar layer, so that merge, analysis and every view treat it
like any other layer.

Overlay's markers become the model's deletions:

- a character device 0/0, or a zero-size file with the ``overlay.whiteout``
  xattr (kernel 6.7+), is a *whiteout* of its name;
- a directory whose ``overlay.opaque`` xattr is ``y`` is *opaque*: nothing of
  the directories below shows through it (``x`` only says that it holds
  xattr whiteouts);
- ``.wh.NAME`` and ``.wh..wh..opq`` files (fuse-overlayfs writes them where it
  cannot make device nodes) mean what they mean in a tar layer.

The xattrs are read in the ``trusted.overlay.``, ``user.overlay.`` and
``user.fuseoverlayfs.`` namespaces; they are overlay's bookkeeping, not the
container's, so they never reach the model (nor does ``security.selinux``, the
host's label). Two features change what the upper directory means:

- ``metacopy``: a file whose ``overlay.metacopy`` xattr is set holds only
  metadata, its bytes are the lower file's (at its ``overlay.redirect`` path
  if it has one). Such an entry takes the lower version's digest and points at
  it for its content (``Entry.source``); it stores no bytes of its own.
- ``redirect_dir``: a directory with an ``overlay.redirect`` xattr was renamed
  by the container; the merged view lists under it what the lower directory
  at the redirect path held. The model has no renames: the directory's lower
  content is not shown under its new name, and a warning (kind
  ``overlay-redirect``, which blocks the gate) says so.

Nothing is followed or extracted on the host: the walk holds a descriptor per
directory level and opens every name relative to its parent's descriptor with
``O_NOFOLLOW`` (``openat``), each object is checked after opening to be the
one that was listed, symlinks are only read (their target text), and file
content is hashed as a stream. Memory per entry is the model's ``Entry``;
beyond it, the walk keeps the names of the subdirectories still to visit and
the inodes with several links (to find hardlinks).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat
import weakref
from collections.abc import Callable
from dataclasses import replace
from typing import Any, BinaryIO, cast

from ..errors import ImageError
from ..model import (
    BLOCK,
    CHAR,
    CONTAINER_LAYER,
    CONTAINER_NOTE,
    DIR,
    ENTRIES_LEFT_OUT,
    FIFO,
    FILE,
    HARDLINK,
    OVERLAY_REDIRECT,
    SYMLINK,
    Entry,
    Layer,
    LayerContent,
    LoadWarning,
    WarningKind,
)

MAX_MEMBERS = 2_000_000  # like a tar layer: the rest is reported, not read
MAX_DEPTH = 256  # path components
MAX_WARNINGS = 50
CHUNK = 1 << 20
PROGRESS_EVERY = 8 << 20  # bytes hashed between progress calls

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
# O_NONBLOCK: a name swapped for a FIFO between listing and opening must not hang the walk.
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC

# overlay's own xattrs (privileged, unprivileged "userxattr", fuse-overlayfs).
OVERLAY_PREFIXES = ("trusted.overlay.", "user.overlay.", "user.fuseoverlayfs.")
_MARKERS = frozenset({"opaque", "whiteout", "redirect", "metacopy"})
HOST_XATTRS = frozenset({"security.selinux"})  # the host's label, not the container's data
_PROC_FD = "/proc/self/fd"


class UpperDirError(ImageError):
    """The upper directory cannot be opened at all."""


class ChangedError(OSError):
    """A file of the upper directory is not what it was when the layer was read."""


def _name(raw: str) -> str:
    """A directory entry's name as the model spells paths (UTF-8, surrogateescape: any bytes round-trip)."""
    return raw if raw.isascii() else os.fsencode(raw).decode("utf-8", "surrogateescape")


def _raw(component: str) -> bytes:
    return component.encode("utf-8", "surrogateescape")


def open_upper(path: str) -> int:
    """A descriptor on the upper directory itself; one clear error if it is not one."""
    try:
        fd = os.open(path, _DIR_FLAGS)
    except OSError as exc:
        if exc.errno in (40, 20) and os.path.islink(path):  # ELOOP / ENOTDIR from O_NOFOLLOW
            raise UpperDirError(f"{path}: is a symlink; give the directory itself") from None
        if exc.errno == 20:
            raise UpperDirError(f"{path}: not a directory") from None
        raise UpperDirError(f"{path}: cannot open the upper directory ({exc.strerror})") from None
    return fd


def _close(fd: int) -> None:
    with contextlib.suppress(OSError):
        os.close(fd)


class UpperDir:
    """An overlay upper directory as a :class:`~layerscope.model.LayerSource`.

    The directory is opened when this is made (so a bad ``--upper`` fails
    before any layer is read) and stays open as long as this object lives:
    content is read relative to it later.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self._fd = open_upper(path)
        self._finalizer = weakref.finalize(self, _close, self._fd)

    def close(self) -> None:
        self._finalizer()

    # -- reading the layer ------------------------------------------------------
    def read(self, layer: Layer, progress: Callable[[int, int], None] | None) -> tuple[Layer, LayerContent]:
        walk = _Walk(self._fd, layer, progress)
        error = layer.error
        try:
            walk.run()
        except OSError as exc:
            error = f"{self.path}: cannot read the upper directory ({exc.strerror or exc})"
        read = walk.finish(error)
        # Metadata-only copy-ups show the bytes of the lower version they
        # point at: the merge finds that version (and says when none is a file).
        copy_ups = {e.path: _redirect_target(e.path, redirect) for e, redirect in walk.metacopy}
        return read, LayerContent(entries=tuple(walk.entries), copy_ups=copy_ups)

    def open_entry(self, entry: Entry) -> BinaryIO:
        """Open ``entry``'s file again, component by component, never following a link."""
        parts = [p for p in entry.path.split("/") if p]
        if not parts:
            raise ChangedError(21, "is a directory")
        dfd = self._fd
        opened: list[int] = []
        try:
            for part in parts[:-1]:
                dfd = os.open(_raw(part), _DIR_FLAGS, dir_fd=dfd)
                opened.append(dfd)
            fd = os.open(_raw(parts[-1]), _FILE_FLAGS, dir_fd=dfd)
        finally:
            for d in opened:
                _close(d)
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_size != entry.size:
            _close(fd)
            raise ChangedError(0, "changed in the upper directory since the layer was read")
        os.set_blocking(fd, True)
        return cast(BinaryIO, os.fdopen(fd, "rb"))


def _redirect_target(path: str, redirect: str | None) -> str:
    """Where a metacopy file's bytes are: its own path, or its ``redirect`` (absolute, or relative to its dir)."""
    if not redirect:
        return path
    if redirect.startswith("/"):
        return redirect.rstrip("/") or "/"
    parent = path.rsplit("/", 1)[0]
    return f"{parent}/{redirect}"


class _Walk:
    """One pass over an upper directory, filling one layer."""

    def __init__(self, root_fd: int, layer: Layer, progress: Callable[[int, int], None] | None) -> None:
        self.root = root_fd
        self.layer = layer
        self.idx = layer.index
        self.name = f"layer {layer.index} ({layer.source_name})"
        self.progress = progress
        self.entries: list[Entry] = []
        self.whiteouts: list[str] = []
        self.opaque: list[str] = []
        self.metacopy: list[tuple[Entry, str | None]] = []
        self.inodes: dict[tuple[int, int], list[Entry]] = {}  # (dev, ino) of files with several links -> entries
        self.members = 0
        self.size_bytes = 0
        self.hashed = 0
        self.reported = 0
        self.left_out = 0
        self.too_deep = 0
        self.sockets = 0
        self.stopped = False
        self.warnings: list[tuple[WarningKind, str]] = []
        self.overflow: dict[WarningKind, int] = {}
        self.buf = bytearray(CHUNK)
        self.proc = os.path.isdir(_PROC_FD)

    def warn(self, kind: WarningKind, message: str) -> None:
        if len(self.warnings) < MAX_WARNINGS:
            self.warnings.append((kind, f"{self.name}: {message}"))
        else:
            self.overflow[kind] = self.overflow.get(kind, 0) + 1

    def skip(self, path: str, why: str) -> None:
        self.left_out += 1
        self.warn(ENTRIES_LEFT_OUT, f"{path}: {why}; left out")

    # -- the walk ------------------------------------------------------------------
    def run(self) -> None:
        """Depth first, one descriptor per directory level. A directory's
        files are taken in as it is listed; only the names of its
        subdirectories wait (in name order) until the walk descends into them."""
        stack: list[tuple[int, str, list[tuple[str, str]], int]] = [(self.root, "", self.scan(self.root, "", 0), 0)]
        try:
            while stack:
                dfd, _prefix, subdirs, depth = stack[-1]
                if not subdirs or self.stopped:
                    stack.pop()
                    if dfd != self.root:
                        _close(dfd)
                    continue
                raw, path = subdirs.pop()
                cfd = self.directory(dfd, raw, path)
                if cfd is not None:
                    stack.append((cfd, path, self.scan(cfd, path, depth + 1), depth + 1))
        finally:
            for dfd, *_ in stack:
                if dfd != self.root:
                    _close(dfd)

    def scan(self, dfd: int, prefix: str, depth: int) -> list[tuple[str, str]]:
        """Take in a directory's non-directories; its subdirectories as ``(name, path)``, reversed name order."""
        subdirs: list[tuple[str, str]] = []
        try:
            with os.scandir(dfd) as it:
                for item in it:
                    if self.stopped:
                        break
                    sub = self.one(dfd, prefix, item, depth)
                    if sub is not None:
                        subdirs.append(sub)
        except OSError as exc:
            self.skip(prefix or "/", f"cannot list this directory ({exc.strerror})")
        subdirs.sort(reverse=True)
        return subdirs

    def one(self, dfd: int, prefix: str, item: os.DirEntry[str], depth: int) -> tuple[str, str] | None:
        """Take one name in; a directory is returned (name, path) to be descended into later."""
        raw = item.name
        name = _name(raw)
        path = f"{prefix}/{name}"
        self.members += 1
        if self.members > MAX_MEMBERS:
            self.stopped = True
            self.warn(ENTRIES_LEFT_OUT, f"over {MAX_MEMBERS} entries; the rest is not read")
            return None
        if depth >= MAX_DEPTH:
            self.too_deep += 1
            return None
        try:
            # The type from the directory listing (no system call); opening checks it again.
            is_dir = item.is_dir(follow_symlinks=False)
            if name.startswith(".wh.") and not is_dir:
                self.oci_marker(prefix, name, path)
                return None
            if is_dir:
                return raw, path
            if item.is_file(follow_symlinks=False):
                self.regular(dfd, raw, path)
                return None
            st = item.stat(follow_symlinks=False)
        except OSError as exc:
            self.skip(path, f"cannot stat ({exc.strerror})")
            return None
        mode = st.st_mode
        if stat.S_ISCHR(mode) and st.st_rdev == 0:
            self.whiteouts.append(path)
            return None
        kept = self.path_xattrs(dfd, raw)[0]
        perm = stat.S_IMODE(mode)
        mtime = int(st.st_mtime)
        if stat.S_ISLNK(mode):
            try:
                target = _name(os.readlink(raw, dir_fd=dfd))
            except OSError as exc:
                self.skip(path, f"cannot read the symlink ({exc.strerror})")
                return None
            self.add(
                Entry(
                    path=path,
                    type=SYMLINK,
                    mode=perm,
                    uid=st.st_uid,
                    gid=st.st_gid,
                    size=0,
                    mtime=mtime,
                    link=target,
                    xattrs=kept,
                    layer=self.idx,
                )
            )
        elif stat.S_ISCHR(mode) or stat.S_ISBLK(mode) or stat.S_ISFIFO(mode):
            kind = CHAR if stat.S_ISCHR(mode) else BLOCK if stat.S_ISBLK(mode) else FIFO
            self.add(
                Entry(
                    path=path,
                    type=kind,
                    mode=perm,
                    uid=st.st_uid,
                    gid=st.st_gid,
                    size=0,
                    mtime=mtime,
                    xattrs=kept,
                    layer=self.idx,
                )
            )
        else:
            self.sockets += 1  # no layer format holds a socket; an engine's commit drops them too
        return None

    def oci_marker(self, prefix: str, name: str, path: str) -> None:
        """``.wh.NAME`` / ``.wh..wh..opq`` (fuse-overlayfs without device nodes): as in a tar layer."""
        parent = prefix or "/"
        if name == ".wh..wh..opq":
            self.opaque.append(parent)
        elif name.startswith(".wh..wh."):
            pass  # aufs bookkeeping, as the core treats it
        elif name in (".wh.", ".wh..", ".wh..."):
            self.warn(CONTAINER_NOTE, f"{path}: whiteout with an invalid name; ignored")
        else:
            self.whiteouts.append(f"{prefix}/{name[4:]}")

    def add(self, e: Entry) -> None:
        self.entries.append(e)

    def directory(self, dfd: int, raw: str, path: str) -> int | None:
        """Open a subdirectory and take its entry in; O_DIRECTORY|O_NOFOLLOW: whatever
        the name is now, a directory is what gets read, never a link."""
        try:
            cfd = os.open(raw, _DIR_FLAGS, dir_fd=dfd)
        except OSError as exc:
            self.skip(path, f"cannot open the directory ({exc.strerror})")
            return None
        try:
            fst = os.fstat(cfd)
        except OSError as exc:
            _close(cfd)
            self.skip(path, f"cannot stat ({exc.strerror})")
            return None
        kept, ovl = self.xattrs(cfd)
        opaque = ovl.get("opaque")
        if opaque == b"y":
            self.opaque.append(path)
        redirect = ovl.get("redirect")
        if redirect is not None:
            source = redirect.decode("utf-8", "surrogateescape")
            self.warn(
                OVERLAY_REDIRECT,
                f"{path}: renamed by the container from {_redirect_target(path, source)} (overlay redirect_dir); "
                "the files it took from there are not shown under its new name",
            )
        perm = stat.S_IMODE(fst.st_mode)
        self.add(
            Entry(
                path=path,
                type=DIR,
                mode=perm,
                uid=fst.st_uid,
                gid=fst.st_gid,
                size=0,
                mtime=int(fst.st_mtime),
                xattrs=kept,
                layer=self.idx,
            )
        )
        return cfd

    def regular(self, dfd: int, raw: str, path: str) -> None:
        """O_NOFOLLOW, then fstat: only a regular file is hashed (a name swapped since the listing is left out)."""
        try:
            fd = os.open(raw, _FILE_FLAGS, dir_fd=dfd)
        except OSError as exc:
            self.skip(path, f"cannot open ({exc.strerror})")
            return
        try:
            fst = os.fstat(fd)
            if not stat.S_ISREG(fst.st_mode):
                self.skip(path, "replaced while it was read")
                return
            kept, ovl = self.xattrs(fd)
            if "whiteout" in ovl and fst.st_size == 0:
                self.whiteouts.append(path)
                return
            group: list[Entry] | None = None
            if fst.st_nlink > 1:
                key = (fst.st_dev, fst.st_ino)
                group = self.inodes.get(key)
                if group is not None:
                    link = group[0].path
                    e = self.stat_entry(path, HARDLINK, fst, kept, size=0, link=link)
                    group.append(e)
                    self.add(e)
                    return
                group = self.inodes[key] = []
            if "metacopy" in ovl:
                e = self.stat_entry(path, FILE, fst, kept, size=fst.st_size)
                red = ovl.get("redirect")
                self.metacopy.append((e, red.decode("utf-8", "surrogateescape") if red is not None else None))
                self.add(e)
                if group is not None:
                    group.append(e)
                return
            digest, size = self.hash(fd, fst.st_size)
            if size != fst.st_size:
                self.warn(CONTAINER_NOTE, f"{path}: shrank while it was read ({fst.st_size} -> {size} bytes)")
            self.size_bytes += size
            e = self.stat_entry(path, FILE, fst, kept, size=size, digest=digest)
            self.add(e)
            if group is not None:
                group.append(e)
        except OSError as exc:
            self.skip(path, f"cannot read ({exc.strerror})")
        finally:
            _close(fd)

    def stat_entry(
        self, path: str, type: str, fst: os.stat_result, kept: dict[str, bytes] | None, **fields: Any
    ) -> Entry:
        """An entry of this layer with the mode, owner and mtime its ``fstat`` gave."""
        return Entry(
            path=path,
            type=type,
            mode=stat.S_IMODE(fst.st_mode),
            uid=fst.st_uid,
            gid=fst.st_gid,
            mtime=int(fst.st_mtime),
            xattrs=kept,
            layer=self.idx,
            **fields,
        )

    def hash(self, fd: int, size: int) -> tuple[bytes, int]:
        """sha256 of the first ``size`` bytes (the size ``fstat`` gave: what the entry says it holds)."""
        h = hashlib.sha256()
        view = memoryview(self.buf)
        n = 0
        while n < size:
            got = os.readv(fd, [view[: min(CHUNK, size - n)]])
            if not got:
                break
            h.update(view[:got])
            n += got
            self.hashed += got
            if self.progress is not None and self.hashed - self.reported >= PROGRESS_EVERY:
                self.reported = self.hashed
                self.progress(self.idx, self.hashed)
        return h.digest(), n

    # -- xattrs ----------------------------------------------------------------------
    def xattrs(self, target: int | str) -> tuple[dict[str, bytes] | None, dict[str, bytes]]:
        """(the entry's own xattrs or None, overlay's markers by short name) of an fd or a /proc path."""
        follow = not isinstance(target, str)
        try:
            names = os.listxattr(target, follow_symlinks=follow)
        except OSError:
            return None, {}  # no xattr support, or none readable: the entry has none we can tell
        kept: dict[str, bytes] = {}
        ovl: dict[str, bytes] = {}
        for n in names:
            short = next((n[len(p) :] for p in OVERLAY_PREFIXES if n.startswith(p)), None)
            if short is not None and short not in _MARKERS:
                continue
            if short is None and n in HOST_XATTRS:
                continue
            try:
                value = os.getxattr(target, n, follow_symlinks=follow)
            except OSError:
                continue
            if short is not None:
                ovl.setdefault(short, value)
            else:
                kept[n] = value
        return kept or None, ovl

    def path_xattrs(self, dfd: int, raw: str) -> tuple[dict[str, bytes] | None, dict[str, bytes]]:
        """xattrs of a name that cannot be opened (symlink, device): through ``/proc/self/fd/DIR/NAME``,
        which resolves the directory by its descriptor and does not follow the name itself."""
        if not self.proc:
            return None, {}
        return self.xattrs(f"{_PROC_FD}/{dfd}/{raw}")

    # -- the result ------------------------------------------------------------------
    def hardlinks(self) -> None:
        """Of the names of one inode, the first by name holds the bytes, whatever
        order the directory listed them in (the same answer for a copy of the
        directory); its hardlinks go after every other entry, so that the merge
        always meets the file before a link to it."""
        metacopy = {id(e) for e, _ in self.metacopy}
        swap: dict[int, Entry] = {}  # id of an entry made before its inode's names were known -> its final form
        for group in self.inodes.values():
            if len(group) < 2:
                continue
            holder = group[0]
            best = min(group, key=lambda e: e.path)
            if id(holder) in metacopy:
                best = holder  # its bytes are resolved later, through this entry: it stays the file
            elif best is not holder:
                swap[id(best)] = best.replace(type=FILE, size=holder.size, digest=holder.digest, link=None)
                swap[id(holder)] = holder.replace(type=HARDLINK, size=0, digest=None, link=best.path)
            for e in group:
                if e is not best and id(e) not in swap:  # the holder's form is set above
                    swap[id(e)] = e.replace(type=e.type, size=e.size, digest=e.digest, link=best.path)
        if swap:
            self.entries = [swap.get(id(e), e) for e in self.entries]
            self.metacopy = [(swap.get(id(e), e), red) for e, red in self.metacopy]
        if any(len(g) > 1 for g in self.inodes.values()):
            self.entries = [e for e in self.entries if e.type != HARDLINK] + [
                e for e in self.entries if e.type == HARDLINK
            ]

    def finish(self, error: str | None) -> Layer:
        """The layer as the walk read it (``error``: what stopped the walk)."""
        self.hardlinks()
        if self.too_deep:
            self.warn(ENTRIES_LEFT_OUT, f"{self.too_deep} entries nested over {MAX_DEPTH} directories deep; left out")
        if self.sockets:
            self.warn(
                CONTAINER_NOTE,
                f"{self.sockets} socket{'' if self.sockets == 1 else 's'} left out (no layer can hold one)",
            )
        warnings = [LoadWarning(kind, message, self.idx) for kind, message in self.warnings]
        warnings += [
            LoadWarning(kind, f"{self.name}: {n} more {kind} warnings not shown", self.idx)
            for kind, n in self.overflow.items()
        ]
        if self.progress is not None:
            self.progress(self.idx, self.hashed)
        return replace(
            self.layer,
            error=error,
            whiteouts=self.whiteouts,
            opaque_dirs=self.opaque,
            size_bytes=self.size_bytes,
            member_count=min(self.members, MAX_MEMBERS),
            warnings=self.layer.warnings + tuple(warnings),
        )


def _no_blob() -> BinaryIO:
    raise ImageError("a writable layer read from a directory has no blob")


def upper_layer(source: UpperDir, index: int, command: str) -> Layer:
    """The model's layer for an upper directory, on top of ``index`` image layers (not read yet)."""
    return Layer(
        index=index,
        digest=None,
        media_type=None,
        compressed_bytes=0,
        open_blob=_no_blob,
        source_name=source.path,
        command=command,
        kind=CONTAINER_LAYER,
        source=source,
    )
