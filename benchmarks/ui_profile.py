#!/usr/bin/env python3
"""Where a key's response spends its time: cProfile around the keys ``ui.py`` times.

    python benchmarks/ui_profile.py IMAGE [--keys "[" "]" | --script] [--times 6]
                                          [--top 40] [--dump PREFIX] [--frames]

Opens the app as ``ui.py`` does and presses either ``--keys`` in turn,
``--times`` rounds, or ``ui.py``'s whole script ``--times`` times. Each press
is timed as ``ui.py`` times it (key event to the last frame) and profiled on
the UI thread from the key event to the end of its response. Printed per key
(or script label): the median latency, the UI thread's CPU time to the last
frame and the function calls per press, then the functions with the most
cumulative time. ``--dump`` writes each profile for ``pstats``.

Function-call counts (repeatable) and CPU time (less swayed than wall time)
separate a cost from noise on a shared machine: two versions of the code
differ in them only if one does more.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import re
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

# ui first: it imports layerscope.ui, which sets Textual's frame rate before Textual loads
from ui import SCRIPT, make_app, quiet, send_key

from layerscope.ui.widgets.file_tree import FileTree
from layerscope.ui.widgets.layer_stack import LayerStack

NAMES = {"[": "prev", "]": "next", "/": "slash"}  # file names of keys that are not words
PLAIN = False  # --plain: time and count frames only, no profiler (its overhead is ~2x)
Frame = tuple[float, float]  # (wall clock, UI-thread CPU clock) when drawn


async def profiled_key(app, frames: list[Frame], key: str, prof: cProfile.Profile, show: bool):  # type: ignore[no-untyped-def]
    """(latency, UI-thread CPU seconds) of one key, profiled to the end of its response."""
    for _ in range(30):  # settle (untimed)
        await asyncio.sleep(0.06)
        if quiet(app):
            break
    await asyncio.sleep(0.1)
    frames.clear()
    if not PLAIN:
        prof.enable()
    t, c = time.perf_counter(), time.thread_time()
    send_key(app, key)
    for _ in range(50):
        drawn = len(frames)
        await asyncio.sleep(0.06)
        if len(frames) == drawn and quiet(app):
            break
    prof.disable()
    if not frames:
        raise SystemExit(f"key {key!r} drew nothing")
    if show:
        drawn = ", ".join(f"{(w - t) * 1000:.0f} ms (cpu {(u - c) * 1000:.0f})" for w, u in frames)
        print(f"  {key!r} frames at {drawn}")
    return frames[-1][0] - t, frames[-1][1] - c


async def run(args: argparse.Namespace) -> None:
    w, h = (int(x) for x in args.size.split("x"))
    app = make_app(args.image)
    script = SCRIPT if args.script else [(key, [key]) for key in args.keys]
    async with app.run_test(size=(w, h)) as pilot:
        stack = app.query_one(LayerStack)
        while stack.option_count < len(app.image.layers):
            await asyncio.sleep(0.005)
        tree = app.query_one(FileTree)
        while app.merged is None or tree.snapshot is None or app.analysis is None:
            await asyncio.sleep(0.01)
        await pilot.pause(0.5)
        if not args.script:
            for key in ["2", *args.setup]:  # the tree focused, as ui.py's script starts
                await pilot.press(key)
                await pilot.pause(0.3)
        frames: list[Frame] = []
        display = app._display

        def timed_display(screen, renderable):  # type: ignore[no-untyped-def]
            display(screen, renderable)
            frames.append((time.perf_counter(), time.thread_time()))

        app._display = timed_display  # type: ignore[method-assign]
        profs = {label: cProfile.Profile() for label, _ in script}
        lat: dict[str, list[float]] = {label: [] for label, _ in script}
        cpu: dict[str, list[float]] = {label: [] for label, _ in script}
        for _ in range(args.times):
            for label, keys in script:
                for key in keys:
                    took, used = await profiled_key(app, frames, key, profs[label], args.frames)
                    lat[label].append(took)
                    cpu[label].append(used)
        await pilot.press("q")
    for label, keys in script:
        if PLAIN:
            print(
                f"=== {label!r}: latency median {statistics.median(lat[label]) * 1000:.1f} ms, "
                f"UI-thread CPU median {statistics.median(cpu[label]) * 1000:.1f} ms"
            )
            continue
        if args.dump:
            profs[label].dump_stats(f"{args.dump}-{NAMES.get(label) or re.sub(r'[^a-z0-9]+', '_', label)}.prof")
        st = pstats.Stats(profs[label])
        presses = args.times * len(keys)
        print(
            f"=== {label!r}: latency median {statistics.median(lat[label]) * 1000:.1f} ms, UI-thread CPU median "
            f"{statistics.median(cpu[label]) * 1000:.1f} ms, function calls per press "
            f"{st.total_calls / presses:.0f}"  # type: ignore[attr-defined]
        )
        if args.top:
            st.sort_stats(args.sort).print_stats(args.top)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("image")
    ap.add_argument("--keys", nargs="+", default=["[", "]"])
    ap.add_argument("--setup", nargs="*", default=[], help="keys pressed first, untimed (after 2)")
    ap.add_argument("--script", action="store_true", help="ui.py's whole script, a profile per label")
    ap.add_argument("--times", type=int, default=6)
    ap.add_argument("--top", type=int, default=40)
    ap.add_argument("--sort", default="cumulative")
    ap.add_argument("--size", default="160x48")
    ap.add_argument("--dump", help="write each profile to DUMP-LABEL.prof")
    ap.add_argument("--frames", action="store_true", help="print each press's frames (time, UI-thread CPU)")
    ap.add_argument("--plain", action="store_true", help="no profiler: latency, CPU and frames only")
    args = ap.parse_args()
    global PLAIN
    PLAIN = args.plain
    asyncio.run(run(args))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
