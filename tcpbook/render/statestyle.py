"""Restyling the laid-out state diagram: where A and B are, the rows they took, their badges.

``dot`` lays the diagram out once (:func:`tcpbook.render.statediagram.base_svg`); each
highlight only recolours that SVG and adds badges ("A", "B3": the endpoint and the order of its
steps). A badge is placed where it covers no text -- no edge label, no state name, no other
badge -- measured with FreeType's metrics of the font Graphviz wrote the labels in.
"""

from __future__ import annotations

import copy
import functools
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass, field

from ._style import ENDPOINT_COLOUR, ENDPOINT_TINT, GREY, SVG_DASH

SVG_NS = "http://www.w3.org/2000/svg"
_SVG = f"{{{SVG_NS}}}"
FONT = "DejaVu Sans"
#: Where along an edge its badge may sit, best first (two badges: A's half, then B's).
BADGE_FRACTIONS = (0.5, 0.4, 0.6, 0.3, 0.7, 0.2, 0.8)
BADGE_FRACTIONS_OF = ((0.35, 0.25, 0.45, 0.15), (0.65, 0.75, 0.55, 0.85))

#: x0, y0, x1, y1 in SVG user units (y grows downwards).
Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class Highlight:
    """What to emphasise: where each endpoint is, and the rows it took (numbered from 1)."""

    current: dict[str, str] = field(default_factory=dict)  # endpoint -> node name
    steps: dict[str, dict[str, list[int]]] = field(default_factory=dict)  # endpoint -> row id -> n
    cells: frozenset[str] = frozenset()  # row ids of table cells used by any endpoint

    @property
    def empty(self) -> bool:
        return not self.current and not self.steps


def _points(el: ET.Element) -> list[tuple[float, float]]:
    pts = []
    for pair in (el.get("points") or "").split():
        x, y = pair.split(",")
        pts.append((float(x), float(y)))
    return pts


def _bbox(el: ET.Element) -> tuple[float, float, float, float]:
    pts = _points(el)
    xs = [p[0] for p in pts]
    ys = [p[1] for p in pts]
    return min(xs), min(ys), max(xs), max(ys)


def _sub(parent: ET.Element, tag: str, **attrs: str) -> ET.Element:
    return ET.SubElement(
        parent, _SVG + tag, {k.rstrip("_").replace("_", "-"): v for k, v in attrs.items()}
    )


BADGE_HEIGHT = 15.0
BADGE_CLEARANCE = 3.0  # points kept free around a badge


def badge_box(x: float, y: float, text: str) -> Box:
    """The rectangle of a badge centred at ``x``, ``y`` (SVG user units: points)."""
    width = 7.0 + 6.2 * len(text)
    return (x - width / 2, y - 8, x + width / 2, y - 8 + BADGE_HEIGHT)


def _badge(parent: ET.Element, x: float, y: float, text: str, who: str) -> None:
    """A small rounded label in the endpoint's colour, white letters: "A", "B3", ..."""
    x0, y0, x1, _ = badge_box(x, y, text)
    g = _sub(parent, "g", class_=f"badge badge-{who}")
    _sub(
        g,
        "rect",
        x=f"{x0:.1f}",
        y=f"{y0:.1f}",
        width=f"{x1 - x0:.1f}",
        height=f"{BADGE_HEIGHT:g}",
        rx="7",
        fill=ENDPOINT_COLOUR[who],
        stroke="white",
    )
    t = _sub(
        g,
        "text",
        x=f"{x:.1f}",
        y=f"{y + 3.5:.1f}",
        text_anchor="middle",
        font_family=FONT,
        font_size="10",
        font_weight="bold",
        fill="white",
    )
    t.text = text


@functools.lru_cache(maxsize=4096)
def _text_width(text: str, size: float, bold: bool) -> float:
    """Advance width of ``text`` in DejaVu Sans at ``size`` points (FreeType's own metrics)."""
    from matplotlib import font_manager, ft2font

    path = font_manager.findfont(
        font_manager.FontProperties(family=FONT, weight="bold" if bold else "normal")
    )
    font = ft2font.FT2Font(path)
    font.set_size(size, 72)
    font.set_text(text, 0.0)
    return float(font.get_width_height()[0]) / 64


