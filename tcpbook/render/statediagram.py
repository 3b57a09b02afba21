"""The TCP state diagram, generated from :data:`tcpbook.states.TRANSITIONS`, laid out like RFC 9293.

Design (RFC 9293 section 3.3.2, Figure 5; RFC 793 Figure 6):

* One node per state, ranked as in the RFC figure: CLOSED on top, LISTEN, then SYN_RECEIVED and
  SYN_SENT, ESTABLISHED in the middle, the active close (FIN_WAIT_1, FIN_WAIT_2, CLOSING,
  TIME_WAIT) on the left, the passive close (CLOSE_WAIT, LAST_ACK) on the right and a second
  CLOSED node at the bottom. Both CLOSED nodes are the one CLOSED state: rows that give up before
  a connection exists (CLOSE in LISTEN or SYN_SENT) return to the top, every other row ends at
  the bottom, as in the RFC's picture.
* Each ``main`` row is one black arrow labelled "event / snd X", exactly the RFC's arrows.
* The other rows (ABORT, rcv RST, retransmission gives up, host vanishes, Linux-only and
  teaching rows) leave from many states at once. Drawn as arrows they would bury the RFC figure
  under ~40 crossing lines, so they are one light, legend-like table beside the figure: a row per
  state, a column per event, a cell per table row (saying what is sent), and one dashed grey arrow
  from the table to the bottom CLOSED. Every table row therefore has exactly one element in the
  DOT and the SVG, with id ``row_id(row)``; tests find them there.

Speed: ``dot`` runs once (the laid-out SVG is cached); highlights restyle that SVG's elements by
id, so positions never move between clicks and a redraw costs a few milliseconds.
Highlights: the state(s) an endpoint is in at time ``at`` (fill, thick outline and a lettered
badge), and the path it took, numbered in order (A: solid blue, B: dashed vermillion), the
the classic two-endpoint textbook convention, readable without colour.
"""

from __future__ import annotations

import functools
import itertools
import re
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..errors import TcpbookError
from ..states import TRANSITIONS, State, Transition
from ..trace import Trace
from ._style import (
    ENDPOINT_COLOUR,
    ENDPOINT_TINT,
    GREY,
    LIGHT_GREY,
)
from .statestyle import FONT, SVG_NS, Highlight, restyle

S = State
XLINK_NS = "http://www.w3.org/1999/xlink"
ET.register_namespace("", SVG_NS)
ET.register_namespace("xlink", XLINK_NS)

TOP = "CLOSED"  # the CLOSED node at the top of the figure
BOTTOM = "CLOSED_END"  # ... and the second one at the bottom (the same state)
TABLE = "elsewhere"  # the legend-like table of the non-main rows

FONT_SIZE = 11
EDGE_FONT_SIZE = 9.5
PNG_DPI = 150  # state diagram PNGs: sharp on high-density screens and on paper
CELL_WIDTH = 54  # points; fixed so a highlight never changes the table's layout

#: The RFC figure's rows of states, top to bottom, each listed left to right.
RANKS: tuple[tuple[str, ...], ...] = (
    (TOP,),
    (S.LISTEN.value,),
    (S.SYN_RECEIVED.value, S.SYN_SENT.value),
    (S.ESTABLISHED.value,),
    (S.FIN_WAIT_1.value, S.CLOSE_WAIT.value),
    (S.FIN_WAIT_2.value, S.CLOSING.value, S.LAST_ACK.value),
    (S.TIME_WAIT.value, BOTTOM),
)

#: Columns of the RFC figure: nodes of a group are kept on one vertical line.
GROUPS: dict[str, str] = {
    S.SYN_RECEIVED.value: "left",
    S.FIN_WAIT_1.value: "left",
    S.FIN_WAIT_2.value: "left",
    TOP: "centre",
    S.LISTEN.value: "centre",
    S.ESTABLISHED.value: "centre",
    S.CLOSING.value: "centre",
    S.TIME_WAIT.value: "centre",
    S.SYN_SENT.value: "right",
    S.CLOSE_WAIT.value: "right",
    S.LAST_ACK.value: "right",
    BOTTOM: "right",
}

