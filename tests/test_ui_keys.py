"""Every key of the main screen, in every pane, and the command palette: nothing crashes.

Ctrl+P (advertised in the footer) once crashed with a MarkupError: the
palette entry of the `/` key was built as markup. Here the palette lists the
entries literally and runs them, and each binding of ``KEYS`` is pressed once
with each pane focused on the sample image.
"""

from __future__ import annotations

from conftest import SAMPLES
from rich.text import Text
from textual.command import CommandPalette
from textual.content import Content
from textual.widgets import Static

from layerscope.ui.app import LayerscopeApp, make_app
from layerscope.ui.keys import KEYS, bindings
from layerscope.ui.screens.search import SearchScreen
from layerscope.ui.widgets.file_tree import FileTree

SIZE = (80, 24)  # the smallest usual terminal; also keeps the 100 key presses quick
BIG = (160, 48)  # room for the palette to list the first entries
PANES = {"1": "layers", "2": "tree", "3": "versions", "4": "details"}


def rendered(app: LayerscopeApp) -> str:
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


async def loaded_app(pilot, app: LayerscopeApp) -> None:  # type: ignore[no-untyped-def]
    await app.workers.wait_for_complete()
    await pilot.pause()
    assert app.merged is not None and app.analysis is not None


async def palette_run(pilot, app: LayerscopeApp, query: str) -> None:  # type: ignore[no-untyped-def]
    """Open the palette, type ``query``, wait for the hits, Enter on the first."""
    await pilot.press("ctrl+p")
    assert isinstance(app.screen, CommandPalette)
    await pilot.press(*query)
    await app.screen.workers.wait_for_complete()  # the palette searches in a worker
    await pilot.pause()
    await pilot.press("enter")
    await pilot.pause()


async def test_palette_lists_every_key_literally_and_runs_them() -> None:
    app = make_app(str(SAMPLES / "sample-docker.tar"))
    async with app.run_test(size=BIG) as pilot:
        await loaded_app(pilot, app)
        await pilot.press("ctrl+p")
        assert isinstance(app.screen, CommandPalette)
        await pilot.pause(0.2)
        shown = rendered(app)
        # the entries whose key is markup-like show as written
        for title in ("/    Search paths: a fragment", "[    Previous layer", "]    Next layer"):
            assert title in shown, title
        assert "[[]" not in shown
        await pilot.press("escape")
        assert not isinstance(app.screen, CommandPalette)
        # run a toggle from the palette: its visible effect is the status line
        status = app.query_one("#status", Static)
        assert "view: aggregate" in str(status.render())
        await palette_run(pilot, app, "only this layer's changes")
        assert not isinstance(app.screen, CommandPalette)
        assert "view: this layer's changes" in str(status.render())
        assert app.query_one(FileTree).opts.layer_only
        # and the command whose key is `/`
        await palette_run(pilot, app, "Search paths")
        assert isinstance(app.screen, SearchScreen)
        await pilot.press("escape")
        assert app._exception is None


async def test_every_key_in_every_pane() -> None:
    """Each binding once per focused pane; a screen it opens is closed with Escape."""
    app = make_app(str(SAMPLES / "sample-docker.tar"), compare=str(SAMPLES / "sample-oci-gzip.tar"))
    async with app.run_test(size=SIZE) as pilot:
        await loaded_app(pilot, app)
        assert app.comparison is not None
        main = app.screen
        app.query_one(FileTree).reveal("/app/config.txt")  # a file with two versions: content and diff open
        opened: set[str] = set()
        for pane_key, pane in PANES.items():
            for key, _disp, action, _desc, _show, _label in KEYS:
                if action in ("quit", ""):  # "": bound by Textual (Tab, Ctrl+P)
                    continue
                if app.focused is None or app.focused.id != pane:  # the last key may have moved the focus
                    await pilot.press(pane_key)
                    assert app.focused is not None and app.focused.id == pane
                await pilot.press(key)
                for _ in range(3):  # back to the main screen
                    if app.screen is main:
                        break
                    opened.add(type(app.screen).__name__)
                    await pilot.press("escape")
                assert app.screen is main, (key, pane)
                assert app._exception is None, (key, pane)
                assert app.is_running
        # (c meets only directories here, with every class hidden or a layer's own view:
        # it says so in a toast; the content screen's keys are tested in test_ui_help)
        assert opened >= {"HelpScreen", "SearchScreen", "AuditScreen", "CompareScreen"}
        await pilot.press("q")
    assert app.return_code == 0 and app._exception is None


def test_key_descriptions_read_the_same_as_markup() -> None:
    """Textual parses a binding's description and tooltip as markup (footer tooltip, Keys panel)."""
    for b in bindings():
        for s in (b.description, b.tooltip):
            assert Content.from_markup(s).plain == s and Text.from_markup(s).plain == s, s
