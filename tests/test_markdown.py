"""``report --markdown`` / ``ci --markdown``: rendered by a real CommonMark
parser (markdown-it-py, GFM tables on), the figures read back from the HTML it
makes and held to ``report --json``'s; hostile names stay text."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from conftest import skip_or_fail
from imagegen import build, d, file, run_cli

from layerscope.fmt import human_size
from layerscope.textsafe import safe

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = sorted((ROOT / "sample_images").glob("*.tar"))
ALLOWED_TAGS = {"h2", "p", "table", "thead", "tbody", "tr", "th", "td", "details", "summary", "strong", "code"}


class Tables(HTMLParser):
    """The rendered page's tables (lists of rows of cell text) and every tag seen."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: list[list[list[str]]] = []
        self.tags: set[str] = set()
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            self.tables[-1][-1].append("".join(self._cell))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def render(text: str) -> Tables:
    try:
        from markdown_it import MarkdownIt
    except ModuleNotFoundError:
        skip_or_fail("markdown-it-py not installed")
    page = MarkdownIt("commonmark", {"html": True}).enable("table").render(text)
    parsed = Tables()
    parsed.feed(page)
    return parsed


def report(image: str) -> tuple[str, dict[str, Any]]:
    code, md, _ = run_cli("report", image, "--markdown")
    assert code == 0
    code, js, _ = run_cli("report", image, "--json")
    assert code == 0
    return md, json.loads(js)


def _by_head(t: Tables, first: str) -> list[list[str]]:
    return next(rows for rows in t.tables if rows[0][0] == first)


@pytest.mark.parametrize("image", SAMPLES, ids=[p.name for p in SAMPLES])
def test_figures_equal_report_json(image: Path) -> None:
    md, doc = report(str(image))
    assert len(md) <= 65_536
    t = render(md)
    assert t.tags <= ALLOWED_TAGS
    head = dict(_by_head(t, "Image")[1:])
    img = doc["image"]
    assert _by_head(t, "Image")[0][1] == img["source"]
    assert head["Layers"] == str(img["layer_count"])
    assert head["Size"] == human_size(img["size_bytes"])
    assert head["Wasted"].startswith(human_size(img["waste"]["total_bytes"]))
    layers = _by_head(t, "Layer")[1:]
    assert len(layers) == len(doc["layers"])
    for row, la in zip(layers, doc["layers"]):
        assert row[0].startswith(f"L{la['index']}") or row[0].startswith(f"C{la['index']}")
        assert ("(base)" in row[0]) == la["base"]
        figures = [la["added"], la["modified"] + la["type_changed"], la["metadata"], la["rewritten"], la["deleted"]]
        assert row[1:7] == [human_size(la["size_bytes"]), *map(str, figures)]
    causes = {r[0]: int(r[2]) for r in _by_head(t, "Cause")[1:]}
    assert causes.pop("total") == img["waste"]["total_bytes"]
    for cause, n in causes.items():
        assert img["waste"][f"{cause}_bytes"] == n
    if doc["findings"]:
        rows = _by_head(t, "Severity")[1:]
        assert [(r[0], r[1], r[4].split(" (")[0]) for r in rows] == [
            (f["severity"], f["rule"], f["path"]) for f in doc["findings"]
        ]


def test_hostile_names_are_text(tmp_path: Path) -> None:
    """Markup, links, mentions, table pipes, control bytes and non-UTF-8 in
    names come out as the same characters (``safe``'s \\xNN for controls), never markup."""
    names = [
        "tmp/<script>alert(1)</script>",
        "tmp/a|b|c [x](javascript:alert(1)) @octocat #1 *b* _i_ `c` ~~s~~",
        "tmp/&amp; &lt;img src=x onerror=alert(1)&gt; \"q\" 'q'",
        "tmp/\x1b[31mred\x07\n| fake | row |",
        "tmp/\udcff\udcfe.bin",
    ]
    image = build(tmp_path, [[d("tmp", 0o777), *(file(n, "x" * 10, 0o666) for n in names)]])
    md, doc = report(image)
    t = render(md)
    assert t.tags <= ALLOWED_TAGS  # no tag from a name
    rows = _by_head(t, "Severity")[1:]
    shown = {r[4] for r in rows}
    for n in names:
        assert "/" + safe(n) in shown
    assert len(rows) == len(doc["findings"])
    assert all(len(r) == 6 for r in rows)  # no name split a row into more cells


def test_fits_a_comment(tmp_path: Path) -> None:
    """Thousands of findings: the document stays under GitHub's 65,536 and says what it left out."""
    many = [file(f"srv/w/{i:05d}-{'x' * 60}", "x", 0o666) for i in range(3000)]
    image = build(tmp_path, [[d("srv"), d("srv/w"), *many]])
    md, doc = report(image)
    assert len(doc["findings"]) >= 3000
    assert len(md) <= 65_536
    assert "more (" in md
    render(md)


def test_ci_markdown_and_step_summary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    sample = str(ROOT / "sample_images" / "sample-docker.tar")
    code, md, _ = run_cli("ci", sample, "--no-config", "--forbid", "high", "--markdown")
    assert code == 1
    assert summary.read_text() == "earlier step\n" + md + "\n"
    t = render(md)
    _, js, _ = run_cli("ci", sample, "--no-config", "--forbid", "high", "--json")
    doc = json.loads(js)
    checks = _by_head(t, "Check")[1:]
    assert [(r[0], r[1].lower()) for r in checks] == [(c["name"], c["status"]) for c in doc["checks"]]
    assert "layerscope ci: FAIL" in md
    code, text, _ = run_cli("ci", sample, "--no-config", "--forbid", "high")  # text on stdout, summary still written
    assert "Result: FAIL" in text
    assert summary.read_text().count("layerscope ci: FAIL") == 3  # each run appends: --markdown, --json, text


def test_unwritable_step_summary_does_not_change_the_verdict(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path / "no" / "such" / "dir.md"))
    sample = str(ROOT / "sample_images" / "sample-docker.tar")
    code, out, err = run_cli("ci", sample, "--no-config", "--forbid", "high")
    assert code == 1
    assert "Result: FAIL" in out
    assert "warning: GITHUB_STEP_SUMMARY" in err
