"""The headless commands agree with each other: options, errors, JSON layout, figures.

- every command that reads an image takes --platform and --image (diff too);
- an error names an option the way the user typed it (--min-efficiency);
- every --json document has one layout: json.dumps(doc, indent=2) plus a newline;
- efficiency is a percent everywhere in text; dive's own figures say they are dive's.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

import pytest
from conftest import SAMPLES
from imagegen import F, build, d, file, hard, run_cli, sym, wh

from layerscope.cli import build_parser
from layerscope.merge import Merged
from layerscope.model import Deletion, Entry

DOCKER = str(SAMPLES / "sample-docker.tar")
GZIP = str(SAMPLES / "sample-oci-gzip.tar")
REF = "localhost/layerscope/sample:1"  # the name inside every sample archive (sample_images/README.md)


def _ok(*argv: str) -> str:
    rc, out, err = run_cli(*argv)
    assert rc == 0, err
    return out


def _error(*argv: str) -> str:
    rc, out, err = run_cli(*argv)
    assert rc == 2 and out == "", (rc, out, err)
    assert len(err.strip().splitlines()) == 1, err
    return err.strip()


# -- --platform / --image everywhere -------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        ["ui", "IMG"],
        ["report", "IMG"],
        ["ls", "IMG"],
        ["ci", "IMG"],
        ["diff", "IMG", "IMG2"],
        ["cat", "IMG", "/p"],
        ["which", "IMG", "/p"],
    ],
)
def test_every_command_takes_platform_and_image(argv: list[str]) -> None:
    args = build_parser().parse_args([*argv, "--platform", "linux/arm64", "--image", "x:1"])
    assert (args.platform, args.image_ref) == ("linux/arm64", "x:1")


def test_diff_selects_images_like_the_other_commands() -> None:
    out = _ok("diff", DOCKER, GZIP, "--image", REF, "--platform", "linux/amd64")
    assert "Shared layers: 7 (7 leading)" in out
    # --image applies to both images, --image-b / --platform-b to B alone
    assert _error("diff", DOCKER, GZIP, "--image", "nope:1") == (
        f"layerscope: error: {DOCKER}: no image 'nope:1' in the archive (it has: {REF})"
    )
    err = _error("diff", DOCKER, GZIP, "--image", REF, "--image-b", "nope:1")
    assert err.startswith(f"layerscope: error: {GZIP}: no image 'nope:1' here")
    err = _error("diff", DOCKER, GZIP, "--platform-b", "linux/s390x")
    assert err.startswith(f"layerscope: error: {GZIP}: no image for platform linux/s390x")


# -- errors name options as typed -------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "value", "message"),
    [
        ("--min-efficiency", "abc", "'abc' is not a number"),
        ("--max-wasted-bytes", "2XB", "'2XB' is not a size"),
        ("--max-wasted-percent", "200", "'200' is over 100 %"),
        ("--max-user-wasted-bytes", "-", "'-' is not a size"),
        ("--max-user-wasted-percent", "x", "'x' is not a number"),
        ("--lowest-efficiency", "x", "'x' is not a number"),
        ("--dive-lowest-efficiency", "x", "'x' is not a number"),
        ("--highest-wasted-bytes", "lots", "'lots' is not a size"),
        ("--dive-highest-user-wasted-percent", "x", "'x' is not a number"),
        ("--forbid", "nope", "unknown rule or severity 'nope'"),
    ],
)
def test_ci_errors_name_the_flag_as_typed(typed: str, value: str, message: str) -> None:
    err = _error("ci", DOCKER, "--no-config", typed, value)
    assert err.startswith(f"layerscope: error: {typed}: {message}"), err
    assert not re.search(r"\b[a-z]+_[a-z_]+\b|lowestEfficiency|highest[A-Z]", err.split(": ", 3)[2]), err


def test_config_file_errors_still_name_file_and_key(tmp_path: Path) -> None:
    cfg = tmp_path / "gate.toml"
    cfg.write_text('min-efficiency = "abc"\n')
    err = _error("ci", DOCKER, "--config", str(cfg))
    assert err == f"layerscope: error: {cfg}: min-efficiency: 'abc' is not a number"


def test_layer_errors_keep_the_number_typed() -> None:
    for cmd in (["report", DOCKER], ["ls", DOCKER], ["cat", DOCKER, "/etc/motd"]):
        assert _error(*cmd, "--layer", "-9") == (
            "layerscope: error: --layer -9: the image has layers 0..6 (or -7..-1 from the top)"
        )


# -- one JSON layout ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        ["report", DOCKER, "--json"],
        ["report", GZIP, "--json", "--layer", "4"],
        ["ls", DOCKER, "--json"],
        ["ls", DOCKER, "--json", "--deleted"],
        ["ls", DOCKER, "--json", "--changes", "--layer", "5"],
        ["ls", DOCKER, "--json", "/etc/*"],
        ["ci", DOCKER, "--json", "--no-config"],
        ["diff", DOCKER, GZIP, "--json"],
        ["diff", GZIP, str(SAMPLES / "sample-oci-zstd.tar"), "--json"],
        ["which", DOCKER, "/app/config.txt", "--json"],
    ],
)
def test_every_json_document_has_one_layout(argv: list[str]) -> None:
    rc, out, err = run_cli(*argv)
    assert rc in (0, 1), err  # ci may fail its gate
    assert out == json.dumps(json.loads(out), indent=2) + "\n"


def _entry_image(tmp: Path) -> str:
    caps = F("/bin/ping", "file", b"\x7fELF", 0o755, xattrs={"security.capability": "\x01\x00\x00\x02 é"})
    return build(
        str(tmp),
        [
            [d("/etc"), file('/etc/a\x1b[31m"q\\.txt', "x"), file("/etc/ü €", "y"), caps, sym("/s", "/etc/ü €")],
            [file("/etc/ü €", "changed"), hard("/h", "/etc/ü €"), wh("/s"), F("/etc", "dir", mode=0o700)],
        ],
    )


def _version(e: Entry) -> dict[str, Any]:
    """What a ``versions`` item says, spelled out from the model (docs/json.md)."""
    return {k: getattr(e, k) for k in ("layer", "type", "mode", "uid", "gid", "size")} | {
        "digest": None if e.digest is None else "sha256:" + e.digest.hex(),
        "change": str(e.change),
    }


def _file(m: Merged, e: Entry) -> dict[str, Any]:
    """What a ``files`` item says, spelled out from the model's accessors (docs/json.md)."""
    below = [v for v in m.history(e.path) if type(v) is Entry and v.layer < e.layer]
    return {
        "path": e.path,
        "type": e.type,
        "mode": e.mode,
        "uid": e.uid,
        "gid": e.gid,
        "size": e.size,
        "link": e.link,
        "digest": None if e.digest is None else "sha256:" + e.digest.hex(),
        "layer": e.layer,
        "change": str(e.change),
        "mtime": e.mtime,
        "xattrs": {k: v.decode("utf-8", "backslashreplace") for k, v in e.xattrs.items()} if e.xattrs else None,
        "versions": [_version(v) for v in below],
    }


