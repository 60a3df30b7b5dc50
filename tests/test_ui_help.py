"""The help lists every key of every screen, README lists the same, and each is bound.

Issue 20: the help left out Ctrl+F, the content view's and the waste
screen's keys and the versions pane's sideways scrolling; README's keys
table was a third list. Here README's tables are parsed, the help's text is
read off the screen at 80 columns, and the widgets' own bindings are asked.
"""

from __future__ import annotations

import io
import json
import re
import tarfile
from pathlib import Path

from conftest import ROOT, SAMPLES
from imagegen import docker_archive, file, layer_tar
from rich.cells import cell_len
from textual.app import App
from textual.command import CommandPalette
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Input, OptionList

from layerscope.ui.app import LayerscopeApp, make_app
from layerscope.ui.keys import GROUPS, KEYS
from layerscope.ui.screens.audit import AuditScreen
from layerscope.ui.screens.compare import CompareScreen
from layerscope.ui.screens.content import ContentScreen
from layerscope.ui.screens.help import HelpScreen
from layerscope.ui.screens.packages import PackagesScreen
from layerscope.ui.screens.save import SaveScreen
from layerscope.ui.screens.search import SearchScreen
from layerscope.ui.widgets.details import DetailsPane
from layerscope.ui.widgets.file_tree import FileTree
from layerscope.ui.widgets.layer_stack import LayerStack
from layerscope.ui.widgets.lines import LinesPane
from layerscope.ui.widgets.versions import VersionsPane

SMALL = (80, 24)


def words(text: str) -> str:
    return " ".join(text.replace("`", "").split())


def readme_keys() -> list[tuple[str, list[tuple[str, str]]]]:
    """README's `### Keys` section: (title, [(key, action)]) per `####` table."""
    section = (ROOT / "README.md").read_text().split("### Keys\n", 1)[1].split("\n## ", 1)[0]
    groups: list[tuple[str, list[tuple[str, str]]]] = []
    for line in section.splitlines():
        if line.startswith("#### "):
            groups.append((line[5:].strip(), []))
        elif line.startswith("| ") and not line.startswith(("| Key ", "| ---")):
            cells = [c.strip() for c in line.strip().strip("|").split(" | ")]
            assert len(cells) == 2, line
            assert groups, "a keys table before its #### title"
            key = re.fullmatch(r"`(.+)`", cells[0])
            assert key is not None, f"README writes a key as `key`: {cells[0]!r}"
            groups[-1][1].append((key.group(1), cells[1]))
    return groups


def test_readme_lists_every_key_of_the_help_screen_by_screen() -> None:
    ours = readme_keys()
    assert [t for t, _ in ours] == [t for t, _ in GROUPS]
    for (title, rows), (_t, keys) in zip(ours, GROUPS, strict=True):
        assert [key for key, _ in rows] == [k.display for k in keys], title
        for (key, action), k in zip(rows, keys, strict=True):
            # README may say more than the help, after what the help says
            readme, help_says = words(action), words(k.description)
            assert readme.startswith(help_says), (title, key, readme, help_says)
            rest = readme[len(help_says) :]
            assert not rest or not rest[0].isalnum(), (title, key, rest)


# Where each group's keys act: the screen or pane whose bindings must have them.
BOUND_BY: dict[str, tuple[type, ...]] = {
    "Main screen (from any pane)": (LayerscopeApp, Screen),
    "Layers pane": (LayerStack,),
    "Files pane": (FileTree,),
    "Versions pane": (VersionsPane,),
    "Details pane": (DetailsPane,),
    "Search (/)": (SearchScreen, Input, OptionList),
    "Content and diff (c, d)": (ContentScreen, VerticalScroll),
    "Waste and findings (w)": (AuditScreen, DataTable),
    "Compare (C)": (CompareScreen, DataTable),
    "Packages (P)": (PackagesScreen, DataTable),
    "Save (S)": (SaveScreen, Input),
    "Help (?)": (HelpScreen, LinesPane),
}


def test_every_key_the_help_lists_is_bound_where_it_says() -> None:
    assert set(BOUND_BY) == {t for t, _ in GROUPS}
    for title, keys in GROUPS:
        bound: set[str] = set()
        for cls in BOUND_BY[title]:
            bound |= set(cls._merge_bindings().key_to_bindings)
        if title.startswith("Main"):
            bound.add(App.COMMAND_PALETTE_BINDING)
        for k in keys:
            for name in k.key.split(","):
                assert name in bound, (title, k.display, name)


async def test_the_help_at_80_columns_shows_every_key_of_every_screen() -> None:
    app = make_app(str(SAMPLES / "sample-docker.tar"))
    async with app.run_test(size=SMALL) as pilot:
        await app.workers.wait_for_complete()
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        lines = app.screen.query_one(LinesPane).text.splitlines()
        text = words("\n".join(lines))
        at = 0
        for title, keys in GROUPS:
            at = text.index(title, at)  # in README's order
            for k in keys:
                # each key starts its row; its description follows (wrapped at 80)
                assert any(line.startswith(k.display + "  ") for line in lines), k.display
                at = text.index(words(f"{k.display} {k.description}"), at)
        for must in ("Ctrl+F", "Enter on 4", "Scroll sideways", "Tab 1"):
            assert must in text


