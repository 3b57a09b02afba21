"""Drive it yourself: two sans-IO endpoints, A and B, and you decide what happens next.

A :class:`Driver` holds two :class:`~tcpbook.endpoint.Endpoint`\\ s and the segments in flight
between them. Nothing happens on its own: each :class:`Move` is a user call on one side
(``A connect``), the network delivering or losing the oldest segment in flight one way
(``deliver A→B``, ``lose B→A``), or a timer running out (``fire A retransmit``). The endpoints
apply RFC 9293 section 3.10 exactly as they do in the simulator, so anything the simulator can
do, a reader can do here by hand, one step at a time, and also things no scenario does.

The core is plain and deterministic (tests and the book's stored outputs rely on it);
:func:`drive` wraps it in an ipywidgets panel with one button per move.
"""

from __future__ import annotations

import copy
import re
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from .endpoint import Change, Segment, TimerName, reset_for
from .errors import IllegalCall, TcpbookError
from .host import Host
from .kernel import Kernel
from .settings import Settings, endpoint_config
from .trace import Endpoint as Side
from .trace import SegmentRecord, Trace

if TYPE_CHECKING:
    from collections.abc import Iterable

EndpointName = Literal["A", "B"]
MoveKind = Literal["call", "deliver", "lose", "fire"]

#: The user calls a reader can make on either side (RFC 9293 section 3.10.1 to 3.10.5), plus
#: ``vanish``: the host crashes or is unplugged (the seed's "runs off").
CALLS: tuple[str, ...] = ("listen", "connect", "send", "close", "shutdown", "abort", "vanish")
SEND_BYTES = 100  # what one "send" move writes: one segment of data
TIMERS: tuple[TimerName, ...] = ("retransmit", "time_wait", "fin_wait_2")
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
        if words[2] in TIMERS:
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

    notify_timers = True

    def __init__(self, driver: Driver, name: Side, isn: int, settings: Settings) -> None:
        config = endpoint_config(settings, auto_read=driver.auto_read)
        super().__init__(name, driver.kernel, driver.raw_trace, isn=isn, config=config)
        self.driver = driver

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
            for timer in TIMERS:
                if timer in host.timers:
                    found.append(Move("fire", name, timer))  # type: ignore[arg-type]
        calls = (*CALLS, "read") if not self.auto_read else CALLS
        for name in self.hosts:
            for call in calls:
                arg = SEND_BYTES if call == "send" else 0
                found.append(Move("call", name, call, arg))  # type: ignore[arg-type]
        return found

    def refusal(self, move: Move | str) -> str | None:
        """Why ``move`` would be refused now, or None if it would be carried out."""
        probe = copy.deepcopy(self)
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


# -- every row of the table, reached -------------------------------------------------------

_OPEN = ("B listen", "A connect", "deliver A→B", "deliver B→A", "deliver A→B")
_A_CLOSES = (*_OPEN, "A close", "deliver A→B")  # A in FIN_WAIT_1, B in CLOSE_WAIT, ACK in flight

