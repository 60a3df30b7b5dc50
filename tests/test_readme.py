"""README stays true: every key is documented and CI runs README's test command."""

from __future__ import annotations

import re

from conftest import ROOT

from layerscope.ui.keys import KEYS

README = (ROOT / "README.md").read_text()


def test_every_key_is_documented() -> None:
    section = README.split("### Keys", 1)[1].split("\n## ", 1)[0]
    for k in KEYS:
        assert f"`{k.display}`" in section, f"key {k.display!r} missing from README"


def test_ci_runs_the_readme_test_command() -> None:
    blocks = re.findall(r"```sh\n(.*?)\n```", README, re.S)
    assert "layerscope sample_images/" in blocks[0]
    test_cmd = blocks[1].strip()
    assert "pytest" in test_cmd
    ci = (ROOT / ".ci" / "run").read_text()
    assert test_cmd in ci.splitlines()


def test_readme_is_a_guide_of_at_most_20_kb() -> None:
    """The reference lives in docs/; README stays short enough to read through."""
    assert len((ROOT / "README.md").read_bytes()) <= 20_000


def _slug(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def _anchors(text: str) -> set[str]:
    body = re.sub(r"```.*?```", "", text, flags=re.S)  # a `#` line in a code block is no heading
    return {_slug(m) for m in re.findall(r"^#{1,6} (.+)$", body, re.M)}


def test_slug_is_githubs() -> None:
    assert _slug("`--base BASE`") == "--base-base"
    assert _slug("A container's writable layer") == "a-containers-writable-layer"
    assert _slug("`layerscope.ci/1`") == "layerscopeci1"


def test_every_relative_link_and_anchor_resolves() -> None:
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    checked = 0
    for page in pages:
        text = page.read_text()
        body = re.sub(r"```.*?```", "", text, flags=re.S)
        for target in re.findall(r"\]\(([^)\s]+)\)", body):
            if re.match(r"[a-z]+:", target):
                continue  # https:, mailto:
            file, _, anchor = target.partition("#")
            dest = (page.parent / file).resolve() if file else page
            assert dest.exists(), f"{page.name}: link to missing {target}"
            if anchor:
                assert anchor in _anchors(dest.read_text()), f"{page.name}: no heading #{anchor} in {dest.name}"
            checked += 1
    assert checked > 20
