"""The CI gate: sizes, percents, config files, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import SAMPLES

from layerscope.cli import main
from layerscope.gate import GateConfigError, find_config, parse_fraction, parse_percent, parse_size, thresholds

SAMPLE = str(SAMPLES / "sample-docker.tar")


def test_parse_size() -> None:
    assert parse_size("20MB") == 20_000_000
    assert parse_size("20MiB") == 20 * 2**20
    assert parse_size("1.5 GB") == 1_500_000_000
    assert parse_size("512") == 512 and parse_size(7) == 7
    assert parse_size("4kB") == 4000 and parse_size("4KiB") == 4096
    for bad in ("twenty", "20XB", "-5", True):
        with pytest.raises(GateConfigError):
            parse_size(bad)


def test_parse_percent_and_fraction() -> None:
    assert parse_percent("10%", "x") == 10 and parse_percent(10, "x") == 10
    assert parse_fraction(0.9, "x") == 0.9
    assert parse_fraction("90%", "x") == pytest.approx(0.9)
    assert parse_fraction(95, "x") == pytest.approx(0.95)
    with pytest.raises(GateConfigError):
        parse_percent("150", "x")


def test_defaults_fail_on_hidden_secret(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["ci", SAMPLE]) == 1
    out = capsys.readouterr().out
    assert "FAIL  forbid-findings" in out and "/root/.aws/credentials" in out and "Result: FAIL" in out


def test_thresholds_from_flags_pass_and_fail(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["ci", SAMPLE, "--max-wasted-bytes", "1kB", "--min-efficiency", "99%"]) == 0
    assert main(["ci", SAMPLE, "--max-wasted-bytes", "800"]) == 1
    assert main(["ci", SAMPLE, "--highest-user-wasted-percent", "0.1"]) == 1  # dive's 0.7716
    assert main(["ci", SAMPLE, "--lowest-efficiency", "0.999", "--highest-wasted-bytes", "2KB"]) == 0
    assert main(["ci", SAMPLE, "--forbid", "setuid"]) == 1
    assert main(["ci", SAMPLE, "--forbid", "setuid", "--ignore-path", "/usr/local/bin/*"]) == 0
    assert main(["ci", SAMPLE, "--forbid-path", "/root/.aws/*"]) == 1  # deleted, yet it ships in layer 3
    capsys.readouterr()


def test_json_output(capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["ci", SAMPLE, "--json", "--max-wasted-percent", "5", "--forbid-path", "/root/.aws/*"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc["schema"] == "layerscope.ci/1" and doc["result"] == "fail"
    checks = {c["name"]: c["status"] for c in doc["checks"]}
    assert checks == {"max-wasted-percent": "pass", "forbid-paths": "fail"}
    assert doc["forbidden_paths"] == [{"path": "/root/.aws/credentials", "layer": 3}]
    assert doc["dive"]["wasted_bytes"] == 1439 and doc["waste"]["total_bytes"] == 825


def test_config_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname="x"\n[tool.layerscope]\nmax-wasted-bytes = "1KiB"\nforbid-findings = ["medium"]\n'
    )
    sub = tmp_path / "sub"
    sub.mkdir()
    monkeypatch.chdir(sub)
    assert find_config() == str(tmp_path / "pyproject.toml")
    th = thresholds(None, {})
    assert th.max_wasted_bytes == 1024 and th.forbid_findings == ["medium"]
    assert main(["ci", SAMPLE]) == 1  # setuid is medium
    (sub / ".layerscope.toml").write_text("[ci]\nlowestEfficiency = 0.9\nhighestUserWastedPercent = 0.8\n")
    assert main(["ci", SAMPLE]) == 0  # .layerscope.toml is found first
    assert main(["ci", SAMPLE, "--no-config", "--forbid", "low"]) == 1
    (sub / ".layerscope.toml").write_text("max-wasted-bytes = 'lots'\n")
    assert main(["ci", SAMPLE]) == 2
    err = capsys.readouterr().err
    assert err.startswith("layerscope: error: ") and err.count("\n") == 1 and "'lots'" in err
    (sub / ".layerscope.toml").write_text("no-such-setting = 1\n")
    assert main(["ci", SAMPLE]) == 2
    (sub / ".layerscope.toml").write_text("[broken\n")
    assert main(["ci", SAMPLE]) == 2


def test_load_error_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ci", str(tmp_path / "missing.tar"), "--no-config"]) == 2
    assert capsys.readouterr().err.startswith("layerscope: error:")
