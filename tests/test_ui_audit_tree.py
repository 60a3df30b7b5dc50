"""The auditor's tree: ghosts, a layer's own sizes, sweeping keys, aligned columns.

Expectations come from the sample image's known history (sample_images/README.md)
and from umoci's listings of it after every layer (``sample-docker.L<k>.expected.txt``),
not from the model functions the widgets call: a path gone from ``L6``'s listing
that some lower listing has is a ghost at L6, deleted by the first layer whose
listing lacks it; its bytes are its size in the last listing that has it.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import SAMPLES
from imagegen import build, file, wh

from layerscope.sizes import Sizes
from layerscope.ui.app import LayerscopeApp, make_app
from layerscope.ui.screens.content import ContentScreen
from layerscope.ui.screens.search import SearchScreen
from layerscope.ui.widgets.file_tree import AUTO_ROWS, EXPAND_ROWS, PAGE, FileTree, More
from layerscope.ui.widgets.layer_stack import LayerStack
from layerscope.ui.widgets.versions import VersionsPane

SIZE = (160, 48)
TOP = 6


class Item:
    """One line of an umoci listing."""

    def __init__(self, line: str) -> None:
        path, self.type, mode, uid, gid, size, _digest, _link = line.split("\t")
        self.path = path
        self.mode = int(mode, 8)
        self.owner = f"{uid}:{gid}"
        self.size = int(size) if size != "-" else 0


def listing(k: int) -> dict[str, Item]:
    lines = (SAMPLES / f"sample-docker.L{k}.expected.txt").read_text().splitlines()
    return {i.path: i for i in map(Item, lines)}


LISTINGS = [listing(k) for k in range(TOP + 1)]


def ghosts_at(k: int) -> dict[str, int]:
    """Paths gone as of layer k that a lower layer had -> the layer that deleted them."""
    out: dict[str, int] = {}
    for j in range(1, k + 1):
        for p in LISTINGS[j - 1]:
            if p not in LISTINGS[j] and all(p not in LISTINGS[i] for i in range(j, k + 1)):
                out[p] = j
    return out


def shipped_bytes(path: str, deleted_by: int) -> int:
    """Bytes of files at or under ``path`` in the last listing before its deletion."""
    before = LISTINGS[deleted_by - 1]
    return sum(i.size for p, i in before.items() if i.type == "file" and (p == path or p.startswith(path + "/")))


async def loaded(app: LayerscopeApp, pilot) -> None:  # type: ignore[no-untyped-def]
    await app.workers.wait_for_complete()
    await pilot.pause()
    assert app.merged is not None


def sample_app() -> LayerscopeApp:
    return make_app(str(SAMPLES / "sample-docker.tar"))


def rows(tree: FileTree) -> list[str]:
    """The tree's rows as drawn (the visible ones)."""
    return [tree.render_line(y).text.rstrip() for y in range(tree.size.height)]


def cursor_row(tree: FileTree) -> str:
    return tree.render_line(tree.cursor_line - tree.scroll_offset.y).text


def struck(tree: FileTree) -> bool:
    strip = tree.render_line(tree.cursor_line - tree.scroll_offset.y)
    return any(seg.style is not None and seg.style.strike for seg in strip if seg.text.strip())


def open_paths(tree: FileTree) -> set[str]:
    out: set[str] = set()
    stack = [tree.root]
    while stack:
        n = stack.pop()
        for c in n.children:
            if c.is_expanded and isinstance(c.data, str):
                out.add(c.data)
                stack.append(c)
    return out


async def at_layer(app: LayerscopeApp, pilot, k: int) -> None:  # type: ignore[no-untyped-def]
    app.query_one(LayerStack).select_layer(k)
    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.pause()
    assert app.k == k


# -- ghosts -------------------------------------------------------------------------------


def test_the_listings_have_the_ghosts_the_readme_describes() -> None:
    """The expectations below rest on these: L5 deletes the secret and /srv/old, L6 /data/dirtofile's tree."""
    g = ghosts_at(TOP)
    assert g["/root/.aws/credentials"] == 5 and g["/srv/old/sub/b.txt"] == 5 and g["/opt/cache/one.txt"] == 5
    assert g["/data/dirtofile/x.txt"] == 6 and "/data/dirtofile" not in g  # now a file
    assert "/var/lib/thing" not in g  # a file became a directory: not deleted
    assert shipped_bytes("/srv/old", 5) == 12 and shipped_bytes("/root/.aws/credentials", 5) == 90


