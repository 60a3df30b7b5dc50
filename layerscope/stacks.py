"""Version stacks: every version and deletion of a path, bottom layer first (``layerscope which``).

A stack row says what a layer did to the path and, for a file version that
ships but is hidden above, why its bytes are waste. It needs only the path's
own timeline plus the set of versions a visible hardlink keeps alive, so
``which`` costs one pass over the paths instead of the whole audit
(:func:`layerscope.analysis.analyze`), whose waste rule it applies.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ._core import normalise
from .errors import LayerscopeError
from .globs import compile_glob, is_glob
from .merge import Merged
from .model import DIR, Deletion, Entry

WHICH_LIMIT = 50  # stacks shown for a glob unless asked otherwise


@dataclass(frozen=True, slots=True)
class Wasted:
    """Why a hidden file version is waste: the cause and the layer that hid it."""

    cause: str
    by_layer: int
    how: str

    def to_dict(self) -> dict[str, Any]:
        return {"cause": self.cause, "by_layer": self.by_layer, "how": self.how}


@dataclass(frozen=True, slots=True)
class StackRow:
    """One event of a path's timeline: an entry (a version) or a deletion."""

    event: Entry | Deletion
    command: str  # the command of the event's layer ("" when unknown)
    visible: bool  # the version the merged top tree shows
    wasted: Wasted | None = None
    # The package that owns this version as of its layer (``deb:curl@7.88.1``),
    # None for none; ``owner_known`` False when the image has no package
    # database (then the JSON has no ``owner`` field: unknown is not "none").
    owner: str | None = None
    owner_known: bool = False

    @property
    def layer(self) -> int:
        return self.event.layer

    @property
    def deleted(self) -> bool:
        return type(self.event) is Deletion

    def to_dict(self) -> dict[str, Any]:
        ev = self.event
        if type(ev) is Deletion:
            return {
                "layer": ev.layer,
                "event": "deleted",
                "how": ev.how,
                "cause": ev.cause,
                "visible": False,
                "command": self.command,
            }
        assert type(ev) is Entry
        return {
            "layer": ev.layer,
            "event": ev.change,
            "type": ev.type,
            "mode": ev.mode,
            "uid": ev.uid,
            "gid": ev.gid,
            "size": ev.size,
            "digest": ev.digest_str,
            "link": ev.link,
            "visible": self.visible,
            "implicit": ev.implicit,
            "wasted": None if self.wasted is None else self.wasted.to_dict(),
            "command": self.command,
        } | ({"owner": self.owner} if self.owner_known else {})


@dataclass(frozen=True, slots=True)
class PathStack:
    path: str
    rows: list[StackRow]

    @property
    def visible_at_top(self) -> bool:
        return bool(self.rows) and not self.rows[-1].deleted

    def to_dict(self) -> dict[str, Any]:
        """The document ``which IMAGE PATH --json`` writes."""
        return {"path": self.path, "versions": [r.to_dict() for r in self.rows]}


@dataclass(frozen=True, slots=True)
class WhichResult:
    """The stacks of every path a glob matched (at most ``limit`` of them kept)."""

    pattern: str
    matched: int  # paths that matched, shown or not
    stacks: list[PathStack]

    def to_dict(self) -> dict[str, Any]:
        """The document ``which IMAGE GLOB --json`` writes."""
        return {"pattern": self.pattern, "matched": self.matched, "paths": [s.to_dict() for s in self.stacks]}


OwnerOf = Callable[[str, int], str | None]  # (path, layer) -> the owning package, or None


def path_stack(merged: Merged, path: str, owner_of: OwnerOf | None = None) -> PathStack:
    """The stack of one normalised path (empty rows if no layer has it).

    Which versions are waste, and what hid them, is the audit's rule, asked
    of the core for this one timeline (``Merged.path_waste``).
    """
    hist = merged.history(path)
    layers = merged.image.layers
    waste = {w.entry: w for w in merged.path_waste(path)}
    rows: list[StackRow] = []
    last = len(hist) - 1
    for i, ev in enumerate(hist):
        command = layers[ev.layer].command if 0 <= ev.layer < len(layers) else ""
        w = waste.get(ev.key) if type(ev) is Entry else None
        wasted = None if w is None else Wasted(w.cause, w.by_layer, w.how)
        owned = owner_of is not None and type(ev) is Entry and ev.type != DIR
        owner = owner_of(path, ev.layer) if owned and owner_of is not None else None
        rows.append(StackRow(ev, command, i == last and type(ev) is Entry, wasted, owner, owned))
    return PathStack(path, rows)


def which(
    merged: Merged, query: str, limit: int | None = None, owner_of: OwnerOf | None = None
) -> PathStack | WhichResult:
    """A path's stack, or the stacks of every path a glob matches.

    ``limit`` bounds the stacks kept (default :data:`WHICH_LIMIT`; <= 0: all);
    ``matched`` still counts every match.

    A query naming an existing path is that path even if it holds glob
    characters (``lib[1].so``). Raises LayerscopeError when nothing matches.
    """
    text = query.strip()
    path = normalise(text) or ""
    if path and merged.history(path):
        return path_stack(merged, path, owner_of=owner_of)
    if not is_glob(text):
        raise LayerscopeError(f"{query}: no such path in any layer")
    try:
        match: Callable[[str], bool] = compile_glob(text)
    except ValueError as exc:
        raise LayerscopeError(str(exc)) from None
    paths = [p for p in merged.paths() if match(p)]
    if not paths:
        raise LayerscopeError(f"{query}: no path in any layer matches")
    limit = WHICH_LIMIT if limit is None else limit
    shown = paths if limit <= 0 else paths[:limit]
    return WhichResult(text, len(paths), [path_stack(merged, p, owner_of) for p in shown])
