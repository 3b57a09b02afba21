"""A deterministic discrete-event simulator: two hosts, A and B, and the network between them.

The kernel is a heap of ``(time, sequence, event)`` as in SimPy; the sequence number breaks ties
so the same inputs always give the same trace, byte for byte. The network delays each segment
by a fixed one-way latency plus any extra delay asked for, drops or duplicates chosen segments,
and discards a segment still in flight MSL after it was sent (RFC 9293 section 3.4.1: MSL is the
longest a segment may live in the network).
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from . import profiles
from .endpoint import (
    AppError,
    CancelTimer,
    Change,
    Config,
    Endpoint,
    Handoff,
    Send,
    StartTimer,
    TimerName,
    config_for,
    reset_for,
)
from .errors import IllegalCall, TcpbookError
from .states import State
from .trace import ENDPOINTS, ErrorRecord, SegmentRecord, TimerRecord, Trace, TransitionRecord
from .trace import Endpoint as Side

if TYPE_CHECKING:
    from .scenarios import Scenario, Step

LATENCY = 0.05  # one-way delay in seconds: a 100 ms round trip, easy to read on a ladder
DUPLICATE_LAG = 1.0  # a network duplicate arrives this long after the original
MAX_EVENTS = 100_000  # a guard: every run the book makes settles in a few hundred events
ISN_A = 1000
ISN_B = 5000

_CALL, _ARRIVE, _EXPIRE, _TIMER = 0, 1, 2, 3

DropRule = Callable[[SegmentRecord, "Simulator"], bool]


def _seconds(name: str, value: Any, *, positive: bool = False) -> float:
    """A finite number of seconds, or a one-line error naming what is allowed."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TcpbookError(f"{name} must be a number of seconds, got {value!r}")
    x = float(value)
    if math.isnan(x) or math.isinf(x):
        raise TcpbookError(f"{name} must be a finite number of seconds, got {value!r}")
    if positive and x <= 0:
        raise TcpbookError(f"{name} must be greater than 0 seconds, got {value!r}")
    if x < 0:
        raise TcpbookError(f"{name} must be 0 or more seconds, got {value!r}")
    return x


