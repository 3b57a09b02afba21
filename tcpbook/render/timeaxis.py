"""A compressed time axis: 50 ms hops and a 60 s TIME_WAIT readable in one picture.

Time is mapped to "rows" (one row is about one line of label text) piecewise linearly: while
segments fly, a network hop gets :data:`ROWS_PER_HOP` rows; a quiet gap longer than
:data:`GAP_HOPS` hops (a 2MSL wait, a retransmission timeout) is squeezed to :data:`BREAK_ROWS`
rows and marked as a break ("≈ 60 s later"). The ladder (time flowing down) and the timeline
(time flowing right) share one mapping, so they can be stacked and compared.
"""

from __future__ import annotations

import itertools
import math
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass

from ..trace import Trace

ROWS_PER_HOP = 1.7  # a one-way trip takes this many text rows: labels of back-to-back hops fit
GAP_HOPS = 8.0  # a quiet stretch longer than this many hops is squeezed ...
BREAK_ROWS = 3.0  # ... to this many rows
DEFAULT_HOP = 0.05  # seconds, when a trace has no usable latency (tcpbook.sim.LATENCY)
MIN_HOP = 0.005  # a latency of 0 would make every hop zero rows high


@dataclass(frozen=True)
class TimeAxis:
    """A monotone piecewise-linear map from seconds to rows, with squeezed breaks."""

    knots_t: tuple[float, ...]
    knots_y: tuple[float, ...]
    breaks: tuple[tuple[float, float], ...]
    rows_per_second: float

    @classmethod
    def for_times(
        cls,
        times: Iterable[float],
        *,
        hop: float = DEFAULT_HOP,
        rows_per_hop: float | None = None,
        gap_hops: float = GAP_HOPS,
        break_rows: float = BREAK_ROWS,
    ) -> TimeAxis:
        """The mapping in which the events at ``times`` get linear room and gaps are squeezed."""
        hop = max(hop, MIN_HOP)
        scale = (rows_per_hop or ROWS_PER_HOP) / hop
        threshold = gap_hops * hop
        ts = sorted({round(t, 9) for t in times if math.isfinite(t)} | {0.0})
        knots_t = [ts[0]]
        knots_y = [0.0]
        breaks: list[tuple[float, float]] = []
        for a, b in itertools.pairwise(ts):
            gap = b - a
            if gap > threshold:
                breaks.append((a, b))
                knots_y.append(knots_y[-1] + break_rows)
            else:
                knots_y.append(knots_y[-1] + gap * scale)
            knots_t.append(b)
        return cls(tuple(knots_t), tuple(knots_y), tuple(breaks), scale)

    @classmethod
    def for_trace(cls, trace: Trace, *, rows_per_hop: float | None = None) -> TimeAxis:
        """The mapping for everything drawn of ``trace``: sends, arrivals, changes, timers."""
        return cls.for_times(event_times(trace), hop=hop_of(trace), rows_per_hop=rows_per_hop)

    def __call__(self, t: float) -> float:
        """Rows from the top for time ``t`` (linear beyond the ends)."""
        kt, ky = self.knots_t, self.knots_y
        if t <= kt[0] or len(kt) == 1:
            return ky[0] + (t - kt[0]) * self.rows_per_second
        if t >= kt[-1]:
            return ky[-1] + (t - kt[-1]) * self.rows_per_second
        i = bisect_right(kt, t) - 1
        t0, t1, y0, y1 = kt[i], kt[i + 1], ky[i], ky[i + 1]
        return y0 + (t - t0) * (y1 - y0) / (t1 - t0)

    def time_at(self, y: float) -> float:
        """The inverse map: the time drawn ``y`` rows from the top."""
        kt, ky = self.knots_t, self.knots_y
        if y <= ky[0] or len(kt) == 1:
            return kt[0] + (y - ky[0]) / self.rows_per_second
        if y >= ky[-1]:
            return kt[-1] + (y - ky[-1]) / self.rows_per_second
        i = bisect_right(ky, y) - 1
        t0, t1, y0, y1 = kt[i], kt[i + 1], ky[i], ky[i + 1]
        return t0 + (y - y0) * (t1 - t0) / (y1 - y0)

    @property
    def height(self) -> float:
        """Rows from the first to the last event."""
        return self.knots_y[-1] - self.knots_y[0]

    def ticks(self, min_rows: float = 4.0) -> list[tuple[float, str]]:
        """``(row, label)`` pairs in real seconds: round steps inside linear stretches, and the
        exact time at which each stretch after a break begins."""
        step = _nice(min_rows / self.rows_per_second)
        out: list[tuple[float, str]] = []
        runs: list[tuple[float, float]] = []
        start = self.knots_t[0]
        for a, b in self.breaks:
            runs.append((start, a))
            start = b
        runs.append((start, self.knots_t[-1]))
        for i, (a, b) in enumerate(runs):
            candidates = [a] if i else []
            k = math.ceil(a / step - 1e-9)
            while k * step <= b + 1e-9:
                candidates.append(k * step)
                k += 1
            for t in candidates:
                y = self(t)
                if out and y - out[-1][0] < 1.6:
                    continue
                out.append((y, seconds(t)))
        return out


