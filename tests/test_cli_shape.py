"""The headless code's shape: the CLI parses and prints, each JSON schema has one home.

``ci --json`` and ``which --json`` must keep every field they had before
their builders left cli.py, equal and in order (fields may only be added). tests/fixtures/cli_shape.json holds their
output captured from main at 57681a0 (before the move) by this module's own
:func:`capture`; regenerate it from a checkout with
``PYTHONPATH=CHECKOUT python tests/test_cli_shape.py > tests/fixtures/cli_shape.json``
(run from the repository root, so image paths stay relative).

Layer commands are long and repeated in every row, so the fixture stores each
layer's command once and the documents name it as ``@L<n>``; both sides are
rewritten the same way before they are compared.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, SAMPLE_IMAGES
from imagegen import build, d, file, hard, wh

from layerscope.api import load
from layerscope.cli import main

FIXTURE = Path(__file__).parent / "fixtures" / "cli_shape.json"

CI_ARGS: dict[str, list[str]] = {
    "defaults": [],
    "all": [
        "--max-wasted-bytes", "1kB", "--max-wasted-percent", "5", "--max-user-wasted-bytes", "100",
        "--max-user-wasted-percent", "3", "--lowest-efficiency", "0.9", "--highest-wasted-bytes", "2KB",
        "--highest-user-wasted-percent", "0.1", "--forbid", "all", "--forbid-path", "/root/**",
        "--forbid-path", "*.pem", "--forbid-path", "/srv/old/**", "--ignore-path", "/usr/local/bin/*",
    ],
    "pass": ["--min-efficiency", "50%", "--base", "2"],
}  # fmt: skip

# One path per kind of stack row: overwritten, copy-up, identical rewrite, hardlink,
# symlink, type change, replaced/opaque/whiteout deletions, a deleted directory, a fifo, the root.
WHICH_PATHS = [
    "/",
    "/app",
    "/app/config.txt",
    "/app/data.bin",
    "/app/hello.py",
    "/app/shared.txt",
    "/bin/sh",
    "/data/dirtofile",
    "/data/dirtofile/x.txt",
    "/opt/cache/one.txt",
    "/root/.aws/credentials",
    "/srv/old",
    "/var/lib/thing",
    "/var/spool/pipe",
]

# Implicit parents (/p, /p/q), a version kept alive by a visible hardlink (/a/x in L0),
# an identical rewrite then a whiteout (/a/y).
SYNTHETIC = [
    [file("p/q/r", "z"), d("a"), file("a/x", "1"), hard("a/h", "a/x"), file("a/y", "keep")],
    [file("a/x", "2"), file("a/y", "keep")],
    [wh("a/y"), wh("p/q/r")],
]
SYNTHETIC_PATHS = ["/p", "/p/q", "/p/q/r", "/a/x", "/a/h", "/a/y"]


def _run(argv: list[str]) -> tuple[int, str]:
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        rc = main(argv)
    return rc, buf.getvalue()


def _name_commands(doc: Any, commands: list[str]) -> Any:
    """Replace every ``command`` value that is a layer's command by ``@L<n>``."""
    if isinstance(doc, dict):
        return {
            k: (f"@L{commands.index(v)}" if k == "command" and v in commands else _name_commands(v, commands))
            for k, v in doc.items()
        }
    if isinstance(doc, list):
        return [_name_commands(v, commands) for v in doc]
    return doc


def _which(image: str, paths: list[str]) -> tuple[list[str], dict[str, Any]]:
    commands = [la.command for la in load(image).image.layers]
    docs = {}
    for p in paths:
        rc, text = _run(["which", image, p, "--json"])
        assert rc == 0, p
        docs[p] = _name_commands(json.loads(text), commands)
    return commands, docs


