"""Node packages: each ``node_modules/<name>/package.json`` (and
``node_modules/@scope/<name>/package.json``), read with ``json``.

npm records no file list: a package owns what is under its directory, less
the packages nested in its own ``node_modules``.
"""

from __future__ import annotations

import json
import posixpath

from ..model import DIR, Entry
from .records import LIMITS, Ecosystem, Package, clip
from .view import LayerView

MARKER = "/package.json"
MAX_FILES = 200_000  # files walked for one package


def record_of(path: str) -> str | None:
    if not path.endswith(MARKER):
        return None
    pkg = posixpath.dirname(path)
    parent = posixpath.dirname(pkg)
    if posixpath.basename(parent).startswith("@"):
        parent = posixpath.dirname(parent)
    return pkg if posixpath.basename(parent) == "node_modules" else None


def manifest(data: bytes) -> dict[str, str]:
    doc = json.loads(data.decode("utf-8", "replace"))
    if not isinstance(doc, dict):
        raise ValueError("package.json is not an object")
    return {k: v for k in ("name", "version") if isinstance(v := doc.get(k), str)}


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
    files = (key, *_files(view, key))
    return [Package(Ecosystem.NPM, clip(meta["name"]), clip(meta.get("version", "")), "", key, files, (), stamp)]
