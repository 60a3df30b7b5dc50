"""``layerscope report``'s text: a readable summary of the image, its layers,
waste and findings, laid out for the width of the output with Rich."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, TextIO

from ..fmt import human_size, percent, plural, short_command
from ..layout import Atom, Part, TrimmedWriter, digest_to_fit, fold, output_width
from ..merge import Merged
from ..model import CONTAINER_LAYER, Image
from ..textsafe import safe
from .figures import dive_parts
from .tables import Column, print_table

if TYPE_CHECKING:
    from rich.console import Console

    from .._core import LayerCounts
    from ..analysis import Analysis


def write_text(
    merged: Merged,
    out: TextIO,
    layer: int | None = None,
    color: bool | None = None,
    analysis: Analysis | None = None,
    top: int = 10,
    all_findings: bool = False,
    width: int | None = None,
    image_arg: str | None = None,
) -> None:
    """A readable summary with Rich: image, layers with size/command/counts,
    waste by cause, dive figures, top offenders, findings (base findings one
    line per rule unless ``all_findings``), warnings.

    Laid out for ``width`` (default :func:`output_width`): number columns keep
    their width; commands, then paths, are truncated to make room.
    ``image_arg`` is the image as the user typed it, for the ``ls`` hint.
    """
    from rich.console import Console

    from ..analysis import analyze
    from ..fixes import fixes
    from ..packages.index import build
    from .fixes import write_fixes

    a = analysis if analysis is not None else analyze(merged)
    k = merged.top if layer is None else layer
    w = width if width is not None else output_width(out)
    trimmed = TrimmedWriter(out)  # Rich pads each cell to its column: no line may end in spaces
    console = Console(file=trimmed, force_terminal=color, highlight=False, width=w)  # type: ignore[arg-type]
    _write_head(console, merged.image, w)
    console.print()
    print_table(console, _layer_columns(merged.image, a, k))
    console.print()
    _write_as_of(console, merged, k, layer, image_arg)
    _write_audit(console, a, top, all_findings, merged.image)
    write_fixes(console, fixes(a, build(merged)), merged.image)
    _write_warnings(console, merged.image)
    trimmed.close()


def _write_head(console: Console, image: Image, w: int) -> None:
    """The image's header: source, format, platform, config, layers, size, run."""
    from rich.table import Table
    from rich.text import Text

    cfg = image.config
    rows: list[tuple[str, str | list[Part]]] = [
        ("Image", [Atom(safe(image.source))]),
        ("Format", image.format),
        ("Ref", safe(image.ref or "-")),
    ]
    if image.container is not None:
        rows.append(("Container", _container_line(image)))
    rows.append(("Platform", image.platform or "-"))
    rows.append(("Config", image.config_digest or "-"))
    rows.append(("Layers", layers_text(image)))
    rows.append(("Size", f"{human_size(image.size_bytes)} of file content"))
    if cfg.entrypoint or cfg.cmd:
        rows.append(("Run", safe(" ".join((cfg.entrypoint or []) + (cfg.cmd or [])))))
    if cfg.user or cfg.workdir:
        rows.append(("User/Dir", safe(f"{cfg.user or 'root'}  {cfg.workdir or '/'}")))
    label_w = max(len(label) for label, _ in rows)
    room = max(1, w - label_w - 2)
    head = Table.grid(padding=(0, 2))
    head.add_column(style="bold", no_wrap=True)
    head.add_column(overflow="fold")
    for label, value in rows:
        if isinstance(value, str):
            # a digest is whole or short, never broken
            text = digest_to_fit(value, room) if label == "Config" else value
        else:  # a path moves whole to its own line (Rich folds only one longer than the column)
            text = "\n".join(fold(value, room, 0))
        head.add_row(label, Text(text))
    console.print(head)


def count_cells(c: LayerCounts) -> tuple[str, str, str, str, str]:
    """A layer's Add, Mod (type changes are modifications), Meta, Same and Del
    cells, as every layer table shows them."""
    return (str(c.added), str(c.modified + c.type_changed), str(c.metadata), str(c.rewritten), str(c.deleted))


