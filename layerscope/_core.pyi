"""Type stubs for the compiled engine (``src/*.rs``, built by maturin)."""

from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Any, TypedDict

CHUNK: int

# One layer entry as the core hands it over:
# (path, type, mode, uid, gid, size, mtime, link, digest, xattrs, offset)
EntryRow = tuple[str, str, int, int, int, int, int, str | None, bytes | None, dict[str, bytes] | None, int]

class LayerScan(TypedDict):
    entries: list[Any]  # EntryRow tuples, or what entry_factory built from them
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

DiveRaw = tuple[int, int, list[tuple[bytes, int, int]]]  # (min_sum, disc_sum, [(path, count, size)])

class ScanResult(TypedDict):
    layers: list[LayerScan]
    dive: DiveRaw | None

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
    entry_factory: Callable[..., Any] | None = None,
    dive_layers: int = 0,
) -> ScanResult: ...
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
