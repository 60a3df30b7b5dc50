"""``layerscope report --json``: the ``layerscope.report/1`` document (the text is :mod:`layerscope.text.report`).

``layerscope.report/1`` is a public interface scripts depend on: fields are
only ever added, never renamed or dropped.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, TextIO

from .merge import Merged
from .model import Deletion, Entry, Image, Layer

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


_esc = json.encoder.encode_basestring_ascii


def _version_pretty(v: Entry) -> str:
    """A version object as an element of ``versions`` (4 spaces in, like ``json.dumps(indent=2)``)."""
    digest = '"sha256:' + v.digest.hex() + '"' if v.digest is not None else "null"
    return (
        f'    {{\n      "layer": {v.layer},\n      "type": "{v.type}",\n      "mode": {v.mode},\n'
        f'      "uid": {v.uid},\n      "gid": {v.gid},\n      "size": {v.size},\n      "digest": {digest},\n'
        f'      "change": "{v.change}"\n    }}'
    )


def file_json_pretty(merged: Merged, e: Entry) -> str:
    """``json.dumps(file_obj(...), indent=2)``, built directly: ``ls --json`` writes one per path.

    A test holds the two equal on real and hostile names.
    """
    below = merged.versions_below(e)
    versions = "[\n" + ",\n".join(map(_version_pretty, below)) + "\n  ]" if below else "[]"
    digest = '"sha256:' + e.digest.hex() + '"' if e.digest is not None else "null"
    link = "null" if e.link is None else _esc(e.link)
    xattrs = (
        json.dumps({k: v.decode("utf-8", "backslashreplace") for k, v in e.xattrs.items()}, indent=2).replace(
            "\n", "\n  "
        )
        if e.xattrs
        else "null"
    )
    return (
        f'{{\n  "path": {_esc(e.path)},\n  "type": "{e.type}",\n  "mode": {e.mode},\n  "uid": {e.uid},\n'
        f'  "gid": {e.gid},\n  "size": {e.size},\n  "link": {link},\n  "digest": {digest},\n'
        f'  "layer": {e.layer},\n  "change": "{e.change}",\n  "mtime": {e.mtime},\n  "xattrs": {xattrs},\n'
        f'  "versions": {versions}\n}}'
    )


def hidden_json_pretty(d: Deletion, versions: list[Entry]) -> str:
    """``json.dumps(hidden_obj(...), indent=2)``, built directly (whiteout-heavy images have many)."""
    vs = "[\n" + ",\n".join(map(_version_pretty, versions)) + "\n  ]" if versions else "[]"
    return (
        f'{{\n  "path": {_esc(d.path)},\n  "deleted_in": {d.layer},\n  "how": {_esc(d.how)},\n'
        f'  "cause": {_esc(d.cause)},\n  "versions": {vs}\n}}'
    )


def dump_json(doc: Any, out: TextIO) -> None:
    """The one layout of every ``--json`` document: two-space indents, a final newline."""
    json.dump(doc, out, indent=2)
    out.write("\n")


def write_json_doc(
    head: dict[str, Any],
    arrays: Sequence[tuple[str, Iterable[str] | Callable[[TextIO], None]]],
    out: TextIO,
) -> None:
    """Stream ``head`` plus big arrays, byte for byte as :func:`dump_json`
    would write ``{**head, name: [...], ...}``, without building it whole.

    Each array item is one object already in ``json.dumps(obj, indent=2)``
    form (e.g. :func:`file_json_pretty`); or the array is a function that
    writes the whole array itself, nested the same way (the core's writer).
    """
    text = json.dumps(head, indent=2)
    out.write(text[:-2] if head else "{")
    sep = ",\n" if head else "\n"
    for name, items in arrays:
        out.write(f"{sep}  {_esc(name)}: ")
        sep = ",\n"
        if callable(items):
            items(out)
            continue
        batch: list[str] = []
        first = True
        for item in items:
            batch.append(item.replace("\n", "\n    "))
            if len(batch) >= _CHUNK:
                out.write(("[\n    " if first else ",\n    ") + ",\n    ".join(batch))
                first = False
                batch.clear()
        if batch:
            out.write(("[\n    " if first else ",\n    ") + ",\n    ".join(batch))
            first = False
        out.write("[]" if first else "\n  ]")
    out.write("\n}\n")


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
        "media_type": layer.media_type or (None if layer.source is not None else _media_type(layer)),
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
        "kind": layer.kind,
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
        "warnings": image.messages(),
        "annotations": dict(image.annotations),
        "container": image.container.to_dict() if image.container is not None else None,
    }


def write_json(merged: Merged, out: TextIO, layer: int | None = None, analysis: Analysis | None = None) -> None:
    """The whole model as ``layerscope.report/1``.

    Added by the audit (fields only ever added): ``image.waste`` (layerscope's
    accounting, per cause, user share, base layers, top offenders),
    ``image.dive`` (dive 0.13.1 figures), ``image.findings`` (counts per
    severity), ``layers[].waste`` and ``layers[].base``, and the top-level
    ``findings`` array. Base findings stay in ``findings`` one by one (with
    ``base: true``): ``image.findings_base`` counts them and ``base_findings``
    sums them up per rule, as the text report prints them.

    ``packages`` (only when some layer has a package database, or a database
    could not be read) is the ``layerscope.packages/1`` document as of the
    same layer, embedded whole.
    """
    from .analysis import analyze
    from .packages.document import document
    from .packages.index import build

    image = merged.image
    k = merged.top if layer is None else layer
    a = analysis if analysis is not None else analyze(merged)
    img = image_obj(image)
    img["waste"] = a.to_dict()
    img["dive"] = a.dive.to_dict()
    img["findings"] = a.findings_by_severity()
    img["findings_base"] = a.findings_by_severity(base_only=True)
    layers = []
    damage = image.layer_damage()
    for la, lw in zip(image.layers, a.layers):
        obj = layer_obj(la)
        obj["damage"] = damage.get(la.index)  # "DAMAGED"/"UNVERIFIED": what ci refuses (null: neither)
        obj["base"] = lw.base
        obj["waste"] = lw.to_dict()
        layers.append(obj)
    head = {
        "schema": SCHEMA,
        "as_of_layer": k,
        "image": img,
        "layers": layers,
        "findings": [f.to_dict() for f in a.findings],
        "base_findings": [g.to_dict() for g in a.base_findings()],
    }
    ix = build(merged)
    if ix.any or ix.problems:
        head["packages"] = document(merged, ix, k)

    def array(name: str) -> Callable[[TextIO], None]:
        # The core writes these arrays, held equal by tests to file_json_pretty/hidden_json_pretty.
        def write(o: TextIO) -> None:
            merged.write_array(name, k, o.write)

        return write

    write_json_doc(head, [("files", array("files")), ("hidden", array("hidden"))], out)
