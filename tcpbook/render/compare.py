"""A real capture next to a simulated run: two ladders side by side in one figure.

On loopback a segment arrives microseconds after it leaves, so a captured handshake happens at
one instant; :func:`spread_axis` gives each distinct time room enough to read. The experiments
that make the capture live in :mod:`tcpbook.realsockets`.
"""

from __future__ import annotations

import itertools

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from ..trace import Trace
from .ladder import DPI, LEFT_INCH, LEGEND_INCH, RIGHT_INCH, TOP_INCH, draw_ladder, figure_size
from .timeaxis import TimeAxis, event_times

SAME_INSTANT_ROWS = 1.4  # segments microseconds apart are drawn this many text rows apart


def spread_axis(trace: Trace) -> TimeAxis:
    """The ladder's time axis for a loopback capture, with room between simultaneous events.

    Each distinct time gets at least :data:`SAME_INSTANT_ROWS` rows so every arrow and label
    can be read. Longer gaps keep the usual scale, so the ticks stay true.
    """
    times = event_times(trace)
    base = TimeAxis.for_times(times)
    ts = sorted({round(t, 9) for t in times} | {0.0})
    ys = [0.0]
    for a, b in itertools.pairwise(ts):
        ys.append(ys[-1] + max(base(b) - base(a), SAME_INSTANT_ROWS))
    return TimeAxis(tuple(ts), tuple(ys), base.breaks, base.rows_per_second)


def side_by_side(real: Trace, simulated: Trace, *, titles: tuple[str, str] | None = None) -> Figure:
    """One figure: the captured close (left) next to the simulated one (right).

    Both are drawn by the book's ladder renderer; the capture on :func:`spread_axis`.
    """
    axes = (spread_axis(real), TimeAxis.for_trace(simulated))
    sizes = [figure_size(axis) for axis in axes]
    width, height = sizes[0][0] * 2, max(h for _, h in sizes) + 0.3
    fig = Figure(figsize=(width, height), dpi=DPI)
    FigureCanvasAgg(fig)
    titles = titles or ("your kernel, on loopback (captured)", "the simulator (50 ms each way)")
    for i, (trace, axis, title) in enumerate(zip((real, simulated), axes, titles, strict=True)):
        panel_height = figure_size(axis)[1]
        ax = fig.add_axes(
            (
                (i * width / 2 + LEFT_INCH) / width,
                (height - panel_height + LEGEND_INCH) / height,
                (width / 2 - LEFT_INCH - RIGHT_INCH) / width,
                (panel_height - TOP_INCH - LEGEND_INCH) / height,
            )
        )
        draw_ladder(ax, trace, axis, at=None, captions=False)
        fig.text(
            (i + 0.5) / 2,
            1 - 0.12 / height,
            title,
            ha="center",
            va="top",
            fontsize=10,
            fontweight="bold",
        )
    return fig
