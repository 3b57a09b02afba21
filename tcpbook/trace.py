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

#: What became of a segment at the far end, as every renderer tells it (not part of the JSON):
#: ``taken`` by its own connection; ``old-into-new``: taken by a later connection (RFC 9293
#: section 3.4.1's old duplicate); ``no-connection``: the host is up but has no connection for
#: it, and answers with RST (section 3.10.7.1) unless the segment is itself a RST; ``host-gone``:
#: nothing is there to answer (the host crashed or was unplugged).
Outcome = Literal[
    "taken", "old-into-new", "no-connection", "host-gone", "lost", "expired", "in-flight"
]

#: A segment's part in the conversation, found from flags and acknowledgement numbers.
Role = Literal[
    "syn",
    "syn-ack",
    "handshake-ack",
    "syn-retransmission",
    "fin",
    "ack-of-fin",
    "simultaneous-fin",
    "ack-and-fin",
    "second-fin",
    "last-ack",
    "last-ack-again",
    "fin-retransmission",
    "rst-no-connection",
    "rst-abort",
]

#: The plain-language A/B dialogue of the book's captions, one line per role.
CAPTIONS: dict[str, str] = {
    "syn": "Can we talk?",
    "syn-ack": "Yes. Can we?",
    "handshake-ack": "Yes.",
    "syn-retransmission": "Hello? Anyone there?",
    "fin": "I have nothing more to send.",
    "ack-of-fin": "Noted.",
    "simultaneous-fin": "I have nothing more to send either.",
    "ack-and-fin": "Noted, and I'm done too. Bye.",
    "second-fin": "I'm done too. Bye.",
    "last-ack": "Bye.",
    "last-ack-again": "Bye! (again)",
    "fin-retransmission": "Did you hear me?",
    "rst-no-connection": "Who are you? I have no such connection.",
    "rst-abort": "Stop! This connection is over.",
}

ENDPOINTS: tuple[Endpoint, Endpoint] = ("A", "B")


def _t(x: float) -> float:
    """Times in the JSON are rounded to the nanosecond so sums like 0.1 + 0.2 print as 0.3."""
    return round(x, 9)


# The records below write their own ``__init__`` (``init=False``): a run makes dozens of them,
# and the compiled core (tcpbook.native) builds a class natively only from a written one (a
# dataclass-generated ``__init__`` would run as interpreted Python). ``dataclass`` still gives
# each its fields, equality and repr.


@dataclass(slots=True, init=False)
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

    def __init__(
        self,
        id: int,
        conn: int,
        src: Endpoint,
        dst: Endpoint,
        flags: tuple[str, ...],
        seq: int,
        ack: int | None,
        len: int,
        sent: float,
        fate: Fate = "in-flight",
        arrived: float | None = None,
        delivered_to: int | None = None,
        retransmission: bool = False,
        duplicate_of: int | None = None,
    ) -> None:
        self.id = id
        self.conn = conn
        self.src = src
        self.dst = dst
        self.flags = flags
        self.seq = seq
        self.ack = ack
        self.len = len
        self.sent = sent
        self.fate = fate
        self.arrived = arrived
        self.delivered_to = delivered_to
        self.retransmission = retransmission
        self.duplicate_of = duplicate_of

    @property
    def acked_by(self) -> int:
        """The acknowledgement number that covers all of this segment (SYN and FIN count one,
        RFC 9293 section 3.4)."""
        return self.seq + self.len + ("SYN" in self.flags) + ("FIN" in self.flags)

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


@dataclass(slots=True, init=False)
class TransitionRecord:
    """An endpoint moved from one state to another; ``cause`` is the table row's event."""

    t: float
    endpoint: Endpoint
    conn: int
    src: str
    dst: str
    cause: str

    def __init__(
        self, t: float, endpoint: Endpoint, conn: int, src: str, dst: str, cause: str
    ) -> None:
        self.t = t
        self.endpoint = endpoint
        self.conn = conn
        self.src = src
        self.dst = dst
        self.cause = cause

    def to_dict(self) -> dict[str, Any]:
        return {
            "t": _t(self.t),
            "endpoint": self.endpoint,
            "conn": self.conn,
            "from": self.src,
            "to": self.dst,
            "cause": self.cause,
        }


