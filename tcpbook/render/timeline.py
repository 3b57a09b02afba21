"""The state timeline: one band per endpoint, coloured by state, on the ladder's time mapping.

Stacked under a ladder (:func:`ladder_with_timeline`) the two share the compressed time axis of
:mod:`tcpbook.render.timeaxis`, so "how long was A in TIME_WAIT?" and "what crossed the wire
then?" are answered side by side.
"""

from __future__ import annotations

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle

from ..trace import Trace
from ._place import Placer, Spot
from ._style import BLACK, ENDPOINT_COLOUR, GREEN, GREY, SANS, STATE_FILL
from .ladder import (
    DPI,
    LEFT_INCH,
    RIGHT_INCH,
    WIDTH_INCH,
    check_at,
    draw_ladder,
    figure_size,
)
from .timeaxis import TimeAxis, drawn_end, seconds

BAND_Y = {"A": 1.5, "B": 0.0}  # centres of the two bands
BAND_HALF = 0.32
TIMELINE_INCH = 1.9
STATE_PT = 7.0
END_INCH = 0.3  # room for the last tick label, centred on the end of the run


def state_spans(trace: Trace, endpoint: str) -> list[tuple[float, float, str]]:
    """``(start, end, state)`` for each stretch ``endpoint`` spent in one state."""
    steps = trace.history(endpoint)
    end = drawn_end(trace)
    spans = []
    for i, (t, state) in enumerate(steps):
        t1 = steps[i + 1][0] if i + 1 < len(steps) else max(end, t)
        spans.append((t, t1, state))
    return spans


TICK_PT = 7.0


def _spaced(ticks: list[tuple[float, str]], ax: Axes, rows: float) -> list[tuple[float, str]]:
    """Drop tick labels that would touch their neighbour (widths from the digit count)."""
    fig = ax.get_figure()
    assert isinstance(fig, Figure)
    px_per_row = ax.bbox.width / rows
    char_px = 0.62 * TICK_PT * fig.dpi / 72
    kept: list[tuple[float, str]] = []
    for row, label in ticks:
        if kept:
            need = (len(kept[-1][1]) + len(label)) / 2 * char_px + 8
            if (row - kept[-1][0]) * px_per_row < need:
                continue
        kept.append((row, label))
    return kept


def draw_timeline(ax: Axes, trace: Trace, axis: TimeAxis, *, at: float | None) -> None:
    """Draw the bands into ``ax`` (x = rows of ``axis``)."""
    fig = ax.get_figure()
    assert isinstance(fig, Figure)
    hi = axis(drawn_end(trace)) + 0.5
    placer = Placer(fig, ax.bbox)
    _axes_and_ticks(ax, axis, placer, hi)
    for name, yc in BAND_Y.items():
        _draw_bands(ax, trace, axis, placer, name, yc)
    _draw_breaks(ax, axis)
    if at is not None:
        x = min(axis(at), hi)
        ax.add_line(
            Line2D([x, x], [-1.0, 2.3], color=GREEN, lw=1.6, ls=(0, (6, 2)), zorder=7, gid="cursor")
        )


def _axes_and_ticks(ax: Axes, axis: TimeAxis, placer: Placer, hi: float) -> None:
    """Limits, the time ticks below (spaced so they never touch) and A and B at the left."""
    lo = axis(0.0) - 0.5
    ax.set_xlim(lo, hi)
    ax.set_ylim(-1.25, 2.75)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    ax.spines["bottom"].set_color(GREY)
    ticks = _spaced(axis.ticks(min_rows=4.0 * (hi - lo) / 60), ax, hi - lo)
    ax.set_xticks([r for r, _ in ticks], [label for _, label in ticks])
    ax.tick_params(axis="x", labelsize=TICK_PT, length=3, color=GREY, labelcolor="#444444", pad=2)
    ax.set_xlabel("time (s)", fontsize=7.5, color="#444444", labelpad=1)
    ax.set_yticks([BAND_Y["A"], BAND_Y["B"]], ["A", "B"])
    ax.tick_params(axis="y", length=0, labelsize=11, pad=4)
    for label, name in zip(ax.get_yticklabels(), ("A", "B"), strict=True):
        label.set_color(ENDPOINT_COLOUR[name])
        label.set_fontweight("bold")
    for label in [*ax.get_xticklabels(), *ax.get_yticklabels(), ax.xaxis.label]:
        placer.fixed(label)


