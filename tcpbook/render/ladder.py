"""The ladder (sequence) diagram: A and B as time lines, one slanted arrow per segment.

Time flows down on the compressed axis of :mod:`tcpbook.render.timeaxis`. Everything that
matters is marked by shape or line style as well as colour (Okabe-Ito palette), so the figure
reads in grayscale: a lost segment ends in an X part-way across, an expired one (its MSL ran out,
RFC 9293 3.4.1) is dotted and ends in a dagger, a retransmission is dashed, a network copy
dash-dotted, and an old segment taken in by a newer connection is boxed in yellow.
Timers are bars beside the time lines (retransmission, 2MSL, FIN_WAIT_2), states are written
where they begin, and errors the application sees are written where they happen.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from dataclasses import dataclass

import matplotlib
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import FancyArrowPatch
from matplotlib.text import Text
from matplotlib.transforms import Bbox

from ..errors import TcpbookError
from ..trace import SegmentRecord, Trace
from ._place import Placer, Spot
from ._style import (
    BLACK,
    ENDPOINT_COLOUR,
    GREEN,
    GREY,
    LOSS_RED,
    MONO,
    PURPLE,
    SANS,
    STATE_FILL,
    YELLOW,
)
from .marks import (
    END_GID,
    END_MARKS,
    TIMER_COLOUR,
    TimerBar,
    legend,
    segment_label,
    timer_bars,
    timer_text,
)
from .timeaxis import TimeAxis, drawn_end, gap_text, seconds, segment_end

ROW_INCH = 0.2  # one row of the time axis, in inches: a line of 7.5 pt text plus air
WIDTH_INCH = 8.0
CAPTION_ROWS_PER_HOP = 2.8  # captions need a second line of room per hop
DPI = 100  # screen figures: small PNGs that redraw fast; files use their own dpi
LEFT_INCH = 0.62  # room for the time tick labels
RIGHT_INCH = 0.08
TOP_INCH = 0.35
LEGEND_INCH = 0.42
HEAD_ROWS = 2.6  # rows above t = 0 for the "A" / "B" headers
TAIL_ROWS = 1.6
X = {"A": 0.0, "B": 1.0}
XLIM = (-0.66, 1.66)
LABEL_PT = 7.5
STATE_PT = 7.5
TIMER_COLUMN = {"retransmit": 0.028, "time_wait": 0.052, "fin_wait_2": 0.052}
#: Where along its arrow a label may sit, best first.
LABEL_FRACTIONS = (0.5, 0.4, 0.6, 0.3, 0.7, 0.2, 0.8, 0.1, 0.9)
OUTSIDE = 0.075  # state and timer labels start this far outside a time line
LADDER_LABEL = "tcpbook-ladder"  # marks an Axes this module may clear and reuse


# --------------------------------------------------------------------------- drawing


def _sign(endpoint: str) -> float:
    return -1.0 if endpoint == "A" else 1.0


def figure_size(axis: TimeAxis) -> tuple[float, float]:
    """Inches for a ladder on ``axis``: the height grows with the number of rows."""
    rows = axis.height + HEAD_ROWS + TAIL_ROWS
    return WIDTH_INCH, TOP_INCH + rows * ROW_INCH + LEGEND_INCH


def _new_figure(size: tuple[float, float], fig: Figure | None) -> Figure:
    if fig is None:
        fig = Figure(figsize=size, dpi=DPI)
        FigureCanvasAgg(fig)
    else:
        fig.clear()
        fig.set_size_inches(*size, forward=False)
        if not isinstance(fig.canvas, FigureCanvasAgg):
            FigureCanvasAgg(fig)
    return fig


def ladder(
    trace: Trace,
    *,
    at: float | None = None,
    captions: bool = False,
    fig: Figure | None = None,
    axis: TimeAxis | None = None,
) -> Figure:
    """Draw ``trace`` as a ladder diagram; ``at`` adds a cursor line at that time.

    ``captions`` adds the plain-language A/B dialogue. ``fig`` is cleared and reused (faster
    than a new figure in a widget); ``axis`` lets a caller share the time mapping.
    """
    check_at(at)
    axis = axis or TimeAxis.for_trace(
        trace, rows_per_hop=CAPTION_ROWS_PER_HOP if captions else None
    )
    width, height = figure_size(axis)
    rect = (
        LEFT_INCH / width,
        LEGEND_INCH / height,
        1 - (LEFT_INCH + RIGHT_INCH) / width,
        1 - (TOP_INCH + LEGEND_INCH) / height,
    )
    old = fig.axes[0] if fig is not None and len(fig.axes) == 1 else None
    if fig is not None and old is not None and old.get_label() == LADDER_LABEL:
        # A widget redraw: keep the Axes (building one costs more than the whole diagram).
        fig.set_size_inches(width, height, forward=False)
        old.set_position(rect)
        for artist in [*old.lines, *old.patches, *old.texts, *old.collections]:
            artist.remove()
        ax = old  # its legend stays if the new run has the same marks (marks.legend)
    else:
        fig = _new_figure((width, height), fig)
        ax = fig.add_axes(rect, label=LADDER_LABEL)
    draw_ladder(ax, trace, axis, at=at, captions=captions)
    return fig


def check_at(at: float | None) -> None:
    if at is None:
        return
    if isinstance(at, bool) or not isinstance(at, int | float) or at != at:
        raise TcpbookError(f"at must be a time in seconds, got {at!r}")
    if at < 0:
        raise TcpbookError(f"at must be 0 or more seconds, got {at!r}")


@dataclass
class _Canvas:
    """What every drawing step shares: the Axes, its figure, the time mapping and the placer."""

    ax: Axes
    fig: Figure
    y: TimeAxis
    placer: Placer
    top: float
    bottom: float


def draw_ladder(
    ax: Axes, trace: Trace, axis: TimeAxis, *, at: float | None, captions: bool
) -> None:
    """Draw into an existing Axes (used by :func:`ladder` and the stacked figure).

    Fixed marks first (ticks, time lines, states, timers, errors), then the segments, whose
    labels are placed last so they keep clear of everything else.
    """
    fig = ax.get_figure()
    assert isinstance(fig, Figure)
    top, bottom = -HEAD_ROWS, axis.height + TAIL_ROWS
    ax.set_xlim(*XLIM)
    ax.set_ylim(bottom, top)
    ax.set_axis_off()  # ticks are drawn below as plain texts: Axis objects are slow to build
    cv = _Canvas(ax, fig, axis, Placer(fig, ax.bbox), top, bottom)
    # Text is measured without hinting, as a browser draws the SVG: at 100 dpi hinted text is
    # about 4 % narrower, and files are drawn with auto-hinting, which keeps that width at any
    # dpi (see figure_bytes), so what fits here fits everywhere.
    with matplotlib.rc_context({"text.hinting": "no_hinting"}):
        _draw_all(cv, trace, axis, at=at, captions=captions)


def _draw_all(
    cv: _Canvas, trace: Trace, axis: TimeAxis, *, at: float | None, captions: bool
) -> None:
    """Every step of :func:`draw_ladder`, in the order their labels are placed."""
    ax = cv.ax
    _draw_ticks(cv)
    end_row = axis(drawn_end(trace)) + 0.6
    _draw_time_lines(cv, end_row)
    _draw_profile(cv, trace)
    _draw_states(cv, trace)
    bars = timer_bars(trace)
    _draw_timers(cv, bars)
    _draw_errors(cv, trace)
    _draw_segments(cv, trace, captions)
    _draw_gaps(cv)
    _CURSOR_PLACES[ax] = (cv.placer.copy(), end_row, axis)
    if at is not None:
        _draw_cursor(cv, trace, at, end_row)
    legend(ax, trace, bars)


def _side_text(cv: _Canvas, endpoint: str, row: float, text: str, **style: object) -> Text:
    """A text just outside ``endpoint``'s time line (states, timers, errors)."""
    x = X[endpoint] + _sign(endpoint) * OUTSIDE
    return cv.ax.text(x, row, text, zorder=5, family=SANS, **style)  # type: ignore[arg-type]


