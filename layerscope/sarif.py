"""``layerscope ci --sarif FILE``: findings and gate failures as SARIF 2.1.0.

SARIF is what code scanning (GitHub's and others') ingests, so the gate's
verdict can sit beside a repository's other alerts. It lives beside the gate
because it serialises the same result ``ci --json`` does: every finding is a
result (those the gate failed on marked ``gateFailed``), every failed check
and forbidden path too. A path inside the image is not a file of the
repository: its location is relative to the ``IMAGE`` base URI, its layer and
command are a logical location and properties.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from . import __version__
from .analysis import HIGH, LOW, MEDIUM, RULES

if TYPE_CHECKING:
    from .analysis import Analysis, Finding
    from .gate import GateResult
    from .merge import Merged

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"

# severity -> SARIF level: a high finding is an error, as the default gate treats it
LEVELS: dict[str, str] = {HIGH: "error", MEDIUM: "warning", LOW: "note"}
GATE_PREFIX = "gate/"
FORBIDDEN_PATH_RULE = "forbidden-path"
_GATE_TEXT = {  # what a check holds, where its name alone says too little
    "verified": "the whole image was read and every digest and size checked",
    "forbid-findings": "no finding of a forbidden rule or severity",
    "forbid-paths": "no layer ships a forbidden path",
    "lowestEfficiency": "dive's efficiency is at least dive's lowestEfficiency",
    "highestWastedBytes": "dive's wasted bytes are at most dive's highestWastedBytes",
    "highestUserWastedPercent": "dive's user wasted fraction is at most dive's highestUserWastedPercent",
}


def level(severity: str) -> str:
    return LEVELS.get(severity, "note")


def _rules() -> list[dict[str, Any]]:
    """``tool.driver.rules``: the analysis rules, the gate's checks and forbidden paths."""
    out: list[dict[str, Any]] = [
        {
            "id": r.id,
            "name": r.id,
            "shortDescription": {"text": r.title},
            "defaultConfiguration": {"level": level(r.severity)},
            "properties": {"severity": r.severity, "scope": r.scope, "tags": ["container", "layerscope"]},
        }
        for r in RULES
    ]
    from .gate import LIMITS, VERIFIED_CHECK

    for name in (VERIFIED_CHECK, *(lim.name for lim in LIMITS), "forbid-findings", "forbid-paths"):
        text = _GATE_TEXT.get(name, f"the {name} threshold holds")
        out.append(
            {
                "id": GATE_PREFIX + name,
                "name": name,
                "shortDescription": {"text": f"ci gate: {text}"},
                "defaultConfiguration": {"level": "error"},
                "properties": {"tags": ["container", "layerscope", "gate"]},
            }
        )
    out.append(
        {
            "id": FORBIDDEN_PATH_RULE,
            "name": FORBIDDEN_PATH_RULE,
            "shortDescription": {"text": "a layer ships a path the gate forbids (forbid-paths)"},
            "defaultConfiguration": {"level": "error"},
            "properties": {"tags": ["container", "layerscope", "gate"]},
        }
    )
    return out


def artifact_uri(path: str) -> str:
    """An image path as a URI reference relative to ``IMAGE``: percent-encoded,
    bytes that are not UTF-8 (kept as surrogates) as their own ``%XX``."""
    return quote(path.lstrip("/"), safe="/", errors="surrogateescape") or "."


def _location(merged: Merged, path: str, layer: int) -> dict[str, Any]:
    image = merged.image
    la = image.layers[layer] if 0 <= layer < len(image.layers) else None
    return {
        "physicalLocation": {"artifactLocation": {"uri": artifact_uri(path), "uriBaseId": "IMAGE"}},
        "logicalLocations": [
            {
                "name": image.label_of(layer),
                "fullyQualifiedName": f"{image.label_of(layer)}: {la.command if la else ''}".rstrip(": "),
                "kind": "module",
                "properties": {"layer": layer, "digest": (la.digest or la.computed_digest) if la else None},
            }
        ],
    }


def _fingerprint(*parts: object) -> str:
    return hashlib.sha256("\0".join(str(p) for p in parts).encode("utf-8", "surrogateescape")).hexdigest()


def _finding(merged: Merged, f: Finding, failed: bool) -> dict[str, Any]:
    text = (
        f"{f.title}: {f.path}" + (f" ({f.count} files)" if f.count > 1 else "") + (f"; {f.detail}" if f.detail else "")
    )
    return {
        "ruleId": f.rule,
        "level": level(f.severity),
        "message": {"text": text},
        "locations": [_location(merged, f.path, f.layer)],
        "partialFingerprints": {"layerscope/finding/v1": _fingerprint(f.rule, f.path, f.layer)},
        "properties": {
            "severity": f.severity,
            "layer": f.layer,
            "command": f.command,
            "path": f.path,
            "size": f.size,
            "count": f.count,
            "base": f.base,
            "gateFailed": failed,
        },
    }


def sarif_document(result: GateResult, merged: Merged, analysis: Analysis) -> dict[str, Any]:
    """The SARIF log ``ci --sarif`` writes: one run, layerscope as its tool."""
    failed = {id(f) for f in result.failed_findings}
    results = [_finding(merged, f, id(f) in failed) for f in analysis.findings]
    for c in result.checks:
        if c.passed:
            continue
        results.append(
            {
                "ruleId": GATE_PREFIX + c.name,
                "level": "error" if c.fatal else "warning",
                "message": {"text": c.sentence},
                "locations": [{"logicalLocations": [{"name": merged.image.source, "kind": "module"}]}],
                "partialFingerprints": {"layerscope/gate/v1": _fingerprint(c.name)},
                "properties": {"value": c.value, "limit": c.limit, "fatal": c.fatal},
            }
        )
    for path, k in result.forbidden_paths:
        results.append(
            {
                "ruleId": FORBIDDEN_PATH_RULE,
                "level": "error",
                "message": {"text": f"forbidden path shipped: {path}"},
                "locations": [_location(merged, path, k)],
                "partialFingerprints": {"layerscope/path/v1": _fingerprint(path, k)},
                "properties": {"layer": k, "path": path, "command": merged.image.layers[k].command},
            }
        )
    return {
        "$schema": SARIF_SCHEMA_URI,
        "version": SARIF_VERSION,
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "layerscope",
                        "version": __version__,
                        "rules": _rules(),
                    }
                },
                "originalUriBaseIds": {"IMAGE": {"description": {"text": "the root of the image's merged tree"}}},
                "invocations": [
                    {
                        "executionSuccessful": not result.unverifiable,
                        "properties": {"result": "pass" if result.passed else "fail", "verified": result.verified},
                    }
                ],
                "properties": {"image": merged.image.source, "config": result.thresholds.source},
                "results": results,
            }
        ],
    }
