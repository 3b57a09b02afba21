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

from collections.abc import Sequence
from dataclasses import dataclass

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
    ORANGE,
    PURPLE,
    SANS,
    SKY,
    STATE_FILL,
    YELLOW,
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
TIMER_COLOUR = {"retransmit": SKY, "time_wait": ORANGE, "fin_wait_2": PURPLE}
TIMER_COLUMN = {"retransmit": 0.028, "time_wait": 0.052, "fin_wait_2": 0.052}
LABEL_FRACTIONS = (0.5, 0.4, 0.6, 0.3, 0.7, 0.2, 0.8)  # where along its arrow a label may sit
OUTSIDE = 0.075  # state and timer labels start this far outside a time line
LADDER_LABEL = "tcpbook-ladder"  # marks an Axes this module may clear and reuse


# --------------------------------------------------------------------------- what to say


def _ack_of(seg: SegmentRecord) -> int:
    """The acknowledgement number that acknowledges all of ``seg`` (SYN and FIN count one)."""
    return seg.seq + seg.len + (1 if "SYN" in seg.flags else 0) + (1 if "FIN" in seg.flags else 0)


def caption_roles(trace: Trace) -> dict[int, str]:
    """Plain-language captions in the seed's A/B dialogue, keyed by segment id.

    Roles come from flags and acknowledgement numbers (first FIN, the ACK of it, the peer's
    FIN, the last ACK, a retransmitted FIN...), never from fixed segment numbers, so they stay
    right when the reader drops or delays segments.
    """
    segs = [s for s in trace.segments if s.duplicate_of is None]
    out: dict[int, str] = {}
    syn = next((s for s in segs if s.flags == ("SYN",) and not s.retransmission), None)
    if syn is not None:
        out[syn.id] = "Can we talk?"
        synack = next(
            (s for s in segs if set(s.flags) == {"SYN", "ACK"} and s.ack == _ack_of(syn)), None
        )
        if synack is not None:
            out[synack.id] = "Yes. Can we?"
            third = next(
                (
                    s
                    for s in segs
                    if s.src == syn.src and s.flags == ("ACK",) and s.ack == _ack_of(synack)
                ),
                None,
            )
            if third is not None:
                out[third.id] = "Yes."
    for s in segs:
        if "SYN" in s.flags and s.retransmission:
            out[s.id] = "Hello? Anyone there?"
    fins = [s for s in segs if "FIN" in s.flags and not s.retransmission]
    if fins:
        first = fins[0]
        out[first.id] = "I have nothing more to send."
        peer = first.dst
        second = next((s for s in fins if s.src == peer), None)
        noted = next(
            (
                s
                for s in segs
                if s.src == peer
                and s.sent >= first.sent
                and "FIN" not in s.flags
                and "RST" not in s.flags
                and s.ack == _ack_of(first)
            ),
            None,
        )
        if noted is not None and (second is None or noted.sent <= second.sent):
            out[noted.id] = "Noted."
        if second is not None:
            if first.arrived is not None and second.sent < first.arrived:
                out[second.id] = "I have nothing more to send either."
            elif second.ack == _ack_of(first) and (noted is None or noted.sent > second.sent):
                out[second.id] = "Noted, and I'm done too. Bye."
            else:
                out[second.id] = "I'm done too. Bye."
            byes = [
                s
                for s in segs
                if s.src == first.src
                and "FIN" not in s.flags
                and "RST" not in s.flags
                and s.ack == _ack_of(second)
            ]
            for i, s in enumerate(byes):
                out[s.id] = "Bye." if i == 0 else "Bye! (again)"
    for s in segs:
        if "FIN" in s.flags and s.retransmission:
            out[s.id] = "Did you hear me?"
        if "RST" in s.flags:
            trigger = next(
                (
                    r
                    for r in trace.segments
                    if r.dst == s.src and r.arrived == s.sent and r.fate == "delivered"
                ),
                None,
            )
            if trigger is not None and trigger.delivered_to is None:
                out[s.id] = "Who are you? I have no such connection."
            else:
                out[s.id] = "Stop! This connection is over."
    return out