def _outside_spots(endpoint: str, row: float, first: float, count: int) -> list[Spot]:
    """Places below ``row`` beside ``endpoint``'s time line, one text line apart."""
    x = X[endpoint] + _sign(endpoint) * OUTSIDE
    ha = "right" if endpoint == "A" else "left"
    return [(x, row + first + k * 0.9, ha, "top") for k in range(count)]


def _draw_ticks(cv: _Canvas) -> None:
    """Time ticks in real seconds, left of the diagram, and the axis name."""
    ax, placer = cv.ax, cv.placer
    tick_x = XLIM[0] - 0.01
    marks_x: list[float] = []
    marks_y: list[float] = []
    for row, tick_text in cv.y.ticks():
        marks_x += [tick_x, tick_x + 0.015, float("nan")]
        marks_y += [row, row, float("nan")]
        label = ax.text(
            tick_x - 0.008,
            row,
            tick_text,
            ha="right",
            va="center",
            fontsize=7,
            color="#444444",
            family=SANS,
            clip_on=False,
        )
        placer.fixed(label)
    ax.add_artist(Line2D(marks_x, marks_y, color=GREY, lw=0.8, clip_on=False))
    unit = ax.text(
        tick_x - 0.105,
        (cv.top + cv.bottom) / 2,
        "time (s)",
        rotation=90,
        ha="right",
        va="center",
        fontsize=7.5,
        color="#444444",
        family=SANS,
        clip_on=False,
    )
    placer.fixed(unit)


