"""The fixes in words: what to change in which layer, and what it saves.

Folded to the output's width (paths and sizes whole); the model's names
are escaped before they reach the terminal.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from ..fixes import FixKind
from ..fmt import human_size
from ..layout import Atom, Keep, Part, fold
from ..textsafe import safe

if TYPE_CHECKING:
    from rich.console import Console

    from ..fixes import Fix, Fixes
    from ..model import Image

FIXES_SHOWN = 10
_CODE = re.compile(r"(`[^`]*`)")
_LAYER = re.compile(r"(layers? \d+)")
_PATHS_SHOWN = 3


def _parts(text: str, room: int) -> list[Part]:
    """``text`` for :func:`fold`: a `code` span that fits in ``room`` cells
    is never split (a longer one flows as words), nor is "layer 12"."""
    out: list[Part] = []
    for p in _CODE.split(text):
        if not p:
            continue
        if p.startswith("`") and p.endswith("`") and 1 < len(p) <= room:
            out.append(Atom(p))
            continue
        for q in _LAYER.split(p):
            if _LAYER.fullmatch(q):
                word, num = q.split(" ")
                out.append(Keep(word + " ", num))
            elif q:
                out.append(q)
    return out


def fix_lines(fix: Fix, n: int, label: str, width: int) -> list[str]:
    """One fix as lines: what the layers do, the change, the paths."""
    saves = "exposed secret" if fix.severity else f"saves {human_size(fix.saves)}"
    head: list[Part] = [f"{n:>2}. {label}  {saves}: ", *_parts(safe(fix.why), width - 6)]
    lines = fold(head, width, 6)
    lines += fold(["      change: ", *_parts(safe(fix.change), width - 14)], width, 14)
    shown = [Atom(safe(p)) for p in fix.paths[:_PATHS_SHOWN]]
    if fix.kind is FixKind.CACHE:  # its path is the cache's root
        lines += fold(["      paths: ", *shown, f" ({fix.files} file{'s' if fix.files != 1 else ''})"], width, 13)
    elif shown:
        parts: list[Part] = ["      paths: "]
        for i, p in enumerate(shown):
            parts += [", " if i else "", p]
        more = fix.files - len(shown)
        if more > 0:
            parts.append(f" and {more} more")
        lines += fold(parts, width, 13)
    return lines


def headline(fx: Fixes) -> str:
    n = len(fx.user)
    if not n:
        return "Fixes: none in the user's layers"
    return (
        f"Fixes: {n} change{'s' if n != 1 else ''} save {human_size(fx.fixable_bytes)} of "
        f"{human_size(fx.size_bytes)} ({human_size(fx.after())} after all)"
    )


def write_fixes(console: Console, fx: Fixes, image: Image, shown: int = FIXES_SHOWN) -> None:
    """The user's fixes, ranked (secrets first), then one line for the base's."""
    from rich.text import Text

    console.print()
    for line in fold([headline(fx)], console.width, 2):
        console.print(Text(line, style="bold"), soft_wrap=True)
    user = fx.user
    for i, f in enumerate(user[:shown], 1):
        label = image.label_of(f.layer)
        style = "bold red" if f.severity else ""
        for j, line in enumerate(fix_lines(f, i, label, console.width)):
            console.print(Text(line, style=style if j == 0 else ""), soft_wrap=True)
    if len(user) > shown:
        console.print(Text(f"  … {len(user) - shown} more (report --json lists every fix)"), soft_wrap=True)
    if fx.base:
        n = len(fx.base)
        text = (
            f"In the base image: {n} fix{'es' if n != 1 else ''} would save {human_size(fx.base_bytes)}; "
            "nothing to change here but the base"
        )
        secrets = sum(1 for f in fx.base if f.severity)
        if secrets:
            what = "is a secret that still ships" if secrets == 1 else "are secrets that still ship"
            text += f" ({secrets} of them {what}: see Findings)"
        for line in fold(["  " + text], console.width, 4):
            console.print(Text(line), soft_wrap=True)