def text_box(el: ET.Element) -> Box:
    """Where an SVG ``<text>`` written by Graphviz is drawn: its x is the anchor, y the baseline."""
    size = float(el.get("font-size", "14"))
    width = _text_width(el.text or "", size, el.get("font-weight") == "bold")
    x, y = float(el.get("x", "0")), float(el.get("y", "0"))
    anchor = el.get("text-anchor", "start")
    x0 = x - width / 2 if anchor == "middle" else x - width if anchor == "end" else x
    return (x0, y - 0.78 * size, x0 + width, y + 0.24 * size)


def _overlap(a: Box, b: Box) -> float:
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    return w * h if w > 0 and h > 0 else 0.0


def _grow(box: Box, by: float) -> Box:
    return (box[0] - by, box[1] - by, box[2] + by, box[3] + by)


def _place_badge(candidates: Iterable[tuple[float, float]], text: str, taken: list[Box]) -> Box:
    """The first candidate centre where the badge covers no text and no other badge, else the
    least covered one; its box joins ``taken``."""
    boxes = [badge_box(x, y, text) for x, y in candidates]
    for box in boxes:  # the common case, cheaply: the first spot that touches nothing
        x0, y0, x1, y1 = _grow(box, BADGE_CLEARANCE)
        if not any(a < x1 and x0 < c and b < y1 and y0 < d for a, b, c, d in taken):
            taken.append(box)
            return box
    best = min(boxes, key=lambda box: sum(_overlap(_grow(box, BADGE_CLEARANCE), o) for o in taken))
    taken.append(best)
    return best


def _centre(box: Box) -> tuple[float, float]:
    return (box[0] + box[2]) / 2, box[1] + 8


def _edge_spots(path: ET.Element, text: str, fracs: Iterable[float]) -> list[tuple[float, float]]:
    """Badge centres along an edge: on the line, then beside it, from the middle outwards."""
    half = (7.0 + 6.2 * len(text)) / 2 + 2
    spots = []
    for frac in fracs:
        x, y = _point_on(path, frac)
        spots += [(x, y), (x - half, y), (x + half, y), (x, y - 10), (x, y + 10)]
    return spots


def _stroke(el: ET.Element, who: str, width: str) -> None:
    el.set("stroke", ENDPOINT_COLOUR[who])
    el.set("stroke-width", width)
    dash = SVG_DASH[who]
    if dash:
        el.set("stroke-dasharray", dash)


_NUMBER = re.compile(r"-?[0-9]*\.?[0-9]+(?:e-?[0-9]+)?")


def _point_on(path: ET.Element, frac: float) -> tuple[float, float]:
    """The point ``frac`` of the way along a graphviz edge (``M p C p p p ...``), by segment."""
    nums = [float(x) for x in _NUMBER.findall(path.get("d", ""))]
    pts = list(zip(nums[0::2], nums[1::2], strict=False))
    if len(pts) < 4:
        return pts[0] if pts else (0.0, 0.0)
    segments = (len(pts) - 1) // 3
    pos = min(frac * segments, segments - 1e-9)
    k = int(pos)
    u = pos - k
    p0, p1, p2, p3 = pts[3 * k : 3 * k + 4]
    w = (1 - u) ** 3, 3 * u * (1 - u) ** 2, 3 * u * u * (1 - u), u**3
    return (
        w[0] * p0[0] + w[1] * p1[0] + w[2] * p2[0] + w[3] * p3[0],
        w[0] * p0[1] + w[1] * p1[1] + w[2] * p2[1] + w[3] * p3[1],
    )


def _shapes(g: ET.Element) -> list[ET.Element]:
    return [el for el in g.iter() if el.tag in (_SVG + "path", _SVG + "polygon")]


#: Badges to draw once every style is set: candidate centres, text, endpoint.
_Badges = list[tuple[list[tuple[float, float]], str, str]]


def restyle(svg: str, hl: Highlight) -> str:
    """``svg`` (the cached layout) with ``hl`` drawn on it: same positions, new styles."""
    if hl.empty:
        return svg
    root = ET.fromstring(svg)
    groups = {g.get("id"): g for g in root.iter(_SVG + "g") if g.get("id")}
    badges: _Badges = []
    _restyle_states(groups, hl, badges)
    _restyle_rows(groups, hl, badges)
    _restyle_cells(groups, hl)
    # Badges are drawn last, above every line, and placed where they cover no text.
    covered = [text_box(t) for t in root.iter(_SVG + "text")]
    for spots, label, who in badges:
        _badge(groups["graph0"], *_centre(_place_badge(spots, label, covered)), label, who)
    return ET.tostring(root, encoding="unicode")