async def test_every_ghost_shows_at_its_place_with_its_layer_and_bytes() -> None:
    app = sample_app()
    async with app.run_test(size=SIZE) as pilot:
        await loaded(app, pilot)
        tree = app.query_one(FileTree)
        tree.focus()
        expected = ghosts_at(TOP)
        assert len(expected) >= 10
        for path, layer in expected.items():
            assert tree.reveal(path), path
            await pilot.pause()
            row = cursor_row(tree)
            name = path.rsplit("/", 1)[1]
            assert re.search(rf"{re.escape(name)}/?\s+L{layer}\s+deleted\s+{shipped_bytes(path, layer)} B", row), row
            assert struck(tree), path
        # live paths are not struck through, and keep their own layer
        assert tree.reveal("/srv/keep.txt")
        await pilot.pause()
        assert not struck(tree) and re.search(r"keep\.txt\s+L3\s+8 B", cursor_row(tree))
        # below its deletion a path is live again: the secret as of L4 is L3's file
        await at_layer(app, pilot, 4)
        assert tree.reveal("/root/.aws/credentials")
        await pilot.pause()
        assert not struck(tree) and "deleted" not in cursor_row(tree)


async def test_x_hides_ghosts_but_not_this_layers_deletions() -> None:
    app = sample_app()
    async with app.run_test(size=SIZE) as pilot:
        await loaded(app, pilot)
        tree = app.query_one(FileTree)
        tree.focus()
        await pilot.press("X")
        assert "ghosts hidden" in str(app.query_one("#status").render())
        for path, layer in ghosts_at(TOP).items():
            # L6's own deletions stay (governed by `x`); lower layers' are hidden
            assert tree.reveal(path) == (layer == TOP), path
        assert tree.reveal("/srv/keep.txt")
        await pilot.press("X")
        assert tree.reveal("/root/.aws/credentials")


async def test_a_file_that_replaced_a_directory_keeps_its_ghosts_under_it() -> None:
    app = sample_app()
    async with app.run_test(size=SIZE) as pilot:
        await loaded(app, pilot)
        tree = app.query_one(FileTree)
        assert tree.reveal("/data/dirtofile/nested/y.txt")
        await pilot.pause()
        assert re.search(r"y\.txt\s+L6\s+deleted\s+2 B", cursor_row(tree))
        assert tree.reveal("/data/dirtofile")
        await pilot.pause()
        assert re.search(r"dirtofile\s+L6\s+type-changed\s+16 B", cursor_row(tree))


async def test_search_and_filter_find_ghosts() -> None:
    app = sample_app()
    async with app.run_test(size=SIZE) as pilot:
        await loaded(app, pilot)
        await pilot.press("slash", *"credentials")
        screen = app.screen
        assert isinstance(screen, SearchScreen)
        await screen.workers.wait_for_complete()
        await pilot.pause()
        assert screen.matches == ["/root/.aws/credentials"]
        count = str(screen.query_one("#search-count").render())
        assert "1 matching path as of L6" in count and "1 deleted, still shipping" in count
        await pilot.press("enter")
        await pilot.pause()
        tree = app.query_one(FileTree)
        assert tree.current_path == "/root/.aws/credentials" and struck(tree)
        # the filter keeps the ghost and opens the way to it
        await pilot.press("slash", "ctrl+a", "ctrl+k", *"*.txt")
        screen = app.screen
        await screen.workers.wait_for_complete()
        await pilot.press("ctrl+f")
        await screen.workers.wait_for_complete()
        await pilot.pause()
        shown = "\n".join(rows(tree))
        txt_ghosts = [p for p in ghosts_at(TOP) if p.endswith(".txt")]
        assert txt_ghosts
        for p in txt_ghosts:
            assert p.rsplit("/", 1)[1] in shown, p
        # with ghosts hidden, the same search finds only the live paths
        await pilot.press("escape", "X", "slash", *"credentials")
        screen = app.screen
        assert isinstance(screen, SearchScreen)
        await screen.workers.wait_for_complete()
        await pilot.pause()
        assert screen.matches == [] and "0 matching paths" in str(screen.query_one("#search-count").render())


