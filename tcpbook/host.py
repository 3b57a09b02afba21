"""One host: a sans-IO :class:`~tcpbook.endpoint.Endpoint` wired to the kernel and the trace.

The endpoint only says what it wants done (send this, start that timer, I changed state, tell
the application this error). :class:`Host` is the one place that does it: it turns timer
requests into kernel events (any timer name the endpoint uses, restarting one cancels its old
deadline), records every output in the :class:`~tcpbook.trace.Trace`, hands segments to its
client's network, and owns the two ways a connection ends for the host: "the socket is gone"
(the endpoint reached CLOSED: the TCB is released and calls that waited for the port run) and
"the host vanished" (a crash or a pulled cable: nothing more is sent, received or timed).

Clients subclass it: the simulator (scripted applications and a network), the drive-it-yourself
model (the reader picks what happens next) and the packetdrill runner (a script plays the peer)
override :meth:`Host.send` and, where they need to, the other hooks.
"""

from __future__ import annotations

from collections.abc import Callable

from mypy_extensions import mypyc_attr

from .endpoint import (
    AppError,
    CancelTimer,
    Change,
    Config,
    Endpoint,
    Handoff,
    Output,
    Received,
    Segment,
    Send,
    StartTimer,
    TimerName,
    reset_for,
)
from .kernel import Event, Kernel
from .states import State
from .trace import Endpoint as Side
from .trace import ErrorRecord, TimerRecord, Trace, TransitionRecord

_CLOSED = State.CLOSED


class TimerExpiry(Event):
    """A timer of ``host`` runs out."""

    __slots__ = ("host", "name")

    def __init__(self, host: Host, name: str) -> None:
        self.host = host
        self.name = name

    def happen(self) -> None:
        self.host.expire(self.name)


