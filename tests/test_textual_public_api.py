"""No code under ``layerscope/`` touches another package's private names.

Textual (and any other dependency) may rename or drop an underscore
attribute in any release; the UI once wrote ~20 of Textual's, which made
the upper pin on Textual load-bearing. This test reads every module's AST
and fails on:

- an import of a private module or name from another package
  (``from textual._x import y``, ``from textual.widgets import _tree``);
- ``self._x`` / ``cls._x`` where ``_x`` is not defined by a layerscope class of
  the object's class (in its body, or assigned on ``self`` in one of its methods);
- ``super()._x`` where no layerscope base defines ``_x``;
- a class defining ``_x`` that a base from another package has (overriding
  a private method or attribute of Textual's);
- ``obj._x`` on anything else but a layerscope module or class (``node._expanded``,
  ``option._set_prompt``, ``argparse._SubParsersAction``).

Classes are resolved at run time (their real MRO) where the module can be
imported and the class reached from it by name; the rest of the rules are
read from the source.
"""

from __future__ import annotations

import ast
import functools
import importlib
import inspect
import re
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

PACKAGE = Path(__file__).resolve().parent.parent / "layerscope"


def private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def ours(obj: object) -> bool:
    module = obj.__name__ if isinstance(obj, ModuleType) else getattr(obj, "__module__", "") or ""
    return module == "layerscope" or module.startswith("layerscope.")


@functools.cache
def foreign_privates(cls: type) -> frozenset[str]:
    """Private names the classes of other packages in ``cls``'s MRO define or set on ``self``.

    Instance attributes live in no class ``__dict__``: they are read from the
    bases' source, so a subclass that writes ``self._updates`` of Textual's
    is caught too, and so is one whose own private name collides with theirs.
    """
    names: set[str] = set()
    for base in cls.__mro__:
        if ours(base) or base is object:
            continue
        names.update(n for n in base.__dict__ if private(n))
        try:
            source = inspect.getsource(base)
        except (OSError, TypeError):
            continue
        names.update(re.findall(r"\bself\.(_[A-Za-z]\w*)", source))
    return frozenset(n for n in names if private(n))


def module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def assigned_on_self(cls_node: ast.ClassDef) -> set[str]:
    """Names a class's methods assign on ``self`` (or ``cls``), and its body defines."""
    names: set[str] = set()
    for stmt in cls_node.body:
        if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(stmt.name)
        elif isinstance(stmt, ast.Assign):
            names.update(t.id for t in stmt.targets if isinstance(t, ast.Name))
        elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
            names.add(stmt.target.id)
    for node in ast.walk(cls_node):
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = list(node.targets)
        elif isinstance(node, ast.AnnAssign | ast.AugAssign):
            targets = [node.target]
        for t in targets:
            for sub in ast.walk(t):
                if (
                    isinstance(sub, ast.Attribute)
                    and isinstance(sub.value, ast.Name)
                    and sub.value.id in ("self", "cls")
                ):
                    names.add(sub.attr)
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__slots__" for t in node.targets):
            names.update(
                c.value for c in ast.walk(node.value) if isinstance(c, ast.Constant) and isinstance(c.value, str)
            )
    return names


