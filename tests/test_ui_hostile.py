"""An image whose every string is markup or escape codes: each pane shows it literally.

Paths, history commands, env values, labels, the tag and file contents hold
``[/]`` (a MarkupError if parsed), ``[bold]``/``[link=x]`` (silent restyling
if parsed), ``$accent`` (a Textual template variable) and terminal escape
codes. Every screen is opened; what reaches the terminal is read back from
the rendered lines and must contain the text as written (control characters
escaped), never a raw ESC.
"""

from __future__ import annotations

import ast
import io
from pathlib import Path

import pytest
from imagegen import config_for, docker_archive, file, layer_tar, sym, wh
from rich.console import Console
from textual.widgets import Static

from layerscope.ui.app import LayerscopeApp, make_app
from layerscope.ui.screens.audit import AuditScreen
from layerscope.ui.screens.compare import CompareScreen
from layerscope.ui.screens.content import ContentScreen
from layerscope.ui.screens.help import HelpScreen
from layerscope.ui.screens.search import SearchScreen
from layerscope.ui.widgets.details import DetailsPane
from layerscope.ui.widgets.file_tree import FileTree
from layerscope.ui.widgets.lines import LinesPane
from layerscope.ui.widgets.versions import VersionsPane

SIZE = (220, 60)
UI = Path(__file__).resolve().parent.parent / "layerscope" / "ui"

SPLIT = "/srv/a[/]b.txt"  # the `/` makes a directory `a[` holding `]b.txt`
NAMES = ["[bold]bold.txt", "[link=x]link.txt", "$accent.txt", "[@click=app.quit]click", "red\x1b[31mred.txt"]
SECRET = "/app/k[/]x.key"  # a sensitive name (`*.key`), added then deleted: waste and a finding
SUID = "/usr/bin/[bold]suid"
ENV = ["A=[/]", "B=[bold]b[/bold]", "C=\x1b[31mred", "D=[link=x]l", "E=$accent"]
COMMAND = "/bin/sh -c echo [/] [bold]b [link=x]l \x1b[31mred"


def hostile_image(tmp: Path, name: str = "hostile.tar", extra: str = "x") -> str:
    l0 = layer_tar(
        [
            file(SPLIT, "one\n"),
            *[file("/srv/" + n, "x") for n in NAMES],
            file(SECRET, "k" * 5000),
            file(SUID, "s", mode=0o4755),
            sym("/srv/ln", "[/]\x1b[31m[bold]target"),
            file("/srv/markup.txt", "[bold]not bold[/] [link=x]l $accent\n"),
            file(f"/srv/{extra}[/]only", "x"),
        ]
    )
    l1 = layer_tar([file(SPLIT, "two [/] [bold]\n"), wh(SECRET)])
    cfg = config_for(
        [l0, l1],
        history=[
            {"created_by": COMMAND},
            {"created_by": "LABEL [link=x]empty [/]", "empty_layer": True},
            {"created_by": "/bin/sh -c rm [/] \x07bell"},
        ],
    )
    cfg["config"] = {
        "Env": ENV,
        "Cmd": ["echo", "[/]"],
        "Entrypoint": ["[link=x]ep"],
        "User": "[bold]u",
        "WorkingDir": "/w[/]",
        "Labels": {"L[/]": "[bold]v", "esc": "\x1b]0;title\x07"},
    }
    return docker_archive(tmp / name, [l0, l1], config=cfg, tags=["evil/[bold]img:[/]"])


def rendered(app: LayerscopeApp) -> str:
    """The lines the active screen paints, as the terminal would show them."""
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


def static_text(app: LayerscopeApp) -> str:
    """Every Static of the active screen rendered in full (not only the visible part)."""
    console = Console(width=400, file=io.StringIO(), record=True)
    for s in app.screen.query(Static):
        console.print(s.content)
    return console.export_text()


async def settle(app: LayerscopeApp, pilot) -> None:  # type: ignore[no-untyped-def]
    await app.workers.wait_for_complete()
    await app.screen.workers.wait_for_complete()
    await pilot.pause()


def assert_literal(shown: str, *texts: str) -> None:
    assert "\x1b" not in shown
    for t in texts:
        assert t in shown, t


