"""Streaming decompression of layer blobs, detected by magic bytes.

Every decompressor is driven with a bounded output size so a few MB of input
that expand to GiBs never sit in memory at once (a decompression bomb costs
time, not memory). Digests of the compressed and uncompressed streams are
computed as the bytes flow by.
"""

from __future__ import annotations

import bz2
import hashlib
import lzma
import queue
import threading
import zlib
from collections.abc import Iterator
from typing import BinaryIO

from .errors import LayerReadError

CHUNK = 1 << 20
PIPELINE_DEPTH = 8  # chunks decompressed ahead of the parser (bounded memory)
_END = object()
MAX_ZSTD_WINDOW = 1 << 27  # zstd's own default limit: a frame asking for more is refused (memory)

GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
XZ_MAGIC = b"\xfd7zXZ\x00"
BZIP2_MAGIC = b"BZh"


def detect_compression(head: bytes) -> str:
    """Name the compression of a stream from its first bytes."""
    if head.startswith(GZIP_MAGIC):
        return "gzip"
    if head.startswith(ZSTD_MAGIC):
        return "zstd"
    if head.startswith(XZ_MAGIC):
        return "xz"
    if head.startswith(BZIP2_MAGIC):
        return "bzip2"
    return "none"


class HashingReader:
    """Reads a raw file, hashing and counting every byte that passes."""

    def __init__(self, raw: BinaryIO, hash_it: bool = True) -> None:
        self.raw = raw
        self.hasher = hashlib.sha256() if hash_it else None
        self.count = 0

    def read(self, n: int = -1) -> bytes:
        data = self.raw.read(n)
        if data:
            self.count += len(data)
            if self.hasher is not None:
                self.hasher.update(data)
        return data

    def readable(self) -> bool:
        return True

    def digest(self) -> str | None:
        return None if self.hasher is None else "sha256:" + self.hasher.hexdigest()


