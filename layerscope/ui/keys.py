"""Every key of every screen, in tables: the bindings, the key bar, the help, the palette and README.

Each screen's (and each pane's) ``BINDINGS`` are made from its table here, and
the help (``?``) lists the same tables, grouped as README's keys table is
(``tests/test_readme.py`` holds the two equal). A row whose ``action`` is
empty documents a key that a Textual widget binds itself (the tree's arrows,
a table's Enter): it is listed, not bound again, and
``tests/test_ui_keys.py`` checks that the widget does bind it.
"""

from __future__ import annotations

from typing import NamedTuple

from textual.binding import Binding, BindingType


class Key(NamedTuple):
    key: str  # Textual key name(s), comma-separated
    display: str  # how the help, README, the key bar and the palette write it
    action: str  # "" : bound by the Textual widget the group is about, documented here
    description: str
    show: bool = False  # in the key bar
    label: str = ""  # the key bar's short word (default: the description)


MOVE = "up,down,pageup,pagedown"
ARROWS = "↑ ↓ PgUp PgDn"

# The main screen's own keys: they act from any pane (and are the palette's commands).
KEYS: list[Key] = [
    Key("q", "q", "quit", "Quit", True, "Quit"),
    Key("question_mark", "?", "help", "Help: every key of every screen, and the colour legend", True, "Help"),
    Key("slash", "/", "search", "Search paths: a fragment, a glob (*.pem, /etc/*) or re:REGEX", True, "Search"),
    Key("left_square_bracket", "[", "prev_layer", "Previous layer"),
    Key("right_square_bracket", "]", "next_layer", "Next layer"),
    Key("v", "v", "toggle_view", "View: aggregate tree / only this layer's changes", True, "Layer/All"),
    Key("c", "c", "content", "Content of the file, or of the version selected in the versions pane", True, "Content"),
    Key("d", "d", "diff", "Diff with the next lower version", True, "Diff"),
    Key(
        "l",
        "l",
        "jump_layer",
        "Jump to the layer that supplies the path, or the selected version's",
        True,
        "To layer",
    ),
    Key("b", "b", "back", "Back to the previous layer"),
    Key("w", "w", "audit", "Waste and findings: biggest hidden bytes, secrets, setuid…", True, "Waste"),
    Key("C", "C", "compare", "Compare with the --compare image"),
    Key("S", "S", "save", "Save the version under the cursor (even a deleted one) to a file"),
    Key("y", "y", "yank('path')", "Copy the path to the clipboard"),
    Key("Y", "Y", "yank('digest')", "Copy the version's content digest (sha256:…) to the clipboard"),
    Key("i", "i", "toggle_attrs", "Show/hide attributes: mode and owner (uid:gid)"),
    Key("o", "o", "toggle_packages", "Show/hide the owner column: the package each file is from"),
    Key("P", "P", "packages", "Packages: what the layer installed, removed, upgraded, with bytes"),
    Key("s", "s", "toggle_sort", "Sort by name / by size"),
    Key("a", "a", "toggle_filter('added')", "Show/hide added"),
    Key("m", "m", "toggle_filter('modified')", "Show/hide modified (content or type)"),
    Key("p", "p", "toggle_filter('metadata')", "Show/hide metadata-only changes (chmod/chown copy-ups)"),
    Key("r", "r", "toggle_filter('rewritten')", "Show/hide identical rewrites"),
    Key("x", "x", "toggle_filter('deleted')", "Show/hide deleted (by this layer)"),
    Key("X", "X", "toggle_ghosts", "Show/hide ghosts: paths lower layers deleted whose bytes still ship"),
    Key("u", "u", "toggle_filter('unchanged')", "Show/hide unchanged (supplied by lower layers)"),
    Key("e", "e", "tree('expand_below')", "Tree: expand everything below the cursor (a screenful at a time)"),
    Key("E", "E", "tree('collapse_below')", "Tree: collapse everything below the cursor"),
    Key("escape", "Esc", "clear_search", "Clear the search filter (set by Ctrl+F in the search)"),
    Key("1", "1", "focus('layers')", "Focus the layer stack"),
    Key("2", "2", "focus('tree')", "Focus the file tree"),
    Key("3", "3", "focus('versions')", "Focus the versions pane"),
    Key("4", "4", "focus('details')", "Focus the details pane"),
    Key("tab,shift+tab", "Tab / Shift+Tab", "", "Next / previous pane"),
    Key("ctrl+p", "Ctrl+P", "", "Command palette: the keys above by name"),
]

