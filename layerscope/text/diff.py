"""``layerscope diff``'s text: what differs between two images, path by path.

Every line goes through :func:`layerscope.layout.fold`, so it honours
``COLUMNS`` or the terminal as ``report`` and ``ls`` do: a line that does not
fit goes on over indented lines, paths and sizes whole, digests whole or (when
narrow) short.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, TextIO

from ..fmt import human_size, plural
from ..layout import Atom, Keep, Part, digest_to_fit, write_folded
from ..textsafe import safe

if TYPE_CHECKING:
    from ..compare import Comparison
    from ..merge import Merged


def write_diff(out: TextIO, width: int, cmp: Comparison, a: Merged, b: Merged, limit: int) -> None:
    """``layerscope diff``'s summary: shared layers, then added ``+``, removed ``-``, changed ``~`` paths."""
    from ..compare import ADDED, CHANGED, REMOVED

    def put(parts: Sequence[Part], indent: int = 4) -> None:
        write_folded(out, parts, width, indent)

    t = cmp.totals()
    put(["A: ", Atom(safe(cmp.a_source)), f" ({plural(len(a.image.layers), 'layer')})"])
    put(["B: ", Atom(safe(cmp.b_source)), f" ({plural(len(b.image.layers), 'layer')})"])
    put(
        [
            f"Shared layers: {len(cmp.shared)} ({cmp.shared_prefix} leading); only in A: "
            f"{len(cmp.only_a)}; only in B: {len(cmp.only_b)}"
        ]
    )
    for m in cmp.shared:
        lead = f"  A L{m.a} = B L{m.b}  "
        digest = m.diff_id or "-"
        put([lead, Atom(digest_to_fit(digest, width - len(lead)))])
    if cmp.packages is not None:
        _write_packages(put, cmp, limit)
    sign = "+" if t["changed_bytes_delta"] >= 0 else ""
    put(
        [
            f"Paths: {t['added']} added ({human_size(t['added_bytes'])}), {t['removed']} removed "
            f"({human_size(t['removed_bytes'])}), {t['changed']} changed "
            f"({sign}{human_size(t['changed_bytes_delta'])})"
        ]
    )
    mark = {ADDED: "+", REMOVED: "-", CHANGED: "~"}
    for kind in (ADDED, REMOVED, CHANGED):
        items = cmp.of_kind(kind)
        shown = items if limit <= 0 else items[:limit]
        for p in shown:
            e = p.b if p.b is not None else p.a
            assert e is not None
            if kind == CHANGED:
                assert p.a is not None and p.b is not None
                # a symlink that became a file says so: the type of each side when it changed
                typ = p.b.type if p.a.type == p.b.type else f"{p.a.type} -> {p.b.type}"
                size = f"{human_size(p.size_a)} -> {human_size(p.size_b)}"
            else:
                typ = e.type
                size = human_size(p.size_b if kind != REMOVED else p.size_a)
            what = [Keep(f"  [{', '.join(p.what)}]")] if p.what else []
            put([f"{mark[kind]} ", Atom(safe(p.path)), Keep(f"  {typ}"), Keep(f"  {size}"), *what])
        if len(shown) < len(items):
            put([f"{mark[kind]} ... {plural(len(items) - len(shown), f'more {kind} path')} (--limit 0 for all)"])


_PACKAGE_MARK = {"added": "+", "removed": "-", "upgraded": "^", "downgraded": "v"}


def _write_packages(put: Callable[..., None], cmp: Comparison, limit: int) -> None:
    """The packages that moved from A to B, before the paths they explain."""
    assert cmp.packages is not None
    counts = {how: sum(1 for d in cmp.packages if d.how == how) for how in _PACKAGE_MARK}
    put(["Packages: " + ", ".join(f"{n} {how}" for how, n in counts.items())])
    shown = cmp.packages if limit <= 0 else cmp.packages[:limit]
    for d in shown:
        p = d.package
        if d.a is not None and d.b is not None:
            versions = f"{d.a.version} -> {d.b.version}"
        else:
            versions = p.version
        put([f"{_PACKAGE_MARK[d.how]} ", Atom(safe(f"{p.ecosystem}:{p.name}")), Keep("  ", safe(versions))])
    if len(shown) < len(cmp.packages):
        put([f"  ... {plural(len(cmp.packages) - len(shown), 'more package')} (--limit 0 for all)"])
