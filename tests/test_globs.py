"""One glob meaning everywhere: the UI's search, ``ci --forbid-path``/``--ignore-path`` and ``which``.

The expectations are written by hand, per pattern, over every path of one
small image (README, "Path patterns"): ``*`` stays inside a segment, ``**``
crosses ``/``, a pattern without ``/`` matches the base name.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT
from imagegen import build, d, file

from layerscope.analysis import analyze
from layerscope.api import load
from layerscope.cli import main
from layerscope.gate import GateConfigError, Thresholds, evaluate, thresholds
from layerscope.merge import Merged
from layerscope.snapshot import compile_query, search

LAYER = [
    d("root"), d("root/.ssh"), file("root/.ssh/id_rsa"), d("root/.ssh/a"), file("root/.ssh/a/b"),
    file("id_rsa"),
    d("a"), file("a/b"), d("a/x"), file("a/x/b"), d("a/x/y"), file("a/x/y/b"),
    d("etc"), file("etc/passwd"), d("etc/ssl"), file("etc/ssl/key.pem"), file("key.pem"),
    d("usr"), d("usr/lib"), file("usr/lib/libfoo.so"), d("usr/lib/x86"), file("usr/lib/x86/libbar.so"),
    file("lib[1].so"), file("lib1.so"),
    d("srv"), d("srv/etc"), file("srv/etc/passwd"),
]  # fmt: skip

ALL = {
    "/root", "/root/.ssh", "/root/.ssh/id_rsa", "/root/.ssh/a", "/root/.ssh/a/b", "/id_rsa",
    "/a", "/a/b", "/a/x", "/a/x/b", "/a/x/y", "/a/x/y/b",
    "/etc", "/etc/passwd", "/etc/ssl", "/etc/ssl/key.pem", "/key.pem",
    "/usr", "/usr/lib", "/usr/lib/libfoo.so", "/usr/lib/x86", "/usr/lib/x86/libbar.so",
    "/lib[1].so", "/lib1.so", "/srv", "/srv/etc", "/srv/etc/passwd",
}  # fmt: skip

# pattern -> every path of LAYER it matches
GLOBS: dict[str, set[str]] = {
    "/root/.ssh/*": {"/root/.ssh/id_rsa", "/root/.ssh/a"},  # not /root/.ssh/a/b: * stays in its segment
    "/root/.ssh/**": {"/root/.ssh/id_rsa", "/root/.ssh/a", "/root/.ssh/a/b"},  # everything under, not the dir
    "**/id_rsa": {"/root/.ssh/id_rsa", "/id_rsa"},  # any depth, the root included
    "*.pem": {"/etc/ssl/key.pem", "/key.pem"},  # no "/": the base name
    "**/*.pem": {"/etc/ssl/key.pem", "/key.pem"},
    "/*.pem": {"/key.pem"},
    "/a/**/b": {"/a/b", "/a/x/b", "/a/x/y/b"},  # ** as a segment: zero or more segments
    "/a/*/b": {"/a/x/b"},
    "/a/**": {"/a/b", "/a/x", "/a/x/b", "/a/x/y", "/a/x/y/b"},
    "/usr/**/*.so": {"/usr/lib/libfoo.so", "/usr/lib/x86/libbar.so"},
    "/usr/**.so": set(),  # ** inside a segment is *, as in .gitignore
    "/**/lib/**": {"/usr/lib/libfoo.so", "/usr/lib/x86", "/usr/lib/x86/libbar.so"},
    "**/**/passwd": {"/etc/passwd", "/srv/etc/passwd"},
    "/*/**/b": {"/a/b", "/a/x/b", "/a/x/y/b", "/root/.ssh/a/b"},
    "/usr/lib/*.so": {"/usr/lib/libfoo.so"},
    "/usr/*/*.so": {"/usr/lib/libfoo.so"},
    "/etc/?asswd": {"/etc/passwd"},
    "/etc/p?swd": set(),  # ? is exactly one character
    "/etc/[op]asswd": {"/etc/passwd"},
    "/etc/[!p]asswd": set(),
    "/etc/[^p]asswd": set(),
    "/a[!x]b": set(),  # a class never matches "/"
    "/a?b": set(),  # nor does ?
    "*/passwd": {"/etc/passwd"},  # a "/" anchors at the root
    "**/passwd": {"/etc/passwd", "/srv/etc/passwd"},
    "lib[0-9].so": {"/lib1.so"},
    "lib\\[1\\].so": {"/lib[1].so"},  # \ makes a bracket literal
    "*.PEM": set(),  # case-sensitive
    "/a/*/": {"/a/b", "/a/x"},  # a trailing / is ignored
    "**": ALL,
    "/**": ALL,
    "*": ALL,
}

# Patterns without glob characters: the gate reads them as globs too (a name, or a whole path);
# search reads them as fragments, so they are not part of the agreement table.
PLAIN: dict[str, set[str]] = {
    "id_rsa": {"/root/.ssh/id_rsa", "/id_rsa"},
    "passwd": {"/etc/passwd", "/srv/etc/passwd"},
    "/etc/ssl": {"/etc/ssl"},
    "etc/passwd": {"/etc/passwd"},
    "/a/": {"/a"},
}


@pytest.fixture(scope="module")
def merged(tmp_path_factory: pytest.TempPathFactory) -> Merged:
    m = load(build(tmp_path_factory.mktemp("globs"), [LAYER]))
    assert set(m.paths()) == ALL
    return m


def _gate_hits(merged: Merged, forbid: list[str], ignore: list[str] | None = None) -> set[str]:
    th = Thresholds(forbid_paths=forbid, ignore_paths=ignore or [])
    return {p for p, _ in evaluate(merged, analyze(merged), th).forbidden_paths}


def _searched(merged: Merged, query: str) -> set[str]:
    found, total = search(merged, merged.top, query)
    assert total == len(found)
    return {n.path for n in found}


@pytest.mark.parametrize("pattern", sorted(GLOBS))
def test_search_and_gate_agree(merged: Merged, pattern: str) -> None:
    expected = GLOBS[pattern]
    assert _searched(merged, pattern) == expected
    assert _gate_hits(merged, [pattern]) == expected
    # --ignore-path uses the same meaning: forbidding everything but the pattern leaves the rest
    assert _gate_hits(merged, ["/**"], [pattern]) == ALL - expected


@pytest.mark.parametrize("pattern", sorted(PLAIN))
def test_gate_reads_plain_patterns_as_names_or_paths(merged: Merged, pattern: str) -> None:
    assert _gate_hits(merged, [pattern]) == PLAIN[pattern]


def test_search_keeps_fragments_and_regexes(merged: Merged) -> None:
    assert _searched(merged, "SSH/ID") == {"/root/.ssh/id_rsa"}  # a fragment, any case
    assert _searched(merged, "re:^/a/x(/|$)") == {"/a/x", "/a/x/b", "/a/x/y", "/a/x/y/b"}
    with pytest.raises(ValueError, match="bad regular expression"):
        compile_query("re:(")


@pytest.mark.parametrize("pattern", sorted(GLOBS))
def test_which_lists_what_the_gate_forbids(
    merged: Merged, pattern: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from layerscope.errors import LayerscopeError
    from layerscope.stacks import PathStack, which

    expected = GLOBS[pattern]
    if not expected:
        with pytest.raises(LayerscopeError, match="no path in any layer matches"):
            which(merged, pattern, limit=0)
        return
    found = which(merged, pattern, limit=0)
    paths = {found.path} if isinstance(found, PathStack) else {s.path for s in found.stacks}
    assert paths == expected


def test_forbid_path_star_stays_in_its_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    img = build(tmp_path, [LAYER])
    assert main(["ci", img, "--no-config", "--json", "--forbid-path", "/root/.ssh/*"]) == 1
    hits = {h["path"] for h in json.loads(capsys.readouterr().out)["forbidden_paths"]}
    assert hits == {"/root/.ssh/id_rsa", "/root/.ssh/a"}
    assert main(["ci", img, "--no-config", "--json", "--forbid-path", "/usr/lib/*.so", "--max-wasted-bytes", "0"]) == 1
    hits = {h["path"] for h in json.loads(capsys.readouterr().out)["forbidden_paths"]}
    assert hits == {"/usr/lib/libfoo.so"}


def test_an_empty_pattern_is_a_config_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(GateConfigError, match="empty path pattern"):
        thresholds(None, {"forbid_paths": ["/ok/*", " "]}, use_config=False)
    img = build(tmp_path, [LAYER])
    assert main(["ci", img, "--no-config", "--ignore-path", ""]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--ignore-path: empty path pattern" in err


def test_compile_glob_directly() -> None:
    from layerscope.globs import GlobError, compile_glob, compile_globs, is_glob

    for pattern, paths in {**GLOBS, **PLAIN}.items():
        match = compile_glob(pattern)
        assert {p for p in ALL if match(p)} == paths, pattern
    assert is_glob("*.pem") and is_glob("a?") and is_glob("[ab]") and not is_glob("/etc/passwd")
    assert compile_glob("/[/]")("/") is False  # "/" only separates segments
    assert compile_glob("/a/b[")("/a/b[") and compile_glob("x[]y]")("/x]")  # unclosed [, ] first in a class
    assert compile_glob("/dir/**")("/dir/line\nbreak")  # hostile names still match
    assert compile_globs([])("/a") is False and compile_globs(["/a", "/b"])("/b")
    with pytest.raises(GlobError):
        compile_glob("")


def test_hostile_paths_do_not_make_patterns_backtrack() -> None:
    """Paths come from untrusted images (4096 characters, 2000 segments deep); patterns from the user.

    Naive translations backtrack polynomially in the number of stars; these
    would take hours. Run in a subprocess so a regression fails instead of hanging.
    """
    code = (
        "from layerscope.globs import compile_glob\n"
        "deep = '/' + '/'.join(['a'] * 2000) + '/y'\n"
        "wide = '/' + 'a' * 4000\n"
        "cases = [('**/a/**/a/**/a/**/x', deep), ('**/**/**/**/x', deep), ('/**/a/*/*/*/x', deep),\n"
        "         ('*a*a*a*a*a*a*b', wide), ('/**/a*a*a*a*a*b', wide), ('[!b]*[!b]*[!b]*b', wide)]\n"
        "for _ in range(20):\n"
        "    assert not any(compile_glob(p)(path) for p, path in cases)\n"
        "assert compile_glob('**/a/**/a/**/y')(deep) and compile_glob('*a*a*a')(wide)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=20)
