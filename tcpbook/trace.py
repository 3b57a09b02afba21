"""The record of one simulated run: every segment, state change, timer and error.

A :class:`Trace` is what every figure, widget and exercise is a view of. ``Trace.to_dict()``
is the JSON contract of ``python -m tcpbook run SCENARIO --json``.
"""

from __future__ import annotations

import itertools
import json
from bisect import bisect_right
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from .endpoint import Segment

Endpoint = Literal["A", "B"]
Fate = Literal["delivered", "dropped", "expired", "in-flight"]

ENDPOINTS: tuple[Endpoint, Endpoint] = ("A", "B")


def _t(x: float) -> float:
    """Times in the JSON are rounded to the nanosecond so sums like 0.1 + 0.2 print as 0.3."""
    return round(x, 9)


@dataclass(slots=True)
class SegmentRecord:
    """One segment put on the wire, numbered in send order over the whole run (from 1)."""

    id: int
    conn: int
    src: Endpoint
    dst: Endpoint
    flags: tuple[str, ...]
    seq: int
    ack: int | None
    len: int
    sent: float
    fate: Fate = "in-flight"
    arrived: float | None = None
    delivered_to: int | None = None
    retransmission: bool = False
    duplicate_of: int | None = None

    @property
    def label(self) -> str:
        """Short wire notation, e.g. ``FIN,ACK seq=1101 ack=5051``."""
        text = f"{','.join(self.flags)} seq={self.seq}"
        if self.ack is not None:
            text += f" ack={self.ack}"
        if self.len:
            text += f" len={self.len}"
        return text

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "conn": self.conn,
            "src": self.src,
            "dst": self.dst,
            "flags": list(self.flags),
            "seq": self.seq,
            "ack": self.ack,
            "len": self.len,
            "sent": _t(self.sent),
            "fate": self.fate,
            "arrived": None if self.arrived is None else _t(self.arrived),
            "delivered_to": self.delivered_to,
            "retransmission": self.retransmission,
            "duplicate_of": self.duplicate_of,
        }


@dataclass(slots=True)
class TransitionRecord:
    """An endpoint moved from one state to another; ``cause`` is the table row's event."""

    t: float
    endpoint: Endpoint
    conn: int
    src: str
    dst: str
    cause: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "t": _t(self.t),
            "endpoint": self.endpoint,
            "conn": self.conn,
            "from": self.src,
            "to": self.dst,
            "cause": self.cause,
        }


@dataclass(slots=True)
class TimerRecord:
    """A timer started, fired or was cancelled (``deadline`` is when it would fire)."""

    t: float
    endpoint: Endpoint
    timer: str
    action: Literal["start", "fire", "cancel"]
    deadline: float | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "t": _t(self.t),
            "endpoint": self.endpoint,
            "timer": self.timer,
            "action": self.action,
            "deadline": None if self.deadline is None else _t(self.deadline),
        }


@dataclass(slots=True)
class ErrorRecord:
    """An error the application on ``endpoint`` would see (ECONNREFUSED, ECONNRESET, ...)."""

    t: float
    endpoint: Endpoint
    error: str

    def to_dict(self) -> dict[str, Any]:
        return {"t": _t(self.t), "endpoint": self.endpoint, "error": self.error}


