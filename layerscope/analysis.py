"""Audit a merged image: honest waste accounting, dive-compatible figures, findings.

Pure data, no Rich/Textual: the report, the CI gate and the UI all read the
same :class:`Analysis`.

Waste (layerscope's own accounting)
    Every regular-file version that still ships in some layer but is not
    visible in the final merged tree is *waste*. Each such version is hidden by
    the next event of its path's timeline, which names the cause:

    ``overwritten``  a later layer wrote different content (or a new type is not involved)
    ``metadata``     a later layer changed only mode/owner/xattrs: the whole file was copied up
    ``identical``    a later layer wrote the very same bytes and metadata again
    ``deleted``      whited out, removed by an opaque directory or replaced by another type

    A version whose bytes are still reachable through a visible hardlink is not
    waste; hardlink members carry no bytes, so hardlinked content counts once.
    The same holds for a metadata-only copy-up in a container's writable layer
    (overlay ``metacopy``): its bytes are still the lower version's.

dive-compatible figures
    ``efficiency``, ``wasted_bytes`` and ``user_wasted_percent`` computed the
    way dive 0.13.1 does (see :func:`dive_figures`), quirks included, so users
    moving from dive see the same numbers.

Findings
    One table, :data:`RULES`, each rule a scope (which versions it looks at)
    and a matcher that returns the path to report or None.

Waste and the rules' candidates come from one pass of the core over the
merged model (``Merged.audit``, ``src/audit.rs``), dive's figures from
another (``Merged.dive_raw``, on a second thread): linear in the number of
entries.
"""

from __future__ import annotations

import heapq
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from . import _core
from .merge import Merged
from .model import (
    DIR,
    FILE,
    HARDLINK,
    IMAGE_LAYER,
    METADATA,
    Entry,
    HistoryItem,
    Image,
)


class Cause(StrEnum):
    """Why a file version that ships is hidden (``cause`` in the JSON); the
    core's order (``src/audit.rs``)."""

    OVERWRITTEN = "overwritten"
    COPY_UP = "metadata"
    IDENTICAL = "identical"
    DELETED = "deleted"


_CAUSES = {c.value: c for c in Cause}  # the core names a cause; the report holds the enum


OVERWRITTEN = Cause.OVERWRITTEN
COPY_UP = Cause.COPY_UP
IDENTICAL = Cause.IDENTICAL
DELETED = Cause.DELETED
CAUSES = tuple(Cause)


class Severity(StrEnum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFO = "info"


HIGH = Severity.HIGH
MEDIUM = Severity.MEDIUM
LOW = Severity.LOW
INFO = Severity.INFO
SEVERITIES = tuple(Severity)

TOP_OFFENDERS = 20


@dataclass(slots=True)
class WasteItem:
    """One file version that ships in ``layer`` but is hidden by ``by_layer``."""

    path: str
    size: int
    cause: str  # one of CAUSES
    layer: int  # where the bytes ship
    by_layer: int  # the layer that hid them
    how: str  # change class of the hiding entry, or whiteout|opaque|replaced
    command: str = ""  # command of by_layer (what caused the waste)
    deleted_by: str | None = None  # for deletions: the whiteout target / opaque dir / replacing path

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "size": self.size,
            "cause": self.cause,
            "layer": self.layer,
            "by_layer": self.by_layer,
            "how": self.how,
            "command": self.command,
        }


def _causes() -> dict[str, int]:
    return dict.fromkeys(CAUSES, 0)


@dataclass(slots=True)
class WasteTotals:
    total: int = 0
    by_cause: dict[str, int] = field(default_factory=_causes)
    files: int = 0  # hidden versions counted

    def add(self, cause: str, size: int) -> None:
        self.total += size
        self.by_cause[cause] += size
        self.files += 1

    def to_dict(self) -> dict[str, Any]:
        return {"total_bytes": self.total, "files": self.files, **{k + "_bytes": v for k, v in self.by_cause.items()}}


@dataclass(slots=True)
class LayerWaste:
    """Waste seen from one layer: bytes it ships that are hidden, and waste it caused."""

    index: int
    command: str
    size_bytes: int
    base: bool
    shipped: WasteTotals = field(default_factory=WasteTotals)  # dead bytes stored in this layer
    caused: WasteTotals = field(default_factory=WasteTotals)  # bytes this layer made dead

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "base": self.base,
            "wasted_bytes": self.shipped.total,
            "shipped": self.shipped.to_dict(),
            "caused": self.caused.to_dict(),
        }


