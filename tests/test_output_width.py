"""Every headless text command fits the width it is given, in display cells.

Each command runs as a real subprocess at 60, 80 and 120 columns, twice: piped
with ``COLUMNS`` set, and on a pseudo-terminal whose size is set with
TIOCSWINSZ (no ``COLUMNS``: the terminal's own width must be found). Widths
are measured in cells (``rich.cells.cell_len``: a CJK character takes two),
never in bytes or code points. A line may be wider only when it is one
unbreakable token (a path longer than the width), and then it stands alone.
No line ends in spaces. ``cat`` writes raw bytes and is exempt.

What folding must not do is lose or alter text: the words of a folded output
are the words of the same output at 400 columns, and the digests ``diff`` and
``report`` print come from the image's own files (the config's name in
manifest.json, its rootfs.diff_ids), read here with tarfile.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from conftest import SAMPLES
from imagegen import build, config_for, d, docker_archive, file, layer_tar
from rich.cells import cell_len
from test_report_width import _env, _run_in_pty

SAMPLE = str(SAMPLES / "sample-docker.tar")
GZIP = str(SAMPLES / "sample-oci-gzip.tar")
MULTI = str(SAMPLES / "multistage-docker.tar")

COMMANDS: dict[str, list[str]] = {
    "report": ["report", SAMPLE],
    "report --layer": ["report", SAMPLE, "--layer", "3"],
    "ls": ["ls", SAMPLE],
    "ls --long": ["ls", SAMPLE, "--long"],
    "ls --long -h": ["ls", SAMPLE, "--long", "-h"],
    "ls --deleted": ["ls", SAMPLE, "--deleted", "--long"],
    "ls --changes": ["ls", SAMPLE, "--changes", "--layer", "5", "--long"],
    "which": ["which", SAMPLE, "/tmp"],
    "which glob": ["which", SAMPLE, "/app/**"],
    "diff shared": ["diff", SAMPLE, GZIP],
    "diff paths": ["diff", SAMPLE, MULTI],
    "ci": ["ci", SAMPLE, "--no-config", "--forbid", "all", "--forbid-path", "/root/**"],
    "packages": ["packages", SAMPLE, "--changes"],
}
EXIT = {"diff paths": 1, "ci": 1}  # they differ / the gate fails
WIDTHS = [60, 80, 120]


def _piped(argv: list[str], width: int | None, code: int = 0) -> str:
    env = _env(**({"COLUMNS": str(width)} if width else {}))
    r = subprocess.run(
        [sys.executable, "-m", "layerscope", *argv], capture_output=True, text=True, env=env, timeout=120
    )
    assert r.returncode == code, r.stderr
    return r.stdout


def _terminal(argv: list[str], width: int) -> str:
    return _run_in_pty([sys.executable, "-m", "layerscope", *argv], width)


def check_fits(out: str, width: int) -> None:
    """No line wider than ``width`` cells unless it is one token alone; none ends in blanks."""
    lines = out.splitlines()
    assert lines, "no output"
    trailing = [ln for ln in lines if ln != ln.rstrip()]
    assert not trailing, f"{len(trailing)} lines end in blanks: {trailing[:3]!r}"
    wide = [ln for ln in lines if cell_len(ln) > width and len(ln.split()) > 1]
    assert not wide, f"lines wider than {width} cells: {wide[:3]}"


def words(text: str) -> list[str]:
    return text.split()


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("name", list(COMMANDS))
def test_piped_output_fits_columns(name: str, width: int) -> None:
    out = _piped(COMMANDS[name], width, EXIT.get(name, 0))
    check_fits(out, width)


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("name", list(COMMANDS))
def test_terminal_output_fits_the_terminal(name: str, width: int) -> None:
    out = _terminal(COMMANDS[name], width)
    check_fits(out, width)
    # the terminal's width was found: the same lines as piped with COLUMNS of that width
    assert out.splitlines() == _piped(COMMANDS[name], width, EXIT.get(name, 0)).splitlines()


def test_piped_without_columns_is_160_wide() -> None:
    """One rule for every command: a pipe without COLUMNS is 160 columns."""
    which = _piped(["which", SAMPLE, "/tmp"], None)
    assert which == _piped(["which", SAMPLE, "/tmp"], 160)
    assert max(cell_len(ln) for ln in which.splitlines()) > 100  # not 80: the fixed width is used
    ci = _piped(COMMANDS["ci"], None, 1)
    assert ci == _piped(COMMANDS["ci"], 160, 1)


@pytest.mark.parametrize("name", ["ls --long", "ls --deleted", "ls --changes", "diff paths", "ci", "which glob"])
@pytest.mark.parametrize("width", [60, 80])
def test_folding_keeps_every_word(name: str, width: int) -> None:
    """Folded output is the wide output with line breaks moved, nothing cut."""
    narrow = _piped(COMMANDS[name], width, EXIT.get(name, 0))
    wide = _piped(COMMANDS[name], 400, EXIT.get(name, 0))
    if name == "which glob":  # which cuts each command to one line (marked …); the rest is whole
        command = (" " * 9 + "RUN ", " " * 9 + "COPY ")
        narrow = "\n".join(ln for ln in narrow.splitlines() if not ln.startswith(command))
        wide = "\n".join(ln for ln in wide.splitlines() if not ln.startswith(command))
    assert words(narrow) == words(wide)
    if width == 60:
        assert len(narrow.splitlines()) > len(wide.splitlines())  # it did have to fold


def test_ls_continuations_are_indented_and_paths_whole() -> None:
    out = _piped(["ls", SAMPLE, "--deleted", "--long"], 60)
    lines = out.splitlines()
    assert all(ln.startswith(("-", "d", "l", "h", "    ")) for ln in lines)
    # a path too long for its line moves whole to an indented line of its own
    i = lines.index("    /data/dirtofile/nested/y.txt")
    # and the note after it, whole on the next line, since it fits on one
    assert lines[i - 1].endswith(" L6 deleted") and lines[i + 1] == "    (/data/dirtofile replaced; still ships in L3)"
    # every deleted path that still ships (umoci's lower trees minus its top tree) is there, whole
    trees = [
        {ln.split("\t", 1)[0] for ln in (SAMPLES / f"sample-docker.L{k}.expected.txt").read_text().splitlines() if ln}
        for k in range(7)
    ]
    gone = set().union(*trees[:6]) - trees[6]
    tokens = {w.rstrip(";)") for w in out.split()}
    assert gone and gone <= tokens, gone - tokens


def test_wide_characters_count_as_two_cells(tmp_path: Path) -> None:
    """A CJK name of 22 characters is 44 cells: `L0 added        /名…` fits 60 code points, not 60 cells."""
    name = "/" + "文" * 22
    img = build(tmp_path, [[d("/x"), file(name, "a")]])
    out = _piped(["ls", img, name], 60)
    assert len(f"L0 added        {name}") <= 60 < cell_len(f"L0 added        {name}")
    assert out.splitlines() == ["L0 added", f"    {name}"]
    check_fits(out, 60)
    assert _piped(["ls", img, name], 80).splitlines() == [f"L0 added        {name}"]


def test_which_folds_and_cuts_commands_at_the_width() -> None:
    out80 = _piped(["which", SAMPLE, "/tmp"], 80)
    lines = out80.splitlines()
    assert lines[0] == "/tmp  (2 events; visible at the top)"
    commands = [ln for ln in lines if ln.startswith(" " * 9)]
    assert len(commands) == 2 and all(cell_len(ln) == 80 and ln.endswith("…") for ln in commands)
    assert commands[0].startswith("         RUN mkdir -p /root/.aws /srv/old/sub /opt/cache")
    # a symlink's arrow stays with its target
    sh = _piped(["which", SAMPLE, "/bin/sh"], 60).splitlines()
    assert "-> /bin/busybox" in " ".join(sh) and not any(ln.rstrip().endswith("->") for ln in sh)


def _diff_ids(archive: str) -> list[str]:
    with tarfile.open(archive) as tf:
        manifest = json.load(tf.extractfile("manifest.json"))  # type: ignore[arg-type]
        config = json.load(tf.extractfile(manifest[0]["Config"]))  # type: ignore[arg-type]
    return list(config["rootfs"]["diff_ids"])


def _config_digest(archive: str) -> str:
    with tarfile.open(archive) as tf:
        manifest = json.load(tf.extractfile("manifest.json"))  # type: ignore[arg-type]
    return "sha256:" + Path(manifest[0]["Config"]).name.removesuffix(".json")


@pytest.mark.parametrize("width", WIDTHS)
def test_diff_digests_whole_or_short_never_broken(width: int) -> None:
    ids = _diff_ids(SAMPLE)
    out = _piped(["diff", SAMPLE, GZIP], width)
    shared = [ln for ln in out.splitlines() if ln.startswith("  A L")]
    # a whole digest needs 15 + 71 = 86 columns; short ones are docker's 12 hex digits
    want = [f"  A L{i} = B L{i}  {d if width >= 86 else d.removeprefix('sha256:')[:12]}" for i, d in enumerate(ids)]
    assert shared == want


@pytest.mark.parametrize("width", WIDTHS)
def test_report_config_digest_and_list_hint(width: int) -> None:
    out = _piped(["report", SAMPLE], width)
    lines = out.splitlines()
    digest = _config_digest(SAMPLE)
    config = [ln for ln in lines if ln.startswith("Config")]
    assert len(config) == 1
    shown = config[0].split()[1]
    assert shown == (digest if width >= 10 + len(digest) else digest.removeprefix("sha256:")[:12])
    i = next(i for i, ln in enumerate(lines) if ln.startswith("  list them: layerscope ls"))
    hint = [lines[i]] + [ln for ln in lines[i + 1 : i + 3] if ln.startswith("    ")]
    assert " ".join(" ".join(hint).split()) == f"list them: layerscope ls {SAMPLE} [--deleted | --changes]"
    assert all(ln.startswith("    ") for ln in hint[1:])  # continuations indented, never at column 0
    # a size never loses its unit to the next line, nor one of dive's names its figure
    assert not [ln for ln in lines if re.match(r"^\s*(B|kB|MB|%)\b", ln)], lines
    assert not [ln for ln in lines if ln.endswith(("wastedBytes", "userWastedPercent"))], lines


def test_report_piped_has_no_trailing_spaces_at_any_width() -> None:
    for width in (60, 80, 100, 120, 160, 200):
        out = _piped(["report", SAMPLE], width)
        assert not [ln for ln in out.splitlines() if ln != ln.rstrip()], width
    assert "Layers    7 (+7 empty steps)" in out


def test_colour_codes_keep_lines_free_of_trailing_blanks() -> None:
    """On a terminal Rich colours the cells; the padding after them goes too."""
    out = subprocess.run(
        [sys.executable, "-c", "import sys; from layerscope.cli import main; sys.exit(main(sys.argv[1:]))", "report",
         SAMPLE],
        capture_output=True, text=True, env={**_env(COLUMNS="80"), "FORCE_COLOR": "1", "TERM": "xterm"}, timeout=120,
    ).stdout  # fmt: skip
    assert "\x1b[" in out
    plain = re.sub(r"\x1b\[[0-9;]*m", "", out)
    assert not [ln for ln in plain.splitlines() if ln != ln.rstrip()]


def test_layout_width_rule_is_shared() -> None:
    """report, ls, which, diff and ci ask one function for the width."""
    from layerscope import layout
    from layerscope.text import ci, diff, ls, report, which

    assert report.output_width is layout.output_width and ls.output_width is layout.output_width
    src = [Path(m.__file__).read_text() for m in (report, ls, ci, diff, which)]
    cli = (Path(layout.__file__).parent / "cli.py").read_text()
    assert not any("environ" in text or "get_terminal_size" in text for text in src)
    assert "COLUMNS" not in cli and "get_terminal_size" not in cli
    assert cli.count("output_width(sys.stdout)") == 4  # ci, diff, which, packages; report and ls ask themselves
    assert os.environ.get("COLUMNS") is None  # conftest keeps the test terminal's width out


def test_fold_rules() -> None:
    """The one folding rule, on text written out here: where a line may and may not break."""
    from layerscope.layout import Atom, Keep, fold, short_digest

    # a size keeps its unit; continuation lines are indented; no line ends in a space
    assert fold(["wasted 825 B (0.04 %), efficiency 99.96 %"], 16, 2) == [
        "wasted 825 B",
        "  (0.04 %),",
        "  efficiency",
        "  99.96 %",
    ]
    # an atom is never broken, even at its spaces; too long for any line, it stands alone
    assert fold(["L1 ", Atom("/a b/c d"), " note"], 8, 2) == ["L1", "  /a b/c d", "  note"]
    # a Keep moves whole to the next line when it fits on one there
    assert fold(["/srv/old", Keep("  (whiteout; still ships in L3)")], 34, 4) == [
        "/srv/old",
        "    (whiteout; still ships in L3)",
    ]
    assert fold(["/srv/old", Keep("  (whiteout; ships in L3)")], 20, 4) == [
        "/srv/old  (whiteout;",
        "    ships in L3)",
    ]  # longer than a line: it flows
    # display cells, not code points: 文 takes two ("ab 文文文" is 6 code points, 9 cells)
    assert fold(["a ", Atom("文文文")], 8) == ["a 文文文"]
    assert fold(["ab ", Atom("文文文")], 8) == ["ab", "    文文文"]
    assert short_digest("sha256:2c7110722b50e0ce4e7cb08aaaa712ab") == "2c7110722b50"


def test_report_puts_a_long_directory_on_its_own_line(tmp_path: Path) -> None:
    """The Container row names the upper directory whole on a line of its own, not split after 'read from'."""
    upper = tmp_path / ("upper-" + "x" * 40) / "diff"
    (upper / "app").mkdir(parents=True)
    (upper / "app" / "x").write_text("hi")
    out = _piped(["report", SAMPLE, "--upper", str(upper)], 80)
    check_fits(out, 80)
    lines = out.splitlines()
    i = next(i for i, ln in enumerate(lines) if ln.startswith("Container"))
    assert lines[i].endswith(" read from")
    rest = "".join(ln.strip() for ln in lines[i + 1 : i + 3] if ln.startswith(" " * 11))
    assert rest.startswith(str(upper))


@pytest.mark.parametrize("width", [60, 80])
def test_damaged_image_warnings_and_problems_fit(tmp_path: Path, width: int) -> None:
    """report's Warnings (✗ lines) and ci's problem lines fold like the rest, indented."""
    from test_gate_strict import gzip_truncated, with_layer1

    image = with_layer1(tmp_path, gzip_truncated())
    report = _piped(["report", image], width)
    check_fits(report, width)
    lines = report.splitlines()
    i = lines.index("Warnings (1):")
    assert lines[i + 1].startswith("  ✗ ") and lines[i + 2].startswith("    ")  # a continuation, indented
    ci = _piped(["ci", image, "--no-config"], width, 2)
    check_fits(ci, width)
    assert "DAMAGED: layer 1 (" in " ".join(ci.split()) and ci.rstrip().endswith("was read)")
    assert words(ci) == words(_piped(["ci", image, "--no-config"], 400, 2))


@pytest.mark.parametrize("width", WIDTHS)
def test_packages_changes_cut_long_commands_to_the_width(tmp_path: Path, width: int) -> None:
    """``packages --changes`` heads each layer with its command, cut to one line (marked …)
    as ``which`` cuts it; the package lines fold as every other command's do."""
    status = b"Package: good\nStatus: install ok installed\nVersion: 1.0-1\nArchitecture: amd64\n\n"
    command = "RUN apt-get update && apt-get install -y --no-install-recommends " + " ".join(
        f"package-number-{i}" for i in range(12)
    )
    layers = [
        layer_tar([file("/var/lib/dpkg/status", status), file("/var/lib/dpkg/info/good.list", "/usr/bin/good\n")]),
        layer_tar([file("/opt/app/" + "x" * 30 + "/server.sh", b"#!/bin/sh\n")]),
    ]
    history = [{"created_by": "/bin/sh -c #(nop) ADD file:abc in /"}, {"created_by": f"/bin/sh -c {command[4:]}"}]
    img = docker_archive(tmp_path / "image.tar", layers, config_for(layers, history))
    out = _piped(["packages", img, "--changes"], width)
    check_fits(out, width)
    (head,) = [ln for ln in out.splitlines() if ln.startswith("Layer 1: ")]
    assert cell_len(head) == width and head.endswith("…")
    assert command.startswith(head.removeprefix("Layer 1: ").removesuffix("…"))
    assert f"Layer 1: {command}" in _piped(["packages", img, "--changes"], 400).splitlines()
