"""Run a packetdrill script against one tcpbook :class:`~tcpbook.endpoint.Endpoint`.

The script plays the remote peer: it injects segments (``<``) and system calls into the endpoint
and checks every segment the endpoint sends (``>``) field by field and in time. The clock is a
tiny discrete-event loop in integer microseconds (packetdrill's resolution): the endpoint's timers
fire in deadline order between script lines, and processing takes no time. As in packetdrill, a
relative time (``+0.1``) counts from the moment the previous line finished, and the run stops at
the first mismatch.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

from ..endpoint import SEQ_MOD, Change, Config, Endpoint, Segment, config_for
from ..errors import TcpbookError
from ..host import Host
from ..kernel import Kernel
from ..profiles import LINUX, PROFILES, RFC9293, for_sysctl
from ..profiles import get as get_profile
from ..states import State
from ..trace import Trace
from .parser import (
    USEC,
    Command,
    Directive,
    Option,
    Packet,
    Script,
    ScriptProblem,
    Statement,
    Syscall,
    TcpiAssert,
    Time,
    parse,
    segment_notation,
)
from .results import LineResult, Mismatch, PktResult, Verdict
from .results import seconds_text as _seconds
from .syscalls import LINUX_FIN_TIMEOUT, Pending, Syscalls

S = State

DEFAULT_TOLERANCE_US = 4000  # packetdrill's default --tolerance_usecs (config.c)
DEFAULT_TOLERANCE_PERCENT = 12.5  # packetdrill's default --tolerance_percent (config.c)
LOCAL_ISN = 1000  # the tested endpoint's ISS (tcpbook.settings.ISN_A); scripts see it as 0
LINUX_MIN_RTO = 0.2  # Linux TCP_RTO_MIN, 200 ms (include/net/tcp.h)
LINUX_DELACK = 0.04  # Linux TCP_DELACK_MIN, 40 ms


RTO_NOTE = (
    "known model difference: tcpbook uses RFC 6298's 1 s initial RTO, doubling; Linux uses "
    "200 ms minimum (and a tail-loss probe), other kernels other values; the header line "
    "'// tcpbook: linux-rto' makes tcpbook's RTO 200 ms"
)
DELACK_NOTE = (
    "known model difference: tcpbook ACKs at once; Linux may delay an ACK by about 40 ms and "
    "send it with the next segment"
)
SEGMENT_NOTE = "tcpbook sends each write() as one segment; segmentation is outside the model"

#: Linux sysctls with a tcpbook knob: name -> Config field.
HONOURED_SYSCTLS = {
    "tcp_fin_timeout": "fin_timeout",
    "tcp_syn_retries": "syn_retries",
    "tcp_synack_retries": "synack_retries",
    "tcp_retries2": "retries2",
    "tcp_rfc1337": "rfc1337",
    "tcp_orphan_retries": "orphan_retries",
}
_SYSCTL = re.compile(r"net[./]ipv4[./](tcp_\w+)\s*=\s*\"?([\w.-]+)")
_PROC = re.compile(r"echo\s+\"?([\w.-]+)\"?\s*>\s*/proc/sys/net/ipv4/(tcp_\w+)")
#: FreeBSD sysctls with a tcpbook knob (tcp_timer.c, tcp_subr.c): name -> (Config field, unit
#: in seconds). Times are in milliseconds there (``net.inet.tcp.msl=30000``).
HONOURED_FREEBSD_SYSCTLS = {
    "msl": ("msl", 0.001),
    "finwait2_timeout": ("fin_timeout", 0.001),
    "rexmit_initial": ("rto", 0.001),
}
_BSD_SYSCTL = re.compile(r"net\.inet\.tcp\.([\w.]+)\s*=\s*\"?([\w.-]+)")
_SYSCTL_NAME = re.compile(r"\bnet[./][\w./]+?(?=\s*=)")


def _profile_for(sysctls: list[str]) -> str | None:
    """The kernel profile a script's shell lines point at (:func:`tcpbook.profiles.for_sysctl`:
    ``net.inet.tcp.*`` is FreeBSD's sysctl tree, ``net.ipv4.*`` Linux's); None for a script
    with neither, which runs the plain model as ``simulate`` does without a profile."""
    for text in sysctls:
        for name in _SYSCTL_NAME.findall(text):
            kernel = for_sysctl(name.replace("/", "."))
            if kernel is not None:
                return kernel.name
    return None


def profile_config(profile: str) -> Config:
    """The endpoint settings a script runs with under ``profile``: that kernel's timers and
    rules (:mod:`tcpbook.profiles`); the application reads only what the script reads."""
    return config_for(get_profile(profile), auto_read=False)


class _Stop(Exception):
    """The run ends here (first mismatch, or a construct found unsupported while running)."""


@dataclass
class Queued:
    at: int
    offset: int  # the local ISN packetdrill's numbers are relative to (0 before our first SYN)
    segment: Segment


# -- the runner ------------------------------------------------------------------------------


class ScriptHost(Host):
    """The endpoint under test: its segments go to the script's checks, its socket stays.

    The script's socket outlives the connection (reads and errors still answer after CLOSED),
    so the TCB is not released; every segment either way is recorded as delivered at once.
    """

    def __init__(self, runner: Runner) -> None:
        super().__init__(
            "A", runner.kernel, runner.trace, isn=runner.local_isn, config=runner.config
        )
        self.runner = runner
        self.release_closed = False
        self.notify_received = True

    def has_listener(self) -> bool:
        """The script called listen(): its listening socket would take a new SYN."""
        return bool(self.runner.listening)

    def record(self, seg: Segment, src: Literal["A", "B"]) -> None:
        t = self.kernel.seconds(self.kernel.now)
        rec = self.trace.add_segment(seg, src, 1, t)
        rec.fate, rec.arrived = "delivered", t
        if src == "A" or (self.tcb is not None and self.tcb.state is not S.CLOSED):
            rec.delivered_to = 1

    def send(self, segment: Segment) -> None:
        runner = self.runner
        if segment.syn:
            # packetdrill learns the local ISN only from some SYNs (see Runner.isn)
            runner.syn_sent = True
            runner.isn = segment.seq
        self.record(segment, "A")
        runner.outq.append(Queued(runner.now, runner.isn if runner.syn_sent else 0, segment))

    def changed(self, change: Change) -> None:
        if change.cause.startswith("rcv FIN"):
            self.runner.eof = True
        if change.dst is S.ESTABLISHED:
            self.runner.established_once = True

    def app_error(self, error: str) -> str:
        self.runner.sk_err = error
        return error

    def received(self, length: int) -> None:
        if length == 0:
            self.runner.eof = True


class Runner(Syscalls):
    """One run of one script (use :func:`run_script`)."""

    def __init__(
        self,
        script: Script,
        name: str,
        config: Config,
        local_isn: int,
        profile: str | None = None,
    ) -> None:
        self.script = script
        self.name = name
        self.config = config
        self.profile = profile
        self.local_isn = local_isn % SEQ_MOD
        self.tolerance = DEFAULT_TOLERANCE_US
        self.tolerance_percent = DEFAULT_TOLERANCE_PERCENT
        self.cur_tolerance = DEFAULT_TOLERANCE_US  # this statement's (see _tolerance_for)
        self.last_event_t: int | None = None  # the previous timed statement's expected time
        self.connect_armed = False  # connect() called: its SYN sets the local ISN
        self.passive_isn_known = False  # the first SYN,ACK of a passive open set it
        self._isn = local_isn % SEQ_MOD
        self.remote_isn = 0  # the peer's ISN packetdrill counts from (see _learn_remote_isn)
        self.peer_known = False  # the first segment to a listener (or no socket) came
        self.awaiting_synack = False  # connect()'s SYN was sent; its SYN,ACK sets remote_isn
        self.not_checked: list[str] = []
        self.kernel = Kernel(per_second=USEC)  # the clock, in integer microseconds
        self.trace = Trace(f"packetdrill {name}", {})
        self.host = ScriptHost(self)
        self.base = 0  # where relative times count from
        self.stmt_base = 0  # the base the current statement's relative times counted from
        self.sent: set[str] = set()  # every segment sent so far, in packetdrill notation
        self.last_script_time = 0
        self.fds: dict[int, str] = {}  # fd -> "sock" | "listener" | "conn"
        self.nonblocking: set[int] = set()
        self.socket_made = False
        self.listening = False
        self.accepted = False
        self.established_once = False
        self.syn_sent = False
        self.linger0 = False
        self.sk_err: str | None = None
        self.eof = False
        self.shut_rd = False
        self.outq: deque[Queued] = deque()
        self.pending: Pending | None = None
        self.results = [LineResult(s.line, s.text) for s in script.statements]
        self.mismatch: Mismatch | None = None
        self.problem = ""
        self.notes: list[str] = []

    # -- the endpoint and its outputs ------------------------------------------------------

    @property
    def now(self) -> int:
        """The clock, in microseconds."""
        return int(self.kernel.now)

    @now.setter
    def now(self, t: int) -> None:
        self.kernel.now = t

    @property
    def ep(self) -> Endpoint | None:
        """The endpoint under test (None until the script makes its socket)."""
        return self.host.tcb

    @property
    def timers(self) -> dict[str, tuple[int, int]]:
        """The running timers: name -> (deadline in microseconds, order started)."""
        return {name: (int(ev.time), ev.seq) for name, ev in self.host.pending.items()}

    def endpoint(self) -> Endpoint:
        if self.host.tcb is None:
            self.host.isn = self.local_isn
            self.host.attach(self.host.new_endpoint())
        tcb = self.host.tcb
        assert tcb is not None
        return tcb

    @property
    def isn(self) -> int:
        """The local ISN the script's numbers are relative to."""
        return self._isn

    @isn.setter
    def isn(self, seq: int) -> None:
        # packetdrill (run_packet.c) learns the local ISN from the SYN a connect() sends
        # (handle_connect_for_script_packet, each connect() re-arms it) and from the first
        # SYN,ACK of a passive socket (state SOCKET_PASSIVE_PACKET_RECEIVED), never again: a
        # second connection on the same addresses (a SYN reaching TIME_WAIT, a new SYN after a
        # RST sent SYN_RECEIVED back to LISTEN) keeps counting from the first ISN.
        if self.connect_armed:
            self.connect_armed = False
            self._isn = seq
        elif not self.passive_isn_known and self.ep is not None and self.ep.passive:
            self.passive_isn_known = True
            self._isn = seq

    def _offset(self) -> int:
        return self.isn if self.syn_sent else 0

    def _tolerance_for(self, t: int) -> int:
        """packetdrill's ``verify_time`` (run.c): a time is on time within the larger of
        ``--tolerance_usecs`` and ``--tolerance_percent`` of the time since the previous event's
        expected time."""
        tol = self.tolerance
        if self.last_event_t is not None:
            tol = max(tol, int(self.tolerance_percent / 100.0 * (t - self.last_event_t)))
        return tol

    def _drain(self) -> None:
        self.endpoint()
        self.host.drain()
        self._check_pending()

    # -- the clock -------------------------------------------------------------------------

    def _advance(self, t: int, *, inclusive: bool = True, until_packet: bool = False) -> None:
        """Let time pass up to ``t``, firing the endpoint's timers that fall due on the way
        (with ``inclusive``, also those due at exactly ``t``)."""
        while not (until_packet and self.outq):
            nxt = self.kernel.peek()
            limit = self._pending_deadline()
            if nxt is not None and (nxt < t or (inclusive and nxt <= t)):
                if limit is not None and limit < nxt:
                    self.now = max(self.now, limit)
                    self._pending_expired()
                self.kernel.step()  # a timer of the endpoint fires
                continue
            break
        if until_packet and self.outq:
            return
        limit = self._pending_deadline()
        if limit is not None and limit < t:
            self.now = max(self.now, limit)
            self._pending_expired()
        self.now = max(self.now, t)

    def _when(self, time: Time, line: int) -> int:
        if time.kind == "any":
            return self.base
        if time.kind == "rel":
            return self.base + time.start
        if time.start < self.last_script_time:
            raise ScriptProblem("malformed", "time goes backwards", line)
        return time.start

    # -- running ---------------------------------------------------------------------------

    def run(self) -> PktResult:
        try:
            for index, stmt in enumerate(self.script.statements):
                self._statement(index, stmt)
            self._finish_pending()
        except _Stop:
            pass
        except ScriptProblem as problem:
            self.problem = problem.message
            for r in self.results:
                if r.line == problem.line and r.outcome == "not run":
                    r.outcome = "unsupported" if problem.kind == "unsupported" else "mismatch"
                    r.detail = problem.what
                    break
        verdict: Verdict = "pass"
        if self.problem:
            verdict = "unsupported" if self.problem.startswith("unsupported") else "malformed"
        elif self.mismatch is not None:
            verdict = "mismatch"
        if verdict == "pass" and self.outq:
            rest = [self._notation(q) for q in self.outq]
            self.notes.append(
                f"not checked: {len(rest)} segment(s) sent after the script's last line: "
                + "; ".join(rest)
            )
        end = self.now / USEC
        self.trace.end = end
        self.trace.final = {"A": (self.ep.state if self.ep else S.CLOSED).value}
        self._count_from_zero()
        self.trace.params = self._params()
        return PktResult(
            self.name,
            verdict,
            self.results,
            self.trace,
            self.mismatch,
            self.problem,
            self.notes,
            self.profile,
            self.not_checked,
        )

    def _count_from_zero(self) -> None:
        """The trace's numbers as the script writes them: the tested endpoint's sequence numbers
        (and the script side's acknowledgements of them) counted from its ISS, as packetdrill
        counts them, so a ladder of the run shows both sides' numbers from 0."""
        iss = self.ep.iss if self.ep is not None else self.local_isn
        for rec in self.trace.segments:
            if rec.src == "A":
                rec.seq = (rec.seq - iss) % SEQ_MOD
            elif rec.ack is not None:
                rec.ack = (rec.ack - iss) % SEQ_MOD

    def _params(self) -> dict[str, Any]:
        c = self.config
        return {
            "msl": float(c.msl),
            "rto": float(c.rto),
            "fin_timeout": None if c.fin_timeout is None else float(c.fin_timeout),
            "rfc1337": c.rfc1337,
            "syn_retries": c.syn_retries,
            "skip_time_wait": c.skip_time_wait,
            "latency": 0.0,
            "tolerance_usecs": self.tolerance,
            "tolerance_percent": self.tolerance_percent,
            "profile": self.profile,
            "local_isn": self.local_isn,
            "script": self.name,
        }

    def _statement(self, index: int, stmt: Statement) -> None:
        body = stmt.body
        result = self.results[index]
        if isinstance(body, Option):
            self._option(body, result)
            return
        if isinstance(body, Directive):
            self._directive(body, result, stmt.line)
            return
        if stmt.time is None:
            assert isinstance(body, Command)
            self._command(body, result, stmt.line)
            return
        t = self._when(stmt.time, stmt.line)
        if stmt.time.kind == "abs":
            self.last_script_time = stmt.time.start
        self.cur_tolerance = self._tolerance_for(t) if stmt.time.kind != "any" else 0
        if isinstance(body, Packet) and not body.inbound:
            self._expect(stmt, body, t, result)
            self.last_event_t = t if stmt.time.kind != "any" else self.now
            return
        self.last_event_t = t
        # On an exact tie a call runs before a timer due at that instant and an injected
        # segment arrives after it, as the simulator orders them (it sets a run's calls first).
        self._advance(t, inclusive=not isinstance(body, (Syscall, TcpiAssert)))
        self.stmt_base = self.base
        self.base = self.now
        if isinstance(body, Command):
            self._command(body, result, stmt.line)
        elif isinstance(body, Packet):
            self._inject(body, result)
        elif isinstance(body, TcpiAssert):
            self._tcpi_assert(stmt, body, result)
        else:
            assert isinstance(body, Syscall)
            self._syscall(index, stmt, body, t)
        self.base = self.now

    # -- header lines ------------------------------------------------------------------------

    def _option(self, opt: Option, result: LineResult) -> None:
        if opt.name == "tolerance_usecs":
            if opt.value is None or not opt.value.isdigit():
                raise ScriptProblem("malformed", "--tolerance_usecs needs a number", result.line)
            self.tolerance = int(opt.value)
            result.outcome, result.detail = "pass", f"timing tolerance {self.tolerance} us"
        elif opt.name == "tolerance_percent":
            try:
                percent = float(opt.value or "")
            except ValueError:
                percent = -1.0
            if not 0.0 <= percent <= 100.0:
                raise ScriptProblem(
                    "malformed", "--tolerance_percent needs a number from 0 to 100", result.line
                )
            self.tolerance_percent = percent
            result.outcome = "pass"
            result.detail = f"timing tolerance {percent:g} % of the time since the last event"
        else:
            result.outcome, result.detail = "ignored", f"option --{opt.name} does not apply"

    def _directive(self, d: Directive, result: LineResult, line: int) -> None:
        applied = []
        for key, value in d.settings:
            applied.append(self._setting(key, value, line))
        result.outcome, result.detail = "pass", "tcpbook setting: " + ", ".join(applied)

    def _setting(self, key: str, value: str, line: int) -> str:
        c = self.config

        def number() -> float:
            try:
                x = float(value)
            except ValueError:
                raise ScriptProblem(
                    "malformed", f"tcpbook setting {key} needs a number, got {value!r}", line
                ) from None
            if x < 0:
                raise ScriptProblem("malformed", f"tcpbook setting {key} must be >= 0", line)
            return x

        if key == "linux_rto":
            c.rto = LINUX_MIN_RTO
        elif key == "rto":
            c.rto = number()
            if c.rto <= 0:
                raise ScriptProblem("malformed", "tcpbook setting rto must be > 0", line)
        elif key == "msl":
            c.msl = number()
            if c.msl <= 0:
                raise ScriptProblem("malformed", "tcpbook setting msl must be > 0", line)
        elif key == "fin_timeout":
            c.fin_timeout = None if value in ("off", "none") else number()
        elif key in ("rfc1337", "skip_time_wait", "close_on_eof"):
            if value not in ("0", "1"):
                raise ScriptProblem("malformed", f"tcpbook setting {key} takes 0 or 1", line)
            setattr(c, key, value == "1")
        elif key in ("syn_retries", "synack_retries", "retries2", "orphan_retries"):
            setattr(c, key, int(number()))
        elif key == "profile":
            if value not in (*PROFILES, "none"):  # chosen before the run (run_script)
                known = ", ".join((*PROFILES, "none"))
                raise ScriptProblem("malformed", f"tcpbook setting profile takes {known}", line)
        elif key == "isn":
            if self.ep is not None or not value.isdigit() or int(value) >= SEQ_MOD:
                raise ScriptProblem("malformed", "tcpbook setting isn needs 0..4294967295", line)
            self.local_isn = int(value)
        else:
            raise ScriptProblem(
                "malformed",
                f"unknown tcpbook setting {key!r} (known: linux-rto, rto, msl, fin_timeout, "
                "rfc1337, skip_time_wait, close_on_eof, syn_retries, synack_retries, retries2, "
                "orphan_retries, isn, profile)",
                line,
            )
        if self.ep is not None and key in ("rto", "linux_rto") and not self.syn_sent:
            self.ep.rto = c.rto
        return f"{key}={value}"

    def _command(self, cmd: Command, result: LineResult, line: int) -> None:
        """A shell line: sysctls of the script's kernel set the model's knobs where it has
        them; any other sysctl or command is ignored with a note (it never stops the run)."""
        found = [(m.group(1), m.group(2)) for m in _SYSCTL.finditer(cmd.text)]
        found += [(m.group(2), m.group(1)) for m in _PROC.finditer(cmd.text)]
        bsd = [(m.group(1), m.group(2)) for m in _BSD_SYSCTL.finditer(cmd.text)]
        applied: list[str] = []
        ignored: list[str] = []
        for name, value in found:
            if name == "tcp_ecn" and value not in ("0", "2"):
                raise ScriptProblem("unsupported", "ECN (net.ipv4.tcp_ecn)", line)
            if name == "tcp_fastopen" and value != "0":
                raise ScriptProblem("unsupported", "TCP fast open (net.ipv4.tcp_fastopen)", line)
            knob = HONOURED_SYSCTLS.get(name)
            if knob is None:
                ignored.append(f"net.ipv4.{name}")
                continue
            if not re.fullmatch(r"-?\d+", value):
                raise ScriptProblem("malformed", f"sysctl {name} needs an integer", line)
            number = int(value)
            if knob == "rfc1337":
                self.config.rfc1337 = number != 0
            elif knob == "fin_timeout":
                self.config.fin_timeout = float(number) if number > 0 else LINUX_FIN_TIMEOUT
            elif knob == "orphan_retries":
                self.config.orphan_retries = number if number > 0 else 8  # Linux: 0 means 8
            else:
                setattr(self.config, knob, number)
            applied.append(f"{name}={value}")
        for name, value in bsd:
            known = HONOURED_FREEBSD_SYSCTLS.get(name)
            if known is None or not re.fullmatch(r"\d+", value):
                ignored.append(f"net.inet.tcp.{name}")
                continue
            knob, unit = known
            seconds = int(value) * unit
            if seconds <= 0:
                raise ScriptProblem("malformed", f"sysctl net.inet.tcp.{name} must be > 0", line)
            setattr(self.config, knob, seconds)
            if knob == "rto" and self.ep is not None and not self.syn_sent:
                self.ep.rto = seconds
            applied.append(f"net.inet.tcp.{name}={value}")
        if ignored:
            self.notes.append(
                f"line {line}: sysctl {', '.join(ignored)} has no meaning in the model; ignored"
            )
        if applied:
            result.outcome, result.detail = "pass", "applied " + ", ".join(applied)
            if ignored:
                result.detail += "; ignored " + ", ".join(ignored)
        elif ignored:
            result.outcome, result.detail = "ignored", "not modelled: " + ", ".join(ignored)
        else:
            result.outcome, result.detail = "ignored", "shell command not run"

    # -- segments ----------------------------------------------------------------------------

    def _inject(self, pkt: Packet, result: LineResult) -> None:
        ep = self.endpoint()
        self._learn_remote_isn(pkt)
        ack = None
        if "ACK" in pkt.flags:
            ack = ((pkt.ack or 0) + self._offset()) % SEQ_MOD
        seq = pkt.seq if "SYN" in pkt.flags else (pkt.seq + self.remote_isn) % SEQ_MOD
        seg = Segment(pkt.flags, seq, ack, pkt.length)
        self.host.record(seg, "B")
        ep.receive(seg)
        self._drain()
        result.outcome = "pass"
        result.detail = "injected"

    def _learn_remote_isn(self, pkt: Packet) -> None:
        """packetdrill (run_packet.c, socket.h) writes the peer's non-SYN sequence numbers
        relative to the peer's ISN, which it takes from the first segment that reaches a
        listening socket or no socket at all (handle_listen_for_script_packet), or from the
        SYN,ACK answering connect()'s SYN; a SYN's own number is absolute. With the usual
        ``< S 0:0(0)`` the two agree; a script that opens with ``< S 1000:1000(0)`` and goes on
        with ``< . 1:1(0)`` means 1001."""
        if not self.peer_known and (not self.socket_made or self.listening):
            self.peer_known = True
            self.remote_isn = pkt.seq
        elif self.awaiting_synack and pkt.flags == ("SYN", "ACK"):
            self.awaiting_synack = False
            self.remote_isn = pkt.seq

    def _script_ack(self, seg: Segment) -> int | None:
        """An ack the endpoint sent, in the script's numbers (see _learn_remote_isn)."""
        if seg.ack is None or "SYN" in seg.flags:
            return seg.ack
        return (seg.ack - self.remote_isn) % SEQ_MOD

    def _notation(self, q: Queued) -> str:
        seg = q.segment
        seq = (seg.seq - q.offset) % SEQ_MOD
        return segment_notation(False, seg.flags, seq, seg.len, self._script_ack(seg))

    def _expect(self, stmt: Statement, pkt: Packet, t: int, result: LineResult) -> None:
        time = stmt.time
        assert time is not None
        tol = self.cur_tolerance
        if time.kind == "any":
            lo, hi = None, None
        else:
            lo = t - tol
            hi = (self.base + time.until if time.kind == "rel" else time.until) if time.until else t
            hi += tol
        if not self.outq:
            self._advance(hi if hi is not None else 1 << 62, inclusive=True, until_packet=True)
        expected = pkt.notation()
        if time.kind == "any":
            when = ""
        elif time.until is None:
            when = f" at {_seconds(t)}"
        else:
            assert hi is not None
            when = f" at {_seconds(t)}~{_seconds(hi - tol)}"
        if not self.outq:
            note = RTO_NOTE if expected in self.sent else ""
            nxt = self.timers.get("retransmit")
            if note and nxt is not None:
                note += f" (tcpbook's retransmission timer fires at {_seconds(nxt[0])})"
            self._fail(
                stmt,
                expected + when,
                "nothing" if hi is None else f"nothing by {_seconds(hi)}",
                "the endpoint sent no segment",
                note,
            )
        q = self.outq.popleft()
        seg = q.segment
        got = self._notation(q)
        self.sent.add(got)
        self.now = max(self.now, q.at)
        self.base = self.now
        rel_seq = (seg.seq - q.offset) % SEQ_MOD
        problems = []
        if set(seg.flags) != set(pkt.flags):
            problems.append("flags differ")
        if rel_seq != pkt.seq:
            problems.append("sequence number differs")
        if seg.len != pkt.length:
            problems.append("length differs")
        if "ACK" in pkt.flags and pkt.ack is not None and self._script_ack(seg) != pkt.ack:
            problems.append("ack number differs")
        if problems:
            if (
                rel_seq == pkt.seq
                and seg.len > pkt.length > 0
                and {"SYN", "FIN", "RST"}.isdisjoint(seg.flags)
            ):
                raise ScriptProblem(
                    "unsupported",
                    f"segmentation (the script expects {pkt.length} of the {seg.len} bytes "
                    "written in one segment)",
                    stmt.line,
                )
            note = ""
            if "FIN" in pkt.flags and "FIN" not in seg.flags and seg.flags == ("ACK",):
                note = DELACK_NOTE
            self._fail(
                stmt, expected + when, got + f" at {_seconds(q.at)}", "; ".join(problems), note
            )
        if lo is not None and hi is not None and not lo <= q.at <= hi:
            note = ""
            if seg.retransmission or (q.at > hi and got in self.sent - {got}):
                note = RTO_NOTE
            elif q.at < lo and seg.flags == ("ACK",) and seg.len == 0:
                note = DELACK_NOTE
            self._fail(
                stmt,
                f"{expected}{when} (tolerance {tol} us)",
                f"{got} at {_seconds(q.at)}",
                "the segment is right but its time is not",
                note,
            )
        result.outcome = "pass"
        parts = [f"at {_seconds(q.at)}"]
        if pkt.options is not None and pkt.options != "...":
            parts.append(f"options <{pkt.options}> not checked")
            self.not_checked.append(f"line {stmt.line}: TCP options <{pkt.options}>")
        if pkt.win is not None:
            parts.append("window not checked")
            self.not_checked.append(f"line {stmt.line}: window {pkt.win}")
        if "ACK" in pkt.flags and pkt.ack is None:
            parts.append("ack number not given, not checked")
        result.detail = "; ".join(parts)

    def _fail(self, stmt: Statement, expected: str, got: str, reason: str, note: str = "") -> None:
        index = self.script.statements.index(stmt)
        r = self.results[index]
        r.outcome = "mismatch"
        r.detail = f"expected {expected}; got {got}"
        self.mismatch = Mismatch(
            stmt.line, stmt.text.replace("\n", " "), expected, got, reason, note
        )
        raise _Stop

    # -- system calls --------------------------------------------------------------------------

    def _syscall(self, index: int, stmt: Statement, call: Syscall, t: int) -> None:
        result = self.results[index]
        name = call.name
        handler = getattr(self, f"_call_{name}", None)
        if handler is None:
            result.outcome, result.detail = "ignored", f"{name}() is not modelled; not checked"
            return
        outcome = handler(index, stmt, call)
        if outcome is None:
            return  # pending or handled
        if outcome == "ignored":
            result.outcome = "ignored"
            if not result.detail:
                result.detail = f"{name}() does not touch the connection; not checked"
            return
        ret, errno = outcome
        self._check_result(index, stmt, call, ret, errno)


