"""Stream each layer blob once: decompress, walk tar headers, hash content.

Produces per layer the normalised entries (last duplicate wins), whiteout
targets and opaque directories, plus digests to verify against the manifest
and config. Layers are read on a small thread pool: zlib, zstd and hashlib
release the GIL, so two cores do real work in parallel.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from .errors import ImageError, LayerReadError
from .model import (
    ABSOLUTE_NAMES,
    CHAR,
    DIFF_ID_MISMATCH,
    DIGEST_MISMATCH,
    DIR,
    DUPLICATE,
    ENTRIES_LEFT_OUT,
    FIFO,
    FILE,
    HARDLINK,
    INVALID_WHITEOUT,
    MEDIA_TYPE,
    SPARSE,
    SYMLINK,
    TAR_HEADER,
    TRAILING_DATA,
    Entry,
    Image,
    Layer,
    LoadWarning,
)
from .model import BLOCK as BLOCK_DEV
from .sources.image import ImageReader
from .streams import LayerStream, detect_compression
from .tarscan import TarScanner

TRAILING_LIMIT = 256 << 20  # bytes after the tar end we still hash for the diff_id
MAX_LAYER_MEMBERS = 2_000_000  # tar members read from one layer; the rest is reported, not read
MAX_PATH_DEPTH = 256  # path components; deeper entries are reported and left out
MAX_LAYER_WARNINGS = 50  # warnings kept per layer; the rest are counted

# What a layer's media type says about its compression (by its suffix).
_MEDIA_COMPRESSION = {"gzip": "gzip", "zstd": "zstd", "tar": "none", "xz": "xz", "bzip2": "bzip2"}

FLAG_TYPES: dict[bytes, str] = {
    b"0": FILE,
    b"\0": FILE,
    b"7": FILE,
    b"S": FILE,
    b"1": HARDLINK,
    b"2": SYMLINK,
    b"3": CHAR,
    b"4": BLOCK_DEV,
    b"5": DIR,
    b"D": DIR,
    b"6": FIFO,
}

ProgressFn = Callable[[int, int], None]  # (layer index, uncompressed bytes read so far)

_UNSAFE = object()


def normalise(name: str) -> str | None:
    """``./a//b/`` -> ``/a/b``; None when the name climbs out with ``..``."""
    if name.startswith("./"):
        name = name[2:]
    if "//" not in name and "/." not in name and not name.startswith(("/", ".")):
        return "/" + name.rstrip("/") if name else "/"
    parts = []
    for part in name.split("/"):
        if part == "..":
            return None
        if part and part != ".":
            parts.append(part)
    return "/" + "/".join(parts)


