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

from . import _core
from .errors import LayerscopeError
from .model import DIFF_ID_MISMATCH, DIGEST_MISMATCH, MEDIA_TYPE, Image, Layer, LoadWarning
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


def _apply(layer: Layer, scan: _core.LayerScan) -> None:
    """Fill ``layer`` from the core's result for it, with classified warnings."""
    idx = layer.index
    name = _name(layer)
    issues: list[LoadWarning] = []

    def warn(kind: str, message: str) -> None:
        issues.append(LoadWarning(kind, message, idx))
        layer.warnings.append(message)

    layer.compression = scan.compression
    if scan.error is None or scan.members or scan.uncompressed_bytes:
        _check_media_type(layer, name, warn)
    for w in scan.warnings:
        warn(w.kind, w.message)
    overflow = scan.overflow
    if overflow:
        layer.warnings.append(f"{name}: {sum(o.count for o in overflow)} more warnings not shown")
        # One line per kind keeps what was cut visible to the gate.
        issues.extend(LoadWarning(o.kind, f"{name}: {o.count} more {o.kind} warnings not shown", idx) for o in overflow)
    if scan.error is not None:
        layer.error = scan.error
    layer.rows = scan.rows  # the entries stay in the core until the merge takes them
    layer.whiteouts = scan.whiteouts
    layer.opaque_dirs = scan.opaque_dirs
    layer.size_bytes = scan.size_bytes
    layer.member_count = scan.members
    layer.uncompressed_bytes = scan.uncompressed_bytes
    if layer.error is None:
        layer.computed_diff_id = scan.diff_id
        layer.computed_digest = scan.digest
        if layer.diff_id and layer.diff_id != layer.computed_diff_id and not scan.diff_id_unverified:
            warn(
                DIFF_ID_MISMATCH,
                f"{name}: diff_id mismatch: config says {layer.diff_id}, content is {layer.computed_diff_id}",
            )
        if layer.digest and layer.computed_digest and layer.digest != layer.computed_digest:
            warn(
                DIGEST_MISMATCH,
                f"{name}: blob digest mismatch: manifest says {layer.digest}, blob is {layer.computed_digest}",
            )
    layer.issues.extend(issues)


def _check_media_type(layer: Layer, name: str, warn: Callable[[str, str], None]) -> None:
    """Warn when the declared media type names another compression than the bytes."""
    mt = layer.media_type
    if not mt or ("layer" not in mt and "rootfs" not in mt):
        return
    suffix = mt.rsplit("+", 1)[-1] if "+" in mt else mt.rsplit(".", 1)[-1]
    declared = _MEDIA_COMPRESSION.get(suffix)
    if declared is None and mt.endswith(".tar.gzip"):  # docker's rootfs.diff.tar.gzip
        declared = "gzip"
    if declared is not None and declared != layer.compression:
        warn(
            MEDIA_TYPE,
            f"{name}: media type {mt} says {declared} but the blob is {layer.compression}; read as {layer.compression}",
        )


def _read_direct(layers: list[Layer], progress: ProgressFn | None) -> threading.Thread | None:
    """Layers read by their own source (a container's upper directory), on a
    thread of their own while the core reads the tar layers: the walk spends
    its time in system calls and hashing, both outside the GIL."""
    if not layers:
        return None

    def run() -> None:
        for la in layers:
            assert la.source is not None
            try:
                la.source.read(la, progress)
            except (OSError, LayerscopeError) as exc:
                la.error = str(exc)
            except Exception as exc:  # the thread must not die silently: the layer says what stopped it
                la.error = f"{la.source_name}: {type(exc).__name__}: {exc}"

    thread = threading.Thread(target=run, name="layerscope-dir-layers", daemon=True)
    thread.start()
    return thread


def read_layers(image: Image, progress: ProgressFn | None = None, workers: int | None = None) -> None:
    """Read all layers in place, in parallel (one core thread per CPU by default)."""
    direct = _read_direct([la for la in image.layers if not la.error and la.source is not None], progress)
    todo = [la for la in image.layers if not la.error and la.source is None]
    if not todo:
        if direct is not None:
            direct.join()
        return
    if workers is None:
        workers = os.cpu_count() or 2
        if image.format == "registry":  # network-bound: more streams than cores
            workers = max(workers, NETWORK_WORKERS)
    # Biggest first keeps every thread busy until the end.
    todo.sort(key=lambda la: -la.compressed_bytes)
    result = _scan(todo, progress, max(1, workers))
    for layer, scan in zip(todo, result):
        _apply(layer, scan)
    if direct is not None:
        direct.join()


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
