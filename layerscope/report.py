"""The headless views of a merged image: the JSON document and a text summary.

``layerscope.report/1`` is a public interface scripts depend on: fields are
only ever added, never renamed or dropped.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, TextIO

from .merge import Merged
from .model import Deletion, Entry, Image, Layer
from .textsafe import safe

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


def write_json(merged: Merged, out: TextIO, layer: int | None = None) -> None:
    image = merged.image
    k = merged.top if layer is None else layer
    head = {"schema": SCHEMA, "as_of_layer": k, "image": image_obj(image), "layers": [layer_obj(la) for la in image.layers]}
    text = json.dumps(head, separators=(",", ":"))
    out.write(text[:-1] + ',"files":')
    _encode_seq((file_obj(merged, e) for e in merged.files_at(k)), out)
    out.write(',"hidden":')
    _encode_seq((hidden_obj(d, v) for d, v in merged.hidden_at(k)), out)
    out.write("}\n")


def human_size(n: float) -> str:
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if abs(n) < 1000 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} TB"


def short_command(cmd: str, width: int = 0) -> str:
    """``/bin/sh -c #(nop) ENV A=b`` -> ``ENV A=b``; ``/bin/sh -c x`` -> ``RUN x``."""
    c = cmd.strip()
    for prefix in ("/bin/sh -c #(nop) ", "/bin/sh -c #(nop)"):
        if c.startswith(prefix):
            c = c[len(prefix) :].strip()
            break
    else:
        if c.startswith("/bin/sh -c "):
            c = "RUN " + c[len("/bin/sh -c ") :]
        elif c.startswith("|"):  # buildkit: |N ARG=.. /bin/sh -c cmd
            parts = c.split("/bin/sh -c ", 1)
            if len(parts) == 2:
                c = "RUN " + parts[1]
    c = " ".join(c.split())
    c = safe(c)
    if width and len(c) > width:
        c = c[: width - 1] + "…"
    return c


def write_text(merged: Merged, out: TextIO, layer: int | None = None, color: bool | None = None) -> None:
    """A readable summary with Rich: image, layers with size/command/counts, warnings."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

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
    head.add_row("Layers", Text(f"{len(image.layers)} ({sum(1 for h in image.history if h.empty_layer)} empty history entries)"))
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
    table.add_column("Command", overflow="fold")
    for la in image.layers:
        c = la.counts
        mark = "▶" if la.index == k else ""
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
            Text(cmd),
        )
    console.print()
    console.print(table)
    hidden = sum(1 for _ in merged.hidden_at(k))
    live = sum(1 for _ in merged.files_at(k))
    console.print()
    console.print(Text(f"As of layer {k}: {live} paths visible, {hidden} deleted paths still ship in lower layers"))
    if image.warnings:
        console.print()
        console.print(Text(f"Warnings ({len(image.warnings)}):", style="bold yellow"))
        for w in image.warnings:
            console.print(Text("  ! " + safe(w), style="yellow"))
