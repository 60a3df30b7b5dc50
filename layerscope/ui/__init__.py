"""The Textual terminal UI over the headless model.

Textual redraws a changed screen on the next tick of a fixed clock, 60 a
second by default. A key's response here often takes two or three frames
(the cursor moves, then the versions pane refills, then its scrollbar
settles), so each frame's wait for the tick adds up to ~17 ms to what a key
costs. At 120 ticks a second the keys of ``benchmarks/ui.py`` answer 20–30 %
sooner on a 500k-entry image (measured); Textual draws only when something
changed, so an idle screen costs nothing more. ``TEXTUAL_FPS`` set by the
user wins; it must be set before Textual is first imported, hence here.
"""

import os

os.environ.setdefault("TEXTUAL_FPS", "120")