class LayerStream:
    """Uncompressed chunks of a layer blob plus digests of both forms.

    ``trailing_garbage`` is set when bytes follow the compressed data that are
    not another compressed member.
    """

    def __init__(self, raw: BinaryIO, name: str, verify: bool = True) -> None:
        self.name = name
        self.verify = verify
        self.reader = HashingReader(raw, verify)
        self.head = self.reader.read(6)
        self.compression = detect_compression(self.head)
        if self.compression == "none":
            self.reader.hasher = None  # the blob digest is the diff_id: hash once
        self.uncompressed = hashlib.sha256()
        self._active: Iterator[bytes] | None = None
        self.uncompressed_count = 0
        self.trailing_garbage = False

    # Each generator yields raw decompressed chunks; ``chunks`` hashes them.
    def _plain(self) -> Iterator[bytes]:
        if self.head:
            yield self.head
        while True:
            data = self.reader.read(CHUNK)
            if not data:
                return
            yield data

    def _gzip(self) -> Iterator[bytes]:
        data = self.head
        d = zlib.decompressobj(31)
        while True:
            if not data:
                data = self.reader.read(CHUNK)
                if not data:
                    if not d.eof:
                        raise LayerReadError(f"{self.name}: gzip stream is truncated")
                    return
            try:
                out = d.decompress(data, CHUNK)
                while out:
                    yield out
                    out = d.decompress(d.unconsumed_tail, CHUNK) if d.unconsumed_tail else b""
            except zlib.error as exc:
                raise LayerReadError(f"{self.name}: corrupt gzip data ({exc})") from None
            data = b""
            if d.eof:
                rest = d.unused_data
                if not rest:
                    rest = self.reader.read(CHUNK)
                    if not rest:
                        return
                # eStargz and pigz write several gzip members back to back.
                while len(rest) < 2:
                    more = self.reader.read(CHUNK)
                    if not more:
                        break
                    rest += more
                if not rest.startswith(GZIP_MAGIC):
                    if rest.strip(b"\0"):
                        self.trailing_garbage = True
                    self._drain()
                    return
                d = zlib.decompressobj(31)
                data = rest

    def _zstd(self) -> Iterator[bytes]:
        import zstandard

        class _Prefixed:
            def __init__(self, head: bytes, reader: HashingReader) -> None:
                self.head = head
                self.reader = reader

            def read(self, n: int = -1) -> bytes:
                if self.head:
                    h, self.head = self.head, b""
                    return h + self.reader.read(max(n - len(h), 0) if n > 0 else -1)
                return self.reader.read(n)

        dctx = zstandard.ZstdDecompressor(max_window_size=MAX_ZSTD_WINDOW)
        stream = dctx.stream_reader(_Prefixed(self.head, self.reader), read_size=CHUNK, read_across_frames=True)
        try:
            while True:
                # read1 stops at a frame's end, so data after the last frame
                # fails only after every byte of the frames was handed out.
                out = stream.read1(CHUNK)
                if not out:
                    return
                yield out
        except zstandard.ZstdError as exc:
            raise LayerReadError(f"{self.name}: corrupt zstd data ({exc})") from None

    def _stdlib(self, decomp: lzma.LZMADecompressor | bz2.BZ2Decompressor, kind: str) -> Iterator[bytes]:
        data = self.head
        while True:
            if not data:
                data = self.reader.read(CHUNK)
                if not data:
                    if not decomp.eof:
                        raise LayerReadError(f"{self.name}: {kind} stream is truncated")
                    return
            try:
                out = decomp.decompress(data, CHUNK)
                while out:
                    yield out
                    if decomp.eof:
                        break
                    out = decomp.decompress(b"", CHUNK) if not decomp.needs_input else b""
            except (OSError, EOFError, lzma.LZMAError) as exc:
                raise LayerReadError(f"{self.name}: corrupt {kind} data ({exc})") from None
            data = b""
            if decomp.eof:
                if decomp.unused_data.strip(b"\0"):
                    self.trailing_garbage = True
                self._drain()
                return

    def _drain(self) -> None:
        """Read (and hash) whatever follows, so the blob digest stays checkable."""
        while self.reader.read(CHUNK):
            pass

    def _decompressed(self) -> Iterator[bytes]:
        if self.compression == "gzip":
            return self._gzip()
        if self.compression == "zstd":
            return self._zstd()
        if self.compression == "xz":
            return self._stdlib(lzma.LZMADecompressor(), "xz")
        if self.compression == "bzip2":
            return self._stdlib(bz2.BZ2Decompressor(), "bzip2")
        return self._plain()

    def chunks(self) -> Iterator[bytes]:
        """Uncompressed chunks. When verifying, reading, decompressing and both
        digests run on a producer thread (zlib, zstd and hashlib release the
        GIL), so they overlap with the header parsing done by the consumer."""
        if not self.verify:
            return self._decompressed()
        self._active = self._pipelined()
        return self._active

    def _pipelined(self) -> Iterator[bytes]:
        q: queue.Queue[object] = queue.Queue(maxsize=PIPELINE_DEPTH)
        stop = threading.Event()

        def put(item: object) -> bool:
            while not stop.is_set():
                try:
                    q.put(item, timeout=0.05)
                    return True
                except queue.Full:
                    continue
            return False

        def produce() -> None:
            try:
                update = self.uncompressed.update
                for chunk in self._decompressed():
                    update(chunk)
                    self.uncompressed_count += len(chunk)
                    if not put(chunk):
                        return
                put(_END)
            except BaseException as exc:  # handed to the consumer, raised there
                put(exc)

        thread = threading.Thread(target=produce, name="layer-stream", daemon=True)
        thread.start()
        try:
            while True:
                item = q.get()
                if item is _END:
                    return
                if isinstance(item, BaseException):
                    raise item
                yield item  # type: ignore[misc]
        finally:
            stop.set()
            thread.join()

    def finish(self) -> None:
        """Consume any rest of the raw blob (after the tar's end marker)."""
        if self._active is not None:
            self._active.close()  # stop the producer before touching the reader
            self._active = None
        self._drain()

    @property
    def diff_id(self) -> str:
        return "sha256:" + self.uncompressed.hexdigest()

    @property
    def digest(self) -> str | None:
        if self.compression == "none":
            return self.diff_id
        return self.reader.digest()


def open_uncompressed(raw: BinaryIO, name: str) -> Iterator[bytes]:
    """Uncompressed chunks of a blob without digests (for content views)."""
    return LayerStream(raw, name, verify=False).chunks()