#: Column order of the table of non-main rows (events not listed here are appended in table order).
_EVENT_ORDER = (
    "rcv RST",
    "ABORT",
    "timeout retransmit",
    "host vanishes",
    "CLOSE with unread data",
    "rcv data after CLOSE",
    "timeout FIN_WAIT_2",
    "skip TIME_WAIT",
)
_SOURCE_MARK = {"Linux": "*", "tcpbook": "†"}
_SOURCE_NOTE = {
    "Linux": "* Linux behaviour, not in RFC 9293",
    "tcpbook": "† tcpbook's own switch or event, for teaching",
}


def row_id(row: Transition) -> str:
    """The stable id of a table row's element in the DOT and SVG: ``row:SRC:event:DST``."""
    return f"row:{row.src.value}:{row.event.replace(' ', '_').replace(',', '+')}:{row.dst.value}"


def _node_of_dst(row: Transition) -> str:
    if row.dst is not S.CLOSED:
        return str(row.dst.value)
    return TOP if row.main and row.src in (S.LISTEN, S.SYN_SENT) else BOTTOM


def _node_of_src(row: Transition) -> str:
    return TOP if row.src is S.CLOSED else row.src.value


def edge_label(row: Transition) -> str:
    """The RFC's "event / action" label, e.g. ``rcv FIN / snd ACK``."""
    text = row.event if row.send in ("-", "") else f"{row.event} / snd {row.send}"
    if row.src is row.dst is S.TIME_WAIT:
        text += "\n(restart 2MSL)"  # RFC 9293 3.10.7.4: a retransmitted FIN restarts the timer
    return text


_ROW_BY_KEY: dict[tuple[str, str, str], Transition] = {
    (t.src.value, t.event, t.dst.value): t for t in TRANSITIONS
}


def _others() -> tuple[list[str], list[str], dict[tuple[str, str], Transition]]:
    """Columns (events), rows (states) and cells of the table of non-main rows."""
    rows = [t for t in TRANSITIONS if not t.main]
    events = [e for e in _EVENT_ORDER if any(t.event == e for t in rows)]
    events += [t.event for t in rows if t.event not in events]
    events = list(dict.fromkeys(events))
    states = [s.value for s in State if any(t.src is s for t in rows)]
    cells = {(t.src.value, t.event): t for t in rows}
    return events, states, cells


# --------------------------------------------------------------------------- highlights


def highlight_for(trace: Trace | None, at: float | None, endpoint: str) -> Highlight:
    """The highlight of ``trace`` up to time ``at`` (the whole run when ``at`` is None)."""
    if endpoint not in ("A", "B", "both"):
        raise TcpbookError(f"endpoint must be 'A', 'B' or 'both', got {endpoint!r}")
    if trace is None:
        if at is not None:
            raise TcpbookError("at= needs a trace: there is no run to look at")
        return Highlight()
    if at is not None and (isinstance(at, bool) or not isinstance(at, int | float) or at != at):
        raise TcpbookError(f"at must be a time in seconds, got {at!r}")
    who = ("A", "B") if endpoint == "both" else (endpoint,)
    current: dict[str, str] = {}
    steps: dict[str, dict[str, list[int]]] = {}
    cells: set[str] = set()
    for name in who:
        node = TOP
        numbered: dict[str, list[int]] = {}
        for n, row in enumerate(_rows_taken(trace, name, at), start=1):
            numbered.setdefault(row_id(row), []).append(n)
            node = _node_of_dst(row)
            if not row.main:
                cells.add(row_id(row))
        current[name] = node
        steps[name] = numbered
    return Highlight(current, steps, frozenset(cells))


def _rows_taken(trace: Trace, endpoint: str, at: float | None) -> list[Transition]:
    """The table rows ``endpoint`` followed, in order, up to time ``at``.

    Every move is a transition record, the TIME_WAIT self-loop (a FIN re-ACKed, 2MSL
    restarted: RFC 9293 3.10.7.4) included.
    """
    rows: list[Transition] = []
    for tr in trace.transitions:
        row = _ROW_BY_KEY.get((tr.src, tr.cause, tr.dst))
        if tr.endpoint == endpoint and row is not None and (at is None or tr.t <= at):
            rows.append(row)
    return rows


# --------------------------------------------------------------------------- DOT