# -- entry points ----------------------------------------------------------------------------


def fixed_timer_config() -> Config:
    """The endpoint settings of a script that names no profile (``// tcpbook: profile=NAME``
    picks one; an exported script names its run's): the fixed timers the hand-written scripts
    are written for (every ACK at once, no loss probe, an RTO of ``rto`` doubling
    without RTT estimation, Linux's retry counts by number, MSL 30 s)."""
    return replace(
        config_for(RFC9293, auto_read=False),
        rto_min=None,
        msl=LINUX.msl,
        syn_retries=6,
        syn_timeout=None,
        synack_retries=LINUX.synack_retries,
        retries2=LINUX.retries2,
        orphan_retries=LINUX.orphan_retries,
        r2=None,
        fin_timeout=LINUX_FIN_TIMEOUT,
        time_wait_restart_on_any=True,
        time_wait_accepts_syn=True,
        reset_errors=LINUX.reset_errors,  # a RST in CLOSE_WAIT leaves EPIPE (tcp_reset)
    )


def run_script(
    text_or_path: str | Path,
    *,
    name: str | None = None,
    local_isn: int = LOCAL_ISN,
    rto: float | None = None,
    msl: float | None = None,
    strict: bool = False,
    profile: str | None = None,
) -> PktResult:
    """Run a packetdrill script (its text, or a path to a ``.pkt`` file) against tcpbook.

    ``rto`` and ``msl`` override the model's settings (``rto=0.2`` is Linux's minimum RTO).
    ``strict`` makes an expected segment's window and options (timestamps, SACK blocks)
    ``unsupported`` instead of "not checked". ``profile`` names the kernel profile
    (:mod:`tcpbook.profiles`); without it a ``// tcpbook: profile=NAME`` setting (``none``: fixed
    timers, :func:`fixed_timer_config`) or the script's sysctl lines choose one
    (``net.inet.tcp.*``: freebsd, ``net.ipv4.*``: linux), and a script with none of them runs
    with the fixed timers. A file that
    cannot be read raises :class:`TcpbookError`; a script that cannot run is a result with
    verdict ``malformed`` or ``unsupported``.
    """
    text, label = _load(text_or_path)
    config = fixed_timer_config()
    if rto is not None:
        config.rto = rto
    if msl is not None:
        config.msl = msl
    label = name or label
    try:
        script = parse(text, strict=strict)
    except ScriptProblem as problem:
        trace = Trace(f"packetdrill {label}", {"msl": float(config.msl), "script": label})
        trace.final = {"A": S.CLOSED.value}
        lines = [LineResult(problem.line, _line_text(text, problem.line), "mismatch", problem.what)]
        lines[0].outcome = "unsupported" if problem.kind == "unsupported" else "mismatch"
        verdict: Verdict = "unsupported" if problem.kind == "unsupported" else "malformed"
        return PktResult(label, verdict, lines, trace, None, problem.message)
    commands = [s.body.text for s in script.statements if isinstance(s.body, Command)]
    chosen = profile
    for st in script.statements:  # a "// tcpbook: profile=NAME" setting
        if chosen is None and isinstance(st.body, Directive):
            chosen = dict(st.body.settings).get("profile")
    if chosen is None:
        chosen = _profile_for(commands)
    if chosen == "none" or (chosen is not None and chosen not in PROFILES):
        chosen = None  # fixed timers (a bad name is reported at its own line)
    config = fixed_timer_config() if chosen is None else profile_config(chosen)
    if rto is not None:
        config.rto = rto
    if msl is not None:
        config.msl = msl
    return Runner(script, label, config, local_isn, chosen).run()


def _line_text(text: str, line: int) -> str:
    lines = text.split("\n")
    return lines[line - 1].strip() if 0 < line <= len(lines) else ""


def _load(text_or_path: str | Path) -> tuple[str, str]:
    if isinstance(text_or_path, Path) or (
        "\n" not in text_or_path and text_or_path.endswith(".pkt")
    ):
        path = Path(text_or_path)
        try:
            return path.read_text(encoding="utf-8"), path.name
        except OSError as exc:
            raise TcpbookError(f"cannot read {str(path)!r}: {exc.strerror or exc}") from None
        except UnicodeDecodeError:
            raise TcpbookError(f"cannot read {str(path)!r}: not UTF-8 text") from None
    return text_or_path, "script"


def cli_main(path: str, *, as_json: bool, strict: bool = False, profile: str | None = None) -> int:
    """``python -m tcpbook pkt SCRIPT [--json] [--strict] [--profile NAME]``: print the
    verdict, return the exit status."""
    result = run_script(Path(path), strict=strict, profile=profile)
    if as_json:
        print(result.to_json())
    else:
        print(result.listing())
        print(result.summary())
    return result.exit_status
