"""Regenerate docs/screenshot.svg: the real UI on the bundled sample image.

    python docs/screenshot.py
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from layerscope.ui.app import make_app
from layerscope.ui.widgets.file_tree import FileTree
from layerscope.ui.widgets.layer_stack import LayerStack

ROOT = Path(__file__).resolve().parent.parent


async def main() -> None:
    app = make_app(str(ROOT / "sample_images" / "sample-docker.tar"))
    async with app.run_test(size=(150, 42)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        app.query_one(LayerStack).select_layer(5)
        await pilot.pause()
        tree = app.query_one(FileTree)
        tree.focus()
        tree.reveal("/root/.aws/credentials")
        await app.workers.wait_for_complete()
        await pilot.pause(0.3)
        app.save_screenshot(str(ROOT / "docs" / "screenshot.svg"))


if __name__ == "__main__":
    asyncio.run(main())