def _q(text: str) -> str:
    """A DOT double-quoted string."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _attrs(**kw: Any) -> str:
    parts = []
    for key, value in kw.items():
        if value is None:
            continue
        key = key.rstrip("_")
        if isinstance(value, str) and value.startswith("<") and value.endswith(">"):
            parts.append(f"{key}={value}")
        else:
            parts.append(f"{key}={_q(str(value))}")
    return "[" + " ".join(parts) + "]"


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _table_label(hl: Highlight) -> str:
    events, states, cells = _others()
    notes: list[str] = []
    head = ['<TD ALIGN="LEFT"><FONT POINT-SIZE="9"><B>from</B></FONT></TD>']
    for event in events:
        sources = {t.source for (s, e), t in cells.items() if e == event}
        mark = "".join(_SOURCE_MARK.get(src, "") for src in sorted(sources) if src != "RFC 9293")
        for src in sorted(sources):
            if src in _SOURCE_NOTE and _SOURCE_NOTE[src] not in notes:
                notes.append(_SOURCE_NOTE[src])
        words = event.split(" ")
        half = (len(words) + 1) // 2
        text = "<BR/>".join(_html(" ".join(part)) for part in (words[:half], words[half:]) if part)
        head.append(f'<TD WIDTH="{CELL_WIDTH}"><FONT POINT-SIZE="8.5">{text}{mark}</FONT></TD>')
    lines = [f"<TR>{''.join(head)}</TR>"]
    for state in states:
        row_cells = [f'<TD ALIGN="LEFT"><FONT POINT-SIZE="9">{state}</FONT></TD>']
        for event in events:
            t = cells.get((state, event))
            if t is None:
                row_cells.append("<TD></TD>")
                continue
            rid = row_id(t)
            text = f"snd {t.send}" if t.send not in ("-", "") else "✓"
            if t.dst is not S.CLOSED:
                text += f" → {t.dst.value}"
            bg = ""
            who = [e for e in ("A", "B") if rid in hl.steps.get(e, {})]
            if who:
                bg = f' BGCOLOR="{ENDPOINT_TINT[who[0]]}"'
                text = " ".join(f"{e}{','.join(map(str, hl.steps[e][rid]))}" for e in who)
            tip = f"{state}: {edge_label(t)} → {t.dst.value} (RFC 9293 {t.section}; {t.source})"
            row_cells.append(
                f'<TD ID="{rid}" HREF="#" TOOLTIP="{_html(tip)}" '
                f'WIDTH="{CELL_WIDTH}" HEIGHT="17"{bg}><FONT POINT-SIZE="8.5">{_html(text)}'
                "</FONT></TD>"
            )
        lines.append(f"<TR>{''.join(row_cells)}</TR>")
    span = len(events) + 1
    title = "Also leaving for CLOSED, from many states (✓ = sends nothing)"
    lines.insert(0, f'<TR><TD COLSPAN="{span}" ALIGN="LEFT"><B>{_html(title)}</B></TD></TR>')
    for note in notes:
        lines.append(
            f'<TR><TD COLSPAN="{span}" ALIGN="LEFT"><FONT POINT-SIZE="8.5">{_html(note)}'
            "</FONT></TD></TR>"
        )
    return (
        '<<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="0" CELLPADDING="2" COLOR="#9E9E9E">'
        + "".join(lines)
        + "</TABLE>>"
    )


def build_dot(hl: Highlight | None = None) -> str:
    """The DOT text of the diagram, with ``hl``'s highlights as attributes (never positions)."""
    hl = hl or Highlight()
    out = ["digraph tcp_states {", *_dot_defaults(), *_dot_states(hl), *_dot_rows(hl)]
    out += [*_dot_table(hl), "}"]
    return "\n".join(out) + "\n"


def _dot_defaults() -> list[str]:
    """Graph, node and edge defaults: top to bottom, boxes, one font."""
    return [
        "  graph "
        + _attrs(rankdir="TB", nodesep="0.5", ranksep="0.55", fontname=FONT, newrank="true")
        + " "
        + _attrs(pad="0.3", splines="spline"),
        "  node "
        + _attrs(shape="box", style="filled", fillcolor="white", fontname=FONT)
        + " "
        + _attrs(fontsize=FONT_SIZE, width="1.5", height="0.45", margin="0.08,0.04"),
        f"  edge {_attrs(fontname=FONT, fontsize=EDGE_FONT_SIZE, arrowsize='0.8')}",
    ]


