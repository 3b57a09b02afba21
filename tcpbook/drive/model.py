"""Drive it yourself, the model: two sans-IO endpoints, A and B, and you decide what happens next.

A :class:`Driver` holds two :class:`~tcpbook.host.Host`\\ s and the segments in flight between
them. Nothing happens on its own: each :class:`Move` is a user call on one side (``A connect``),
the network delivering or losing the oldest segment in flight one way (``deliver A→B``,
``lose B→A``), or a timer running out (``fire A retransmit``). The endpoints apply RFC 9293
section 3.10 exactly as they do in the simulator, so anything the simulator can do, a reader can
do here by hand, one step at a time, and also things no scenario does.

The model is plain and deterministic (tests and the book's stored outputs rely on it); the
panel (:mod:`tcpbook.drive.panel`) wraps it in ipywidgets with one button per move.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from ..endpoint import Change, Segment, TimerName, reset_for
from ..errors import IllegalCall, TcpbookError
from ..host import Host
from ..kernel import Kernel
from ..settings import Settings, endpoint_config
from ..trace import Endpoint as Side
from ..trace import SegmentRecord, Trace

if TYPE_CHECKING:
    from collections.abc import Iterable

EndpointName = Literal["A", "B"]
MoveKind = Literal["call", "deliver", "lose", "fire"]

#: The user calls a reader can make on either side (RFC 9293 section 3.10.1 to 3.10.5), plus
#: ``vanish``: the host crashes or is unplugged (it "runs off").
CALLS: tuple[str, ...] = ("listen", "connect", "send", "close", "shutdown", "abort", "vanish")
SEND_BYTES = 100  # what one "send" move writes: one segment of data
#: The timers the endpoint has today, in the order the panel offers them; any other timer an
#: endpoint starts is offered too, after these, and ``fire A <name>`` accepts any name.
TIMERS: tuple[TimerName, ...] = ("retransmit", "time_wait", "fin_wait_2")
_TIMER_NAME = re.compile(r"[a-z][a-z0-9_]*")
#: Settings that belong to the simulator's network and script, not to a run the reader drives.
NOT_DRIVEN = ("drop", "delay", "duplicate", "until")

_OTHER: dict[str, EndpointName] = {"A": "B", "B": "A"}
_ARROW = "→"


@dataclass(frozen=True)
class Move:
    """One thing that can happen next.

    ``endpoint`` is the side that makes the call, whose timer fires, or that sent the segment
    being delivered or lost.
    """

    kind: MoveKind
    endpoint: EndpointName
    name: str = ""
    arg: int = 0

    def __str__(self) -> str:
        if self.kind == "call":
            return f"{self.endpoint} {self.name}" + (f" {self.arg}" if self.arg else "")
        if self.kind == "fire":
            return f"fire {self.endpoint} {self.name}"
        return f"{self.kind} {self.endpoint}{_ARROW}{_OTHER[self.endpoint]}"


_MOVE_FORMS = (
    "'A connect' (calls: listen, connect, send [bytes], close, shutdown, abort, vanish, read), "
    "'deliver A→B', 'lose B→A', 'fire A retransmit' (timers: retransmit, time_wait, fin_wait_2)"
)


def parse_move(text: str | Move) -> Move:
    """Read a move: ``"A connect"``, ``"B send 200"``, ``"deliver A->B"``, ``"lose B→A"``,
    ``"fire A time_wait"`` (``->`` or ``>`` may stand for ``→``)."""
    if isinstance(text, Move):
        return text
    if not isinstance(text, str):
        raise TcpbookError(f"a move is a string such as {_MOVE_FORMS}; got {text!r}")
    words = text.replace("->", _ARROW).replace(">", _ARROW).split()
    if len(words) == 2 and words[0].lower() in ("deliver", "lose"):
        m = re.fullmatch(r"([ABab])→([ABab])", words[1])
        if m and m.group(1).upper() != m.group(2).upper():
            return Move(words[0].lower(), m.group(1).upper())  # type: ignore[arg-type]
    elif len(words) == 3 and words[0].lower() == "fire" and words[1].upper() in _OTHER:
        if _TIMER_NAME.fullmatch(words[2]):
            return Move("fire", words[1].upper(), words[2])  # type: ignore[arg-type]
    elif len(words) in (2, 3) and words[0].upper() in _OTHER:
        call = words[1].lower()
        if call in (*CALLS, "read"):
            if len(words) == 3 and call == "send" and words[2].isdigit() and int(words[2]) > 0:
                return Move("call", words[0].upper(), call, int(words[2]))  # type: ignore[arg-type]
            if len(words) == 2:
                arg = SEND_BYTES if call == "send" else 0
                return Move("call", words[0].upper(), call, arg)  # type: ignore[arg-type]
    raise TcpbookError(f"not a move: {text!r}; moves look like {_MOVE_FORMS}")


@dataclass(frozen=True)
class Outcome:
    """What one move did: ``ok`` is False when the move was refused (and nothing changed)."""

    move: Move
    ok: bool
    text: str

    def __str__(self) -> str:
        return self.text


class DriveHost(Host):
    """A host whose segments wait in the driver's network and whose every output is logged."""

    def __init__(self, driver: Driver, name: Side, isn: int, settings: Settings) -> None:
        config = endpoint_config(settings, auto_read=driver.auto_read)
        super().__init__(name, driver.kernel, driver.raw_trace, isn=isn, config=config)
        self.driver = driver
        self.notify_timers = self.notify_received = True  # every output goes in the log

    def _note(self, text: str) -> None:
        self.driver.log.append(f"{self.driver.now:8.3f}  {text}")

    def send(self, segment: Segment) -> None:
        self.driver.transmit(self, segment, self.conn)

    def changed(self, change: Change) -> None:
        self._note(f"{self.name}: {change.src} -> {change.dst}  ({change.cause})")

    def timer_started(self, name: str, deadline: float) -> None:
        self._note(f"{self.name} starts {name} (fires at {deadline:g})")

    def app_error(self, error: str) -> str:
        self._note(f"{self.name}: the application sees {error}")
        return error

    def received(self, length: int) -> None:
        if length == 0:
            self._note(f"{self.name}: the application reads end-of-file")


