"""What the CLI says: causes first, usage of the command typed, counts in words.

Each expectation is written out here, from the issue (#20) and from what
``diff``, ``ls`` and ``tar`` users read, not taken from the code that prints it.
"""

from __future__ import annotations

import subprocess
import sys
import tarfile

import pytest
from conftest import ROOT, SAMPLES
from imagegen import run_cli

SAMPLE = str(SAMPLES / "sample-docker.tar")


def _run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "layerscope", *argv], capture_output=True, text=True, cwd=ROOT, timeout=120
    )


def test_truncated_archive_says_so_first(tmp_path: object) -> None:
    """`head -c 50000 sample-docker.tar > t.tar`: the archive is cut inside its first layer."""
    cut = f"{tmp_path}/t.tar"
    with open(SAMPLE, "rb") as f, open(cut, "wb") as g:
        g.write(f.read(50000))
    with tarfile.open(SAMPLE) as tf:
        first = tf.getmembers()[0]  # the member the cut falls in (tar's own reading of the archive)
    assert first.offset_data < 50000 < first.offset_data + first.size
    missing = first.offset_data + first.size - 50000
    for command in (["report"], ["ls"], ["ci", "--no-config"], ["which"]):
        args = [*command, cut] + (["/bin/sh"] if command == ["which"] else [])
        r = _run(*args)
        assert r.returncode == 2 and r.stdout == ""
        assert r.stderr == (
            f"layerscope: error: {cut}: the archive is truncated: it ends inside member {first.name!r}, "
            f"{missing} bytes short; no manifest.json or index.json before the cut\n"
        )


def test_forbid_names_all_in_help_and_error() -> None:
    """README documents `ci --forbid all`: the help and the error name it too."""
    r = _run("ci", "--help")
    assert "--forbid RULE|SEVERITY|all" in r.stdout
    assert "'all' for any finding" in " ".join(r.stdout.split())
    rc, _, err = run_cli("ci", SAMPLE, "--no-config", "--forbid", "everything")
    assert rc == 2
    assert err.startswith("layerscope: error: --forbid: unknown rule or severity 'everything' (rules: ")
    assert err.rstrip().endswith("or 'all' for any finding)")
    # and it works: the sample's 8 findings all fail the gate
    rc, out, _ = run_cli("ci", SAMPLE, "--no-config", "--forbid", "all")
    assert rc == 1 and "FAIL  forbid-findings: 8 forbidden findings (all)" in out


def test_config_file_error_lists_all_too(tmp_path: object) -> None:
    cfg = f"{tmp_path}/c.toml"
    with open(cfg, "w") as f:
        f.write('forbid-findings = ["nope"]\n')
    rc, _, err = run_cli("ci", SAMPLE, "--config", cfg)
    assert rc == 2 and "or 'all' for any finding" in err


@pytest.mark.parametrize(
    ("argv", "usage", "prog"),
    [
        ([SAMPLE, "--bogus"], "usage: layerscope [ui] IMAGE [--platform P]", "layerscope"),
        (["ui", SAMPLE, "--bogus"], "usage: layerscope [ui] IMAGE [--platform P]", "layerscope"),
        (["report", SAMPLE, "--bogus"], "usage: layerscope report ", "layerscope report"),
        (["ls", SAMPLE, "x", "--bogus"], "usage: layerscope ls ", "layerscope ls"),
    ],
)
def test_unknown_option_shows_the_usage_of_the_command_typed(argv: list[str], usage: str, prog: str) -> None:
    r = _run(*argv)
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.startswith(usage), r.stderr
    assert r.stderr.endswith(f"\n{prog}: error: unrecognized arguments: --bogus\n")
    assert "COMMAND" not in r.stderr  # not the top-level usage


def test_ui_usage_names_every_ui_option() -> None:
    """The hand-folded UI usage line cannot drift from the UI's options."""
    r = _run("ui", "--help")
    usage = r.stdout.split("\n\n", 1)[0]
    options = {w.split(",")[0] for w in r.stdout.split() if w.startswith("--") and w != "--help"}
    assert options == {"--platform", "--image", "--upper", "--base", "--compare", "--insecure", "--no-cache"}
    assert all(o in usage for o in options)
    assert all(len(line) <= 80 for line in usage.splitlines())


def test_plural() -> None:
    from layerscope.fmt import plural

    assert [plural(n, "path") for n in (0, 1, 2)] == ["0 paths", "1 path", "2 paths"]
    assert plural(1, "entry", "entries") == "1 entry" and plural(3, "entry", "entries") == "3 entries"


def test_counts_read_as_words() -> None:
    """No `1 events`, `1 paths match`, `(s)` in the headless text."""
    rc, out, _ = run_cli("which", SAMPLE, "/bin/sh")
    assert rc == 0 and out.startswith("/bin/sh  (1 event; visible at the top)\n")
    rc, out, _ = run_cli("which", SAMPLE, "/app/NEWS*")
    assert rc == 0 and out.startswith("1 path matches /app/NEWS*\n")
    rc, out, _ = run_cli("ci", SAMPLE, "--no-config")
    assert "forbid-findings: 1 forbidden finding (high)" in out
    rc, out, _ = run_cli("ci", SAMPLE, "--no-config", "--forbid-path", "/root/.aws/*")
    assert "forbid-paths: 1 forbidden path version ships" in out
    _, report, _ = run_cli("report", SAMPLE, "--base", "1")
    assert "1 base layer (count)" in report and "(s)" not in report
    assert "Layers    7 (+7 empty steps)" in report  # the words of the UI's Details pane
    rc, out, _ = run_cli("diff", SAMPLE, SAMPLE)
    assert "(7 layers)" in out and "(s)" not in out


def test_ci_json_messages_keep_their_wording() -> None:
    """layerscope.ci/1 is an interface: its `message` strings stay as they were (tests/fixtures)."""
    import json

    _, out, _ = run_cli("ci", SAMPLE, "--no-config", "--json")
    checks = {c["name"]: c["message"] for c in json.loads(out)["checks"]}
    assert checks["forbid-findings"] == "1 forbidden finding(s) (high)"
