"""No function over 80 lines in layerscope/ or src/ without a reason beside it.

A long function is where a second rule hides inside the first; the limit makes
a split the default and a long function a decision someone wrote down. The
reason goes on the line above the definition (after any decorators' start):
``# long: why`` in Python, ``// long: why`` in Rust.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LIMIT = 80
RUST_FN = re.compile(r"^\s*(?:pub(?:\([a-z]+\))?\s+)?(?:const\s+)?(?:unsafe\s+)?fn\s+(\w+)")


def _python_long() -> list[str]:
    out = []
    for path in sorted((ROOT / "layerscope").rglob("*.py")):
        lines = path.read_text().splitlines()
        for node in ast.walk(ast.parse("\n".join(lines))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                reason = first >= 2 and lines[first - 2].strip().startswith("# long:")
                if length > LIMIT and not reason:
                    out.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({length} lines)")
    return out


def _rust_functions(text: str) -> list[tuple[str, int, int]]:
    """(name, first line, length) of each function body, by brace depth (the
    sources keep braces out of strings at the ends of fn lines)."""
    lines = text.splitlines()
    found = []
    for i, line in enumerate(lines):
        m = RUST_FN.match(line)
        if not m or line.rstrip().endswith(";"):
            continue
        depth, started, j = 0, False, i
        while j < len(lines):
            depth += lines[j].count("{") - lines[j].count("}")
            started = started or "{" in lines[j]
            if started and depth <= 0:
                break
            j += 1
        found.append((m.group(1), i + 1, j - i + 1))
    return found


def _rust_long() -> list[str]:
    out = []
    for path in sorted((ROOT / "src").glob("*.rs")):
        lines = path.read_text().splitlines()
        for name, first, length in _rust_functions(path.read_text()):
            above = first - 2
            while above >= 0 and lines[above].strip().startswith("#["):
                above -= 1
            reason = above >= 0 and lines[above].strip().startswith("// long:")
            if length > LIMIT and not reason:
                out.append(f"{path.relative_to(ROOT)}:{first} {name} ({length} lines)")
    return out


def test_the_rust_measure_finds_a_long_function() -> None:
    body = "fn big() {\n" + "    let x = 1;\n" * 90 + "}\nfn small() { }\n"
    assert [(n, ln) for n, _, ln in _rust_functions(body)] == [("big", 92), ("small", 1)]


def test_no_long_python_function_without_a_reason() -> None:
    assert _python_long() == []


def test_no_long_rust_function_without_a_reason() -> None:
    assert _rust_long() == []