def _dot_states(hl: Highlight) -> list[str]:
    """The states, rank by rank as the RFC's figure has them; where A and B are, tinted."""
    out = []
    for rank in RANKS:
        out.append("  { rank=same;")
        for node in rank:
            label = "CLOSED" if node in (TOP, BOTTOM) else node
            who = [e for e in ("A", "B") if hl.current.get(e) == node]
            kw: dict[str, Any] = {
                "label": label,
                "id": f"state:{node}",
                "class_": "state" + "".join(f" current-{e}" for e in who),
                "tooltip": f"{label} (RFC 9293 section 3.3.2)",
                "group": GROUPS.get(node),
            }
            if who:
                kw.update(
                    fillcolor=ENDPOINT_TINT[who[0]],
                    color=ENDPOINT_COLOUR[who[0]],
                    penwidth=3,
                    xlabel="<"
                    + " ".join(f'<FONT COLOR="{ENDPOINT_COLOUR[e]}"><B>{e}</B></FONT>' for e in who)
                    + ">",
                )
                if len(who) == 1 and who[0] == "B":
                    kw["style"] = "filled,dashed"
            out.append(f"    {_q(node)} {_attrs(**kw)};")
        out.append("  }")
    # Keep each rank's left-to-right order with invisible edges.
    for rank in RANKS:
        for a, b in itertools.pairwise(rank):
            out.append(f"  {_q(a)} -> {_q(b)} [style=invis weight=10];")
    return out


def _dot_rows(hl: Highlight) -> list[str]:
    """One edge per main row of the table; the rows A and B took, coloured and numbered."""
    out = []
    for t in TRANSITIONS:
        if not t.main:
            continue
        rid = row_id(t)
        who = [e for e in ("A", "B") if rid in hl.steps.get(e, {})]
        kw: dict[str, Any] = {
            "label": edge_label(t),
            "id": rid,
            "class_": "transition" + "".join(f" path-{e}" for e in who),
            "tooltip": f"{edge_label(t)} (RFC 9293 {t.section})",
        }
        if t.src is t.dst:  # the loop goes on the left, clear of the flat "timeout 2MSL" arrow
            kw.update(tailport="w", headport="w")
        if who:
            # The step numbers open the edge's own label, so Graphviz keeps them off every
            # other label as it does the label itself (a head label would be placed blind).
            badges = " ".join(
                f'<FONT COLOR="{ENDPOINT_COLOUR[e]}"><B>{e}'
                f"{','.join(map(str, hl.steps[e][rid]))}</B></FONT>"
                for e in who
            )
            kw.update(
                color=":".join(ENDPOINT_COLOUR[e] for e in who),
                penwidth=2.5,
                label=f"<{badges} {_html(edge_label(t))}>",
            )
            if who == ["B"]:
                kw["style"] = "dashed"
        elif not hl.empty:
            kw.update(color=LIGHT_GREY, fontcolor=GREY)
        out.append(f"  {_q(_node_of_src(t))} -> {_q(_node_of_dst(t))} {_attrs(**kw)};")
    return out


def _dot_table(hl: Highlight) -> list[str]:
    """The table of rows that leave many states for CLOSED, and its dashed edge to CLOSED."""
    table = _attrs(shape="plain", style="", label=_table_label(hl), id="others", class_="others")
    edge = _attrs(
        dir="back",
        style="dashed",
        color=GREY if hl.cells else LIGHT_GREY,
        fontcolor=GREY,
        label="any cell of the table",
        id="others->CLOSED",
        class_="others-edge",
    )
    return [
        f"  {_q(TABLE)} {table};",
        f"  {_q(S.FIN_WAIT_2.value)} -> {_q(TABLE)} [style=invis weight=3];",
        f"  {_q(BOTTOM)} -> {_q(TABLE)} {edge};",
    ]


# --------------------------------------------------------------------------- layout (once)