@dataclass(slots=True)
class Trace:
    """Everything that happened in one run, in time order within each list."""

    scenario: str
    params: dict[str, Any]
    segments: list[SegmentRecord] = field(default_factory=list)
    transitions: list[TransitionRecord] = field(default_factory=list)
    timers: list[TimerRecord] = field(default_factory=list)
    errors: list[ErrorRecord] = field(default_factory=list)
    final: dict[str, str] = field(default_factory=dict)
    end: float = 0.0

    def add_segment(self, seg: Segment, src: Endpoint, conn: int, sent: float) -> SegmentRecord:
        """Record ``seg`` as the next segment sent (numbered from 1 in send order, as --drop)."""
        rec = SegmentRecord(
            len(self.segments) + 1,
            conn,
            src,
            "B" if src == "A" else "A",
            seg.flags,
            seg.seq,
            seg.ack,
            seg.len,
            sent,
            retransmission=seg.retransmission,
        )
        self.segments.append(rec)
        return rec

    def to_dict(self) -> dict[str, Any]:
        """The ``run --json`` object (see trace.schema.json)."""
        return {
            "scenario": self.scenario,
            "params": dict(self.params),
            "segments": [s.to_dict() for s in self.segments],
            "transitions": [t.to_dict() for t in self.transitions],
            "timers": [t.to_dict() for t in self.timers],
            "errors": [e.to_dict() for e in self.errors],
            "final": dict(self.final),
        }

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    # -- questions a reader asks of a run -------------------------------------------------

    def history(self, endpoint: str) -> list[tuple[float, str]]:
        """``[(t, state), ...]`` for one endpoint, starting with ``(0.0, "CLOSED")``."""
        steps: list[tuple[float, str]] = [(0.0, "CLOSED")]
        for tr in self.transitions:
            if tr.endpoint == endpoint:
                steps.append((tr.t, tr.dst))
        return steps

    def state_at(self, endpoint: str, t: float) -> str:
        """The state ``endpoint`` is in at time ``t`` (after every change made at ``t``)."""
        steps = self.history(endpoint)
        index = bisect_right([s[0] for s in steps], t) - 1
        return steps[max(index, 0)][1]

    def path(self, endpoint: str) -> list[str]:
        """The states ``endpoint`` went through, in order, starting at CLOSED."""
        return [state for _, state in self.history(endpoint)]

    def segment(self, number: int) -> SegmentRecord:
        """The segment with send-order ``number`` (1-based)."""
        return self.segments[number - 1]

    def time_in(self, endpoint: str, state: str) -> float:
        """Total seconds ``endpoint`` spent in ``state`` (until the end of the run)."""
        steps = [*self.history(endpoint), (self.end, "")]
        return sum(b[0] - a[0] for a, b in itertools.pairwise(steps) if a[1] == state)


# --------------------------------------------------------------------------- how a side ended

#: How an endpoint that reached CLOSED got there, by the table event that took it there
#: (``tcpbook.states.TRANSITIONS``), in the words a status line uses.
_ENDINGS: dict[str, str] = {
    "timeout 2MSL": "closed cleanly after TIME_WAIT",
    "rcv ACK of FIN": "closed cleanly (its FIN was acknowledged)",
    "rcv RST": "was reset",
    "timeout retransmit": "gave up retransmitting",
    "host vanishes": "host gone",
    "ABORT": "aborted (sent RST)",
    "CLOSE with unread data": "closed with unread data (sent RST)",
    "rcv data after CLOSE": "sent RST: data arrived after close()",
    "timeout FIN_WAIT_2": "gave up waiting for the peer's FIN (FIN_WAIT_2 timeout)",
    "skip TIME_WAIT": "closed at once, skipping TIME_WAIT",
    "CLOSE": "closed before a connection was made",
}


def ending(trace: Trace, endpoint: str) -> str:
    """How ``endpoint`` finished the run, in words: ``"closed cleanly after TIME_WAIT"``,
    ``"was reset (ECONNRESET)"``, ``"gave up retransmitting (ETIMEDOUT)"``, ``"host gone"``,
    ``"still in FIN_WAIT_2"``...

    Read from the trace alone: the event of the endpoint's last transition (the table row that
    closed it) and the error its application saw then. A RST that ends TIME_WAIT is named as
    such (RFC 1337's "TIME-WAIT assassination").
    """
    final = trace.final.get(endpoint) or trace.path(endpoint)[-1]
    last = next((tr for tr in reversed(trace.transitions) if tr.endpoint == endpoint), None)
    if last is None:
        return "never opened"
    if final != "CLOSED" or last.dst != "CLOSED":
        return f"still in {final}"
    if last.src == "TIME_WAIT" and last.cause == "rcv RST":
        return "TIME_WAIT cut short by a RST"
    if last.src == "SYN_SENT" and last.cause == "rcv RST":
        return "connection refused (ECONNREFUSED)"
    text = _ENDINGS.get(last.cause, f"closed ({last.cause})")
    seen = [e.error for e in trace.errors if e.endpoint == endpoint and abs(e.t - last.t) < 1e-9]
    if seen:
        text += f" ({seen[-1]})"
    return text
