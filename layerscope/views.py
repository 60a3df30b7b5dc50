"""The text of ``ci``, ``diff`` and ``which``: what the CLI prints, fitted to the width.

The CLI parses and dispatches; these functions word and lay out. Every line
goes through :func:`layerscope.layout.fold`, so each command honours
``COLUMNS`` or the terminal as ``report`` and ``ls`` do: a line that does not
fit goes on over indented lines, paths and sizes whole, digests whole or (when
narrow) short.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, TextIO

from .fmt import human_size, mode_string, plural, short_command
from .layout import Atom, Keep, Part, digest_to_fit, keep_head, write_folded
from .model import Deletion, Entry
from .textsafe import safe

if TYPE_CHECKING:
    from .analysis import Analysis
    from .compare import Comparison
    from .gate import GateResult, Thresholds
    from .merge import Merged
    from .stacks import PathStack, WhichResult

CI_SHOWN = 50  # failed findings, forbidden paths and problems listed one by one
NOTES_SHOWN = 20


def write_ci(out: TextIO, width: int, result: GateResult, merged: Merged, a: Analysis, th: Thresholds) -> None:
    """``layerscope ci``'s summary: the figures, each check, what failed, the result."""
    from .gate import VERIFIED_CHECK, problem_line
    from .report import dive_parts, percent

    def put(parts: Sequence[Part], indent: int = 4) -> None:
        write_folded(out, parts, width, indent)

    image = merged.image
    put(["layerscope ci: ", Atom(safe(image.source)), "  (thresholds: ", Atom(safe(th.source)), ")"])
    put(
        [
            f"  wasted {human_size(a.waste.total)} ({a.wasted_percent:.2f} %), efficiency "
            f"{percent(a.efficiency)}, user wasted {human_size(a.user_waste.total)} "
            f"({a.user_wasted_percent:.2f} %)"
        ]
    )
    put(["  dive 0.13.1's figures: ", *dive_parts(a.dive)])
    for c in result.checks:
        put([f"  {'PASS' if c.passed else 'FAIL'}  {c.name}: ", safe(c.sentence)], 8)
        if c.name == VERIFIED_CHECK:
            for w in result.problems[:CI_SHOWN]:
                put(["        ", safe(problem_line(w))], 10)
            if len(result.problems) > CI_SHOWN:
                put([f"        ... {len(result.problems) - CI_SHOWN} more (--json lists all)"], 10)
    for f in result.failed_findings[:CI_SHOWN]:
        where = image.label_of(f.layer) + (" (base)" if f.base else "")
        put(
            [f"        {f.severity} {f.rule} {where} ", Atom(safe(f.path)), f" ({human_size(f.size)})"]
            + ([Keep(" ", safe(f.detail))] if f.detail else []),
            10,
        )
    if len(result.failed_findings) > CI_SHOWN:
        put([f"        ... {len(result.failed_findings) - CI_SHOWN} more"], 10)
    for p, k in result.forbidden_paths[:CI_SHOWN]:
        put([f"        {image.label_of(k)} ", Atom(safe(p))], 10)
    notes = result.notes
    if notes:
        put([f"  {plural(len(notes), 'other load warning')}:"])
        for note in notes[:NOTES_SHOWN]:
            put(["        ! ", safe(note)], 10)
        if len(notes) > NOTES_SHOWN:
            put([f"        ... {len(notes) - NOTES_SHOWN} more (layerscope report lists all)"], 10)
    if result.unverifiable:
        put(
            [
                f"Result: NOT VERIFIED ({plural(len(result.problems), 'problem')} above; --allow-damaged gates "
                "on what was read)"
            ]
        )
    else:
        put([f"Result: {'PASS' if result.passed else 'FAIL'}"])


def write_diff(out: TextIO, width: int, cmp: Comparison, a: Merged, b: Merged, limit: int) -> None:
    """``layerscope diff``'s summary: shared layers, then added ``+``, removed ``-``, changed ``~`` paths."""
    from .compare import ADDED, CHANGED, REMOVED

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


def write_which(out: TextIO, width: int, found: PathStack | WhichResult, labels: Sequence[str]) -> None:
    """``layerscope which``: one path's stack, or a glob's count and each stack."""
    from .stacks import PathStack

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
            if r.wasted:
                parts.append(Keep(f"  [wasted: {r.wasted.cause} by {name(r.wasted.by_layer)}]"))
            put(parts)
        if r.command:
            # the command is context: cut (marked …) to one line, as report cuts its commands
            out.write(" " * STACK_INDENT + keep_head(short_command(r.command), min(room, 100)) + "\n")
