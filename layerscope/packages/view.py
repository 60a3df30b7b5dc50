"""The image's files as of one layer, as a package database reader sees them.

Readers ask for a file's bytes or a directory's names; the view answers from
the merged model (nothing is extracted, symlinks are never followed: a
database is read only where it is a regular file) and caches what it read by
version, so a file no layer changed is read and parsed once for the image.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable
from typing import TypeVar

from ..content import ContentError, read_content, read_many
from ..merge import Merged
from ..model import FILE, HARDLINK, Entry
from .records import DbProblem

T = TypeVar("T")


class LayerView:
    """Files as of layer ``k``; ``problems`` gathers what could not be read."""

    def __init__(self, merged: Merged, k: int, cache: dict[tuple[int, str], object]) -> None:
        self.merged = merged
        self.k = k
        self._cache = cache
        self.problems: list[DbProblem] = []
        self._ahead: dict[int, bytes] = {}  # bytes read by prefetch, by Entry.key, until parsed

    def memo(self, name: str) -> dict[str, dict[str, str]]:
        """A dict the views of one image share, for what two versions of a
        database file have in common (dpkg's stanzas)."""
        got = self._cache.setdefault((-1, name), {})
        assert isinstance(got, dict)
        return got

    def entry(self, path: str) -> Entry | None:
        return self.merged.entry_at(path, self.k)

    def names(self, directory: str) -> list[str]:
        """The names present in ``directory`` as of the layer (byte order)."""
        return [posixpath.basename(ev.path) for ev in self.merged.children_at(directory, self.k) if type(ev) is Entry]

    def prefetch(self, wanted: list[tuple[str, Callable[[bytes], object]]], limit: int) -> None:
        """Read ahead, in one pass per layer blob, the files of ``wanted`` whose
        version ``parse`` has not parsed yet (a database of hundreds of small
        files: dpkg's ``info/``); :meth:`parsed` then takes the bytes read."""
        entries = []
        for path, parse in wanted:
            e = self.entry(path)
            if e is not None and (e.key, parse.__qualname__) not in self._cache and e.data_entry.size <= limit:
                entries.append(e)
        if entries:
            self._ahead.update(read_many(self.merged.image, entries, limit))

    def read(self, path: str, limit: int) -> bytes | None:
        """A regular file's bytes, or None (absent, not a file, too big, unreadable: the
        last two are problems)."""
        e = self.entry(path)
        if e is None or e.type not in (FILE, HARDLINK):
            return None
        if e.data_entry.size > limit:
            self.problem(path, f"{e.data_entry.size} bytes, over the {limit >> 20} MiB read for a package database")
            return None
        ahead = self._ahead.pop(e.key, None)
        if ahead is not None:
            return ahead
        try:
            return read_content(self.merged.image, e, limit)
        except ContentError as exc:
            self.problem(path, str(exc))
            return None

    def parsed(self, path: str, limit: int, parse: Callable[[bytes], T]) -> T | None:
        """``parse`` of a file's bytes, once per version of the file (and per parser)."""
        e = self.entry(path)
        if e is None:
            return None
        key = (e.key, parse.__qualname__)
        if key in self._cache:
            return self._cache[key]  # type: ignore[return-value]
        data = self.read(path, limit)
        try:
            value = None if data is None else parse(data)
        except (ValueError, UnicodeError, RecursionError) as exc:  # a parser's complaint about a hostile file
            self.problem(path, f"not readable as a package database ({exc})"[:300])
            value = None
        self._cache[key] = value
        return value

    def problem(self, path: str, message: str) -> None:
        self.problems.append(DbProblem(path, self.k, message))
