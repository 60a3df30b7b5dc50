"""layerscope's own waste accounting and the findings rules."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import SAMPLE_IMAGES, SAMPLES
from imagegen import build, d, file, hard, opq, wh

from layerscope.analysis import (
    COPY_UP,
    DELETED,
    IDENTICAL,
    OVERWRITTEN,
    RULE_IDS,
    RULES,
    analyze,
    detect_base_layers,
    package_cache_root,
    sensitive_path,
)
from layerscope.api import load


def _img(tmp_path: Path, layers: list) -> object:  # type: ignore[type-arg]
    return load(build(tmp_path, layers))


@pytest.mark.parametrize("name", SAMPLE_IMAGES)
def test_sample_waste_by_cause(name: str) -> None:
    a = analyze(load(str(SAMPLES / name)))
    w = a.waste
    # L4: config.txt rewritten (56 B), motd (40) + data.bin (300) chmod-only, group (39) + hello.py (236) same bytes
    # L5/L6: credentials 90, remove-me 10, /srv/old 6+6, /opt/cache 9+9 (opaque), /var/lib/thing 20, dirtofile 2+2
    assert w.by_cause == {OVERWRITTEN: 56, COPY_UP: 340, IDENTICAL: 275, DELETED: 154}
    assert w.total == 825 and w.files == 14
    assert [lw.shipped.total for lw in a.layers] == [0, 0, 671, 154, 0, 0, 0]
    assert [lw.caused.total for lw in a.layers] == [0, 0, 0, 0, 671, 130, 24]
    assert a.by_path["/app/data.bin"] == 300
    top = a.top[0]
    assert (top.path, top.cause, top.layer, top.by_layer) == ("/app/data.bin", COPY_UP, 2, 4)
    assert "chmod 0444 /app/data.bin" in top.command
    opaque = [i for i in a.items if i.path.startswith("/opt/cache/")]
    assert {i.how for i in opaque} == {"opaque"}
    assert a.base.layers == 0 and a.base.method == "none"


def test_sample_findings() -> None:
    a = analyze(load(str(SAMPLES / "sample-docker.tar")))
    got = {(f.rule, f.path, f.layer, f.size, f.count) for f in a.findings}
    assert ("secret-hidden", "/root/.aws/credentials", 3, 90, 1) in got
    assert ("setuid", "/usr/local/bin/suid-helper", 3, 13, 1) in got
    assert ("deleted-later", "/srv/old", 3, 12, 2) in got
    assert ("deleted-later", "/opt/cache", 3, 18, 2) in got
    assert not [f for f in a.findings if f.rule == "world-writable"]  # /tmp is 1777: sticky
    secret = next(f for f in a.findings if f.rule == "secret-hidden")
    assert secret.severity == "high" and "aws_access_key_id" not in secret.detail
    assert secret.command.startswith("/bin/sh -c mkdir -p /root/.aws") or "mkdir -p /root/.aws" in secret.command


def test_hardlinked_content_counted_once(tmp_path: Path) -> None:
    merged = _img(
        tmp_path,
        [
            [d("bin"), file("bin/tool", b"t" * 500), hard("bin/alias", "bin/tool")],
            [d("bin"), wh("bin/tool")],  # the bytes stay visible through /bin/alias
        ],
    )
    a = analyze(merged)  # type: ignore[arg-type]
    assert a.waste.total == 0
    (tmp_path / "x").mkdir()
    merged = _img(
        tmp_path / "x",
        [
            [d("bin"), file("bin/tool", b"t" * 500), hard("bin/alias", "bin/tool")],
            [d("bin"), wh("bin/tool"), wh("bin/alias")],
        ],
    )
    a = analyze(merged)  # type: ignore[arg-type]
    assert a.waste.total == 500 and a.waste.by_cause[DELETED] == 500


def test_world_writable_setgid_and_package_cache(tmp_path: Path) -> None:
    merged = _img(
        tmp_path,
        [
            [
                d("srv", mode=0o777),
                d("tmp", mode=0o1777),
                file("srv/open", b"x", mode=0o666),
                file("usr/bin/sg", b"s", mode=0o2755),
            ],
            [
                d("var/lib/apt/lists"),
                file("var/lib/apt/lists/deb_main", b"p" * 1000),
                file("var/lib/apt/lists/lock", b""),
                file("root/.cache/pip/http/a/b", b"w" * 10),
            ],
            [opq("var/lib/apt/lists"), d("var/lib/apt/lists")],
        ],
    )
    a = analyze(merged)  # type: ignore[arg-type]
    ww = {f.path for f in a.findings if f.rule == "world-writable"}
    assert ww == {"/srv", "/srv/open"}
    assert {f.path for f in a.findings if f.rule == "setuid"} == {"/usr/bin/sg"}
    caches = {(f.path, f.layer, f.size, f.count) for f in a.findings if f.rule == "package-cache"}
    assert caches == {("/var/lib/apt/lists", 1, 1000, 1), ("/root/.cache/pip", 1, 10, 1)}


def test_secret_shadowed_and_git(tmp_path: Path) -> None:
    merged = _img(
        tmp_path,
        [
            [
                d("app"),
                file("app/.env", "TOKEN=abc"),
                file("app/.git/config", "[core]"),
                file("app/.git/objects/ab/cd", b"z" * 30),
                file("root/.ssh/id_rsa", "KEY"),
            ],
            [d("app"), file("app/.env", ""), wh("app/.git")],
        ],
    )
    a = analyze(merged)  # type: ignore[arg-type]
    hidden = {(f.path, f.count) for f in a.findings if f.rule == "secret-hidden"}
    assert hidden == {("/app/.env", 1), ("/app/.git", 2)}
    present = {f.path for f in a.findings if f.rule == "secret-present"}
    assert present == {"/root/.ssh/id_rsa", "/app/.env"}


def test_rule_patterns() -> None:
    assert sensitive_path("/home/u/.ssh/id_ed25519") == "/home/u/.ssh/id_ed25519"
    assert sensitive_path("/home/u/.ssh/id_ed25519.pub") is None
    assert sensitive_path("/root/.bash_history") == "/root/.bash_history"
    assert sensitive_path("/srv/.env.example") is None
    assert sensitive_path("/srv/.env.production") == "/srv/.env.production"
    assert sensitive_path("/src/.git/HEAD") == "/src/.git"
    assert sensitive_path("/usr/share/doc/x/test.key") is None
    assert package_cache_root("/var/cache/apt/archives/x.deb") == "/var/cache/apt"
    assert package_cache_root("/var/cache/aptitude/x") is None
    assert len(set(RULE_IDS)) == len(RULES)


def test_base_layers_from_count_image_and_history(tmp_path: Path) -> None:
    base_layers = [[file("etc/os-release", "base")], [file("bin/sh", b"s" * 100)]]
    user = [[file("etc/os-release", "user")]]
    (tmp_path / "b").mkdir()
    (tmp_path / "u").mkdir()
    base = load(build(tmp_path / "b", base_layers))
    img = load(build(tmp_path / "u", base_layers + user))
    a = analyze(img, base=base.image)
    assert (a.base.layers, a.base.method) == (2, "image")
    assert a.user_size_bytes == 4
    assert a.user_waste.total == 4 and a.layers[0].base and not a.layers[2].base
    assert analyze(img, base=1).base.layers == 1
    assert analyze(img, base=0).user_waste.total == a.waste.total


def test_detect_base_from_history() -> None:
    peer = Path(__file__).resolve().parent.parent.parent / "shared" / "peer-images" / "test-docker-image.tar"
    if not peer.exists():
        pytest.skip("peer images are not part of a fresh clone")
    assert detect_base_layers(load(str(peer)).image) == 1


def test_analysis_is_linear_enough(tmp_path: Path) -> None:
    many = [[d("data")] + [file(f"data/f{i}", b"x") for i in range(3000)]]
    many.append([d("data"), wh("data")])
    a = analyze(_img(tmp_path, many))  # type: ignore[arg-type]
    assert a.waste.files == 3000
    grouped = [f for f in a.findings if f.rule == "deleted-later"]
    assert len(grouped) == 1 and grouped[0].count == 3000


def _catalog_image(tmp: Path) -> str:
    """Names that each regex alternative matches, near misses, and random
    combinations of their parts; modes every mode rule looks at; caches."""
    import random

    parts = [
        "id_rsa",
        "id_ed25519_sk",
        "x.key",
        "a.p12",
        "b.pfx",
        "c.jks",
        "d.keystore",
        "priv.pem",
        "my-secret.pem",
        "cert.pem",
        ".env",
        ".env.prod",
        ".env.example",
        ".netrc",
        ".npmrc",
        ".pypirc",
        ".git-credentials",
        ".pgpass",
        ".dockercfg",
        "credentials.json",
        "service-account-1.json",
        "service_account.json",
        "package.json",
        "config.json",
        "config",
        "credentials",
        ".bash_history",
        ".history",
        ".psql_history",
        "notes.txt",
        "id_rsa.pub",
        "HEAD",
        "file",
    ]
    dirs = ["", ".ssh", ".aws", ".docker", ".kube", ".config/gcloud", ".azure", ".git", "usr/share", "tests", "app"]
    rnd = random.Random(5)
    names = {f"{dd}/{p}".lstrip("/") for dd in dirs for p in parts}
    names |= {f"r{rnd.randrange(9)}/{rnd.choice(dirs)}/{rnd.choice(parts)}".replace("//", "/") for _ in range(200)}
    files = [file(f"home/u/{n}", "s") for n in sorted(names)]
    modes = [
        file("bin/su", "x", mode=0o4755),
        file("bin/sg", "x", mode=0o2755),
        file("tmp/ww", "x", mode=0o666),
        d("tmp/wdir", mode=0o777),
        d("tmp/sticky", mode=0o1777),
        file("var/cache/apt/archives/a.deb", "deb"),
        file("root/.cache/pip/x", "whl"),
        file("var/lib/apt/lists/l", "list"),
    ]
    return build(
        str(tmp),
        [files + modes, [file("home/u/.env", "again"), wh("home/u/.ssh"), file("bin/su", "x", mode=0o4711)]],
    )


@pytest.mark.parametrize("source", ["catalog", *SAMPLE_IMAGES])
def test_rule_hints_leave_out_nothing_a_rule_finds(source: str, tmp_path: Path) -> None:
    """The core passes a rule only the versions its hint lets through: the
    findings must be exactly those of the same rules seeing every version."""
    import dataclasses

    merged = load(_catalog_image(tmp_path) if source == "catalog" else str(SAMPLES / source))
    hinted = analyze(merged)
    everything = analyze(merged, rules=tuple(dataclasses.replace(r, hint=None) for r in RULES))
    assert [f.to_dict() for f in hinted.findings] == [f.to_dict() for f in everything.findings]
    if source == "catalog":
        assert {f.rule for f in hinted.findings} >= {"secret-present", "secret-hidden", "setuid", "world-writable"}
