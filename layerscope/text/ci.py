"""``layerscope ci``'s text: the figures, each check, what failed, the result.

Every line goes through :func:`layerscope.layout.fold`, so it honours
``COLUMNS`` or the terminal as ``report`` and ``ls`` do: a line that does not
fit goes on over indented lines, paths and sizes whole, digests whole or (when
narrow) short.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, TextIO

from ..fmt import human_size, percent, plural
from ..layout import Atom, Keep, Part, write_folded
from ..textsafe import safe

if TYPE_CHECKING:
    from ..analysis import Analysis
    from ..gate import GateResult, Thresholds
    from ..merge import Merged

CI_SHOWN = 50  # failed findings, forbidden paths and problems listed one by one
NOTES_SHOWN = 20


def write_ci(out: TextIO, width: int, result: GateResult, merged: Merged, a: Analysis, th: Thresholds) -> None:
    """``layerscope ci``'s summary: the figures, each check, what failed, the result."""
    from ..gate import VERIFIED_CHECK, problem_line
    from .figures import dive_parts

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