def _draw_time_lines(cv: _Canvas, end_row: float) -> None:
    """A and B as vertical lines under their names, broken where the axis squeezes a gap."""
    ax, y = cv.ax, cv.y
    for name, x in X.items():
        head = ax.text(
            x,
            cv.top + 0.3,
            name,
            ha="center",
            va="top",
            fontsize=12,
            fontweight="bold",
            color=ENDPOINT_COLOUR[name],
            family=SANS,
        )
        cv.placer.fixed(head)
        start = cv.top + 1.6
        for t0, t1 in y.breaks:
            a, b = y(t0) + 0.5, y(t1) - 0.5
            ax.add_artist(Line2D([x, x], [start, a], color="#555555", lw=1.6, zorder=1))
            zig = [a + (b - a) * k / 6 for k in range(7)]
            ax.add_artist(
                Line2D(
                    [x + (0.012 if k % 2 else -0.012) * (0 < k < 6) for k in range(7)],
                    zig,
                    color="#555555",
                    lw=1.0,
                    zorder=1,
                )
            )
            start = b
        ax.add_artist(Line2D([x, x], [start, end_row], color="#555555", lw=1.6, zorder=1))


def _draw_profile(cv: _Canvas, trace: Trace) -> None:
    """ "profile linux" between the two names: which kernel's timers the run followed (a
    capture's trace names no profile, and gets no note)."""
    profile = trace.params.get("profile")
    if not profile:
        return
    note = cv.ax.text(
        0.5,
        cv.top + 0.45,
        f"profile {profile}",
        ha="center",
        va="top",
        fontsize=9,
        fontstyle="italic",
        color="#555555",
        family=SANS,
        gid="profile",
    )
    cv.placer.fixed(note)


def _draw_gaps(cv: _Canvas) -> None:
    """ "≈ 60 s later" in the middle of each squeezed gap."""
    y = cv.y
    for t0, t1 in y.breaks:
        mid = (y(t0) + y(t1)) / 2
        txt = cv.ax.text(
            0.5,
            mid,
            gap_text(t1 - t0),
            ha="center",
            va="center",
            fontsize=7.5,
            style="italic",
            color="#444444",
            family=SANS,
            zorder=4,
            bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none"},
        )
        spots: list[Spot] = [
            (x, mid + d, "center", "center")
            for x in (0.5, 0.75, 0.25, 0.85, 0.15)
            for d in (0.0, -0.6, 0.6)
        ]
        cv.placer.place(txt, spots)


def _draw_states(cv: _Canvas, trace: Trace) -> None:
    """States where they begin (the last one when several changes happen at one instant)."""
    conns = {tr.conn for tr in trace.transitions}
    for name in X:
        steps: list[tuple[float, str, int]] = [(0.0, "CLOSED", 0)]
        for tr in trace.transitions:
            if tr.endpoint == name:
                if steps and steps[-1][0] == tr.t:
                    steps.pop()
                steps.append((tr.t, tr.dst, tr.conn))
        for t, state, conn in steps:
            row = cv.y(t)
            cv.ax.add_artist(
                Line2D(
                    [X[name] - 0.018, X[name] + 0.018],
                    [row, row],
                    color="#555555",
                    lw=1.4,
                    zorder=2,
                )
            )
            txt = _side_text(
                cv,
                name,
                row,
                state if len(conns) < 2 or not conn else f"{state} (conn {conn})",
                fontsize=STATE_PT,
                fontweight="bold",
                color=BLACK,
                gid=f"state-{name}-{seconds(t)}",
                bbox={
                    "boxstyle": "round,pad=0.2",
                    "fc": STATE_FILL.get(state, "white"),
                    "ec": "none",
                },
            )
            cv.placer.place(txt, _outside_spots(name, row, 0.0, 8))


