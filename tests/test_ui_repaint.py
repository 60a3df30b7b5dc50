"""Keys repaint the panes they change; they do not re-lay out the screen.

A screen layout in Textual redraws every pane (tens of milliseconds on a big
image): the latency work of issue 13 removed the layouts that a layer change,
a cursor move or an opened screen used to cause. These tests count the
layouts a key sequence causes and check what the panes then show, against
the sample's own history (sample_images/README.md, the config podman wrote).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from conftest import ROOT, SAMPLES
from rich.console import Console, ConsoleOptions, RenderResult
from rich.text import Text
from textual import events
from textual.app import App, ComposeResult
from textual.screen import Screen
from textual.widgets import Input

from layerscope.ui.app import LayerscopeApp, make_app
from layerscope.ui.screens.audit import AuditScreen, TabBar
from layerscope.ui.screens.search import SearchScreen
from layerscope.ui.widgets.details import DetailsPane
from layerscope.ui.widgets.file_tree import FileTree
from layerscope.ui.widgets.layer_rows import BaseRule, LayerRow, StepRow
from layerscope.ui.widgets.layer_stack import LayerStack
from layerscope.ui.widgets.lines import LinesPane
from layerscope.ui.widgets.versions import VersionsPane

MEDIUM = (160, 45)
SMALL = (80, 24)


def sample_commands() -> list[str]:
    """Each layer's command, as the image's config records it (not as the model reads it)."""
    with tarfile.open(SAMPLES / "sample-docker.tar") as tar:
        manifest = json.load(tar.extractfile("manifest.json"))  # type: ignore[arg-type]
        config = json.load(tar.extractfile(manifest[0]["Config"]))  # type: ignore[arg-type]
    return [h["created_by"] for h in config["history"] if not h.get("empty_layer")]


@contextmanager
def counting_layouts() -> Iterator[list[str]]:
    """Every screen layout done meanwhile, by screen class name."""
    done: list[str] = []
    original = Screen._refresh_layout

    def counted(self: Screen[object], *args: object, **kwargs: object) -> None:
        done.append(type(self).__name__)
        original(self, *args, **kwargs)  # type: ignore[arg-type]

    Screen._refresh_layout = counted  # type: ignore[method-assign]
    try:
        yield done
    finally:
        Screen._refresh_layout = original  # type: ignore[method-assign]


async def loaded(app: LayerscopeApp, pilot) -> None:  # type: ignore[no-untyped-def]
    for _ in range(3):
        await app.workers.wait_for_complete()
        await pilot.pause()
    assert app.merged is not None and app.analysis is not None


def words(text: str) -> str:
    """Text with its wrapping undone: one space wherever there was any run of blanks."""
    return " ".join(text.split())


async def test_layer_changes_repaint_without_a_layout_and_show_each_layer() -> None:
    commands = sample_commands()
    assert len(commands) == 7
    app = make_app(str(SAMPLES / "sample-docker.tar"))
    async with app.run_test(size=MEDIUM) as pilot:
        await loaded(app, pilot)
        stack = app.query_one(LayerStack)
        stack.focus()
        # a first sweep: any scrollbar the panes ever need appears now (once, and stays)
        await pilot.press(*["up"] * 7, *["down"] * 7)
        await pilot.pause()
        with counting_layouts() as layouts:
            for k in range(6, -1, -1):
                stack.select_layer(k)
                await pilot.pause()
                details = words(app.query_one(DetailsPane).text)
                assert app.k == k
                assert f"Layer L{k}" in details
                # the whole command, wrapped (long tokens folded), not cut
                assert "".join(commands[k].split()) in "".join(details.split())
                assert str(app.query_one(FileTree).root.label).startswith(f"/  (as of L{k})")
        assert layouts == [], layouts


@contextmanager
def counting_row_draws() -> Iterator[list[str]]:
    """Every time a row of the layer stack is rendered (measured or drawn) meanwhile:
    ``L5`` for a layer's row, ``step`` for a step of history, ``rule`` for the base rule."""
    done: list[str] = []
    originals = {cls: cls.__rich_console__ for cls in (LayerRow, StepRow, BaseRule)}

    def spy(cls: type, name: Callable[[Any], str]) -> None:
        original = originals[cls]

        def counted(self: Any, console: Console, options: ConsoleOptions) -> RenderResult:
            done.append(name(self))
            return original(self, console, options)

        cls.__rich_console__ = counted  # type: ignore[attr-defined]

    spy(LayerRow, lambda row: f"L{row.layer.index}")
    spy(StepRow, lambda _row: "step")
    spy(BaseRule, lambda _row: "rule")
    try:
        yield done
    finally:
        for cls, original in originals.items():
            cls.__rich_console__ = original  # type: ignore[attr-defined]


