"""Smoke test in a real terminal: tmux runs the app, keys go in, the screen comes out."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid

import pytest
from conftest import SAMPLES, need_tools


@pytest.fixture(autouse=True)
def _tmux() -> None:
    need_tools("tmux")


def _capture(session: str) -> str:
    return subprocess.run(["tmux", "capture-pane", "-pt", session], capture_output=True, text=True).stdout


def _wait_for(session: str, text: str, timeout: float = 30) -> str:
    deadline = time.monotonic() + timeout
    screen = ""
    while time.monotonic() < deadline:
        screen = _capture(session)
        if text in screen:
            return screen
        time.sleep(0.2)
    raise AssertionError(f"{text!r} not on screen:\n{screen}")


def test_real_terminal_session() -> None:
    session = f"ls-{uuid.uuid4().hex[:8]}"
    # The short sleep lets the window take its size before the app reads it.
    cmd = f"sleep 0.5; {sys.executable} -m layerscope {SAMPLES / 'sample-docker.tar'}; echo EXITED=$?; sleep 30"
    subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", "160", "-y", "45", cmd], check=True)
    subprocess.run(["tmux", "resize-window", "-t", session, "-x", "160", "-y", "45"], check=False)
    try:
        screen = _wait_for(session, "loaded in")
        assert "L6" in screen and "RUN rm /var/li" in screen  # the layer stack
        assert "app/" in screen  # the tree as of the top layer
        for key in ("2", "Down", "Enter"):  # at a person's pace: focus moves are deferred
            subprocess.run(["tmux", "send-keys", "-t", session, key], check=True)
            time.sleep(0.3)
        screen = _wait_for(session, "config.txt")  # /app expanded
        subprocess.run(["tmux", "send-keys", "-t", session, "?"], check=True)
        _wait_for(session, "layerscope keys")
        subprocess.run(["tmux", "send-keys", "-t", session, "Escape"], check=True)
        time.sleep(0.5)
        subprocess.run(["tmux", "send-keys", "-t", session, "q"], check=True)
        screen = _wait_for(session, "EXITED=0")
        assert "Traceback" not in screen
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], check=False)
