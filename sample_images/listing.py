#!/usr/bin/env python3
"""Print a canonical listing of an unpacked container root filesystem.

Usage: python3 listing.py ROOTFS > expected.txt

One line per path below ROOTFS (the root itself is omitted), sorted by path,
tab-separated:

    path  type  mode  uid  gid  size  digest  link

* path   -- absolute path inside the image, e.g. ``/etc/passwd``
* type   -- file|dir|symlink|char|block|fifo|socket
* mode   -- 4-digit octal permission bits (``st_mode & 0o7777``), e.g. 0755, 4755
* uid, gid -- numeric owner
* size   -- ``st_size`` for regular files, ``-`` otherwise
* digest -- ``sha256:<hex>`` of the contents for regular files, ``-`` otherwise
* link   -- symlink target for symlinks, ``-`` otherwise

Symlinks are never followed.  Hardlinked files show up as ordinary ``file``
entries.  Stdlib only; the project's tests import :func:`format_line` to print
layerscope's own merged tree in exactly the same format.
"""

from __future__ import annotations

import hashlib
import os
import stat
import sys
from collections.abc import Iterator

__all__ = ["file_type", "format_line", "iter_entries", "listing_lines", "main"]


def format_line(
    path: str,
    type: str,
    mode: int,
    uid: int,
    gid: int,
    size: int | None,
    digest: str | None,
    link: str | None,
) -> str:
    """Format one listing line (no trailing newline).

    ``mode`` may be a full ``st_mode``; only the permission bits (0o7777) are
    printed.  ``None`` for size/digest/link is printed as ``-``.
    """
    fields = [
        path,
        type,
        format(mode & 0o7777, "04o"),
        str(uid),
        str(gid),
        "-" if size is None else str(size),
        "-" if digest is None else digest,
        "-" if link is None else link,
    ]
    return "\t".join(fields)


def file_type(st_mode: int) -> str:
    """Map an ``st_mode`` to the listing's type word."""
    if stat.S_ISREG(st_mode):
        return "file"
    if stat.S_ISDIR(st_mode):
        return "dir"
    if stat.S_ISLNK(st_mode):
        return "symlink"
    if stat.S_ISCHR(st_mode):
        return "char"
    if stat.S_ISBLK(st_mode):
        return "block"
    if stat.S_ISFIFO(st_mode):
        return "fifo"
    if stat.S_ISSOCK(st_mode):
        return "socket"
    raise ValueError(f"unknown file type in mode {st_mode:o}")


def _sha256_file(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 16), b""):
            h.update(chunk)
    return "sha256:" + h.hexdigest()


def iter_entries(rootfs: str) -> Iterator[tuple[str, str]]:
    """Yield ``(image_path, host_path)`` for everything below *rootfs*.

    Never follows symlinks (directories are descended via lstat only).
    """
    stack = [("", rootfs)]
    while stack:
        rel, host = stack.pop()
        with os.scandir(host) as it:
            for entry in it:
                image_path = rel + "/" + entry.name
                yield image_path, entry.path
                if entry.is_dir(follow_symlinks=False):
                    stack.append((image_path, entry.path))


def listing_lines(rootfs: str) -> list[str]:
    """Return the sorted listing lines for the unpacked *rootfs*."""
    lines: list[tuple[str, str]] = []
    for image_path, host_path in iter_entries(rootfs):
        st = os.lstat(host_path)
        kind = file_type(st.st_mode)
        size: int | None = None
        digest: str | None = None
        link: str | None = None
        if kind == "file":
            size = st.st_size
            digest = _sha256_file(host_path)
        elif kind == "symlink":
            link = os.readlink(host_path)
        lines.append(
            (
                image_path,
                format_line(
                    image_path, kind, st.st_mode, st.st_uid, st.st_gid, size, digest, link
                ),
            )
        )
    lines.sort(key=lambda item: item[0])
    return [line for _, line in lines]


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: listing.py ROOTFS", file=sys.stderr)
        return 2
    rootfs = args[0]
    if not os.path.isdir(rootfs):
        print(f"listing.py: not a directory: {rootfs}", file=sys.stderr)
        return 2
    out = sys.stdout
    for line in listing_lines(rootfs):
        out.write(line + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