async def test_search_hint_names_ctrl_f_within_80_columns() -> None:
    app = make_app(str(SAMPLES / "sample-docker.tar"))
    async with app.run_test(size=SMALL) as pilot:
        await app.workers.wait_for_complete()
        await pilot.press("slash")
        await pilot.pause()
        assert isinstance(app.screen, SearchScreen)
        shown = "\n".join(strip.text for strip in app.screen._compositor.render_strips())
        assert "Ctrl+F filters the tree" in shown
        assert "re:REGEX" in shown  # the whole hint, not cut
        await pilot.press(*"conf")  # the hint goes as one types: the key bar still names Ctrl+F
        await app.screen.workers.wait_for_complete()
        await pilot.pause()
        shown = "\n".join(strip.text for strip in app.screen._compositor.render_strips())
        assert "Ctrl+F filters" not in shown and "Ctrl+F Filter the tree" in shown


async def test_palette_writes_keys_as_keys_and_fits_80_columns() -> None:
    app = make_app(str(SAMPLES / "sample-docker.tar"))
    async with app.run_test(size=SMALL) as pilot:
        await app.workers.wait_for_complete()
        await pilot.press("ctrl+p")
        assert isinstance(app.screen, CommandPalette)
        options = app.screen.query_one(OptionList)
        for _ in range(40):  # the palette lists its commands in a worker, a moment later
            await pilot.pause(0.05)
            if options.option_count >= len([k for k in KEYS if k.action]):
                break
        prompts = [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]
        assert not [p for p in prompts if "[[]" in p or "[]]" in p]
        assert "[    Previous layer" in prompts and "]    Next layer" in prompts
        width = options.scrollable_content_region.width - 2  # the option's padding
        for k in KEYS:
            if k.action:  # every command on one line, its key first
                row = f"{k.display:<4} {k.description}"
                assert cell_len(row) <= width, (row, width)


async def test_content_and_diff_scroll_sideways_as_the_help_says(tmp_path: Path) -> None:
    """← → in the content view: a long line's end comes into view (it was cut at the screen's edge)."""
    long = "".join(f"line {i}: " + "x" * 150 + " END\n" for i in range(40))
    path = docker_archive(
        tmp_path / "long.tar",
        [layer_tar([file("a/long.txt", long)]), layer_tar([file("a/long.txt", long.replace("END", "FIN"))])],
    )
    app = make_app(path)
    async with app.run_test(size=SMALL) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        tree = app.query_one(FileTree)
        tree.focus()
        assert tree.reveal("/a/long.txt")
        for key, end in (("c", "FIN"), ("d", "END")):  # the diff: "-line 0: x… END" first
            await pilot.press(key)
            assert isinstance(app.screen, ContentScreen)
            await app.screen.workers.wait_for_complete()
            await pilot.pause()
            shown = "\n".join(strip.text for strip in app.screen._compositor.render_strips())
            assert end not in shown
            await pilot.press(*["right"] * 120)
            await pilot.pause()
            shown = "\n".join(strip.text for strip in app.screen._compositor.render_strips())
            assert f"x {end}" in shown, key
            await pilot.press("escape")


async def test_content_key_on_a_directory_says_so_instead_of_an_empty_screen() -> None:
    app = make_app(str(SAMPLES / "sample-docker.tar"))
    async with app.run_test(size=SMALL) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        tree = app.query_one(FileTree)
        tree.focus()
        assert tree.reveal("/etc")
        main = app.screen
        await pilot.press("c")
        await pilot.pause()
        assert app.screen is main
        assert any("/etc is a directory" in str(n.message) for n in app._notifications)


async def test_compare_enter_on_a_path_only_b_has_says_so() -> None:
    """Not "hidden by the current view or filters": the path is not in this image at all."""
    with tarfile.open(SAMPLES / "multistage-docker.tar") as outer:
        manifest = json.load(outer.extractfile("manifest.json"))  # type: ignore[arg-type]
        b_names = set()
        for name in manifest[0]["Layers"]:
            blob = outer.extractfile(name)
            assert blob is not None
            with tarfile.open(fileobj=io.BytesIO(blob.read())) as layer:
                b_names |= {"/" + m.name.strip("./") for m in layer.getmembers()}
    app = make_app(str(SAMPLES / "sample-docker.tar"), compare=str(SAMPLES / "multistage-docker.tar"))
    async with app.run_test(size=(120, 40)) as pilot:
        for _ in range(3):
            await app.workers.wait_for_complete()
            await pilot.pause()
        assert app.comparison is not None
        await pilot.press("C")
        screen = app.screen
        assert isinstance(screen, CompareScreen)
        only_b = next(p for p in screen.paths if p == "/app/app.conf")
        assert only_b in b_names
        await pilot.press(*["down"] * screen.paths.index(only_b), "enter")
        await pilot.pause()
        messages = [str(n.message) for n in app._notifications]
        assert any("/app/app.conf is only in B" in m for m in messages), messages
        assert not any("hidden by the current view" in m for m in messages)


async def test_versions_pane_scrolls_sideways_as_the_help_says() -> None:
    app = make_app(str(SAMPLES / "sample-docker.tar"))
    async with app.run_test(size=SMALL) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        tree = app.query_one(FileTree)
        tree.focus()
        assert tree.reveal("/app/config.txt")
        await pilot.press("3")
        versions = app.query_one(VersionsPane)
        assert versions.has_focus and versions.max_scroll_x > 0  # the digest and command are off screen
        await pilot.press("right", "right", "right")
        assert versions.scroll_x > 0
        await pilot.press("end")
        assert versions.scroll_x == versions.max_scroll_x
        await pilot.press("home")
        assert versions.scroll_x == 0
