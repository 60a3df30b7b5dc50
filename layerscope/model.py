"""Plain typed data for an image: Image, Layer, Entry, Deletion, HistoryItem.

The model knows nothing of files on disk, terminals or Textual. ``Entry`` and
``Deletion`` are the core's frozen classes, re-exported here: a big image has
millions of them, made on demand from the core's arrays.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, BinaryIO, Protocol, TypeAlias

from ._core import Deletion as Deletion  # re-exported: the model's classes, defined in the core
from ._core import Entry as Entry
from ._core import LayerCounts as LayerCounts

if TYPE_CHECKING:  # the model names the core's rows; it never calls the core
    from ._core import LayerRows

# Entry types, as they appear in the JSON report.
FILE = "file"
DIR = "dir"
SYMLINK = "symlink"
HARDLINK = "hardlink"
CHAR = "char"
BLOCK = "block"
FIFO = "fifo"
ENTRY_TYPES = (FILE, DIR, SYMLINK, HARDLINK, CHAR, BLOCK, FIFO)


class Change(StrEnum):
    """How a layer's entry relates to the version beneath it (``change`` in the JSON)."""

    ADDED = "added"
    MODIFIED = "modified"
    METADATA = "metadata"
    REWRITTEN = "rewritten"
    TYPE_CHANGED = "type-changed"


ADDED = Change.ADDED
MODIFIED = Change.MODIFIED
METADATA = Change.METADATA
REWRITTEN = Change.REWRITTEN
TYPE_CHANGED = Change.TYPE_CHANGED
CHANGE_CLASSES = tuple(Change)

# What a layer is (``Layer.kind``, ``kind`` in the JSON): one of the image's
# read-only layers, or the writable layer a container engine put on top of them.
IMAGE_LAYER = "image"
CONTAINER_LAYER = "container"
LAYER_KINDS = (IMAGE_LAYER, CONTAINER_LAYER)


class DeleteHow(StrEnum):
    """How a path was deleted (``how`` in the JSON)."""

    WHITEOUT = "whiteout"
    OPAQUE = "opaque"
    REPLACED = "replaced"


WHITEOUT = DeleteHow.WHITEOUT
OPAQUE = DeleteHow.OPAQUE
REPLACED = DeleteHow.REPLACED
DELETE_HOWS = tuple(DeleteHow)


# ``Entry`` (one layer's version of one path) and ``Deletion`` (a path a layer
# removed) are defined once, in the core (``src/pymodel.rs``), which makes
# millions of them straight from its arrays; Python sources make them through
# the same class, by keyword. ``LayerCounts`` is the merge's count of a layer.
# See ``layerscope/_core.pyi`` for their fields.

Event: TypeAlias = Entry | Deletion


class WarningKind(StrEnum):
    """What a load warning is about (``LoadWarning.kind``; ``kind`` in ``ci --json``).

    The first group means some of the image was not read, or not checked
    against the digests and sizes it declares: what a gate reports about such
    an image is not about the whole image, so ``layerscope ci`` refuses to pass
    it (see docs/warnings.md). The core names its kinds by these values.
    """

    DAMAGED = "damaged"  # a layer could not be read (fully): ``Layer.error``
    DIGEST_MISMATCH = "digest-mismatch"  # a blob (layer, config, manifest) differs from its digest
    DIFF_ID_MISMATCH = "diff-id-mismatch"  # uncompressed layer vs the config's diff_id (or no diff_id)
    DESCRIPTOR_SIZE = "descriptor-size"  # a descriptor's size is invalid or not the blob's size
    TRAILING_DATA = "trailing-data"  # bytes after the tar end or the compressed stream, not read/hashed
    SPARSE = "sparse"  # a sparse file: its content digest is not computed
    ENTRIES_LEFT_OUT = "entries-left-out"  # tar members not taken into the model (.., too deep, unknown type)
    TAR_HEADER = "tar-header"  # malformed pax records or oversized xattrs ignored in a layer
    ARCHIVE_DAMAGED = "archive-damaged"  # the outer archive is truncated or has bad headers
    INDEX_MISMATCH = "index-mismatch"  # manifest.json and index.json describe different images
    OVERLAY_REDIRECT = "overlay-redirect"  # a renamed dir in an overlay upper dir: what it took from below is not shown
    # ... and these are worth seeing but leave nothing unread or unchecked.
    DUPLICATE = "duplicate"  # a path or archive member stored more than once: the last wins
    ABSOLUTE_NAMES = "absolute-names"  # /etc/x read as etc/x
    INVALID_WHITEOUT = "invalid-whiteout"  # .wh. with no name: removes nothing
    MEDIA_TYPE = "media-type"  # declared compression differs from the bytes
    HISTORY = "history"  # config history does not line up with the layers
    SELECTION = "selection"  # several images or manifests; the first was shown
    OCI_LAYOUT = "oci-layout"  # the oci-layout file is missing, invalid or of an unknown version
    INDEX = "index"  # index.json beside manifest.json is unusable (manifest.json is used)
    CONTAINER_NOTE = "container-layer"  # how a container's writable layer was read, and what that view cannot tell
    MERGE = "merge"  # the merge met something odd (a hardlink to a missing target, a file used as a directory)
    WARNINGS_CUT = "warnings-cut"  # a layer had more warnings than are listed: how many were not