def segment_label(seg: SegmentRecord) -> tuple[str, bool]:
    """The arrow's label and whether it is a warning (old segment in a new connection)."""
    text = f"#{seg.id} {seg.label}"
    if seg.retransmission:
        text += " (retransmission)"
    if seg.duplicate_of is not None:
        text += f" (copy of #{seg.duplicate_of})"
    if seg.fate == "dropped":
        text += " lost"
    elif seg.fate == "expired":
        text += " expired (MSL)"
    elif seg.fate == "in-flight":
        text += " (in flight)"
    elif seg.delivered_to is None:
        text += " → no connection"
    elif seg.delivered_to != seg.conn:
        return text + f"\nold segment accepted by connection {seg.delivered_to}!", True
    return text, False


# --------------------------------------------------------------------------- timers


@dataclass(frozen=True)
class TimerBar:
    """One run of a timer: started at ``start``, ended at ``end`` by ``how``."""

    endpoint: str
    timer: str
    start: float
    end: float
    duration: float  # what it was set to
    how: str  # "fire", "cancel", "restart" or "running"
    restarted: bool  # this run is a restart of a running timer


def timer_bars(trace: Trace) -> list[TimerBar]:
    """Timer runs from the trace's start/fire/cancel records (a restart is a new start)."""
    open_: dict[tuple[str, str], tuple[float, float, bool]] = {}
    bars: list[TimerBar] = []
    for tm in trace.timers:
        key = (tm.endpoint, tm.timer)
        if tm.action == "start":
            restarted = key in open_
            if restarted:
                t0, dur, again = open_.pop(key)
                bars.append(TimerBar(tm.endpoint, tm.timer, t0, tm.t, dur, "restart", again))
            deadline = tm.deadline if tm.deadline is not None else tm.t
            open_[key] = (tm.t, deadline - tm.t, restarted)
        elif key in open_:
            t0, dur, again = open_.pop(key)
            bars.append(TimerBar(tm.endpoint, tm.timer, t0, tm.t, dur, tm.action, again))
    for (endpoint, timer), (t0, dur, again) in open_.items():
        bars.append(TimerBar(endpoint, timer, t0, min(t0 + dur, trace.end), dur, "running", again))
    bars.sort(key=lambda b: (b.start, b.endpoint, b.timer))
    return bars


def timer_text(bar: TimerBar) -> str | None:
    """A bar's label, or None for a routine retransmission timer that was simply cancelled."""
    dur = seconds(bar.duration)
    if bar.timer == "time_wait":
        text = f"2MSL = {dur} s"
    elif bar.timer == "fin_wait_2":
        text = f"FIN_WAIT_2 timer {dur} s"
    else:
        if bar.how not in ("fire", "running") and not bar.restarted:
            return None
        text = f"RTO {dur} s"
    if bar.restarted:
        text += " (restarted)"
    if bar.how == "fire" and bar.timer == "retransmit":
        text += ", fires"
    return text


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
    _check_at(at)
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
        if old.legend_ is not None:
            old.legend_.remove()
        ax = old
    else:
        fig = _new_figure((width, height), fig)
        ax = fig.add_axes(rect, label=LADDER_LABEL)
    draw_ladder(ax, trace, axis, at=at, captions=captions)
    return fig


def _check_at(at: float | None) -> None:
    if at is None:
        return
    if isinstance(at, bool) or not isinstance(at, int | float) or at != at:
        raise TcpbookError(f"at must be a time in seconds, got {at!r}")
    if at < 0:
        raise TcpbookError(f"at must be 0 or more seconds, got {at!r}")