def _dot(source: str, fmt: str, *extra: str) -> bytes:
    try:
        done = subprocess.run(
            ["dot", f"-T{fmt}", *extra], input=source.encode(), capture_output=True, check=False
        )
    except FileNotFoundError:
        raise TcpbookError(
            "Graphviz's `dot` program is not installed (apt-get install graphviz, "
            "brew install graphviz or conda install graphviz)"
        ) from None
    if done.returncode != 0:
        first = done.stderr.decode(errors="replace").strip().splitlines()[:1]
        raise TcpbookError(f"dot failed: {first[0] if first else 'no message'}")
    return done.stdout


_COMMENT = re.compile(r"<!--.*?-->\n?", re.S)


@functools.lru_cache(maxsize=1)
def base_svg() -> str:
    """The laid-out diagram without highlights: ``dot`` runs once per process."""
    svg = _dot(build_dot(), "svg").decode()
    svg = _COMMENT.sub("", svg)  # version banner and per-element comments: noise for diffs
    return svg[svg.index("<svg") :]


# --------------------------------------------------------------------------- the object


def fit_width(svg: str) -> str:
    """``svg`` scaled down to its container's width where that is narrower (a notebook beside
    its file browser, a phone): the diagram is about 1,370 px wide at its own size."""
    return svg.replace("<svg ", '<svg style="max-width:100%;height:auto" ', 1)


class StateDiagram:
    """The state diagram of one trace (or none), shown by Jupyter as SVG."""

    def __init__(self, highlight: Highlight) -> None:
        self.highlight = highlight
        self._svg: str | None = None

    @property
    def source(self) -> str:
        """DOT text, highlights included as attributes; ``dot -Tsvg`` draws the same figure."""
        return build_dot(self.highlight)

    def svg(self) -> str:
        """The SVG text: the once-laid-out diagram restyled for this highlight."""
        if self._svg is None:
            self._svg = restyle(base_svg(), self.highlight)
        return self._svg

    def _repr_svg_(self) -> str:
        return fit_width(self.svg())

    def _repr_mimebundle_(
        self, include: Iterable[str] | None = None, exclude: Iterable[str] | None = None
    ) -> dict[str, str]:
        bundle = {"image/svg+xml": fit_width(self.svg()), "text/plain": repr(self)}
        if include is not None:
            bundle = {k: v for k, v in bundle.items() if k in set(include)}
        if exclude is not None:
            bundle = {k: v for k, v in bundle.items() if k not in set(exclude)}
        return bundle

    def __repr__(self) -> str:
        where = ", ".join(
            f"{e} in {n.replace('_END', '')}" for e, n in self.highlight.current.items()
        )
        return f"<StateDiagram{': ' + where if where else ''}>"

    def save(self, path: str | Path) -> Path:
        """Write ``path`` as .svg (restyled layout), .png or .pdf (drawn by ``dot``)."""
        out = Path(path)
        suffix = out.suffix.lower()
        if suffix == ".svg":
            data = self.svg().encode()
        elif suffix in (".png", ".pdf"):
            data = (
                _dot(self.source, "pdf")
                if suffix == ".pdf"
                else _dot(self.source, "png:cairo", f"-Gdpi={PNG_DPI}")
            )
        else:
            raise TcpbookError(
                f"cannot save a state diagram as {suffix or 'a file without suffix'!r}; "
                "use .svg, .png or .pdf"
            )
        _write(out, data)
        return out


def _write(path: Path, data: bytes) -> None:
    """Write ``data``, turning a missing directory or a refused write into a one-line error."""
    try:
        path.write_bytes(data)
    except FileNotFoundError:
        raise TcpbookError(f"cannot write {str(path)!r}: directory does not exist") from None
    except IsADirectoryError:
        raise TcpbookError(f"cannot write {str(path)!r}: it is a directory") from None
    except PermissionError:
        raise TcpbookError(f"cannot write {str(path)!r}: permission denied") from None
    except OSError as exc:
        raise TcpbookError(f"cannot write {str(path)!r}: {exc.strerror or exc}") from None


def state_diagram(
    trace: Trace | None = None, *, at: float | None = None, endpoint: str = "both"
) -> StateDiagram:
    """The RFC 9293 state diagram, highlighting where ``trace``'s endpoints are at ``at``.

    ``endpoint`` is "A", "B" or "both". Without a trace it is the plain reference figure.
    """
    return StateDiagram(highlight_for(trace, at, endpoint))
