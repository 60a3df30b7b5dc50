"""The Rust/Python boundary is typed (issue 21): the model's Entry and
Deletion are one class each, built by keyword; the stub has no ``Any`` and no
bare tuple; the core's errors are exception types."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from layerscope import _core, errors, model
from layerscope.api import load

SAMPLE = str(Path(__file__).parent.parent / "sample_images" / "sample-docker.tar")
STUB = Path(model.__file__).with_name("_core.pyi")


def test_the_stub_has_no_any_and_no_bare_tuple() -> None:
    text = STUB.read_text()
    code = "\n".join(line.split("#", 1)[0] for line in text.splitlines())
    assert not re.search(r"\bAny\b", code)
    assert not re.search(r"\btuple\[", code)


def test_entries_from_the_core_are_the_models_class() -> None:
    merged = load(SAMPLE)
    entries = list(merged.files_at(merged.top))
    assert entries
    assert all(type(e) is model.Entry for e in entries)
    assert model.Entry.__module__ == "layerscope.model"
    dels = [d for k in range(len(merged.image.layers)) for d in merged.deletions(k)]
    assert all(type(d) is model.Deletion for d in dels)


def test_an_entry_is_built_by_keyword_only_and_never_changes() -> None:
    with pytest.raises(TypeError):
        model.Entry("/a", "file", 0o644, 0, 0, 1, 0, None, None, None, 0, 0)  # type: ignore[misc]
    e = model.Entry(path="/a", type="file", mode=0o644, uid=0, gid=0, size=1, mtime=0, layer=2, digest=b"\x01" * 32)
    assert (e.path, e.type, e.layer, e.change, e.source, e.implicit, e.id) == (
        "/a",
        "file",
        2,
        model.Change.ADDED,
        None,
        False,
        -1,
    )
    assert e.digest_str == "sha256:" + "01" * 32
    assert e.data_entry is e and not e.is_dir and e.content_type == "file"
    assert e.same(e) and e.key == -1 - id(e)
    assert repr(e) == "Entry('/a', file, L2, added)"
    with pytest.raises(AttributeError):
        e.size = 2  # type: ignore[misc]
    link = e.replace(type="hardlink", size=0, digest=None, link="/b")
    assert (link.type, link.content_type, link.link, link.digest, e.type) == ("hardlink", "file", "/b", None, "file")
    d = model.Deletion(path="/a", layer=1, how=model.DeleteHow.WHITEOUT, cause="/a")
    assert repr(d) == "Deletion('/a', L1, whiteout)"
    with pytest.raises(ValueError):
        model.Entry(path="/a", type="socket", mode=0, uid=0, gid=0, size=0, mtime=0, layer=0)


def test_the_cores_errors_are_types() -> None:
    assert issubclass(errors.ReadError, OSError) and errors.ReadError is _core.ReadError
    assert issubclass(errors.CoreError, RuntimeError) and errors.CoreError is _core.CoreError
    import io

    with pytest.raises(errors.ReadError):
        r = _core.open_reader(io.BytesIO(b"\x1f\x8b\x08\x00" + b"\x00" * 20), None, "x")
        r.read(100)


@pytest.mark.parametrize(
    ("name", "want"),
    [
        ("a/b", "/a/b"),
        ("./a//b/", "/a/b"),
        ("/etc/x", "/etc/x"),
        ("a/./b/.", "/a/b"),
        ("", "/"),
        ("./", "/"),
        (".hidden/f", "/.hidden/f"),
        ("a/.b", "/a/.b"),
        ("a/../b", None),
        ("..", None),
        ("caf\udce9", "/caf\udce9"),  # a name that is not UTF-8 round-trips
    ],
)
def test_path_normalisation_has_one_owner(name: str, want: str | None) -> None:
    """The scan's rule is the one user-typed paths go through (stacks, content)."""
    assert _core.normalise(name) == want