def _draw_timers(cv: _Canvas, bars: Sequence[TimerBar]) -> None:
    """Timers: bars just outside the time lines, labelled with what they were set to."""
    ax, y = cv.ax, cv.y
    for bar in bars:
        x = X[bar.endpoint] + _sign(bar.endpoint) * TIMER_COLUMN.get(bar.timer, 0.04)
        colour = TIMER_COLOUR.get(bar.timer, GREY)
        y0, y1 = y(bar.start), y(bar.end)
        ax.add_artist(
            Line2D(
                [x, x],
                [y0, max(y1, y0 + 0.15)],
                color=colour,
                lw=3.2,
                solid_capstyle="butt",
                zorder=3,
                gid=f"timer-{bar.endpoint}-{bar.timer}",
            )
        )
        if bar.how == "fire":
            ax.add_artist(
                Line2D([x], [y1], marker="o", ms=4.5, color=colour, mec=BLACK, mew=0.6, zorder=4)
            )
        elif bar.how in ("cancel", "restart"):
            ax.add_artist(Line2D([x - 0.01, x + 0.01], [y1, y1], color=BLACK, lw=1.0, zorder=4))
    for bar in bars:
        text = timer_text(bar)
        if text is None:
            continue
        row = y(bar.start)
        colour = TIMER_COLOUR.get(bar.timer, GREY)
        box = {"boxstyle": "round,pad=0.15", "fc": "white", "ec": colour, "lw": 0.8}
        txt = _side_text(cv, bar.endpoint, row, text, fontsize=7, color=BLACK, bbox=box)
        cv.placer.place(txt, _outside_spots(bar.endpoint, row, 0.9, 10))


def _draw_errors(cv: _Canvas, trace: Trace) -> None:
    """Errors the application sees, where they happen."""
    for err in trace.errors:
        row = cv.y(err.t)
        txt = _side_text(
            cv,
            err.endpoint,
            row,
            f"app sees {err.error}",
            fontsize=7.5,
            fontweight="bold",
            color=LOSS_RED,
            bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": LOSS_RED, "lw": 0.8},
        )
        cv.placer.place(txt, _outside_spots(err.endpoint, row, 0.0, 10))


@dataclass
class _Arrow:
    """Where one segment's line runs, in data coordinates."""

    seg: SegmentRecord
    x0: float
    ya: float
    xb: float
    yb: float
    frac: float  # how far across it got


def _draw_segments(cv: _Canvas, trace: Trace, captions: bool) -> None:
    """One arrow per segment with its end mark, then every label and caption placed clear of
    the other segments' lines, of each other, and of states and timers."""
    said = trace.captions() if captions else {}
    arrows = [_draw_arrow(cv, trace, seg) for seg in trace.segments]
    labels: list[tuple[Text, list[Spot], int]] = []
    caption_texts: list[tuple[Text, list[Spot], int]] = []
    for arrow in arrows:
        labels.append(_segment_text(cv, trace, arrow))
        if arrow.seg.id in said:
            caption_texts.append(_caption_text(cv, arrow, said[arrow.seg.id]))
    # Arrow labels and captions stay between the time lines, clear of states and timers.
    (lx, _), (rx, _) = cv.ax.transData.transform([(X["A"] + 0.012, 0), (X["B"] - 0.012, 0)])
    lane = Bbox([[lx, cv.ax.bbox.y0], [rx, cv.ax.bbox.y1]])
    for text_, spots, owner in labels:
        cv.placer.place(text_, spots, lane, owner=owner)
    for text_, spots, owner in caption_texts:
        if not cv.placer.place(text_, spots, lane, keep_if_bad=False, owner=owner):
            text_.remove()  # a caption is a help, not worth covering a label


