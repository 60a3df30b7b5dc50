"""``report --markdown`` and ``ci --markdown``: GitHub-flavoured Markdown for a
pull-request comment or a job summary.

A PR comment holds at most 65,536 characters, so the long lists (findings,
offenders, fixes) sit in folded ``<details>`` sections and are cut, with a
count of what was left out, until the whole fits. Every name from the image
(paths, commands, the source) goes through :func:`md`: control bytes and
undecodable bytes as ``\\xNN``, Markdown's specials backslash-escaped, HTML's
as entities, so no name can open a link, a tag, a mention or a table cell.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from ..fmt import human_size, percent, plural, short_command
from ..textsafe import safe
from .report import count_cells

if TYPE_CHECKING:
    from ..analysis import Analysis
    from ..fixes import Fixes
    from ..gate import GateResult
    from ..merge import Merged

LIMIT = 65_536  # GitHub's limit on a comment's body, in characters
_CAPS = (200, 50, 10, 0)  # rows of each long list, tried in turn until the document fits
# Markdown's ASCII punctuation that can start markup (HTML's &<>"' are left to entities;
# a backslash before them would print the entity), plus @ (mentions) and : (emoji).
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~:@$])")


def md(text: str) -> str:
    """A name from the image as inert Markdown text (for a paragraph or a table cell)."""
    return html.escape(_MD_SPECIAL.sub(r"\\\1", safe(text)), quote=True)


def _row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def table(head: Sequence[str], rows: Sequence[Sequence[str]], right: Sequence[int] = ()) -> list[str]:
    """A GFM table (the cells already escaped); columns in ``right`` right-aligned."""
    rule = ["---:" if i in right else "---" for i in range(len(head))]
    return [_row(head), _row(rule), *(_row(r) for r in rows)]


def details(summary: str, body: list[str]) -> list[str]:
    """A folded section: GitHub renders the Markdown inside when blank lines surround it."""
    return ["<details>", f"<summary>{summary}</summary>", "", *body, "", "</details>", ""]


def _more(shown: int, total: int, what: str) -> list[str]:
    return [] if shown >= total else ["", f"… {plural(total - shown, what)} more (`report --json` lists all)"]


def _head(merged: Merged, a: Analysis) -> list[str]:
    image = merged.image
    return table(
        ["Image", md(image.source)],
        [
            ["Layers", str(len(image.layers))],
            ["Size", human_size(a.size_bytes)],
            ["Wasted", f"{human_size(a.waste.total)} ({a.wasted_percent:.2f} %)"],
            ["Efficiency", percent(a.efficiency)],
            ["User wasted", f"{human_size(a.user_waste.total)} ({a.user_wasted_percent:.2f} %)"],
            ["Findings", ", ".join(f"{n} {s}" for s, n in a.findings_by_severity().items() if n) or "none"],
        ],
    )


def _layers(merged: Merged, a: Analysis) -> list[str]:
    rows = []
    for la, lw in zip(merged.image.layers, a.layers):
        c = la.counts
        label = la.label + (" (base)" if lw.base else "")
        cmd = md(short_command(la.command, 120) or "-")
        if la.error:
            cmd = "**DAMAGED:** " + md(la.error) + " " + cmd
        rows.append(
            [
                label,
                human_size(la.size_bytes),
                *count_cells(c),
                human_size(lw.shipped.total) if lw.shipped.total else "-",
                cmd,
            ]
        )
    head = ["Layer", "Size", "Add", "Mod", "Meta", "Same", "Del", "Waste", "Command"]
    return table(head, rows, right=range(1, 8))


def _waste(a: Analysis) -> list[str]:
    from ..analysis import CAUSES

    rows = [[c, human_size(a.waste.by_cause[c]), str(a.waste.by_cause[c])] for c in CAUSES if a.waste.by_cause[c]]
    rows.append(["**total**", human_size(a.waste.total), str(a.waste.total)])
    return table(["Cause", "Wasted", "Bytes"], rows, right=(1, 2))


def _findings(merged: Merged, a: Analysis, cap: int) -> list[str]:
    rows = [
        [
            f.severity,
            md(f.rule),
            merged.image.label_of(f.layer) + (" (base)" if f.base else ""),
            human_size(f.size),
            md(f.path) + (f" ({f.count} files)" if f.count > 1 else ""),
            md(f.detail or short_command(f.command, 80) or "-"),
        ]
        for f in a.findings[:cap]
    ]
    out = table(["Severity", "Rule", "Layer", "Size", "Path", "Detail / command"], rows, right=(3,))
    return out + _more(len(rows), len(a.findings), "finding")


def _offenders(merged: Merged, a: Analysis, cap: int) -> list[str]:
    items = [it for it in a.top if it.size][:cap]
    label = merged.image.label_of
    rows = [[human_size(it.size), str(it.cause), label(it.layer), label(it.by_layer), md(it.path)] for it in items]
    return table(["Size", "Cause", "In", "By", "Path"], rows, right=(0,))


def _fixes(merged: Merged, fx: Fixes, cap: int) -> list[str]:
    rows = [
        [
            human_size(f.saves),
            merged.image.label_of(f.layer) + (" (base)" if f.base else ""),
            md(f.kind.value),
            md(f.change),
            str(f.files),
        ]
        for f in fx.fixes[:cap]
    ]
    out = table(["Saves", "Layer", "Kind", "Change", "Files"], rows, right=(0, 4))
    return out + _more(len(rows), len(fx.fixes), "fix")


def _body(merged: Merged, a: Analysis, cap: int) -> list[str]:
    """The report's sections, each long list cut at ``cap`` rows."""
    from ..fixes import fixes
    from ..packages.index import build

    fx = fixes(a, build(merged))
    out = [*_head(merged, a), "", "**Layers**", "", *_layers(merged, a), ""]
    out += details(f"Waste by cause: {human_size(a.waste.total)}", _waste(a))
    if a.findings:
        out += details(f"Findings ({len(a.findings)})", _findings(merged, a, cap))
    if any(it.size for it in a.top):
        out += details("Top offenders (biggest hidden versions)", _offenders(merged, a, cap))
    if fx.fixes:
        summary = f"Fixes ({len(fx.user)}): save {human_size(fx.fixable_bytes)} of {human_size(fx.size_bytes)}"
        out += details(summary, _fixes(merged, fx, cap))
    return out