def capture() -> dict[str, Any]:
    """``ci --json`` and ``which --json`` documents of the sample images and a synthetic one.

    Runs with the current directory at the repository root (image paths appear in the ci documents).
    """
    out: dict[str, Any] = {}
    for name in SAMPLE_IMAGES:
        image = f"sample_images/{name}"
        commands, which = _which(image, WHICH_PATHS)
        ci = {}
        for key, extra in CI_ARGS.items():
            rc, text = _run(["ci", image, "--no-config", "--json", *extra])
            ci[key] = {"exit": rc, "doc": _name_commands(json.loads(text), commands)}
        out[name] = {"commands": commands, "ci": ci, "which": which}
    with tempfile.TemporaryDirectory() as tmp:
        commands, which = _which(build(tmp, SYNTHETIC), SYNTHETIC_PATHS)
    out["synthetic"] = {"commands": commands, "which": which}
    return out


def _kept(now: Any, before: Any, where: str) -> None:
    """Every field of ``before`` is in ``now``, equal and in the same order; ``now`` may add fields.

    The documents are public: fields are only ever added, never renamed, dropped or changed.
    """
    if isinstance(before, dict):
        assert isinstance(now, dict), where
        missing = [k for k in before if k not in now]
        assert not missing, f"{where}: {missing} dropped"
        assert [k for k in now if k in before] == list(before), f"{where}: fields reordered"
        for k, v in before.items():
            _kept(now[k], v, f"{where}.{k}")
    elif isinstance(before, list):
        assert isinstance(now, list) and len(now) == len(before), where
        for i, (a, b) in enumerate(zip(now, before)):
            _kept(a, b, f"{where}[{i}]")
    else:
        assert now == before and type(now) is type(before), f"{where}: {now!r} != {before!r}"


