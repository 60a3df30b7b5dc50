"""Python distributions: ``*.dist-info`` (``METADATA``, ``RECORD``) and
``*.egg-info`` (``PKG-INFO``, ``installed-files.txt``).

``METADATA`` and ``PKG-INFO`` are RFC 822 headers (the standard library's
``email.parser`` reads them); ``RECORD`` is CSV (``csv``): a path relative to
the directory holding the dist-info, ``sha256=<urlsafe base64>``, a size.
"""

from __future__ import annotations

import base64
import binascii
import csv
import io
import posixpath
from email.parser import BytesHeaderParser

from .records import LIMITS, Ecosystem, Package, clip
from .view import LayerView

SUFFIXES = (".dist-info", ".egg-info")


def record_of(path: str) -> str | None:
    """The distribution directory a path belongs to (its key), if any."""
    for suffix in SUFFIXES:
        i = path.find(suffix + "/")
        if i < 0 and path.endswith(suffix):
            i = len(path) - len(suffix)
        if i >= 0:
            return path[: i + len(suffix)]
    return None


def headers(data: bytes) -> dict[str, str]:
    msg = BytesHeaderParser().parsebytes(data[: LIMITS.list_bytes])
    return {k: str(v) for k, v in msg.items() if k in ("Name", "Version")}


def _b64(value: str) -> str | None:
    algo, _, b = value.partition("=")
    if algo != "sha256" or not b:
        return None
    try:
        return "sha256:" + base64.urlsafe_b64decode(b + "=" * (-len(b) % 4)).hex()
    except (binascii.Error, ValueError):
        return None


def record(data: bytes) -> list[tuple[str, str | None]]:
    """``RECORD`` rows: (path relative to the site directory, digest or None)."""
    out = []
    for row in csv.reader(io.StringIO(data.decode("utf-8", "surrogateescape"))):
        if row and row[0]:
            out.append((row[0], _b64(row[1]) if len(row) > 1 else None))
    return out


def lines(data: bytes) -> list[str]:
    return [x.strip() for x in data.decode("utf-8", "surrogateescape").splitlines() if x.strip()]


def _join(base: str, rel: str) -> str | None:
    path = posixpath.normpath(posixpath.join(base, rel))
    return path if path.startswith("/") and path != "/" else None


def read(view: LayerView, key: str) -> list[Package]:
    """The distribution recorded in directory ``key`` as of the view's layer (none if gone)."""
    site = posixpath.dirname(key)
    if key.endswith(".dist-info"):
        meta = view.parsed(key + "/METADATA", LIMITS.list_bytes, headers)
        rows = view.parsed(key + "/RECORD", LIMITS.list_bytes, record) or []
        base = site
    else:
        meta = view.parsed(key + "/PKG-INFO", LIMITS.list_bytes, headers)
        if meta is None:
            meta = view.parsed(key, LIMITS.list_bytes, headers)  # an egg-info file
        rows = [(r, None) for r in view.parsed(key + "/installed-files.txt", LIMITS.list_bytes, lines) or []]
        base = key
    if not meta or not meta.get("Name"):
        return []
    files: list[str] = []
    digests: list[tuple[str, str]] = []
    for rel, digest in rows:
        path = _join(base, rel)
        if path is not None:
            files.append(path)
            if digest is not None:
                digests.append((path, digest))
    name = clip(meta["Name"])
    stamp_entry = view.entry(key + "/RECORD") or view.entry(key + "/installed-files.txt")
    stamp = -1 if stamp_entry is None else stamp_entry.key
    version = clip(meta.get("Version", ""))
    return [Package(Ecosystem.PYTHON, name, version, "", key, tuple(files), tuple(digests), stamp)]