def _nice(x: float) -> float:
    """The smallest of 1, 2, 5 times a power of ten that is at least ``x``."""
    power = 10.0 ** math.floor(math.log10(x))
    for m in (1.0, 2.0, 5.0, 10.0):
        if m * power >= x - 1e-12:
            return m * power
    return 10 * power


def seconds(t: float) -> str:
    """``0.85`` -> ``"0.85"``, ``60.9`` -> ``"60.9"``, ``61.0`` -> ``"61"`` (up to ms)."""
    text = f"{t:.3f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def gap_text(seconds_: float) -> str:
    """The label of a break: ``≈ 60 s later``."""
    if seconds_ >= 10:
        return f"≈ {seconds_:.0f} s later"
    return f"≈ {seconds_:.1f} s later"


def hop_of(trace: Trace) -> float:
    """The one-way network delay of the run (the ``latency`` parameter)."""
    latency = trace.params.get("latency", DEFAULT_HOP)
    try:
        value = float(latency)
    except (TypeError, ValueError):
        return DEFAULT_HOP
    return value if value > 0 and math.isfinite(value) else DEFAULT_HOP


def flight_of(trace: Trace, segment_id: int) -> float:
    """How long segment ``segment_id`` was meant to fly: latency plus any extra delay asked for."""
    delay = trace.params.get("delay") or {}
    try:
        extra = float(delay.get(str(segment_id), delay.get(segment_id, 0.0)))
    except (TypeError, ValueError, AttributeError):
        extra = 0.0
    latency = trace.params.get("latency", DEFAULT_HOP)
    return float(latency) + extra


def segment_end(trace: Trace, seg_id: int) -> tuple[float, float]:
    """Where a segment's line ends: ``(time, fraction of the way across)``.

    Delivered: at its arrival, all the way. Lost: half a hop after sending, part-way. Expired:
    MSL after sending (RFC 9293 3.4.1), as far as it got. Still flying when the run stopped: at
    the end of the run.
    """
    seg = trace.segments[seg_id - 1]
    flight = flight_of(trace, seg_id)
    if seg.duplicate_of is not None:
        flight = max(flight, (seg.arrived or seg.sent) - seg.sent)
    if seg.fate == "delivered" and seg.arrived is not None:
        return seg.arrived, 1.0
    if seg.fate == "dropped":
        return seg.sent + 0.45 * hop_of(trace), 0.45
    if seg.fate == "expired":
        msl = float(trace.params.get("msl", 30.0))
        return seg.sent + msl, min(0.85, max(0.25, msl / flight if flight > 0 else 0.6))
    end = max(drawn_end(trace), seg.sent)
    frac = (end - seg.sent) / flight if flight > 0 else 0.5
    return end, min(0.85, max(0.15, frac))


def drawn_end(trace: Trace) -> float:
    """Where the time lines stop: the last thing that happened, or the ``until`` of the run.

    (A run may end later, at the deadline of a timer nobody was waiting for any more.)
    """
    if trace.params.get("until") is not None or any(
        state != "CLOSED" for state in trace.final.values()
    ):
        return trace.end  # still connected: the wait itself is the story
    last = [0.0]
    for seg in trace.segments:
        last.append(seg.sent)
        if seg.arrived is not None:
            last.append(seg.arrived)
    last.extend(tr.t for tr in trace.transitions)
    last.extend(tm.t for tm in trace.timers)
    last.extend(err.t for err in trace.errors)
    return min(max(last), trace.end) if trace.end > 0 else max(last)


def event_times(trace: Trace) -> list[float]:
    """Every time at which something is drawn."""
    times: list[float] = [0.0, drawn_end(trace)]
    for seg in trace.segments:
        times.append(seg.sent)
        times.append(segment_end(trace, seg.id)[0])
    times.extend(tr.t for tr in trace.transitions)
    for tm in trace.timers:
        times.append(tm.t)
    times.extend(err.t for err in trace.errors)
    return times


__all__ = [
    "BREAK_ROWS",
    "GAP_HOPS",
    "ROWS_PER_HOP",
    "TimeAxis",
    "event_times",
    "gap_text",
    "seconds",
    "segment_end",
]
