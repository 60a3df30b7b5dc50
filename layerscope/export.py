"""Save one version of a file from an image to the host, without trusting either.

The bytes come from :func:`layerscope.content.iter_content`, streamed a chunk
at a time (a 2 GB file is never held whole). The host side is guarded:

* the name is a plain name in the chosen directory (no ``/``, no ``..``, no
  control characters), so an image's path never picks the destination;
* the file is created with ``O_CREAT | O_EXCL | O_NOFOLLOW`` relative to a
  descriptor of the directory: an existing file or a symlink planted at that
  name is never opened, let alone followed;
* overwriting is a separate, explicit request: the bytes go to a fresh
  temporary file (created the same way) that then replaces the name with
  ``rename``, which replaces a symlink itself, never its target;
* the mode is ``0600``: what is saved is often a secret, and a setuid bit or
  an executable mode from the image never reaches the host;
* a failed read removes the partial file.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
from collections.abc import Iterator

from .content import iter_content
from .errors import LayerscopeError
from .merge import Merged
from .model import FILE, HARDLINK, Entry, Image

NAME_MAX = 255  # bytes, as most file systems allow
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)


class SaveError(LayerscopeError):
    """The version cannot be saved under that name (bad name, no content, I/O error)."""


class SaveExists(SaveError):
    """Something already has that name: the caller must ask before overwriting."""


def suggested_name(path: str) -> str:
    """A file name for a path of the image: its last segment, control characters
    and undecodable bytes replaced by ``_``."""
    base = path.rstrip("/").rsplit("/", 1)[-1]
    base = _CONTROL.sub("_", base)
    return base if base not in ("", ".", "..") else "saved-file"


def name_problem(name: str) -> str | None:
    """Why ``name`` is not a plain file name for the current directory, or None."""
    if not name:
        return "type a file name"
    if "/" in name or "\\" in name:
        return "a name only (no /): files are saved in the current directory"
    if name in (".", ".."):
        return f"{name!r} is not a file name"
    if _CONTROL.search(name):
        return "the name holds control characters"
    if len(os.fsencode(name)) > NAME_MAX:
        return f"the name is longer than {NAME_MAX} bytes"
    return None


def content_problem(entry: Entry) -> str | None:
    """Why ``entry`` has nothing to save, or None."""
    if entry.type not in (FILE, HARDLINK):
        return f"{entry.path} is a {entry.type} in layer {entry.layer}: only regular files can be saved"
    return None


def save_version(
    image: Image,
    entry: Entry,
    name: str,
    directory: str = ".",
    overwrite: bool = False,
    chunks: Iterator[bytes] | None = None,
) -> int:
    """Write the content of ``entry`` to ``directory/name``; the number of bytes written.

    Raises :class:`SaveExists` when ``name`` exists and ``overwrite`` is false,
    :class:`SaveError` (or :class:`~layerscope.content.ContentError`) otherwise.
    ``chunks`` replaces the image as the source of the bytes (tests).
    """
    problem = name_problem(name) or content_problem(entry)
    if problem is not None:
        raise SaveError(problem)
    try:
        dfd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError as exc:
        raise SaveError(f"{directory}: {exc.strerror}") from None
    try:
        temp = f".layerscope-{secrets.token_hex(8)}.part" if overwrite else None
        try:
            fd = os.open(temp or name, _CREATE, 0o600, dir_fd=dfd)
        except FileExistsError:
            raise SaveExists(f"{name} already exists") from None
        except OSError as exc:
            raise SaveError(f"{name}: {exc.strerror}") from None
        written = 0
        try:
            with os.fdopen(fd, "wb") as out:
                for chunk in chunks if chunks is not None else iter_content(image, entry):
                    out.write(chunk)
                    written += len(chunk)
            if temp is not None:
                os.replace(temp, name, src_dir_fd=dfd, dst_dir_fd=dfd)
        except BaseException as exc:
            with contextlib.suppress(OSError):
                os.unlink(temp or name, dir_fd=dfd)
            if isinstance(exc, OSError):
                raise SaveError(f"{name}: {exc.strerror or exc}") from None
            raise
        return written
    finally:
        os.close(dfd)


def last_version(merged: Merged, path: str, k: int) -> Entry | None:
    """The newest version of ``path`` at or below layer ``k``, even one a deletion
    hides: what there is to save when the path itself is deleted as of ``k``."""
    return merged.newest_entry_at(path, k)