@dataclass(slots=True)
class DiveFigures:
    """The figures dive 0.13.1 prints, computed its way (fractions, not percents)."""

    efficiency: float
    wasted_bytes: int
    user_wasted_percent: float | None  # a fraction, as dive's highestUserWastedPercent; None if no user bytes
    size_bytes: int
    user_size_bytes: int
    file_references: list[tuple[str, int, int]]  # (path, count, cumulative size), biggest first

    def to_dict(self) -> dict[str, Any]:
        return {
            "efficiency": self.efficiency,
            "wasted_bytes": self.wasted_bytes,
            "user_wasted_percent": self.user_wasted_percent,
            "size_bytes": self.size_bytes,
            "user_size_bytes": self.user_size_bytes,
            "inefficient_files": [{"path": p, "count": c, "size": s} for p, c, s in self.file_references],
        }


@dataclass(slots=True)
class Finding:
    rule: str
    severity: str
    title: str
    path: str
    layer: int
    command: str
    size: int
    count: int = 1  # files aggregated under ``path``
    detail: str = ""
    base: bool = False  # ``layer`` belongs to the base image

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "severity": self.severity,
            "title": self.title,
            "path": self.path,
            "layer": self.layer,
            "command": self.command,
            "size": self.size,
            "count": self.count,
            "detail": self.detail,
            "base": self.base,
        }


@dataclass(slots=True)
class FindingGroup:
    """All findings of one rule in base layers, as one line: the base's stock
    setuid programs are not the user's to fix, and eleven lines of them bury
    the one finding that is."""

    rule: str
    severity: str
    title: str
    count: int = 0  # files (sum of the findings' counts)
    entries: int = 0  # findings grouped
    size: int = 0
    layers: list[int] = field(default_factory=list)  # sorted, distinct

    @property
    def summary(self) -> str:
        one, many = _NOUNS.get(self.rule, ("file", "files"))
        return f"{self.count} {one if self.count == 1 else many} in base layers"

    def add(self, f: Finding) -> None:
        self.count += f.count
        self.entries += 1
        self.size += f.size
        if f.layer not in self.layers:
            self.layers.append(f.layer)
            self.layers.sort()

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "severity": self.severity,
            "title": self.title,
            "summary": self.summary,
            "count": self.count,
            "entries": self.entries,
            "size": self.size,
            "layers": list(self.layers),
            "base": True,
        }


@dataclass(slots=True)
class BaseInfo:
    layers: int = 0  # layers 0..layers-1 belong to the base image
    method: str = "none"  # one of BASE_METHODS
    ref: str | None = None  # the base image: --base path, or the name the image records

    def to_dict(self) -> dict[str, Any]:
        return {"layers": self.layers, "method": self.method, "ref": self.ref}