def _draw_bands(
    ax: Axes, trace: Trace, axis: TimeAxis, placer: Placer, name: str, yc: float
) -> None:
    """One endpoint's states as boxes; a name that does not fit goes beside, with a leader."""
    outside = []
    for t0, t1, state in state_spans(trace, name):
        x0, x1 = axis(t0), axis(t1)
        if x1 <= x0:
            continue
        rect = Rectangle(
            (x0, yc - BAND_HALF),
            x1 - x0,
            2 * BAND_HALF,
            facecolor=STATE_FILL.get(state, "white"),
            edgecolor=ENDPOINT_COLOUR[name],
            linewidth=0.8,
            linestyle="solid" if name == "A" else "dashed",
            gid=f"band-{name}-{state}-{seconds(t0)}",
        )
        ax.add_patch(rect)
        text = ax.text(
            (x0 + x1) / 2,
            yc,
            state,
            ha="center",
            va="center",
            fontsize=STATE_PT,
            family=SANS,
            color=BLACK,
            zorder=5,
        )
        bb = placer.box(text)
        (px0, _), (px1, _) = ax.transData.transform([(x0, yc), (x1, yc)])
        if bb.width + 4 <= px1 - px0 and placer.place(
            text, [((x0 + x1) / 2, yc, "center", "center")]
        ):
            continue
        outside.append((text, (x0 + x1) / 2))
    sign = 1 if name == "A" else -1
    for text, xm in outside:
        spots: list[Spot] = [
            (
                xm,
                yc + sign * (BAND_HALF + 0.08 + 0.42 * k),
                "center",
                "bottom" if name == "A" else "top",
            )
            for k in range(3)
        ]
        placer.place(text, spots)
        _, ty = text.get_position()
        ax.add_line(Line2D([xm, xm], [yc + sign * BAND_HALF, ty], color=GREY, lw=0.6, zorder=2))


def _draw_breaks(ax: Axes, axis: TimeAxis) -> None:
    """ "//" on each band's edges where the axis squeezes time."""
    for t0, t1 in axis.breaks:
        mid = (axis(t0) + axis(t1)) / 2
        for yc in BAND_Y.values():
            for edge in (yc - BAND_HALF, yc + BAND_HALF):
                for dx in (-0.22, 0.22):
                    ax.add_line(
                        Line2D(
                            [mid + dx - 0.12, mid + dx + 0.12],
                            [edge - 0.12, edge + 0.12],
                            color="#555555",
                            lw=1.0,
                            zorder=6,
                        )
                    )


def timeline(
    trace: Trace,
    *,
    at: float | None = None,
    fig: Figure | None = None,
    axis: TimeAxis | None = None,
) -> Figure:
    """Each endpoint's states over time as a coloured band; ``at`` draws a cursor."""
    check_at(at)
    axis = axis or TimeAxis.for_trace(trace)
    size = (WIDTH_INCH, TIMELINE_INCH)
    if fig is None:
        fig = Figure(figsize=size, dpi=DPI)
        FigureCanvasAgg(fig)
    else:
        fig.clear()
        fig.set_size_inches(*size, forward=False)
    ax = fig.add_axes(
        (
            LEFT_INCH / size[0],
            0.3 / size[1],
            1 - (LEFT_INCH + END_INCH) / size[0],
            1 - 0.38 / size[1],
        )
    )
    draw_timeline(ax, trace, axis, at=at)
    return fig


def ladder_with_timeline(
    trace: Trace, *, at: float | None = None, captions: bool = False, fig: Figure | None = None
) -> Figure:
    """The ladder with the timeline under it, both on one time mapping."""
    from .ladder import LEGEND_INCH, TOP_INCH

    check_at(at)
    axis = TimeAxis.for_trace(trace)
    width, lad_h = figure_size(axis)
    height = lad_h + TIMELINE_INCH
    if fig is None:
        fig = Figure(figsize=(width, height), dpi=DPI)
        FigureCanvasAgg(fig)
    else:
        fig.clear()
        fig.set_size_inches(width, height, forward=False)
    left = LEFT_INCH / width
    span = 1 - (LEFT_INCH + RIGHT_INCH) / width
    t_span = 1 - (LEFT_INCH + END_INCH) / width
    ax_l = fig.add_axes(
        (
            left,
            (TIMELINE_INCH + LEGEND_INCH) / height,
            span,
            (lad_h - TOP_INCH - LEGEND_INCH) / height,
        )
    )
    ax_t = fig.add_axes((left, 0.3 / height, t_span, (TIMELINE_INCH - 0.4) / height))
    draw_ladder(ax_l, trace, axis, at=at, captions=captions)
    draw_timeline(ax_t, trace, axis, at=at)
    return fig
