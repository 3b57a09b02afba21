"""The stored book is in order: navigation, contents, kernelspec, and every cell executed.

nbval (``make notebooks``) checks that re-running a chapter gives the stored outputs; these
tests check what nbval cannot: that the outputs are there at all (the book is committed
executed, top to bottom, in one kernel), that the previous / contents / next links and the
table of contents agree with the files on disk, and that cells stay thin.
"""

from __future__ import annotations

import importlib.util
import json
import re
import sys
import tempfile
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
CHAPTERS = sorted(NOTEBOOKS.glob("[0-9][0-9]-*.ipynb"))
MAX_CODE_LINES = 10  # a longer cell is logic that belongs in the tcpbook package
BINDER = (
    "https://mybinder.org/v2/gh/tcpbook/tcpbook/HEAD?urlpath=lab/tree/notebooks/00-contents.ipynb"
)
#: Where this checkout, its Python and the user live: none of it belongs in a stored output.
MACHINE_PATH = re.compile(
    "|".join(
        re.escape(str(place))
        for place in {ROOT.resolve(), Path(sys.prefix), Path.home(), Path(tempfile.gettempdir())}
    )
    + "|site-packages"
)


def _load_nav() -> ModuleType:
    spec = importlib.util.spec_from_file_location("tcpbook_tools_nav", ROOT / "tools" / "nav.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


nav = _load_nav()


def _nb(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def _text(cell: dict[str, Any]) -> str:
    src = cell["source"]
    return "".join(src) if isinstance(src, list) else str(src)


def _code_cells(path: Path) -> list[dict[str, Any]]:
    return [c for c in _nb(path)["cells"] if c["cell_type"] == "code"]


ids = [p.name for p in CHAPTERS]


def test_the_book_has_its_first_chapters() -> None:
    names = {p.name for p in CHAPTERS}
    for expected in (
        "00-contents.ipynb",
        "01-three-way-handshake.ipynb",
        "02-four-way-close.ipynb",
    ):
        assert expected in names


@pytest.mark.parametrize("path", CHAPTERS, ids=ids)
def test_kernelspec_is_python3(path: Path) -> None:
    spec = _nb(path)["metadata"]["kernelspec"]
    assert spec["name"] == "python3"
    assert spec["display_name"] == "Python 3 (ipykernel)"
    assert spec["language"] == "python"


@pytest.mark.parametrize("path", CHAPTERS, ids=ids)
def test_navigation_links_match_the_file_list(path: Path) -> None:
    book = nav.chapters(NOTEBOOKS)
    index = [c.path.name for c in book].index(path.name)
    cells = _nb(path)["cells"]
    expected = nav.nav_markdown(book, index)
    assert cells[0]["id"] == "nav-top" and _text(cells[0]) == expected
    assert cells[-1]["id"] == "nav-bottom" and _text(cells[-1]) == "---\n\n" + expected
    links = re.findall(r"\]\(([^)]+)\)", expected)
    if index > 0:
        assert book[index - 1].path.name in links
    if index + 1 < len(book):
        assert book[index + 1].path.name in links
        assert expected.endswith("→")
    for link in links:
        assert (NOTEBOOKS / link).is_file(), f"{path.name} links to missing {link}"


def test_contents_lists_every_chapter_in_order() -> None:
    cells = _nb(NOTEBOOKS / "00-contents.ipynb")["cells"]
    toc = _text(next(c for c in cells if c["id"] == "toc"))
    listed = re.findall(r"\]\(([^)]+\.ipynb)\)", toc)
    assert listed == [p.name for p in CHAPTERS if not p.name.startswith("00-")]
    for path in CHAPTERS[1:]:
        title = nav.title_of(_nb(path), path)
        assert f"[{title}]({path.name})" in toc


def test_navigation_is_up_to_date() -> None:
    assert nav.run(NOTEBOOKS, check=True) == [], "run: python tools/nav.py"


def test_contents_has_launch_links_and_conventions() -> None:
    text = "\n".join(_text(c) for c in _nb(NOTEBOOKS / "00-contents.ipynb")["cells"])
    assert BINDER in text
    assert "make book" in text and "Shift+Enter" in text
    for fact in ("A is the client", "MSL", "RFC 9293", "Linux"):
        assert fact in text


@pytest.mark.parametrize("path", CHAPTERS, ids=ids)
def test_every_code_cell_was_executed_in_order(path: Path) -> None:
    cells = _code_cells(path)
    assert cells, f"{path.name} has no code cells"
    counts = [c["execution_count"] for c in cells]
    assert counts == list(range(1, len(cells) + 1)), (
        f"{path.name} is not stored executed top to bottom in one kernel: "
        "run python tools/build_notebooks.py"
    )
    assert any(c["outputs"] for c in cells)


@pytest.mark.parametrize("path", CHAPTERS, ids=ids)
def test_stored_outputs_are_clean(path: Path) -> None:
    for cell in _code_cells(path):
        for out in cell["outputs"]:
            assert out["output_type"] != "error", f"{path.name}: {cell['id']} raised"
            if out["output_type"] == "stream":
                assert out["name"] == "stdout", f"{path.name}: {cell['id']} wrote to stderr"
            text = json.dumps(out.get("data", {})) + "".join(out.get("text", []))
            assert not MACHINE_PATH.search(text), f"{path.name}: {cell['id']} shows a local path"


@pytest.mark.parametrize("path", CHAPTERS, ids=ids)
def test_cells_are_thin(path: Path) -> None:
    for cell in _code_cells(path):
        lines = [line for line in _text(cell).splitlines() if line.strip()]
        assert len(lines) <= MAX_CODE_LINES, f"{path.name}: cell {cell['id']} is too long"


def _ignores_output(cell: dict[str, Any]) -> bool:
    return "nbval-ignore-output" in cell.get("metadata", {}).get("tags", [])


@pytest.mark.parametrize("path", CHAPTERS, ids=ids)
def test_no_chapter_ignores_all_its_outputs(path: Path) -> None:
    cells = _code_cells(path)
    ignored = [c for c in cells if _ignores_output(c)]
    assert len(ignored) < len(cells)


@pytest.mark.parametrize("path", CHAPTERS, ids=ids)
def test_nbval_markers_are_cell_tags_not_code_comments(path: Path) -> None:
    """The reader's code stays clean: nbval's markers live in the cell's metadata tags."""
    for cell in _code_cells(path):
        assert "NBVAL_" not in _text(cell), f"{path.name}: {cell['id']} has an nbval comment"


PICTURES = ("image/png", "image/svg+xml")
FIGURE_TEXT = re.compile(r"<\w*Figure size ")
WIDGET = "application/vnd.jupyter.widget-view+json"


def pictureless_outputs(notebook: dict[str, Any]) -> list[str]:
    """Cells whose stored output a reader without a kernel cannot see.

    A figure stored as its text only (``<Figure size 640x360 with 1 Axes>``, no PNG or SVG
    beside it), or a widget with no static picture beside its view.
    """
    found = []
    for cell in notebook["cells"]:
        if cell["cell_type"] != "code":
            continue
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            plain = "".join(data.get("text/plain", ""))
            has_picture = any(kind in data for kind in PICTURES)
            if FIGURE_TEXT.match(plain) and not has_picture:
                found.append(f"{cell.get('id')}: a figure stored as text only ({plain})")
            elif WIDGET in data and not has_picture:
                found.append(f"{cell.get('id')}: a widget with no static picture")
    return found


@pytest.mark.parametrize("path", CHAPTERS, ids=ids)
def test_every_stored_figure_and_widget_has_a_picture(path: Path) -> None:
    assert pictureless_outputs(_nb(path)) == []


def test_the_picture_check_finds_text_only_figures_and_bare_widgets() -> None:
    def output(data: dict[str, Any]) -> dict[str, Any]:
        return {"output_type": "execute_result", "data": data, "metadata": {}}

    text_only = output({"text/plain": "<Figure size 640x360 with 1 Axes>"})
    bare_widget = output({WIDGET: {"model_id": "x"}, "text/plain": "VBox(...)"})
    subclass = output({"text/plain": "<ShownFigure size 640x360 with 1 Axes>"})
    seen = output({"text/plain": "<Figure size 640x360 with 1 Axes>", "image/png": "iVBO"})
    cells = [
        {"cell_type": "code", "id": str(i), "outputs": [out], "source": ""}
        for i, out in enumerate((text_only, bare_widget, subclass, seen))
    ]
    found = pictureless_outputs({"cells": cells})
    assert [line.split(":")[0] for line in found] == ["0", "1", "2"]


# --------------------------------------------------------------------------- the tool itself


def _write_chapter(folder: Path, name: str, title: str) -> None:
    nb = {
        "cells": [{"cell_type": "markdown", "id": "t", "metadata": {}, "source": [f"# {title}"]}],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    (folder / name).write_text(nav.dump(nb), encoding="utf-8")


def test_nav_tool_links_neighbours_and_is_idempotent(tmp_path: Path) -> None:
    _write_chapter(tmp_path, "00-contents.ipynb", "The book")
    _write_chapter(tmp_path, "01-one.ipynb", "One")
    _write_chapter(tmp_path, "02-two.ipynb", "Two")
    (tmp_path / "scratch.ipynb").write_text("{}", encoding="utf-8")  # not a chapter: ignored
    assert len(nav.run(tmp_path)) == 3
    assert nav.run(tmp_path) == []
    first = _nb(tmp_path / "01-one.ipynb")["cells"]
    assert _text(first[0]) == ("← [Contents](00-contents.ipynb) | [02 Two](02-two.ipynb) →")
    assert [c["id"] for c in first] == ["nav-top", "t", "nav-bottom"]
    last = _nb(tmp_path / "02-two.ipynb")["cells"]
    assert _text(last[0]) == "← [01 One](01-one.ipynb) | [Contents](00-contents.ipynb)"
    toc = _text(next(c for c in _nb(tmp_path / "00-contents.ipynb")["cells"] if c["id"] == "toc"))
    assert "[One](01-one.ipynb)" in toc and "[Two](02-two.ipynb)" in toc

    _write_chapter(tmp_path, "03-three.ipynb", "Three")  # a new chapter updates its neighbours
    assert {p.name for p in nav.run(tmp_path)} == {
        "00-contents.ipynb",
        "02-two.ipynb",
        "03-three.ipynb",
    }
    assert "[03 Three](03-three.ipynb) →" in _text(_nb(tmp_path / "02-two.ipynb")["cells"][0])


def test_nav_tool_refuses_a_chapter_without_a_heading(tmp_path: Path) -> None:
    (tmp_path / "01-x.ipynb").write_text(
        nav.dump({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}),
        encoding="utf-8",
    )
    with pytest.raises(SystemExit, match="no markdown heading"):
        nav.chapters(tmp_path)


#: The calls that run the model: each one names its kernel profile, so the reader sees it.
MODEL_CALL = re.compile(
    r"(?:tcpbook\.simulate|\bexplore|settings\.simulate|mc\.run|mc\.lifecycle|run_script)\("
)


def _calls(code: str) -> list[str]:
    """The text of each model call in ``code``, up to its matching parenthesis."""
    found = []
    for match in MODEL_CALL.finditer(code):
        depth, end = 0, match.end() - 1
        for end in range(match.end() - 1, len(code)):
            depth += {"(": 1, ")": -1}.get(code[end], 0)
            if depth == 0:
                break
        found.append(code[match.start() : end + 1])
    return found


def test_the_call_finder_sees_each_call_whole() -> None:
    code = 'explore("close",\n        msl=5)\nprint(tcpbook.simulate("x", profile="linux"))'
    assert _calls(code) == [
        'explore("close",\n        msl=5)',
        'tcpbook.simulate("x", profile="linux")',
    ]


@pytest.mark.parametrize("path", CHAPTERS, ids=ids)
def test_every_run_in_the_book_names_its_profile(path: Path) -> None:
    """A run's numbers depend on its kernel profile; the book never leaves the reader to guess
    (packetdrill scripts exported with their profile carry it in the script itself)."""
    for cell in _code_cells(path):
        for call in _calls(_text(cell)):
            if call.startswith("run_script(exported"):
                continue
            assert "profile=" in call, f"{path.name}: {call!r} does not name its profile"