#: Hand-made move lists for the rows no built-in scenario reaches: each one walks the two
#: endpoints into the row's source state and then makes the row's event happen.
DRIVE_WITNESSES: dict[tuple[str, str, str], tuple[tuple[str, ...], dict[str, Any]]] = {
    ("LISTEN", "SEND", "SYN_SENT"): (("A listen", "A send"), {}),
    ("SYN_RECEIVED", "rcv RST", "CLOSED"): (
        (
            "A connect",
            "B connect",
            "deliver A→B",
            "deliver B→A",
            "A abort",
            "lose A→B",
            "deliver A→B",
        ),
        {},
    ),
    ("CLOSE_WAIT", "timeout retransmit", "CLOSED"): (
        (
            *_A_CLOSES,
            "B send",
            "lose B→A",
            "lose B→A",
            *(("fire B retransmit", "lose B→A") * 15),
            "fire B retransmit",
        ),
        {},
    ),
    ("CLOSING", "rcv RST", "CLOSED"): (
        (*_OPEN, "A close", "B close", "deliver A→B", "A abort", "deliver A→B"),
        {},
    ),
    ("LISTEN", "ABORT", "CLOSED"): (("A listen", "A abort"), {}),
    ("SYN_SENT", "ABORT", "CLOSED"): (("A connect", "A abort"), {}),
    ("SYN_RECEIVED", "ABORT", "CLOSED"): (("B listen", "A connect", "deliver A→B", "B abort"), {}),
    ("FIN_WAIT_1", "ABORT", "CLOSED"): ((*_OPEN, "A close", "A abort"), {}),
    ("FIN_WAIT_2", "ABORT", "CLOSED"): ((*_A_CLOSES, "deliver B→A", "A abort"), {}),
    ("CLOSE_WAIT", "ABORT", "CLOSED"): ((*_A_CLOSES, "B abort"), {}),
    ("CLOSING", "ABORT", "CLOSED"): ((*_OPEN, "A close", "B close", "deliver A→B", "B abort"), {}),
    ("LAST_ACK", "ABORT", "CLOSED"): ((*_A_CLOSES, "B close", "B abort"), {}),
    ("TIME_WAIT", "ABORT", "CLOSED"): (
        (*_A_CLOSES, "deliver B→A", "B close", "deliver B→A", "A abort"),
        {},
    ),
    ("FIN_WAIT_2", "rcv RST", "CLOSED"): (
        (*_A_CLOSES, "deliver B→A", "B abort", "deliver B→A"),
        {},
    ),
    ("LISTEN", "host vanishes", "CLOSED"): (("A listen", "A vanish"), {}),
    ("SYN_SENT", "host vanishes", "CLOSED"): (("A connect", "A vanish"), {}),
    ("SYN_RECEIVED", "host vanishes", "CLOSED"): (
        ("B listen", "A connect", "deliver A→B", "B vanish"),
        {},
    ),
    ("ESTABLISHED", "host vanishes", "CLOSED"): ((*_OPEN, "A vanish"), {}),
    ("FIN_WAIT_1", "host vanishes", "CLOSED"): ((*_OPEN, "A close", "A vanish"), {}),
    ("FIN_WAIT_2", "host vanishes", "CLOSED"): ((*_A_CLOSES, "deliver B→A", "A vanish"), {}),
    ("CLOSE_WAIT", "host vanishes", "CLOSED"): ((*_A_CLOSES, "B vanish"), {}),
    ("CLOSING", "host vanishes", "CLOSED"): (
        (*_OPEN, "A close", "B close", "deliver A→B", "B vanish"),
        {},
    ),
    ("LAST_ACK", "host vanishes", "CLOSED"): ((*_A_CLOSES, "B close", "B vanish"), {}),
    ("TIME_WAIT", "host vanishes", "CLOSED"): (
        (*_A_CLOSES, "deliver B→A", "B close", "deliver B→A", "A vanish"),
        {},
    ),
    # After shutdown() the application still reads; data it leaves unread turns close() into RST.
    ("FIN_WAIT_1", "CLOSE with unread data", "CLOSED"): (
        (*_OPEN, "A shutdown", "B send", "deliver B→A", "A close"),
        {"auto_read": False},
    ),
    ("FIN_WAIT_2", "CLOSE with unread data", "CLOSED"): (
        (*_OPEN, "A shutdown", "deliver A→B", "deliver B→A", "B send", "deliver B→A", "A close"),
        {"auto_read": False},
    ),
    ("CLOSING", "CLOSE with unread data", "CLOSED"): (
        (*_OPEN, "A shutdown", "B send", "B close", "deliver B→A", "deliver B→A", "A close"),
        {"auto_read": False},
    ),
    ("LAST_ACK", "CLOSE with unread data", "CLOSED"): (
        (*_OPEN, "B send", "B close", "deliver B→A", "deliver B→A", "A shutdown", "A close"),
        {"auto_read": False},
    ),
    ("CLOSE_WAIT", "CLOSE with unread data", "CLOSED"): (
        (*_OPEN, "B send", "B close", "deliver B→A", "deliver B→A", "A close"),
        {"auto_read": False},
    ),
}

RowKey = tuple[str, str, str]


@dataclass(frozen=True)
class Witness:
    """A run that takes some endpoint along one row of the table.

    Either a built-in scenario with options (``tcpbook.simulate(scenario, **options)``) or,
    when no scenario gets there, a list of :class:`Driver` moves.
    """

    scenario: str | None
    options: dict[str, Any]
    moves: tuple[str, ...] = ()

    def run(self) -> Trace:
        if self.scenario is not None:
            from . import simulate

            return simulate(self.scenario, **self.options)
        driver = Driver(**self.options)
        driver.run(self.moves)
        return driver.trace

    def describe(self) -> str:
        if self.scenario is not None:
            args = "".join(f", {k}={_show(v)}" for k, v in self.options.items())
            return f'simulate("{self.scenario}"{args})'
        opts = ", ".join(f"{k}={v!r}" for k, v in self.options.items())
        return f"Driver({opts}): " + ", ".join(_runs(self.moves))


