"""Drawing tcpbook traces: the state diagram, the ladder (sequence) diagram and the timeline.

* :func:`state_diagram` -- the RFC 9293 state machine (Graphviz), with where A and B are;
* :func:`ladder` -- the segments between A and B over time (matplotlib);
* :func:`timeline` -- each endpoint's states as a coloured band, on the ladder's time axis;
* :func:`side_by_side` -- a real capture's ladder next to a simulated one;
* :func:`draw_to_file` -- any of them to .svg, .png or .pdf (``python -m tcpbook draw``).
"""

from __future__ import annotations

from .compare import side_by_side, spread_axis
from .ladder import ladder
from .marks import caption_roles, segment_label, timer_bars
from .output import draw_to_file, figure_bytes
from .statediagram import StateDiagram, edge_label, row_id, state_diagram
from .timeaxis import TimeAxis
from .timeline import ladder_with_timeline, timeline

__all__ = [
    "StateDiagram",
    "TimeAxis",
    "caption_roles",
    "draw_to_file",
    "edge_label",
    "figure_bytes",
    "ladder",
    "ladder_with_timeline",
    "row_id",
    "segment_label",
    "side_by_side",
    "spread_axis",
    "state_diagram",
    "timeline",
    "timer_bars",
]
