"""Full garbage collections wait for a pause in the keys (layerscope.ui.collector)."""

from __future__ import annotations

import gc

import pytest

from layerscope.ui import collector
from layerscope.ui.collector import IdleCollector


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    now = [1000.0]
    monkeypatch.setattr(collector.time, "monotonic", lambda: now[0])
    return now


def test_full_collections_wait_for_quiet_and_thresholds_come_back(
    clock: list[float], monkeypatch: pytest.MonkeyPatch
) -> None:
    before = gc.get_threshold()
    runs: list[int] = []
    monkeypatch.setattr(collector.gc, "collect", lambda generation=2: runs.append(generation) or 0)
    monkeypatch.setattr(collector.gc, "get_count", lambda: (0, 0, before[2]))  # a full pass is due
    idle = IdleCollector()
    idle.start()
    try:
        assert gc.get_threshold() == (before[0], before[1], collector.NEVER)  # young ones as before
        idle.key()
        clock[0] += collector.QUIET / 2
        idle.tick()
        assert runs == []  # keys still coming
        clock[0] += collector.QUIET
        idle.tick()
        assert runs == [2]
    finally:
        idle.stop()
    assert gc.get_threshold() == before
    idle.tick()
    assert runs == [2]  # stopped: nothing more


def test_nothing_due_nothing_run(clock: list[float], monkeypatch: pytest.MonkeyPatch) -> None:
    runs: list[int] = []
    monkeypatch.setattr(collector.gc, "collect", lambda generation=2: runs.append(generation) or 0)
    monkeypatch.setattr(collector.gc, "get_count", lambda: (5, 3, 0))
    idle = IdleCollector()
    idle.start()
    try:
        clock[0] += 10
        idle.tick()
    finally:
        idle.stop()
    assert runs == []
