"""Run a packetdrill script against one tcpbook :class:`~tcpbook.endpoint.Endpoint`.

The script plays the remote peer: it injects segments (``<``) and system calls into the endpoint
and checks every segment the endpoint sends (``>``) field by field and in time. The clock is a
tiny discrete-event loop in integer microseconds (packetdrill's resolution): the endpoint's timers
fire in deadline order between script lines, and processing takes no time. As in packetdrill, a
relative time (``+0.1``) counts from the moment the previous line finished, and the run stops at
the first mismatch.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from ..endpoint import (
    SEQ_MOD,
    AppError,
    CancelTimer,
    Change,
    Config,
    Endpoint,
    Received,
    Segment,
    Send,
    StartTimer,
    TimerName,
)
from ..errors import IllegalCall, TcpbookError
from ..states import SYNCHRONIZED, State
from ..trace import ErrorRecord, TimerRecord, Trace, TransitionRecord
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
    result_text,
    segment_notation,
)

S = State

DEFAULT_TOLERANCE_US = 4000  # packetdrill's default --tolerance_usecs (config.c)
DEFAULT_TOLERANCE_PERCENT = 12.5  # packetdrill's default --tolerance_percent (config.c)
LOCAL_ISN = 1000  # the tested endpoint's ISS (tcpbook.sim.ISN_A); scripts see it as 0
LINUX_MIN_RTO = 0.2  # Linux TCP_RTO_MIN, 200 ms (include/net/tcp.h)
LINUX_FIN_TIMEOUT = 60.0  # Linux net.ipv4.tcp_fin_timeout default
LINUX_DELACK = 0.04  # Linux TCP_DELACK_MIN, 40 ms
READ_ALL = 1 << 30  # a read whose size the script leaves as "..."

Outcome = Literal["pass", "mismatch", "unsupported", "ignored", "not run"]
Verdict = Literal["pass", "mismatch", "unsupported", "malformed"]

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

#: Socket options about buffer sizes: accepted, not modelled.
BUFFER_OPTIONS = frozenset({"SO_SNDBUF", "SO_RCVBUF", "SO_SNDBUFFORCE", "SO_RCVBUFFORCE"})
#: fcntl(F_GETFL) of a socket: O_RDWR, with O_NONBLOCK after F_SETFL (asm-generic/fcntl.h).
O_RDWR = 0o2
O_NONBLOCK = 0o4000

#: Linux's numbers for tcpi_state (include/net/tcp_states.h).
LINUX_TCP_STATES = {
    S.ESTABLISHED: 1,
    S.SYN_SENT: 2,
    S.SYN_RECEIVED: 3,
    S.FIN_WAIT_1: 4,
    S.FIN_WAIT_2: 5,
    S.TIME_WAIT: 6,
    S.CLOSED: 7,
    S.CLOSE_WAIT: 8,
    S.LAST_ACK: 9,
    S.LISTEN: 10,
    S.CLOSING: 11,
}
#: FreeBSD's numbers for tcpi_state: its TCPS_* values (netinet/tcp_fsm.h), which
#: getsockopt(TCP_INFO) reports in the same first byte.
FREEBSD_TCP_STATES = {
    S.CLOSED: 0,
    S.LISTEN: 1,
    S.SYN_SENT: 2,
    S.SYN_RECEIVED: 3,
    S.ESTABLISHED: 4,
    S.CLOSE_WAIT: 5,
    S.FIN_WAIT_1: 6,
    S.CLOSING: 7,
    S.LAST_ACK: 8,
    S.FIN_WAIT_2: 9,
    S.TIME_WAIT: 10,
}
#: packetdrill's names for Linux's numbers in ``%{ }%`` (code.c ``write_symbols``).
_TCP_STATE_NAMES = {
    "TCP_ESTABLISHED": 1,
    "TCP_SYN_SENT": 2,
    "TCP_SYN_RECV": 3,
    "TCP_FIN_WAIT1": 4,
    "TCP_FIN_WAIT2": 5,
    "TCP_TIME_WAIT": 6,
    "TCP_CLOSE": 7,
    "TCP_CLOSE_WAIT": 8,
    "TCP_LAST_ACK": 9,
    "TCP_LISTEN": 10,
    "TCP_CLOSING": 11,
}

#: Linux sysctls with a tcpbook knob: name -> Config field.
HONOURED_SYSCTLS = {
    "tcp_fin_timeout": "fin_timeout",
    "tcp_syn_retries": "syn_retries",
    "tcp_synack_retries": "synack_retries",
    "tcp_retries2": "retries2",
    "tcp_rfc1337": "rfc1337",
    "tcp_orphan_retries": "orphan_retries",
}
#: FreeBSD sysctls with a tcpbook knob (tcp_timer.c, tcp_subr.c): name -> (Config field, unit
#: in seconds). Times are in milliseconds there (``net.inet.tcp.msl=30000``).
HONOURED_FREEBSD_SYSCTLS = {
    "msl": ("msl", 0.001),
    "finwait2_timeout": ("fin_timeout", 0.001),
    "rexmit_initial": ("rto", 0.001),
}
_SYSCTL = re.compile(r"net[./]ipv4[./](tcp_\w+)\s*=\s*\"?([\w.-]+)")
_PROC = re.compile(r"echo\s+\"?([\w.-]+)\"?\s*>\s*/proc/sys/net/ipv4/(tcp_\w+)")
_BSD_SYSCTL = re.compile(r"net\.inet\.tcp\.([\w.]+)\s*=\s*\"?([\w.-]+)")
_ANY_SYSCTL = re.compile(r"\bnet\.(ipv4|ipv6|core|inet|inet6)[./]")


def _profile_for(sysctls: list[str]) -> str:
    """The kernel profile a script's shell lines point at: ``net.inet.tcp.*`` is FreeBSD's sysctl
    tree, ``net.ipv4.*`` Linux's; a script with neither runs with the default, ``linux``."""
    for text in sysctls:
        m = _ANY_SYSCTL.search(text)
        if m:
            return "freebsd" if m.group(1).startswith("inet") else "linux"
    return "linux"