async def test_content_and_layer_keys_on_a_ghost_act_on_the_version_that_ships() -> None:
    app = sample_app()
    async with app.run_test(size=SIZE) as pilot:
        await loaded(app, pilot)
        tree = app.query_one(FileTree)
        tree.focus()
        assert tree.reveal("/root/.aws/credentials")
        await pilot.press("c")
        assert isinstance(app.screen, ContentScreen)
        await app.screen.workers.wait_for_complete()
        await pilot.pause()
        assert "FAKE-NOT-A-SECRET" in "\n".join(s.text for s in app.screen._compositor.render_strips())
        await pilot.press("escape", "l")
        await pilot.pause()
        assert app.k == 3 and tree.current_path == "/root/.aws/credentials"
        assert re.search(r"credentials\s+L3\s+added\s+90 B", cursor_row(tree))


async def test_diff_on_a_ghost_compares_the_shipped_version_with_the_one_below(tmp_path: Path) -> None:
    path = build(
        tmp_path,
        [[file("/etc/app.conf", "token = one\n")], [file("/etc/app.conf", "token = two\n")], [wh("/etc/app.conf")]],
    )
    app = make_app(path)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(app, pilot)
        tree = app.query_one(FileTree)
        tree.focus()
        assert tree.reveal("/etc/app.conf")
        await pilot.press("d")
        assert isinstance(app.screen, ContentScreen)
        await app.screen.workers.wait_for_complete()
        await pilot.pause()
        shown = "\n".join(s.text for s in app.screen._compositor.render_strips())
        assert "L0 → L1" in shown and "-token = one" in shown and "+token = two" in shown


# -- a layer's own view -----------------------------------------------------------------------


def own_figures(k: int) -> tuple[dict[str, int], dict[str, int]]:
    """Bytes layer k wrote and bytes its deletions hid under each top directory, from two listings.

    Good for a layer without identical rewrites of files (L5: see the README's table).
    """
    before, after = LISTINGS[k - 1], LISTINGS[k]
    added: dict[str, int] = {}
    hidden: dict[str, int] = {}
    for p, i in after.items():
        b = before.get(p)
        if i.type == "file" and (b is None or (b.type, b.size, b.mode, b.owner) != (i.type, i.size, i.mode, i.owner)):
            top = "/" + p.split("/")[1]
            added[top] = added.get(top, 0) + i.size
    for p, b in before.items():
        if p not in after and b.type == "file":
            top = "/" + p.split("/")[1]
            hidden[top] = hidden.get(top, 0) + b.size
    return added, hidden


async def test_a_layers_own_view_shows_its_own_bytes_opened_to_its_changes() -> None:
    added, hidden = own_figures(5)
    assert added == {"/opt": 6} and hidden == {"/opt": 18, "/root": 90, "/srv": 22}
    app = sample_app()
    async with app.run_test(size=SIZE) as pilot:
        await loaded(app, pilot)
        await at_layer(app, pilot, 5)
        tree = app.query_one(FileTree)
        tree.focus()
        await pilot.press("v")
        await app.workers.wait_for_complete()
        await pilot.pause()
        shown = rows(tree)
        text = "\n".join(shown)
        assert "changes of L5" in text
        for top in ("/opt", "/root", "/srv"):
            name = top[1:] + "/"
            line = next(r for r in shown if re.search(rf"[├└] ▼ {name}\s", r))
            want = rf"{name}\s+L5\s+{added.get(top, 0)} B\s+{hidden[top]} B deleted below"
            assert re.search(want, line), line
        # opened to every change without a key press; a deleted directory stays at its top
        for name in ("fresh.txt", "one.txt", "two.txt", "credentials", "remove-me.txt", "old/"):
            assert name in text, name
        assert "a.txt" not in text and "keep.txt" not in text  # inside deleted old/; an L3 file
        assert re.search(r"old/\s+L5\s+deleted\s+12 B", text)
        # size sort ranks by bytes added plus bytes deletions left behind
        await pilot.press("s")
        await app.workers.wait_for_complete()
        await pilot.pause()
        order = [str(c.data) for c in tree.root.children]
        assert order == sorted(hidden, key=lambda t: -(added.get(t, 0) + hidden[t]))
        # the aggregate view keeps live sizes: /srv holds keep.txt (8 B) as of L5
        await pilot.press("v")
        await pilot.pause()
        assert tree.reveal("/srv")
        await pilot.pause()
        assert re.search(r"srv/\s+L5\s+8 B", cursor_row(tree))


