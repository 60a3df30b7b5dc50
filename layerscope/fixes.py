"""What to change in the Dockerfile, and the bytes each change saves.

The waste analysis says which file versions ship without being seen and
which layer hid them; a reviewer wants the change that stops them shipping.
Each fix here is built from the model's own figures, never estimated:

- every hidden version (``Analysis.items``) and every package-cache file a
  layer ships (the ``package-cache`` findings) is given to exactly one fix,
  so fixes never count a byte twice and "after all fixes" is a plain
  difference;
- a fix saves the bytes of the versions it covers that would not ship had
  the Dockerfile been written as it says: the copy a ``chmod`` layer made,
  the lower version a later layer deleted or replaced, the cache the
  ``RUN`` left behind;
- a fix whose bytes ship in a base layer is the base's: listed apart, since
  nothing in the user's Dockerfile changes them but the base.

Secrets that still ship in a lower layer rank first whatever their size:
their cost is exposure, and the fix starts with rotating them.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from .analysis import (
    COPY_UP,
    DELETED,
    HIGH,
    IDENTICAL,
    OVERWRITTEN,
    Analysis,
    WasteItem,
    package_cache_root,
    sensitive_path,
)
from .fmt import short_command
from .packages.index import PackageIndex
from .packages.toolchain import build_tools


class FixKind(StrEnum):
    """One kind of mistake and its remedy."""

    SECRET = "secret-shipping"
    CACHE = "package-cache"
    DELETED = "delete-in-same-layer"
    METADATA = "set-mode-where-added"
    IDENTICAL = "drop-identical-copy"
    OVERWRITTEN = "add-final-version-only"
    BUILD_TOOLS = "build-in-a-stage"


_PATHS_KEPT = 20  # paths named per fix; the count says how many it covers
_RM_CHARS = 100  # of rm -rf's arguments in a change: the paths list says the rest

# Each cache root's remedy, said as a change to the RUN that left it.
_CACHE_FIX: tuple[tuple[str, str], ...] = (
    (
        "/var/lib/apt/lists",
        "end the same RUN with `&& rm -rf /var/lib/apt/lists/*` (a later RUN that installs updates its own lists)",
    ),
    ("/var/cache/apt", "end the same RUN with `&& apt-get clean` (or `rm -rf /var/cache/apt/archives/*.deb`)"),
    ("/var/cache/apk", "use `apk add --no-cache` (or end the RUN with `&& rm -rf /var/cache/apk/*`)"),
    ("/var/cache/dnf", "end the same RUN with `&& dnf clean all`"),
    ("/var/cache/yum", "end the same RUN with `&& yum clean all`"),
    ("/var/cache/zypp", "end the same RUN with `&& zypper clean --all`"),
    ("/var/cache/pacman/pkg", "end the same RUN with `&& pacman -Scc --noconfirm`"),
    ("/.cache/pip", "use `pip install --no-cache-dir` (or `ENV PIP_NO_CACHE_DIR=1`)"),
    ("/.cache/uv", "use `uv pip install --no-cache` (or `ENV UV_NO_CACHE=1`)"),
    ("/.cache/pypoetry", "end the same RUN with `&& rm -rf ~/.cache/pypoetry` (or `poetry install --no-cache`)"),
    ("/.cache/go-build", "end the same RUN with `&& go clean -cache` (or build in a stage)"),
    ("/.npm/_cacache", "end the same RUN with `&& npm cache clean --force`"),
    ("/yarn", "end the same RUN with `&& yarn cache clean`"),
)


def _cache_change(root: str, verb: str) -> str:
    """A RUN cleans up after itself; a COPY or ADD (a rootfs tarball) carries
    the cache in from outside, so the fix is in what it copies."""
    if verb in ("COPY", "ADD"):
        return f"leave {root} out of what this {verb} brings in (clean it before packing, or .dockerignore it)"
    return cache_remedy(root)


def cache_remedy(root: str) -> str:
    """The change that keeps the cache at ``root`` out of its layer."""
    for tail, remedy in _CACHE_FIX:
        if root.endswith(tail):
            return remedy
    return f"end the same RUN with `&& rm -rf {root}`"


@dataclass(frozen=True, slots=True)
class Fix:
    """One change to the Dockerfile: where, what, and the bytes it saves."""

    kind: FixKind
    layer: int  # the layer whose instruction changes
    layers: tuple[int, ...]  # every layer the fix touches, in order
    saves: int  # content bytes that would no longer ship
    files: int  # file versions covered
    paths: tuple[str, ...]  # the first ``_PATHS_KEPT`` of them, sorted
    change: str  # the change, in Dockerfile terms
    why: str  # what the layers do now
    base: bool  # the bytes ship in a base layer: nothing to change but the base
    exact: bool  # the saving is exactly the bytes a rebuild drops
    severity: str = ""  # ``high`` for an exposed secret, else empty

    def to_dict(self, commands: Sequence[str]) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "layer": self.layer,
            "layers": list(self.layers),
            "commands": [commands[k] if 0 <= k < len(commands) else "" for k in self.layers],
            "saves_bytes": self.saves,
            "files": self.files,
            "paths": list(self.paths),
            "change": self.change,
            "why": self.why,
            "base": self.base,
            "exact": self.exact,
            "severity": self.severity or None,
        }


@dataclass(frozen=True, slots=True)
class Fixes:
    """Every fix, ranked, and the image's size before and after them."""

    size_bytes: int  # the image's regular-file content bytes, every layer
    commands: tuple[str, ...]  # each layer's history command
    fixes: tuple[Fix, ...]  # secrets first, then by bytes saved

    @property
    def user(self) -> tuple[Fix, ...]:
        return tuple(f for f in self.fixes if not f.base)

    @property
    def base(self) -> tuple[Fix, ...]:
        return tuple(f for f in self.fixes if f.base)

    @property
    def fixable_bytes(self) -> int:
        """What the user's fixes save together (each byte is in one fix)."""
        return sum(f.saves for f in self.user)

    @property
    def base_bytes(self) -> int:
        return sum(f.saves for f in self.base)

    def after(self, fix: Fix | None = None) -> int:
        """The image's bytes after ``fix``, or after every user fix."""
        return self.size_bytes - (fix.saves if fix is not None else self.fixable_bytes)

    def to_dict(self) -> list[dict[str, Any]]:
        """The ``fixes`` array of ``report --json``."""
        out = []
        for f in self.fixes:
            d = f.to_dict(self.commands)
            d["size_after_bytes"] = self.after(f)
            out.append(d)
        return out

    def summary(self) -> dict[str, Any]:
        """The ``image.fixes`` object of ``report --json``."""
        return {
            "size_bytes": self.size_bytes,
            "fixable_bytes": self.fixable_bytes,
            "size_after_bytes": self.after(),
            "fixes": len(self.user),
            "base_bytes": self.base_bytes,
            "base_fixes": len(self.base),
        }


