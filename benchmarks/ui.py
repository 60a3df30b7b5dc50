#!/usr/bin/env python3
"""How the TUI behaves on a big image, measured with Textual's Pilot.

    python benchmarks/ui.py IMAGE [--repeat 3] [--size 160x48]

Prints, as medians over --repeat runs (each in a fresh app on the headless
driver, in this process):

  stack     start -> the layer stack lists every layer (manifest + config read,
            app mounted and painted once)
  tree      start -> the merged tree is on screen (every layer read and merged)
  per key   from posting the key event to the last frame drawn before the
            app fell quiet (every message it caused handled, no frame for
            60 ms): handler, re-layout, render, and any second frame a
            cascade of messages (a layer change, a mounted screen) causes.
            Pilot's own `press`/`pause` are not used for this: they sleep in
            20 ms steps until the CPU is idle, which would swamp the figure.
            Beside it, the UI thread's CPU time to that frame: on a shared
            machine it moves less with the others' load than the wall clock.
            (`ui_profile.py` profiles the same keys with cProfile.)

Keys cover moving in the tree, expanding a directory, re-rooting at another
layer, the view/filter/attribute/sort toggles, search, content, help and the
audit screen: the interactions a person does while auditing. The headless
driver renders everything but writes nothing to a terminal, so this is the
app's own latency; check a real terminal with tmux as well (see README).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
import unicodedata
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

# layerscope.ui first: it sets Textual's frame rate, which Textual reads once
# on its first import (see layerscope/ui/__init__.py)
from layerscope.ui.app import make_app  # noqa: I001
from textual import events
from textual.keys import REPLACED_KEYS, _character_to_key, _get_unicode_name_from_key

from layerscope.ui.widgets.file_tree import FileTree
from layerscope.ui.widgets.layer_stack import LayerStack

# (label, keys pressed in order; each key timed on its own)
SCRIPT: list[tuple[str, list[str]]] = [
    ("focus tree", ["2"]),
    ("move down", ["down", "down", "down"]),
    ("expand dir", ["enter"]),
    ("move in dir", ["down", "down"]),
    ("page down", ["pagedown"]),
    ("versions of path", ["3", "2"]),
    ("attrs on/off", ["i", "i"]),
    ("layer-only view", ["v", "v"]),
    ("hide added", ["a", "a"]),
    ("hide unchanged", ["u", "u"]),
    ("previous layer", ["["]),
    ("next layer", ["]"]),
    ("layer stack up", ["1", "up", "up"]),
    ("jump to layer", ["2", "l"]),
    ("back", ["b"]),
    ("sort by size", ["s", "s"]),
    ("layer-only view, re-root", ["v", "[", "]", "v"]),
    ("ghosts off/on", ["X", "X"]),
    ("right/left", ["right", "left"]),
    ("expand/collapse below", ["e", "E"]),
    ("help open/close", ["question_mark", "escape"]),
    ("search open/type/close", ["slash", "c", "o", "n", "f", "escape"]),
    ("audit open/close", ["w", "escape"]),
]


def key_event_of(key: str) -> tuple[str, str | None]:
    """The (key, character) Textual's driver would send: as ``App._press_keys`` builds them.

    "[" is the key "left_square_bracket" with the character "[": sent as
    "[" it would match no binding and time a key that did nothing.
    """
    if len(key) == 1 and not key.isalnum():
        key = _character_to_key(key)
    original = REPLACED_KEYS.get(key, key)
    try:
        return key, unicodedata.lookup(_get_unicode_name_from_key(original))
    except KeyError:
        return key, key if len(key) == 1 else None


def send_key(app, key: str) -> None:  # type: ignore[no-untyped-def]
    """Post the key as the terminal driver would (not through Pilot, whose wait would compete)."""
    name, char = key_event_of(key)
    event = events.Key(name, char)
    event.set_sender(app)
    app._driver.send_message(event)


async def timed_key(pilot, app, frames: list[tuple[float, float]], key: str) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """Seconds from the key event to the last frame of its response, and the
    UI thread's CPU seconds until then (less swayed by other busy processes)."""
    await pilot.pause()  # settle first (untimed)
    frames.clear()
    t, c = time.perf_counter(), time.thread_time()
    send_key(app, key)
    # The response is done when every message the key caused (LayerChosen,
    # worker callbacks, a pushed screen's mount…) is handled and no frame has
    # been drawn for 60 ms (Textual redraws dirty regions every ~17 ms). Its
    # latency is the last frame drawn until then: the screen a person sees
    # settle, not the first partial repaint. The wait only sleeps and reads
    # queue sizes: Pilot's own wait posts a message to every widget, which
    # would compete with the key's handling for the event loop.
    for _ in range(50):  # at most ~3 s
        drawn = len(frames)
        await asyncio.sleep(0.06)
        if len(frames) == drawn and quiet(app):
            break
    if not frames:
        raise SystemExit(f"key {key!r} drew nothing: the script presses a key the screen does not answer")
    return frames[-1][0] - t, frames[-1][1] - c


