"""Node packages: each ``node_modules/<name>/package.json`` (and
``node_modules/@scope/<name>/package.json``), read with ``json``.

npm records no file list: a package owns what is under its directory, less
the packages nested in its own ``node_modules``, and the links npm made for
its ``bin`` field (``node_modules/.bin/NAME``; for a global install under a
prefix, ``PREFIX/bin/NAME``), which npm removes with it. A package is one per
directory (``Package.key``): npm nests a second version of a name under the
package that needs it. ``node_modules/.package-lock.json`` is npm's record of
the tree (its state, like dpkg's ``status``), so it is no unmanaged file.
"""

from __future__ import annotations

import json
import posixpath

from ..model import DIR, SYMLINK, Entry
from .records import LIMITS, Ecosystem, Package, clip
from .view import LayerView

MARKER = "/package.json"
MAX_FILES = 200_000  # files walked for one package
MAX_BINS = 1_000  # bin links claimed for one package
HIDDEN_LOCKFILE = "/node_modules/.package-lock.json"  # npm's state (packages/audit.py STATE)


def record_of(path: str) -> str | None:
    if not path.endswith(MARKER):
        return None
    pkg = posixpath.dirname(path)
    parent = posixpath.dirname(pkg)
    if posixpath.basename(parent).startswith("@"):
        parent = posixpath.dirname(parent)
    return pkg if posixpath.basename(parent) == "node_modules" else None


def _bins(name: str, field: object) -> list[str]:
    """The link names npm makes for a ``bin`` field: a string is linked under the
    package's name (scope dropped), an object under each of its keys."""
    if isinstance(field, str):
        names = [name.rpartition("/")[2]]
    elif isinstance(field, dict):
        names = [k for k, v in field.items() if isinstance(k, str) and isinstance(v, str)]
    else:
        return []
    return [n for n in names[:MAX_BINS] if n and "/" not in n and n not in (".", "..")]


def manifest(data: bytes) -> dict[str, str]:
    """name, version, and ``bin`` as its link names joined by ``/`` (never in a name)."""
    doc = json.loads(data.decode("utf-8", "replace"))
    if not isinstance(doc, dict):
        raise ValueError("package.json is not an object")
    out = {k: v for k in ("name", "version") if isinstance(v := doc.get(k), str)}
    out["bin"] = "/".join(_bins(out.get("name", ""), doc.get("bin")))
    return out


def _bin_links(view: LayerView, key: str, bins: str) -> list[str]:
    """Where npm linked the package's ``bin``: ``.bin`` beside it, and a global prefix's ``bin``."""
    top = posixpath.dirname(key)
    if posixpath.basename(top).startswith("@"):
        top = posixpath.dirname(top)
    dirs = [top + "/.bin"]
    if top.endswith("/lib/node_modules"):  # npm install --global --prefix PREFIX
        dirs.append(posixpath.dirname(posixpath.dirname(top)) + "/bin")
    out = []
    for name in filter(None, bins.split("/")):
        for d in dirs:
            e = view.entry(f"{d}/{name}")
            if e is not None and e.type == SYMLINK:  # npm links; a file of that name is someone else's
                out.append(e.path)
    return out


def _files(view: LayerView, top: str) -> list[str]:
    out: list[str] = []
    stack = [top]
    while stack and len(out) < MAX_FILES:
        d = stack.pop()
        for ev in view.merged.children_at(d, view.k):
            if type(ev) is not Entry:
                continue
            out.append(ev.path)
            if ev.type == DIR and posixpath.basename(ev.path) != "node_modules":
                stack.append(ev.path)
    return sorted(out)


def read(view: LayerView, key: str) -> list[Package]:
    meta = view.parsed(key + MARKER, LIMITS.list_bytes, manifest)
    if not meta or not meta.get("name"):
        return []
    entry = view.entry(key + MARKER)
    stamp = -1 if entry is None else entry.key
    files = (key, *_files(view, key), *_bin_links(view, key, meta.get("bin", "")))
    return [Package(Ecosystem.NPM, clip(meta["name"]), clip(meta.get("version", "")), "", key, files, (), stamp)]
