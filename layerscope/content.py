"""Read one version's bytes lazily by re-streaming its layer blob.

Nothing is extracted to disk. For an uncompressed blob the reader seeks
straight to the member's content; compressed blobs are decompressed up to the
content (there is no index into a gzip/zstd stream) and only the wanted bytes
are kept. Symlinks yield their target text and are never followed on the host.
A layer read from a directory (a container's writable layer) has a ``source``
that opens the file itself, relative to the directory, without following links.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from . import _core
from .errors import LayerscopeError
from .merge import Merged
from .model import DIR, FILE, HARDLINK, SYMLINK, Deletion, Entry, Image, Layer, LayerSource
from .sources.files import window_of

CHUNK = 1 << 20


class ContentError(LayerscopeError):
    """The version has no readable content (a directory, a device, a damaged layer...)."""


def iter_content(image: Image, entry: Entry, limit: int | None = None) -> Iterator[bytes]:
    """The bytes of ``entry`` (at most ``limit``), in chunks.

    Raises :class:`ContentError` for entries without content and for layers
    that end before the content does.
    """
    if limit is not None and limit <= 0:
        return
    if entry.type == SYMLINK:
        data = (entry.link or "").encode("utf-8", "surrogateescape")
        yield data if limit is None else data[:limit]
        return
    if entry.type not in (FILE, HARDLINK):
        what = "a directory" if entry.type == DIR else f"a {entry.type}"
        raise ContentError(f"{entry.path} is {what} in layer {entry.layer}: it has no content")
    if entry.type == HARDLINK and entry.source is None:
        raise ContentError(f"{entry.path} is a hardlink to {entry.link} whose target is missing")
    data_entry = entry.data_entry
    size = data_entry.size
    if size and data_entry.digest is None:
        raise ContentError(f"{entry.path} is a sparse file: showing its content is not supported")
    if data_entry.offset < 0:
        raise ContentError(f"{entry.path} has no content in layer {data_entry.layer}")
    want = size if limit is None else min(size, limit)
    if want == 0:
        return
    if not 0 <= data_entry.layer < len(image.layers):
        raise ContentError(f"{entry.path}: layer {data_entry.layer} does not exist")
    layer = image.layers[data_entry.layer]
    name = f"layer {layer.index} ({layer.source_name})"
    if layer.source is not None:
        yield from _read_file(layer.source, data_entry, name, want, entry.path)
        return
    try:
        raw = layer.open_blob()
    except OSError as exc:
        raise ContentError(f"{name}: cannot open ({exc})") from None
    try:
        reader = _core.open_reader(raw, window_of(raw), name)
    except OSError as exc:
        raw.close()
        raise ContentError(f"{name}: cannot read ({exc})") from None
    with reader:
        yield from _read_range(reader, name, data_entry.offset, want, entry.path)


def _read_range(reader: _core.Reader, name: str, offset: int, want: int, path: str) -> Iterator[bytes]:
    """``want`` bytes from ``offset`` of the uncompressed layer stream."""
    try:
        short = f"{path}: {name} ends before the file's content does"
        if reader.skip_to(offset) < offset:
            raise ContentError(short)
        yield from _chunks(reader.read, want, short)
    except OSError as exc:
        raise ContentError(f"{path}: {exc}") from None


def _read_file(source: LayerSource, entry: Entry, name: str, want: int, path: str) -> Iterator[bytes]:
    """``want`` bytes of a file of a layer read from a directory: the source opens the file itself."""
    try:
        fh = source.open_entry(entry)
    except OSError as exc:
        raise ContentError(f"{path}: cannot open it in {name} ({exc.strerror or exc})") from None
    with fh:
        try:
            yield from _chunks(fh.read, want, f"{path}: shorter in {name} than when the layer was read")
        except OSError as exc:
            raise ContentError(f"{path}: {exc.strerror or exc}") from None


def _chunks(read: Callable[[int], bytes], want: int, short: str) -> Iterator[bytes]:
    """``want`` bytes from ``read`` in bounded chunks; ``short`` if they run out first."""
    left = want
    while left:
        data = read(min(CHUNK, left))
        if not data:
            raise ContentError(short)
        left -= len(data)
        yield data


def read_content(image: Image, entry: Entry, limit: int | None = None) -> bytes:
    return b"".join(iter_content(image, entry, limit))


def read_many(image: Image, entries: list[Entry], limit: int) -> dict[int, bytes]:
    """The bytes (at most ``limit``) of each entry a layer blob holds, by ``Entry.key``.

    Why: a package database is hundreds of small files (dpkg's ``info/*.list``);
    opening a blob for each cost ~70 µs, and for a compressed layer
    decompressed it from the start each time. Here each layer's blob is opened
    once and read forward in offset order. An entry this cannot read (a
    directory layer's, a sparse one, a damaged blob) is left out: the caller
    reads it with :func:`read_content`, which says why.
    """
    by_layer: dict[int, list[tuple[int, int, int]]] = {}
    for e in entries:
        d = e.data_entry
        if e.type not in (FILE, HARDLINK) or (e.type == HARDLINK and e.source is None) or d.offset < 0:
            continue
        if (d.size and d.digest is None) or not 0 <= d.layer < len(image.layers):
            continue
        if image.layers[d.layer].source is None:
            by_layer.setdefault(d.layer, []).append((d.offset, min(d.size, limit), e.key))
    out: dict[int, bytes] = {}
    for index, wanted in by_layer.items():
        try:
            _read_forward(image.layers[index], sorted(wanted), out)
        except (OSError, ContentError):
            continue  # what was read is kept; the rest is read one by one, with its error
    return out


def _read_forward(layer: Layer, wanted: list[tuple[int, int, int]], out: dict[int, bytes]) -> None:
    """The ``(offset, size, key)`` ranges of one layer, in offset order, with one reader."""
    name = f"layer {layer.index} ({layer.source_name})"
    raw = layer.open_blob()
    try:
        reader = _core.open_reader(raw, window_of(raw), name)
    except OSError:
        raw.close()
        raise
    with reader:
        last: tuple[int, int] | None = None
        for offset, size, key in wanted:
            if last is not None and last[0] == offset:  # a hardlink's bytes are its target's
                out[key] = out[last[1]]
                continue
            if reader.skip_to(offset) != offset:
                continue  # the stream ended, or ranges overlap (not a tar a scan made): read alone
            out[key] = b"".join(_chunks(reader.read, size, f"{name} ends before a file's content does"))
            last = (offset, key)


def lookup(merged: Merged, path: str, layer: int | None = None) -> Entry:
    """The version of ``path`` visible as of ``layer`` (default: top); clear errors otherwise."""
    from ._core import normalise

    norm = normalise(path.strip()) or ""
    if not norm:
        raise LayerscopeError(f"{path!r}: not a path inside the image")
    k = merged.top if layer is None else layer
    if norm not in merged:
        raise LayerscopeError(f"{norm}: no such path in any layer")
    ev = merged.state_at(norm, k)
    if ev is None:
        first = merged.history(norm)[0].layer
        raise LayerscopeError(f"{norm}: does not exist yet as of layer {k} (first appears in layer {first})")
    if isinstance(ev, Deletion):
        below = [v for v in merged.history(norm) if type(v) is Entry and v.layer < ev.layer]
        hint = f"; the last version is in layer {below[-1].layer} (use --layer {below[-1].layer})" if below else ""
        raise LayerscopeError(f"{norm}: deleted in layer {ev.layer} ({ev.how}){hint}")
    assert type(ev) is Entry
    return ev