@dataclass(slots=True)
class Analysis:
    size_bytes: int
    user_size_bytes: int
    base: BaseInfo
    waste: WasteTotals
    user_waste: WasteTotals  # waste caused by non-base layers
    layers: list[LayerWaste]
    items: list[WasteItem]  # every hidden version (unsorted)
    by_path: dict[str, int]  # wasted bytes per path
    top: list[WasteItem]  # the biggest hidden versions
    findings: list[Finding]
    dive: DiveFigures

    @property
    def wasted_percent(self) -> float:
        return 100.0 * self.waste.total / self.size_bytes if self.size_bytes else 0.0

    @property
    def user_wasted_percent(self) -> float:
        return 100.0 * self.user_waste.total / self.user_size_bytes if self.user_size_bytes else 0.0

    @property
    def efficiency(self) -> float:
        """layerscope's efficiency: the share of shipped file bytes that is visible."""
        return 1.0 - self.waste.total / self.size_bytes if self.size_bytes else 1.0

    def findings_by_severity(self, base_only: bool = False) -> dict[str, int]:
        out: dict[str, int] = dict.fromkeys(SEVERITIES, 0)
        for f in self.findings:
            if f.base or not base_only:
                out[f.severity] += 1
        return out

    def base_findings(self) -> list[FindingGroup]:
        """One group per rule of the findings in base layers, every severity."""
        groups: dict[str, FindingGroup] = {}
        for f in self.findings:
            if f.base:
                g = groups.get(f.rule)
                if g is None:
                    g = groups[f.rule] = FindingGroup(f.rule, f.severity, f.title)
                g.add(f)
        return list(groups.values())  # findings are sorted: so are the groups

    def findings_view(self, all_findings: bool = False) -> list[Finding | FindingGroup]:
        """The findings as a report lists them: base findings folded into one
        group per rule, except ``high`` ones, which are always listed one by
        one (each is worth a look, and the default gate fails on them).
        ``all_findings`` (or no base layers) lists everything."""
        if all_findings or not any(f.base for f in self.findings):
            return list(self.findings)
        out: list[Finding | FindingGroup] = []
        groups: dict[str, FindingGroup] = {}
        for f in self.findings:
            if not f.base or f.severity == HIGH:
                out.append(f)
                continue
            g = groups.get(f.rule)
            if g is None:
                g = groups[f.rule] = FindingGroup(f.rule, f.severity, f.title)
                out.append(g)  # where the rule's first base finding was: order stays by severity, rule
            g.add(f)
        return out

    def to_dict(self, top: int = TOP_OFFENDERS) -> dict[str, Any]:
        """The ``image.waste`` object of the report (layers and findings are separate)."""
        return {
            **self.waste.to_dict(),
            "percent": round(self.wasted_percent, 4),
            "efficiency": self.efficiency,
            "user": {
                **self.user_waste.to_dict(),
                "size_bytes": self.user_size_bytes,
                "percent": round(self.user_wasted_percent, 4),
            },
            "base": self.base.to_dict(),
            "top": [i.to_dict() for i in self.top[:top]],
            "top_paths": [{"path": p, "size": s} for p, s in self.top_paths(top)],
        }

    def top_paths(self, n: int = TOP_OFFENDERS) -> list[tuple[str, int]]:
        return heapq.nlargest(n, self.by_path.items(), key=lambda kv: (kv[1], kv[0]))


# ================================================================================
# Findings rules
# ================================================================================

# Scopes: which versions a rule looks at.
SHIPPED = "shipped"  # every entry every layer ships (hidden or not)
CHANGED = "changed"  # entries a layer adds or changes (not identical rewrites)
HIDDEN = "hidden"  # file versions that ship but are not visible at the top (waste items)
LIVE = "live"  # entries visible at the top

Matcher = Callable[[Entry, "Entry | None", "WasteItem | None"], "str | None"]


@dataclass(frozen=True, slots=True)
class Hint:
    """What the core checks before a rule sees a version (``src/audit.rs``):
    the rule is called only when one of the set conditions holds. It must
    never leave out a version the rule would match; it only saves calling
    the rule (and making an ``Entry``) for the many it would not."""

    mode_bits: int = 0  # any of these mode bits is set
    prefixes: tuple[str, ...] = ()  # the path starts with one of these
    secret_names: bool = False  # the name could be a secret's (see sensitive_path), or a .git dir is above
    deleted: bool = False  # hidden scope: a deletion hid the version
    types: tuple[str, ...] = ()  # and only entries of these types (empty: any type)


@dataclass(frozen=True, slots=True)
class Rule:
    """A findings rule. ``match(entry, previous version, waste item)`` returns the
    path to report (several files may share one, e.g. a cache dir) or None.
    Without a ``hint`` the rule sees every version of its scope."""

    id: str
    severity: str
    title: str
    scope: str
    match: Matcher
    hint: Hint | None = None


_SENSITIVE = re.compile(
    r"""(?x)
    (?:^|/)(?:
        id_(?:rsa|dsa|ecdsa|ed25519)(?:_sk)?            # ssh private keys (the .pub are fine)
      | [^/]*\.(?:key|p12|pfx|jks|keystore)
      | [^/]*(?:priv|private|secret)[^/]*\.pem
      | \.env(?:\.(?!example$|sample$|template$|dist$)[^/]+)?   # .env, .env.production
      | \.netrc | \.npmrc | \.pypirc | \.git-credentials | \.pgpass | \.dockercfg
      | credentials\.json | service[-_]account[^/]*\.json
      | \.(?:bash|zsh|sh|ash|python|mysql|psql|node_repl|sqlite)_history | \.history
      | \.aws/(?:credentials|config) | \.docker/config\.json | \.kube/config
      | \.config/gcloud/[^/]+ | \.azure/[^/]+
    )$
    """
)
_GIT = re.compile(r"^(.*?/\.git)(?:/|$)")
_NOT_SECRET = re.compile(r"/usr/share/|/(?:tests?|testdata|test_data|examples?|fixtures)/|/site-packages/[^/]+/tests?/")


