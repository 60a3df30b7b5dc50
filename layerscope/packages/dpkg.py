"""dpkg's database: ``/var/lib/dpkg/status`` (or distroless ``status.d/*``),
each package's ``info/<name>[:<arch>].list`` and ``.md5sums``.

The deb822 paragraphs are parsed by python-debian (``debian.deb822``), the
format's own library; the file lists and md5sums are one path (or one
``<md5>  <path>``) a line, read here.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Iterator
from dataclasses import replace

from debian.deb822 import Deb822

from .records import LIMITS, Ecosystem, Package, clip
from .view import LayerView

ROOT = "/var/lib/dpkg"
STATUS = ROOT + "/status"
STATUS_D = ROOT + "/status.d"
INFO = ROOT + "/info"
LOG = "/var/log/dpkg.log"
# Status values of a package whose files are (at least partly) on disk.
_GONE = {"not-installed", "config-files"}


def in_database(path: str) -> bool:
    """Is ``path`` part of dpkg's database (what ``read`` reads again when it changes)?"""
    return path == ROOT or path.startswith(ROOT + "/")


def paragraphs(data: bytes, memo: dict[str, dict[str, str]] | None = None) -> list[dict[str, str]]:
    """The stanzas of a deb822 file; a malformed line ends its stanza, not the file.

    With ``memo`` (stanza text -> its fields, shared by one image's reads), a
    stanza an earlier version of the file had is not parsed again: a layer's
    ``apt-get install`` rewrites ``status`` with a few stanzas new among a
    hundred it keeps. Each stanza is still parsed by the library, cut out as
    its own iteration would cut it (:func:`_stanzas`).
    """
    # Decoded here: the library would raise on bytes that are not UTF-8 (hostile or old files).
    text = data.decode("utf-8", "replace").splitlines()
    if memo is None or any(line.startswith("-") for line in text):  # OpenPGP armour: the library's own walk
        out = []
        for para in Deb822.iter_paragraphs(text, use_apt_pkg=False):
            out.append({k: str(v) for k, v in para.items()})
            if len(out) >= LIMITS.packages:
                break
        return out
    out = []
    for stanza in _stanzas(text):
        key = "\n".join(stanza)
        got = memo.get(key)
        if got is None:
            got = memo[key] = {k: str(v) for k, v in Deb822(stanza).items()}
        if not got:
            break  # the library's iteration ends at a stanza with no field
        out.append(got)
        if len(out) >= LIMITS.packages:
            break
    return out


def _stanzas(lines: list[str]) -> Iterator[list[str]]:
    """The lines of each stanza as ``Deb822.iter_paragraphs`` cuts them (for
    text without OpenPGP armour): comment lines dropped everywhere, a line of
    ASCII blanks (or none) ends a stanza, blank lines before one skipped."""
    stanza: list[str] = []
    for line in lines:
        if line.startswith("#"):
            continue
        if not line.strip(" \t\r\n\x0b\x0c"):
            if stanza:
                yield stanza
                stanza = []
            continue
        stanza.append(line)
    if stanza:
        yield stanza


class _Paragraphs:
    """:func:`paragraphs` with one image's memo, as ``LayerView.parsed`` takes a parser."""

    def __init__(self, memo: dict[str, dict[str, str]]) -> None:
        self.memo = memo
        self.__qualname__ = paragraphs.__qualname__  # the parse cache's key: the same parse

    def __call__(self, data: bytes) -> list[dict[str, str]]:
        return paragraphs(data, self.memo)


def file_list(data: bytes) -> tuple[str, ...]:
    """``info/*.list``: absolute paths, one a line (``/.`` is the root)."""
    out = []
    for raw in data.decode("utf-8", "surrogateescape").splitlines():
        path = raw.strip()
        if not _normal(path):
            path = posixpath.normpath(path) if path else ""
        if path.startswith("/") and path != "/":
            out.append(path)
    return tuple(out)


def _normal(path: str) -> bool:
    """An absolute path ``posixpath.normpath`` leaves as it is (what dpkg writes):
    the test is a tenth of normpath's cost, over a database's 10k lines."""
    return path.startswith("/") and "//" not in path and "/." not in path and not path.endswith("/")


def md5sums(data: bytes) -> tuple[tuple[str, str], ...]:
    """``info/*.md5sums``: ``<md5>  <path relative to />`` a line."""
    out = []
    for raw in data.decode("utf-8", "surrogateescape").splitlines():
        digest, _, rel = raw.partition("  ")
        if len(digest) == 32 and rel:
            rel = rel.lstrip("/")
            path = "/" + rel
            out.append((path if _normal(path) else "/" + posixpath.normpath(rel), "md5:" + digest.lower()))
    return tuple(out)


