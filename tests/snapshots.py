"""SVG snapshots of the UI, compared with the files committed under tests/snapshots/.

pytest-textual-snapshot would do this, but it pins syrupy 4.8, which needs
pytest<9; this is the small part of it the project needs, on
``App.export_screenshot()``.

* ``LAYERSCOPE_UPDATE_SNAPSHOTS=1 pytest tests/test_snapshots.py`` (re)writes them;
  look at the SVGs (a browser, or ``rsvg-convert``) before committing.
* On a mismatch the new rendering is written next to the committed one as
  ``NAME.new.svg`` (gitignored), so the two can be compared side by side.

The snapshots depend on Textual's and Rich's rendering: ``VERSIONS`` records
the versions they were made with, and a mismatch under other versions says so.

A snapshot must not depend on the clock or the machine: :func:`settle` waits
for every worker, drops toasts, hides the load time and stops cursor blinking;
tests open images by a path relative to the repository (it is on screen).
"""

from __future__ import annotations

import os
from importlib import metadata
from pathlib import Path

from textual.app import App
from textual.pilot import Pilot
from textual.widgets import Input

SNAPSHOTS = Path(__file__).resolve().parent / "snapshots"
UPDATE = os.environ.get("LAYERSCOPE_UPDATE_SNAPSHOTS", "") not in ("", "0")


def versions() -> str:
    return f"textual {metadata.version('textual')}, rich {metadata.version('rich')}\n"


async def settle(app: App[object], pilot: Pilot[object]) -> None:
    """Wait until nothing is running, then make the screen deterministic."""
    for _ in range(5):
        await app.workers.wait_for_complete()
        await app.screen.workers.wait_for_complete()
        await pilot.pause()
        if not any(w.is_running for w in (*app.workers, *app.screen.workers)):
            break
    app.clear_notifications()
    if getattr(app, "load_seconds", None) is not None:
        app.load_seconds = None  # type: ignore[attr-defined]
        app._update_status()  # type: ignore[attr-defined]
    for field in app.screen.query(Input):
        field.cursor_blink = False
        field._cursor_visible = True
    await pilot.pause()
    await pilot.pause()
    # A table may scroll again once its rows are measured (on a busy machine,
    # some frames later): wait until two screenshots a moment apart agree.
    shot = app.export_screenshot(simplify=True)
    for _ in range(20):
        await pilot.pause(0.05)
        again = app.export_screenshot(simplify=True)
        if again == shot:
            break
        shot = again


def assert_snapshot(app: App[object], name: str) -> None:
    """The current screen equals ``tests/snapshots/NAME.svg``."""
    svg = app.export_screenshot(title=name, simplify=True)
    path = SNAPSHOTS / f"{name}.svg"
    new = SNAPSHOTS / f"{name}.new.svg"
    if UPDATE:
        SNAPSHOTS.mkdir(exist_ok=True)
        path.write_text(svg)
        (SNAPSHOTS / "VERSIONS").write_text(versions())
        new.unlink(missing_ok=True)
        return
    if not path.exists():
        new.write_text(svg)
        raise AssertionError(f"no snapshot {path.name}: wrote {new.name}; accept it with LAYERSCOPE_UPDATE_SNAPSHOTS=1")
    if path.read_text() != svg:
        new.write_text(svg)
        made = (SNAPSHOTS / "VERSIONS").read_text().strip()
        now = versions().strip()
        why = "" if made == now else f" (made with {made}, this is {now}: the difference may be theirs)"
        raise AssertionError(
            f"{path.name} differs from the screen{why}: see {new}; "
            "if the change is intended, rerun with LAYERSCOPE_UPDATE_SNAPSHOTS=1"
        )
    new.unlink(missing_ok=True)


async def assert_snapshot_settled(app: App[object], pilot: Pilot[object], name: str, tries: int = 5) -> None:
    """:func:`assert_snapshot`, giving a screen that still scrolls (a table
    measured late on a busy machine) a few more frames to come to rest."""
    path = SNAPSHOTS / f"{name}.svg"
    for _ in range(tries):
        if UPDATE or not path.exists() or path.read_text() == app.export_screenshot(title=name, simplify=True):
            break
        await pilot.pause(0.2)
    assert_snapshot(app, name)