LAYERS: list[Key] = [
    Key("up,down", "↑ / ↓", "", "Previous / next layer: re-roots the tree and versions at it"),
    Key("pageup,pagedown", "PgUp / PgDn", "", "A page of layers up / down"),
    Key("home,end", "Home / End", "", "First / last layer"),
]

TREE: list[Key] = [
    Key("up,down", "↑ / ↓", "cursor_up,cursor_down", "Up / down a row"),
    Key("k", "k", "cursor_up", "Up a row"),
    Key("j", "j", "cursor_down", "Down a row"),
    Key("pageup,pagedown", "PgUp / PgDn", "", "A page up / down"),
    Key("g,home", "g / Home", "scroll_home", "First row"),
    Key("G,end", "G / End", "scroll_end", "Last row"),
    Key("enter", "Enter", "select_cursor", "Expand or collapse a directory; on a file: its content"),
    Key("space", "Space", "toggle_node", "Expand or collapse a directory"),
    Key("left,h", "← / h", "collapse_or_parent", "Collapse the directory, else go to its parent"),
    Key("right", "→", "expand_or_versions", "Expand the directory, else step into it; on a file: focus its versions"),
    Key("shift+left", "Shift+←", "cursor_parent", "To the parent directory"),
    Key(
        "shift+right",
        "Shift+→",
        "cursor_parent_next_sibling",
        "Out of the directory, forward: to the parent's next sibling",
    ),
    Key("shift+up", "Shift+↑", "cursor_previous_sibling", "To the previous sibling (the first one: to the parent)"),
    Key("shift+down", "Shift+↓", "cursor_next_sibling", "To the next sibling, over an open directory's rows"),
    Key(
        "shift+space",
        "Shift+Space",
        "toggle_expand_all",
        "Expand or collapse everything below the cursor, as e / E (in a terminal that tells it from Space)",
    ),
]

VERSIONS: list[Key] = [
    Key("up,down", "↑ / ↓", "", "Newer / older version"),
    Key("enter", "Enter", "", "Open that version's content (c, d, l, S, y, Y act on it too)"),
    Key("left,right", "← / →", "", "Scroll sideways (to the digest and the command)"),
    Key("home,end", "Home / End", "", "Scroll to the first / last column"),
    Key("ctrl+home,ctrl+end", "Ctrl+Home / Ctrl+End", "", "First / last version"),
]

DETAILS: list[Key] = [
    Key(MOVE, ARROWS, "", "Scroll the layer's and the image's details"),
]

SEARCH: list[Key] = [
    Key("enter", "Enter", "", "Go to the first match (in the list: to the highlighted one)"),
    Key("down", "↓", "focus_results", "Into the list of matches (↑ ↓ PgUp PgDn move in it)"),
    Key(
        "ctrl+f",
        "Ctrl+F",
        "filter",
        "Filter the tree to every match (Esc on the main screen clears it)",
        True,
        "Filter the tree",
    ),
    Key("escape", "Esc", "cancel", "Close the search", True, "Close"),
]

CONTENT: list[Key] = [
    Key("escape,q", "Esc / q", "dismiss", "Close", True, "Close"),
    Key(MOVE, ARROWS, "", "Scroll"),
    Key("left,right", "← / →", "", "Scroll sideways"),
    Key("home,g", "g / Home", "top", "Top"),
    Key("end,G", "G / End", "bottom", "Bottom"),
]