def _layer_columns(image: Image, a: Analysis, k: int) -> list[Column]:
    """The layer table: one row per layer, layer k marked, damaged layers named."""
    from rich.text import Text

    cols = [
        Column("#", "right"),
        Column("Size", "right"),
        Column("Add", "right", "green"),
        Column("Mod", "right", "yellow"),
        Column("Meta", "right", "magenta"),
        Column("Same", "right", "cyan"),
        Column("Del", "right", "red"),
        Column("Waste", "right"),
        Column("Command", shrink=1, minimum=12, optional=True),
    ]
    damage = image.layer_damage()  # the layers ci refuses, marked as the TUI marks them
    for la in image.layers:
        c = la.counts
        mark = "▶" if la.index == k else ("b" if a.layers[la.index].base else "")
        mark += "C" if la.kind == CONTAINER_LAYER else ""
        cmd = short_command(la.command) or "-"
        if la.error:
            cmd = f"[DAMAGED: {safe(la.error)}] " + cmd
        elif la.index in damage:
            cmd = f"[{damage[la.index]}] " + cmd
        shipped = a.layers[la.index].shipped.total
        values = (
            f"{mark}{la.index}",
            human_size(la.size_bytes),
            *count_cells(c),
            human_size(shipped) if shipped else "-",
            cmd,
        )
        for col, v in zip(cols, values):
            col.cells.append(Text(v))
    return cols


def _write_as_of(console: Console, merged: Merged, k: int, layer: int | None, image_arg: str | None) -> None:
    """How many paths layer k shows and how many deleted ones still ship, with the ls hint."""
    hidden = sum(1 for _ in merged.hidden_at(k))
    live = sum(1 for _ in merged.files_at(k))
    _prose(
        console,
        [
            f"As of layer {k}: {plural(live, 'path')} visible, {plural(hidden, 'deleted path')} still ship"
            f"{'s' if hidden == 1 else ''} in lower layers"
        ],
    )
    target = _shell_word(image_arg if image_arg is not None else merged.image.source)
    layer_opt = "" if layer is None or k == merged.top else f" --layer {k}"
    _prose(
        console,
        ["  list them: layerscope ls ", Atom(target), layer_opt, " ", Atom("[--deleted | --changes]")],
        style="dim",
        indent=4,
    )


def _write_warnings(console: Console, image: Image) -> None:
    """Every load warning; those that mean part of the image was not read or checked marked ✗."""
    warnings = image.all_warnings()
    if not warnings:
        return
    console.print()
    _prose(console, [f"Warnings ({len(warnings)}):"], style="bold yellow")
    unverified = {w.message for w in warnings if w.unverified}
    for warning in warnings:
        if warning.unverified:  # some content was not read or not checked
            _prose(console, ["  ✗ " + safe(warning.message)], style="bold red", indent=4)
        else:
            _prose(console, ["  ! " + safe(warning.message)], style="yellow", indent=4)
    if unverified:
        _prose(
            console,
            [
                f"Not verified: {len(unverified)} of these (✗) mean part of the image was not read or not "
                "checked; `layerscope ci` exits 2 on them"
            ],
            style="bold red",
        )


def layers_text(image: Image) -> str:
    """``7 (+7 empty steps)``: the layers, and the history steps that made none (ENV, CMD…).

    The report's header and the UI's Details pane say it in these words.
    """
    empty = sum(1 for h in image.history if h.empty_layer)
    return f"{len(image.layers)} (+{plural(empty, 'empty step')})" if empty else str(len(image.layers))


def _prose(console: Console, parts: Sequence[str], style: str = "", indent: int = 2) -> None:
    """Print a sentence folded to the console's width (:func:`layerscope.layout.fold`):
    continuation lines indented, paths and sizes whole."""
    from rich.text import Text

    for line in fold(parts, console.width, indent):
        console.print(Text(line, style=style), soft_wrap=True)


def _container_line(image: Image) -> list[Part]:
    """``web (4558a5630b3a, running, podman); writable layer C7 read from /var/lib/…/diff``,
    in parts for :func:`~layerscope.layout.fold` (the directory whole)."""
    c = image.container
    assert c is not None
    top = image.label_of(len(image.layers) - 1)
    who = f"{c.name or '-'} ({', '.join(x for x in (c.id[:12], c.state, c.engine) if x)})" if c.engine else "-"
    head = safe(f"{who}; writable layer {top} ")
    if c.read_via == "upper-dir":
        return [head, "read from ", Atom(safe(c.upper_dir or ""))]
    return [head, safe(f"read through {c.engine} diff + export")]


def _shell_word(s: str) -> str:
    import shlex

    return shlex.quote(safe(s))


SEVERITY_STYLE = {"high": "bold red", "medium": "yellow", "low": "cyan", "info": "dim"}


