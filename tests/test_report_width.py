"""`layerscope report` keeps every number and unit at any width; commands give way.

Run as a real subprocess, piped (COLUMNS decides the width, 160 without it)
and in a pseudo-terminal (the terminal's width). Expectations come from
outside layerscope: the layer sizes dive 0.13.1 reports for the sample image
(`dive --json`: layer sizeBytes), and added/deleted counts from the umoci
listings in sample_images/ (paths new in, and gone from, each layer's tree).
"""

from __future__ import annotations

import fcntl
import os
import pty
import re
import struct
import subprocess
import sys
import termios
import time

import pytest
from conftest import ROOT, SAMPLES

SAMPLE = str(SAMPLES / "sample-docker.tar")

# dive 0.13.1, `dive --source docker-archive sample-docker.tar --json x.json`:
# layer[].sizeBytes = 1982256, 0, 943, 203, 680, 6, 33 (1982256 B = 2.0 MB in SI units)
DIVE_LAYER_SIZES = ["2.0 MB", "0 B", "943 B", "203 B", "680 B", "6 B", "33 B"]

ROW = re.compile(
    r"^\s*[▶b]?(?P<index>\d+) │\s+(?P<size>\d+(?:\.\d)? [kMGT]?B) │\s+(?P<add>\d+) │\s+(?P<mod>\d+) │\s+(?P<meta>\d+)"
    r" │\s+(?P<same>\d+) │\s+(?P<dels>\d+) │\s+(?P<waste>-|\d+(?:\.\d)? [kMGT]?B)(?: │ (?P<command>.*))?$"
)
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07")


def _paths(k: int) -> set[str]:
    text = (SAMPLES / f"sample-docker.L{k}.expected.txt").read_text()
    return {line.split("\t", 1)[0] for line in text.splitlines() if line}


def _expected_counts() -> list[tuple[int, int]]:
    """(added, deleted) per layer: paths new in layer k's tree, paths gone from it."""
    out = []
    before: set[str] = set()
    for k in range(7):
        now = _paths(k)
        out.append((len(now - before), len(before - now)))
        before = now
    return out


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.update(extra)
    return env


def _report(*args: str, **env: str) -> str:
    r = subprocess.run(
        [sys.executable, "-m", "layerscope", "report", SAMPLE, *args],
        capture_output=True,
        text=True,
        env=_env(**env),
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    return r.stdout


def _check_layer_table(out: str, width: int, command: bool = True) -> list[re.Match[str]]:
    lines = out.splitlines()
    too_long = [ln for ln in lines if len(ln) > width]
    assert not too_long, f"lines wider than {width}: {too_long[:3]}"
    header = [ln for ln in lines if ln.lstrip().startswith("# ┃")]
    assert header and all(h in header[0] for h in ("Size", "Add", "Mod", "Meta", "Same", "Del", "Waste"))
    assert ("Command" in header[0]) == command
    rows = [m for m in map(ROW.match, lines) if m]
    assert [int(m["index"]) for m in rows] == list(range(7)), out
    counts = _expected_counts()
    for m in rows:
        k = int(m["index"])
        assert m["size"] == DIVE_LAYER_SIZES[k]
        assert (int(m["add"]), int(m["dels"])) == counts[k], m.group(0)
        assert not command or (m["command"] or "").strip(), "the command column vanished"
    return rows


@pytest.mark.parametrize("width", [80, 100, 120, 200])
def test_piped_report_honours_columns(width: int) -> None:
    out = _report(COLUMNS=str(width))
    rows = _check_layer_table(out, width)
    l1 = rows[1]["command"].rstrip()
    full = 'RUN ["/bin/busybox", "--install", "-s", "/bin"]'
    if width >= 120:
        assert l1 == full  # room enough: commands are not cut for nothing
    else:
        assert l1.endswith("…") and full.startswith(l1[:-1])
    # every figure of the waste summary keeps its unit
    assert re.search(r"^Wasted\s+825 B\s", out, re.M)
    assert re.search(r"^dive\s+1\.4 kB\s", out, re.M)
    assert "efficiency 99.96 %" in out
    # the dive figures are labelled as dive's (they may wrap at 80 columns)
    assert "dive 0.13.1's figures: efficiency 99.9611 %" in " ".join(out.split())
    # the other tables: sizes whole, paths whole at this width
    assert re.search(r"^\s*300 B │ metadata\s+│ L2 │ L4 │ /app/data\.bin\s", out, re.M)
    assert re.search(r"^high\s+│ secret-hidden │ 3 │ 90 B │ /root/\.aws/credentials\s", out, re.M)


def test_piped_report_without_columns_is_160_wide() -> None:
    out = _report()
    _check_layer_table(out, 160)
    assert max(len(ln) for ln in out.splitlines()) > 120  # the fixed width is used, not 80


def test_narrow_paths_keep_their_file_name() -> None:
    """At 60 columns commands give way first (cut, then left out), then path heads."""
    out = _report(COLUMNS="60")
    _check_layer_table(out, 60, command=False)  # 12 cells of command do not fit beside the numbers
    findings = [ln for ln in out.splitlines() if ln.startswith(("high ", "medium "))]
    assert findings and all(" B │ " in ln for ln in findings)
    # the detail column is left out; the path keeps its end
    assert any(re.search(r"│ …[\w/.-]*/bin/suid-helper$", ln.rstrip()) for ln in findings), findings


def test_report_layer_points_to_ls() -> None:
    out = _report("--layer", "3", COLUMNS="200")
    assert "As of layer 3: 320 paths visible, 0 deleted paths still ship" in out
    assert f"layerscope ls {SAMPLE} --layer 3" in out
    rows = _check_layer_table(out, 200)
    assert rows[3].group(0).lstrip().startswith("▶3")


def _run_in_pty(argv: list[str], cols: int, rows: int = 50) -> str:
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    p = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=_env(TERM="xterm"), close_fds=True)
    os.close(slave)
    chunks: list[bytes] = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    p.wait(timeout=30)
    os.close(master)
    return ANSI.sub("", b"".join(chunks).decode("utf-8", "replace")).replace("\r\n", "\n")


@pytest.mark.parametrize("cols", [100, 150])
def test_terminal_report_fits_the_terminal(cols: int) -> None:
    """The widths the issue saw break: 100 (table collapsed) and 150 (units wrapped away)."""
    out = _run_in_pty([sys.executable, "-m", "layerscope", "report", SAMPLE], cols)
    _check_layer_table(out, cols)
