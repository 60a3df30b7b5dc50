"""Every key of the main screen, in one table: bindings, footer, help and palette."""

from __future__ import annotations

from textual.binding import Binding

KEYS: list[tuple[str, str, str, str, bool]] = [
    # key name, display, action, description, shown in the footer
    ("q", "q", "quit", "Quit", True),
    ("question_mark", "?", "help", "Help: all keys", True),
    ("slash", "/", "search", "Search paths (fragment, glob, re:regex)", True),
    ("left_square_bracket", "[", "prev_layer", "Previous layer", False),
    ("right_square_bracket", "]", "next_layer", "Next layer", False),
    ("v", "v", "toggle_view", "View: aggregate tree / only this layer's changes", True),
    ("c", "c", "content", "Show content of the file (or selected version)", True),
    ("d", "d", "diff", "Diff with the next lower version", True),
    ("l", "l", "jump_layer", "Jump to the layer that supplies the path (or the version's layer)", True),
    ("b", "b", "back", "Back to the previous layer", False),
    ("w", "w", "audit", "Waste and findings: biggest hidden bytes, secrets, setuid…", True),
    ("C", "C", "compare", "Compare with the --compare image", False),
    ("S", "S", "save", "Save the version (even a deleted one) to a file in the current directory", False),
    ("y", "y", "yank('path')", "Copy the path to the clipboard", False),
    ("Y", "Y", "yank('digest')", "Copy the version's content digest (sha256:…) to the clipboard", False),
    ("i", "i", "toggle_attrs", "Show/hide attributes (mode, uid:gid, size)", False),
    ("s", "s", "toggle_sort", "Sort by name / by size", False),
    ("a", "a", "toggle_filter('added')", "Show/hide added", False),
    ("m", "m", "toggle_filter('modified')", "Show/hide modified (content or type)", False),
    ("p", "p", "toggle_filter('metadata')", "Show/hide metadata-only changes (chmod/chown copy-ups)", False),
    ("r", "r", "toggle_filter('rewritten')", "Show/hide identical rewrites", False),
    ("x", "x", "toggle_filter('deleted')", "Show/hide deleted", False),
    ("X", "X", "toggle_ghosts", "Show/hide ghosts: paths lower layers deleted whose bytes still ship", False),
    ("e", "e", "tree('expand_below')", "Tree: expand everything below the cursor (a screenful at a time)", False),
    ("E", "E", "tree('collapse_below')", "Tree: collapse everything below the cursor", False),
    ("u", "u", "toggle_filter('unchanged')", "Show/hide unchanged (supplied by lower layers)", False),
    ("escape", "esc", "clear_search", "Clear the search filter", False),
    ("1", "1", "focus('layers')", "Focus the layer stack", False),
    ("2", "2", "focus('tree')", "Focus the file tree", False),
    ("3", "3", "focus('versions')", "Focus the versions pane", False),
    ("4", "4", "focus('details')", "Focus the details pane", False),
]

NAV_KEYS: list[tuple[str, str]] = [
    ("↑ ↓ / PgUp PgDn", "Move in the focused pane (layer stack: re-roots the tree at that layer)"),
    ("Tab / Shift+Tab", "Next / previous pane"),
    ("Enter / Space", "Tree: expand or collapse a directory, open a file; versions: open that version"),
    ("← / h", "Tree: collapse the directory, else go to its parent"),
    ("→", "Tree: expand the directory, else into it; on a file: its versions"),
    ("j / k", "Tree: down / up"),
    ("g / G, Home / End", "Tree: first / last row"),
    ("Shift+Space", "Tree: expand or collapse everything below the cursor (e / E)"),
    ("Shift+← / Shift+→", "Tree: to parent / to next ancestor"),
    ("Ctrl+P", "Command palette: every action by name"),
]


FOOTER_LABELS = {
    "quit": "Quit",
    "help": "Help",
    "search": "Search",
    "toggle_view": "Layer/All",
    "content": "Content",
    "diff": "Diff",
    "jump_layer": "To layer",
    "audit": "Waste",
}


def bindings() -> list[Binding]:
    return [
        Binding(key, action, FOOTER_LABELS.get(action, desc), show=show, key_display=disp, tooltip=desc)
        for key, disp, action, desc, show in KEYS
    ]