async def test_a_layer_change_draws_only_the_rows_it_folds_and_unfolds() -> None:
    """A layer change once measured and drew every row of the stack again, twice
    (OptionList's public way to change one row forgets all of them): on the 500k
    image "previous layer" went from 108 to 136 ms. Only the row that folds its
    command and the one that unfolds it change; the rest keep what they drew."""
    app = make_app(str(SAMPLES / "sample-docker.tar"))
    async with app.run_test(size=MEDIUM) as pilot:
        await loaded(app, pilot)
        stack = app.query_one(LayerStack)
        stack.focus()
        await pilot.pause()
        assert app.k == 6
        for key, was, now in (("up", 6, 5), ("up", 5, 4), ("down", 4, 5)):
            with counting_row_draws() as drawn:
                await pilot.press(key)
                await pilot.pause()
            assert app.k == now
            assert set(drawn) == {f"L{was}", f"L{now}"}, drawn
        # and the screen says what it did: L5's whole command below its row
        inner = stack.content_region
        lines = [strip.text[inner.x : inner.right] for strip in app.screen._compositor.render_strips()]
        shown = "".join("".join(line.split()) for line in lines[inner.y : inner.bottom])
        whole = "".join(sample_commands()[5].split()).removeprefix("/bin/sh-c")
        assert whole in shown and "".join(sample_commands()[6].split())[-20:] not in shown


class OnePane(App[None]):
    CSS = "LinesPane { height: 10; }"

    def compose(self) -> ComposeResult:
        yield LinesPane(Text("short"))


async def test_a_scrollbar_once_needed_stays_and_the_view_clamps() -> None:
    app = OnePane()
    async with app.run_test(size=(40, 20)) as pilot:
        pane = app.query_one(LinesPane)
        assert not pane.show_vertical_scrollbar and pane.text == "short"
        with counting_layouts() as layouts:
            pane.show(Text("\n".join(f"line {i}" for i in range(30))))  # taller than the pane
            await pilot.pause()
        assert pane.show_vertical_scrollbar and pane.max_scroll_y == 20 and layouts  # it appeared: one layout
        pane.scroll_end(animate=False)
        await pilot.pause()
        assert pane.scroll_y == 20
        with counting_layouts() as layouts:
            pane.show(Text("short again"))  # fits again
            await pilot.pause()
            assert pane.show_vertical_scrollbar and pane.max_scroll_y == 0 and pane.scroll_y == 0  # clamped
            pane.show(Text("\n".join(f"row {i}" for i in range(12))))
            await pilot.pause()
        assert layouts == []  # the bar stayed: repaints only
        assert pane.show_vertical_scrollbar and pane.max_scroll_y == 2 and pane.scroll_y == 0
        assert pane.text.splitlines()[0] == "row 0"


async def test_audit_tabs_are_made_when_first_shown_and_a_click_switches() -> None:
    app = make_app(str(SAMPLES / "sample-docker.tar"))
    async with app.run_test(size=MEDIUM) as pilot:
        await loaded(app, pilot)
        await pilot.press("w")
        screen = app.screen
        assert isinstance(screen, AuditScreen)
        await screen.workers.wait_for_complete()
        await pilot.pause()
        # only the shown tab's table exists; the findings' jumps are known anyway
        assert screen.query("#waste") and not screen.query("#findings") and not screen.query("#waste-layers")
        assert any(j.path == "/root/.aws/credentials" for j in screen.jumps["findings"])
        bar = screen.query_one(TabBar)
        text = str(bar.render())
        at = text.index("3 By layer") + 2
        await pilot.click(TabBar, offset=(at, 0))
        await pilot.pause()
        table = screen.query_one("#waste-layers")
        assert table.has_focus and table.display and not screen.query_one("#waste").display
        rows = [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]  # type: ignore[attr-defined]
        # sample_images/README.md: L4 hides 671 B in 5 versions, L5 130 B in 6, L6 24 B in 3
        assert [(r[0], r[1], r[2]) for r in rows] == [("L4", "671 B", "5"), ("L5", "130 B", "6"), ("L6", "24 B", "3")]
        await pilot.press("tab")  # on to the findings, made now
        await pilot.pause()
        assert screen.query_one("#findings").has_focus and bar.active == "findings"


