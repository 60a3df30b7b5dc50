"""``layerscope report --json``: the ``layerscope.report/1`` document (the text is :mod:`layerscope.text.report`).

``layerscope.report/1`` is a public interface scripts depend on: fields are
only ever added, never renamed or dropped.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TextIO

from .merge import Merged
from .model import Image, Layer

if TYPE_CHECKING:
    from .analysis import Analysis

SCHEMA = "layerscope.report/1"


_esc = json.encoder.encode_basestring_ascii


def dump_json(doc: Any, out: TextIO) -> None:
    """The one layout of every ``--json`` document: two-space indents, a final newline."""
    json.dump(doc, out, indent=2)
    out.write("\n")


def write_json_doc(head: dict[str, Any], arrays: Sequence[tuple[str, Callable[[TextIO], None]]], out: TextIO) -> None:
    """Stream ``head`` plus big arrays, byte for byte as :func:`dump_json`
    would write ``{**head, name: [...], ...}``, without building it whole.

    Each array is a function that writes the whole array, nested one level
    (:meth:`Merged.write_array <layerscope.merge.Merged.write_array>`: the
    core is the one writer of the ``files`` and ``hidden`` objects).
    """
    text = json.dumps(head, indent=2)
    out.write(text[:-2] if head else "{")
    sep = ",\n" if head else "\n"
    for name, write in arrays:
        out.write(f"{sep}  {_esc(name)}: ")
        sep = ",\n"
        write(out)
    out.write("\n}\n")


def empty_array(out: TextIO) -> None:
    """An array with nothing in it, for :func:`write_json_doc`."""
    out.write("[]")


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
    same layer, embedded whole; then every ``files`` object has an ``owner``
    too (``deb:curl@7.88.1-10``, or null: no package lists it, or it is a
    directory, which packages share). Without a database there is no
    ``owner`` field: unknown is not "none".
    """
    from .analysis import analyze
    from .fixes import fixes
    from .packages.document import document
    from .packages.index import build
    from .packages.lookup import Owners

    image = merged.image
    k = merged.top if layer is None else layer
    a = analysis if analysis is not None else analyze(merged)
    img = image_obj(image)
    img["waste"] = a.to_dict()
    img["dive"] = a.dive.to_dict()
    img["findings"] = a.findings_by_severity()
    img["findings_base"] = a.findings_by_severity(base_only=True)
    ix = build(merged)
    fx = fixes(a, ix)
    img["fixes"] = fx.summary()
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
        "fixes": fx.to_dict(),
    }
    owners: Mapping[str, str] | None = None
    if ix.any or ix.problems:
        head["packages"] = document(merged, ix, k)
        owners = Owners(ix).file_owners(k)
    write_json_doc(head, [("files", array(merged, "files", k, owners)), ("hidden", array(merged, "hidden", k))], out)


def array(
    merged: Merged,
    which: str,
    k: int,
    owners: Mapping[str, str] | None = None,
    *,
    paths: Iterable[str] | None = None,
    layer_only: bool = False,
) -> Callable[[TextIO], None]:
    """The core's writer of array ``which`` as :func:`write_json_doc` takes it
    (the arguments are :meth:`Merged.write_array`'s)."""

    def write(o: TextIO) -> None:
        merged.write_array(which, k, o.write, paths=paths, layer_only=layer_only, owners=owners)

    return write