@dataclass(slots=True, init=False)
class TimerRecord:
    """A timer started, fired or was cancelled (``deadline`` is when it would fire)."""

    t: float
    endpoint: Endpoint
    timer: str
    action: Literal["start", "fire", "cancel"]
    deadline: float | None

    def __init__(
        self,
        t: float,
        endpoint: Endpoint,
        timer: str,
        action: Literal["start", "fire", "cancel"],
        deadline: float | None,
    ) -> None:
        self.t = t
        self.endpoint = endpoint
        self.timer = timer
        self.action = action
        self.deadline = deadline

    def to_dict(self) -> dict[str, Any]:
        return {
            "t": _t(self.t),
            "endpoint": self.endpoint,
            "timer": self.timer,
            "action": self.action,
            "deadline": None if self.deadline is None else _t(self.deadline),
        }


@dataclass(slots=True, init=False)
class ErrorRecord:
    """An error the application on ``endpoint`` would see (ECONNREFUSED, ECONNRESET, ...)."""

    t: float
    endpoint: Endpoint
    error: str

    def __init__(self, t: float, endpoint: Endpoint, error: str) -> None:
        self.t = t
        self.endpoint = endpoint
        self.error = error

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
            "in-flight",  # fate, arrived, delivered_to: their defaults, passed by position
            None,
            None,
            seg.retransmission,
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
            if tr.endpoint == endpoint and tr.src != tr.dst:  # a self-loop changes no state
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

    # -- what each segment is, for every renderer (derived, never serialized) ---------------

    def answer_to(self, seg: SegmentRecord) -> SegmentRecord | None:
        """The RST the receiver sent the moment ``seg`` arrived, if it had no connection for it.

        RFC 9293 section 3.10.7.1: a CLOSED port answers everything but a RST with a RST, at
        once, so the answer is the RST its host sent at ``seg``'s arrival time.
        """
        if seg.fate != "delivered" or seg.delivered_to is not None or seg.arrived is None:
            return None
        return next(
            (
                r
                for r in self.segments
                if r.src == seg.dst and r.sent == seg.arrived and "RST" in r.flags
            ),
            None,
        )

    def cause_of(self, seg: SegmentRecord) -> SegmentRecord | None:
        """The delivered segment whose arrival at ``seg``'s sender made it send ``seg`` then."""
        return next(
            (
                r
                for r in self.segments
                if r.dst == seg.src and r.arrived == seg.sent and r.fate == "delivered"
            ),
            None,
        )

    def host_gone(self, endpoint: str, t: float) -> bool:
        """Whether ``endpoint``'s host had vanished by time ``t`` (crashed, unplugged)."""
        return any(
            tr.endpoint == endpoint and tr.cause == "host vanishes" and tr.t <= t
            for tr in self.transitions
        )

    def outcome(self, seg: SegmentRecord) -> Outcome:
        """What became of ``seg`` at the far end (see :data:`Outcome`).

        A segment no connection took is ``host-gone`` when its host had vanished, or when it
        called for a RST and got none (a host that vanished before it ever opened a
        connection leaves no transition behind); otherwise ``no-connection``.
        """
        if seg.fate == "dropped":
            return "lost"
        if seg.fate == "expired":
            return "expired"
        if seg.fate == "in-flight":
            return "in-flight"
        if seg.delivered_to is None:
            arrived = seg.arrived if seg.arrived is not None else seg.sent
            if self.host_gone(seg.dst, arrived):
                return "host-gone"
            if "RST" not in seg.flags and self.answer_to(seg) is None:
                return "host-gone"
            return "no-connection"
        if seg.delivered_to != seg.conn:
            return "old-into-new"
        return "taken"

    def roles(self) -> dict[int, Role]:
        """Each segment's part in the conversation, keyed by segment id (see :data:`Role`).

        Roles come from flags and acknowledgement numbers (first FIN, the ACK of it, the peer's
        FIN, the last ACK, a retransmitted FIN...), never from fixed segment numbers, so they
        stay right when the reader drops or delays segments. Network copies have no role of
        their own.
        """
        segs = [s for s in self.segments if s.duplicate_of is None]
        out: dict[int, Role] = {}
        self._handshake_roles(segs, out)
        for s in segs:
            if "SYN" in s.flags and s.retransmission:
                out[s.id] = "syn-retransmission"
        self._close_roles(segs, out)
        for s in segs:
            if "FIN" in s.flags and s.retransmission:
                out[s.id] = "fin-retransmission"
            if "RST" in s.flags:
                trigger = self.cause_of(s)
                no_conn = trigger is not None and trigger.delivered_to is None
                out[s.id] = "rst-no-connection" if no_conn else "rst-abort"
        return out

    @staticmethod
    def _handshake_roles(segs: list[SegmentRecord], out: dict[int, Role]) -> None:
        """SYN, the SYN,ACK that acknowledges it, and the ACK of that (RFC 9293 3.5)."""
        syn = next((s for s in segs if s.flags == ("SYN",) and not s.retransmission), None)
        if syn is None:
            return
        out[syn.id] = "syn"
        synack = next(
            (s for s in segs if set(s.flags) == {"SYN", "ACK"} and s.ack == syn.acked_by), None
        )
        if synack is None:
            return
        out[synack.id] = "syn-ack"
        third = next(
            (
                s
                for s in segs
                if s.src == syn.src and s.flags == ("ACK",) and s.ack == synack.acked_by
            ),
            None,
        )
        if third is not None:
            out[third.id] = "handshake-ack"

    @staticmethod
    def _close_roles(segs: list[SegmentRecord], out: dict[int, Role]) -> None:
        """The first FIN, its ACK, the peer's FIN and the last ACK (RFC 9293 3.6)."""
        fins = [s for s in segs if "FIN" in s.flags and not s.retransmission]
        if not fins:
            return
        first = fins[0]
        out[first.id] = "fin"
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
                and s.ack == first.acked_by
            ),
            None,
        )
        if noted is not None and (second is None or noted.sent <= second.sent):
            out[noted.id] = "ack-of-fin"
        if second is None:
            return
        if first.arrived is not None and second.sent < first.arrived:
            out[second.id] = "simultaneous-fin"
        elif second.ack == first.acked_by and (noted is None or noted.sent > second.sent):
            out[second.id] = "ack-and-fin"
        else:
            out[second.id] = "second-fin"
        byes = [
            s
            for s in segs
            if s.src == first.src
            and "FIN" not in s.flags
            and "RST" not in s.flags
            and s.ack == second.acked_by
        ]
        for i, s in enumerate(byes):
            out[s.id] = "last-ack" if i == 0 else "last-ack-again"

    def captions(self) -> dict[int, str]:
        """The A/B dialogue of the book's figures, keyed by segment id (from :meth:`roles`)."""
        return {sid: CAPTIONS[role] for sid, role in self.roles().items()}


# --------------------------------------------------------------------------- how a side ended

#: How an endpoint that reached CLOSED got there, by the table event that took it there
#: (``tcpbook.states.TRANSITIONS``), in the words a status line uses.
_ENDINGS: dict[str, str] = {
    "timeout 2MSL": "closed cleanly after TIME_WAIT",
    "rcv ACK of FIN": "closed cleanly (its FIN was acknowledged)",
    "rcv RST": "was reset",
    "rcv RST after active OPEN": "was reset during a simultaneous open",
    "timeout retransmit": "gave up retransmitting",
    "timeout retransmit after active OPEN": "gave up retransmitting",
    "rcv SYN above RCV.NXT": "TIME_WAIT ended by a new connection's SYN",
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
