"""Build tools left in a final image: compilers, build systems and ``-dev``
packages an OS package manager installed.

A runtime image needs none of them; a multi-stage build keeps them in the
stage that compiles. The names are the distributions' own (Debian, Fedora
and RHEL, Alpine); a language package is never one (pip's ``setuptools`` is
how many programs run).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..merge import Merged
from ..model import FILE
from .index import Key, PackageIndex
from .records import Ecosystem, Package

BUILD_TOOL = re.compile(
    r"""^(?:
        (?:gcc|g\+\+|cpp|gfortran|gccgo)(?:-\d+)?(?:-[a-z0-9_]+-linux-gnu)?   # compilers (not gcc-12-base)
      | gcc-c\+\+ | build-essential | build-base | alpine-sdk | dpkg-dev
      | make | cmake | ninja-build | ninja | meson | autoconf | automake | libtool | m4
      | bison | flex | pkg-config | pkgconf | pkgconfig
      | binutils(?:-[a-z0-9_-]+)? | clang(?:-\d+)? | llvm(?:-\d+)? | lld(?:-\d+)?
      | golang(?:-\d+(?:\.\d+)?)?(?:-go)? | go | rustc | cargo
      | kernel-headers | linux-libc-dev | linux-headers(?:-[a-z0-9._-]+)?
      | [a-z0-9.+_-]+-(?:dev|devel)
    )$""",
    re.X,
)
_OS = (Ecosystem.DEB, Ecosystem.RPM, Ecosystem.APK)


def is_build_tool(pkg: Package) -> bool:
    return pkg.ecosystem in _OS and BUILD_TOOL.match(pkg.name) is not None


@dataclass(frozen=True, slots=True)
class BuildTools:
    """The build tools one layer installed that are still there at layer k."""

    layer: int
    packages: tuple[Package, ...]  # by bytes, largest first
    bytes: int  # of their files as the tree holds them at k
    files: int


def build_tools(merged: Merged, ix: PackageIndex, k: int) -> list[BuildTools]:
    """Per installing layer, the build tools still installed at layer ``k``
    and the bytes of their files there (a file counts for its owner alone)."""
    tools = {key: p for key, p in ix.at(k).items() if is_build_tool(p)}
    if not tools:
        return []
    size: dict[Key, int] = dict.fromkeys(tools, 0)
    count: dict[Key, int] = dict.fromkeys(tools, 0)
    for path, owner in ix.owners_at(k).items():
        if owner.key not in size:
            continue
        e = merged.entry_at(path, k)
        if e is not None and e.type == FILE:
            size[owner.key] += e.size
            count[owner.key] += 1
    by_layer: dict[int, list[Package]] = {}
    for p in tools.values():
        by_layer.setdefault(ix.first_layer(p, k), []).append(p)
    out = []
    for layer, pkgs in sorted(by_layer.items()):
        pkgs.sort(key=lambda p: (-size[p.key], p.name))
        out.append(
            BuildTools(
                layer,
                tuple(pkgs),
                sum(size[p.key] for p in pkgs),
                sum(count[p.key] for p in pkgs),
            )
        )
    return out