def _draw_arrow(cv: _Canvas, trace: Trace, seg: SegmentRecord) -> _Arrow:
    """The segment's line: style says retransmission, copy, expiry; the end says its fate."""
    x0, x1_full = X[seg.src], X[seg.dst]
    t_end, frac = segment_end(trace, seg.id)
    ya, yb = cv.y(seg.sent), cv.y(t_end)
    xb = x0 + (x1_full - x0) * frac
    outcome = trace.outcome(seg)
    warning = outcome == "old-into-new"
    style: str | tuple[float, tuple[float, ...]] = "solid"
    if seg.retransmission:
        style = (0, (5, 2.5))
    if seg.duplicate_of is not None:
        style = (0, (6, 2, 1.5, 2))
    alpha = 1.0
    arrowstyle = "-|>"
    if outcome in ("lost", "in-flight"):
        arrowstyle = "-"
    elif outcome == "expired":
        style, alpha, arrowstyle = (0, (1.2, 2)), 0.6, "-"
    arrow = FancyArrowPatch(
        (x0, ya),
        (xb, yb),
        arrowstyle=arrowstyle,
        mutation_scale=9,
        lw=1.6 if warning else 1.25,
        color=PURPLE if warning else ENDPOINT_COLOUR[seg.src],
        linestyle=style,
        alpha=alpha,
        shrinkA=0,
        shrinkB=0,
        zorder=3,
    )
    arrow.set_gid(f"segment-{seg.id}")
    cv.ax.add_artist(arrow)
    to_px = cv.ax.transData.transform
    (pax, pay), (pbx, pby) = to_px((x0, ya)), to_px((xb, yb))
    cv.placer.line((float(pax), float(pay)), (float(pbx), float(pby)), seg.id)
    _draw_end_mark(cv, seg, outcome, xb, yb)
    return _Arrow(seg, x0, ya, xb, yb, frac)


def _draw_end_mark(cv: _Canvas, seg: SegmentRecord, outcome: str, xb: float, yb: float) -> None:
    """An X for a loss, a dagger for an expiry, a circle for "no connection", a square for
    "host gone"; labels keep clear of all of them."""
    if outcome not in ("taken", "old-into-new"):
        px, py = cv.ax.transData.transform((xb, yb))
        half = 7.0 * cv.fig.dpi / 72
        cv.placer.obstacle(Bbox([[px - half, py - half], [px + half, py + half]]))
    if outcome in END_MARKS:
        mark = Line2D([xb], [yb], zorder=6, gid=f"{END_GID[outcome]}-{seg.id}")
        mark.set(**END_MARKS[outcome])
        cv.ax.add_artist(mark)
    elif outcome == "expired":
        cv.ax.text(
            xb,
            yb,
            "†",
            fontsize=12,
            fontweight="bold",
            color=GREY,
            ha="center",
            va="center",
            zorder=6,
            gid=f"expired-{seg.id}",
        )


def _segment_text(cv: _Canvas, trace: Trace, arrow: _Arrow) -> tuple[Text, list[Spot], int]:
    """The wire label of a segment and the places along its line where it may sit."""
    seg = arrow.seg
    text, warning = segment_label(seg, trace)
    box = {
        "boxstyle": "round,pad=0.12",
        "fc": YELLOW if warning else "white",
        "ec": PURPLE if warning else "none",
        "alpha": 1.0 if warning else 0.85,
    }
    label = cv.ax.text(
        0,
        0,
        text,
        fontsize=LABEL_PT,
        family=MONO,
        color=BLACK if warning else ENDPOINT_COLOUR[seg.src],
        fontweight="bold" if warning else "normal",
        zorder=5,
        linespacing=1.1,
        bbox=box,
        gid=f"label-{seg.id}",
    )
    x0, ya, xb, yb = arrow.x0, arrow.ya, arrow.xb, arrow.yb
    spots: list[Spot] = []
    for lift in (0.15, 0.55, 0.95, 1.35):
        for f in LABEL_FRACTIONS:
            px, py = x0 + (xb - x0) * f, ya + (yb - ya) * f
            spots.append((px, py - lift, "center", "bottom"))
            spots.append((px, py + lift, "center", "top"))
    if arrow.frac < 0.9:  # a short line: start the label at the sender instead
        ha = "left" if seg.src == "A" else "right"
        sx = x0 + (0.03 if seg.src == "A" else -0.03)
        # ... or clear of its end mark, under it or above the line, when segments crowd it
        low = max(ya, yb) + 0.6
        spots[2:2] = [
            (sx, ya - 0.15, ha, "bottom"),
            (sx, ya + 0.15, ha, "top"),
            *[(sx, low + k * 0.45, ha, "top") for k in range(3)],
            *[(sx, ya - 0.6 - k * 0.45, ha, "bottom") for k in range(2)],
        ]
    # A label wider than the room beside a steep line: across the lane, where the line passes.
    for f in LABEL_FRACTIONS:
        py = ya + (yb - ya) * f
        spots += [(0.5, py - 0.15, "center", "bottom"), (0.5, py + 0.15, "center", "top")]
    return label, spots, seg.id