def read_layer(layer: Layer, progress: ProgressFn | None = None) -> None:
    """Fill ``layer`` with its entries, whiteouts and digests (or its error)."""
    if layer.error:
        return
    name = f"layer {layer.index} ({layer.source_name})"
    entries: dict[str, Entry] = {}
    ints: dict[int, int] = {}
    whiteouts: list[str] = []
    opaque: list[str] = []
    issues: list[LoadWarning] = []
    overflow: dict[str, int] = {}  # kind -> warnings past MAX_LAYER_WARNINGS
    idx = layer.index

    def warn(kind: str, message: str) -> None:
        """Keep the first warnings; past the limit only count them, by kind (a
        layer of a million sparse files must not hold a million messages)."""
        if len(issues) < MAX_LAYER_WARNINGS:
            issues.append(LoadWarning(kind, message, idx))
        else:
            overflow[kind] = overflow.get(kind, 0) + 1

    escaped = 0
    too_deep = 0
    absolute = 0
    dupes = 0
    unknown: set[str] = set()
    size_bytes = 0
    members = 0
    try:
        raw = layer.open_blob()
    except (ImageError, OSError) as exc:
        layer.error = str(exc)
        return
    trailing = 0
    stream: LayerStream | None = None
    scanner: TarScanner | None = None
    with raw:
        try:
            stream = LayerStream(raw, name)
            layer.compression = stream.compression
            _check_media_type(layer, name, warn)
            scanner = TarScanner(stream.chunks(), name)
            for m in scanner.members():
                members += 1
                if members % 4096 == 0:
                    if progress is not None:
                        progress(idx, stream.uncompressed_count)
                    if members >= MAX_LAYER_MEMBERS:
                        raise LayerReadError(
                            f"{name}: over {MAX_LAYER_MEMBERS} tar members; the rest of the layer is not read"
                        )
                mname = m.name
                if mname.startswith("/"):
                    absolute += 1
                path = normalise(mname)
                if path is None:
                    escaped += 1
                    continue
                if len(path) > 2 * MAX_PATH_DEPTH and path.count("/") > MAX_PATH_DEPTH:
                    too_deep += 1
                    continue
                if ".wh." in path:
                    base = path.rsplit("/", 1)[1]
                    if "/.wh..wh." in path[: -len(base) - 1]:
                        continue  # inside aufs bookkeeping dirs (.wh..wh.plnk/…)
                    if base.startswith(".wh."):
                        parent = path[: -len(base) - 1] or "/"
                        if base == ".wh..wh..opq":
                            opaque.append(parent)
                        elif base.startswith(".wh..wh."):
                            pass  # aufs bookkeeping (.wh..wh.plnk, .wh..wh.aufs): not a whiteout
                        elif base in (".wh.", ".wh..", ".wh..."):
                            warn(INVALID_WHITEOUT, f"{name}: ignored whiteout with an invalid name {mname!r}")
                        else:
                            whiteouts.append(posixpath.join(parent, base[4:]))
                        continue
                etype = FLAG_TYPES.get(m.flag)
                if etype is None:
                    unknown.add(repr(m.flag.decode("latin-1")))
                    continue
                link: str | None = None
                if etype == SYMLINK:
                    link = m.linkname
                elif etype == HARDLINK:
                    link = normalise(m.linkname)
                    if link is None:
                        warn(ENTRIES_LEFT_OUT, f"{name}: hardlink {path} -> {m.linkname!r} escapes the root; ignored")
                        continue
                if etype == FILE:
                    size_bytes += m.size
                    if m.sparse:
                        warn(SPARSE, f"{name}: {path} is a sparse file ({m.size} bytes); its digest is not computed")
                # Modes and mtimes repeat across a layer: share one int object each
                # (an int over 256 is a 28-byte object of its own).
                mode = m.mode
                mode = ints.setdefault(mode, mode)
                mtime = m.mtime
                mtime = ints.setdefault(mtime, mtime)
                entry = Entry(
                    path,
                    etype,
                    mode,
                    m.uid,
                    m.gid,
                    m.size,
                    mtime,
                    link,
                    m.digest,
                    m.xattrs,
                    m.offset,
                    idx,
                )
                old = entries.get(path)
                if old is not None:
                    del entries[path]  # keep tar order of the last occurrence
                    if not (old.type == DIR and etype == DIR):
                        dupes += 1
                entries[path] = entry
            if not scanner.saw_end_marker and stream.compression == "zstd":
                # zstd gives no error when its input stops mid-frame: the tar end tells.
                raise LayerReadError(f"{name}: zstd stream ends before the end of the tar (truncated)")
            try:
                trailing = scanner.drain(TRAILING_LIMIT)
                if trailing < 0:
                    warn(
                        TRAILING_DATA,
                        f"{name}: over {TRAILING_LIMIT >> 20} MiB of data after the tar end; diff_id not verified",
                    )
                stream.finish()
            except LayerReadError as exc:
                # Every member was read: what follows the tar is damaged, not the layer.
                trailing = -1
                warn(TRAILING_DATA, f"{exc} (after the end of the tar; diff_id not verified)")
            if scanner.trailing_data:
                warn(TRAILING_DATA, f"{name}: non-zero data after the tar end-of-archive marker was not read")
            if stream.trailing_garbage:
                warn(TRAILING_DATA, f"{name}: garbage after the end of the compressed stream")
        except LayerReadError as exc:
            layer.error = str(exc)
        except OSError as exc:
            layer.error = f"{name}: read error ({exc})"
        except MemoryError:
            layer.error = f"{name}: out of memory reading the layer"
        except Exception as exc:  # one hostile layer must not take the others down
            layer.error = f"{name}: internal error reading the layer ({type(exc).__name__}: {exc})"
        finally:
            if scanner is not None:
                for w in scanner.warnings:  # malformed pax records, oversized xattrs
                    warn(TAR_HEADER, w)
    layer.entries = list(entries.values())
    layer.whiteouts = whiteouts
    layer.opaque_dirs = opaque
    layer.size_bytes = size_bytes
    layer.member_count = members
    layer.uncompressed_bytes = stream.uncompressed_count if stream is not None else 0
    if escaped:
        warn(
            ENTRIES_LEFT_OUT,
            f"{name}: {escaped} entries with '..' in their names rejected (they would escape the root)",
        )
    if too_deep:
        warn(ENTRIES_LEFT_OUT, f"{name}: {too_deep} entries nested deeper than {MAX_PATH_DEPTH} directories left out")
    if absolute:
        warn(ABSOLUTE_NAMES, f"{name}: {absolute} entries with absolute names read relative to the root")
    if dupes:
        warn(DUPLICATE, f"{name}: {dupes} paths appear more than once; the last entry wins")
    if unknown:
        warn(ENTRIES_LEFT_OUT, f"{name}: entries with unknown tar types {', '.join(sorted(unknown))} ignored")
    layer.warnings.extend(w.message for w in issues)
    if overflow:
        layer.warnings.append(f"{name}: {sum(overflow.values())} more warnings not shown")
        # One line per kind keeps what was cut visible to the gate.
        for kind, n in overflow.items():
            issues.append(LoadWarning(kind, f"{name}: {n} more {kind} warnings not shown", idx))
    if layer.error is None and stream is not None:
        layer.computed_diff_id = stream.diff_id
        layer.computed_digest = stream.digest
        if layer.diff_id and layer.diff_id != layer.computed_diff_id and trailing >= 0:
            issues.append(
                LoadWarning(
                    DIFF_ID_MISMATCH,
                    f"{name}: diff_id mismatch: config says {layer.diff_id}, content is {layer.computed_diff_id}",
                    idx,
                )
            )
            layer.warnings.append(issues[-1].message)
        if layer.digest and layer.computed_digest and layer.digest != layer.computed_digest:
            issues.append(
                LoadWarning(
                    DIGEST_MISMATCH,
                    f"{name}: blob digest mismatch: manifest says {layer.digest}, blob is {layer.computed_digest}",
                    idx,
                )
            )
            layer.warnings.append(issues[-1].message)
    layer.issues.extend(issues)
    if progress is not None:
        progress(idx, layer.uncompressed_bytes)


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


