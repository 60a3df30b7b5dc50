"""A container's writable layer rebuilt through its engine, when its upper
directory cannot be read (not root, a storage driver without one, a remote
engine).

``ENGINE diff NAME`` lists what the container added (``A``), changed (``C``)
and deleted (``D``) against its image; ``ENGINE export NAME`` streams the
container's whole filesystem as a tar. The members the diff names, and the
directories above them, are copied as they stream by into a tar layer in a
private temporary file (mode 0600 in a 0700 directory), with a ``.wh.``
whiteout for each deleted path. The core then reads that file like any layer;
nothing is extracted.
"""

from __future__ import annotations

import os
import subprocess
import tarfile
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field

from ..errors import LayerscopeError

DIFF_KINDS = ("A", "C", "D")


class ExportError(LayerscopeError):
    """The engine's diff or export failed."""


@dataclass
class Changes:
    """``ENGINE diff``: paths (normalised, absolute) by kind."""

    added: set[str] = field(default_factory=set)
    changed: set[str] = field(default_factory=set)
    deleted: set[str] = field(default_factory=set)
    unparsed: int = 0  # lines that are not ``K /path``


def _clean(name: str) -> str | None:
    """``./a//b/`` -> ``/a/b``; None for the root and for names that climb out."""
    parts: list[str] = []
    for part in name.split("/"):
        if part == "..":
            return None
        if part and part != ".":
            parts.append(part)
    return "/" + "/".join(parts) if parts else None


def parse_diff(text: str) -> Changes:
    """``C /app`` lines (docker and podman print the same) into sets."""
    out = Changes()
    sets = {"A": out.added, "C": out.changed, "D": out.deleted}
    for line in text.splitlines():
        if not line.strip():
            continue
        path = _clean(line[2:]) if len(line) > 2 and line[0] in sets and line[1] == " " else None
        if path is None:
            out.unparsed += 1
            continue
        sets[line[0]].add(path)
    return out


def _ancestors(paths: Iterable[str]) -> set[str]:
    out: set[str] = set()
    for p in paths:
        q = p.rsplit("/", 1)[0]
        while q and q not in out:
            out.add(q)
            q = q.rsplit("/", 1)[0]
    return out


def _last_line(data: bytes, rc: int) -> str:
    lines = [ln.strip() for ln in data.decode("utf-8", "replace").splitlines() if ln.strip()]
    return (lines[-1] if lines else f"exit status {rc}")[:300]


def engine_diff(cmd: list[str], name: str, spec: str) -> Changes:
    try:
        proc = subprocess.run([*cmd, "diff", name], capture_output=True, stdin=subprocess.DEVNULL, check=False)
    except OSError as exc:
        raise ExportError(f"{spec}: cannot run {cmd[0]} ({exc.strerror})") from None
    if proc.returncode != 0:
        raise ExportError(f"{spec}: {cmd[0]} diff failed: {_last_line(proc.stderr, proc.returncode)}")
    return parse_diff(proc.stdout.decode("utf-8", "surrogateescape"))


def rebuild(cmd: list[str], name: str, spec: str, changes: Changes, dest_dir: str) -> tuple[str, int]:
    """Write the changed members of ``ENGINE export NAME`` and the whiteouts to
    ``dest_dir/layer.tar``; returns its path and the number of members copied."""
    keep = changes.added | changes.changed
    keep |= _ancestors(keep | changes.deleted)
    path = os.path.join(dest_dir, "layer.tar")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    copied = 0
    with tempfile.TemporaryFile() as err, os.fdopen(fd, "wb") as raw:
        try:
            proc = subprocess.Popen(
                [*cmd, "export", name], stdout=subprocess.PIPE, stderr=err, stdin=subprocess.DEVNULL
            )
        except OSError as exc:
            raise ExportError(f"{spec}: cannot run {cmd[0]} ({exc.strerror})") from None
        assert proc.stdout is not None
        try:
            with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as out:
                try:
                    with tarfile.open(fileobj=proc.stdout, mode="r|") as tin:
                        for m in tin:
                            p = _clean(m.name)
                            if p is None or p not in keep:
                                continue
                            out.addfile(m, tin.extractfile(m) if m.isreg() else None)
                            copied += 1
                except tarfile.TarError as exc:
                    proc.kill()
                    proc.wait()
                    err.seek(0)
                    why = _last_line(err.read(), proc.returncode or 0)
                    raise ExportError(f"{spec}: {cmd[0]} export is not a readable tar ({exc}; {why})") from None
                while proc.stdout.read(1 << 16):  # the end-of-archive padding: let the engine finish writing
                    pass
                for d in sorted(changes.deleted):
                    parent, base = d.rsplit("/", 1)
                    out.addfile(tarfile.TarInfo(f"{parent.lstrip('/')}/.wh.{base}".lstrip("/")))
        finally:
            proc.stdout.close()
            proc.wait()
        if proc.returncode != 0:
            err.seek(0)
            raise ExportError(f"{spec}: {cmd[0]} export failed: {_last_line(err.read(), proc.returncode)}")
    return path, copied
