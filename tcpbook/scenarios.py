"""Named scenarios: short scripts of what the applications on A and B do, and when.

A step runs either at a fixed time (``at``) or a little ``after`` its endpoint first enters a
state (``on``), so a script stays meaningful when the reader drops or delays segments: "B closes
0.2 s after it learns A has finished" rather than "B closes at 0.85 s".
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal

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
    #: The options :func:`exchange` built ``steps`` from (``None``: a fixed script).
    options: Mapping[str, Any] | None = None


def _at(endpoint: str, call: str, t: float, arg: int = 0) -> Step:
    return Step(endpoint, call, arg, at=t)


def _on(endpoint: str, state: State, after: float, call: str, arg: int = 0) -> Step:
    return Step(endpoint, call, arg, on=state, after=after)


_OPEN = (_at("B", "listen", 0.0), _at("A", "connect", 0.0))


def exchange(
    *,
    a_bytes: int = 100,
    b_bytes: int = 200,
    a_send_after: float = 0.1,
    b_send_after: float = 0.2,
    a_end: Literal["close", "shutdown", "abort"] = "close",
    a_end_after: float = 0.5,
    b_sends_after_eof: tuple[tuple[float, int], ...] = (),
    b_close_after_eof: float | None = 0.2,
) -> tuple[Step, ...]:
    """The script most scenarios share: A connects, each side sends once, A ends, B answers.

    Times count from the moment the endpoint reaches ESTABLISHED (sends, A's end) or reads
    end-of-file, i.e. enters CLOSE_WAIT (B's sends and close). ``a_end`` is close(),
    shutdown(SHUT_WR) or an abort (SO_LINGER with a zero timeout); ``b_close_after_eof=None``
    leaves B's socket open. A byte count of 0 sends nothing.
    """
    steps = list(_OPEN)
    if a_bytes:
        steps.append(_on("A", S.ESTABLISHED, a_send_after, "send", a_bytes))
    if b_bytes:
        steps.append(_on("B", S.ESTABLISHED, b_send_after, "send", b_bytes))
    steps.append(_on("A", S.ESTABLISHED, a_end_after, a_end))
    steps.extend(_on("B", S.CLOSE_WAIT, after, "send", n) for after, n in b_sends_after_eof)
    if b_close_after_eof is not None:
        steps.append(_on("B", S.CLOSE_WAIT, b_close_after_eof, "close"))
    return tuple(steps)


def _exchange_scenario(name: str, description: str, **options: Any) -> Scenario:
    extra = {
        k: options.pop(k) for k in ("config", "defaults", "drop_rule", "drop_text") if k in options
    }
    return Scenario(name, description, exchange(**options), options=options, **extra)


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
        _exchange_scenario(
            "close",
            "Handshake, a little data each way, A closes, B closes a moment later.",
        ),
        _exchange_scenario(
            "half-close",
            "A shuts down writing; B keeps sending data for a while, then closes.",
            b_bytes=0,
            a_end="shutdown",
            a_end_after=0.3,
            b_sends_after_eof=((0.1, 300), (0.3, 300)),
            b_close_after_eof=0.6,
        ),
        _exchange_scenario(
            "fin-ack",
            "B closes as soon as it reads A's FIN, so its FIN also carries the ACK: three "
            "segments close the connection.",
            b_close_after_eof=None,
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
            "B acknowledges A's FIN but never closes: A waits in FIN_WAIT_2 until its timeout "
            "(linux: 60 s; rfc9293: for ever; see --fin-timeout).",
            (*_OPEN, _on("A", S.ESTABLISHED, 0.5, "close")),
        ),
        _exchange_scenario(
            "late-fin",
            "Every ACK of B's FIN is lost. Each FIN copy restarts A's 2MSL; if B's backoff ever "
            "outlasts 2MSL (a short MSL), the copy finds A gone and A answers RST; with Linux's "
            "defaults it never does, and B gives up silently.",
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
        _exchange_scenario(
            "abort",
            "A aborts the connection (SO_LINGER with a zero timeout): RST, no FIN, no TIME_WAIT.",
            a_end="abort",
            b_close_after_eof=None,
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
            (
                *exchange(b_close_after_eof=None),
                _on("A", S.FIN_WAIT_2, 0.1, "vanish"),
                _on("B", S.CLOSE_WAIT, 1.0, "close"),
            ),
        ),
        _exchange_scenario(
            "assassination",
            "The network duplicates A's final ACK; the copy reaches B after it closed, B "
            "answers RST, and the RST ends A's TIME_WAIT early (try --rfc1337).",
            defaults=lambda msl: {"duplicate": {11: 2.0}},
        ),
        Scenario(
            "reconnect",
            "B closes first and sits in TIME_WAIT; A connects again from the same port with a "
            "higher ISN. Linux and FreeBSD let the SYN end TIME_WAIT (RFC 6191); RFC 9293 "
            "answers with a challenge ACK, and A's RST ends TIME_WAIT instead.",
            (
                *_OPEN,
                _on("B", S.ESTABLISHED, 0.2, "close"),
                _on("A", S.CLOSE_WAIT, 0.1, "close"),
                _on("B", S.TIME_WAIT, 0.0, "listen"),
                _on("A", S.CLOSED, 0.5, "connect", 100_000),
            ),
        ),
    )
}


def variant(name: str, **options: Any) -> Scenario:
    """Scenario ``name`` with some of its :func:`exchange` options changed (e.g. how many bytes
    each side sends, how long B waits after end-of-file before it closes)."""
    from .errors import TcpbookError

    base = get(name)
    if base.options is None:
        raise TcpbookError(f"scenario {name!r} has a fixed script; it takes no options")
    unknown = sorted(set(options) - set(exchange.__kwdefaults__ or {}))
    if unknown:
        allowed = ", ".join(exchange.__kwdefaults__ or {})
        raise TcpbookError(f"unknown scenario option {unknown[0]!r}; choose from: {allowed}")
    merged: dict[str, Any] = {**base.options, **options}
    return replace(base, steps=exchange(**merged), options=merged)


def get(name: str) -> Scenario:
    """The scenario called ``name``, or a one-line error listing the valid names."""
    from .errors import TcpbookError

    try:
        return SCENARIOS[name]
    except (KeyError, TypeError):
        raise TcpbookError(
            f"unknown scenario {name!r}; choose one of: {', '.join(SCENARIOS)}"
        ) from None