AUDIT: list[Key] = [
    Key("escape,q,w", "Esc / q / w", "dismiss", "Close", True, "Close"),
    Key("1", "1", "tab('files')", "Tab 1, hidden files: the biggest versions a later layer hid", True, "Files"),
    Key("2", "2", "tab('dirs')", "Tab 2, hidden bytes by directory", True, "Directories"),
    Key("3", "3", "tab('layers')", "Tab 3, hidden bytes by the layer that hid them", True, "Layers"),
    Key("4", "4", "tab('findings')", "Tab 4, findings: secrets, setuid files…", True, "Findings"),
    Key(
        "5", "5", "tab('fixes')", "Tab 5, fixes: what to change, in which layer, and the bytes it saves", True, "Fixes"
    ),
    Key("tab", "Tab", "step_tab(1)", "Next tab"),
    Key("shift+tab", "Shift+Tab", "step_tab(-1)", "Previous tab"),
    Key(MOVE, ARROWS, "", "Move in the table"),
    Key("left,right", "← / →", "", "Scroll the table sideways"),
    Key("enter", "Enter on 1", "", "Go to the path at the layer that hid it (deleted or overwrote it)"),
    Key("enter", "Enter on 2", "", "Go to the directory at the layer that hid its biggest version"),
    Key("enter", "Enter on 3", "", "Go to that layer, on the biggest path it hid"),
    Key("enter", "Enter on 4", "", "Go to the path at the layer whose version ships (where c shows it)"),
    Key("enter", "Enter on 5", "", "Go to the fix's first path at the layer to change"),
]

COMPARE: list[Key] = [
    Key("escape,q", "Esc / q", "dismiss", "Close", True, "Close"),
    Key(MOVE, ARROWS, "", "Move in the list of paths"),
    Key("left,right", "← / →", "", "Scroll the list sideways"),
    Key("enter", "Enter", "", "Go to the path in this image's tree"),
]

PACKAGES: list[Key] = [
    Key("escape,q,P", "Esc / q / P", "dismiss", "Close", True, "Close"),
    Key(MOVE, ARROWS, "", "Move in the list of packages"),
    Key("left,right", "← / →", "", "Scroll the list sideways"),
    Key("enter", "Enter", "", "Filter the tree to the package's files (pkg:NAME; Esc clears it)"),
]

SAVE: list[Key] = [
    Key("enter", "Enter", "", "Save, mode 0600 (a name that exists: a second Enter replaces it)"),
    Key("escape", "Esc", "cancel", "Cancel", True, "Cancel"),
]

HELP: list[Key] = [
    Key("escape,q,question_mark", "Esc / q / ?", "dismiss", "Close", True, "Close"),
    Key(MOVE, ARROWS, "", "Scroll"),
]

# The help's tables and README's, in this order, under these titles.
GROUPS: list[tuple[str, list[Key]]] = [
    ("Main screen (from any pane)", KEYS),
    ("Layers pane", LAYERS),
    ("Files pane", TREE),
    ("Versions pane", VERSIONS),
    ("Details pane", DETAILS),
    ("Search (/)", SEARCH),
    ("Content and diff (c, d)", CONTENT),
    ("Waste and findings (w)", AUDIT),
    ("Compare (C)", COMPARE),
    ("Packages (P)", PACKAGES),
    ("Save (S)", SAVE),
    ("Help (?)", HELP),
]


def bindings(keys: list[Key] = KEYS) -> list[BindingType]:
    """The table's bindings (rows bound by a Textual widget are left to it).

    A row binding several keys to several actions (``up,down`` to
    ``cursor_up,cursor_down``) binds them pairwise.
    """
    out: list[BindingType] = []
    for k in keys:
        if not k.action:
            continue
        actions = [k.action] if "(" in k.action else k.action.split(",")  # "tab('files')" is one
        pairs = [(k.key, k.action)] if len(actions) == 1 else list(zip(k.key.split(","), actions, strict=True))
        for name, action in pairs:
            label = k.label or k.description
            first = k.display.split(" / ")[0]  # the key bar names one key of ``Esc / q``
            out.append(Binding(name, action, label, show=k.show, key_display=first, tooltip=k.description))
    return out