def _write_audit(
    console: Console, a: Analysis, top: int, all_findings: bool = False, image: Image | None = None
) -> None:
    """Waste by cause, dive figures, top offenders and findings (Rich); ``image``
    names its layers (``C7`` for a container's writable layer)."""
    from rich.table import Table
    from rich.text import Text

    from ..analysis import CAUSES

    def a_label(i: int) -> str:
        return image.label_of(i) if image is not None else f"L{i}"

    w = a.waste
    console.print()
    console.print(Text("Waste", style="bold"))
    labels = {
        "overwritten": "overwritten by a later layer",
        "metadata": "copied up for a mode/owner/xattr change",
        "identical": "rewritten with identical bytes",
        "deleted": "deleted (whiteout/opaque/replaced), still in a lower layer",
    }
    base = a.base
    how = base.method + (f": {safe(base.ref)}" if base.ref else "")
    base_txt = f"{plural(base.layers, 'base layer')} ({how})" if base.layers else "no base layers marked"
    d = a.dive
    rows = [
        (
            "Wasted",
            human_size(w.total),
            f"{a.wasted_percent:.2f} % of {human_size(a.size_bytes)}; "
            f"efficiency {percent(a.efficiency)}; {plural(w.files, 'hidden file version')}",
        ),
        *((f"  {c}", human_size(w.by_cause[c]), labels[c]) for c in CAUSES if w.by_cause[c]),
        (
            "User",
            human_size(a.user_waste.total),
            f"{a.user_wasted_percent:.2f} % of {human_size(a.user_size_bytes)} in user layers; {base_txt}",
        ),
        ("dive", human_size(d.wasted_bytes), ["dive 0.13.1's figures: ", *dive_parts(d)]),
    ]
    # The sentences are folded here, not by Rich, so that a size keeps its unit.
    room = max(12, console.width - max(len(r[0]) for r in rows) - max(len(r[1]) for r in rows) - 4)
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(justify="right", no_wrap=True)
    grid.add_column(no_wrap=True, overflow="ignore")
    for label, size, text in rows:
        grid.add_row(label, size, Text("\n".join(fold([text] if isinstance(text, str) else text, room, 2))))
    console.print(grid)
    if a.top and top:
        console.print()
        cols = [
            Column("Size", "right"),
            Column("Cause"),
            Column("In", "right"),
            Column("By", "right"),
            Column("Path", shrink=2, minimum=16, tail=True),
            Column("Command (of By)", shrink=1, minimum=12, optional=True),
        ]
        shown = 0
        for it in a.top[:top]:
            if not it.size:
                continue
            shown += 1
            why = str(it.cause) if it.cause != "deleted" else f"deleted ({it.how})"
            values = (
                human_size(it.size),
                why,
                a_label(it.layer),
                a_label(it.by_layer),
                safe(it.path),
                short_command(it.command) or "-",
            )
            for col, v in zip(cols, values):
                col.cells.append(Text(v))
        _prose(console, [f"Top offenders (biggest hidden versions, {shown} shown)"], style="bold")
        print_table(console, cols)
    _write_findings(console, a, all_findings, image)


def _layer_span(layers: list[int]) -> str:
    return str(layers[0]) if len(layers) == 1 else f"{layers[0]}-{layers[-1]}"


def _write_findings(console: Console, a: Analysis, all_findings: bool, image: Image | None = None) -> None:
    """The findings table. Findings in base layers fold into one row per rule
    (``high`` ones excepted, see ``Analysis.findings_view``); their layer is
    marked ``b`` as in the layer table."""
    from rich.text import Text

    from ..analysis import FindingGroup

    console.print()
    if not a.findings:
        console.print(Text("Findings: none", style="bold"))
        return
    counts = a.findings_by_severity()
    summary = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
    view = a.findings_view(all_findings)
    nbase = sum(1 for f in a.findings if f.base)
    if nbase:
        folded = any(isinstance(x, FindingGroup) for x in view)
        summary += f"; {nbase} in base layers" + (", grouped: --all-findings lists them" if folded else "")
    _prose(console, [f"Findings ({summary})"], style="bold")
    cols = [
        Column("Severity"),
        Column("Rule"),
        Column("L", "right"),
        Column("Size", "right"),
        Column("Path", shrink=2, minimum=16, tail=True),
        Column("Detail / command", shrink=1, minimum=12, optional=True),
    ]
    for f in view:
        cols[0].cells.append(Text(f.severity, style=SEVERITY_STYLE.get(f.severity, "")))
        if isinstance(f, FindingGroup):
            values = (f.rule, "b" + _layer_span(f.layers), human_size(f.size), safe(f.summary), safe(f.title))
        else:
            path = safe(f.path) + (f" ({f.count} files)" if f.count > 1 else "")
            detail = safe(f.detail) if f.detail else short_command(f.command)
            num = image.label_of(f.layer).removeprefix("L") if image is not None else str(f.layer)
            values = (f.rule, ("b" if f.base else "") + num, human_size(f.size), path, detail or "-")
        for col, v in zip(cols[1:], values):
            col.cells.append(Text(v))
    print_table(console, cols)