def sensitive_path(path: str) -> str | None:
    """The path to report if ``path`` looks like a secret (a ``.git`` dir is reported whole)."""
    if "/.git" in path:
        m = _GIT.match(path)
        if m:
            return m.group(1)
    # Every pattern spans at most the last three components: search only those.
    # The cheap pre-filter that rules out nearly every path before this regex
    # runs has one owner, the core's audit pass (``maybe_secret`` in
    # src/audit.rs, the ``secret_names`` hint): the rules call this only on
    # the candidates it let through.
    i = path.rfind("/")
    j = path.rfind("/", 0, i) if i > 0 else -1
    cut = path.rfind("/", 0, j) if j > 0 else -1
    if _SENSITIVE.search(path, max(cut, 0)) and not _NOT_SECRET.search(path):
        return path
    return None


def _secret_hidden(e: Entry, prev: Entry | None, w: WasteItem | None) -> str | None:
    return sensitive_path(e.path)


def _secret_live(e: Entry, prev: Entry | None, w: WasteItem | None) -> str | None:
    if e.type == DIR and not e.path.endswith("/.git"):
        return None
    return sensitive_path(e.path)


def _setuid(e: Entry, prev: Entry | None, w: WasteItem | None) -> str | None:
    bits = e.mode & 0o6000
    if not bits or e.content_type != FILE:
        return None
    if prev is not None and prev.content_type == FILE and (prev.mode & 0o6000) == bits and e.change == METADATA:
        return None  # already had these bits: only the owner changed
    return e.path


def _world_writable(e: Entry, prev: Entry | None, w: WasteItem | None) -> str | None:
    if not e.mode & 0o002:
        return None
    if e.type == DIR:
        return None if e.mode & 0o1000 else e.path
    if e.type in (FILE, HARDLINK):
        return e.path
    return None  # symlinks are always 0777; devices and fifos are not content


_PKG_CACHE = re.compile(
    r"""^(?:
        /var/lib/apt/lists | /var/cache/(?:apt|apk|yum|dnf|zypp|pacman/pkg)
      | (?:/root|/home/[^/]+)/\.cache/(?:pip|yarn|go-build|pypoetry|uv)
      | (?:/root|/home/[^/]+)/\.npm/_cacache | /usr/local/share/\.cache/yarn
    )/""",
    re.X,
)


_PKG_CACHE_HEADS = ("/var/", "/root/", "/home/", "/usr/local/share/")


def package_cache_root(path: str) -> str | None:
    if not path.startswith(_PKG_CACHE_HEADS):  # most paths: no regex at all
        return None
    m = _PKG_CACHE.match(path)
    return m.group(0)[:-1] if m else None


def _pkg_cache(e: Entry, prev: Entry | None, w: WasteItem | None) -> str | None:
    if e.type != FILE or e.size <= 0:
        return None
    return package_cache_root(e.path)


def _deleted_later(e: Entry, prev: Entry | None, w: WasteItem | None) -> str | None:
    if w is None or w.cause != DELETED:
        return None
    return w.deleted_by or e.path


RULES: tuple[Rule, ...] = (
    Rule(
        "secret-hidden",
        HIGH,
        "sensitive file deleted or overwritten, but it still ships in a lower layer",
        HIDDEN,
        _secret_hidden,
        Hint(secret_names=True),
    ),
    Rule("secret-present", MEDIUM, "sensitive file in the final image", LIVE, _secret_live, Hint(secret_names=True)),
    Rule(
        "setuid", MEDIUM, "setuid/setgid file added", CHANGED, _setuid, Hint(mode_bits=0o6000, types=(FILE, HARDLINK))
    ),
    Rule(
        "world-writable",
        MEDIUM,
        "world-writable file or directory without the sticky bit",
        CHANGED,
        _world_writable,
        Hint(mode_bits=0o002, types=(FILE, HARDLINK, DIR)),
    ),
    Rule(
        "package-cache",
        LOW,
        "package-manager cache left in a layer",
        SHIPPED,
        _pkg_cache,
        Hint(prefixes=_PKG_CACHE_HEADS, types=(FILE,)),
    ),
    Rule(
        "deleted-later",
        LOW,
        "files added, then deleted by a later layer: their bytes still ship",
        HIDDEN,
        _deleted_later,
        Hint(deleted=True),
    ),
)
RULE_IDS = tuple(r.id for r in RULES)

