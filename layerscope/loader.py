"""Read every layer blob once through the compiled core (``layerscope._core``).

The core decompresses, walks the tar headers and hashes content on its own
threads with the GIL released, and hands back per layer the normalised
entries (last duplicate wins, kept in the core as rows for the merge),
whiteout targets, opaque directories, warnings and both digests. This module
checks the digests against what the manifest and config declare.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace

from . import _core
from .errors import LayerscopeError
from .model import (
    DIFF_ID_MISMATCH,
    DIGEST_MISMATCH,
    MEDIA_TYPE,
    Image,
    Layer,
    LayerContent,
    LoadWarning,
    WarningKind,
)
from .sources.files import window_of

TRAILING_LIMIT = 256 << 20  # bytes after the tar end we still hash for the diff_id
MAX_LAYER_MEMBERS = 2_000_000  # tar members read from one layer; the rest is reported, not read
MAX_PATH_DEPTH = 256  # path components; deeper entries are reported and left out
MAX_LAYER_WARNINGS = 50  # warnings kept per layer; the rest are counted
NETWORK_WORKERS = 4  # layers streamed at once from a registry: downloads overlap while each is scanned

# What a layer's media type says about its compression (by its suffix).
_MEDIA_COMPRESSION = {"gzip": "gzip", "zstd": "zstd", "tar": "none", "xz": "xz", "bzip2": "bzip2"}

ProgressFn = Callable[[int, int], None]  # (layer index, uncompressed bytes read so far)


def _opener(layer: Layer) -> Callable[[], _core.Blob]:
    """What the core calls on its thread to open a blob: the raw file object
    with its window when it is a plain file. What it raises (an ``ImageError``
    or ``OSError``) is the layer's error, in its own words."""

    def open_it() -> _core.Blob:
        raw = layer.open_blob()
        return _core.Blob(raw=raw, window=window_of(raw))

    return open_it


def core_warning(kind: str, message: str, layer: int, listed: bool = True) -> LoadWarning:
    """A warning the core wrote (its kinds are strings, the model's enum values):
    the one place a core's kind becomes a :class:`WarningKind`."""
    return LoadWarning(WarningKind(kind), message, layer, listed)


def _apply(layer: Layer, scan: _core.LayerScan) -> tuple[Layer, LayerContent]:
    """The layer as the core read it, with classified warnings, and its rows for the merge."""
    idx = layer.index
    name = _name(layer)
    warnings = list(_streamed(layer))
    compression = scan.compression
    if scan.error is None or scan.members or scan.uncompressed_bytes:
        media = _check_media_type(layer.media_type, compression, name)
        if media is not None:
            warnings.append(LoadWarning(MEDIA_TYPE, media, idx))
    warnings += [core_warning(w.kind, w.message, idx) for w in scan.warnings]
    overflow = scan.overflow
    if overflow:
        cut = f"{name}: {sum(o.count for o in overflow)} more warnings not shown"
        warnings.append(LoadWarning(WarningKind.WARNINGS_CUT, cut, idx))
        # One (unlisted) warning per kind keeps what was cut visible to the gate.
        warnings += [
            core_warning(o.kind, f"{name}: {o.count} more {o.kind} warnings not shown", idx, listed=False)
            for o in overflow
        ]
    error = layer.error if scan.error is None else scan.error
    computed_diff_id = computed_digest = None
    if error is None:
        computed_diff_id = scan.diff_id
        computed_digest = scan.digest
        if layer.diff_id and layer.diff_id != computed_diff_id and not scan.diff_id_unverified:
            message = f"{name}: diff_id mismatch: config says {layer.diff_id}, content is {computed_diff_id}"
            warnings.append(LoadWarning(DIFF_ID_MISMATCH, message, idx))
        if layer.digest and computed_digest and layer.digest != computed_digest:
            message = f"{name}: blob digest mismatch: manifest says {layer.digest}, blob is {computed_digest}"
            warnings.append(LoadWarning(DIGEST_MISMATCH, message, idx))
    read = replace(
        layer,
        compressed_bytes=_compressed_bytes(layer),
        compression=compression,
        error=error,
        whiteouts=scan.whiteouts,
        opaque_dirs=scan.opaque_dirs,
        size_bytes=scan.size_bytes,
        member_count=scan.members,
        uncompressed_bytes=scan.uncompressed_bytes,
        computed_diff_id=computed_diff_id,
        computed_digest=computed_digest,
        warnings=layer.warnings + tuple(warnings),
        streamed=None,
    )
    return read, LayerContent(rows=scan.rows)  # the entries stay in the core until the merge takes them