def test_textual_ticks_120_times_a_second_unless_the_user_says() -> None:
    probe = "import layerscope.ui, textual.constants as c; print(c.MAX_FPS)"
    env = {k: v for k, v in os.environ.items() if k != "TEXTUAL_FPS"}
    run = subprocess.run([sys.executable, "-c", probe], env=env, cwd=ROOT, capture_output=True, text=True, check=True)
    assert run.stdout.strip() == "120"
    env["TEXTUAL_FPS"] = "30"
    run = subprocess.run([sys.executable, "-c", probe], env=env, cwd=ROOT, capture_output=True, text=True, check=True)
    assert run.stdout.strip() == "30"


async def on_data_bin(app: LayerscopeApp, pilot) -> tuple[FileTree, VersionsPane]:  # type: ignore[no-untyped-def]
    """The loaded sample with the tree's cursor on /app/data.bin: L2 adds it, L4 chmods
    it (a copy-up), L5 and L6 leave it alone (sample_images/README.md)."""
    await loaded(app, pilot)
    tree = app.query_one(FileTree)
    tree.focus()
    assert tree.reveal("/app/data.bin")
    await pilot.pause()
    return tree, app.query_one(VersionsPane)


async def test_a_layer_change_refills_the_versions_once_for_the_kept_path() -> None:
    app = make_app(str(SAMPLES / "sample-docker.tar"))
    async with app.run_test(size=MEDIUM) as pilot:
        tree, versions = await on_data_bin(app, pilot)
        shown: list[tuple[str | None, int]] = []
        original = versions.show_path

        def counted(merged, path, k):  # type: ignore[no-untyped-def]
            shown.append((path, k))
            original(merged, path, k)

        versions.show_path = counted  # type: ignore[method-assign]
        for key, k in (("left_square_bracket", 5), ("left_square_bracket", 4), ("right_square_bracket", 5)):
            shown.clear()
            await pilot.press(key)
            await pilot.pause()
            assert app.k == k and tree.current_path == "/app/data.bin"
            assert shown == [("/app/data.bin", k)]  # not the rows that passed under the cursor
        assert [ev.layer for ev in versions.events] == [4, 2]  # newest first: L4's copy-up hides L2's
        # a highlight that is no longer the cursor's (a re-rooted tree passes rows under it) is skipped
        shown.clear()
        tree.post_message(FileTree.PathHighlighted("/app/hello.py"))
        await pilot.pause()
        assert shown == [] and versions.path == "/app/data.bin"


async def test_a_quick_slash_and_letters_all_reach_the_search_box() -> None:
    """`/cred` as one burst (a fast typist, a paste, tmux send-keys): no letter lost, none acting on the tree."""
    app = make_app(str(SAMPLES / "sample-docker.tar"))
    async with app.run_test(size=SMALL) as pilot:
        await loaded(app, pilot)
        for key, char in (("slash", "/"), ("c", "c"), ("r", "r"), ("e", "e"), ("d", "d")):
            event = events.Key(key, char)
            event.set_sender(app)
            app._driver.send_message(event)  # as the terminal driver does: no waiting in between
        await pilot.pause(0.3)
        await app.screen.workers.wait_for_complete()
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, SearchScreen)
        assert screen.query_one(Input).value == "cred"
        assert screen.matches == ["/root/.aws/credentials"]  # the sample's one secret (README)
        assert not app.query_one(FileTree).opts.hidden  # `r` did not hide identical rewrites


async def test_layers_that_leave_a_path_alone_keep_its_versions_rows() -> None:
    app = make_app(str(SAMPLES / "sample-docker.tar"))
    async with app.run_test(size=MEDIUM) as pilot:
        _, versions = await on_data_bin(app, pilot)
        versions.move_cursor(row=1)  # L2's version, which L4's copy-up hides
        stack = app.query_one(LayerStack)
        for k in (5, 4):
            stack.select_layer(k)
            await pilot.pause()
            assert [ev.layer for ev in versions.events] == [4, 2] and versions.cursor_row == 1
        stack.select_layer(3)
        await pilot.pause()
        assert [ev.layer for ev in versions.events] == [2]  # L4's version is above L3: refilled
        assert "(1 newer above L3)" in str(versions.border_title)