DAMAGED = WarningKind.DAMAGED
DIGEST_MISMATCH = WarningKind.DIGEST_MISMATCH
DIFF_ID_MISMATCH = WarningKind.DIFF_ID_MISMATCH
DESCRIPTOR_SIZE = WarningKind.DESCRIPTOR_SIZE
TRAILING_DATA = WarningKind.TRAILING_DATA
SPARSE = WarningKind.SPARSE
ENTRIES_LEFT_OUT = WarningKind.ENTRIES_LEFT_OUT
TAR_HEADER = WarningKind.TAR_HEADER
ARCHIVE_DAMAGED = WarningKind.ARCHIVE_DAMAGED
INDEX_MISMATCH = WarningKind.INDEX_MISMATCH
OVERLAY_REDIRECT = WarningKind.OVERLAY_REDIRECT
DUPLICATE = WarningKind.DUPLICATE
ABSOLUTE_NAMES = WarningKind.ABSOLUTE_NAMES
INVALID_WHITEOUT = WarningKind.INVALID_WHITEOUT
MEDIA_TYPE = WarningKind.MEDIA_TYPE
HISTORY = WarningKind.HISTORY
SELECTION = WarningKind.SELECTION
OCI_LAYOUT = WarningKind.OCI_LAYOUT
INDEX = WarningKind.INDEX
CONTAINER_NOTE = WarningKind.CONTAINER_NOTE
UNVERIFIED_KINDS = frozenset(
    {
        DAMAGED,
        DIGEST_MISMATCH,
        DIFF_ID_MISMATCH,
        DESCRIPTOR_SIZE,
        TRAILING_DATA,
        SPARSE,
        ENTRIES_LEFT_OUT,
        TAR_HEADER,
        ARCHIVE_DAMAGED,
        INDEX_MISMATCH,
        OVERLAY_REDIRECT,
    }
)
# Of those, the kinds that say a layer's bytes are not (all) the declared ones.
CONTENT_DAMAGE_KINDS = frozenset({DAMAGED, DIGEST_MISMATCH, DIFF_ID_MISMATCH})
LAYER_DAMAGED = "DAMAGED"  # ``Image.layer_damage``: the layer's content is cut short or not the declared one
LAYER_UNVERIFIED = "UNVERIFIED"  # read, but part of it not checked


@dataclass(frozen=True, slots=True)
class LoadWarning:
    """One problem met while loading, with a kind the gate can act on.

    ``layer`` is the layer index when the problem belongs to one layer.
    ``listed`` is False for a warning only the gate counts and no view lists
    (the per-kind count behind a layer's "N more warnings not shown").
    """

    kind: WarningKind
    message: str
    layer: int | None = None
    listed: bool = True

    @property
    def unverified(self) -> bool:
        """Does this mean some content was not read or not checked?"""
        return self.kind in UNVERIFIED_KINDS


@dataclass(frozen=True, slots=True)
class HistoryItem:
    created_by: str
    created: str | None
    empty_layer: bool
    layer: int | None
    comment: str | None = None