# What each rule finds, for "11 setuid/setgid files in base layers".
_NOUNS: dict[str, tuple[str, str]] = {
    "secret-hidden": ("hidden sensitive file", "hidden sensitive files"),
    "secret-present": ("sensitive file", "sensitive files"),
    "setuid": ("setuid/setgid file", "setuid/setgid files"),
    "world-writable": ("world-writable path", "world-writable paths"),
    "package-cache": ("package-cache file", "package-cache files"),
    "deleted-later": ("deleted file", "deleted files"),
}


class _FindingSink:
    """Aggregate findings by (rule, layer, reported path)."""

    def __init__(self, image: Image) -> None:
        self.commands = [la.command for la in image.layers]
        self.found: dict[tuple[str, int, str], Finding] = {}

    def add(self, rule: Rule, path: str, layer: int, size: int, detail: str = "") -> None:
        key = (rule.id, layer, path)
        f = self.found.get(key)
        if f is None:
            cmd = self.commands[layer] if 0 <= layer < len(self.commands) else ""
            self.found[key] = Finding(rule.id, rule.severity, rule.title, path, layer, cmd, size, 1, detail)
        else:
            f.size += size
            f.count += 1

    def result(self) -> list[Finding]:
        order: dict[str, int] = {s: i for i, s in enumerate(SEVERITIES)}
        return sorted(self.found.values(), key=lambda f: (order[f.severity], f.rule, f.layer, f.path))


# ================================================================================
# Base image layers
# ================================================================================


def shared_prefix(a: Iterable[str | None], b: Iterable[str | None]) -> int:
    n = 0
    for x, y in zip(a, b):
        if x is None or x != y:
            break
        n += 1
    return n


def diff_ids(image: Image) -> list[str | None]:
    return [la.computed_diff_id or la.diff_id for la in image.layers]


# How BaseInfo.layers was decided.
BASE_METHODS = ("none", "count", "image", "annotations", "history-from", "history")
BASE_NAME = "org.opencontainers.image.base.name"
BASE_DIGEST = "org.opencontainers.image.base.digest"

_BASE_END = re.compile(r"^(?:/bin/sh -c )?#\(nop\)\s*(?:CMD|ENTRYPOINT)\b|^(?:CMD|ENTRYPOINT)\b")
_FROM_COMMENT = re.compile(r"^FROM (\S+)$")
_IMAGE_ID = re.compile(r"^(?:sha256:)?[0-9a-f]{12,64}$")


def _history_fits(image: Image) -> bool:
    """History-based guesses need one layer-creating history entry per image
    layer (a container's writable layer has none: the image's history stops below it)."""
    n = sum(1 for la in image.layers if la.kind == IMAGE_LAYER)
    return n > 0 and sum(1 for h in image.history if not h.empty_layer) == n


def _is_base_end(h: HistoryItem) -> bool:
    return h.empty_layer and _BASE_END.match(h.created_by.strip()) is not None


def detect_base_layers(image: Image) -> int:
    """Guess the base image's layers from the history: a base image's history
    ends with an empty-layer ``CMD``/``ENTRYPOINT``; if a layer-creating step
    follows such an entry, the layers before it are the base's. The image's own
    closing ``CMD``/``ENTRYPOINT`` (no layer after it) marks nothing."""
    last_layer_seen = -1
    candidate = 0
    boundary = 0
    for h in image.history:
        if h.empty_layer:
            if last_layer_seen >= 0 and _is_base_end(h):
                candidate = last_layer_seen + 1
        elif h.layer is not None:
            boundary = candidate
            last_layer_seen = h.layer
    return boundary if 0 < boundary < len(image.layers) else 0


def _layers_before(history: list[HistoryItem], i: int) -> int:
    """Layers made before history entry ``i`` carrying buildah's ``FROM <image>``
    comment: the base's, however the final stage was built.

    podman/buildah with layer caching (podman's default) commit every step:
    the stage's first entry says ``FROM <base image>``, each later one
    ``FROM <id of the previous step>``. Without caching (buildah's default)
    the stage is one commit: only its *last* entry carries the comment and
    makes the stage's one layer; the stage's earlier entries are all
    ``empty_layer``. Either way no layer of the stage comes before entry ``i``.
    """
    return sum(1 for h in history[:i] if not h.empty_layer)


