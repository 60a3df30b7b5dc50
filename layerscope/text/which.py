"""``layerscope which``'s text: a path's versions layer by layer, or the paths a glob matches.

Every line goes through :func:`layerscope.layout.fold`, so it honours
``COLUMNS`` or the terminal as ``report`` and ``ls`` do: a line that does not
fit goes on over indented lines, paths and sizes whole, digests whole or (when
narrow) short.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, TextIO

from ..fmt import human_size, mode_string, plural, short_command
from ..layout import Atom, Keep, Part, keep_head, write_folded
from ..model import Deletion, Entry
from ..textsafe import safe

if TYPE_CHECKING:
    from ..stacks import PathStack, WhichResult


def write_which(out: TextIO, width: int, found: PathStack | WhichResult, labels: Sequence[str]) -> None:
    """``layerscope which``: one path's stack, or a glob's count and each stack."""
    from ..stacks import PathStack

    if isinstance(found, PathStack):
        write_stack(out, width, found, labels)
        return
    shown = len(found.stacks)
    more = f"; the first {shown} shown (--limit 0 for all)" if shown < found.matched else ""
    verb = "matches" if found.matched == 1 else "match"
    write_folded(out, [f"{plural(found.matched, 'path')} {verb} ", Atom(safe(found.pattern)), more], width)
    for st in found.stacks:
        out.write("\n")
        write_stack(out, width, st, labels)


STACK_INDENT = 9  # where a row's command, and a row's continuation, start


def write_stack(out: TextIO, width: int, st: PathStack, labels: Sequence[str] = ()) -> None:
    """A path's version stack; ``labels`` names the layers (``C7`` for a container's writable layer)."""

    def name(n: int) -> str:
        return labels[n] if 0 <= n < len(labels) else f"L{n}"

    def put(parts: Sequence[Part], indent: int = STACK_INDENT) -> None:
        write_folded(out, parts, width, indent)

    where = "visible" if st.visible_at_top else "deleted"
    put([Atom(safe(st.path)), f"  ({plural(len(st.rows), 'event')}; {where} at the top)"], 4)
    room = max(12, width - STACK_INDENT)
    for r in st.rows:
        ev = r.event
        if type(ev) is Deletion:
            put([f"  {name(ev.layer):<4} {'deleted':<12} by {ev.how} (", Atom(safe(ev.cause)), ")"])
        else:
            assert type(ev) is Entry
            parts: list[Part] = [
                f"{'*' if r.visible else ' '} {name(ev.layer):<4} {ev.change:<12} {ev.type:<8} "
                f"{mode_string(ev.type, ev.mode)} {ev.uid}:{ev.gid} ",
                f"{human_size(ev.size):>8}",
            ]
            if ev.digest is not None:
                parts.append(f" {ev.digest.hex()[:12]}")
            if ev.link:
                parts += [" ", Atom("-> " + safe(ev.link))]  # the arrow stays with its target
            if ev.implicit:
                parts.append(" (implicit parent)")
            if r.owner_known:
                parts += [" ", Keep("pkg ", Atom(safe(r.owner or "none")))]
            if r.wasted:
                parts.append(Keep(f"  [wasted: {r.wasted.cause} by {name(r.wasted.by_layer)}]"))
            put(parts)
        if r.command:
            # the command is context: cut (marked …) to one line, as report cuts its commands
            out.write(" " * STACK_INDENT + keep_head(short_command(r.command), min(room, 100)) + "\n")