def _caption_text(cv: _Canvas, arrow: _Arrow, words: str) -> tuple[Text, list[Spot], int]:
    """A caption of the A/B dialogue, near the sender's end of the segment's line."""
    seg = arrow.seg
    cap = cv.ax.text(
        0,
        0,
        f"{seg.src}: “{words}”",
        fontsize=7.5,
        style="italic",
        family=SANS,
        color=ENDPOINT_COLOUR[seg.src],
        zorder=5,
        gid=f"caption-{seg.id}",
        bbox={"boxstyle": "round,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.85},
    )
    ha = "left" if seg.src == "A" else "right"
    cx = arrow.x0 + (0.03 if seg.src == "A" else -0.03)
    cy = arrow.ya + (arrow.yb - arrow.ya) * 0.03 / max(abs(arrow.xb - arrow.x0), 1e-9)
    spots: list[Spot] = [(cx, cy - 0.25 - k * 0.8, ha, "bottom") for k in range(2)]
    spots += [(cx, cy + 0.4 + k * 0.8, ha, "top") for k in range(3)]
    return cap, spots, seg.id


def _cursor_text(trace: Trace, at: float) -> str:
    states = ", ".join(f"{n}: {trace.state_at(n, at)}" for n in X)
    return f"t = {seconds(at)} s  ({states})"


def _cursor_spots(row: float) -> list[Spot]:
    """Where the cursor's label may sit: right above or below its line, then left; a little
    further off when segments crowd it (the 40 ms delayed ACK and the loss probe put more labels
    in fewer rows)."""
    xr, xl = XLIM[1] - 0.02, XLIM[0] + 0.02
    return [
        spot
        for lift in (0.2, 0.6, 1.0)
        for spot in (
            (xr, row - lift, "right", "bottom"),
            (xr, row + lift, "right", "top"),
            (xl, row - lift, "left", "bottom"),
            (xl, row + lift, "left", "top"),
        )
    ]


def _draw_cursor(cv: _Canvas, trace: Trace, at: float, end_row: float) -> None:
    """A dashed line at time ``at`` and where A and B are then."""
    row = min(cv.y(at), end_row)
    cv.ax.add_artist(
        Line2D(list(XLIM), [row, row], color=GREEN, lw=1.6, ls=(0, (6, 2)), zorder=7, gid="cursor")
    )
    cur = cv.ax.text(
        0,
        0,
        _cursor_text(trace, at),
        fontsize=7.5,
        color=BLACK,
        family=SANS,
        zorder=8,
        gid="cursor-label",
        bbox={"boxstyle": "round,pad=0.15", "fc": "#E5F5EF", "ec": GREEN, "lw": 0.8},
    )
    cv.placer.place(cur, _cursor_spots(row))


#: For each ladder Axes, what its cursor's label was placed among (a copy of the placer just
#: before the cursor), the last row of its time lines and its time axis: what
#: :func:`move_cursor` needs to place the label exactly as a full redraw would.
_CURSOR_PLACES: weakref.WeakKeyDictionary[Axes, tuple[Placer, float, TimeAxis]] = (
    weakref.WeakKeyDictionary()
)


def move_cursor(fig: Figure, trace: Trace, at: float) -> bool:
    """Move the cursor of a ladder drawn by :func:`ladder` (with ``at``) to time ``at``.

    Only the cursor's line and label change; the label is placed as :func:`ladder` would place
    it for the same ``at``, among the same texts, marks and lines, so blitting the two onto the
    picture drawn without them gives the full redraw's pixels. False (and nothing changed) if
    ``fig`` holds no such cursor.
    """
    check_at(at)
    for ax in fig.axes:
        saved = _CURSOR_PLACES.get(ax)
        line = next((a for a in ax.lines if a.get_gid() == "cursor"), None)
        label = next((t for t in ax.texts if t.get_gid() == "cursor-label"), None)
        if saved is None or line is None or label is None:
            continue
        placer, end_row, axis = saved
        row = min(axis(at), end_row)
        line.set_ydata([row, row])
        label.set_text(_cursor_text(trace, at))
        shown = label.get_visible()
        label.set_visible(True)  # a hidden text measures as nothing
        try:
            with matplotlib.rc_context({"text.hinting": "no_hinting"}):  # as draw_ladder does
                placer.copy().place(label, _cursor_spots(row))
        finally:
            label.set_visible(shown)
        return True
    return False