def detect_base(image: Image) -> BaseInfo:
    """The base image's layers, from what the image records about itself.

    ``annotations``: the manifest names its base (``org.opencontainers.image.
    base.name``, written by podman/buildah; not by ``docker save``) and a
    history entry carries buildah's ``FROM <that name>`` comment: the layers
    made before that entry are the base's. ``base.digest`` names the base's manifest, which says
    nothing about its layer count without the base itself, so it is only shown
    (``image.annotations`` in the JSON).

    Otherwise every signal marks where *some* build started: the last
    ``FROM <image name>`` history comment (``history-from``), an empty-layer
    ``CMD``/``ENTRYPOINT`` followed by more layers (``history``). The final
    stage starts at the latest of them. Config labels are not used: a child
    image inherits its parent's labels, so a ``base.name`` label may name the
    grandparent.
    """
    hist = image.history
    n = len(image.layers)
    if not _history_fits(image):
        return BaseInfo(0, "none", None)
    name = image.annotations.get(BASE_NAME) or ""
    if name:
        anchors = [i for i, h in enumerate(hist) if h.comment == f"FROM {name}"]
        if anchors:
            return BaseInfo(min(n, _layers_before(hist, anchors[-1])), "annotations", name)
    from_n, from_ref = 0, None
    for i in range(len(hist) - 1, -1, -1):
        m = _FROM_COMMENT.match(hist[i].comment or "")
        if m and not _IMAGE_ID.match(m.group(1)):
            from_n, from_ref = min(n, _layers_before(hist, i)), m.group(1)
            break
    cmd_n = detect_base_layers(image)
    if from_n and from_n >= cmd_n:
        return BaseInfo(from_n, "history-from", from_ref)
    if cmd_n:
        return BaseInfo(cmd_n, "history", None)
    return BaseInfo(0, "none", None)


def resolve_base(image: Image, base: int | Image | None = None, base_ref: str | None = None) -> BaseInfo:
    """``base``: a layer count, a base Image (shared leading diff_ids) or None (detect, :func:`detect_base`)."""
    if isinstance(base, int):
        return BaseInfo(max(0, min(base, len(image.layers))), "count", None)
    if isinstance(base, Image):
        return BaseInfo(shared_prefix(diff_ids(image), diff_ids(base)), "image", base_ref or base.source)
    return detect_base(image)


# ================================================================================
# The pass
# ================================================================================


def _core_rule(rule: Rule) -> _core.AuditRule:
    """A rule as the core's audit pass takes it: scope and hint."""
    h = rule.hint
    if h is None:
        return _core.AuditRule(scope=rule.scope, all=True)
    return _core.AuditRule(
        scope=rule.scope,
        mode_bits=h.mode_bits,
        prefixes=list(h.prefixes),
        secret_names=h.secret_names,
        deleted=h.deleted,
        types=list(h.types),
    )