async def test_hostile_image_shows_literally_in_every_pane(tmp_path: Path) -> None:
    other = hostile_image(tmp_path, "other.tar", extra="y")
    app = make_app(hostile_image(tmp_path), compare=other)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(app, pilot)
        assert app.merged is not None and app.analysis is not None and app.comparison is not None
        # details: env, labels, config, command, all escaped not interpreted
        details = static_text(app) + app.query_one(DetailsPane).text
        assert_literal(details, *ENV[:2], "C=\\x1b[31mred", "D=[link=x]l", "E=$accent", "L[/]=[bold]v")
        assert_literal(details, "esc=\\x1b]0;title\\x07", "[link=x]ep", "[bold]u", "/w[/]", "echo [/]")
        assert_literal(details, "/bin/sh -c rm [/] \\x07bell", "evil/[bold]img:[/]")
        # the tree, the header and the layer stack
        tree = app.query_one(FileTree)
        tree.focus()
        assert tree.reveal("/srv/[bold]bold.txt")
        await pilot.pause()
        screen = rendered(app)
        assert_literal(screen, *NAMES[:4], "red\\x1b[31mred.txt", "evil/[bold]img:[/]", "RUN echo [/] [bold]b")
        assert_literal(screen, "ln → [/]\\x1b[31m[bold]target", "a[/", "LABEL [link=x]empty [/]")
        # versions title and rows; content, diff
        assert tree.reveal(SPLIT)
        await pilot.pause()
        assert app.query_one(VersionsPane).path == SPLIT
        assert_literal(rendered(app), f"Versions of {SPLIT}")
        await pilot.press("c")
        assert isinstance(app.screen, ContentScreen)
        await settle(app, pilot)
        assert_literal(rendered(app), f"{SPLIT} @ L1", "two [/] [bold]")
        await pilot.press("escape", "d")
        assert isinstance(app.screen, ContentScreen)
        await settle(app, pilot)
        assert_literal(rendered(app), f"diff {SPLIT}: L0 → L1", "+two [/] [bold]", f"--- {SPLIT} @ L0")
        await pilot.press("escape")
        assert tree.reveal("/srv/markup.txt")
        await pilot.press("c")
        await settle(app, pilot)
        assert_literal(rendered(app), "[bold]not bold[/] [link=x]l $accent")
        await pilot.press("escape")
        # waste and findings: the deleted key and the setuid file
        await pilot.press("w")
        assert isinstance(app.screen, AuditScreen)
        await pilot.pause()
        assert_literal(rendered(app), SECRET, "RUN rm [/] \\x07bell")
        await pilot.press("4")  # the findings tab
        await pilot.pause()
        assert_literal(rendered(app), SECRET, SUID)
        await settle(app, pilot)
        await pilot.press("2")  # hidden bytes by directory: `/srv/a[` holds `]b.txt`
        await pilot.pause()
        assert_literal(rendered(app), "/srv/a[", "/app/k[")
        await pilot.press("escape", "question_mark")
        assert isinstance(app.screen, HelpScreen)
        assert_literal(app.screen.query_one(LinesPane).text, "[ ", "] ", "Previous layer", "Next layer")
        await pilot.press("escape")
        # compare: the path only in each image
        await pilot.press("C")
        assert isinstance(app.screen, CompareScreen)
        await pilot.pause()
        assert_literal(rendered(app), "/srv/x[/]only", "/srv/y[/]only", other)
        await pilot.press("escape")
        # search for markup, then filter the tree to it: results, toast and status
        query = r"re:\[/]|\[bold]"  # a regex, so `[` is literal: paths holding `[/]` or `[bold]`
        await pilot.press("slash", *query)
        assert isinstance(app.screen, SearchScreen)
        await settle(app, pilot)
        assert app.screen.matches == [SECRET, "/srv/[bold]bold.txt", SPLIT, "/srv/x[/]only", SUID]
        assert_literal(rendered(app), SPLIT, "/srv/x[/]only", SUID, "5 matching paths")
        search_screen = app.screen
        await pilot.press("ctrl+f")
        await search_screen.workers.wait_for_complete()
        await pilot.pause()
        assert not isinstance(app.screen, SearchScreen)
        shown = repr(query)  # the toast and the status line quote the query
        assert_literal(rendered(app), f"paths match {shown}", f"filter: {shown}")
        # a load error naming a hostile file is a toast and a status line, not a crash
        app._load_failed("bad layer srv/[/]x [bold]y \x1b[31m")
        await pilot.pause()
        assert_literal(rendered(app), "Error: bad layer srv/[/]x [bold]y \\x1b[31m")
        assert app._exception is None


# -- the rule, checked in the source ----------------------------------------------

# Widget and Rich calls that parse a `str` argument as markup; `border_title`/`tooltip` too.
SINKS = {"notify", "add_leaf", "add", "set_label", "update", "add_row", "Static", "Option", "Label", "SystemCommand"}
TITLES = {"border_title", "border_subtitle", "tooltip"}


def _formatted(value: ast.expr) -> bool:
    """A str built at run time (f-string, concatenation, ``safe(...)``): it may hold image text."""
    if isinstance(value, ast.Call):
        return ast.unparse(value.func) in {"safe", "str"}
    return isinstance(value, ast.JoinedStr | ast.BinOp)


def _sink_violations(tree: ast.AST) -> list[int]:
    bad = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = ast.unparse(node.func)
            name = func.rsplit(".", 1)[-1]
            if func == "literal.notify":
                continue
            if name == "notify":
                bad.append(node.lineno)  # every toast goes through literal.notify (markup=False)
            elif name in SINKS:
                bad += [a.lineno for a in node.args if _formatted(a)]
        elif isinstance(node, ast.Assign):
            titles = [t for t in node.targets if isinstance(t, ast.Attribute) and t.attr in TITLES]
            if titles and _formatted(node.value):
                bad.append(node.lineno)
    return bad


def test_no_string_is_formatted_into_a_markup_sink() -> None:
    """f-strings and concatenations never go straight into a widget that parses markup."""
    found = {
        str(p.relative_to(UI)): lines
        for p in sorted(UI.rglob("*.py"))
        if p.name != "literal.py" and (lines := _sink_violations(ast.parse(p.read_text())))
    }
    assert found == {}


@pytest.mark.parametrize(
    "code,bad",
    [
        ('self.notify(f"{path} gone")', True),
        ('self.notify("Select a file")', True),
        ('literal.notify(self, f"{path} gone")', False),
        ('node.add_leaf(f"{n} more")', True),
        ('node.add_leaf(Text(f"{n} more"))', False),
        ('vs.border_title = f"Versions of {path}"', True),
        ("vs.border_title = literal.text(path)", False),
        ("vs.border_title = safe(title)", True),
        ('yield SystemCommand(f"{desc} [{disp}]", desc, cb)', True),
    ],
)
def test_the_source_check_catches_markup_sinks(code: str, bad: bool) -> None:
    assert bool(_sink_violations(ast.parse(code))) is bad
