"""Fixes on images whose history is known: the sample (its Containerfile
says what each layer did, umoci's listings give the sizes), generated
edge cases, the gate, and the Fixes tab.

The rebuild proofs are in test_fixes_rebuild.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import SAMPLES
from imagegen import build, file, run_cli, wh

from layerscope.analysis import analyze
from layerscope.api import load
from layerscope.cli import main
from layerscope.fixes import Fixes, FixKind, fixes

SAMPLE = str(SAMPLES / "sample-docker.tar")


def size_in(k: int, path: str) -> int:
    """A path's size in umoci's listing of the sample after layer ``k``."""
    for line in (SAMPLES / f"sample-docker.L{k}.expected.txt").read_text().splitlines():
        p, _t, _m, _u, _g, size, *_ = line.split("\t")
        if p == path:
            return int(size)
    raise KeyError(path)


def fixes_of(path: str) -> Fixes:
    return fixes(analyze(load(path)))


def test_the_sample_gets_the_fixes_its_containerfile_calls_for() -> None:
    fx = fixes_of(SAMPLE)
    by_kind = {(f.kind, *f.layers): f for f in fx.user}
    # L3 writes the credentials, L5 deletes them: rotate first, listed first
    first = fx.user[0]
    assert first.kind is FixKind.SECRET and first.paths == ("/root/.aws/credentials",) and first.layer == 3
    assert "rotate" in first.change
    # L4 chmods /etc/motd and /app/data.bin (added by the COPY of L2): each is a full copy
    meta = by_kind[(FixKind.METADATA, 2, 4)]
    assert set(meta.paths) == {"/etc/motd", "/app/data.bin"}
    assert meta.saves == size_in(2, "/etc/motd") + size_in(2, "/app/data.bin")
    assert "COPY --chmod" in meta.change  # L2 is a COPY
    # L4 rewrites /app/hello.py (cat > cat) and touches /etc/group: same bytes again
    same = by_kind[(FixKind.IDENTICAL, 2, 4)]
    assert set(same.paths) == {"/app/hello.py", "/etc/group"}
    assert same.saves == size_in(2, "/app/hello.py") + size_in(2, "/etc/group")
    # L4 replaces /app/config.txt: L2's copy is what a fix saves
    over = by_kind[(FixKind.OVERWRITTEN, 2, 4)]
    assert over.paths == ("/app/config.txt",) and over.saves == size_in(2, "/app/config.txt")
    # L5 removes what L3 made: delete in L3's own RUN, with L5's targets
    gone = by_kind[(FixKind.DELETED, 3, 5)]
    assert "rm -rf /opt/cache /srv/old /srv/remove-me.txt" in gone.change
    assert gone.saves == sum(
        size_in(3, p) for p in ("/opt/cache/one.txt", "/opt/cache/two.txt", "/srv/old/a.txt", "/srv/old/sub/b.txt")
    ) + size_in(3, "/srv/remove-me.txt")
    # every hidden byte in one fix, none twice; L0 and L1 are clean
    assert fx.fixable_bytes == analyze(load(SAMPLE)).waste.total
    assert not any({0, 1} & set(f.layers) for f in fx.fixes)
    assert fx.after() == fx.size_bytes - fx.fixable_bytes


def test_base_fixes_are_told_apart(capsys: pytest.CaptureFixture[str]) -> None:
    fx = fixes_of(str(SAMPLES / "multistage-docker.tar"))
    assert fx.user == () and fx.base and all(f.base for f in fx.base)
    assert fx.fixable_bytes == 0 and fx.base_bytes == sum(f.saves for f in fx.base)
    rc, out, _ = run_cli("report", str(SAMPLES / "multistage-docker.tar"))
    assert rc == 0
    assert "Fixes: none in the user's layers" in out and "nothing to change here but the base" in out


def test_no_fix_where_nothing_hides_anything(tmp_path: Path) -> None:
    img = build(tmp_path, [[file("/a", b"x" * 5000)], [file("/b", b"y" * 5000)]])
    assert fixes_of(img).fixes == ()
    (tmp_path / "flat").mkdir()
    flat = build(tmp_path / "flat", [[file("/a", b"x" * 5000), file("/b", b"y" * 5000)]])
    assert fixes_of(flat).fixes == ()


def test_a_cache_deleted_later_is_one_fix_not_two(tmp_path: Path) -> None:
    img = build(
        tmp_path,
        [
            [file("/var/lib/apt/lists/x_InRelease", b"l" * 7000), file("/usr/bin/tool", b"t" * 100)],
            [wh("/var/lib/apt/lists/x_InRelease")],
        ],
    )
    fx = fixes_of(img)
    assert [(f.kind, f.saves) for f in fx.fixes] == [(FixKind.CACHE, 7000)]
    assert "rm -rf /var/lib/apt/lists/*" in fx.fixes[0].change


def test_names_from_the_image_are_escaped(tmp_path: Path) -> None:
    evil = "/app/\x1b]0;pwned\x07\x1b[31mred"
    img = build(tmp_path, [[file(evil, b"z" * 3000)], [wh(evil)]])
    rc, out, _ = run_cli("report", img)
    assert rc == 0 and "Fixes: 1 change" in out
    assert "\x1b" not in out and "\x07" not in out


def test_report_json_fixes(tmp_path: Path) -> None:
    rc, out, _ = run_cli("report", SAMPLE, "--json")
    assert rc == 0
    doc = json.loads(out)
    assert doc["image"]["fixes"]["fixable_bytes"] == doc["image"]["waste"]["total_bytes"] == 825
    kinds = [f["kind"] for f in doc["fixes"]]
    assert kinds[0] == "secret-shipping" and doc["fixes"][0]["severity"] == "high"
    for f in doc["fixes"]:
        assert f["size_after_bytes"] == doc["image"]["fixes"]["size_bytes"] - f["saves_bytes"]
        assert len(f["commands"]) == len(f["layers"])


def test_gate_on_fixable_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["ci", SAMPLE, "--max-fixable", "824"]) == 1
    assert main(["ci", SAMPLE, "--max-fixable", "825"]) == 0
    assert main(["ci", SAMPLE, "--max-fixable", "0.05%"]) == 0
    assert main(["ci", SAMPLE, "--max-fixable", "0.04%"]) == 1  # 825 B of 1,984,121 B is 0.0416 %
    capsys.readouterr()
    (tmp_path / ".layerscope.toml").write_text('max-fixable = "100B"\n')
    assert main(["ci", SAMPLE, "--json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    check = {c["name"]: c for c in doc["checks"]}["max-fixable-bytes"]
    assert check["status"] == "fail" and check["value"] == 825 and check["limit"] == 100
    assert main(["ci", SAMPLE, "--max-fixable", "lots"]) == 2
    assert "--max-fixable" in capsys.readouterr().err


def _stanza(name: str) -> str:
    return f"Package: {name}\nStatus: install ok installed\nVersion: 1.0\nArchitecture: amd64\n\n"


def test_build_tools_kept_are_a_fix_at_the_layer_that_installed_them(tmp_path: Path) -> None:
    """gcc-12 and libc6-dev installed by layer 1 and still there: one fix
    there for their files' bytes; gcc-12-base and curl are runtime."""
    status0 = _stanza("curl") + _stanza("gcc-12-base")
    status1 = status0 + _stanza("gcc-12") + _stanza("libc6-dev")
    img = build(
        tmp_path,
        [
            [
                file("/var/lib/dpkg/status", status0),
                file("/var/lib/dpkg/info/curl.list", "/usr/bin/curl\n"),
                file("/var/lib/dpkg/info/gcc-12-base.list", "/usr/share/doc/gcc-12-base/README\n"),
                file("/usr/bin/curl", b"c" * 3000),
                file("/usr/share/doc/gcc-12-base/README", b"r" * 200),
            ],
            [
                file("/var/lib/dpkg/status", status1),
                file("/var/lib/dpkg/info/gcc-12.list", "/usr/bin/gcc-12\n/usr/lib/gcc/cc1\n"),
                file("/var/lib/dpkg/info/libc6-dev.list", "/usr/include/stdio.h\n"),
                file("/usr/bin/gcc-12", b"g" * 40_000),
                file("/usr/lib/gcc/cc1", b"1" * 90_000),
                file("/usr/include/stdio.h", b"h" * 5_000),
            ],
            [file("/app/server", b"s" * 100)],
        ],
    )
    from layerscope.packages.index import build as packages

    merged = load(img)
    a = analyze(merged)
    # the status file layer 1 rewrote is a fix of its own (one RUN would write it once)
    assert [f.kind for f in fixes(a).fixes] == [FixKind.OVERWRITTEN]
    fx = fixes(a, packages(merged))
    [fix] = [f for f in fx.fixes if f.kind is FixKind.BUILD_TOOLS]
    assert fix.kind is FixKind.BUILD_TOOLS and fix.layer == 1 and not fix.exact
    assert fix.saves == 40_000 + 90_000 + 5_000 and fix.files == 3
    assert set(fix.paths) == {"deb:gcc-12@1.0", "deb:libc6-dev@1.0"}
    assert "COPY --from=build" in fix.change
    rc, out, _ = run_cli("report", img)
    assert rc == 0 and "saves 135.0 kB: layer 1 installs 2 build tools" in out
    rc, out, _ = run_cli("report", img, "--json")
    assert json.loads(out)["image"]["fixes"]["fixable_bytes"] == 135_000 + len(status0)
    assert main(["ci", img, "--no-config", "--max-fixable", "100kB"]) == 1
