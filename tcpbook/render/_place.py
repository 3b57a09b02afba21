"""Greedy label placement: try a few positions per label, keep the first that overlaps nothing.

Measured with the Agg renderer's real text extents, so "no two labels overlap and none is cut
off" is a property the tests can check on the finished figure.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, cast

from matplotlib.backends.backend_agg import FigureCanvasAgg, RendererAgg
from matplotlib.figure import Figure
from matplotlib.text import Text
from matplotlib.transforms import Bbox, BboxBase

#: A candidate position: x, y (data coordinates), horizontal and vertical alignment.
Spot = tuple[float, float, str, str]
_H = Literal["left", "center", "right"]
_V = Literal["bottom", "baseline", "center", "center_baseline", "top"]

GAP_PX = 3.0  # labels keep at least this many pixels apart (at 100 dpi; files are drawn finer)
# Costs, in order of badness: out of the area, over another label, over someone else's line.
OUTSIDE_COST = 1e7  # per pixel outside
OVERLAP_COST = 1e4  # per square pixel over another label or mark
LINE_COST = 40.0  # per pixel of another segment's line under the label


def clipped_length(p0: tuple[float, float], p1: tuple[float, float], box: Bbox) -> float:
    """Length of the segment ``p0``-``p1`` inside ``box`` (Liang-Barsky clipping)."""
    return _clipped(p0, p1, (box.x0, box.y0, box.x1, box.y1))


#: A box as plain floats (x0, y0, x1, y1): the placer compares many, and reading a
#: :class:`Bbox`'s corners goes through numpy each time.
Rect = tuple[float, float, float, float]


def _rect(box: BboxBase) -> Rect:
    (x0, y0), (x1, y1) = box.get_points().tolist()
    return (x0, y0, x1, y1)


def _clipped(p0: tuple[float, float], p1: tuple[float, float], box: Rect) -> float:
    (x0, y0), (x1, y1) = p0, p1
    bx0, by0, bx1, by1 = box
    dx, dy = x1 - x0, y1 - y0
    lo, hi = 0.0, 1.0
    for p, q in ((-dx, x0 - bx0), (dx, bx1 - x0), (-dy, y0 - by0), (dy, by1 - y0)):
        if p == 0:
            if q < 0:
                return 0.0
            continue
        r = q / p
        if p < 0:
            lo = max(lo, r)
        else:
            hi = min(hi, r)
        if lo >= hi:
            return 0.0
    return float((hi - lo) * (dx * dx + dy * dy) ** 0.5)


def renderer_of(fig: Figure) -> RendererAgg:
    canvas = fig.canvas
    if not isinstance(canvas, FigureCanvasAgg):
        canvas = FigureCanvasAgg(fig)
    return cast(RendererAgg, canvas.get_renderer())  # type: ignore[no-untyped-call]


class Placer:
    """Remembers the boxes of placed labels; places new ones where they fit."""

    def __init__(self, fig: Figure, area: Bbox | None = None) -> None:
        self.renderer = renderer_of(fig)
        self.area = area if area is not None else fig.bbox
        self.boxes: list[Rect] = []
        self.lines: list[tuple[tuple[float, float], tuple[float, float], object]] = []
        self.owner: object = None  # the label being placed may sit on its own line

    def box(self, text: Text) -> Bbox:
        bb = text.get_window_extent(self.renderer)
        patch = text.get_bbox_patch()
        if patch is not None:  # the label's background box counts as part of it
            style = patch.get_boxstyle()
            points = float(getattr(style, "pad", 0.0)) * float(text.get_fontsize())
            pad = points * self.renderer.dpi / 72
            bb = bb.padded(pad)
        return bb

    def _cost(self, bb: Bbox) -> float:
        ax0, ay0, ax1, ay1 = _rect(self.area)
        x0, y0, x1, y1 = _rect(bb)
        outside = (
            max(0.0, ax0 - x0) + max(0.0, x1 - ax1) + max(0.0, ay0 - y0) + max(0.0, y1 - ay1)
        ) * OUTSIDE_COST
        grown = (x0 - GAP_PX, y0 - GAP_PX, x1 + GAP_PX, y1 + GAP_PX)
        gx0, gy0, gx1, gy1 = grown
        overlap = 0.0
        for ox0, oy0, ox1, oy1 in self.boxes:
            w = min(gx1, ox1) - max(gx0, ox0)
            h = min(gy1, oy1) - max(gy0, oy0)
            if w > 0 and h > 0:
                overlap += w * h * OVERLAP_COST
        for p0, p1, owner in self.lines:
            if owner is None or owner != self.owner:
                overlap += LINE_COST * _clipped(p0, p1, grown)
        return float(outside + overlap)

    def copy(self) -> Placer:
        """A placer that knows what this one knows; what it places is its own."""
        other = Placer.__new__(Placer)
        other.renderer, other.area, other.owner = self.renderer, self.area, None
        other.boxes, other.lines = list(self.boxes), list(self.lines)
        return other

    def line(self, p0: tuple[float, float], p1: tuple[float, float], owner: object) -> None:
        """A drawn line (display pixels) that only ``owner``'s labels may cover."""
        self.lines.append((p0, p1, owner))

    def obstacle(self, box: Bbox) -> None:
        """A non-text mark (the X of a lost segment) that labels must not cover."""
        self.boxes.append(_rect(box))

    def fixed(self, text: Text) -> None:
        """A label whose place is not negotiable (headers): others keep clear of it."""
        self.boxes.append(_rect(self.box(text)))

    def place(
        self,
        text: Text,
        spots: Sequence[Spot],
        area: Bbox | None = None,
        *,
        keep_if_bad: bool = True,
        owner: object = None,
    ) -> bool:
        """Move ``text`` to the first spot where it fits (inside ``area`` if given, else the
        placer's area); else to the least bad one, or nowhere if not ``keep_if_bad``.
        ``owner`` names the line the text belongs to, which it may cover."""
        saved = self.area
        if area is not None:
            self.area = area
        self.owner = owner
        try:
            return self._place(text, spots, keep_if_bad)
        finally:
            self.area = saved
            self.owner = None

    def _place(self, text: Text, spots: Sequence[Spot], keep_if_bad: bool) -> bool:
        best: tuple[float, int] | None = None
        for i, (x, y, ha, va) in enumerate(spots):
            text.set_position((x, y))
            text.set_horizontalalignment(cast(_H, ha))
            text.set_verticalalignment(cast(_V, va))
            bb = self.box(text)
            cost = self._cost(bb)
            if cost == 0:
                self.boxes.append(_rect(bb))
                return True
            if best is None or cost < best[0]:
                best = (cost, i)
        if best is None or not keep_if_bad:
            return False
        x, y, ha, va = spots[best[1]]
        text.set_position((x, y))
        text.set_horizontalalignment(cast(_H, ha))
        text.set_verticalalignment(cast(_V, va))
        self.boxes.append(_rect(self.box(text)))
        return False