def analyze(
    merged: Merged,
    base: int | Image | None = None,
    base_ref: str | None = None,
    rules: Iterable[Rule] = RULES,
    top: int = TOP_OFFENDERS,
) -> Analysis:
    """Waste, findings and dive figures of a merged image, as of its top layer."""
    image = merged.image
    layers = image.layers
    nlayers = len(layers)
    base_info = resolve_base(image, base, base_ref)
    nbase = base_info.layers
    commands = [la.command for la in layers]
    lw = [LayerWaste(la.index, la.command, la.size_bytes, la.index < nbase) for la in layers]
    rules = tuple(rules)
    sink = _FindingSink(image)
    # dive's figures take the core a while with the GIL released: on a second
    # core, while this thread runs the audit pass and the rules.
    dive_done = _in_thread(lambda: dive_figures(merged))
    audit = merged.audit([_core_rule(r) for r in rules])
    waste_rows, hits = audit.waste, audit.hits
    entry = merged.entry

    items: list[WasteItem] = []
    by_path: dict[str, int] = {}
    total = WasteTotals()
    user = WasteTotals()
    for row in waste_rows:
        path, size, cause, layer, by = row.path, row.size, _CAUSES[row.cause], row.layer, row.by_layer
        item = WasteItem(path, size, cause, layer, by, row.how, commands[by], row.deleted_by)
        items.append(item)
        if size:
            by_path[path] = by_path.get(path, 0) + size
        total.add(cause, size)
        if 0 <= layer < nlayers:
            lw[layer].shipped.add(cause, size)
        if 0 <= by < nlayers:
            lw[by].caused.add(cause, size)
            if by >= nbase:
                user.add(cause, size)

    # Each rule sees the versions its hint let through (in path order, then layer order).
    for rule, found in zip(rules, hits):
        if rule.scope == HIDDEN:
            for hit in found:
                w = items[hit.item]
                p = rule.match(entry(waste_rows[hit.item].entry), None, w)
                if p is not None:
                    detail = f"{w.cause} by layer {w.by_layer}"
                    if w.cause == DELETED:
                        detail += f" ({w.how})"
                    sink.add(rule, p, w.layer, w.size, detail)
            continue
        for hit in found:
            ev = entry(hit.item)
            p = rule.match(ev, None if hit.previous is None else entry(hit.previous), None)
            if p is not None:
                kind = ev.type if rule.scope == SHIPPED else ev.content_type
                sink.add(rule, p, ev.layer, ev.size if kind == FILE else 0)

    findings = sink.result()
    for f in findings:
        f.base = 0 <= f.layer < nbase
    top_items = heapq.nlargest(top, items, key=lambda it: (it.size, it.path))
    size = image.size_bytes
    user_size = sum(la.size_bytes for la in layers[nbase:])
    return Analysis(
        size_bytes=size,
        user_size_bytes=user_size,
        base=base_info,
        waste=total,
        user_waste=user,
        layers=lw,
        items=items,
        by_path=by_path,
        top=top_items,
        findings=findings,
        dive=dive_done(),
    )


# ================================================================================
# dive 0.13.1 compatible figures
# ================================================================================
#
# What dive does (observed from its output and its documented behaviour):
#   * every layer is a tree of its tar members; parents that have no member of
#     their own exist as empty nodes (size 0, not a directory);
#   * it visits the *leaves* of each layer's tree (nodes without children in
#     that layer) and, per path, adds up a "cumulative size" and keeps the
#     smallest size seen; a whiteout leaf counts as the size of everything
#     below its target in the stacked tree of the layers beneath (0 when the
#     target was a file);
#   * opaque markers are ignored entirely (not applied, not counted);
#   * a hardlink member counts 0 bytes (its tar header size);
#   * every path visited in two or more layers is "inefficient": all its
#     cumulative size is wasted, *including the copy that is still visible*;
#   * efficiency = sum(smallest sizes) / sum(cumulative sizes) over all paths;
#   * user_wasted_percent = wasted / sum of layer sizes except layer 0
#     (a fraction; the waste itself includes layer 0);
#   * a whiteout whose target is missing below aborts the visit of the rest of
#     that layer (in sorted order) and leaves a size of -1 in the efficiency sum.


def _in_thread(work: Callable[[], DiveFigures]) -> Callable[[], DiveFigures]:
    """Start ``work`` on a thread; the returned function waits for its result
    (and raises what it raised)."""
    box: list[DiveFigures | BaseException] = []

    def run() -> None:
        try:
            box.append(work())
        except BaseException as exc:  # handed to the caller, not lost in the thread
            box.append(exc)

    t = threading.Thread(target=run, name="layerscope-dive", daemon=True)
    t.start()

    def wait() -> DiveFigures:
        t.join()
        got = box[0]
        if isinstance(got, BaseException):
            raise got
        return got

    return wait


def dive_figures(merged: Merged) -> DiveFigures:
    """dive 0.13.1's efficiency, wastedBytes and userWastedPercent, computed
    by the core (``src/dive.rs``) over each layer's own entries, whiteouts and
    opaque directories, dive's quirks included (README lists them)."""
    image = merged.image
    sums = merged.dive_raw()
    min_sum, disc_sum = sums.min_sum, sums.disc_sum
    efficiency = 1.0 if disc_sum == 0 else min_sum / disc_sum
    refs = [(r.path, r.count, r.size) for r in sums.refs]
    wasted = sum(r[2] for r in refs)
    size = sum(la.size_bytes for la in image.layers)
    user_size = sum(la.size_bytes for la in image.layers[1:])
    return DiveFigures(
        efficiency=efficiency,
        wasted_bytes=wasted,
        user_wasted_percent=(wasted / user_size) if user_size else None,
        size_bytes=size,
        user_size_bytes=user_size,
        file_references=refs,
    )