def _restyle_states(groups: dict[str | None, ET.Element], hl: Highlight, badges: _Badges) -> None:
    """The current states: fill, outline, a lettered badge at a corner."""
    for who, node in hl.current.items():
        g = groups.get(f"state:{node}")
        poly = None if g is None else g.find(f".//{_SVG}polygon")
        if g is None or poly is None:
            continue
        g.set("class", (g.get("class") or "") + f" current-{who}")
        x0, y0, x1, y1 = _bbox(poly)
        first = next(e for e in hl.current if hl.current[e] == node)
        if first == who:
            poly.set("fill", ENDPOINT_TINT[who])
            _stroke(poly, who, "3")
        else:  # the second endpoint in the same state: a dashed ring just outside
            pad = 4.0
            ring = _sub(
                g,
                "rect",
                x=f"{x0 - pad:.1f}",
                y=f"{y0 - pad:.1f}",
                width=f"{x1 - x0 + 2 * pad:.1f}",
                height=f"{y1 - y0 + 2 * pad:.1f}",
                fill="none",
            )
            _stroke(ring, who, "2.5")
        corner = x0 + 2 if who == "A" else x1 - 2
        badges.append(([(corner, y0), (corner, y0 - 6), (corner, y1)], who, who))


def _restyle_rows(groups: dict[str | None, ET.Element], hl: Highlight, badges: _Badges) -> None:
    """Transitions taken: coloured (A solid, B dashed), numbered in the order taken."""
    taken = {rid for rows in hl.steps.values() for rid in rows}
    for rid, g in groups.items():
        if not (rid or "").startswith("row:") or "edge" not in (g.get("class") or ""):
            continue
        if rid not in taken:
            g.set("opacity", "0.35")
            continue
        who_all = [e for e in ("A", "B") if rid in hl.steps.get(e, {})]
        shapes = _shapes(g)
        path = next((el for el in shapes if el.tag == _SVG + "path"), None)
        for i, who in enumerate(who_all):
            g.set("class", (g.get("class") or "") + f" path-{who}")
            targets = shapes
            if i:  # both took it: B's copy a little aside, so both lines show
                holder = _sub(g, "g", transform="translate(3,3)", class_="path-copy")
                targets = [copy.deepcopy(el) for el in shapes]
                holder.extend(targets)
            for el in targets:
                _stroke(el, who, "2.6")
                if el.tag == _SVG + "polygon":
                    el.set("fill", ENDPOINT_COLOUR[who])
                    el.attrib.pop("stroke-dasharray", None)
            if path is not None:
                label = f"{who}{','.join(map(str, hl.steps[who][str(rid)]))}"
                fracs = BADGE_FRACTIONS if len(who_all) == 1 else BADGE_FRACTIONS_OF[i]
                badges.append((_edge_spots(path, label, fracs), label, who))


def _restyle_cells(groups: dict[str | None, ET.Element], hl: Highlight) -> None:
    """Cells of the table used by A or B: tinted, with the step numbers written in."""
    for rid in hl.cells:
        g = groups.get(f"a_{rid}")
        if g is None:
            continue
        who_all = [e for e in ("A", "B") if rid in hl.steps.get(e, {})]
        poly = g.find(f".//{_SVG}polygon")
        text = g.find(f".//{_SVG}text")
        if poly is not None:
            poly.set("fill", ENDPOINT_TINT[who_all[0]])
            _stroke(poly, who_all[0], "2")
        if text is not None:
            text.text = " ".join(f"{e}{','.join(map(str, hl.steps[e][rid]))}" for e in who_all)
            text.set("font-weight", "bold")
            text.set("fill", ENDPOINT_COLOUR[who_all[0]])
    if hl.cells and "others->CLOSED" in groups:
        for el in _shapes(groups["others->CLOSED"]):
            el.set("stroke", GREY)
            el.set("stroke-width", "2")