def quiet(app) -> bool:  # type: ignore[no-untyped-def]
    """No message waiting anywhere in the app, and nothing left to redraw."""
    screen = app.screen
    if not app._message_queue.empty():
        return False
    if any(not node._message_queue.empty() for node in screen.walk_children(with_self=True)):
        return False
    return not (screen._layout_required or screen._repaint_required or screen._dirty_widgets)


PRESSES: list[tuple[float, str, str]] = []  # (seconds, label, key) of every timed press


Run = tuple[float, float, dict[str, list[float]], dict[str, list[float]]]


async def one_run(image: str, size: tuple[int, int]) -> Run:
    t0 = time.perf_counter()
    app = make_app(image)
    lat: dict[str, list[float]] = {}
    cpu: dict[str, list[float]] = {}
    async with app.run_test(size=size) as pilot:
        stack = app.query_one(LayerStack)
        while stack.option_count < len(app.image.layers):
            await asyncio.sleep(0.005)
        t_stack = time.perf_counter() - t0
        tree = app.query_one(FileTree)
        while app.merged is None or tree.snapshot is None:
            await asyncio.sleep(0.005)
        await pilot.pause()
        t_tree = time.perf_counter() - t0
        while app.analysis is None:  # so `w` opens the audit, not a notice
            await asyncio.sleep(0.01)
        await pilot.pause(0.2)
        frames: list[tuple[float, float]] = []
        display = app._display

        def timed_display(screen, renderable):  # type: ignore[no-untyped-def]
            display(screen, renderable)
            frames.append((time.perf_counter(), time.thread_time()))

        app._display = timed_display  # type: ignore[method-assign]
        for label, keys in SCRIPT:
            for key in keys:
                took, used = await timed_key(pilot, app, frames, key)
                lat.setdefault(label, []).append(took)
                cpu.setdefault(label, []).append(used)
                PRESSES.append((took, label, key))
        await pilot.press("q")
    return t_stack, t_tree, lat, cpu


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("image")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--size", default="160x48")
    args = ap.parse_args()
    w, h = (int(x) for x in args.size.split("x"))
    stacks: list[float] = []
    trees: list[float] = []
    keys: dict[str, list[float]] = {}
    cpus: dict[str, list[float]] = {}
    for _ in range(args.repeat):
        s, t, lat, cpu = asyncio.run(one_run(args.image, (w, h)))
        stacks.append(s)
        trees.append(t)
        for k, v in lat.items():
            keys.setdefault(k, []).extend(v)
        for k, v in cpu.items():
            cpus.setdefault(k, []).extend(v)
    print(f"image: {args.image}  ({args.repeat} runs, medians)")
    print(f"  layer stack on screen   {statistics.median(stacks) * 1000:8.0f} ms")
    print(f"  tree on screen          {statistics.median(trees) * 1000:8.0f} ms")
    worst = 0.0
    for label, v in keys.items():
        worst = max(worst, max(v))
        used = statistics.median(cpus[label]) * 1000
        print(
            f"  key: {label:<22} median {statistics.median(v) * 1000:6.1f} ms   max {max(v) * 1000:6.1f} ms"
            f"   ui-thread cpu {used:6.1f} ms"
        )
    print(f"  slowest key overall     {worst * 1000:8.1f} ms")
    slowest = ", ".join(f"{key!r} in {label} {took * 1000:.0f} ms" for took, label, key in sorted(PRESSES)[::-1][:5])
    print(f"  slowest presses: {slowest}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