# -- results ---------------------------------------------------------------------------------


@dataclass
class LineResult:
    """What happened to one statement of the script."""

    line: int
    text: str
    outcome: Outcome = "not run"
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "line": self.line,
            "text": self.text,
            "outcome": self.outcome,
            "detail": self.detail,
        }


@dataclass
class Mismatch:
    """The first line where the endpoint did not do what the script expected."""

    line: int
    text: str
    expected: str
    got: str
    reason: str = ""
    note: str = ""

    def report(self) -> list[str]:
        out = [f"  expected {self.expected}", f"  got {self.got}"]
        if self.reason:
            out.append(f"  reason: {self.reason}")
        if self.note:
            out.append(f"  note: {self.note}")
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "line": self.line,
            "text": self.text,
            "expected": self.expected,
            "got": self.got,
            "reason": self.reason,
            "note": self.note,
        }


@dataclass
class PktResult:
    """The verdict on one script, line by line, with the trace of what the endpoint did.

    ``trace`` has endpoint ``A`` = the tcpbook endpoint under test and ``B`` = the script's peer;
    only A's state changes are known (the peer is a script, not a state machine).
    """

    name: str
    verdict: Verdict
    lines: list[LineResult]
    trace: Trace
    first_mismatch: Mismatch | None = None
    problem: str = ""
    notes: list[str] = field(default_factory=list)
    profile: str = "linux"
    not_checked: list[str] = field(default_factory=list)

    @property
    def exit_status(self) -> int:
        """0 pass, 1 mismatch, 2 unsupported or malformed (the ``pkt`` command's status)."""
        return {"pass": 0, "mismatch": 1}.get(self.verdict, 2)

    def summary(self) -> str:
        counts: dict[str, int] = {}
        for r in self.lines:
            counts[r.outcome] = counts.get(r.outcome, 0) + 1
        tally = ", ".join(f"{n} {o}" for o, n in counts.items())
        head = f"{self.name}: {self.verdict}"
        out: list[str] = []
        if self.verdict == "pass":
            out.append(f"{head} ({tally})")
        elif self.first_mismatch is not None:
            m = self.first_mismatch
            out.append(f"{head} at line {m.line}: {m.text}")
            out.extend(m.report())
        else:
            out.append(f"{self.name}: {self.problem}")
        path = " -> ".join(self.trace.path("A"))
        out.append(f"tcpbook endpoint: {path}")
        out.extend(f"not checked: {n}" for n in self.not_checked)
        out.extend(f"note: {n}" for n in self.notes)
        return "\n".join(out)

    def listing(self) -> str:
        """Every statement with its outcome, as the ``pkt`` command prints it."""
        rows = []
        for r in self.lines:
            text = r.text.replace("\n", " ")
            row = f"{r.line:4d}  {r.outcome:<11} {text}"
            if r.detail and r.outcome != "pass":
                row += f"   [{r.detail}]"
            rows.append(row)
        return "\n".join(rows)

    def to_dict(self) -> dict[str, Any]:
        return {
            "script": self.name,
            "verdict": self.verdict,
            "exit_status": self.exit_status,
            "problem": self.problem or None,
            "lines": [r.to_dict() for r in self.lines],
            "first_mismatch": None
            if self.first_mismatch is None
            else self.first_mismatch.to_dict(),
            "notes": list(self.notes),
            "profile": self.profile,
            "not_checked": list(self.not_checked),
            "trace": self.trace.to_dict(),
        }

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    def __repr__(self) -> str:
        return f"<PktResult {self.name}: {self.verdict}>"