class Driver:
    """Two endpoints and the network between them, moved one step at a time by the reader.

    Time follows the moves: a delivery happens one-way latency after the segment was sent (or
    now, if that is later), a timer fires at its deadline (or now). A segment left in flight
    longer than MSL expires (RFC 9293 section 3.4.1), as in the simulator.

    ``settings`` (or the keywords, the fields of :class:`~tcpbook.settings.Settings` on top of
    it) give MSL, RTO, latency and the endpoint knobs; the network's losses are the reader's
    moves, so ``drop``, ``delay``, ``duplicate`` and ``until`` are refused. ``auto_read=False``
    leaves received data unread until a ``read`` move.
    """

    def __init__(
        self, settings: Settings | None = None, *, auto_read: bool = True, **changes: Any
    ) -> None:
        settings = Settings.build(settings, **changes)
        driven = [name for name in NOT_DRIVEN if name in settings.changed()]
        if driven:
            raise TcpbookError(
                f"Driver takes no {', '.join(driven)}: the reader's moves decide what the "
                "network does"
            )
        self.settings = settings
        self.auto_read = bool(auto_read)
        self.latency = settings.latency
        self.msl = settings.msl
        self.kernel = Kernel()
        info = settings.to_dict()
        info["auto_read"] = self.auto_read
        info["clock"] = "driven: each move happens as soon as it can"
        self.raw_trace = Trace("drive", info)
        self.log: list[str] = []
        self.outcomes: list[Outcome] = []
        self.hosts: dict[str, DriveHost] = {
            "A": DriveHost(self, "A", settings.isn_a, settings),
            "B": DriveHost(self, "B", settings.isn_b, settings),
        }
        self.flight: dict[str, deque[tuple[SegmentRecord, Segment]]] = {
            "A": deque(),
            "B": deque(),
        }

    @property
    def options(self) -> dict[str, Any]:
        """What it takes to build this driver again: ``Driver(**driver.options)``."""
        return {**self.settings.changed(), "auto_read": self.auto_read}

    @property
    def now(self) -> float:
        return self.kernel.now

    # -- what the reader sees ---------------------------------------------------------------

    def state(self, endpoint: str) -> str:
        """The state of ``endpoint`` now ("CLOSED" when it has no connection)."""
        tcb = self.hosts[endpoint].tcb
        return tcb.state.value if tcb else "CLOSED"

    @property
    def states(self) -> dict[str, str]:
        return {name: self.state(name) for name in self.hosts}

    @property
    def trace(self) -> Trace:
        """Everything so far, as a :class:`Trace` the renderers can draw."""
        self.raw_trace.final = self.states
        self.raw_trace.end = self.now
        return self.raw_trace

    def in_flight(self, sender: str) -> list[SegmentRecord]:
        """Segments ``sender`` has sent that the network still holds, oldest first."""
        return [rec for rec, _ in self.flight[sender]]

    def moves(self) -> list[Move]:
        """Every move on offer now: deliveries and losses, timers, then each side's calls.

        User calls are always offered, legal or not: choosing an illegal one shows the error
        the RFC gives for it (section 3.10) and changes nothing.
        """
        found: list[Move] = []
        senders: tuple[EndpointName, EndpointName] = ("A", "B")
        for sender in senders:
            if self.flight[sender]:
                found.append(Move("deliver", sender))
                found.append(Move("lose", sender))
        for name, host in self.hosts.items():
            running = host.timers
            known = [timer for timer in TIMERS if timer in running]
            for timer in known + sorted(set(running) - set(known)):
                found.append(Move("fire", name, timer))  # type: ignore[arg-type]
        calls = (*CALLS, "read") if not self.auto_read else CALLS
        for name in self.hosts:
            for call in calls:
                arg = SEND_BYTES if call == "send" else 0
                found.append(Move("call", name, call, arg))  # type: ignore[arg-type]
        return found

    def refusal(self, move: Move | str) -> str | None:
        """Why ``move`` would be refused now, or None if it would be carried out.

        It tries the move on a probe: the same driver rebuilt by replaying every move made so
        far (a run is deterministic), so this one is left as it was.
        """
        probe = Driver(**self.options)
        probe.run(outcome.move for outcome in self.outcomes)
        outcome = probe.apply(move)
        return None if outcome.ok else outcome.text

    def log_text(self) -> str:
        return "\n".join(self.log)

    # -- making moves --------------------------------------------------------------------------

    def apply(self, move: Move | str) -> Outcome:
        """Carry out one move and return what it did (a refused move changes nothing)."""
        mv = parse_move(move)
        before = len(self.log)
        if mv.kind == "call":
            ok = self._call(mv)
        elif mv.kind == "fire":
            ok = self._fire(mv)
        else:
            ok = self._network(mv)
        lines = self.log[before:]
        if not ok:
            del self.log[before:]
            who = mv.endpoint if mv.kind == "call" else str(mv)
            text = f"✗ {who}: {' '.join(lines)}"
            self.log.append(text)
        else:
            text = "\n".join(lines)
        outcome = Outcome(mv, ok, text)
        self.outcomes.append(outcome)
        return outcome

    def run(self, moves: Iterable[Move | str]) -> list[Outcome]:
        """Apply ``moves`` in order (refused ones are logged and skipped)."""
        return [self.apply(m) for m in moves]

    def _note(self, text: str) -> None:
        self.log.append(text)

    def _call(self, mv: Move) -> bool:
        host = self.hosts[mv.endpoint]
        if host.vanished:
            self._note(f"host {host.name} has vanished; it makes no more calls")
            return False
        if mv.name == "vanish":
            self._note(f"{self.now:8.3f}  {mv}: the host is gone and will send nothing more")
            host.vanish()
            return True
        tcb = host.tcb
        fresh = tcb is None
        if tcb is None:
            # A new socket: listen/connect start a new incarnation, other calls fail on CLOSED.
            tcb = host.new_endpoint()
        try:
            if mv.name == "send":
                tcb.send(mv.arg)
            elif mv.name == "read":
                got = tcb.read()
                self._note(f"{self.now:8.3f}  {mv}: the application reads {got} bytes")
                return True
            else:
                getattr(tcb, mv.name)()
        except IllegalCall as exc:
            self._note(str(exc))
            return False
        if fresh:
            host.attach(tcb)
        self._note(f"{self.now:8.3f}  {mv}")
        host.drain()
        return True

    def _fire(self, mv: Move) -> bool:
        host = self.hosts[mv.endpoint]
        if mv.name not in host.timers or host.tcb is None:
            self._note(f"{mv.endpoint} has no {mv.name} timer running")
            return False
        self._advance(host.timers[mv.name])
        self._note(f"{self.now:8.3f}  {mv}")
        host.expire(mv.name)
        return True

    def _network(self, mv: Move) -> bool:
        queue = self.flight[mv.endpoint]
        way = f"{mv.endpoint}{_ARROW}{_OTHER[mv.endpoint]}"
        if not queue:
            self._note(f"no segment in flight {way}")
            return False
        rec, seg = queue.popleft()
        if mv.kind == "lose":
            rec.fate = "dropped"
            self._note(f"{self.now:8.3f}  #{rec.id} {rec.label} is lost on the way {way}")
            return True
        self._advance(max(self.now, rec.sent + self.latency))
        if rec.fate == "expired":  # _advance found it older than MSL
            return True
        rec.fate = "delivered"
        rec.arrived = self.now
        host = self.hosts[rec.dst]
        where = f"{self.now:8.3f}  #{rec.id} {rec.label} arrives at {rec.dst}"
        if host.vanished:
            self._note(f"{where}: the host has vanished, nobody answers")
            return True
        if host.tcb is None:
            self._note(f"{where}: no connection there")
            reply = reset_for(seg)  # RFC 9293 3.10.7.1
            if reply is not None:
                self.transmit(host, reply, rec.conn)
            return True
        rec.delivered_to = host.conn
        self._note(f"{where} ({host.tcb.state})")
        host.tcb.receive(seg)
        host.drain()
        return True

    def _advance(self, t: float) -> None:
        """Move the clock to ``t``; segments older than MSL die in the network (RFC 9293 3.4.1)."""
        self.kernel.advance(t)
        for sender, queue in self.flight.items():
            keep: deque[tuple[SegmentRecord, Segment]] = deque()
            for rec, seg in queue:
                if self.now - rec.sent > self.msl:
                    rec.fate = "expired"
                    self._note(
                        f"{rec.sent + self.msl:8.3f}  #{rec.id} {rec.label} "
                        f"({sender}{_ARROW}{_OTHER[sender]}) expires: it lived longer than MSL"
                    )
                else:
                    keep.append((rec, seg))
            self.flight[sender] = keep

    def transmit(self, host: Host, seg: Segment, conn: int) -> None:
        """``host`` sends ``seg``: it waits in the network until the reader moves it."""
        rec = self.raw_trace.add_segment(seg, host.name, conn, self.now)
        self.flight[host.name].append((rec, seg))
        rtx = " (retransmission)" if seg.retransmission else ""
        self._note(f"{self.now:8.3f}  {host.name} sends #{rec.id} {rec.label}{rtx}")


__all__ = ["CALLS", "TIMERS", "DriveHost", "Driver", "Move", "Outcome", "parse_move"]