def test_ci_and_which_json_are_unchanged(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    before = json.loads(FIXTURE.read_text())
    now = capture()
    assert now.keys() == before.keys()
    for name in before:
        assert now[name]["commands"] == before[name]["commands"], name
        _kept(now[name], before[name], name)


def test_which_does_not_run_the_audit(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """`which` needs one path's timeline, not findings and dive figures of the whole image."""
    import layerscope.analysis

    def refuse(*_a: object, **_k: object) -> None:
        raise AssertionError("which ran the whole analysis")

    monkeypatch.setattr(layerscope.analysis, "analyze", refuse)
    sample = str(ROOT / "sample_images" / "sample-docker.tar")
    assert main(["which", sample, "/app/config.txt", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["versions"][0]["wasted"] == {"cause": "overwritten", "by_layer": 4, "how": "modified"}
    assert main(["which", sample, "/app/*.txt"]) == 0
    assert "5 paths match /app/*.txt" in capsys.readouterr().out


def test_stack_waste_agrees_with_the_audit(tmp_path: Path) -> None:
    """Two routes to "is this version waste": the stack's (one timeline) and analyze()'s (every path)."""
    from layerscope.analysis import analyze
    from layerscope.stacks import path_stack

    images = [str(ROOT / "sample_images" / n) for n in SAMPLE_IMAGES[:1]] + [build(tmp_path, SYNTHETIC)]
    for image in images:
        merged = load(image)
        expected = {(i.path, i.layer): (i.cause, i.by_layer, i.how) for i in analyze(merged).items}
        got = {}
        for p in merged.paths():
            for row in path_stack(merged, p).rows:
                if row.wasted is not None:
                    got[(p, row.layer)] = (row.wasted.cause, row.wasted.by_layer, row.wasted.how)
        assert got == expected, image
    # the hardlinked version is not waste; the identical rewrite and the whiteout are
    assert ("/a/x", 0) not in got and got[("/a/y", 0)][0] == "identical" and got[("/a/y", 1)][0] == "deleted"


def test_which_glob(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    img = build(tmp_path, [[d("lib"), file("lib/a.so"), file("lib/b.so"), file("lib/c.so"), file("lib[1].so"),
                            file("lib1.so"), d("lib/sub"), file("lib/sub/d.so")]])  # fmt: skip
    # a path that exists is itself, glob characters or not
    assert main(["which", img, "/lib[1].so", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["path"] == "/lib[1].so"
    assert main(["which", img, "lib[0-9].so", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert (doc["pattern"], doc["matched"], [s["path"] for s in doc["paths"]]) == ("lib[0-9].so", 1, ["/lib1.so"])
    # `*` stays in its directory; a bounded listing says how many matched
    assert main(["which", img, "/lib/*.so", "--limit", "2"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("3 paths match /lib/*.so; the first 2 shown (--limit 0 for all)\n")
    assert "/lib/a.so  (1 event;" in out and "/lib/b.so" in out and "/lib/c.so" not in out
    assert main(["which", img, "/lib/**", "--json", "--limit", "0"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["matched"] == 5 and [s["path"] for s in doc["paths"]] == [
        "/lib/a.so", "/lib/b.so", "/lib/c.so", "/lib/sub", "/lib/sub/d.so",
    ]  # fmt: skip
    assert main(["which", img, "/lib/*.exe"]) == 2
    assert "/lib/*.exe: no path in any layer matches" in capsys.readouterr().err


def test_ci_document_lives_with_the_gate(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from layerscope.analysis import analyze
    from layerscope.gate import CI_SCHEMA, ci_document, evaluate, thresholds

    monkeypatch.chdir(ROOT)
    image = "sample_images/sample-docker.tar"
    assert main(["ci", image, "--no-config", "--json", "--base", "none"]) == 1
    printed = json.loads(capsys.readouterr().out)
    merged = load(image)
    analysis = analyze(merged, base=0)
    doc = ci_document(evaluate(merged, analysis, thresholds(None, {}, use_config=False)), merged, analysis)
    assert doc == printed and doc["schema"] == CI_SCHEMA == "layerscope.ci/1"


DOMAIN = ["model", "merge", "analysis", "compare", "snapshot", "globs", "stacks", "content", "loader", "api"]
VIEWS = ["layerscope.fmt", "layerscope.report", "layerscope.text", "layerscope.cli", "rich", "textual"]


def _modules_after(code: str) -> list[str]:
    """Run ``code`` in a fresh interpreter (``IMAGE`` bound); return which of VIEWS it imported."""
    script = (
        f"import sys\nIMAGE = {str(ROOT / 'sample_images' / 'sample-docker.tar')!r}\n{code}\n"
        f"print(' '.join(m for m in {VIEWS!r} if m in sys.modules))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True)
    return out.stdout.split()


def test_domain_modules_import_no_views() -> None:
    """The model and the audit produce data; only views (report, cli, ui) format it."""
    imported = _modules_after(
        "".join(f"import layerscope.{m}\n" for m in DOMAIN)
        + "from layerscope import analysis, api, compare, snapshot, stacks\n"
        "m = api.load(IMAGE)\n"
        "analysis.analyze(m); compare.compare(m, m).to_dict(); snapshot.search(m, m.top, '*.txt')\n"
        "stacks.which(m, '/app/**').to_dict()\n"
    )
    assert imported == []


def test_gate_imports_no_report() -> None:
    """The gate once imported report.human_size; it may use fmt for its check sentences, never a view."""
    imported = _modules_after(
        "from layerscope import analysis, api, gate\n"
        "m = api.load(IMAGE)\n"
        "th = gate.thresholds(None, {'max_wasted_bytes': '1kB', 'forbid_paths': ['*.pem']}, use_config=False)\n"
        "gate.evaluate(m, analysis.analyze(m), th)\n"
    )
    assert imported == ["layerscope.fmt"]


def test_fmt_is_a_leaf() -> None:
    """fmt imports nothing of the model, so anything may import it without a cycle."""
    src = (ROOT / "layerscope" / "fmt.py").read_text()
    imports = [line for line in src.splitlines() if line.startswith(("import ", "from "))]
    assert imports == ["from __future__ import annotations", "import stat", "from .textsafe import safe"]


if __name__ == "__main__":
    json.dump(capture(), sys.stdout, indent=1)
    sys.stdout.write("\n")
