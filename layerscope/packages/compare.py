"""Two images' packages: what ``diff A B`` lists before its paths.

An auditor comparing a rebuilt image with the one in production asks first
which packages moved (an upgraded openssl explains a thousand changed paths),
then which files. The comparison is of the packages as of each image's top
layer, keyed as the index keys them (ecosystem, name, arch).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .index import How, PackageIndex, compare_versions
from .records import Package


@dataclass(frozen=True, slots=True)
class PackageDiff:
    how: How  # added, removed, upgraded or downgraded (from A to B)
    a: Package | None
    b: Package | None

    @property
    def package(self) -> Package:
        p = self.b if self.b is not None else self.a
        assert p is not None
        return p

    def to_dict(self) -> dict[str, Any]:
        p = self.package
        return {
            "how": str(self.how),
            "ecosystem": str(p.ecosystem),
            "name": p.name,
            "arch": p.arch,
            "a": None if self.a is None else self.a.version,
            "b": None if self.b is None else self.b.version,
        }


def package_diff(a: PackageIndex, b: PackageIndex) -> list[PackageDiff]:
    """The packages that differ between A's top and B's top, by ecosystem and name."""
    pa = a.at(a.merged.top)
    pb = b.at(b.merged.top)
    out: list[PackageDiff] = []
    for key, old in pa.items():
        new = pb.get(key)
        if new is None:
            out.append(PackageDiff(How.REMOVED, old, None))
        elif new.version != old.version:
            up = compare_versions(old.version, new.version, new.ecosystem) < 0
            out.append(PackageDiff(How.UPGRADED if up else How.DOWNGRADED, old, new))
    out += [PackageDiff(How.ADDED, None, new) for key, new in pb.items() if key not in pa]
    return sorted(out, key=lambda d: (d.package.ecosystem, d.package.name, d.package.arch))
