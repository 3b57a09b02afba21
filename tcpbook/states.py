"""TCP connection states and the one transition table everything else reads.

The endpoint takes its next state from these rows (:func:`next_state`: one destination for each
``(state, event)``, as h11's table does), so a move that is not a row cannot happen: it raises
:class:`~tcpbook.errors.ProtocolError`. The state diagram is drawn from these rows, and
``python -m tcpbook states --json`` prints them. Rows come from RFC 9293
Figure 5 and its event processing (section 3.10); rows marked ``source="Linux"`` are where the
RFC leaves a choice (or says nothing) and tcpbook follows the Linux kernel.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Final

from .errors import ProtocolError


class State(str, Enum):
    """The eleven states of RFC 9293 section 3.3.2, named exactly as the RFC names them."""

    CLOSED = "CLOSED"
    LISTEN = "LISTEN"
    SYN_SENT = "SYN_SENT"
    SYN_RECEIVED = "SYN_RECEIVED"
    ESTABLISHED = "ESTABLISHED"
    FIN_WAIT_1 = "FIN_WAIT_1"
    FIN_WAIT_2 = "FIN_WAIT_2"
    CLOSE_WAIT = "CLOSE_WAIT"
    CLOSING = "CLOSING"
    LAST_ACK = "LAST_ACK"
    TIME_WAIT = "TIME_WAIT"

    def __str__(self) -> str:
        return self.value


S = State


#: The same members as module attributes (``states.CLOSED is State.CLOSED``): on Python 3.11 the
#: Enum metaclass defines ``__getattr__``, so each ``State.X`` read takes several type lookups,
#: while a module attribute read is one dictionary hit. The endpoint reads states on every
#: segment, as ``S.X`` with ``import tcpbook.states as S``.
CLOSED: Final = State.CLOSED
LISTEN: Final = State.LISTEN
SYN_SENT: Final = State.SYN_SENT
SYN_RECEIVED: Final = State.SYN_RECEIVED
ESTABLISHED: Final = State.ESTABLISHED
FIN_WAIT_1: Final = State.FIN_WAIT_1
FIN_WAIT_2: Final = State.FIN_WAIT_2
CLOSE_WAIT: Final = State.CLOSE_WAIT
CLOSING: Final = State.CLOSING
LAST_ACK: Final = State.LAST_ACK
TIME_WAIT: Final = State.TIME_WAIT


#: States in which both sides' sequence numbers are known (RFC 9293 section 3.10.7.4).
SYNCHRONIZED: tuple[State, ...] = (
    S.ESTABLISHED,
    S.FIN_WAIT_1,
    S.FIN_WAIT_2,
    S.CLOSE_WAIT,
    S.CLOSING,
    S.LAST_ACK,
    S.TIME_WAIT,
)


@dataclass(frozen=True)
class Transition:
    """One row: in state ``src``, ``event`` happens, the endpoint sends ``send`` and is in ``dst``.

    ``main`` rows are the arrows of the RFC's figure; the others (aborts, resets, timeouts) hold
    for many states at once and are drawn lighter.
    """

    src: State
    event: str
    send: str
    dst: State
    section: str
    source: str = "RFC 9293"
    main: bool = True

    def to_dict(self) -> dict[str, str | bool]:
        return {
            "from": self.src.value,
            "to": self.dst.value,
            "event": self.event,
            "send": self.send,
            "section": self.section,
            "source": self.source,
            "main": self.main,
        }


def _row(
    src: State,
    event: str,
    send: str,
    dst: State,
    section: str,
    source: str = "RFC 9293",
    main: bool = True,
) -> Transition:
    return Transition(src, event, send, dst, section, source, main)


# Rules. Read top to bottom, this is TCP's connection management.
TRANSITIONS: tuple[Transition, ...] = (
    # Opening (RFC 9293 Figure 5, section 3.10.1 OPEN, 3.10.7.2-3 segment arrives)
    _row(S.CLOSED, "passive OPEN", "-", S.LISTEN, "3.10.1"),
    _row(S.CLOSED, "active OPEN", "SYN", S.SYN_SENT, "3.10.1"),
    _row(S.LISTEN, "rcv SYN", "SYN,ACK", S.SYN_RECEIVED, "3.10.7.2"),
    _row(S.LISTEN, "SEND", "SYN", S.SYN_SENT, "3.10.2"),
    _row(S.LISTEN, "CLOSE", "-", S.CLOSED, "3.10.4"),
    _row(S.SYN_SENT, "rcv SYN", "SYN,ACK", S.SYN_RECEIVED, "3.10.7.3"),
    _row(S.SYN_SENT, "rcv SYN,ACK", "ACK", S.ESTABLISHED, "3.10.7.3"),
    _row(S.SYN_SENT, "CLOSE", "-", S.CLOSED, "3.10.4"),
    _row(S.SYN_RECEIVED, "rcv ACK of SYN", "-", S.ESTABLISHED, "3.10.7.4"),
    _row(S.SYN_RECEIVED, "CLOSE", "FIN", S.FIN_WAIT_1, "3.10.4"),
    _row(S.SYN_RECEIVED, "rcv RST", "-", S.LISTEN, "3.10.7.4"),
    # Closing (RFC 9293 Figure 5, section 3.10.4 CLOSE, 3.10.7.4 fifth and eighth steps)
    _row(S.ESTABLISHED, "CLOSE", "FIN", S.FIN_WAIT_1, "3.10.4"),
    _row(S.ESTABLISHED, "rcv FIN", "ACK", S.CLOSE_WAIT, "3.10.7.4"),
    _row(S.FIN_WAIT_1, "rcv ACK of FIN", "-", S.FIN_WAIT_2, "3.10.7.4"),
    _row(S.FIN_WAIT_1, "rcv FIN", "ACK", S.CLOSING, "3.10.7.4"),
    _row(S.FIN_WAIT_1, "rcv FIN,ACK of FIN", "ACK", S.TIME_WAIT, "3.10.7.4"),
    _row(S.FIN_WAIT_2, "rcv FIN", "ACK", S.TIME_WAIT, "3.10.7.4"),
    _row(S.CLOSING, "rcv ACK of FIN", "-", S.TIME_WAIT, "3.10.7.4"),
    _row(S.CLOSE_WAIT, "CLOSE", "FIN", S.LAST_ACK, "3.10.4"),
    _row(S.LAST_ACK, "rcv ACK of FIN", "-", S.CLOSED, "3.10.7.4"),
    _row(S.TIME_WAIT, "timeout 2MSL", "-", S.CLOSED, "3.10.8"),
    _row(S.TIME_WAIT, "rcv FIN", "ACK", S.TIME_WAIT, "3.10.7.4"),
    # Linux: an orphaned FIN_WAIT_2 socket is dropped after tcp_fin_timeout; the RFC has no timer.
    _row(S.FIN_WAIT_2, "timeout FIN_WAIT_2", "-", S.CLOSED, "3.10.7.4", "Linux", False),
    # A new SYN above the old RCV.NXT ends TIME_WAIT and is handed to the listener (RFC 1122
    # 4.2.2.13, RFC 6191; Linux tcp_timewait_state_process, FreeBSD tcp_twcheck).
    _row(S.TIME_WAIT, "rcv SYN above RCV.NXT", "-", S.CLOSED, "3.10.7.4", "Linux", False),
    # Linux: skipping TIME_WAIT (a teaching switch, like SO_LINGER tricks) closes at once.
    _row(S.TIME_WAIT, "skip TIME_WAIT", "-", S.CLOSED, "3.10.8", "tcpbook", False),
    # SYN_RECEIVED reached by simultaneous open (an active OPEN) goes back to CLOSED on RST
    # (3.10.7.4 second: "the connection was refused"); from LISTEN it goes back to LISTEN.
    _row(S.SYN_RECEIVED, "rcv RST after active OPEN", "-", S.CLOSED, "3.10.7.4", main=False),
    # Linux: a half-open request whose SYN,ACK is never answered is dropped; the listener stays.
    _row(S.SYN_RECEIVED, "timeout retransmit", "-", S.LISTEN, "3.8.3", "Linux"),
    # A RST answering our SYN: connection refused (3.10.7.3).
    _row(S.SYN_SENT, "rcv RST", "-", S.CLOSED, "3.10.7.3", main=False),
    # A simultaneous open (no listener to fall back to) that gives up is closed.
    _row(
        S.SYN_RECEIVED, "timeout retransmit after active OPEN", "-", S.CLOSED, "3.8.3", main=False
    ),
    # Retransmission gives up (RFC 9293 3.8.3 R2; Linux tcp_syn_retries / tcp_retries2).
    *(
        _row(st, "timeout retransmit", "-", S.CLOSED, "3.8.3", main=False)
        for st in (
            S.SYN_SENT,
            S.ESTABLISHED,
            S.FIN_WAIT_1,
            S.CLOSE_WAIT,
            S.CLOSING,
            S.LAST_ACK,
        )
    ),
    # ABORT in any state with a connection: RST if synchronized (3.10.5).
    _row(S.LISTEN, "ABORT", "-", S.CLOSED, "3.10.5", main=False),
    _row(S.SYN_SENT, "ABORT", "-", S.CLOSED, "3.10.5", main=False),
    *(
        _row(st, "ABORT", "RST", S.CLOSED, "3.10.5", main=False)
        for st in (S.SYN_RECEIVED, S.ESTABLISHED, S.FIN_WAIT_1, S.FIN_WAIT_2, S.CLOSE_WAIT)
    ),
    *(
        _row(st, "ABORT", "-", S.CLOSED, "3.10.5", main=False)
        for st in (S.CLOSING, S.LAST_ACK, S.TIME_WAIT)
    ),
    # An acceptable RST ends any synchronized connection (3.10.7.4 second check).
    # In TIME_WAIT this is "TIME-WAIT assassination"; with RFC 1337 on it is ignored instead.
    *(_row(st, "rcv RST", "-", S.CLOSED, "3.10.7.4", main=False) for st in SYNCHRONIZED),
    # A host that crashes or is unplugged keeps no state and sends nothing (a side that "runs off").
    *(
        _row(st, "host vanishes", "-", S.CLOSED, "3.5", "tcpbook", False)
        for st in State
        if st is not S.CLOSED
    ),
    # Linux (RFC 2525 2.17): close() with unread data, or data for a closed socket, sends RST.
    *(
        _row(st, "CLOSE with unread data", "RST", S.CLOSED, "3.10.4", "Linux", False)
        for st in SYNCHRONIZED
        if st is not S.TIME_WAIT
    ),
    *(
        _row(st, "rcv data after CLOSE", "RST", S.CLOSED, "3.10.7.4", "Linux", False)
        for st in (S.FIN_WAIT_1, S.FIN_WAIT_2)
    ),
)

#: Every (from, event, to) of the table.
ROWS: frozenset[tuple[State, str, State]] = frozenset((t.src, t.event, t.dst) for t in TRANSITIONS)

#: ``(from, event) -> to``: the table as the endpoint reads it. Each pair has one destination.
NEXT: dict[tuple[State, str], State] = {(t.src, t.event): t.dst for t in TRANSITIONS}
if len(NEXT) != len(TRANSITIONS):  # pragma: no cover - a table edit that breaks the contract
    raise ProtocolError("the transition table has a (state, event) pair with two destinations")


def next_state(src: State, event: str) -> State:
    """The state ``event`` leads to from ``src``; :class:`ProtocolError` if no row allows it."""
    try:
        return NEXT[(src, event)]
    except KeyError:
        raise ProtocolError(f"no transition from {src} on {event!r}") from None


def allowed(src: State, event: str, dst: State) -> bool:
    """True when the table has a row leading from ``src`` to ``dst`` on ``event``."""
    return (src, event, dst) in ROWS


def table() -> list[dict[str, str | bool]]:
    """The transition table as plain dicts (the ``states --json`` contract)."""
    return [t.to_dict() for t in TRANSITIONS]
