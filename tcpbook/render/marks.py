"""What a ladder says about each segment and timer: label texts, end marks, timer bars.

Kept apart from the drawing (:mod:`tcpbook.render.ladder`) so the words can be read and tested
without matplotlib geometry: what each segment *is* comes from the trace
(:meth:`~tcpbook.trace.Trace.outcome`, :meth:`~tcpbook.trace.Trace.captions`); this module only
says how a ladder writes it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from matplotlib.axes import Axes
from matplotlib.lines import Line2D

from ..trace import SegmentRecord, Trace
from ._style import BLACK, GREEN, GREY, LOSS_RED, ORANGE, PURPLE, SKY
from .timeaxis import seconds

TIMER_COLOUR = {
    "retransmit": SKY,
    "tlp": GREEN,
    "delayed_ack": GREY,
    "time_wait": ORANGE,
    "fin_wait_2": PURPLE,
}
#: Each timer's name in the legend, in the legend's order.
TIMER_NAME = {
    "retransmit": "retransmission timer",
    "tlp": "loss-probe timer",
    "delayed_ack": "delayed-ACK timer",
    "time_wait": "2MSL timer",
    "fin_wait_2": "FIN_WAIT_2 timer",
}


# --------------------------------------------------------------------------- segments


def caption_roles(trace: Trace) -> dict[int, str]:
    """Plain-language captions in the book's A/B dialogue, keyed by segment id.

    The words come from :meth:`Trace.captions` (one place decides what a segment is).
    """
    return trace.captions()


#: How a ladder label ends for each :data:`~tcpbook.trace.Outcome` (``taken``: nothing).
OUTCOME_TEXT = {
    "lost": " lost",
    "expired": " expired (MSL)",
    "in-flight": " (in flight)",
    "no-connection": " → no connection",
    "host-gone": " → host gone",
}


def segment_label(seg: SegmentRecord, trace: Trace) -> tuple[str, bool]:
    """The arrow's label and whether it is a warning (old segment in a new connection)."""
    text = f"#{seg.id} {seg.label}"
    if seg.retransmission:
        text += " (retransmission)"
    if seg.duplicate_of is not None:
        text += f" (copy of #{seg.duplicate_of})"
    outcome = trace.outcome(seg)
    if outcome == "old-into-new":
        return text + f"\nold segment accepted by connection {seg.delivered_to}!", True
    return text + OUTCOME_TEXT.get(outcome, ""), False


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
    """A bar's label, or None for a routine timer that was simply cancelled (a retransmission
    timer or loss probe whose segment was ACKed, a delayed ACK that another segment sent)."""
    dur = seconds(bar.duration)
    if bar.timer == "time_wait":
        text = f"2MSL = {dur} s"
    elif bar.timer == "fin_wait_2":
        text = f"FIN_WAIT_2 timer {dur} s"
    else:
        if bar.how not in ("fire", "running") and not bar.restarted:
            return None
        name = {"tlp": "loss probe", "delayed_ack": "delayed ACK"}.get(bar.timer, "RTO")
        text = f"{name} {dur} s"
    if bar.restarted:
        text += " (restarted)"
    if bar.how == "fire" and bar.timer in ("retransmit", "tlp"):
        text += ", fires"
    return text


#: The mark at the end of a segment that did not simply arrive: marker and its style.
END_MARKS: dict[str, dict[str, object]] = {
    "lost": {"marker": "x", "ms": 9, "mew": 2.6, "color": LOSS_RED},
    "no-connection": {"marker": "o", "ms": 6, "mfc": "white", "mec": BLACK, "mew": 1.2},
    "host-gone": {"marker": "s", "ms": 5.5, "mfc": GREY, "mec": BLACK, "mew": 1.0},
}
END_GID = {"lost": "drop", "no-connection": "noconn", "host-gone": "gone"}


# --------------------------------------------------------------------------- legend


def legend(ax: Axes, trace: Trace, bars: Sequence[TimerBar]) -> None:
    """Only the marks this figure uses, one line under the diagram.

    Drawn into an Axes that already has the legend for the same marks (a widget's redraw),
    the legend is kept: a matplotlib Legend costs more to build than to draw.
    """
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
    outcomes = {trace.outcome(s) for s in segs}
    for outcome, words in (("no-connection", "no connection"), ("host-gone", "host gone")):
        if outcome in outcomes:
            handle = Line2D([], [], ls="")
            handle.set(**{**END_MARKS[outcome], "ms": 5})
            items.append((handle, words))
    for timer, name in TIMER_NAME.items():
        if any(b.timer == timer for b in bars):
            items.append((Line2D([], [], color=TIMER_COLOUR[timer], lw=3.2), name))
    if any(b.how == "fire" for b in bars):
        items.append(
            (Line2D([], [], color=GREY, marker="o", mec=BLACK, ls="", ms=4.5), "timer fires")
        )
    if any(b.how in ("cancel", "restart") for b in bars):
        items.append((Line2D([], [], color=BLACK, marker="_", ls="", ms=6), "stopped"))
    old = ax.get_legend()
    key = tuple(text for _, text in items)
    if old is not None and getattr(old, "_tcpbook_key", None) == key:
        return  # a redraw into the same Axes with the same marks: the legend is as it was
    if old is not None:
        old.remove()
    if not items:
        return
    made = ax.legend(
        [h for h, _ in items],
        [t for _, t in items],
        loc="upper center",
        ncol=len(items) if len(items) <= 5 else (len(items) + 1) // 2,
        fontsize=7,
        frameon=False,
        handlelength=2.2,
        columnspacing=1.2,
        borderaxespad=0.1,
        bbox_to_anchor=(0.5, 0.0),
    )
    made._tcpbook_key = key  # type: ignore[attr-defined]