class _Stop(Exception):
    """The run ends here (first mismatch, or a construct found unsupported while running)."""


@dataclass
class _Queued:
    at: int
    offset: int  # the local ISN packetdrill's numbers are relative to (0 before our first SYN)
    segment: Segment


@dataclass
class _Pending:
    """A blocking call waiting for the connection (connect, accept or read)."""

    index: int
    stmt: Statement
    kind: str
    start: int
    end: int
    fd: int
    size: int = 0
    tolerance: int = DEFAULT_TOLERANCE_US


# -- the runner ------------------------------------------------------------------------------


def _seconds(us: int) -> str:
    return f"{us / USEC:.6f}".rstrip("0").rstrip(".") + " s" if us else "0 s"


class Runner:
    """One run of one script (use :func:`run_script`)."""

    def __init__(
        self, script: Script, name: str, config: Config, local_isn: int, profile: str = "linux"
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
        self.now = 0
        self.base = 0  # where relative times count from
        self.stmt_base = 0  # the base the current statement's relative times counted from
        self.sent: set[str] = set()  # every segment sent so far, in packetdrill notation
        self.last_script_time = 0
        self.ep: Endpoint | None = None
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
        self.timers: dict[str, tuple[int, int]] = {}
        self.timer_seq = 0
        self.outq: deque[_Queued] = deque()
        self.pending: _Pending | None = None
        self.results = [LineResult(s.line, s.text) for s in script.statements]
        self.mismatch: Mismatch | None = None
        self.problem = ""
        self.notes: list[str] = []
        self.trace = Trace(f"packetdrill {name}", {})

    # -- the endpoint and its outputs ------------------------------------------------------

    def endpoint(self) -> Endpoint:
        if self.ep is None:
            self.ep = Endpoint(self.local_isn, self.config)
        return self.ep

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
        ep = self.endpoint()
        t = self.now / USEC
        items = ep.drain()
        # Linux (tcp_reset): a RST in CLOSE_WAIT leaves EPIPE as the socket error, not ECONNRESET.
        reset_in_close_wait = any(
            isinstance(i, Change) and i.src is S.CLOSE_WAIT and i.cause == "rcv RST" for i in items
        )
        for item in items:
            if isinstance(item, Send):
                seg = item.segment
                if seg.syn:
                    # packetdrill learns the local ISN from each SYN it sees (a new one after
                    # a RST sent SYN_RECEIVED back to LISTEN)
                    self.syn_sent = True
                    self.isn = seg.seq
                self._record(seg, "A", t)
                self.outq.append(_Queued(self.now, self._offset(), seg))
            elif isinstance(item, Change):
                if item.cause.startswith("rcv FIN"):
                    self.eof = True
                self.trace.transitions.append(
                    TransitionRecord(t, "A", 1, item.src.value, item.dst.value, item.cause)
                )
                if item.dst is S.ESTABLISHED:
                    self.established_once = True
            elif isinstance(item, StartTimer):
                self.timer_seq += 1
                deadline = self.now + round(item.delay * USEC)
                self.timers[item.timer] = (deadline, self.timer_seq)
                self.trace.timers.append(TimerRecord(t, "A", item.timer, "start", deadline / USEC))
            elif isinstance(item, CancelTimer):
                self.timers.pop(item.timer, None)
                self.trace.timers.append(TimerRecord(t, "A", item.timer, "cancel", None))
            elif isinstance(item, AppError):
                error = item.error
                if error == "ECONNRESET" and reset_in_close_wait:
                    error = "EPIPE"
                self.sk_err = error
                self.trace.errors.append(ErrorRecord(t, "A", error))
            elif isinstance(item, Received) and item.length == 0:
                self.eof = True
        self._check_pending()

    def _record(self, seg: Segment, src: Literal["A", "B"], t: float) -> None:
        rec = self.trace.add_segment(seg, src, 1, t)
        rec.fate, rec.arrived = "delivered", t
        if src == "A" or (self.ep is not None and self.ep.state is not S.CLOSED):
            rec.delivered_to = 1

    # -- the clock -------------------------------------------------------------------------

    def _next_timer(self) -> tuple[int, int, str] | None:
        if not self.timers:
            return None
        name, (deadline, seq) = min(self.timers.items(), key=lambda kv: kv[1])
        return deadline, seq, name

    def _fire(self, name: str, deadline: int) -> None:
        self.now = max(self.now, deadline)
        del self.timers[name]
        self.trace.timers.append(TimerRecord(self.now / USEC, "A", name, "fire", self.now / USEC))
        timer: TimerName = name  # type: ignore[assignment]
        self.endpoint().timer_fired(timer)
        self._drain()

    def _advance(self, t: int, *, inclusive: bool = True, until_packet: bool = False) -> None:
        """Let time pass up to ``t``, firing the endpoint's timers that fall due on the way
        (with ``inclusive``, also those due at exactly ``t``)."""
        while not (until_packet and self.outq):
            nxt = self._next_timer()
            limit = self._pending_deadline()
            if nxt is not None and (nxt[0] < t or (inclusive and nxt[0] <= t)):
                if limit is not None and limit < nxt[0]:
                    self.now = max(self.now, limit)
                    self._pending_expired()
                self._fire(nxt[2], nxt[0])
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
        elif key == "isn":
            if self.ep is not None or not value.isdigit() or int(value) >= SEQ_MOD:
                raise ScriptProblem("malformed", "tcpbook setting isn needs 0..4294967295", line)
            self.local_isn = int(value)
        else:
            raise ScriptProblem(
                "malformed",
                f"unknown tcpbook setting {key!r} (known: linux-rto, rto, msl, fin_timeout, "
                "rfc1337, skip_time_wait, close_on_eof, syn_retries, synack_retries, retries2, "
                "orphan_retries, isn)",
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
        self._record(seg, "B", self.now / USEC)
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

    def _notation(self, q: _Queued) -> str:
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

    def _check_result(
        self, index: int, stmt: Statement, call: Syscall, ret: int, errno: str | None
    ) -> None:
        if (ret, errno) != (call.ret, call.errno):
            note = ""
            if call.name in ("write", "send", "sendto", "sendmsg", "writev") and errno is None:
                note = ""
            self._fail(
                stmt,
                call.expected_text(),
                f"{call.call_text()} = {result_text(ret, errno)}",
                "the call's result differs",
                note,
            )
        r = self.results[index]
        r.outcome = "pass"
        if not r.detail:
            r.detail = f"returned {result_text(ret, errno)}"

    def _fd(self, call: Syscall) -> int | None:
        try:
            fd = int(call.args[0], 0)
        except (IndexError, ValueError):
            return None
        return fd if fd in self.fds else None

    def _is_nonblocking(self, fd: int, call: Syscall) -> bool:
        return fd in self.nonblocking or "MSG_DONTWAIT" in " ".join(call.args)

    def _block(self, index: int, stmt: Statement, kind: str, fd: int, size: int = 0) -> None:
        if self.pending is not None:
            raise ScriptProblem("unsupported", "two blocking calls at once", stmt.line)
        time = stmt.time
        assert time is not None
        # Without "start...end" packetdrill runs a call inline: it must return at once.
        end = self.now
        tol = self.tolerance
        if time.block_end is not None:
            end = time.block_end + (self.stmt_base if time.kind == "rel" else 0)
            # run_system_call.c: a blocking call's end is checked with the start as last event
            start = time.start + (self.stmt_base if time.kind == "rel" else 0)
            tol = max(tol, int(self.tolerance_percent / 100.0 * (end - start)))
        self.pending = _Pending(index, stmt, kind, self.now, end, fd, size, tol)
        self.results[index].detail = "blocked"
        self._check_pending()

    def _pending_deadline(self) -> int | None:
        p = self.pending
        if p is None or p.end is None:
            return None
        return p.end + p.tolerance

    def _pending_expired(self) -> None:
        p = self.pending
        assert p is not None and p.end is not None
        call = p.stmt.body
        assert isinstance(call, Syscall)
        self.pending = None
        self._fail(
            p.stmt,
            f"{call.expected_text()} returning at {_seconds(p.end)}",
            f"{call.call_text()} still blocked at {_seconds(p.end + p.tolerance)}",
            "the call did not return in time",
        )

    def _finish_pending(self) -> None:
        p = self.pending
        if p is None:
            return
        call = p.stmt.body
        assert isinstance(call, Syscall)
        self.pending = None
        self._fail(
            p.stmt,
            call.expected_text(),
            f"{call.call_text()} still blocked when the script ended at {_seconds(self.now)}",
            "the call never returned",
        )

    def _check_pending(self) -> None:
        p = self.pending
        if p is None:
            return
        done = self._try_complete(p)
        if done is None:
            return
        self.pending = None
        call = p.stmt.body
        assert isinstance(call, Syscall)
        ret, errno = done
        if p.kind == "accept":
            self._accept(p.fd, call)
            ret = call.ret if call.ret >= 0 else max(self.fds)
        self._check_result(p.index, p.stmt, call, ret, errno)
        if p.end is not None and abs(self.now - p.end) > p.tolerance:
            self._fail(
                p.stmt,
                f"{call.expected_text()} returning at {_seconds(p.end)}",
                f"{call.call_text()} = {result_text(ret, errno)} at {_seconds(self.now)}",
                "the call returned at another time",
            )
        self.results[p.index].detail = f"returned {result_text(ret, errno)} at {_seconds(self.now)}"

    def _try_complete(self, p: _Pending) -> tuple[int, str | None] | None:
        ep = self.endpoint()
        if p.kind == "connect":
            if ep.state in SYNCHRONIZED:
                return 0, None
            if self.sk_err is not None:
                err, self.sk_err = self.sk_err, None
                return -1, err
            return None
        if p.kind == "accept":
            return (0, None) if self.established_once and not self.accepted else None
        got = self._read_now(p.size)
        return got

    # connection set-up

    def _call_socket(self, index: int, stmt: Statement, call: Syscall) -> tuple[int, str | None]:
        if self.socket_made:
            raise ScriptProblem(
                "unsupported",
                "a second socket (tcpbook runs one connection per script)",
                stmt.line,
            )
        self.socket_made = True
        self.endpoint()
        fd = call.ret if call.ret >= 0 else 3
        self.fds[fd] = "sock"
        return fd, None

    def _call_bind(self, index: int, stmt: Statement, call: Syscall) -> tuple[int, str | None]:
        if call.ret != 0:
            raise ScriptProblem(
                "unsupported",
                f"bind() expected to fail with {call.errno} (address reuse needs two sockets)",
                stmt.line,
            )
        return (0, None) if self._fd(call) is not None else (-1, "EBADF")

    def _call_listen(self, index: int, stmt: Statement, call: Syscall) -> tuple[int, str | None]:
        fd = self._fd(call)
        if fd is None:
            return -1, "EBADF"
        ep = self.endpoint()
        if ep.state is S.LISTEN:
            return 0, None
        try:
            ep.listen()
        except IllegalCall:
            return -1, "EINVAL"
        self.listening = True
        self._drain()
        return 0, None

    def _accept(self, fd: int, call: Syscall) -> None:
        self.accepted = True
        self.fds[fd] = "listener"
        new = call.ret if call.ret >= 0 else max(self.fds) + 1
        self.fds[new] = "conn"
        if "SOCK_NONBLOCK" in " ".join(call.args):
            self.nonblocking.add(new)

    def _call_accept(
        self, index: int, stmt: Statement, call: Syscall
    ) -> tuple[int, str | None] | None:
        fd = self._fd(call)
        if fd is None or self.fds.get(fd) not in ("sock", "listener"):
            return -1, "EBADF" if fd is None else "EINVAL"
        if not self.listening:
            return -1, "EINVAL"
        if self.established_once and not self.accepted:
            self._accept(fd, call)
            return (call.ret if call.ret >= 0 else max(self.fds)), None
        if self._is_nonblocking(fd, call):
            return -1, "EAGAIN"
        self._block(index, stmt, "accept", fd)
        return None

    _call_accept4 = _call_accept

    def _call_connect(
        self, index: int, stmt: Statement, call: Syscall
    ) -> tuple[int, str | None] | None:
        fd = self._fd(call)
        if fd is None:
            return -1, "EBADF"
        ep = self.endpoint()
        if ep.state is S.SYN_SENT:
            return -1, "EALREADY"
        if ep.state is not S.CLOSED or self.listening:
            return -1, "EISCONN"
        self.connect_armed = True
        self.awaiting_synack = True
        ep.connect()
        self._drain()
        if self._is_nonblocking(fd, call):
            return -1, "EINPROGRESS"
        self._block(index, stmt, "connect", fd)
        return None

    # data

    def _size(self, call: Syscall) -> int | None:
        """Bytes a read or write asks for: the third argument or the sum of the iovec lengths."""
        if call.ret > 0:
            return call.ret
        args = call.args
        if call.name in ("writev", "readv", "sendmsg", "recvmsg"):
            lens = re.findall(r"\.\.\.\s*,\s*(\d+)\s*\}", " ".join(args[1:]))
            return sum(int(x) for x in lens) if lens else None
        if len(args) >= 3:
            try:
                return int(args[2], 0)
            except ValueError:
                return None
        return None

    def _call_write(self, index: int, stmt: Statement, call: Syscall) -> tuple[int, str | None]:
        fd = self._fd(call)
        if fd is None or self.fds.get(fd) == "listener":
            return -1, "EBADF" if fd is None else "EPIPE"
        ep = self.endpoint()
        size = self._size(call) or 1
        if self.sk_err is not None:
            err, self.sk_err = self.sk_err, None
            return -1, err
        if ep.state in (S.SYN_SENT, S.SYN_RECEIVED):
            if self._is_nonblocking(fd, call):
                return -1, "EAGAIN"
            raise ScriptProblem(
                "unsupported", "a blocking write() before the handshake completes", stmt.line
            )
        if ep.state not in (S.ESTABLISHED, S.CLOSE_WAIT) or ep.write_closed:
            return -1, "EPIPE"
        ep.send(size)
        self._drain()
        return size, None

    _call_send = _call_write
    _call_sendto = _call_write
    _call_sendmsg = _call_write
    _call_writev = _call_write

    def _read_now(self, size: int) -> tuple[int, str | None] | None:
        """What read() returns right now, or None if it would block."""
        ep = self.endpoint()
        if ep.unread:
            got = min(size, ep.unread)
            ep.unread -= got
            return got, None
        if self.eof:
            return 0, None  # Linux tcp_recvmsg: end-of-file (SOCK_DONE) before a pending error
        if self.sk_err is not None:
            err, self.sk_err = self.sk_err, None
            return -1, err
        if self.shut_rd or ep.state is S.CLOSED:
            return 0, None
        return None

    def _call_read(
        self, index: int, stmt: Statement, call: Syscall
    ) -> tuple[int, str | None] | None:
        fd = self._fd(call)
        if fd is None:
            return -1, "EBADF"
        if self.fds.get(fd) == "listener" or (self.listening and not self.accepted):
            return -1, "ENOTCONN"
        size = self._size(call) or READ_ALL
        ep = self.endpoint()
        if ep.state is S.CLOSED and not self.syn_sent and self.sk_err is None:
            return -1, "ENOTCONN"
        if ep.state in (S.SYN_SENT, S.SYN_RECEIVED):
            if self._is_nonblocking(fd, call):
                return -1, "EAGAIN"
            self._block(index, stmt, "read", fd, size)
            return None
        got = self._read_now(size)
        if got is not None:
            return got
        if self._is_nonblocking(fd, call):
            return -1, "EAGAIN"
        self._block(index, stmt, "read", fd, size)
        return None

    _call_recv = _call_read
    _call_recvfrom = _call_read
    _call_recvmsg = _call_read
    _call_readv = _call_read

    # closing

    def _call_close(self, index: int, stmt: Statement, call: Syscall) -> tuple[int, str | None]:
        fd = self._fd(call)
        if fd is None:
            return -1, "EBADF"
        role = self.fds.pop(fd)
        self.nonblocking.discard(fd)
        ep = self.endpoint()
        st = ep.state
        if role == "listener" or st is S.CLOSED:
            return 0, None
        if role == "sock" and self.listening and not self.accepted:
            # Closing a listener: Linux resets the connections waiting in its accept queue.
            if st is S.LISTEN and self.linger0:
                ep.abort()
            elif st is S.LISTEN:
                ep.close()
            elif st is S.SYN_RECEIVED:
                raise ScriptProblem(
                    "unsupported",
                    "closing a listener with a half-open connection in its queue",
                    stmt.line,
                )
            else:
                ep.abort()
            self._drain()
            return 0, None
        if self.linger0:
            ep.abort()
        else:
            with contextlib.suppress(IllegalCall):
                ep.close()
        self._drain()
        return 0, None

    def _call_shutdown(self, index: int, stmt: Statement, call: Syscall) -> tuple[int, str | None]:
        fd = self._fd(call)
        if fd is None:
            return -1, "EBADF"
        how = call.args[1] if len(call.args) > 1 else ""
        how = {"0": "SHUT_RD", "1": "SHUT_WR", "2": "SHUT_RDWR"}.get(how, how)
        if how not in ("SHUT_RD", "SHUT_WR", "SHUT_RDWR"):
            return -1, "EINVAL"
        ep = self.endpoint()
        st = ep.state
        if st is S.CLOSED:
            return -1, "ENOTCONN"
        if st is S.LISTEN:
            if how != "SHUT_WR":
                ep.close()
                self._drain()
            return 0, None
        if st is S.SYN_SENT:
            ep.close()  # Linux disconnects a connecting socket (inet_shutdown)
            self._drain()
            return 0, None
        if how in ("SHUT_RD", "SHUT_RDWR"):
            self.shut_rd = True
        if how in ("SHUT_WR", "SHUT_RDWR"):
            with contextlib.suppress(IllegalCall):
                ep.shutdown()
            self._drain()
        return 0, None

    # options

    def _call_setsockopt(
        self, index: int, stmt: Statement, call: Syscall
    ) -> tuple[int, str | None] | str:
        fd = self._fd(call)
        if fd is None:
            return -1, "EBADF"
        opt = call.args[2] if len(call.args) > 2 else ""
        value = call.args[3] if len(call.args) > 3 else ""
        result = self.results[index]
        if opt == "SO_LINGER":
            onoff = re.search(r"onoff\s*=\s*(\d+)", value)
            linger = re.search(r"linger\s*=\s*(-?\d+)", value)
            if not onoff or not linger:
                raise ScriptProblem("malformed", "SO_LINGER needs {onoff=N, linger=N}", stmt.line)
            if onoff.group(1) != "0" and linger.group(1) != "0":
                raise ScriptProblem(
                    "unsupported", "SO_LINGER with a linger time (a blocking close)", stmt.line
                )
            self.linger0 = onoff.group(1) != "0"
            result.detail = "abort on close (RST)" if self.linger0 else "normal close"
            return 0, None
        if opt == "TCP_LINGER2":
            m = re.search(r"-?\d+", value)
            if not m:
                raise ScriptProblem("malformed", "TCP_LINGER2 needs [seconds]", stmt.line)
            secs = int(m.group(0))
            if secs < 0:
                raise ScriptProblem(
                    "unsupported", "TCP_LINGER2 < 0 (no FIN_WAIT_2 at all)", stmt.line
                )
            self.config.fin_timeout = float(secs) if secs else LINUX_FIN_TIMEOUT
            result.detail = f"FIN_WAIT_2 timeout {self.config.fin_timeout:g} s"
            return 0, None
        if opt in ("SO_REUSEADDR", "SO_REUSEPORT"):
            return 0, None
        if opt in BUFFER_OPTIONS:
            result.detail = f"{opt}: buffer sizes are not modelled; accepted, ignored"
            return "ignored"
        result.detail = f"{opt or 'option'} is not modelled; not checked"
        return "ignored"

    def _call_getsockopt(
        self, index: int, stmt: Statement, call: Syscall
    ) -> tuple[int, str | None] | str:
        fd = self._fd(call)
        if fd is None:
            return -1, "EBADF"
        opt = call.args[2] if len(call.args) > 2 else ""
        value = call.args[3] if len(call.args) > 3 else ""
        if opt == "SO_ERROR":
            m = re.match(r"^\[\s*(\w+)\s*\]$", value)
            if not m:
                raise ScriptProblem("malformed", "SO_ERROR needs [ERRNO] or [0]", stmt.line)
            want = m.group(1)
            got, self.sk_err = self.sk_err or "0", None
            if want != got:
                self._fail(
                    stmt,
                    call.expected_text(),
                    f"getsockopt({fd}, SOL_SOCKET, SO_ERROR, [{got}], ...) = 0",
                    "the socket error differs",
                )
            return 0, None
        if opt == "TCP_INFO":
            # [N] with length [4]: the first four bytes of struct tcp_info; the first is
            # tcpi_state (the parser refuses any other form, as packetdrill does)
            n = int(value.strip("[] "), 0)
            got_n, state = self._tcpi_state(fd)
            if n & 0xFF != got_n:
                self._fail(
                    stmt,
                    call.expected_text(),
                    f"tcpi_state {got_n} ({state})",
                    "the connection is in another state",
                )
            detail = f"tcpi_state {got_n} ({state})"
            if n >> 8:
                detail += "; tcpi_ca_state, tcpi_retransmits, tcpi_probes not checked"
            self.results[index].detail = detail
            return 0, None
        if opt in BUFFER_OPTIONS:
            self.results[index].detail = f"{opt}: buffer sizes are not modelled; not checked"
            return "ignored"
        self.results[index].detail = f"{opt or 'option'} is not modelled; not checked"
        return "ignored"

    def _call_fcntl(
        self, index: int, stmt: Statement, call: Syscall
    ) -> tuple[int, str | None] | str:
        fd = self._fd(call)
        if fd is None:
            return -1, "EBADF"
        if len(call.args) > 1 and call.args[1] == "F_SETFL":
            flags = call.args[2] if len(call.args) > 2 else ""
            if "O_NONBLOCK" in flags:
                self.nonblocking.add(fd)
            else:
                self.nonblocking.discard(fd)
            self.results[index].detail = "non-blocking" if fd in self.nonblocking else "blocking"
            return 0, None
        if len(call.args) > 1 and call.args[1] == "F_GETFL":
            mode = O_RDWR | (O_NONBLOCK if fd in self.nonblocking else 0)
            self.results[index].detail = "O_RDWR|O_NONBLOCK" if mode & O_NONBLOCK else "O_RDWR"
            return mode, None
        return "ignored"

    def _tcpi_state(self, fd: int | None, *, linux: bool = False) -> tuple[int, str]:
        """tcpi_state as the profile's kernel reports it for ``fd`` (None: packetdrill's
        socket under test); FreeBSD numbers the states differently (its TCPS_* values).

        A listening socket stays LISTEN while its connections are queued (they are other
        sockets), and a connection that entered TIME_WAIT left its socket in TCP_CLOSE: Linux
        moves TIME_WAIT to a separate timewait sock (tcp_time_wait() then tcp_done()).
        """
        freebsd = self.profile == "freebsd" and not linux
        numbers = FREEBSD_TCP_STATES if freebsd else LINUX_TCP_STATES
        state = self.endpoint().state
        role = self.fds.get(fd) if fd is not None else None
        if self.listening and (role == "listener" or (role == "sock" and not self.accepted)):
            return numbers[S.LISTEN], f"{S.LISTEN}: the listening socket"
        if state is S.TIME_WAIT and self.profile == "linux":
            return numbers[S.CLOSED], f"{S.TIME_WAIT}, held by a timewait sock"
        return numbers[state], str(state)

    def _tcpi_assert(self, stmt: Statement, check: TcpiAssert, result: LineResult) -> None:
        word = check.state
        if word.isdigit():
            want: int | None = int(word)
        else:
            want = _TCP_STATE_NAMES.get(word.replace("TCPI_", "TCP_", 1))
        if want is None:
            raise ScriptProblem(
                "malformed",
                f"unknown state {word} (packetdrill knows {', '.join(_TCP_STATE_NAMES)})",
                stmt.line,
            )
        got, state = self._tcpi_state(None, linux=True)  # %{ }% knows Linux's names only
        if got != want:
            self._fail(
                stmt,
                f"tcpi_state == {word} ({want})",
                f"tcpi_state {got} ({state})",
                "the connection is in another state",
            )
        result.outcome, result.detail = "pass", f"tcpi_state {got} ({state})"


# -- entry points ----------------------------------------------------------------------------


def linux_config() -> Config:
    """The endpoint settings a script runs with unless it says otherwise: Linux defaults."""
    return Config(fin_timeout=LINUX_FIN_TIMEOUT, auto_read=False)


def run_script(
    text_or_path: str | Path,
    *,
    name: str | None = None,
    local_isn: int = LOCAL_ISN,
    rto: float | None = None,
    msl: float | None = None,
    strict: bool = False,
) -> PktResult:
    """Run a packetdrill script (its text, or a path to a ``.pkt`` file) against tcpbook.

    ``rto`` and ``msl`` override the model's settings (``rto=0.2`` is Linux's minimum RTO).
    ``strict`` makes an expected segment's window and options (timestamps, SACK blocks)
    ``unsupported`` instead of "not checked". The script's sysctl lines choose the profile
    (``net.inet.tcp.*``: freebsd, else linux). A file that cannot be read raises
    :class:`TcpbookError`; a script that cannot run is a result with verdict ``malformed`` or
    ``unsupported``.
    """
    text, label = _load(text_or_path)
    config = linux_config()
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
    profile = _profile_for(commands)
    return Runner(script, label, config, local_isn, profile).run()


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


def cli_main(path: str, *, as_json: bool, strict: bool = False) -> int:
    """``python -m tcpbook pkt SCRIPT [--json] [--strict]``: print the verdict, return the exit
    status."""
    result = run_script(Path(path), strict=strict)
    if as_json:
        print(result.to_json())
    else:
        print(result.listing())
        print(result.summary())
    return result.exit_status