async def test_a_layers_own_view_counts_copy_ups_and_rewrites_it_ships() -> None:
    """L4 rewrote config.txt, chmod-copied data.bin, rewrote hello.py identically, added NEWS.txt (README)."""
    l4 = LISTINGS[4]
    want_app = sum(l4[p].size for p in ("/app/config.txt", "/app/data.bin", "/app/hello.py", "/app/NEWS.txt"))
    want_etc = sum(l4[p].size for p in ("/etc/motd", "/etc/group"))
    app = sample_app()
    async with app.run_test(size=SIZE) as pilot:
        await loaded(app, pilot)
        await at_layer(app, pilot, 4)
        tree = app.query_one(FileTree)
        tree.focus()
        await pilot.press("v")
        await app.workers.wait_for_complete()
        await pilot.pause()
        text = "\n".join(rows(tree))
        assert re.search(rf"app/\s+L4\s+{want_app} B", text), text
        assert re.search(rf"etc/\s+L4\s+{want_etc} B", text), text


def test_live_sizes_match_umoci_at_every_layer() -> None:
    """Sizes.live against the listings: every directory, every layer (a hardlink's bytes count once)."""
    app = sample_app()
    from layerscope.api import read

    merged = read(app.image)
    sizes = Sizes(merged)
    sizes.compute()
    for k, items in enumerate(LISTINGS):
        for d, item in items.items():
            if item.type != "dir":
                continue
            want = sum(i.size for p, i in items.items() if i.type == "file" and p.startswith(d + "/"))
            if k >= 3 and d in ("/app",):
                want -= items["/app/shared.txt"].size  # umoci lists the hardlink as a second file
            assert sizes.live(d, k) == want, (k, d)


# -- sweeping the tree -----------------------------------------------------------------------


async def test_arrows_and_vim_keys() -> None:
    app = sample_app()
    async with app.run_test(size=SIZE) as pilot:
        await loaded(app, pilot)
        tree = app.query_one(FileTree)
        tree.focus()
        await pilot.press("j")  # root -> /app
        assert tree.current_path == "/app"
        await pilot.press("right")
        assert tree.cursor_node is not None and tree.cursor_node.is_expanded
        await pilot.press("right")  # into it: the first child
        assert tree.current_path == "/app/NEWS.txt"
        await pilot.press("right")  # a file: its versions
        await pilot.pause()
        assert isinstance(app.focused, VersionsPane)
        await pilot.press("2", "left")  # a file: to its parent
        assert tree.current_path == "/app"
        await pilot.press("h")  # an open directory: close it
        assert tree.cursor_node is not None and not tree.cursor_node.is_expanded
        await pilot.press("j")
        assert tree.current_path == "/bin"
        await pilot.press("k")
        assert tree.current_path == "/app"
        await pilot.press("G")
        assert tree.current_path == "/" + sorted(p for p in LISTINGS[TOP] if p.count("/") == 1)[-1][1:]
        await pilot.press("g")
        assert tree.cursor_line == 0


async def test_expand_and_collapse_everything_below_the_cursor() -> None:
    app = sample_app()
    async with app.run_test(size=(200, 60)) as pilot:
        await loaded(app, pilot)
        tree = app.query_one(FileTree)
        tree.focus()
        assert tree.reveal("/srv")
        await pilot.press("e")
        text = "\n".join(rows(tree))
        under = [p for p in set(LISTINGS[TOP]) | set(ghosts_at(TOP)) if p.startswith("/srv/")]
        for p in under:  # live and ghost, at every depth
            assert re.search(rf"\b{re.escape(p.rsplit('/', 1)[1])}\b", text), p
        assert "/bin" not in open_paths(tree)
        await pilot.press("E")
        assert not any(p.startswith("/srv") for p in open_paths(tree))
        assert tree.current_path == "/srv"


async def test_remembered_expansion_keeps_only_what_the_user_opened() -> None:
    app = sample_app()
    async with app.run_test(size=SIZE) as pilot:
        await loaded(app, pilot)
        tree = app.query_one(FileTree)
        tree.focus()
        assert tree.reveal("/app")
        await pilot.press("enter")  # the user opens /app
        await pilot.pause()
        await at_layer(app, pilot, 5)
        assert "/app" in open_paths(tree)
        await pilot.press("v")  # the layer's own view opens its changes for the user...
        await pilot.pause()
        assert {"/opt", "/root", "/srv"} <= open_paths(tree)
        await pilot.press("v")  # ...which do not follow into other views and layers
        await pilot.pause()
        assert open_paths(tree) == {"/app"}
        await at_layer(app, pilot, 6)
        assert open_paths(tree) == {"/app"}
        # a search hit opens its way, but that is not remembered once the cursor leaves
        assert tree.reveal("/usr/local/bin/hello")
        assert tree.reveal("/app")
        await at_layer(app, pilot, 4)
        assert open_paths(tree) == {"/app"}


