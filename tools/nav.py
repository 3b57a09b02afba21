#!/usr/bin/env python3
"""Write the book's navigation: previous / contents / next links and the table of contents.

Every chapter ``notebooks/NN-name.ipynb`` gets a markdown cell at the top and one at the
bottom linking to the previous chapter, the contents (chapter 00) and the next chapter; link
texts are each chapter's first heading. The contents notebook also gets the list of every
chapter, in a cell with id ``toc``. Running the tool again changes nothing (idempotent), so it
is safe in ``make notebooks-build`` and in a pre-commit hook.

    python tools/nav.py            # update notebooks/ in place
    python tools/nav.py --check    # exit 1 (and name the files) if anything is out of date
    python tools/nav.py notebooks/02-four-way-close.ipynb   # only this chapter
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
CHAPTER_FILE = re.compile(r"^(\d\d)-[a-z0-9-]+\.ipynb$")
CONTENTS_NUMBER = "00"

NAV_TOP = "nav-top"
NAV_BOTTOM = "nav-bottom"
TOC = "toc"
NAV_IDS = (NAV_TOP, NAV_BOTTOM)


@dataclass(frozen=True)
class Chapter:
    """One notebook of the book: its number ("03"), file name and title (first heading)."""

    number: str
    path: Path
    title: str

    @property
    def name(self) -> str:
        return self.path.name


def load(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as f:
        nb: dict[str, Any] = json.load(f)
    return nb


def dump(nb: dict[str, Any]) -> str:
    """The same bytes Jupyter and nbformat write, so a save in JupyterLab makes no diff."""
    return json.dumps(nb, sort_keys=True, indent=1, ensure_ascii=False) + "\n"


def source(cell: dict[str, Any]) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else str(src)


def title_of(nb: dict[str, Any], path: Path) -> str:
    """The text of the first markdown heading that is not part of the navigation."""
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "markdown" or cell.get("id") in (*NAV_IDS, TOC):
            continue
        for line in source(cell).splitlines():
            m = re.match(r"^#{1,6}\s+(.+?)\s*#*\s*$", line)
            if m:
                return m.group(1)
    raise SystemExit(f"{path.name}: no markdown heading to take the chapter title from")


def chapters(folder: Path = NOTEBOOKS) -> list[Chapter]:
    """Every ``NN-name.ipynb`` in ``folder``, in number order (numbers must be unique)."""
    found: list[Chapter] = []
    for path in sorted(folder.glob("*.ipynb")):
        m = CHAPTER_FILE.match(path.name)
        if m:
            found.append(Chapter(m.group(1), path, title_of(load(path), path)))
    numbers = [c.number for c in found]
    duplicates = sorted({n for n in numbers if numbers.count(n) > 1})
    if duplicates:
        raise SystemExit(f"two notebooks share chapter number(s) {', '.join(duplicates)}")
    return found


def _link(chapter: Chapter, text: str) -> str:
    return f"[{text}]({chapter.name})"


def nav_markdown(book: list[Chapter], index: int) -> str:
    """``← previous | Contents | next →`` for ``book[index]`` (missing ends are left out)."""
    parts: list[str] = []
    contents = next((c for c in book if c.number == CONTENTS_NUMBER), None)
    if index > 0:
        prev = book[index - 1]
        text = "Contents" if prev is contents else f"{prev.number} {prev.title}"
        parts.append("← " + _link(prev, text))
    if contents is not None and contents not in (book[index], book[index - 1] if index else None):
        parts.append(_link(contents, "Contents"))
    if index + 1 < len(book):
        nxt = book[index + 1]
        parts.append(_link(nxt, f"{nxt.number} {nxt.title}") + " →")
    return " | ".join(parts)


def toc_markdown(book: list[Chapter]) -> str:
    """The numbered chapter list that the contents notebook shows."""
    lines = ["## Chapters", ""]
    for chapter in book:
        if chapter.number != CONTENTS_NUMBER:
            lines.append(f"- **{int(chapter.number)}.** {_link(chapter, chapter.title)}")
    return "\n".join(lines)


def _markdown_cell(cell_id: str, text: str) -> dict[str, Any]:
    lines = text.splitlines(keepends=True)
    return {"cell_type": "markdown", "id": cell_id, "metadata": {}, "source": lines}


def _set_cell(cells: list[dict[str, Any]], cell_id: str, text: str, position: int) -> None:
    """Replace the cell with ``cell_id`` (wherever it is) by one at ``position``."""
    cells[:] = [c for c in cells if c.get("id") != cell_id]
    index = position if position >= 0 else len(cells) + 1 + position
    cells.insert(index, _markdown_cell(cell_id, text))


def update(nb: dict[str, Any], book: list[Chapter], index: int) -> dict[str, Any]:
    """The notebook with its navigation (and, for chapter 00, its contents) brought up to date."""
    cells: list[dict[str, Any]] = nb["cells"]
    links = nav_markdown(book, index)
    if links:
        _set_cell(cells, NAV_TOP, links, 0)
        _set_cell(cells, NAV_BOTTOM, "---\n\n" + links, -1)
    else:  # a book of one notebook has nowhere to go
        cells[:] = [c for c in cells if c.get("id") not in NAV_IDS]
    if book[index].number == CONTENTS_NUMBER:
        toc_at = next((i for i, c in enumerate(cells) if c.get("id") == TOC), None)
        if toc_at is None:
            toc_at = 2  # after the navigation and the introduction
        _set_cell(cells, TOC, toc_markdown(book), toc_at)
    return nb


def run(folder: Path = NOTEBOOKS, *, check: bool = False, only: Iterable[str] = ()) -> list[Path]:
    """Update (or with ``check`` only list) the notebooks whose navigation is out of date.

    ``only`` limits the update to those file names; the links still come from every chapter.
    """
    book = chapters(folder)
    names = {Path(name).name for name in only}
    stale: list[Path] = []
    for index, chapter in enumerate(book):
        if names and chapter.name not in names:
            continue
        before = chapter.path.read_text(encoding="utf-8")
        after = dump(update(json.loads(before), book, index))
        if after != before:
            stale.append(chapter.path)
            if not check:
                chapter.path.write_text(after, encoding="utf-8")
    return stale


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report out-of-date files")
    parser.add_argument("--dir", type=Path, default=NOTEBOOKS, help="the notebooks folder")
    parser.add_argument("notebooks", nargs="*", help="only these chapters (default: all)")
    args = parser.parse_args(argv)
    stale = run(args.dir, check=args.check, only=args.notebooks)
    verb = "out of date" if args.check else "updated"
    for path in stale:
        print(f"{verb}: {path.name}")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