def _hidden(m: Merged, d: Deletion) -> dict[str, Any] | None:
    below = [v for v in m.history(d.path) if type(v) is Entry and v.layer < d.layer]
    if not below:
        return None
    versions = [_version(v) for v in below]
    return {"path": d.path, "deleted_in": d.layer, "how": str(d.how), "cause": d.cause, "versions": versions}


# -- one efficiency format --------------------------------------------------------------


def test_efficiency_is_a_percent_and_dive_figures_are_dives() -> None:
    report = " ".join(_ok("report", DOCKER).split())
    rc, out, err = run_cli("ci", DOCKER, "--no-config")  # fails its default gate: a secret still ships
    assert rc == 1, err
    ci = " ".join(out.split())
    for text in (report, ci):
        # layerscope's own: 825 B hidden of 1,984,121 B (the sum of dive's layer sizes)
        assert "efficiency 99.96 %" in text
        # dive 0.13.1 on this archive prints efficiency 99.9611 %, wastedBytes 1439, userWastedPercent 77.1582 %
        assert "dive 0.13.1's figures: efficiency 99.9611 %, wastedBytes 1439, userWastedPercent 77.1582 %" in text
        assert not re.search(r"efficiency 0\.\d", text)


def _odd_names_image(tmp: Path) -> str:
    """Names and xattrs that stress the JSON writer: bytes that are not UTF-8,
    characters outside the BMP, control characters, quotes and backslashes."""
    raw = F("/etc/raw", "file", b"x", xattrs={"user.bin": "\udcff\udcfe ok \\ \u00e9", "user.plain": "v"})
    return build(
        str(tmp),
        [
            [d("/etc"), file("/etc/\udcff-latin1-\udce9", "a"), file("/etc/emoji-\U0001f600", "b"), raw],
            [file("/etc/emoji-\U0001f600", "c"), file("/etc/tab\there\x7f", "d"), wh("/etc/\udcff-latin1-\udce9")],
        ],
    )


@pytest.mark.parametrize("source", ["sample", "hostile", "odd-names"])
def test_core_arrays_say_what_the_model_holds(source: str, tmp_path: Path) -> None:
    """The core is the one writer of ``files`` and ``hidden``: at every layer,
    each object holds what the model's accessors say (field by field, names
    that are not UTF-8 included), in path order, laid out as ``json.dumps(...,
    indent=2)`` would, written in many small pieces."""
    import io

    from layerscope.api import load
    from layerscope.report import array, write_json_doc

    path = {"sample": DOCKER, "hostile": _entry_image, "odd-names": _odd_names_image}[source]
    m = load(path if isinstance(path, str) else path(tmp_path))
    n = h = 0
    for k in range(len(m.image.layers)):
        states = [ev for p in m.paths() if (ev := m.state_at(p, k)) is not None]
        want_files = [_file(m, ev) for ev in states if type(ev) is Entry]
        want_hidden = [x for ev in states if type(ev) is Deletion and (x := _hidden(m, ev)) is not None]
        got = io.StringIO()

        def small(name: str, k: int = k) -> Callable[[TextIO], None]:
            return lambda out: m.write_array(name, k, out.write, chunk=64)  # small chunks: many pieces

        write_json_doc({"k": k}, [("files", small("files")), ("hidden", small("hidden"))], got)
        text = got.getvalue()
        doc = json.loads(text)
        assert text == json.dumps(doc, indent=2) + "\n", k
        assert doc["files"] == want_files, k
        assert doc["hidden"] == want_hidden, k
        assert text.isascii()
        whole = io.StringIO()  # the one-call writer gives the same text
        write_json_doc({"k": k}, [("files", array(m, "files", k)), ("hidden", array(m, "hidden", k))], whole)
        assert whole.getvalue() == text
        n += len(want_files)
        h += len(want_hidden)
    assert n > {"sample": 1000, "hostile": 8, "odd-names": 6}[source]
    assert h >= (11 if source == "sample" else 1)