def _costly_decompression(image: Image) -> bool:
    """Do most layer bytes need a slow decompressor (gzip, xz, bzip2)?

    Each layer already parses on one thread while another decompresses and
    hashes; a second layer in parallel only pays off when decompression is the
    bottleneck. Two parsers on plain or zstd layers just fight over the GIL.
    """
    slow = total = 0
    for layer in image.layers:
        if layer.error:
            continue
        try:
            with layer.open_blob() as raw:
                kind = detect_compression(raw.read(6))
        except (ImageError, OSError):
            continue
        total += layer.compressed_bytes
        if kind in ("gzip", "xz", "bzip2"):
            slow += layer.compressed_bytes
    return total > 0 and slow * 2 >= total


def read_layers(image: Image, progress: ProgressFn | None = None, workers: int = 2) -> None:
    """Read all layers in place; order of completion is irrelevant."""
    if workers > 1 and not _costly_decompression(image):
        workers = 1
    if workers <= 1 or len(image.layers) <= 1:
        for layer in image.layers:
            read_layer(layer, progress)
        return
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="layer") as pool:
        # Biggest first keeps both cores busy until the end.
        order = sorted(image.layers, key=lambda la: -la.compressed_bytes)
        for _ in pool.map(lambda la: read_layer(la, progress), order):
            pass


def open_image(path: str, platform: str | None = None, image_ref: str | None = None) -> Image:
    """Locate the image (manifest, config, layer list) without reading layers."""
    return ImageReader(path, platform, image_ref).read()
