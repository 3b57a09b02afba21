"""Named scenarios: short scripts of what the applications on A and B do, and when.

A step runs either at a fixed time (``at``) or a little ``after`` its endpoint first enters a
state (``on``), so a script stays meaningful when the reader drops or delays segments: "B closes
0.2 s after it learns A has finished" rather than "B closes at 0.85 s".
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .states import State

if TYPE_CHECKING:
    from .sim import Simulator
    from .trace import SegmentRecord

S = State


@dataclass(frozen=True)
class Step:
    """``endpoint`` makes ``call`` (listen, connect, send, read, close, shutdown, abort, vanish)."""

    endpoint: str
    call: str
    arg: int = 0
    at: float | None = None
    on: State | None = None
    after: float = 0.0


@dataclass(frozen=True)
class Scenario:
    """A named script plus the defaults that make its story happen."""

    name: str
    description: str
    steps: tuple[Step, ...]
    config: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    defaults: Callable[[float], dict[str, Any]] | None = None
    drop_rule: Callable[[SegmentRecord, Simulator], bool] | None = None
    drop_text: str = ""


def _at(endpoint: str, call: str, t: float, arg: int = 0) -> Step:
    return Step(endpoint, call, arg, at=t)


def _on(endpoint: str, state: State, after: float, call: str, arg: int = 0) -> Step:
    return Step(endpoint, call, arg, on=state, after=after)


_OPEN = (_at("B", "listen", 0.0), _at("A", "connect", 0.0))
_DATA = (_on("A", S.ESTABLISHED, 0.1, "send", 100), _on("B", S.ESTABLISHED, 0.2, "send", 200))
_CLOSE = (_on("A", S.ESTABLISHED, 0.5, "close"), _on("B", S.CLOSE_WAIT, 0.2, "close"))


def _a_acks_in_time_wait(rec: SegmentRecord, sim: Simulator) -> bool:
    tcb = sim.hosts["A"].tcb
    return rec.src == "A" and tcb is not None and tcb.state is S.TIME_WAIT


SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in (
        Scenario(
            "handshake",
            "Three-way handshake: A connects to B, which is listening.",
            _OPEN,
        ),
        Scenario(
            "close",
            "Handshake, a little data each way, A closes, B closes a moment later.",
            _OPEN + _DATA + _CLOSE,
        ),
        Scenario(
            "half-close",
            "A shuts down writing; B keeps sending data for a while, then closes.",
            (
                *_OPEN,
                _on("A", S.ESTABLISHED, 0.1, "send", 100),
                _on("A", S.ESTABLISHED, 0.3, "shutdown"),
                _on("B", S.CLOSE_WAIT, 0.1, "send", 300),
                _on("B", S.CLOSE_WAIT, 0.3, "send", 300),
                _on("B", S.CLOSE_WAIT, 0.6, "close"),
            ),
        ),
        Scenario(
            "fin-ack",
            "B closes as soon as it reads A's FIN, so its FIN also carries the ACK: three "
            "segments close the connection.",
            _OPEN + _DATA + (_on("A", S.ESTABLISHED, 0.5, "close"),),
            config={"B": {"close_on_eof": True}},
        ),
        Scenario(
            "simultaneous-open",
            "A and B both connect at the same moment; their SYNs cross.",
            (_at("A", "connect", 0.0), _at("B", "connect", 0.0)),
        ),
        Scenario(
            "simultaneous-close",
            "A and B both close at the same moment; their FINs cross (CLOSING, two TIME_WAITs).",
            (*_OPEN, _at("A", "close", 1.0), _at("B", "close", 1.0)),
        ),
        Scenario(
            "fin-wait-2-hang",
            "B acknowledges A's FIN but never closes: A waits in FIN_WAIT_2 (see --fin-timeout).",
            (*_OPEN, _on("A", S.ESTABLISHED, 0.5, "close")),
        ),
        Scenario(
            "late-fin",
            "Every ACK of B's FIN is lost; once a retransmitted FIN arrives after A's 2MSL, A "
            "has forgotten the connection and answers with RST.",
            _OPEN + _DATA + _CLOSE,
            drop_rule=_a_acks_in_time_wait,
            drop_text="every segment A sends in TIME_WAIT is lost",
        ),
        Scenario(
            "old-duplicate",
            "A segment of a first connection is delayed in the network; a second connection "
            "then reuses the same address/port pair (try --skip-time-wait).",
            (
                _at("B", "listen", 0.0),
                _on("B", S.CLOSED, 0.0, "listen"),
                _at("A", "connect", 0.0),
                _on("B", S.ESTABLISHED, 0.05, "send", 100),
                _on("A", S.ESTABLISHED, 1.5, "close"),
                _on("B", S.CLOSE_WAIT, 0.2, "close"),
                _at("A", "connect", 2.0),
            ),
            defaults=lambda msl: {"delay": {4: 0.8 * msl}},
        ),
        Scenario(
            "refused",
            "A connects to a port where nobody listens: RST,ACK and ECONNREFUSED.",
            (_at("A", "connect", 0.0),),
        ),
        Scenario(
            "no-answer",
            "A connects to a host that has vanished: SYN retransmitted with backoff, then "
            "ETIMEDOUT.",
            (_at("B", "vanish", 0.0), _at("A", "connect", 0.0)),
        ),
        Scenario(
            "abort",
            "A aborts the connection (SO_LINGER with a zero timeout): RST, no FIN, no TIME_WAIT.",
            _OPEN + _DATA + (_on("A", S.ESTABLISHED, 0.5, "abort"),),
        ),
        Scenario(
            "close-unread",
            "A closes while data it never read is waiting: Linux sends RST instead of FIN.",
            (
                *_OPEN,
                _on("B", S.ESTABLISHED, 0.2, "send", 200),
                _on("A", S.ESTABLISHED, 0.5, "close"),
            ),
            config={"A": {"auto_read": False}},
        ),
        Scenario(
            "a-vanishes",
            "A says goodbye and then its host vanishes: B's FIN is never answered.",
            _OPEN
            + _DATA
            + (
                _on("A", S.ESTABLISHED, 0.5, "close"),
                _on("A", S.FIN_WAIT_2, 0.1, "vanish"),
                _on("B", S.CLOSE_WAIT, 1.0, "close"),
            ),
        ),
        Scenario(
            "assassination",
            "The network duplicates A's final ACK; the copy reaches B after it closed, B "
            "answers RST, and the RST ends A's TIME_WAIT early (try --rfc1337).",
            _OPEN + _DATA + _CLOSE,
            defaults=lambda msl: {"duplicate": {11: 2.0}},
        ),
    )
}


def get(name: str) -> Scenario:
    """The scenario called ``name``, or a one-line error listing the valid names."""
    from .errors import TcpbookError

    try:
        return SCENARIOS[name]
    except (KeyError, TypeError):
        raise TcpbookError(
            f"unknown scenario {name!r}; choose one of: {', '.join(SCENARIOS)}"
        ) from None
