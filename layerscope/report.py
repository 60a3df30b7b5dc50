"""The headless views of a merged image: the JSON document and a text summary.

``layerscope.report/1`` is a public interface scripts depend on: fields are
only ever added, never renamed or dropped.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, TextIO

from .fmt import human_size, short_command
from .merge import Merged
from .model import Deletion, Entry, Image, Layer
from .textsafe import safe

if TYPE_CHECKING:
    from .analysis import Analysis

SCHEMA = "layerscope.report/1"
_CHUNK = 4096  # objects encoded per json.dumps call: C speed, bounded memory


def version_obj(e: Entry) -> dict[str, Any]:
    return {
        "layer": e.layer,
        "type": e.type,
        "mode": e.mode,
        "uid": e.uid,
        "gid": e.gid,
        "size": e.size,
        "digest": e.digest_str,
        "change": e.change,
    }


def file_obj(merged: Merged, e: Entry) -> dict[str, Any]:
    versions = merged.versions_below(e)
    return {
        "path": e.path,
        "type": e.type,
        "mode": e.mode,
        "uid": e.uid,
        "gid": e.gid,
        "size": e.size,
        "link": e.link,
        "digest": e.digest_str,
        "layer": e.layer,
        "change": e.change,
        "mtime": e.mtime,
        "xattrs": {k: v.decode("utf-8", "backslashreplace") for k, v in e.xattrs.items()} if e.xattrs else None,
        "versions": [version_obj(v) for v in versions],
    }


_esc = json.encoder.encode_basestring_ascii  # type: ignore[attr-defined]


def _version_json(v: Entry) -> str:
    digest = '"sha256:' + v.digest.hex() + '"' if v.digest is not None else "null"
    return (
        f'{{"layer":{v.layer},"type":"{v.type}","mode":{v.mode},"uid":{v.uid},"gid":{v.gid},'
        f'"size":{v.size},"digest":{digest},"change":"{v.change}"}}'
    )


def file_json(merged: Merged, e: Entry) -> str:
    """``json.dumps(file_obj(...))``, compact, built directly: this runs per path.

    A test holds it equal to the dict form on real and hostile names.
    """
    tl = merged.events.get(e.path)
    versions = "[]" if type(tl) is not list else "[" + ",".join(map(_version_json, merged.versions_below(e))) + "]"
    digest = '"sha256:' + e.digest.hex() + '"' if e.digest is not None else "null"
    link = "null" if e.link is None else _esc(e.link)
    xattrs = (
        json.dumps({k: v.decode("utf-8", "backslashreplace") for k, v in e.xattrs.items()}, separators=(",", ":"))
        if e.xattrs
        else "null"
    )
    return (
        f'{{"path":{_esc(e.path)},"type":"{e.type}","mode":{e.mode},"uid":{e.uid},"gid":{e.gid},'
        f'"size":{e.size},"link":{link},"digest":{digest},"layer":{e.layer},"change":"{e.change}",'
        f'"mtime":{e.mtime},"xattrs":{xattrs},"versions":{versions}}}'
    )


def hidden_obj(d: Deletion, versions: list[Entry]) -> dict[str, Any]:
    return {
        "path": d.path,
        "deleted_in": d.layer,
        "how": d.how,
        "cause": d.cause,
        "versions": [version_obj(v) for v in versions],
    }


def layer_obj(layer: Layer) -> dict[str, Any]:
    c = layer.counts
    return {
        "index": layer.index,
        "digest": layer.digest or layer.computed_digest,
        "diff_id": layer.diff_id or layer.computed_diff_id,
        "media_type": layer.media_type or _media_type(layer),
        "compression": layer.compression,
        "compressed_bytes": layer.compressed_bytes,
        "uncompressed_bytes": layer.uncompressed_bytes,
        "size_bytes": layer.size_bytes,
        "command": layer.command,
        "created": layer.created,
        "entries": c.entries,
        "added": c.added,
        "modified": c.modified,
        "metadata": c.metadata,
        "rewritten": c.rewritten,
        "type_changed": c.type_changed,
        "deleted": c.deleted,
        "dirs_rewritten": c.dirs_rewritten,
        "whiteouts": len(layer.whiteouts),
        "opaque_dirs": len(layer.opaque_dirs),
        "error": layer.error,
    }


def _media_type(layer: Layer) -> str:
    base = "application/vnd.oci.image.layer.v1.tar"
    return {"gzip": base + "+gzip", "zstd": base + "+zstd"}.get(layer.compression, base)


def image_obj(image: Image) -> dict[str, Any]:
    cfg = image.config
    return {
        "source": image.source,
        "format": image.format,
        "ref": image.ref,
        "platform": image.platform,
        "config_digest": image.config_digest,
        "layer_count": len(image.layers),
        "size_bytes": image.size_bytes,
        "created": cfg.created,
        "config": {
            "env": cfg.env,
            "entrypoint": cfg.entrypoint,
            "cmd": cfg.cmd,
            "user": cfg.user,
            "workdir": cfg.workdir,
            "labels": cfg.labels,
            "exposed_ports": cfg.exposed_ports,
            "volumes": cfg.volumes,
        },
        "history": [
            {"created_by": h.created_by, "created": h.created, "empty_layer": h.empty_layer, "layer": h.layer}
            for h in image.history
        ],
        "warnings": list(image.warnings),
    }


def _encode_seq(items: Iterator[dict[str, Any]], out: TextIO) -> None:
    """Write a JSON array without building it whole, encoding in chunks."""
    out.write("[")
    first = True
    buf: list[dict[str, Any]] = []

    def flush() -> None:
        nonlocal first
        if not buf:
            return
        text = json.dumps(buf, separators=(",", ":"))[1:-1]
        out.write(text if first else "," + text)
        first = False
        buf.clear()

    for item in items:
        buf.append(item)
        if len(buf) >= _CHUNK:
            flush()
    flush()
    out.write("]")


def write_json(merged: Merged, out: TextIO, layer: int | None = None, analysis: Analysis | None = None) -> None:
    """The whole model as ``layerscope.report/1``.

    Added by the audit (fields only ever added): ``image.waste`` (layerscope's
    accounting, per cause, user share, base layers, top offenders),
    ``image.dive`` (dive 0.13.1 figures), ``image.findings`` (counts per
    severity), ``layers[].waste`` and ``layers[].base``, and the top-level
    ``findings`` array.
    """
    from .analysis import analyze

    image = merged.image
    k = merged.top if layer is None else layer
    a = analysis if analysis is not None else analyze(merged)
    img = image_obj(image)
    img["waste"] = a.to_dict()
    img["dive"] = a.dive.to_dict()
    img["findings"] = a.findings_by_severity()
    layers = []
    for la, lw in zip(image.layers, a.layers):
        obj = layer_obj(la)
        obj["base"] = lw.base
        obj["waste"] = lw.to_dict()
        layers.append(obj)
    head = {
        "schema": SCHEMA,
        "as_of_layer": k,
        "image": img,
        "layers": layers,
        "findings": [f.to_dict() for f in a.findings],
    }
    text = json.dumps(head, separators=(",", ":"))
    out.write(text[:-1] + ',"files":[')
    batch: list[str] = []
    first = True
    for e in merged.files_at(k):
        batch.append(file_json(merged, e))
        if len(batch) >= _CHUNK:
            out.write(("" if first else ",") + ",".join(batch))
            first = False
            batch.clear()
    if batch:
        out.write(("" if first else ",") + ",".join(batch))
    out.write("]")
    out.write(',"hidden":')
    _encode_seq((hidden_obj(d, v) for d, v in merged.hidden_at(k)), out)
    out.write("}\n")


def write_text(
    merged: Merged,
    out: TextIO,
    layer: int | None = None,
    color: bool | None = None,
    analysis: Analysis | None = None,
    top: int = 10,
) -> None:
    """A readable summary with Rich: image, layers with size/command/counts,
    waste by cause, dive figures, top offenders, findings, warnings."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from .analysis import analyze

    a = analysis if analysis is not None else analyze(merged)
    image = merged.image
    k = merged.top if layer is None else layer
    console = Console(file=out, force_terminal=color, highlight=False, width=None if out.isatty() else 160)
    cfg = image.config
    head = Table.grid(padding=(0, 2))
    head.add_column(style="bold")
    head.add_column()
    head.add_row("Image", Text(safe(image.source)))
    head.add_row("Format", Text(image.format))
    head.add_row("Ref", Text(safe(image.ref or "-")))
    head.add_row("Platform", Text(image.platform or "-"))
    head.add_row("Config", Text(image.config_digest or "-"))
    head.add_row(
        "Layers", Text(f"{len(image.layers)} ({sum(1 for h in image.history if h.empty_layer)} empty history entries)")
    )
    head.add_row("Size", Text(f"{human_size(image.size_bytes)} of file content"))
    if cfg.entrypoint or cfg.cmd:
        head.add_row("Run", Text(safe(" ".join((cfg.entrypoint or []) + (cfg.cmd or [])))))
    if cfg.user or cfg.workdir:
        head.add_row("User/Dir", Text(safe(f"{cfg.user or 'root'}  {cfg.workdir or '/'}")))
    console.print(head)

    table = Table(title=None, expand=False, show_edge=False, pad_edge=False)
    table.add_column("#", justify="right")
    table.add_column("Size", justify="right")
    table.add_column("Add", justify="right", style="green")
    table.add_column("Mod", justify="right", style="yellow")
    table.add_column("Meta", justify="right", style="magenta")
    table.add_column("Same", justify="right", style="cyan")
    table.add_column("Del", justify="right", style="red")
    table.add_column("Waste", justify="right")
    table.add_column("Command", no_wrap=True, overflow="ellipsis", max_width=100)
    for la in image.layers:
        c = la.counts
        mark = "▶" if la.index == k else ("b" if a.layers[la.index].base else "")
        cmd = short_command(la.command) or "-"
        if la.error:
            cmd = f"[DAMAGED: {safe(la.error)}] " + cmd
        table.add_row(
            f"{mark}{la.index}",
            human_size(la.size_bytes),
            str(c.added),
            str(c.modified + c.type_changed),
            str(c.metadata),
            str(c.rewritten),
            str(c.deleted),
            human_size(a.layers[la.index].shipped.total) if a.layers[la.index].shipped.total else "-",
            Text(cmd),
        )
    console.print()
    console.print(table)
    hidden = sum(1 for _ in merged.hidden_at(k))
    live = sum(1 for _ in merged.files_at(k))
    console.print()
    console.print(Text(f"As of layer {k}: {live} paths visible, {hidden} deleted paths still ship in lower layers"))
    _write_audit(console, a, top)
    if image.warnings:
        console.print()
        console.print(Text(f"Warnings ({len(image.warnings)}):", style="bold yellow"))
        for w in image.warnings:
            console.print(Text("  ! " + safe(w), style="yellow"))