def draw_ladder(
    ax: Axes, trace: Trace, axis: TimeAxis, *, at: float | None, captions: bool
) -> None:
    """Draw into an existing Axes (used by :func:`ladder` and the stacked figure)."""
    fig = ax.get_figure()
    assert isinstance(fig, Figure)
    y = axis
    top = -HEAD_ROWS
    bottom = axis.height + TAIL_ROWS
    ax.set_xlim(*XLIM)
    ax.set_ylim(bottom, top)
    ax.set_axis_off()  # ticks are drawn below as plain texts: Axis objects are slow to build
    placer = Placer(fig, ax.bbox)
    # Time ticks in real seconds, left of the diagram.
    ticks = axis.ticks()
    tick_x = XLIM[0] - 0.01
    marks_x: list[float] = []
    marks_y: list[float] = []
    for row, tick_text in ticks:
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
        (top + bottom) / 2,
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
    end_row = y(drawn_end(trace)) + 0.6

    # Time lines, broken where the axis squeezes a gap.
    for name, x in X.items():
        head = ax.text(
            x,
            top + 0.3,
            name,
            ha="center",
            va="top",
            fontsize=12,
            fontweight="bold",
            color=ENDPOINT_COLOUR[name],
            family=SANS,
        )
        placer.fixed(head)
        start = top + 1.6
        for t0, t1 in axis.breaks:
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
    for t0, t1 in axis.breaks:
        mid = (y(t0) + y(t1)) / 2
        txt = ax.text(
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
        placer.place(
            txt,
            [
                (0.5, mid, "center", "center"),
                (0.5, mid - 0.6, "center", "center"),
                (0.5, mid + 0.6, "center", "center"),
            ],
        )

    # States where they begin (the last one when several changes happen at one instant).
    conns = {tr.conn for tr in trace.transitions}
    for name in X:
        steps: list[tuple[float, str, int]] = [(0.0, "CLOSED", 0)]
        for tr in trace.transitions:
            if tr.endpoint == name:
                if steps and steps[-1][0] == tr.t:
                    steps.pop()
                steps.append((tr.t, tr.dst, tr.conn))
        for t, state, conn in steps:
            row = y(t)
            ax.add_artist(
                Line2D(
                    [X[name] - 0.018, X[name] + 0.018],
                    [row, row],
                    color="#555555",
                    lw=1.4,
                    zorder=2,
                )
            )
            name_text = state if len(conns) < 2 or not conn else f"{state} (conn {conn})"
            x = X[name] + _sign(name) * OUTSIDE
            ha = "right" if name == "A" else "left"
            txt = ax.text(
                x,
                row,
                name_text,
                fontsize=STATE_PT,
                fontweight="bold",
                family=SANS,
                color=BLACK,
                zorder=5,
                gid=f"state-{name}-{seconds(t)}",
                bbox={
                    "boxstyle": "round,pad=0.2",
                    "fc": STATE_FILL.get(state, "white"),
                    "ec": "none",
                },
            )
            placer.place(txt, [(x, row + k * 0.9, ha, "top") for k in range(8)])

    # Timers: bars just outside the time lines, labelled with what they were set to.
    bars = timer_bars(trace)
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
        colour = TIMER_COLOUR.get(bar.timer, GREY)
        x = X[bar.endpoint] + _sign(bar.endpoint) * OUTSIDE
        ha = "right" if bar.endpoint == "A" else "left"
        row = y(bar.start)
        txt = ax.text(
            x,
            row,
            text,
            fontsize=7,
            family=SANS,
            color=BLACK,
            zorder=5,
            bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": colour, "lw": 0.8},
        )
        placer.place(txt, [(x, row + 0.9 + k * 0.9, ha, "top") for k in range(10)])

    # Errors the application sees.
    for err in trace.errors:
        x = X[err.endpoint] + _sign(err.endpoint) * OUTSIDE
        ha = "right" if err.endpoint == "A" else "left"
        row = y(err.t)
        txt = ax.text(
            x,
            row,
            f"app sees {err.error}",
            fontsize=7.5,
            fontweight="bold",
            family=SANS,
            color=LOSS_RED,
            zorder=5,
            bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": LOSS_RED, "lw": 0.8},
        )
        placer.place(txt, [(x, row + k * 0.9, ha, "top") for k in range(10)])

    # Segments.
    said = caption_roles(trace) if captions else {}
    labels: list[tuple[Text, list[Spot]]] = []
    caption_texts: list[tuple[Text, list[Spot]]] = []
    for seg in trace.segments:
        x0 = X[seg.src]
        x1_full = X[seg.dst]
        t_end, frac = segment_end(trace, seg.id)
        ya, yb = y(seg.sent), y(t_end)
        xb = x0 + (x1_full - x0) * frac
        colour = ENDPOINT_COLOUR[seg.src]
        text, warning = segment_label(seg)
        style: str | tuple[float, tuple[float, ...]] = "solid"
        if seg.retransmission:
            style = (0, (5, 2.5))
        if seg.duplicate_of is not None:
            style = (0, (6, 2, 1.5, 2))
        alpha = 1.0
        arrowstyle = "-|>"
        if seg.fate == "dropped":
            arrowstyle = "-"
        elif seg.fate == "expired":
            style, alpha, arrowstyle = (0, (1.2, 2)), 0.6, "-"
        elif seg.fate == "in-flight":
            arrowstyle = "-"
        if warning:
            colour = PURPLE
        arrow = FancyArrowPatch(
            (x0, ya),
            (xb, yb),
            arrowstyle=arrowstyle,
            mutation_scale=9,
            lw=1.6 if warning else 1.25,
            color=colour,
            linestyle=style,
            alpha=alpha,
            shrinkA=0,
            shrinkB=0,
            zorder=3,
        )
        arrow.set_gid(f"segment-{seg.id}")
        ax.add_artist(arrow)
        if seg.fate in ("dropped", "expired") or seg.delivered_to is None:
            px, py = ax.transData.transform((xb, yb))
            half = 7.0 * fig.dpi / 72
            placer.obstacle(Bbox([[px - half, py - half], [px + half, py + half]]))
        if seg.fate == "dropped":
            ax.add_artist(
                Line2D(
                    [xb],
                    [yb],
                    marker="x",
                    ms=9,
                    mew=2.6,
                    color=LOSS_RED,
                    zorder=6,
                    gid=f"drop-{seg.id}",
                )
            )
        elif seg.fate == "expired":
            ax.text(
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
        elif seg.fate == "delivered" and seg.delivered_to is None:
            ax.add_artist(
                Line2D(
                    [xb],
                    [yb],
                    marker="o",
                    ms=6,
                    mfc="white",
                    mec=BLACK,
                    mew=1.2,
                    zorder=6,
                    gid=f"noconn-{seg.id}",
                )
            )
        box = {
            "boxstyle": "round,pad=0.12",
            "fc": YELLOW if warning else "white",
            "ec": PURPLE if warning else "none",
            "alpha": 1.0 if warning else 0.85,
        }
        label = ax.text(
            0,
            0,
            text,
            fontsize=LABEL_PT,
            family=MONO,
            color=colour if not warning else BLACK,
            fontweight="bold" if warning else "normal",
            zorder=5,
            linespacing=1.1,
            bbox=box,
            gid=f"label-{seg.id}",
        )
        spots: list[Spot] = []
        for f in LABEL_FRACTIONS:
            px, py = x0 + (xb - x0) * f, ya + (yb - ya) * f
            spots.append((px, py - 0.15, "center", "bottom"))
            spots.append((px, py + 0.15, "center", "top"))
        if frac < 0.9:  # a short line: start the label at the sender instead
            ha = "left" if seg.src == "A" else "right"
            sx = x0 + (0.03 if seg.src == "A" else -0.03)
            spots[2:2] = [(sx, ya - 0.15, ha, "bottom"), (sx, ya + 0.15, ha, "top")]
        labels.append((label, spots))
        if seg.id in said:
            cap = ax.text(
                0,
                0,
                f"{seg.src}: “{said[seg.id]}”",
                fontsize=7.5,
                style="italic",
                family=SANS,
                color=ENDPOINT_COLOUR[seg.src],
                zorder=5,
                gid=f"caption-{seg.id}",
                bbox={"boxstyle": "round,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.85},
            )
            ha = "left" if seg.src == "A" else "right"
            cx = x0 + (0.03 if seg.src == "A" else -0.03)
            cy = ya + (yb - ya) * 0.03 / max(abs(xb - x0), 1e-9)
            cspots: list[Spot] = [(cx, cy - 0.25 - k * 0.8, ha, "bottom") for k in range(2)]
            cspots += [(cx, cy + 0.4 + k * 0.8, ha, "top") for k in range(3)]
            caption_texts.append((cap, cspots))
    # Arrow labels and captions stay between the time lines, clear of states and timers.
    (lx, _), (rx, _) = ax.transData.transform([(X["A"] + 0.012, 0), (X["B"] - 0.012, 0)])
    lane = Bbox([[lx, ax.bbox.y0], [rx, ax.bbox.y1]])
    for text_, spots in labels:
        placer.place(text_, spots, lane)
    for text_, spots in caption_texts:
        if not placer.place(text_, spots, lane, keep_if_bad=False):
            text_.remove()  # a caption is a help, not worth covering a label

    # The cursor.
    if at is not None:
        row = min(y(at), end_row)
        ax.add_artist(
            Line2D(
                list(XLIM), [row, row], color=GREEN, lw=1.6, ls=(0, (6, 2)), zorder=7, gid="cursor"
            )
        )
        states = ", ".join(f"{n}: {trace.state_at(n, at)}" for n in X)
        cur = ax.text(
            0,
            0,
            f"t = {seconds(at)} s  ({states})",
            fontsize=7.5,
            color=BLACK,
            family=SANS,
            zorder=8,
            gid="cursor-label",
            bbox={"boxstyle": "round,pad=0.15", "fc": "#E5F5EF", "ec": GREEN, "lw": 0.8},
        )
        xr = XLIM[1] - 0.02
        placer.place(
            cur,
            [
                (xr, row - 0.2, "right", "bottom"),
                (xr, row + 0.2, "right", "top"),
                (XLIM[0] + 0.02, row - 0.2, "left", "bottom"),
                (XLIM[0] + 0.02, row + 0.2, "left", "top"),
            ],
        )
    _legend(ax, trace, bars)


def _legend(ax: Axes, trace: Trace, bars: Sequence[TimerBar]) -> None:
    """Only the marks this figure uses, one line under the diagram."""
    items: list[tuple[Line2D, str]] = []
    segs = trace.segments
    if any(s.retransmission for s in segs):
        items.append((Line2D([], [], color=BLACK, ls=(0, (5, 2.5))), "retransmission"))
    if any(s.duplicate_of is not None for s in segs):
        items.append((Line2D([], [], color=BLACK, ls=(0, (6, 2, 1.5, 2))), "network copy"))
    if any(s.fate == "dropped" for s in segs):
        items.append((Line2D([], [], color=LOSS_RED, marker="x", ls="", ms=7, mew=2.2), "lost"))
    if any(s.fate == "expired" for s in segs):
        items.append((Line2D([], [], color=GREY, ls=(0, (1.2, 2))), "expired † (MSL)"))
    if any(s.fate == "delivered" and s.delivered_to is None for s in segs):
        items.append(
            (Line2D([], [], color=BLACK, marker="o", mfc="white", ls="", ms=5), "no connection")
        )
    names = {
        "retransmit": "retransmission timer",
        "time_wait": "2MSL timer",
        "fin_wait_2": "FIN_WAIT_2 timer",
    }
    for timer in ("retransmit", "time_wait", "fin_wait_2"):
        if any(b.timer == timer for b in bars):
            items.append((Line2D([], [], color=TIMER_COLOUR[timer], lw=3.2), names[timer]))
    if any(b.how == "fire" for b in bars):
        items.append(
            (Line2D([], [], color=GREY, marker="o", mec=BLACK, ls="", ms=4.5), "timer fires")
        )
    if any(b.how in ("cancel", "restart") for b in bars):
        items.append((Line2D([], [], color=BLACK, marker="_", ls="", ms=6), "stopped"))
    if not items:
        return
    ax.legend(
        [h for h, _ in items],
        [t for _, t in items],
        loc="upper center",
        ncol=len(items) if len(items) <= 7 else (len(items) + 1) // 2,
        fontsize=7,
        frameon=False,
        handlelength=2.2,
        columnspacing=1.2,
        borderaxespad=0.1,
        bbox_to_anchor=(0.5, 0.0),
    )
