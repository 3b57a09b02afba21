#!/usr/bin/env python3
"""Execute the book's notebooks in place, deterministically, so they are committed executed.

The book is stored with its outputs: readers on GitHub or nbviewer see every picture without
running anything, and ``make notebooks`` (nbval) compares a fresh run with what is stored. For
that comparison to be exact every run must print the same text, so the kernel gets a fixed
environment: ``PYTHONHASHSEED=0``, a matplotlibrc with a fixed ``svg.hashsalt`` (stable SVG ids)
and the inline backend. Cell timing metadata is not recorded (it would change on every run).

    python tools/build_notebooks.py                    # every notebooks/NN-*.ipynb
    python tools/build_notebooks.py notebooks/02-*.ipynb
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
KERNEL = "python3"
CELL_TIMEOUT = 600  # seconds; the slowest cell of the book takes a few
MATPLOTLIBRC = "svg.hashsalt: tcpbook\nsvg.fonttype: path\n"
FIXED_ENV = {
    "PYTHONHASHSEED": "0",
    "MPLBACKEND": "module://matplotlib_inline.backend_inline",
    "TZ": "UTC",
    "PYDEVD_DISABLE_FILE_VALIDATION": "1",  # silences a debugger warning on stderr
}


@contextmanager
def fixed_environment() -> Iterator[None]:
    """Set the variables the kernel inherits, and restore ours afterwards."""
    saved = dict(os.environ)
    with tempfile.TemporaryDirectory(prefix="tcpbook-mplrc-") as rcdir:
        Path(rcdir, "matplotlibrc").write_text(MATPLOTLIBRC, encoding="utf-8")
        os.environ.update(FIXED_ENV, MATPLOTLIBRC=rcdir)
        try:
            yield
        finally:
            os.environ.clear()
            os.environ.update(saved)


def execute(path: Path) -> float:
    """Run every cell of ``path`` top to bottom in a fresh kernel and save it; return seconds."""
    nb = nbformat.read(path, as_version=4)  # type: ignore[no-untyped-call]
    client = NotebookClient(
        nb,
        kernel_name=KERNEL,
        timeout=CELL_TIMEOUT,
        record_timing=False,
        store_widget_state=False,  # model ids change every run; the PNG in each
        # explorer output is what readers without a kernel see
        resources={"metadata": {"path": str(path.parent)}},
    )
    start = time.perf_counter()
    with fixed_environment():
        client.execute()
    elapsed = time.perf_counter() - start
    nb.metadata["kernelspec"] = {
        "display_name": "Python 3 (ipykernel)",
        "language": "python",
        "name": KERNEL,
    }
    nbformat.write(nb, path)  # type: ignore[no-untyped-call]
    return elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: notebooks/NN-*.ipynb")
    args = parser.parse_args(argv)
    paths: list[Path] = args.notebooks or sorted(NOTEBOOKS.glob("[0-9][0-9]-*.ipynb"))
    total = 0.0
    for path in paths:
        seconds = execute(path)
        total += seconds
        print(f"{path.name}: executed in {seconds:.1f} s", flush=True)
    print(f"{len(paths)} notebook(s) in {total:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