SEVERITY_STYLE = {"high": "bold red", "medium": "yellow", "low": "cyan", "info": "dim"}


def _write_audit(console: Any, a: Analysis, top: int) -> None:
    """Waste by cause, dive figures, top offenders and findings (Rich)."""
    from rich.table import Table
    from rich.text import Text

    from .analysis import CAUSES

    w = a.waste
    console.print()
    console.print(Text("Waste", style="bold"))
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column(justify="right")
    grid.add_column()
    grid.add_row(
        "Wasted",
        human_size(w.total),
        f"{a.wasted_percent:.2f} % of {human_size(a.size_bytes)}; "
        f"efficiency {100 * a.efficiency:.2f} %; {w.files} hidden file versions",
    )
    labels = {
        "overwritten": "overwritten by a later layer",
        "metadata": "copied up for a mode/owner/xattr change",
        "identical": "rewritten with identical bytes",
        "deleted": "deleted (whiteout/opaque/replaced), still in a lower layer",
    }
    for cause in CAUSES:
        if w.by_cause[cause]:
            grid.add_row(f"  {cause}", human_size(w.by_cause[cause]), labels[cause])
    base = a.base
    base_txt = f"{base.layers} base layer(s) ({base.method})" if base.layers else "no base layers marked"
    grid.add_row(
        "User",
        human_size(a.user_waste.total),
        f"{a.user_wasted_percent:.2f} % of {human_size(a.user_size_bytes)} in user layers; {base_txt}",
    )
    d = a.dive
    uwp = "n/a" if d.user_wasted_percent is None else f"{100 * d.user_wasted_percent:.4f} %"
    grid.add_row(
        "dive",
        str(d.wasted_bytes),
        f"efficiency {100 * d.efficiency:.4f} %, wastedBytes {d.wasted_bytes}, userWastedPercent {uwp} "
        "(dive 0.13.1 figures)",
    )
    console.print(grid)
    if a.top and top:
        console.print()
        t = Table(show_edge=False, pad_edge=False, title=None)
        t.add_column("Size", justify="right")
        t.add_column("Cause")
        t.add_column("In", justify="right")
        t.add_column("By", justify="right")
        t.add_column("Path", overflow="fold")
        t.add_column("Command (of By)", overflow="fold")
        for it in a.top[:top]:
            if not it.size:
                continue
            cause = it.cause if it.cause != "deleted" else f"deleted ({it.how})"
            t.add_row(
                human_size(it.size),
                cause,
                f"L{it.layer}",
                f"L{it.by_layer}",
                Text(safe(it.path)),
                Text(short_command(it.command, 60) or "-"),
            )
        console.print(Text(f"Top offenders (biggest hidden versions, {min(top, len(a.top))} shown)", style="bold"))
        console.print(t)
    console.print()
    if not a.findings:
        console.print(Text("Findings: none", style="bold"))
        return
    counts = a.findings_by_severity()
    summary = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
    console.print(Text(f"Findings ({summary})", style="bold"))
    t = Table(show_edge=False, pad_edge=False)
    t.add_column("Severity")
    t.add_column("Rule")
    t.add_column("L", justify="right")
    t.add_column("Size", justify="right")
    t.add_column("Path", overflow="fold")
    t.add_column("Detail / command", overflow="fold")
    for f in a.findings:
        path = safe(f.path) + (f" ({f.count} files)" if f.count > 1 else "")
        detail = f.detail or short_command(f.command, 60)
        t.add_row(
            Text(f.severity, style=SEVERITY_STYLE.get(f.severity, "")),
            f.rule,
            str(f.layer),
            human_size(f.size),
            Text(path),
            Text(detail),
        )
    console.print(t)
