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
