"""Alpine's database, ``/lib/apk/db/installed``.

No maintained Python library reads it, so it is read here: stanzas split by a
blank line, ``X:value`` a line; ``P`` name, ``V`` version, ``A`` arch, ``F`` a
directory (relative to /), ``R`` a file in the last ``F``, ``Z`` the last
``R``'s checksum (``Q1`` + base64 of its SHA-1).
"""

from __future__ import annotations

import base64
import binascii

from .records import LIMITS, Ecosystem, Package, clip
from .view import LayerView

INSTALLED = "/lib/apk/db/installed"
STATE = "/lib/apk/db"  # apk's own state (packages/audit.py STATE)


def _digest(z: str) -> str | None:
    if not z.startswith("Q1"):
        return None
    try:
        return "sha1:" + base64.b64decode(z[2:], validate=True).hex()
    except (binascii.Error, ValueError):
        return None


def parse(data: bytes) -> list[Package]:
    out: list[Package] = []
    fields: dict[str, str] = {}
    files: list[str] = []
    digests: list[tuple[str, str]] = []
    cwd = ""

    def flush() -> None:
        if fields.get("P") and len(out) < LIMITS.packages:
            out.append(
                Package(
                    Ecosystem.APK,
                    clip(fields["P"]),
                    clip(fields.get("V", "")),
                    clip(fields.get("A", "")),
                    INSTALLED,
                    tuple(files),
                    tuple(digests),
                )
            )

    for line in data.decode("utf-8", "surrogateescape").split("\n"):
        if not line.strip():
            flush()
            fields, files, digests, cwd = {}, [], [], ""
            continue
        key, sep, value = line.partition(":")
        if not sep or len(key) != 1:
            continue  # not a field line: skipped, as apk does
        if key == "F":
            cwd = "/" + value.strip("/")
            files.append(cwd)
        elif key == "R":
            files.append(f"{cwd.rstrip('/')}/{value}")
        elif key == "Z" and files:
            d = _digest(value)
            if d is not None:
                digests.append((files[-1], d))
        elif key not in fields:
            fields[key] = value
    flush()
    return out


def read(view: LayerView) -> list[Package]:
    return view.parsed(INSTALLED, LIMITS.db_bytes, parse) or []