def _verb(command: str) -> str:
    """``RUN``, ``COPY``, ``ADD``, … of a history command (``short_command``'s)."""
    return short_command(command).split(" ", 1)[0].upper() if command.strip() else ""


def _files(n: int) -> str:
    return f"{n} file{'s' if n != 1 else ''}"


def _paths(paths: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted(set(paths))[:_PATHS_KEPT])


def _rm_targets(items: Sequence[WasteItem]) -> str:
    """What the later layer removed (its whiteout targets and opaque
    directories), as ``rm -rf`` arguments: the same paths, one layer earlier."""
    targets = sorted({i.deleted_by or i.path for i in items})
    shown: list[str] = []
    for t in targets:
        if shown and sum(len(x) + 1 for x in shown) + len(t) > _RM_CHARS:
            break
        shown.append(shlex.quote(t))
    return " ".join(shown) + (" …" if len(shown) < len(targets) else "")


@dataclass(slots=True)
class _Group:
    items: list[WasteItem]

    @property
    def saves(self) -> int:
        return sum(i.size for i in self.items)


def _delete_change(verb: str, layer: int, by: int, where: str) -> str:
    if verb == "RUN":
        return f"delete them at the end of layer {layer}'s own RUN (`&& rm -rf {where}`), not in layer {by}"
    return (
        f"do not {verb or 'add'} them in layer {layer}: read them with `RUN --mount=type=bind` "
        f"in the step that needs them, or build in a stage and `COPY --from` only the result"
    )