def _segment_number(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise TcpbookError(
            f"{name} takes segment numbers (integers from 1, in send order), got {value!r}"
        )
    return value


@dataclass(frozen=True)
class Params:
    """Everything that shapes a run besides the scenario's script (validated on creation).

    ``profile`` names the kernel whose defaults the endpoints follow (:mod:`tcpbook.profiles`);
    ``msl``, ``rto``, ``syn_retries``, ``fin_timeout`` and ``rfc1337`` left at ``None`` take
    the profile's value, and given explicitly they override it. ``profile=None`` is the plain
    model: a fixed RTO doubling from 1 s, every ACK at once, counted retries, MSL 30 s.
    """

    msl: float | None = None
    latency: float = LATENCY
    drop: tuple[int, ...] | None = None
    delay: Mapping[int, float] = field(default_factory=dict)
    duplicate: Mapping[int, float] = field(default_factory=dict)
    fin_timeout: float | None = None
    skip_time_wait: bool = False
    rfc1337: bool | None = None
    until: float | None = None
    rto: float | None = None
    syn_retries: int | None = None
    isn_a: int = ISN_A
    isn_b: int = ISN_B
    profile: str | None = None
    config: Config = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        kernel = None if self.profile is None else profiles.get(self.profile)
        if self.msl is not None:
            _seconds("msl", self.msl, positive=True)
        _seconds("latency", self.latency)
        if self.rto is not None:
            _seconds("rto", self.rto, positive=True)
        if self.drop is not None:
            for n in self.drop:
                _segment_number("drop", n)
        for label, table in (("delay", self.delay), ("duplicate", self.duplicate)):
            for n, s in table.items():
                _segment_number(label, n)
                _seconds(f"{label} of segment {n}", s)
        if self.fin_timeout is not None:
            _seconds("fin_timeout", self.fin_timeout)
        if self.until is not None:
            _seconds("until", self.until)
        if self.syn_retries is not None:
            if isinstance(self.syn_retries, bool) or not isinstance(self.syn_retries, int):
                raise TcpbookError(f"syn_retries must be an integer, got {self.syn_retries!r}")
            if self.syn_retries < 0:
                raise TcpbookError(f"syn_retries must be 0 or more, got {self.syn_retries!r}")
        for name in ("isn_a", "isn_b"):
            isn = getattr(self, name)
            if isinstance(isn, bool) or not isinstance(isn, int) or not 0 <= isn < 2**32:
                raise TcpbookError(f"{name} must be an integer from 0 to 4294967295, got {isn!r}")
        options: dict[str, Any] = dict(
            msl=None if self.msl is None else float(self.msl),
            rto=None if self.rto is None else float(self.rto),
            syn_retries=self.syn_retries,
            fin_timeout=None if self.fin_timeout is None else float(self.fin_timeout),
            rfc1337=self.rfc1337,
            skip_time_wait=self.skip_time_wait,
        )
        if kernel is None:  # no kernel: the plain model (fixed RTO, ACKs at once)
            config = Config(**{k: v for k, v in options.items() if v is not None})
        else:
            config = config_for(kernel, **options)
        object.__setattr__(self, "config", config)

    @property
    def lifetime(self) -> float:
        """The MSL in force (explicit or the profile's): the network discards older segments."""
        return self.config.msl

    def to_dict(self) -> dict[str, Any]:
        cfg = self.config
        out: dict[str, Any] = {} if self.profile is None else {"profile": self.profile}
        return out | {
            "msl": float(cfg.msl),
            "latency": float(self.latency),
            "drop": list(self.drop or ()),
            "delay": {str(k): float(v) for k, v in sorted(self.delay.items())},
            "duplicate": {str(k): float(v) for k, v in sorted(self.duplicate.items())},
            "fin_timeout": None if cfg.fin_timeout is None else float(cfg.fin_timeout),
            "skip_time_wait": self.skip_time_wait,
            "rfc1337": cfg.rfc1337,
            "until": None if self.until is None else float(self.until),
            "rto": float(cfg.rto),
            "syn_retries": cfg.syn_retries,
            "isn_a": self.isn_a,
            "isn_b": self.isn_b,
        }


class Host:
    """One machine with one port: at most one connection (TCB) at a time."""

    def __init__(self, name: Side, isn: int, config: Config) -> None:
        self.name: Side = name
        self.isn = isn
        self.config = config
        self.tcb: Endpoint | None = None
        self.conn = 0
        self.vanished = False
        self.deferred: list[Step] = []
        self.tokens: dict[str, int] = {}


class Simulator:
    """Runs one scenario script against two hosts and records a :class:`Trace`."""

    def __init__(self, scenario: Scenario, params: Params) -> None:
        self.scenario = scenario
        self.params = params
        self.now = 0.0
        self._heap: list[tuple[float, int, int, Any, Any]] = []
        self._seq = 0
        config = params.config
        self.hosts = {
            "A": Host("A", params.isn_a, _with(config, scenario.config.get("A"))),
            "B": Host("B", params.isn_b, _with(config, scenario.config.get("B"))),
        }
        self.drop_ids = frozenset(params.drop or ())
        self.drop_rule: DropRule | None = scenario.drop_rule if params.drop is None else None
        self.trace = Trace(scenario.name, params.to_dict())
        if self.drop_rule is not None and scenario.drop_text:
            self.trace.params["loss"] = scenario.drop_text
        self._fired: set[int] = set()
        # Steps waiting for (endpoint, state), in script order: _trigger runs on every state
        # change, so it looks them up instead of scanning the whole script each time.
        self._waiting: dict[tuple[str, State], list[int]] = {}
        for index, step in enumerate(scenario.steps):
            if step.on is not None:
                self._waiting.setdefault((step.endpoint, step.on), []).append(index)

    def _clock(self) -> float:
        return self.now

    # -- the kernel --------------------------------------------------------------------------

    def _push(self, t: float, kind: int, a: Any, b: Any = None) -> None:
        self._seq += 1
        heapq.heappush(self._heap, (round(t, 9), self._seq, kind, a, b))

    def run(self) -> Trace:
        for index, step in enumerate(self.scenario.steps):
            if step.at is not None:
                self._push(step.at, _CALL, index)
        until = self.params.until
        events = 0
        while self._heap:
            t, seq, kind, a, b = self._heap[0]
            if until is not None and t > until:
                break
            heapq.heappop(self._heap)
            if kind == _TIMER and a.tokens.get(b) != seq:
                continue  # cancelled or restarted: not an event, and no reason to move the clock
            self.now = t
            events += 1
            if events > MAX_EVENTS:
                raise TcpbookError(f"simulation did not settle within {MAX_EVENTS} events")
            if kind == _ARRIVE:
                self._arrive(a, b)
            elif kind == _TIMER:
                self._timer(a, b, seq)
            elif kind == _EXPIRE:
                a.fate = "expired"
            else:
                self._call(a)
        self.trace.end = until if until is not None else self.now
        self.trace.final = {
            name: (host.tcb.state.value if host.tcb else "CLOSED")
            for name, host in self.hosts.items()
        }
        return self.trace

    # -- the network -------------------------------------------------------------------------

    def transmit(self, src: Host, seg: Any, conn: int) -> None:
        """Put a segment on the wire from ``src`` and decide its fate."""
        params = self.params
        segments = self.trace.segments
        rec = self.trace.add_segment(seg, src.name, conn, self.now)
        lag = params.duplicate.get(rec.id)
        # the network's copy: the same segment, numbered next (made before rec's fate is set)
        copy = None if lag is None else replace(rec, id=rec.id + 1, duplicate_of=rec.id)
        flight = params.latency + params.delay.get(rec.id, 0.0)
        delivered = self._launch(rec, seg, flight)
        if copy is not None:
            segments.append(copy)
            base = flight if delivered else params.latency
            self._launch(copy, seg, base + (lag or DUPLICATE_LAG))

    def _launch(self, rec: SegmentRecord, seg: Any, flight: float) -> bool:
        """Schedule arrival ``flight`` seconds from now, or expiry if that exceeds MSL."""
        if rec.id in self.drop_ids or (self.drop_rule is not None and self.drop_rule(rec, self)):
            rec.fate = "dropped"
            return False
        msl = self.params.lifetime
        if flight > msl:
            self._push(rec.sent + msl, _EXPIRE, rec)
        else:
            self._push(rec.sent + flight, _ARRIVE, rec, seg)
        return True

    def _arrive(self, rec: SegmentRecord, seg: Any) -> None:
        rec.fate = "delivered"
        rec.arrived = self.now
        host = self.hosts[rec.dst]
        if host.vanished:
            return
        tcb = host.tcb
        if tcb is None:
            reply = reset_for(seg)  # RFC 9293 3.10.7.1: no connection here
            if reply is not None:
                self.transmit(host, reply, rec.conn)
            return
        rec.delivered_to = host.conn
        tcb.receive(seg)
        if self._drain(host):
            rec.delivered_to = host.conn  # handed to the listener: the new connection took it

    # -- hosts ---------------------------------------------------------------------------------

    def _timer(self, host: Host, name: TimerName, token: int) -> None:
        if host.tokens.get(name) != token or host.tcb is None or host.vanished:
            return  # cancelled or restarted since this entry was pushed
        del host.tokens[name]
        self.trace.timers.append(TimerRecord(self.now, host.name, name, "fire", self.now))
        host.tcb.timer_fired(name)
        self._drain(host)

    def _drain(self, host: Host) -> bool:
        """Carry out what the endpoint asked for; True if it handed a segment to a new one."""
        tcb = host.tcb
        assert tcb is not None
        trace = self.trace
        name = host.name
        now = self.now
        # Dispatch on the exact output type (these NamedTuples are never subclassed); `_value_`
        # reads the state name without Enum's slower `.value` descriptor. Both are hot paths.
        conn = host.conn
        handoff = None
        for item in tcb.drain():
            if type(item) is Send:
                self.transmit(host, item.segment, conn)
            elif type(item) is Change:
                trace.transitions.append(
                    TransitionRecord(
                        now, name, conn, item.src._value_, item.dst._value_, item.cause
                    )
                )
                self._trigger(name, item.dst)
            elif type(item) is StartTimer:
                deadline = round(now + item.delay, 9)
                self._seq = seq = self._seq + 1
                host.tokens[item.timer] = seq
                heapq.heappush(self._heap, (deadline, seq, _TIMER, host, item.timer))
                trace.timers.append(TimerRecord(now, name, item.timer, "start", deadline))
            elif type(item) is CancelTimer:
                host.tokens.pop(item.timer, None)
                trace.timers.append(TimerRecord(now, name, item.timer, "cancel", None))
            elif type(item) is AppError:
                trace.errors.append(ErrorRecord(now, name, item.error))
            elif type(item) is Handoff:
                handoff = item.segment
        if tcb.state is State.CLOSED and host.tcb is tcb:
            host.tcb = None
            waiting, host.deferred = host.deferred, []
            for step in waiting:
                self._run_step(step)
        if handoff is not None:  # a SYN that ended TIME_WAIT: to the listener, if there is one
            if host.tcb is None:
                reply = reset_for(handoff)
                if reply is not None:
                    self.transmit(host, reply, conn)
            else:
                host.tcb.receive(handoff)
                self._drain(host)
                return True
        return False

    def _trigger(self, endpoint: str, state: State) -> None:
        for index in self._waiting.get((endpoint, state), ()):
            if index not in self._fired:
                self._fired.add(index)
                self._push(self.now + self.scenario.steps[index].after, _CALL, index)

    def _call(self, index: int) -> None:
        self._run_step(self.scenario.steps[index])

    def _run_step(self, step: Step) -> None:
        host = self.hosts[step.endpoint]
        if host.vanished:
            return
        call = step.call
        if call == "vanish":
            host.vanished = True
            if host.tcb is not None:
                host.tcb.vanish()
                self._drain(host)
                host.tcb = None
            host.tokens.clear()
            return
        if call in ("listen", "connect"):
            if host.tcb is not None:
                host.deferred.append(step)  # like an application retrying bind() later
                return
            host.conn += 1
            # a connect step's ``arg`` moves this connection's ISN (RFC 9293 3.4.1: ISNs grow)
            host.tcb = Endpoint((host.isn + step.arg) % 2**32, host.config, self._clock)
        tcb = host.tcb
        if tcb is None:
            if call == "send":
                self.trace.errors.append(ErrorRecord(self.now, host.name, "EPIPE"))
            return
        try:
            if call == "send":
                tcb.send(step.arg)
            else:
                getattr(tcb, call)()
        except IllegalCall:
            if call == "send" and tcb.state is State.CLOSED:
                self.trace.errors.append(ErrorRecord(self.now, host.name, "EPIPE"))
        self._drain(host)


def _with(config: Config, overrides: Mapping[str, Any] | None) -> Config:
    """``config`` with a scenario's per-host overrides (shared when there are none: read-only)."""
    return replace(config, **overrides) if overrides else config


def simulate_scenario(scenario: Scenario, params: Params) -> Trace:
    """Run ``scenario`` with ``params``; see :func:`tcpbook.simulate` for the friendly API."""
    return Simulator(scenario, params).run()


def _as_drops(drop: Iterable[int] | int | None) -> tuple[int, ...] | None:
    if drop is None:
        return None
    if isinstance(drop, bool):
        raise TcpbookError(f"drop takes segment numbers (integers from 1), got {drop!r}")
    if isinstance(drop, int):
        return (drop,)
    if isinstance(drop, str | bytes):
        raise TcpbookError(f"drop takes segment numbers (integers from 1), got {drop!r}")
    return tuple(drop)


__all__ = ["ENDPOINTS", "Params", "Simulator", "simulate_scenario"]