def _streamed(layer: Layer) -> tuple[LoadWarning, ...]:
    """The warning the blob's opener left when the blob was not its descriptor's
    size as it streamed (once: a description's layer already saying it counts)."""
    w = layer.streamed.warning if layer.streamed is not None else None
    return () if w is None or w in layer.warnings else (w,)


def _compressed_bytes(layer: Layer) -> int:
    """The blob's size: as it streamed when that is known, else as described."""
    actual = layer.streamed.actual if layer.streamed is not None else None
    return layer.compressed_bytes if actual is None else actual


def _check_media_type(mt: str | None, compression: str, name: str) -> str | None:
    """The warning when the declared media type names another compression than the bytes."""
    if not mt or ("layer" not in mt and "rootfs" not in mt):
        return None
    suffix = mt.rsplit("+", 1)[-1] if "+" in mt else mt.rsplit(".", 1)[-1]
    declared = _MEDIA_COMPRESSION.get(suffix)
    if declared is None and mt.endswith(".tar.gzip"):  # docker's rootfs.diff.tar.gzip
        declared = "gzip"
    if declared is not None and declared != compression:
        return f"{name}: media type {mt} says {declared} but the blob is {compression}; read as {compression}"
    return None


Read = dict[int, tuple[Layer, LayerContent]]  # layer index -> the layer as read, and its entries


def _read_direct(layers: list[Layer], progress: ProgressFn | None, out: Read) -> threading.Thread | None:
    """Layers read by their own source (a container's upper directory), on a
    thread of their own while the core reads the tar layers: the walk spends
    its time in system calls and hashing, both outside the GIL."""
    if not layers:
        return None

    def run() -> None:
        for la in layers:
            assert la.source is not None
            try:
                out[la.index] = la.source.read(la, progress)
            except (OSError, LayerscopeError) as exc:
                out[la.index] = replace(la, error=str(exc)), LayerContent()
            except Exception as exc:  # the thread must not die silently: the layer says what stopped it
                out[la.index] = replace(la, error=f"{la.source_name}: {type(exc).__name__}: {exc}"), LayerContent()

    thread = threading.Thread(target=run, name="layerscope-dir-layers", daemon=True)
    thread.start()
    return thread


@dataclass(frozen=True, slots=True, eq=False)
class ReadImage:
    """An image whose layers are read, before the merge: the image with its
    read layers (no counts yet), and what each layer holds for the merge."""

    image: Image
    contents: tuple[LayerContent, ...]  # by layer index


def read_layers(image: Image, progress: ProgressFn | None = None, workers: int | None = None) -> ReadImage:
    """Read all layers of an image description, in parallel (one core thread per
    CPU by default). The description is not changed: it can be read again."""
    done: Read = {}
    direct = _read_direct([la for la in image.layers if not la.error and la.source is not None], progress, done)
    todo = [la for la in image.layers if not la.error and la.source is None]
    if todo:
        if workers is None:
            workers = os.cpu_count() or 2
            if image.format == "registry":  # network-bound: more streams than cores
                workers = max(workers, NETWORK_WORKERS)
        # Biggest first keeps every thread busy until the end.
        todo.sort(key=lambda la: -la.compressed_bytes)
        result = _scan(todo, progress, max(1, workers))
        for layer, scan in zip(todo, result):
            done[layer.index] = _apply(layer, scan)
    if direct is not None:
        direct.join()
    layers = [done.get(la.index, (la, LayerContent())) for la in image.layers]
    return ReadImage(replace(image, layers=tuple(la for la, _ in layers)), tuple(c for _, c in layers))


def _scan(layers: list[Layer], progress: ProgressFn | None, workers: int) -> list[_core.LayerScan]:
    """The core's read of these tar layers, with this module's limits."""
    return _core.scan_layers(
        [_core.ScanJob(index=la.index, name=_name(la), open=_opener(la)) for la in layers],
        progress,
        workers=workers,
        max_members=MAX_LAYER_MEMBERS,
        trailing_limit=TRAILING_LIMIT,
        max_depth=MAX_PATH_DEPTH,
        max_warnings=MAX_LAYER_WARNINGS,
    )


def _name(layer: Layer) -> str:
    """How messages name a layer: ``layer 3 (blobs/sha256/…)``."""
    return f"layer {layer.index} ({layer.source_name})"
