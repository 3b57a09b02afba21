"""A deterministic discrete-event simulator: two hosts, A and B, and the network between them.

The clock and the event heap are a :class:`~tcpbook.kernel.Kernel`; each host is a
:class:`~tcpbook.host.Host` that acts on its endpoint's outputs. What this module adds is the
scripted applications (a scenario's steps, at a time or a little after a state is reached) and
the network: it delays each segment by a fixed one-way latency plus any extra delay asked for,
drops or duplicates chosen segments, and discards a segment still in flight MSL after it was
sent (RFC 9293 section 3.4.1: MSL is the longest a segment may live in the network).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from mypy_extensions import mypyc_attr

from .endpoint import Config, Segment, reset_for
from .errors import IllegalCall
from .host import Host
from .kernel import Event, Kernel
from .settings import Settings, endpoint_config
from .states import State
from .trace import ENDPOINTS, ErrorRecord, SegmentRecord, Trace
from .trace import Endpoint as Side

if TYPE_CHECKING:
    from .endpoint import Change
    from .scenarios import Scenario, Step

DUPLICATE_LAG = 1.0  # a network duplicate arrives this long after the original
MAX_EVENTS = 100_000  # a guard: every run the book makes settles in a few hundred events

#: Decides whether the network loses a segment as it is sent (the scenario's or a caller's rule).
DropRule = Callable[[SegmentRecord, "Simulator"], bool]
#: Extra seconds of flight for a segment, on top of the latency and any fixed delay.
DelayRule = Callable[[SegmentRecord], float]


class Call(Event):
    """A scenario step runs (an application makes a call)."""

    __slots__ = ("sim", "step")

    def __init__(self, sim: Simulator, step: Step) -> None:
        self.sim = sim
        self.step = step

    def happen(self) -> None:
        self.sim.run_step(self.step)


class Arrival(Event):
    """A segment reaches its destination host."""

    __slots__ = ("rec", "segment", "sim")

    def __init__(self, sim: Simulator, rec: SegmentRecord, segment: Segment) -> None:
        self.sim = sim
        self.rec = rec
        self.segment = segment

    def happen(self) -> None:
        rec = self.rec
        rec.fate = "delivered"
        rec.arrived = self.time
        host = self.sim.hosts[rec.dst]
        if host.vanished:
            return
        tcb = host.tcb
        if tcb is None:
            reply = reset_for(self.segment)  # RFC 9293 3.10.7.1: no connection here
            if reply is not None:
                host.send(reply, rec.conn)
            return
        rec.delivered_to = host.conn
        tcb.receive(self.segment)
        if host.drain():
            rec.delivered_to = host.conn  # handed to the listener: the new connection took it


class Expiry(Event):
    """A segment has been in the network for MSL: it dies there (RFC 9293 section 3.4.1)."""

    __slots__ = ("rec",)

    def __init__(self, rec: SegmentRecord) -> None:
        self.rec = rec

    def happen(self) -> None:
        self.rec.fate = "expired"


class SimHost(Host):
    """A host whose segments go into the simulator's network and whose state changes wake steps."""

    def __init__(self, sim: Simulator, name: Side, isn: int, config: Config) -> None:
        super().__init__(name, sim.kernel, sim.trace, isn=isn, config=config)
        self.sim = sim
        # the states of this host that scripted steps wait for (checked on every state change)
        self.wakes = frozenset(state for (who, state) in sim.waiting if who == name)
        self.listen_waiting = False  # a listen() call waits for the port

    def send(self, segment: Segment, conn: int | None = None) -> None:
        """Put a segment on the wire (for connection ``conn``, this one's by default)."""
        sim = self.sim
        rec = sim.trace.add_segment(
            segment, self.name, self.conn if conn is None else conn, sim.kernel.now
        )
        number = rec.id
        extra = sim.delay.get(number, 0.0)
        if sim.delay_rule is not None:
            extra += sim.delay_rule(rec)
        flight = sim.latency + extra
        lag = sim.duplicate.get(number)
        if lag is None:
            sim.launch(rec, segment, flight)
            return
        # the network's copy: the same segment, numbered next (made before rec's fate is set)
        copy = replace(rec, id=number + 1, duplicate_of=number)
        delivered = sim.launch(rec, segment, flight)
        sim.trace.segments.append(copy)
        base = flight if delivered else sim.latency
        sim.launch(copy, segment, base + (lag or DUPLICATE_LAG))

    def has_listener(self) -> bool:
        """A scenario's ``listen`` waiting for the port (a server about to listen again)."""
        return self.listen_waiting

    def released(self) -> None:
        self.listen_waiting = False
        super().released()

    def changed(self, change: Change) -> None:
        if change.dst in self.wakes:
            self.sim.trigger(self.name, change.dst)


