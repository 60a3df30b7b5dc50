"""Plain typed data for an image: Image, Layer, Entry, Deletion, HistoryItem.

The model knows nothing of files on disk, terminals or Textual. Entries use
``__slots__`` and hand-written ``__init__`` because a big image has millions of
them: each byte per entry counts and dataclass machinery costs time per object.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import BinaryIO

# Entry types, as they appear in the JSON report.
FILE = "file"
DIR = "dir"
SYMLINK = "symlink"
HARDLINK = "hardlink"
CHAR = "char"
BLOCK = "block"
FIFO = "fifo"
ENTRY_TYPES = (FILE, DIR, SYMLINK, HARDLINK, CHAR, BLOCK, FIFO)

# How a layer's entry relates to the version beneath it.
ADDED = "added"
MODIFIED = "modified"
METADATA = "metadata"
REWRITTEN = "rewritten"
TYPE_CHANGED = "type-changed"
CHANGE_CLASSES = (ADDED, MODIFIED, METADATA, REWRITTEN, TYPE_CHANGED)

# How a path was deleted.
WHITEOUT = "whiteout"
OPAQUE = "opaque"
REPLACED = "replaced"
DELETE_HOWS = (WHITEOUT, OPAQUE, REPLACED)


class Entry:
    """One layer's version of one path (a tar member after normalisation).

    ``digest`` is the raw sha256 of a regular file's content (None for other
    types and for sparse files). A hardlink carries its target's size and digest
    and points at the entry that holds the bytes through ``source``.
    ``offset`` is where the content starts in the uncompressed layer stream,
    so content can be re-read lazily without extracting anything.
    """

    __slots__ = (
        "path",
        "type",
        "mode",
        "uid",
        "gid",
        "size",
        "mtime",
        "link",
        "digest",
        "xattrs",
        "offset",
        "layer",
        "change",
        "source",
    )

    def __init__(
        self,
        path: str,
        type: str,
        mode: int,
        uid: int,
        gid: int,
        size: int,
        mtime: int,
        link: str | None,
        digest: bytes | None,
        xattrs: dict[str, bytes] | None,
        offset: int,
        layer: int,
    ) -> None:
        self.path = path
        self.type = type
        self.mode = mode
        self.uid = uid
        self.gid = gid
        self.size = size
        self.mtime = mtime
        self.link = link
        self.digest = digest
        self.xattrs = xattrs
        self.offset = offset
        self.layer = layer
        self.change: str = ADDED
        self.source: Entry | None = None

    @property
    def digest_str(self) -> str | None:
        return None if self.digest is None else "sha256:" + self.digest.hex()

    @property
    def is_dir(self) -> bool:
        return self.type == DIR

    @property
    def content_type(self) -> str:
        """The type as the union mount sees it: a hardlink is a regular file."""
        return FILE if self.type == HARDLINK else self.type

    @property
    def data_entry(self) -> Entry:
        """The entry whose tar member holds this entry's bytes."""
        return self.source if self.source is not None else self

    def __repr__(self) -> str:
        return f"Entry({self.path!r}, {self.type}, L{self.layer}, {self.change})"


class Deletion:
    """A path removed by a layer: by a whiteout, an opaque dir or a type change."""

    __slots__ = ("path", "layer", "how", "cause")

    def __init__(self, path: str, layer: int, how: str, cause: str) -> None:
        self.path = path
        self.layer = layer
        self.how = how
        self.cause = cause  # the whiteout target, opaque dir or replacing path

    def __repr__(self) -> str:
        return f"Deletion({self.path!r}, L{self.layer}, {self.how})"


Event = Entry | Deletion


@dataclass(slots=True)
class HistoryItem:
    created_by: str
    created: str | None
    empty_layer: bool
    layer: int | None
    comment: str | None = None


@dataclass(slots=True)
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


@dataclass(slots=True)
class LayerCounts:
    entries: int = 0
    added: int = 0
    modified: int = 0
    metadata: int = 0
    rewritten: int = 0
    type_changed: int = 0
    deleted: int = 0
    dirs_rewritten: int = 0


@dataclass(slots=True, eq=False)
class Layer:
    """One layer blob: where it comes from, what it declares, what it holds.

    ``open_blob`` opens the raw (possibly compressed) blob; the model never
    keeps content, only headers and digests.
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
    entries: list[Entry] = field(default_factory=list)
    whiteouts: list[str] = field(default_factory=list)  # target paths
    opaque_dirs: list[str] = field(default_factory=list)
    member_count: int = 0
    counts: LayerCounts = field(default_factory=LayerCounts)
    deletions: list[Deletion] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    error: str | None = None  # set when the layer could not be read fully

    @property
    def label(self) -> str:
        return f"L{self.index}"

    @property
    def short_digest(self) -> str:
        d = self.digest or self.computed_digest or ""
        return d.split(":", 1)[-1][:12]


@dataclass(slots=True, eq=False)
class Image:
    source: str
    format: str  # docker-archive | oci-archive | oci-layout
    ref: str | None
    platform: str
    config_digest: str | None
    config: ImageConfig
    history: list[HistoryItem]
    layers: list[Layer]
    warnings: list[str] = field(default_factory=list)
    other_images: list[str] = field(default_factory=list)
    # OCI annotations of the image's manifest (over those of its index
    # descriptor); empty for docker archives. Analysis reads
    # org.opencontainers.image.base.name/.digest from them.
    annotations: dict[str, str] = field(default_factory=dict)

    @property
    def size_bytes(self) -> int:
        return sum(layer.size_bytes for layer in self.layers)