def _installed(para: dict[str, str]) -> bool:
    status = para.get("Status", "install ok installed").split()
    return bool(status) and status[-1] not in _GONE and bool(para.get("Package"))


def _stems(para: dict[str, str]) -> tuple[str, str]:
    """The names a package's ``info/`` files may have: multi-arch ``same``
    packages name theirs ``<name>:<arch>``, others ``<name>``."""
    name = clip(para["Package"])
    return (f"{name}:{clip(para.get('Architecture', ''))}", name)


def _package(view: LayerView, para: dict[str, str], db: str, info: str) -> Package:
    name = clip(para["Package"])
    arch = clip(para.get("Architecture", ""))
    files: tuple[str, ...] = ()
    digests: tuple[tuple[str, str], ...] = ()
    stamp = -1
    for stem in _stems(para):
        listed = view.parsed(f"{info}/{stem}.list", LIMITS.list_bytes, file_list)
        if listed is not None:
            files = listed
            listed_entry = view.entry(f"{info}/{stem}.list")
            stamp = -1 if listed_entry is None else listed_entry.key
            digests = view.parsed(f"{info}/{stem}.md5sums", LIMITS.list_bytes, md5sums) or ()
            break
    return Package(Ecosystem.DEB, name, clip(para.get("Version", "")), arch, db, files, digests, stamp)


def read(view: LayerView) -> list[Package]:
    """The packages installed as of the view's layer."""
    out: list[Package] = []
    parse = _Paragraphs(view.memo("deb822 stanzas"))
    paras = [p for p in view.parsed(STATUS, LIMITS.db_bytes, parse) or () if _installed(p)]
    ahead: list[tuple[str, Callable[[bytes], object]]] = []
    for para in paras:
        for stem in _stems(para):
            ahead += [(f"{INFO}/{stem}.list", file_list), (f"{INFO}/{stem}.md5sums", md5sums)]
    view.prefetch(ahead, LIMITS.list_bytes)
    for para in paras:
        out.append(_package(view, para, STATUS, INFO))
    # distroless: one stanza a file, with its md5sums beside it
    for fname in view.names(STATUS_D):
        if fname.endswith(".md5sums") or fname.startswith("."):
            continue
        path = f"{STATUS_D}/{fname}"
        for para in view.parsed(path, LIMITS.list_bytes, paragraphs) or ():
            if _installed(para):
                pkg = _package(view, para, path, STATUS_D)
                if not pkg.digests:
                    sums = view.parsed(f"{STATUS_D}/{fname}.md5sums", LIMITS.list_bytes, md5sums) or ()
                    stamp_entry = view.entry(f"{STATUS_D}/{fname}.md5sums")
                    stamp = -1 if stamp_entry is None else stamp_entry.key
                    pkg = replace(pkg, files=tuple(p for p, _ in sums), digests=sums, stamp=stamp)
                out.append(pkg)
    return out


def log_actions(data: bytes) -> list[tuple[str, str, str, str]]:
    """``dpkg.log``'s package actions: (action, name, arch, version) for each
    ``install``/``upgrade``/``remove``/``purge`` line, in order."""
    out = []
    for line in data.decode("utf-8", "replace").splitlines():
        parts = line.split()
        if len(parts) == 6 and parts[2] in ("install", "upgrade", "remove", "purge"):
            name, _, arch = parts[3].partition(":")
            version = parts[5] if parts[2] in ("install", "upgrade") else parts[4]
            out.append((parts[2], clip(name), clip(arch), clip(version)))
    return out


def transient(view: LayerView, below: LayerView) -> list[Package]:
    """Packages a layer installed and removed again (``apt-get install x && apt-get
    purge x`` in one RUN): the dpkg.log lines the layer appended say so, where it
    kept the log. Each is a package as the log names it, with no files."""
    now = view.read(LOG, LIMITS.db_bytes)
    if now is None:
        return []
    before = below.read(LOG, LIMITS.db_bytes) or b""
    new = now[len(before) :] if now.startswith(before) else now
    installed: dict[tuple[str, str], str] = {}
    removed: set[tuple[str, str]] = set()
    for action, name, arch, version in log_actions(new):
        if action in ("install", "upgrade"):
            installed[(name, arch)] = version
            removed.discard((name, arch))
        else:
            removed.add((name, arch))
    return [Package(Ecosystem.DEB, n, v, a, LOG) for (n, a), v in installed.items() if (n, a) in removed]