def _runs(moves: tuple[str, ...]) -> list[str]:
    """Moves with a repeated pair written once: ``(fire B retransmit, lose B→A) × 15``."""
    out: list[str] = []
    i = 0
    while i < len(moves):
        pair = moves[i : i + 2]
        n = 1
        while len(pair) == 2 and moves[i + 2 * n : i + 2 * n + 2] == pair:
            n += 1
        if n >= 3:
            out.append(f"({', '.join(pair)}) × {n}")
            i += 2 * n
        else:
            out.append(moves[i])
            i += 1
    return out


def _show(value: Any) -> str:
    if isinstance(value, range):
        return f"range({value.start}, {value.stop})"
    return repr(value)


def reached(trace: Trace) -> set[RowKey]:
    """The table rows ``trace`` went along, as ``(from, event, to)``.

    Transitions are recorded when the state changes; the one self-loop of the table (a FIN
    arriving in TIME_WAIT is ACKed again, 2MSL restarts: RFC 9293 3.10.7.4) changes no state,
    so it is recognised from the segments instead.
    """
    rows = {(t.src, t.cause, t.dst) for t in trace.transitions}
    for seg in trace.segments:
        if "FIN" in seg.flags and seg.delivered_to is not None and seg.arrived is not None:
            before = _state_before(trace, seg.dst, seg.delivered_to, seg.arrived)
            if before == "TIME_WAIT":
                rows.add(("TIME_WAIT", "rcv FIN", "TIME_WAIT"))
    return rows


def _state_before(trace: Trace, endpoint: str, conn: int, t: float) -> str | None:
    """The state of connection ``conn`` of ``endpoint`` just before its changes at ``t``."""
    state: str | None = None
    for tr in trace.transitions:
        if tr.endpoint == endpoint and tr.conn == conn:
            if tr.t >= t:
                break
            state = tr.dst
    return state


def _candidates() -> Iterable[tuple[str, dict[str, Any]]]:
    """Scenario runs to search, simplest first, so each row's witness is the plainest one."""
    from .scenarios import SCENARIOS

    option_sets: list[dict[str, Any]] = [
        {},
        {"skip_time_wait": True},
        {"rfc1337": True},
        {"fin_timeout": 60.0},
    ]
    option_sets += [{"drop": [n]} for n in range(1, 16)]
    option_sets += [{"drop": range(n, 400)} for n in range(1, 16)]
    option_sets += [{"drop": [a, b]} for a in range(1, 12) for b in range(a + 1, 14)]
    for switch in ({"skip_time_wait": True}, {"rfc1337": True}, {"fin_timeout": 60.0}):
        option_sets += [{**switch, "drop": [n]} for n in range(1, 16)]
    for options in option_sets:
        for name in SCENARIOS:
            yield name, options


@dataclass(frozen=True)
class CoverageRow:
    """One row of the transition table and the run that reaches it (None: nothing does)."""

    src: str
    event: str
    dst: str
    source: str
    witness: Witness | None


class Coverage(list[CoverageRow]):
    """The whole table with a witness per row; shows as a table in Jupyter."""

    @property
    def missing(self) -> list[CoverageRow]:
        return [row for row in self if row.witness is None]

    def summary(self) -> str:
        by_drive = sum(1 for r in self if r.witness and r.witness.scenario is None)
        hit = len(self) - len(self.missing)
        return (
            f"{hit} of {len(self)} rows reached: {hit - by_drive} by a built-in scenario, "
            f"{by_drive} by driving the endpoints by hand, {len(self.missing)} not at all"
        )

    def __str__(self) -> str:
        lines = [self.summary()]
        for r in self:
            how = r.witness.describe() if r.witness else "NOT REACHED"
            lines.append(f"{r.src:>12} --{r.event}--> {r.dst:<12} {how}")
        return "\n".join(lines)

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text(str(self))

    def _repr_html_(self) -> str:
        from html import escape

        head = "<tr><th>from</th><th>event</th><th>to</th><th>source</th><th>reached by</th></tr>"
        body = []
        for r in self:
            how = escape(r.witness.describe()) if r.witness else "<b>not reached</b>"
            body.append(
                f"<tr><td>{r.src}</td><td>{escape(r.event)}</td><td>{r.dst}</td>"
                f"<td style='white-space:nowrap'>{r.source}</td>"
                f"<td style='text-align:left'><code>{how}</code></td></tr>"
            )
        return f"<p>{escape(self.summary())}</p><table>{head}{''.join(body)}</table>"


