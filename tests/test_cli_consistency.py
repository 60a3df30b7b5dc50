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
from typing import TextIO

import pytest
from conftest import SAMPLES
from imagegen import F, build, d, file, hard, run_cli, sym, wh

from layerscope.cli import build_parser

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


@pytest.mark.parametrize("source", ["sample", "hostile"])
def test_pretty_file_objects_equal_json_dumps(source: str, tmp_path: Path) -> None:
    from layerscope.api import load
    from layerscope.report import file_json_pretty, file_obj, hidden_json_pretty, hidden_obj

    m = load(DOCKER if source == "sample" else _entry_image(tmp_path))
    n = h = 0
    for k in range(len(m.image.layers)):
        for e in m.files_at(k):
            assert file_json_pretty(m, e) == json.dumps(file_obj(m, e), indent=2), e.path
            n += 1
        for dl, versions in m.hidden_at(k):
            assert hidden_json_pretty(dl, versions) == json.dumps(hidden_obj(dl, versions), indent=2), dl.path
            h += 1
    assert n > (1000 if source == "sample" else 8)
    assert h >= (11 if source == "sample" else 1)


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
def test_core_arrays_equal_the_python_objects(source: str, tmp_path: Path) -> None:
    """The core writes report's ``files`` and ``hidden`` arrays; they must be,
    byte for byte, what json.dumps makes of file_obj/hidden_obj (held equal to
    the pretty forms by the test above) at every layer."""
    import io

    from layerscope.api import load
    from layerscope.report import file_json_pretty, hidden_json_pretty, write_json_doc

    path = {"sample": DOCKER, "hostile": _entry_image, "odd-names": _odd_names_image}[source]
    m = load(path if isinstance(path, str) else path(tmp_path))
    for k in range(len(m.image.layers)):
        want, got = io.StringIO(), io.StringIO()
        items = [
            ("files", [file_json_pretty(m, e) for e in m.files_at(k)]),
            ("hidden", [hidden_json_pretty(dl, vs) for dl, vs in m.hidden_at(k)]),
        ]
        write_json_doc({"k": k}, items, want)

        def core(name: str, k: int = k) -> Callable[[TextIO], None]:
            return lambda out: m.write_array(name, k, out.write, chunk=64)  # small chunks: many pieces

        write_json_doc({"k": k}, [("files", core("files")), ("hidden", core("hidden"))], got)
        assert got.getvalue() == want.getvalue(), k
        assert json.loads(got.getvalue())["files"]  # and it is JSON