@dataclass(frozen=True, slots=True)
class ImageConfig:
    """The parts of the image config a person auditing an image wants to see."""

    os: str = ""
    architecture: str = ""
    variant: str = ""
    created: str | None = None
    author: str | None = None
    env: list[str] = field(default_factory=list)
    entrypoint: list[str] | None = None
    cmd: list[str] | None = None
    user: str = ""
    workdir: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    exposed_ports: list[str] = field(default_factory=list)
    volumes: list[str] = field(default_factory=list)
    diff_ids: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class LayerContent:
    """What reading a layer gives the merge and the model does not keep: the
    core's rows of a scanned tar layer, or the entries a Python source read
    (with the overlay copy-ups among them). The merge takes it into the core's
    tree; afterwards a layer's entries are read from ``Merged.layer_entries``."""

    rows: LayerRows | None = None
    entries: tuple[Entry, ...] = ()
    # path -> the lower path whose bytes it shows (overlay metacopy): the merge resolves them
    copy_ups: dict[str, str] = field(default_factory=dict)


class LayerSource(Protocol):
    """A layer that is not a tar blob for the core to scan: a directory read
    in place (a container's overlay upper directory). It reads the layer
    itself and opens its own entries' content; everything after (merge,
    analysis, views) cannot tell it from a tar layer."""

    def read(self, layer: Layer, progress: Callable[[int, int], None] | None) -> tuple[Layer, LayerContent]:
        """The layer as read (``whiteouts``, ``opaque_dirs``, ``size_bytes``,
        warnings, ``error`` rather than an exception when it cannot be read)
        and its entries. What refers to lower layers (copy-ups, hardlinks)
        is resolved by the merge."""

    def open_entry(self, entry: Entry) -> BinaryIO:
        """The content of one of this layer's regular files (OSError if it is gone)."""


class StreamedSize:
    """What a layer blob's size turned out to be as it streamed (a registry
    checks it only then): the one part of an image description written to
    after it is made, by the blob's opener on the core's thread. The loader
    reads it into the layer it builds; the model's layers do not keep it."""

    __slots__ = ("actual", "warning")

    def __init__(self) -> None:
        self.actual: int | None = None
        self.warning: LoadWarning | None = None


@dataclass(frozen=True, slots=True)
class ContainerInfo:
    """The container whose writable layer tops the image (``image.container`` in the JSON).

    ``engine``, ``name``, ``id`` and ``state`` are empty for a writable layer
    given with ``--upper`` (an upper directory copied off a host).
    """

    engine: str
    name: str
    id: str
    state: str
    image: str  # the image as the engine names it
    image_id: str
    driver: str  # the engine's storage driver
    upper_dir: str | None  # the directory read, or None when read through the engine
    read_via: str  # "upper-dir" or "diff-export"

    def to_dict(self) -> dict[str, str | None]:
        return {
            "engine": self.engine or None,
            "name": self.name or None,
            "id": self.id or None,
            "state": self.state or None,
            "image": self.image or None,
            "image_id": self.image_id or None,
            "driver": self.driver or None,
            "upper_dir": self.upper_dir,
            "read_via": self.read_via,
        }


@dataclass(frozen=True, slots=True, eq=False)
class Layer:
    """One layer: where it comes from, what it declares, what it holds.

    ``open_blob`` opens the raw (possibly compressed) blob; the model never
    keeps content, only headers and digests. A layer with a ``source`` is not
    a blob but read by that source (a container's writable layer read from its
    directory); ``kind`` says whether it belongs to the image or a container.

    A source describes a layer (what the manifest and config say); the loader
    makes the read layer from it and the merge the final one (``counts`` and
    the merge's warnings), each a new value: a layer is never changed.
    """

    index: int
    digest: str | None
    media_type: str | None
    compressed_bytes: int
    open_blob: Callable[[], BinaryIO]
    diff_id: str | None = None  # as declared by the config
    source_name: str = ""  # the member/file the blob was read from
    command: str = ""
    created: str | None = None
    comment: str | None = None
    compression: str = ""
    size_bytes: int = 0  # sum of regular-file content sizes
    uncompressed_bytes: int = 0
    computed_diff_id: str | None = None
    computed_digest: str | None = None
    whiteouts: list[str] = field(default_factory=list)  # target paths
    opaque_dirs: list[str] = field(default_factory=list)
    member_count: int = 0
    counts: LayerCounts = field(default_factory=LayerCounts)  # set by the merge
    warnings: tuple[LoadWarning, ...] = ()  # this layer's, in the order they were met
    error: str | None = None  # set when the layer could not be read fully
    kind: str = IMAGE_LAYER  # IMAGE_LAYER or CONTAINER_LAYER
    source: LayerSource | None = None  # None: a tar blob the core scans
    # A blob whose size is checked as it streams (a registry's): what the check found.
    streamed: StreamedSize | None = None

    @property
    def label(self) -> str:
        """``L3`` for an image layer, ``C7`` for a container's writable layer."""
        return f"{'C' if self.kind == CONTAINER_LAYER else 'L'}{self.index}"

    @property
    def short_digest(self) -> str:
        d = self.digest or self.computed_digest or ""
        return d.split(":", 1)[-1][:12]

    def messages(self) -> list[str]:
        """The layer's warnings as views list them."""
        return [w.message for w in self.warnings if w.listed]