def coverage() -> Coverage:
    """For every row of :data:`tcpbook.states.TRANSITIONS`, a run that goes along it.

    Built-in scenarios (with options: losses, ``skip_time_wait``, ...) are searched first;
    rows none of them reach get a :data:`DRIVE_WITNESSES` move list, checked by running it.
    """
    from .states import TRANSITIONS

    wanted = {(t.src.value, t.event, t.dst.value) for t in TRANSITIONS}
    found: dict[RowKey, Witness] = {}
    for name, options in _candidates():
        if wanted <= found.keys():
            break
        from . import simulate

        for key in reached(simulate(name, **options)):
            if key in wanted and key not in found:
                found[key] = Witness(name, dict(options))
    for key, (moves, options) in DRIVE_WITNESSES.items():
        if key in wanted and key not in found:
            witness = Witness(None, dict(options), moves)
            if key in reached(witness.run()):
                found[key] = witness
    return Coverage(
        CoverageRow(
            t.src.value,
            t.event,
            t.dst.value,
            t.source,
            found.get((t.src.value, t.event, t.dst.value)),
        )
        for t in TRANSITIONS
    )


LOG_LINES = 14  # the panel shows the end of the log; Driver.log keeps all of it
PANEL_DPI = 80


def _panel_class() -> type:
    """The panel class, built on first use so that importing tcpbook.drive stays light."""
    import ipywidgets as W
    from matplotlib.figure import Figure

    class DrivePanel(W.VBox):  # type: ignore[misc]
        """Buttons for every move, the state diagram of both sides, a growing ladder and a log.

        ``.driver`` is the :class:`Driver` in use; ``.press(move)`` is what a button does.
        """

        def __init__(self, driver: Driver) -> None:
            self.driver = driver
            self.history: list[str] = [str(o.move) for o in driver.outcomes if o.ok]
            self._fig = Figure(figsize=(7.0, 5.0))
            self.status_html = W.HTML()
            self.message_html = W.HTML()
            self.button_rows = W.VBox()
            self.diagram_html = W.HTML(layout=W.Layout(width="100%", overflow="auto"))
            self.ladder_image = W.Image(
                format="png",
                layout=W.Layout(max_width="100%", height="auto", object_fit="contain"),
            )
            self.log_html = W.HTML()
            undo = W.Button(description="undo", icon="undo", layout=W.Layout(width="auto"))
            again = W.Button(
                description="start again", icon="refresh", layout=W.Layout(width="auto")
            )
            undo.on_click(lambda _b: self.replay(self.history[:-1]))
            again.on_click(lambda _b: self.replay([]))
            super().__init__(
                children=[
                    self.status_html,
                    self.button_rows,
                    W.HBox([undo, again]),
                    self.message_html,
                    W.Box(
                        [
                            W.Box([self.ladder_image], layout=W.Layout(flex="1 1 420px")),
                            W.Box([self.diagram_html], layout=W.Layout(flex="1 1 420px")),
                        ],
                        layout=W.Layout(
                            flex_flow="row wrap", align_items="flex-start", width="100%"
                        ),
                    ),
                    self.log_html,
                ]
            )
            self.add_class("tcpbook-drive")
            self.refresh()

        def replay(self, moves: list[str]) -> None:
            """Start from scratch and replay ``moves`` (how undo works: the core is pure)."""
            self.driver = Driver(**self.driver.options)
            self.driver.run(moves)
            self.history = list(moves)
            self.message_html.value = ""
            self.refresh()

        def press(self, move: Move | str) -> Outcome:
            from html import escape

            outcome = self.driver.apply(move)
            if outcome.ok:
                self.history.append(str(outcome.move))
                self.message_html.value = ""
            else:
                text = escape(outcome.text)
                self.message_html.value = f"<span style='color:#b00020'>{text}</span>"
            self.refresh()
            return outcome

        def _row(self, title: str, moves: list[Move]) -> Any:
            buttons = []
            for move in moves:
                label = move.name if move.kind == "call" else str(move)
                button = W.Button(description=label, layout=W.Layout(width="auto"))
                button.on_click(lambda _b, m=move: self.press(m))
                buttons.append(button)
            if not buttons:
                buttons = [W.Label("(nothing)")]
            return W.HBox([W.Label(title, layout=W.Layout(width="7em")), *buttons])

        @property
        def status(self) -> str:
            d = self.driver
            flying = sum(len(q) for q in d.flight.values())
            plural = "" if flying == 1 else "s"
            return (
                f"t = {d.now:g} s · A: {d.state('A')} · B: {d.state('B')} · "
                f"{flying} segment{plural} in flight"
            )

        def refresh(self) -> None:
            from html import escape

            from . import render

            d = self.driver
            moves = d.moves()
            calls = [m for m in moves if m.kind == "call"]
            self.button_rows.children = [
                self._row("network", [m for m in moves if m.kind in ("deliver", "lose")]),
                self._row("timers", [m for m in moves if m.kind == "fire"]),
                self._row("A calls", [m for m in calls if m.endpoint == "A"]),
                self._row("B calls", [m for m in calls if m.endpoint == "B"]),
            ]
            self.status_html.value = f"<b>{escape(self.status)}</b>"
            trace = d.trace
            svg = render.state_diagram(trace, endpoint="both").svg()
            self.diagram_html.value = _SVG_SIZE.sub(
                r'<svg\1 width="100%" style="max-width: \2pt; height: auto"', svg, count=1
            )
            if trace.transitions:
                self._fig = render.ladder(trace, fig=self._fig)
                self.ladder_image.value = _png(self._fig)
                self.ladder_image.layout.display = None
            else:  # nothing has happened yet: an empty ladder is only a pair of lines
                self.ladder_image.layout.display = "none"
            tail = escape("\n".join(d.log[-LOG_LINES:]))
            self.log_html.value = f"<pre style='font-size:90%'>{tail}</pre>"

        def static(self) -> bytes:
            """A PNG of the ladder next to the state diagram, for readers without a kernel."""
            import graphviz

            from . import render

            trace = self.driver.trace
            source = render.state_diagram(trace, endpoint="both").source
            diagram: bytes = graphviz.Source(source).pipe(format="png")
            return _beside(_png(render.ladder(trace, fig=Figure())), diagram)

        def __repr__(self) -> str:
            return f"<DrivePanel {self.status}>"

        def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any] | None:
            import base64

            data: dict[str, Any] | None = super()._repr_mimebundle_(**kwargs)
            if data is None:
                return None
            data["text/plain"] = f"Drive it yourself: {self.status}"
            data["image/png"] = base64.b64encode(self.static()).decode("ascii")
            return data

    return DrivePanel