def _fit(build: Callable[[int], list[str]]) -> str:
    """The longest version under :data:`LIMIT`: the long lists cut shorter and shorter."""
    text = ""
    for cap in _CAPS:
        text = "\n".join(build(cap)).rstrip("\n") + "\n"
        if len(text) <= LIMIT:
            return text
    cut = "\n\n… cut to fit a comment (`report --json` has it all)\n"
    return text[: LIMIT - len(cut)].rsplit("\n", 1)[0] + cut


def report_markdown(merged: Merged, a: Analysis) -> str:
    """``report --markdown``: the summary as a PR comment."""
    return _fit(lambda cap: ["## layerscope report", "", *_body(merged, a, cap)])


def ci_markdown(result: GateResult, merged: Merged, a: Analysis) -> str:
    """``ci --markdown`` (and the job summary): the verdict, each check, then the report."""
    verdict = "NOT VERIFIED" if result.unverifiable else ("PASS" if result.passed else "FAIL")
    icon = {"PASS": "✅", "FAIL": "❌"}.get(verdict, "⚠️")
    checks = table(
        ["Check", "Result", "What"],  # the sentence has the figure and its limit, as people read them
        [[md(c.name), "pass" if c.passed else "**FAIL**", md(c.sentence)] for c in result.checks],
    )

    def build(cap: int) -> list[str]:
        out = [f"## {icon} layerscope ci: {verdict}", "", *checks, ""]
        if result.forbidden_paths:
            rows = [[merged.image.label_of(k), md(p)] for p, k in result.forbidden_paths[:cap]]
            out += details(f"Forbidden paths ({len(result.forbidden_paths)})", table(["Layer", "Path"], rows))
        return out + _body(merged, a, cap)

    return _fit(build)