def _metadata_change(by_command: str, layer: int, by: int, verb: str) -> str:
    what = "chown" if "chown" in by_command and "chmod" not in by_command else "chmod"
    if verb in ("COPY", "ADD"):
        flag = "--chown" if what == "chown" else "--chmod"
        return f"set the mode where layer {layer} adds them (`{verb} {flag}=…`) and drop layer {by}'s {what}"
    if verb == "RUN":
        return f"{what} them in layer {layer}'s own RUN, where they are made, and drop layer {by}'s {what}"
    return f"set owners and modes where layer {layer} adds them, and drop layer {by}'s {what}"


def _item_fix(kind: FixKind, layer: int, by: int, g: _Group, commands: Sequence[str], nbase: int) -> Fix:
    paths = [i.path for i in g.items]
    verb = _verb(commands[layer]) if 0 <= layer < len(commands) else ""
    n = len(g.items)
    files = _files(n)
    if kind is FixKind.DELETED:
        change = _delete_change(verb, layer, by, _rm_targets(g.items))
        why = f"layer {layer} adds {files} that layer {by} deletes; the bytes still ship in layer {layer}"
        shipping = layer
    elif kind is FixKind.METADATA:
        change = _metadata_change(commands[by] if 0 <= by < len(commands) else "", layer, by, verb)
        why = f"layer {by} changed only the mode or owner of {files} from layer {layer}, and so ships a full copy"
        shipping = by
    elif kind is FixKind.IDENTICAL:
        by_verb = _verb(commands[by]) if 0 <= by < len(commands) else ""
        if by_verb in ("COPY", "ADD"):
            change = f"leave them out of layer {by}'s {by_verb}: layer {layer} has them (narrow it, or .dockerignore)"
        else:
            change = (
                f"keep layer {by} from writing them again (a `touch`, a `sed -i` that changes nothing, "
                f"a re-install or re-extract): layer {layer} has them"
            )
        why = f"layer {by} writes {files} again, byte for byte as layer {layer} has them"
        shipping = by
    else:
        change = (
            f"add only the final version: leave them out of layer {layer}, "
            f"or make them in one RUN with layer {by}'s change"
        )
        why = f"layer {by} replaces {files} that layer {layer} added, whose bytes still ship"
        shipping = layer
    return Fix(
        kind=kind,
        layer=layer if kind in (FixKind.DELETED, FixKind.OVERWRITTEN) else by,
        layers=tuple(sorted({layer, by})),
        saves=g.saves,
        files=n,
        paths=_paths(paths),
        change=change,
        why=why,
        base=0 <= shipping < nbase,
        exact=True,
    )


_KIND_OF_CAUSE: dict[str, FixKind] = {
    DELETED: FixKind.DELETED,
    COPY_UP: FixKind.METADATA,
    IDENTICAL: FixKind.IDENTICAL,
    OVERWRITTEN: FixKind.OVERWRITTEN,
}


def _secret_fixes(analysis: Analysis) -> tuple[list[Fix], set[tuple[str, int]]]:
    """A fix per hidden secret (the ``secret-hidden`` findings: a ``.git``
    directory is one), and the versions they cover, so no byte fix counts
    them again."""
    found = {(f.path, f.layer): f for f in analysis.findings if f.rule == "secret-hidden" and f.severity == HIGH}
    if not found:
        return [], set()
    covered: set[tuple[str, int]] = set()
    hid_by: dict[tuple[str, int], set[int]] = {}
    for it in analysis.items:
        p = sensitive_path(it.path) if (it.path, it.layer) not in found else it.path
        if p is not None and (p, it.layer) in found:
            covered.add((it.path, it.layer))
            hid_by.setdefault((p, it.layer), set()).add(it.by_layer)
    out = []
    for (path, layer), f in found.items():
        by = sorted(hid_by.get((path, layer), ()))
        out.append(
            Fix(
                kind=FixKind.SECRET,
                layer=layer,
                layers=tuple(sorted({layer, *by})),
                saves=f.size,
                files=f.count,
                paths=(path,),
                change=(
                    "rotate it first (anyone with the image has it), then pass it with "
                    "`RUN --mount=type=secret,id=…` or use it only in a build stage, so no layer stores it"
                ),
                why=f"layer {layer} stores {path}; "
                + (f"layer {', '.join(map(str, by))} hides it" if by else "a later layer hides it")
                + ", but the bytes still ship",
                base=f.base,
                exact=True,
                severity=HIGH,
            )
        )
    return out, covered