_PANEL: list[type] = []


#: Graphviz writes a fixed size in pt; the panel lets the diagram shrink with its box instead.
_SVG_SIZE = re.compile(r'<svg([^>]*?) width="([0-9.]+)pt" height="[0-9.]+pt"')
STATIC_DIAGRAM_HEIGHT = 520  # pixels: the state diagram stays readable next to a short ladder


def _beside(ladder_png: bytes, diagram_png: bytes) -> bytes:
    """The ladder at its own size, the state diagram scaled to a readable height, tops aligned."""
    import io

    from PIL import Image

    a = Image.open(io.BytesIO(ladder_png)).convert("RGB")
    b = Image.open(io.BytesIO(diagram_png)).convert("RGB")
    height = max(a.height, STATIC_DIAGRAM_HEIGHT)
    b = b.resize((round(b.width * height / b.height), height), Image.Resampling.LANCZOS)
    canvas = Image.new("RGB", (a.width + 16 + b.width, height), "white")
    canvas.paste(a, (0, 0))
    canvas.paste(b, (a.width + 16, 0))
    buf = io.BytesIO()
    canvas.save(buf, format="png", optimize=True)
    return buf.getvalue()


def _png(fig: Any) -> bytes:
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=PANEL_DPI, metadata={"Software": None})
    return buf.getvalue()


def drive(driver: Driver | None = None, **kwargs: Any) -> Any:
    """An ipywidgets panel around a :class:`Driver`: one button per move, diagrams below.

    ``kwargs`` go to :class:`Driver` (``msl=5``, ``rfc1337=True``, ...). The panel's ``.driver``
    is the scriptable core in use and ``.press("A connect")`` makes a move as a button would.
    """
    if not _PANEL:
        _PANEL.append(_panel_class())
    return _PANEL[0](driver if driver is not None else Driver(**kwargs))


__all__ = [
    "CALLS",
    "Coverage",
    "CoverageRow",
    "Driver",
    "Move",
    "Outcome",
    "Witness",
    "coverage",
    "drive",
    "parse_move",
    "reached",
]
