"""What a package database says: packages, the files each owns, their digests.

The records are plain frozen values made by the per-format readers
(``dpkg.py``, ``apk.py``, ``pydist.py``, ``npm.py``); the per-layer index
(``index.py``) compares them between layers. A database is untrusted input
like every other byte of an image: readers bound what they keep (``LIMITS``)
and report what they could not read as a ``DbProblem``, never an exception.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from enum import StrEnum


class Ecosystem(StrEnum):
    """The package manager that recorded a package (the ``ecosystem:`` of an owner)."""

    DEB = "deb"
    APK = "apk"
    RPM = "rpm"
    PYTHON = "python"
    NPM = "npm"


@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds on what one database may make us hold (hostile files are normal)."""

    db_bytes: int = 64 << 20  # one database file read (status, installed, rpmdb.sqlite)
    list_bytes: int = 16 << 20  # one file list (info/*.list, RECORD)
    packages: int = 200_000  # packages in one database
    field_chars: int = 4096  # a name, version or architecture


LIMITS = Limits()


@dataclass(frozen=True, slots=True, repr=False)
class Package:
    """One installed package as its database records it.

    ``files`` are absolute, normalised paths (directories included where the
    format lists them); ``digests`` maps a file to ``algo:hex`` where the
    database records one (dpkg md5sums, apk sha1, rpm sha256/md5, RECORD
    sha256). ``db`` is the path of the record the package was read from.
    ``stamp`` tells a reinstall (same version, files written again) from a
    package no layer touched.
    """

    ecosystem: Ecosystem
    name: str
    version: str
    arch: str
    db: str
    files: tuple[str, ...] = ()
    digests: tuple[tuple[str, str], ...] = ()
    stamp: int = -1  # the version (Entry.key) of the record that lists the files: new on a reinstall

    @property
    def key(self) -> tuple[str, str, str]:
        """Two records are one package at two layers when their keys agree.

        An OS database holds one package of a name per architecture. A
        language's packages are per directory: npm nests a second ``ms``
        under the ``debug`` that needs another version, and an image may hold
        two site-packages; so the third part is where the package lives (its
        directory for npm, the site directory for Python, whose
        ``*.dist-info`` name changes with the version).
        """
        if self.ecosystem == Ecosystem.NPM:
            return (self.ecosystem, self.name, self.db)
        if self.ecosystem == Ecosystem.PYTHON:
            return (self.ecosystem, self.name, posixpath.dirname(self.db))
        return (self.ecosystem, self.name, self.arch)

    @property
    def owner(self) -> str:
        """``ecosystem:name@version``: how a file's owner is written everywhere."""
        return f"{self.ecosystem}:{self.name}@{self.version}"

    def __repr__(self) -> str:  # a package lists thousands of files: never print them
        return f"Package({self.owner}, {len(self.files)} files)"


@dataclass(frozen=True, slots=True)
class DbProblem:
    """A database (or part of one) that could not be read as written."""

    path: str
    layer: int
    message: str

    def text(self) -> str:
        return f"layer {self.layer}: {self.path}: {self.message}"


def clip(value: str, limits: Limits = LIMITS) -> str:
    """A field cut to a sane length, so an absurd one cannot fill a screen or memory."""
    return value if len(value) <= limits.field_chars else value[: limits.field_chars] + "…"
