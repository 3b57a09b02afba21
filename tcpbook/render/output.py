"""Figures to files: ``draw_to_file`` behind ``python -m tcpbook draw``.

Files are reproducible byte for byte: matplotlib's SVG ids are salted with a fixed string and
no creation date is written, so a regenerated figure only differs when the picture does. SVG
keeps its text as ``<text>`` elements (``svg.fonttype: none``), so it can be searched, selected
and read aloud by a screen reader, and is smaller than glyph outlines.
"""

from __future__ import annotations

import io
from pathlib import Path

import matplotlib
from matplotlib.figure import Figure

from ..errors import TcpbookError
from ..trace import Trace
from .statediagram import _write, state_diagram

KINDS = ("state", "ladder", "timeline")
FORMATS = (".svg", ".png", ".pdf")
FILE_DPI = 150  # PNG files are read on paper and on high-density screens
SVG_SALT = "tcpbook"  # fixed ids in matplotlib SVG, so reruns give identical files


def figure_bytes(fig: Figure, fmt: str, *, dpi: float | None = None) -> bytes:
    """``fig`` as svg/png/pdf bytes, without dates or random ids."""
    buf = io.BytesIO()
    metadata: dict[str, str | None]
    if fmt == "svg":
        metadata = {"Date": None}
    elif fmt == "pdf":
        metadata = {"CreationDate": None, "ModDate": None}
    else:
        metadata = {}
    # PNG: auto-hinted glyphs keep the width they have at 100 dpi, where labels were placed.
    hinting = "force_autohint" if fmt == "png" else matplotlib.rcParams["text.hinting"]
    with matplotlib.rc_context(
        {"svg.hashsalt": SVG_SALT, "svg.fonttype": "none", "text.hinting": hinting}
    ):
        fig.savefig(buf, format=fmt, dpi=dpi, metadata=metadata)
    return buf.getvalue()


def draw_to_file(
    trace: Trace,
    *,
    kind: str,
    path: str | Path,
    at: float | None = None,
    endpoint: str = "both",
) -> Path:
    """Draw ``trace`` as ``kind`` (state, ladder, timeline) into ``path`` (.svg, .png, .pdf).

    Mistakes (an unknown kind or format, a missing directory, a read-only place) raise
    :class:`TcpbookError` with one line saying what is wrong, before anything is drawn.
    """
    if kind not in KINDS:
        raise TcpbookError(f"unknown kind {kind!r}; choose one of: {', '.join(KINDS)}")
    out = Path(path)
    suffix = out.suffix.lower()
    if suffix not in FORMATS:
        raise TcpbookError(
            f"cannot write {str(out)!r}: unknown format {suffix or '(no suffix)'!r}; "
            f"use one of: {', '.join(FORMATS)}"
        )
    if endpoint not in ("A", "B", "both"):
        raise TcpbookError(f"endpoint must be 'A', 'B' or 'both', got {endpoint!r}")
    parent = out.parent
    if not parent.is_dir():
        raise TcpbookError(f"cannot write {str(out)!r}: directory {str(parent)!r} does not exist")
    if kind == "state":
        state_diagram(trace, at=at, endpoint=endpoint).save(out)
        return out
    from .compare import spread_axis
    from .ladder import ladder
    from .timeline import timeline

    # A capture's segments arrive microseconds after they leave: give each instant room.
    axis = spread_axis(trace) if trace.params.get("inferred") else None
    fig = ladder(trace, at=at, axis=axis) if kind == "ladder" else timeline(trace, at=at, axis=axis)
    data = figure_bytes(fig, suffix[1:], dpi=FILE_DPI if suffix == ".png" else None)
    _write(out, data)
    return out