def wide_image(tmp: Path) -> str:
    """L0: a directory of 3,000 files and 60 directories of 40; L1 rewrites all of them."""
    base = [file(f"/big/f{i:05}", "x") for i in range(3000)]
    base += [file(f"/tree/d{i:02}/f{j:02}", "y") for i in range(60) for j in range(40)]
    again = [file(f.path, "z") for f in base]
    return build(tmp, [base, again])


async def test_automatic_expansion_is_bounded(tmp_path: Path) -> None:
    app = make_app(wide_image(tmp_path))
    async with app.run_test(size=SIZE) as pilot:
        await loaded(app, pilot)
        tree = app.query_one(FileTree)
        tree.focus()
        await pilot.press("v")  # 5,460 changes: opened up to the budget, the big directory paged
        await pilot.pause()
        lines = tree.lines
        assert AUTO_ROWS <= len(lines) <= AUTO_ROWS + PAGE + 2
        big = next(n for n in tree.root.children if n.data == "/big")
        assert big.is_expanded and len(big.children) == PAGE + 1 and isinstance(big.children[-1].data, More)
        # expand-all on the image root is bounded too, and goes deeper when pressed again
        await pilot.press("v", "g", "E")
        assert len(tree.lines) == 3
        await pilot.press("e")
        first = len(tree.lines)
        assert EXPAND_ROWS <= first <= EXPAND_ROWS + PAGE + 3
        await pilot.press("e")
        assert len(tree.lines) > first
        await pilot.press("E")
        assert len(tree.lines) == 3


# -- columns --------------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [(80, 24), (200, 60)])
async def test_columns_line_up_and_deleted_rows_show_what_they_had(size: tuple[int, int]) -> None:
    app = sample_app()
    async with app.run_test(size=size) as pilot:
        await loaded(app, pilot)
        tree = app.query_one(FileTree)
        tree.focus()
        await pilot.press("i")
        paths = ["/usr/local/bin/suid-helper", "/root/.aws/credentials", "/srv/old/sub/b.txt", "/app/config.txt"]
        for p in paths:
            assert tree.reveal(p)
            await pilot.pause()
            row = cursor_row(tree)
            item = LISTINGS[TOP].get(p) or LISTINGS[ghosts_at(TOP)[p] - 1][p]
            assert re.search(rf"\b{item.size} B", row), row
            if size[0] >= 200:  # the narrow pane scrolls the attributes off to the right
                mode = {0o4755: "-rwsr-xr-x", 0o600: "-rw-------", 0o644: "-rw-r--r--"}[item.mode]
                assert f"{mode} {item.owner}" in row, row
        shown = [r for r in rows(tree)[1:] if re.search(r"\bL\d\b", r)]  # the root row is a title
        assert len(shown) > 10
        layer_cols = {re.search(r"\bL\d\b", r).start() for r in shown}  # type: ignore[union-attr]
        assert len(layer_cols) == 1, shown
        if size[0] >= 200:
            mode_cols = {re.search(r"[-dlhpcb][-r][-w][-xsS]", r).start() for r in shown}  # type: ignore[union-attr]
            assert len(mode_cols) == 1, shown


def test_search_counts_live_paths_and_ghosts_as_the_listings_do() -> None:
    from layerscope.api import read
    from layerscope.snapshot import count_matches, search

    app = sample_app()
    merged = read(app.image)
    for query in ("txt", "bin/", "credentials", "/srv/"):
        live = [p for p in LISTINGS[TOP] if query.lower() in p.lower()]
        ghosts = [p for p in ghosts_at(TOP) if query.lower() in p.lower()]
        found, total = search(merged, TOP, query)
        assert sorted(n.path for n in found) == sorted(live + ghosts) and total == len(live) + len(ghosts)
        assert count_matches(merged, TOP, query) == (total, len(ghosts))
        own = [p for p in ghosts if ghosts_at(TOP)[p] == TOP]  # the layer's own deletions always show
        assert count_matches(merged, TOP, query, ghosts=False) == (len(live) + len(own), len(own))
        # the screen's first pass stops at the rows it lists
        first, n = search(merged, TOP, query, limit=3, count=False)
        assert [x.path for x in first] == [x.path for x in found[:3]] and n == min(3, total)
