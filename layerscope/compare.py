"""Compare two images: shared layers (by diff_id) and the difference of their merged trees."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .analysis import diff_ids, shared_prefix
from .merge import Merged, sort_key
from .model import FILE, Entry
from .packages.compare import PackageDiff, package_diff
from .packages.index import build

ADDED = "added"
REMOVED = "removed"
CHANGED = "changed"


@dataclass(slots=True)
class PathDiff:
    path: str
    kind: str  # added | removed | changed
    a: Entry | None
    b: Entry | None
    what: list[str] = field(default_factory=list)  # for changed: type, content, link, mode, owner, xattrs

    @property
    def size_a(self) -> int:
        return _size(self.a)

    @property
    def size_b(self) -> int:
        return _size(self.b)

    def to_dict(self) -> dict[str, Any]:
        def side(e: Entry | None) -> dict[str, Any] | None:
            if e is None:
                return None
            return {
                "layer": e.layer,
                "type": e.type,
                "mode": e.mode,
                "uid": e.uid,
                "gid": e.gid,
                "size": e.size,
                "digest": e.digest_str,
                "link": e.link,
            }

        return {
            "path": self.path,
            "kind": self.kind,
            "what": self.what,
            "a": side(self.a),
            "b": side(self.b),
            "size_delta": self.size_b - self.size_a,
        }


def _size(e: Entry | None) -> int:
    return e.size if e is not None and e.content_type == FILE else 0


def _bytes(entries: Iterable[Entry | None]) -> int:
    """Content bytes of these entries, hardlinked content counted once."""
    seen: set[int] = set()
    total = 0
    for e in entries:
        if e is None or e.content_type != FILE:
            continue
        key = e.data_entry.key
        if key not in seen:
            seen.add(key)
            total += e.size
    return total


@dataclass(slots=True)
class LayerMatch:
    a: int | None
    b: int | None
    diff_id: str | None


@dataclass(slots=True)
class Comparison:
    a_source: str
    b_source: str
    shared_prefix: int  # leading layers both images have in the same order
    shared: list[LayerMatch]  # every layer present in both (by diff_id)
    only_a: list[int]
    only_b: list[int]
    paths: list[PathDiff]  # sorted by path
    packages: list[PackageDiff] | None = None  # None: neither image has a package database

    @property
    def differ(self) -> bool:
        """The images differ: a path added, removed or changed, or a layer not in both at the same place."""
        return bool(self.paths or self.only_a or self.only_b) or self.shared_prefix != len(self.shared)

    def of_kind(self, kind: str) -> list[PathDiff]:
        return [p for p in self.paths if p.kind == kind]

    def totals(self) -> dict[str, int]:
        added = [p for p in self.paths if p.kind == ADDED]
        removed = [p for p in self.paths if p.kind == REMOVED]
        changed = [p for p in self.paths if p.kind == CHANGED]
        return {
            "added": len(added),
            "removed": len(removed),
            "changed": len(changed),
            "added_bytes": _bytes(p.b for p in added),
            "removed_bytes": _bytes(p.a for p in removed),
            "changed_bytes_delta": _bytes(p.b for p in changed) - _bytes(p.a for p in changed),
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": "layerscope.diff/1",
            "a": self.a_source,
            "b": self.b_source,
            "shared_prefix_layers": self.shared_prefix,
            "shared_layers": [{"a": m.a, "b": m.b, "diff_id": m.diff_id} for m in self.shared],
            "only_a_layers": self.only_a,
            "only_b_layers": self.only_b,
            "totals": self.totals(),
            "paths": [p.to_dict() for p in self.paths],
        } | ({} if self.packages is None else {"packages": [d.to_dict() for d in self.packages]})


def top_entries(merged: Merged, k: int | None = None) -> dict[str, Entry]:
    """path -> visible entry as of layer k (default top): one pass over the timelines."""
    out: dict[str, Entry] = {}
    for e in merged.files_at(merged.top if k is None else k):
        out[e.path] = e
    return out


def _what_changed(a: Entry, b: Entry) -> list[str]:
    what = []
    if a.content_type != b.content_type:
        what.append("type")
    elif a.content_type == FILE and (a.digest != b.digest or a.size != b.size):
        what.append("content")
    if a.link != b.link and (a.type == b.type == "symlink"):
        what.append("link")
    if a.mode != b.mode:
        what.append("mode")
    if a.uid != b.uid or a.gid != b.gid:
        what.append("owner")
    if (a.xattrs or None) != (b.xattrs or None):
        what.append("xattrs")
    return what


def compare(a: Merged, b: Merged) -> Comparison:
    ida = diff_ids(a.image)
    idb = diff_ids(b.image)
    pos_b: dict[str, list[int]] = {}
    for i, d in enumerate(idb):
        if d:
            pos_b.setdefault(d, []).append(i)
    shared: list[LayerMatch] = []
    used_b: set[int] = set()
    only_a: list[int] = []
    for i, d in enumerate(ida):
        cands = [j for j in pos_b.get(d or "", ()) if j not in used_b]
        if cands:
            used_b.add(cands[0])
            shared.append(LayerMatch(i, cands[0], d))
        else:
            only_a.append(i)
    only_b = [j for j in range(len(idb)) if j not in used_b]

    ta = top_entries(a)
    tb = top_entries(b)
    diffs: list[PathDiff] = []
    for path, ea in ta.items():
        eb = tb.get(path)
        if eb is None:
            diffs.append(PathDiff(path, REMOVED, ea, None))
        else:
            what = _what_changed(ea, eb)
            if what:
                diffs.append(PathDiff(path, CHANGED, ea, eb, what))
    for path, eb in tb.items():
        if path not in ta:
            diffs.append(PathDiff(path, ADDED, None, eb))
    diffs.sort(key=lambda p: sort_key(p.path))
    ixa, ixb = build(a), build(b)
    packages = package_diff(ixa, ixb) if ixa.any or ixb.any else None
    return Comparison(a.image.source, b.image.source, shared_prefix(ida, idb), shared, only_a, only_b, diffs, packages)
