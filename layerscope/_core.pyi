"""Type stubs for the compiled engine (``src/*.rs``, built by maturin)."""

from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Any, TypedDict

CHUNK: int

# One layer entry as the scan read it (LayerRows.entries):
# (path, type, mode, uid, gid, size, mtime, link, digest, xattrs, offset)
EntryRow = tuple[str, str, int, int, int, int, int, str | None, bytes | None, dict[str, bytes] | None, int]

class LayerScan(TypedDict):
    whiteouts: list[str]
    opaque_dirs: list[str]
    warnings: list[tuple[str, str]]  # (kind, message)
    overflow: list[tuple[str, int]]  # (kind, warnings past the cap)
    error: str | None
    compression: str
    diff_id: str | None
    digest: str | None
    diff_id_unverified: bool
    uncompressed_bytes: int
    size_bytes: int
    members: int
    rows: LayerRows  # the entries, held by the core for merge_layers

DiveRaw = tuple[int, int, list[tuple[bytes, int, int]]]  # (min_sum, disc_sum, [(path, count, size)])

class ScanResult(TypedDict):
    layers: list[LayerScan]

Window = tuple[int, int, int]  # (fd, start, length)
Opener = Callable[[], "str | tuple[Any, Window | None]"]

def scan_layers(
    jobs: Sequence[tuple[int, str, Opener]],
    progress: Callable[[int, int], object] | None = None,
    workers: int = 2,
    max_members: int = 2_000_000,
    trailing_limit: int = 256 << 20,
    max_depth: int = 256,
    max_warnings: int = 50,
) -> ScanResult: ...

class LayerRows:
    """One scanned layer's entries, held by the core until ``merge_layers`` takes them."""

    def __len__(self) -> int: ...
    def entries(self) -> list[EntryRow]: ...

# A layer's entries made by a Python source, for merge_layers: EntryRow plus the
# lower path a metadata-only copy-up shows (None for other entries).
PyEntryRow = tuple[
    str, str, int, int, int, int, int, str | None, bytes | None, dict[str, bytes] | None, int, str | None
]

def merge_layers(
    layers: Sequence[tuple[int, str, LayerRows | list[PyEntryRow], list[str], list[str]]],
    nlayers: int,
    entry_cls: Callable[..., Any],
    deletion_cls: Callable[..., Any],
    kinds: Sequence[object],
    changes: Sequence[object],
    hows: Sequence[object],
) -> Tree: ...

class Tree:
    """The merged image (``src/tree.rs``): path ids in byte order, the root ``/`` is 0."""

    def __len__(self) -> int: ...
    def path(self, id: int) -> str: ...
    def find(self, path: str) -> int | None: ...
    def paths(self, start: int = 0, stop: int | None = None) -> list[str]: ...
    def parent(self, id: int) -> int | None: ...
    def children(self, id: int) -> list[int]: ...
    def timeline(self, id: int) -> list[Any]: ...
    def event_count(self, id: int) -> int: ...
    def state_at(self, id: int, k: int) -> Any: ...
    def entry(self, eid: int) -> Any: ...
    def layer_entries(self, k: int) -> list[Any]: ...
    def layer_deletions(self, k: int) -> list[Any]: ...
    def counts(self, k: int) -> tuple[int, int, int, int, int, int, int, int]: ...
    def warnings(self, k: int) -> list[tuple[str, str]]: ...
    def heap_bytes(self) -> int: ...
    def dive_figures(self) -> DiveRaw: ...
    def write_array(self, which: str, k: int, write: Callable[[str], object], chunk: int = 1 << 20) -> int: ...
    def audit(
        self, rules: Sequence[tuple[str, int, list[str], bool, bool, bool, list[str]]], causes: Sequence[object]
    ) -> tuple[list[tuple[int, str, int, Any, int, int, str, str | None]], list[list[tuple[int, int | None]]]]: ...

def detect_compression(head: bytes) -> str: ...
def header_fields(hdr: bytes) -> tuple[bool, int | None]: ...
def pax_records(data: bytes) -> dict[str, bytes]: ...
def open_reader(raw: Any, window: Window | None, name: str) -> Reader: ...

class Reader:
    compression: str
    def read(self, n: int) -> bytes: ...
    def skip_to(self, offset: int) -> int: ...
    def close(self) -> None: ...
    def __enter__(self) -> Reader: ...
    def __exit__(self, a: type[BaseException] | None, b: BaseException | None, c: TracebackType | None) -> None: ...

def dive_figures(
    layers: Sequence[tuple[list[bytes], list[int], list[bool], list[bytes], list[bytes]]],
) -> tuple[int, int, list[tuple[bytes, int, int]]]: ...