def _cache_fixes(analysis: Analysis) -> tuple[list[Fix], set[tuple[str, int]]]:
    """A fix per cache root a layer ships, and the (root, layer) pairs."""
    out: list[Fix] = []
    roots: set[tuple[str, int]] = set()
    for f in analysis.findings:
        if f.rule != "package-cache" or f.size <= 0:
            continue
        roots.add((f.path, f.layer))
        out.append(
            Fix(
                kind=FixKind.CACHE,
                layer=f.layer,
                layers=(f.layer,),
                saves=f.size,
                files=f.count,
                paths=(f.path,),
                change=_cache_change(f.path, _verb(f.command)),
                why=f"layer {f.layer} leaves {_files(f.count)} of package-manager cache in {f.path}",
                base=f.base,
                exact=True,
            )
        )
    return out, roots


def _build_tool_fixes(packages: PackageIndex, nbase: int) -> list[Fix]:
    """Compilers and ``-dev`` packages still in the image at its top, one fix
    per layer that installed them. Not exact: what they pulled in is not
    counted, and a rebuild without them may keep a library they brought."""
    merged = packages.merged
    out = []
    for t in build_tools(merged, packages, merged.top):
        if t.bytes <= 0:
            continue
        names = ", ".join(p.name for p in t.packages[:6]) + (
            f" and {len(t.packages) - 6} more" if len(t.packages) > 6 else ""
        )
        n = len(t.packages)
        out.append(
            Fix(
                kind=FixKind.BUILD_TOOLS,
                layer=t.layer,
                layers=(t.layer,),
                saves=t.bytes,
                files=t.files,
                paths=_paths(p.owner for p in t.packages),
                change=(
                    "build in a stage (`FROM … AS build`) and `COPY --from=build` only what it makes; "
                    "install the runtime packages alone in the final stage"
                ),
                why=f"layer {t.layer} installs {n} build tool{'s' if n != 1 else ''} the final image keeps: {names}",
                base=0 <= t.layer < nbase,
                exact=False,
            )
        )
    return out


def fixes(analysis: Analysis, packages: PackageIndex | None = None) -> Fixes:
    """The fixes of an analysed image (the analysis holds each layer's
    command and the image's size, all a fix is told in); with its
    ``packages``, the build tools it keeps too."""
    commands = [lw.command for lw in analysis.layers]
    nbase = analysis.base.layers
    secrets, secret_versions = _secret_fixes(analysis)
    caches, cache_roots = _cache_fixes(analysis)
    groups: dict[tuple[FixKind, int, int], _Group] = {}
    for it in analysis.items:
        kind = _KIND_OF_CAUSE.get(it.cause)
        if kind is None or it.size <= 0 or (it.path, it.layer) in secret_versions:
            continue
        root = package_cache_root(it.path)
        if root is not None and (root, it.layer) in cache_roots:
            continue  # the cache fix already saves this version
        groups.setdefault((kind, it.layer, it.by_layer), _Group([])).items.append(it)
    byte_fixes = [_item_fix(kind, layer, by, g, commands, nbase) for (kind, layer, by), g in groups.items()]
    byte_fixes += caches
    if packages is not None:
        byte_fixes += _build_tool_fixes(packages, nbase)  # live files: no hidden version is theirs
    byte_fixes.sort(key=lambda f: (-f.saves, f.layer, f.kind.value, f.paths))
    secrets.sort(key=lambda f: (f.layer, f.paths))
    return Fixes(size_bytes=analysis.size_bytes, commands=tuple(commands), fixes=tuple(secrets + byte_fixes))