class Scan(ast.NodeVisitor):
    def __init__(self, path: Path, module: ModuleType | None, own_names: dict[str, set[str]]) -> None:
        self.path = path
        self.module = module
        self.own_names = own_names  # qualified class name (module.Class) -> names it defines
        self.classes: list[tuple[ast.ClassDef, type | None]] = []
        self.found: list[str] = []

    def fail(self, node: ast.AST, what: str) -> None:
        self.found.append(f"{self.path.relative_to(PACKAGE.parent)}:{getattr(node, 'lineno', 0)}: {what}")

    # -- helpers ------------------------------------------------------------------------
    def runtime_class(self) -> type | None:
        if self.module is None or not self.classes:
            return None
        obj: object = self.module
        for cls_node, _ in self.classes:
            obj = getattr(obj, cls_node.name, None)
            if not inspect.isclass(obj):
                return None
        return obj

    def defined_by_ours(self, cls: type | None, cls_node: ast.ClassDef, name: str, skip_self: bool = False) -> bool:
        if cls is not None and name in foreign_privates(cls):
            return False  # theirs, even where a layerscope class assigns it
        if cls is None:
            return not skip_self and name in assigned_on_self(cls_node)
        for base in cls.__mro__[1 if skip_self else 0 :]:
            if not ours(base):
                continue
            key = f"{base.__module__}.{base.__qualname__}"
            if name in base.__dict__ or name in self.own_names.get(key, set()):
                return True
        return False

    # -- visitors -----------------------------------------------------------------------
    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if not alias.name.startswith("layerscope") and any(private(p) for p in alias.name.split(".")):
                self.fail(node, f"import of private module {alias.name}")

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = node.module or ""
        if node.level == 0 and not module.startswith("layerscope") and module != "__future__":
            if any(private(p) for p in module.split(".")):
                self.fail(node, f"import from private module {module}")
            for alias in node.names:
                if private(alias.name):
                    self.fail(node, f"import of private name {module}.{alias.name}")

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self.classes.append((node, None))
        cls = self.runtime_class()
        self.classes[-1] = (node, cls)
        if cls is not None:
            foreign = [b for b in cls.__mro__[1:] if not ours(b)]
            for stmt in node.body:
                names: list[str] = []
                if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef):
                    names = [stmt.name]
                elif isinstance(stmt, ast.Assign):
                    names = [t.id for t in stmt.targets if isinstance(t, ast.Name)]
                elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
                    names = [stmt.target.id]
                for name in names:
                    owner = next((b for b in foreign if name in b.__dict__), None)
                    if private(name) and owner is not None:
                        self.fail(stmt, f"{node.name} overrides {owner.__module__}.{owner.__qualname__}.{name}")
        self.generic_visit(node)
        self.classes.pop()

    def visit_Attribute(self, node: ast.Attribute) -> None:
        self.generic_visit(node)
        name = node.attr
        if not private(name):
            return
        value = node.value
        where = ast.unparse(node)
        if isinstance(value, ast.Name) and value.id in ("self", "cls") and self.classes:
            cls_node, cls = self.classes[-1]
            if not self.defined_by_ours(cls, cls_node, name):
                self.fail(node, f"{where}: not {cls_node.name}'s own (another package's private, or named as one)")
            return
        if (
            isinstance(value, ast.Call)
            and isinstance(value.func, ast.Name)
            and value.func.id == "super"
            and self.classes
        ):
            cls_node, cls = self.classes[-1]
            if not self.defined_by_ours(cls, cls_node, name, skip_self=True):
                self.fail(node, f"{where}: a private of a base from another package")
            return
        if isinstance(value, ast.Name) and self.module is not None:
            target = getattr(self.module, value.id, None)
            if target is not None and (isinstance(target, ModuleType) or inspect.isclass(target)) and ours(target):
                return
        self.fail(node, f"{where}: a private attribute of an object that is not this class's")


def modules() -> Iterator[Path]:
    yield from sorted(PACKAGE.rglob("*.py"))


def scan(paths: list[Path]) -> list[str]:
    trees = {p: ast.parse(p.read_text(), str(p)) for p in paths}
    own_names: dict[str, set[str]] = {}
    loaded: dict[Path, ModuleType | None] = {}
    for p, tree in trees.items():
        name = module_name(p)
        try:
            # ``__main__`` runs the CLI when imported: read from its source only
            loaded[p] = None if p.name == "__main__.py" else importlib.import_module(name)
        except Exception:
            loaded[p] = None

        todo = [(tree.body, "")]
        while todo:
            body, prefix = todo.pop()
            for stmt in body:
                if isinstance(stmt, ast.ClassDef):
                    qual = f"{prefix}{stmt.name}"
                    own_names[f"{name}.{qual}"] = assigned_on_self(stmt)
                    todo.append((stmt.body, qual + "."))
    found: list[str] = []
    for p, tree in trees.items():
        s = Scan(p, loaded[p], own_names)
        s.visit(tree)
        found.extend(s.found)
    return found


def test_no_private_attribute_of_another_package() -> None:
    found = scan(list(modules()))
    assert not found, "private names of other packages used:\n" + "\n".join(found)


def test_the_scan_catches_each_kind(tmp_path: Path) -> None:
    """The rules themselves, on code that breaks each one (the scan must not pass vacuously)."""
    bad = PACKAGE / "ui" / "widgets" / "_scan_probe.py"
    bad.write_text(
        "from textual.widgets import Tree\n"
        "from textual.widgets._tree import TreeNode\n"
        "class Probe(Tree[str]):\n"
        "    def _on_resize(self, event):\n"
        "        super()._on_resize(event)\n"
        "        self._tree_lines\n"
        "        self._updates += 1\n"
        "        self._mine = 1\n"
        "        self._mine\n"
        "    def f(self, node: TreeNode[str]) -> None:\n"
        "        node._expanded = True\n"
    )
    try:
        found = scan([bad])
    finally:
        bad.unlink()
    text = "\n".join(found)
    assert "private module textual.widgets._tree" in text
    assert "overrides textual.widgets._tree.Tree._on_resize" in text
    assert "super()._on_resize" in text
    assert "self._tree_lines" in text
    assert "self._updates" in text  # written, not only read
    assert "node._expanded" in text
    assert "self._mine" not in text
