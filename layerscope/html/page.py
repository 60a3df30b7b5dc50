"""``report IMAGE --html FILE``: one self-contained page, rendered by Jinja2.

Everything the page shows is in the file: no font, style sheet or script
from anywhere, and a Content-Security-Policy that forbids fetching any (only
the page's own script runs, by its nonce). Autoescaping is on, and every
string printed goes through :func:`~layerscope.textsafe.safe` first (the
environment's ``finalize``), so a name from the image is text: control bytes
and bytes that are not UTF-8 as ``\\xNN``, markup as entities. The file
browser's data is JSON inside a ``<script type="application/json">``, which
``tojson`` escapes so that no name can close it.

The core tables (layers, waste, findings, ghosts, fixes, packages) and the
treemap are plain HTML and SVG: they work with JavaScript off and print.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any, TextIO

from .. import __version__
from ..fmt import human_size, percent
from ..model import CONTAINER_LAYER, Deletion, Entry
from ..textsafe import safe
from .browse import browse
from .treemap import HEIGHT, WIDTH, build_tree, layout

if TYPE_CHECKING:
    from jinja2 import Environment

    from ..analysis import Analysis
    from ..merge import Merged

GHOSTS_SHOWN = 500  # rows of the long tables; the page says how many more report --json has
FINDINGS_SHOWN = 500
PALETTE = 12  # layer colours, repeating


def _finalize(value: object) -> object:
    """Each printed value: a plain string (a name, maybe from the image) made :func:`safe`;
    markup the template made itself (``tojson``) left as it is."""
    return safe(value) if type(value) is str else value


def environment() -> Environment:
    """Jinja2 with autoescaping on and every printed string made :func:`safe`."""
    from jinja2 import Environment, PackageLoader, select_autoescape

    env = Environment(
        loader=PackageLoader("layerscope", "html"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        finalize=_finalize,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.policies["json.dumps_kwargs"] = {"separators": (",", ":")}
    env.filters["size"] = human_size
    env.filters["percent"] = percent
    env.filters["safe_text"] = safe
    return env


def write_html(merged: Merged, analysis: Analysis, out: TextIO, layer: int | None = None) -> None:
    """Render the page for ``merged`` to ``out`` (``layer``: the browser's initial layer)."""
    out.write(environment().get_template("report.html.j2").render(context(merged, analysis, layer)))


def context(merged: Merged, a: Analysis, layer: int | None = None) -> dict[str, Any]:
    """Everything the template prints, gathered from the model and the analysis."""
    from ..fixes import fixes
    from ..packages.document import document
    from ..packages.index import build

    image = merged.image
    ix = build(merged)
    top = merged.top
    timelines = list(merged.timelines())
    versions = []
    for path, evs in timelines:
        last = evs[-1] if evs else None
        for ev in evs:
            if isinstance(ev, Entry) and ev.type == "file" and ev.size > 0:
                versions.append((safe(path), ev.size, ev.layer, ev is not last))
    tree = build_tree(versions)
    rects = layout(tree)
    nav = browse(timelines)
    return {
        "version": __version__,
        "nonce": secrets.token_urlsafe(18),
        "image": _image(merged, a),
        "layers": _layers(merged, a),
        "waste": _waste(a),
        "findings": [f.to_dict() | {"label": image.label_of(f.layer)} for f in a.findings[:FINDINGS_SHOWN]],
        "findings_count": len(a.findings),
        "ghosts": _ghosts(merged),
        "fixes": fixes(a, ix),
        "packages": document(merged, ix, top) if ix.any or ix.problems else None,
        "treemap": {
            "width": WIDTH,
            "height": HEIGHT,
            "bytes": tree.bytes,
            "hidden": tree.hidden,
            "rects": rects,
            "legend": [(la.label, la.index, tree.by_layer.get(la.index, 0)) for la in image.layers],
        },
        "palette": PALETTE,
        "browse": {
            "nodes": nav.nodes,
            "layers": [la.label for la in image.layers],
            "top": top,
            "start": top if layer is None else layer,
            "paths": nav.paths,
            "folded": nav.folded,
        },
        "warnings": [w.message for w in image.all_warnings()],
        "assets": _assets(),
    }


def _assets() -> dict[str, Any]:
    """The page's own style sheet and script, inlined as they are (not templates:
    nothing of the image's is in them)."""
    from importlib import resources

    from markupsafe import Markup

    here = resources.files("layerscope.html")
    return {name: Markup(here.joinpath(f"report.{name}").read_text("utf-8")) for name in ("css", "js")}


def _image(merged: Merged, a: Analysis) -> dict[str, Any]:
    """report/1's image object (one owner of its fields), and what the page adds."""
    from ..report import image_obj

    image = merged.image
    cfg = image.config
    return {
        **image_obj(image),
        "run": " ".join((cfg.entrypoint or []) + (cfg.cmd or [])),
        "user": cfg.user,
        "base": a.base,
        "findings": a.findings_by_severity(),
    }


def _layers(merged: Merged, a: Analysis) -> list[dict[str, Any]]:
    damage = merged.image.layer_damage()
    rows = []
    for la, lw in zip(merged.image.layers, a.layers):
        c = la.counts
        rows.append(
            {
                "index": la.index,
                "label": la.label,
                "base": lw.base,
                "container": la.kind == CONTAINER_LAYER,
                "size": la.size_bytes,
                "compressed": la.compressed_bytes,
                "entries": c.entries,
                "added": c.added,
                "modified": c.modified + c.type_changed,
                "metadata": c.metadata,
                "rewritten": c.rewritten,
                "deleted": c.deleted,
                "shipped_waste": lw.shipped.total,
                "caused_waste": lw.caused.total,
                "command": la.command,
                "digest": la.digest or la.computed_digest,
                "damage": la.error or damage.get(la.index),
            }
        )
    return rows


def _waste(a: Analysis) -> dict[str, Any]:
    from ..analysis import CAUSES

    return {
        "total": a.waste.total,
        "files": a.waste.files,
        "percent": a.wasted_percent,
        "efficiency": a.efficiency,
        "causes": [(c, a.waste.by_cause[c]) for c in CAUSES],
        "user": a.user_waste.total,
        "user_percent": a.user_wasted_percent,
        "user_size": a.user_size_bytes,
        "dive_efficiency": a.dive.efficiency,
        "dive_wasted": a.dive.wasted_bytes,
        "top": [it for it in a.top if it.size][:50],
    }


def _ghosts(merged: Merged) -> dict[str, Any]:
    """Paths deleted as of the top layer whose bytes still ship below."""
    rows: list[dict[str, Any]] = []
    total = count = 0
    for gone, versions in merged.hidden_at(merged.top):
        size = sum(v.size for v in versions if v.type == "file")
        total += size
        count += 1
        if len(rows) < GHOSTS_SHOWN:
            rows.append(_ghost(merged, gone, versions, size))
    rows.sort(key=lambda r: -int(r["size"]))
    return {"rows": rows, "count": count, "bytes": total}


def _ghost(merged: Merged, gone: Deletion, versions: list[Entry], size: int) -> dict[str, Any]:
    label = merged.image.label_of
    return {
        "path": gone.path,
        "by": label(gone.layer),
        "how": str(gone.how),
        "size": size,
        "versions": ", ".join(f"{label(v.layer)} {human_size(v.size)}" for v in versions),
    }
