"""The values of a Berkeley DB hash file (RPM's ``Packages`` on RHEL 7/8, CentOS).

No maintained pure-Python library reads Berkeley DB (the bindings need
libdb and a file on disk), so the little RPM needs is read here: the page
size and byte order from the meta page, then every hash page's key/data
pairs, a data item either inline (``H_KEYDATA``) or on a chain of overflow
pages (``H_OFFPAGE``). Every page number, offset and length is checked and
chains are bounded, so a hostile file is a ``ValueError``, never a loop.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator

HASH_MAGIC = 0x061561
P_HASH_UNSORTED, P_OVERFLOW, P_HASH = 2, 7, 13
H_KEYDATA, H_OFFPAGE = 1, 3
PAGE_HEADER = 26


class BdbError(ValueError):
    """Not a Berkeley DB hash file, or one whose pages do not hold together."""


def _order(data: bytes) -> str:
    if len(data) < 512:
        raise BdbError("shorter than a Berkeley DB meta page")
    for order in ("<", ">"):
        if struct.unpack_from(order + "I", data, 12)[0] == HASH_MAGIC:
            return order
    raise BdbError("not a Berkeley DB hash file")


def values(data: bytes, limit: int) -> Iterator[bytes]:
    """The data item of every key/data pair, in page order (at most ``limit``)."""
    order = _order(data)
    pagesize = struct.unpack_from(order + "I", data, 20)[0]
    if pagesize < 512 or pagesize > 65536 or pagesize & (pagesize - 1):
        raise BdbError(f"page size {pagesize} is not one Berkeley DB uses")
    npages = len(data) // pagesize
    found = 0
    for pgno in range(1, npages):
        page = data[pgno * pagesize : (pgno + 1) * pagesize]
        if page[25] not in (P_HASH, P_HASH_UNSORTED):
            continue
        entries = struct.unpack_from(order + "H", page, 20)[0]
        if PAGE_HEADER + 2 * entries > pagesize:
            raise BdbError(f"page {pgno} lists more entries than it holds")
        offs = struct.unpack_from(f"{order}{entries}H", page, PAGE_HEADER)
        for i in range(1, entries, 2):  # keys at even slots, data at odd ones
            yield _item(data, page, offs, i, order, pagesize, npages)
            found += 1
            if found >= limit:
                return


def _item(data: bytes, page: bytes, offs: tuple[int, ...], i: int, order: str, pagesize: int, npages: int) -> bytes:
    start = offs[i]
    end = offs[i - 1] if i > 0 else pagesize  # items are packed from the page's end backwards
    if not PAGE_HEADER <= start < end <= pagesize:
        raise BdbError("an item lies outside its page")
    kind = page[start]
    if kind == H_KEYDATA:
        return page[start + 1 : end]
    if kind != H_OFFPAGE or start + 12 > pagesize:
        raise BdbError(f"an item of kind {kind} is not one RPM writes")
    pgno, total = struct.unpack_from(order + "II", page, start + 4)
    return _overflow(data, pgno, total, order, pagesize, npages)


def _overflow(data: bytes, pgno: int, total: int, order: str, pagesize: int, npages: int) -> bytes:
    """An item stored on a chain of overflow pages (each page at most once)."""
    if total > len(data):
        raise BdbError(f"an item of {total} bytes in a file of {len(data)}")
    out = bytearray()
    seen: set[int] = set()
    while pgno and len(out) < total:
        if pgno >= npages or pgno in seen:
            raise BdbError(f"overflow page {pgno} is outside the file or loops")
        seen.add(pgno)
        page = data[pgno * pagesize : (pgno + 1) * pagesize]
        if page[25] != P_OVERFLOW:
            raise BdbError(f"page {pgno} is not an overflow page")
        used = struct.unpack_from(order + "H", page, 22)[0]
        out += page[PAGE_HEADER : PAGE_HEADER + min(used, pagesize - PAGE_HEADER)]
        pgno = struct.unpack_from(order + "I", page, 16)[0]
    if len(out) < total:
        raise BdbError("an overflow chain ends before its item does")
    return bytes(out[:total])