@mypyc_attr(allow_interpreted_subclasses=True)  # subclassed outside the compiled core
class Simulator:
    """Runs one scenario script against two hosts and records a :class:`Trace`.

    ``drop_rule`` and ``delay_rule`` are hooks for the network: the first decides, as each
    segment is sent, whether it is lost (it replaces the scenario's own rule and ``drop``); the
    second adds seconds to its flight. Monte Carlo draws its random losses and jitter there.
    ``record_timers=False`` leaves timer starts, fires and cancels out of the trace (bulk runs
    that only count outcomes do without them).
    """

    def __init__(
        self,
        scenario: Scenario,
        settings: Settings,
        *,
        drop_rule: DropRule | None = None,
        delay_rule: DelayRule | None = None,
        record_timers: bool = True,
    ) -> None:
        settings = settings.for_scenario(scenario)
        self.scenario = scenario
        self.settings = settings
        self.kernel = Kernel()
        self.trace = Trace(scenario.name, settings.to_dict())
        self.drop_ids = frozenset(settings.drop or ())
        if drop_rule is None and settings.drop is None:
            drop_rule = scenario.drop_rule
            if drop_rule is not None and scenario.drop_text:
                self.trace.params["loss"] = scenario.drop_text
        self.drop_rule: DropRule | None = drop_rule
        self.delay_rule = delay_rule
        self.delay = settings.delay or {}
        self.latency = settings.latency
        self.msl = settings.msl
        self.duplicate = settings.duplicate or {}
        config = _shared_config(settings)
        self.waiting = _waiting(scenario)
        self.hosts: dict[str, SimHost] = {
            "A": SimHost(self, "A", settings.isn_a, _with(config, scenario.config.get("A"))),
            "B": SimHost(self, "B", settings.isn_b, _with(config, scenario.config.get("B"))),
        }
        if not record_timers:
            for host in self.hosts.values():
                host.record_timers = False
        self._fired: set[int] = set()

    @property
    def now(self) -> float:
        return self.kernel.now

    def run(self) -> Trace:
        kernel = self.kernel
        for step in self.scenario.steps:
            if step.at is not None:
                kernel.schedule_at(step.at, Call(self, step))
        until = self.settings.until
        kernel.run(until, limit=MAX_EVENTS)
        self.trace.end = until if until is not None else kernel.now
        self.trace.final = {
            name: (host.tcb.state.value if host.tcb else "CLOSED")
            for name, host in self.hosts.items()
        }
        return self.trace

    # -- the network -------------------------------------------------------------------------

    def launch(self, rec: SegmentRecord, seg: Segment, flight: float) -> bool:
        """Schedule arrival ``flight`` seconds from now, or expiry if that exceeds MSL."""
        if rec.id in self.drop_ids or (self.drop_rule is not None and self.drop_rule(rec, self)):
            rec.fate = "dropped"
            return False
        if flight > self.msl:
            self.kernel.schedule_at(rec.sent + self.msl, Expiry(rec))
        else:
            self.kernel.schedule_at(rec.sent + flight, Arrival(self, rec, seg))
        return True

    # -- the applications ----------------------------------------------------------------------

    def trigger(self, endpoint: str, state: State) -> None:
        """``endpoint`` entered ``state``: schedule the steps that wait for it."""
        for index in self.waiting.get((endpoint, state), ()):
            if index not in self._fired:
                self._fired.add(index)
                step = self.scenario.steps[index]
                self.kernel.schedule_at(self.kernel.now + step.after, Call(self, step))

    def run_step(self, step: Step) -> None:
        host = self.hosts[step.endpoint]
        if host.vanished:
            return
        call = step.call
        if call == "vanish":
            host.vanish()
            return
        if call in ("listen", "connect"):
            if host.tcb is not None:
                host.deferred.append(lambda: self.run_step(step))  # like retrying bind() later
                host.listen_waiting = host.listen_waiting or call == "listen"
                return
            host.attach(host.new_endpoint(step.arg if call == "connect" else 0))
        tcb = host.tcb
        if tcb is None:
            if call == "send":
                self.trace.errors.append(ErrorRecord(self.kernel.now, host.name, "EPIPE"))
            return
        try:
            if call == "send":
                tcb.send(step.arg)
            else:
                getattr(tcb, call)()
        except IllegalCall:
            if call == "send" and tcb.state is State.CLOSED:
                self.trace.errors.append(ErrorRecord(self.kernel.now, host.name, "EPIPE"))
        host.drain()


_WAITING: dict[int, tuple[Scenario, dict[tuple[str, State], list[int]]]] = {}
_CONFIGS: dict[int, tuple[Settings, Config]] = {}


def _waiting(scenario: Scenario) -> dict[tuple[str, State], list[int]]:
    """The steps waiting for each (endpoint, state), in script order (worked out once).

    ``trigger`` runs on every state change, so it looks them up instead of scanning the script.
    """
    hit = _WAITING.get(id(scenario))
    if hit is not None and hit[0] is scenario:
        return hit[1]
    waiting: dict[tuple[str, State], list[int]] = {}
    for index, step in enumerate(scenario.steps):
        if step.on is not None:
            waiting.setdefault((step.endpoint, step.on), []).append(index)
    if len(_WAITING) > 256:
        _WAITING.clear()
    _WAITING[id(scenario)] = (scenario, waiting)
    return waiting


def _shared_config(settings: Settings) -> Config:
    """The endpoint config of ``settings``, made once per settings object and only read."""
    hit = _CONFIGS.get(id(settings))
    if hit is not None and hit[0] is settings:
        return hit[1]
    config = endpoint_config(settings)
    if len(_CONFIGS) > 256:
        _CONFIGS.clear()
    _CONFIGS[id(settings)] = (settings, config)
    return config


def _with(config: Config, overrides: Mapping[str, Any] | None) -> Config:
    """``config`` with a scenario's per-host overrides (shared when there are none: read-only)."""
    return replace(config, **overrides) if overrides else config


def simulate_scenario(
    scenario: Scenario,
    settings: Settings,
    *,
    drop_rule: DropRule | None = None,
    delay_rule: DelayRule | None = None,
) -> Trace:
    """Run ``scenario`` with ``settings``; see :func:`tcpbook.simulate` for the friendly API."""
    return Simulator(scenario, settings, drop_rule=drop_rule, delay_rule=delay_rule).run()


__all__ = ["ENDPOINTS", "DelayRule", "DropRule", "Simulator", "simulate_scenario"]