@mypyc_attr(allow_interpreted_subclasses=True)  # subclassed outside the compiled core
class Host:
    """One machine with one port: at most one connection (TCB) at a time.

    ``conn`` counts the connections (incarnations) the host has opened; ``deferred`` holds
    calls that wait for the port to be free again (like an application retrying ``bind()``).

    A client changes the four switches set last in ``__init__`` in its own ``__init__``, not as
    class attributes: the compiled core reads an instance's own attributes.
    """

    def __init__(
        self, name: Side, kernel: Kernel, trace: Trace, *, isn: int, config: Config
    ) -> None:
        self.name: Side = name
        self.kernel = kernel
        self.trace = trace
        self.isn = isn
        self.config = config
        self.tcb: Endpoint | None = None
        self.conn = 0
        self.vanished = False
        self.deferred: list[Callable[[], object]] = []
        self.pending: dict[str, TimerExpiry] = {}  # running timers: name -> its kernel event
        #: Release the TCB when it reaches CLOSED. The packetdrill runner keeps it: the
        #: script's socket still exists (and still answers reads and errors) after it ends.
        self.release_closed = True
        #: Record timer starts, fires and cancels in the trace (bulk runs do without).
        self.record_timers = True
        #: Call :meth:`timer_started` and :meth:`received` (clients that report them).
        self.notify_timers = False
        self.notify_received = False

    # -- hooks for clients --------------------------------------------------------------------

    def send(self, segment: Segment) -> None:
        """Put ``segment`` on the wire (the client's network decides what becomes of it)."""
        raise NotImplementedError

    def changed(self, change: Change) -> None:
        """The endpoint moved from ``change.src`` to ``change.dst`` (already recorded)."""

    def timer_started(self, name: str, deadline: float) -> None:
        """A timer was (re)started to fire at ``deadline`` seconds (already recorded)."""

    def app_error(self, error: str) -> str:
        """The application sees ``error``; returns the error to record (a client may refine it)."""
        return error

    def received(self, length: int) -> None:
        """Payload (``length`` bytes) or, with 0, end-of-file reached the application."""

    def has_listener(self) -> bool:
        """Whether a listener would take a new SYN for this port now (a client that can have
        one says when; a bare host has only its one connection)."""
        return False

    def released(self) -> None:
        """The socket is gone: run the calls that waited for the port."""
        waiting, self.deferred = self.deferred, []
        for call in waiting:
            call()

    # -- connections --------------------------------------------------------------------------

    def new_endpoint(self, isn_offset: int = 0) -> Endpoint:
        """A fresh TCB for this host (not attached until :meth:`attach`); ``isn_offset`` moves
        its ISN (RFC 9293 3.4.1: a later incarnation may start higher)."""
        return Endpoint((self.isn + isn_offset) % 2**32, self.config, self.clock, self.has_listener)

    def clock(self) -> float:
        """Now, in seconds: what the endpoint times round trips with (RFC 6298)."""
        kernel = self.kernel
        return kernel.now if kernel.per_second == 1 else kernel.seconds(kernel.now)

    def attach(self, tcb: Endpoint) -> None:
        """``tcb`` becomes this host's connection: the next incarnation."""
        self.conn += 1
        self.tcb = tcb

    def vanish(self) -> None:
        """The host crashes or is unplugged: its connection ends silently, its timers stop."""
        self.vanished = True
        if self.tcb is not None:
            self.tcb.vanish()
            self.drain()
            self.tcb = None
        self.stop_timers()

    def stop_timers(self) -> None:
        for event in self.pending.values():
            self.kernel.cancel(event)
        self.pending.clear()

    @property
    def timers(self) -> dict[str, float]:
        """The running timers: name -> deadline in seconds."""
        seconds = self.kernel.seconds
        return {name: seconds(ev.time) for name, ev in self.pending.items()}

    # -- timers -------------------------------------------------------------------------------

    def expire(self, name: str) -> None:
        """Timer ``name`` runs out now: record it, tell the endpoint, act on its answer."""
        tcb = self.tcb
        if tcb is None or self.vanished:
            return
        event = self.pending.pop(name, None)
        if event is None:
            return
        self.kernel.cancel(event)  # when a client fires it before its time (the reader's move)
        now = self.kernel.seconds(self.kernel.now)
        if self.record_timers:
            self.trace.timers.append(TimerRecord(now, self.name, name, "fire", now))
        timer: TimerName = name  # type: ignore[assignment]
        tcb.timer_fired(timer)
        self.drain()

    def _start(self, name: str, delay: float, now: float) -> None:
        kernel = self.kernel
        old = self.pending.get(name)
        if old is not None:
            old.cancelled = True  # Kernel.cancel, inlined: a restart is a hot path
        event = TimerExpiry(self, name)
        if kernel.per_second == 1:
            kernel.schedule_at(now + delay, event)
            deadline = event.time
        else:
            kernel.schedule_at(kernel.after(delay), event)
            deadline = kernel.seconds(event.time)
        self.pending[name] = event
        if self.record_timers:
            self.trace.timers.append(TimerRecord(now, self.name, name, "start", deadline))
        if self.notify_timers:
            self.timer_started(name, deadline)

    # -- the one loop ---------------------------------------------------------------------------

    def drain(self) -> bool:
        """Act on everything the endpoint asked for since the last drain, in order.

        The endpoint's ``out`` list is the sink it appends to; the host reads it in place and
        empties it (nothing the host does in between calls back into this endpoint). Returns
        True when the endpoint handed a segment on to the port's next connection (a SYN that
        ended TIME_WAIT) and that connection took it.
        """
        tcb = self.tcb
        assert tcb is not None
        items: list[Output] = tcb.out
        handoff: Segment | None = None
        if items:
            trace = self.trace
            name = self.name
            kernel = self.kernel
            now = kernel.now if kernel.per_second == 1 else kernel.seconds(kernel.now)
            conn = self.conn
            # Dispatch on the exact output type (these NamedTuples are never subclassed);
            # `_value_` reads the state name without Enum's slower `.value` descriptor.
            for item in items:
                kind = type(item)
                if kind is Send:
                    self.send(item.segment)  # type: ignore[union-attr]
                elif kind is Change:
                    change: Change = item  # type: ignore[assignment]
                    trace.transitions.append(
                        TransitionRecord(
                            now, name, conn, change.src._value_, change.dst._value_, change.cause
                        )
                    )
                    self.changed(change)
                elif kind is StartTimer:
                    self._start(item.timer, item.delay, now)  # type: ignore[union-attr]
                elif kind is CancelTimer:
                    event = self.pending.pop(item.timer, None)  # type: ignore[union-attr]
                    if event is not None:
                        event.cancelled = True  # Kernel.cancel, inlined: a hot path
                    if self.record_timers:
                        trace.timers.append(
                            TimerRecord(now, name, item.timer, "cancel", None)  # type: ignore[union-attr]
                        )
                elif kind is AppError:
                    error = self.app_error(item.error)  # type: ignore[union-attr]
                    trace.errors.append(ErrorRecord(now, name, error))
                elif kind is Received and self.notify_received:
                    self.received(item.length)  # type: ignore[union-attr]
                elif kind is Handoff:
                    handoff = item.segment  # type: ignore[union-attr]
            items.clear()
        if tcb.state is _CLOSED and self.tcb is tcb and self.release_closed:
            self.tcb = None
            self.stop_timers()
            self.released()
        if handoff is None:
            return False
        # the SYN goes to whoever owns the port now (the listener), else it meets a RST
        if self.tcb is None or self.tcb is tcb:
            reply = reset_for(handoff)
            if reply is not None:
                self.send(reply)
            return False
        self.tcb.receive(handoff)
        self.drain()
        return True


__all__ = ["Host", "TimerExpiry"]