@dataclass(frozen=True, slots=True, eq=False)
class Image:
    """An image: as a source describes it (``warnings`` its own), then as read
    and merged (:func:`layerscope.api.read`), each stage a new value."""

    source: str
    format: str  # docker-archive | oci-archive | oci-layout
    ref: str | None
    platform: str
    config_digest: str | None
    config: ImageConfig
    history: list[HistoryItem]
    layers: tuple[Layer, ...]
    # The source's own warnings (the layers' are on the layers): see :meth:`all_warnings`.
    warnings: tuple[LoadWarning, ...] = ()
    other_images: list[str] = field(default_factory=list)
    # OCI annotations of the image's manifest (over those of its index
    # descriptor); empty for docker archives. Analysis reads
    # org.opencontainers.image.base.name/.digest from them.
    annotations: dict[str, str] = field(default_factory=dict)
    container: ContainerInfo | None = None  # set when the top layer is a container's writable layer

    def all_warnings(self) -> list[LoadWarning]:
        """Every warning a view lists, in its order: the source's, then each
        layer's followed by its damage (``layer 3 is damaged: …``)."""
        out = [w for w in self.warnings if w.listed]
        for la in self.layers:
            out += [w for w in la.warnings if w.listed]
            if la.error:
                out.append(LoadWarning(DAMAGED, f"layer {la.index} is damaged: {la.error}", la.index))
        return out

    def messages(self) -> list[str]:
        """:meth:`all_warnings` as the text views and the JSON list them."""
        return [w.message for w in self.all_warnings()]

    def unverified(self) -> list[LoadWarning]:
        """Everything that means part of the image was not read or checked:
        damaged layers first (in layer order), then the classified warnings."""
        out = [LoadWarning(DAMAGED, _damage(la, la.error), la.index) for la in self.layers if la.error]
        out += [w for w in self.warnings if w.unverified]
        for la in self.layers:
            out += [w for w in la.warnings if w.unverified]
        return out

    def layer_damage(self) -> dict[int, str]:
        """What is wrong with each layer that ``ci`` refuses, by layer index.

        ``DAMAGED`` (``LAYER_DAMAGED``): the layer could not be read fully, or its
        bytes are not the ones its digest or diff_id declare (a tar cut at a
        member boundary reads without error: only the diff_id tells). ``UNVERIFIED``
        (``LAYER_UNVERIFIED``): read, but part of it was not checked (a sparse
        file, members left out…). The rule is :meth:`unverified`'s, the gate's:
        every view that lists layers marks the same ones.
        """
        out: dict[int, str] = {}
        for w in self.unverified():
            if w.layer is None or not 0 <= w.layer < len(self.layers):
                continue
            if w.kind in CONTENT_DAMAGE_KINDS:
                out[w.layer] = LAYER_DAMAGED
            else:
                out.setdefault(w.layer, LAYER_UNVERIFIED)
        return out

    @property
    def size_bytes(self) -> int:
        return sum(layer.size_bytes for layer in self.layers)

    def label_of(self, index: int) -> str:
        """``L3``, or ``C7`` for a container's writable layer, as text views name layers."""
        return self.layers[index].label if 0 <= index < len(self.layers) else f"L{index}"


def _damage(layer: Layer, error: str) -> str:
    """``layer 3 (blobs/sha256/…): gzip stream is truncated``, whichever part wrote the error."""
    if error.startswith(f"layer {layer.index} "):
        return error
    return f"layer {layer.index} ({layer.source_name}): {error}"
