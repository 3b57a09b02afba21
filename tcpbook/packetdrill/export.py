"""Write one side of a simulated run as a packetdrill script.

The tested side's application calls become system calls, the segments it sends become expected
(``>``) lines and the segments that reach it become injected (``<``) lines, at the times the
simulation gave them. Sequence numbers are relative, as packetdrill wants them. The script runs
against tcpbook's own model unchanged (``python -m tcpbook pkt FILE`` passes) and against a real
Linux kernel with the differences its header lists.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import __version__
from ..endpoint import SEQ_MOD, WINDOW
from ..errors import TcpbookError
from ..profiles import get as get_profile
from ..scenarios import SCENARIOS
from ..trace import SegmentRecord, Trace
from .parser import USEC, flags_notation

PEER_MSS = 1000  # the MSS option put on the peer's SYNs so a real kernel has one to use
#: The options of the peer's SYNs: an MSS, and SACK permitted, as a Linux peer sends them. The
#: linux profile's tail-loss probe needs SACK on a real kernel (tcp_schedule_loss_probe returns
#: early unless tcp_is_sack): without it the kernel falls back to its plain RTO.
PEER_SYN_OPTIONS = f"<mss {PEER_MSS},sackOK,nop,nop>"
CHECK_LAG_US = 10_000  # read SO_ERROR 10 ms after a timeout, not in a race with the timer

_ERRNO_TEXT = {
    "ECONNREFUSED": "Connection refused",
    "ECONNRESET": "Connection reset by peer",
    "ETIMEDOUT": "Connection timed out",
    "EPIPE": "Broken pipe",
    "EINPROGRESS": "Operation now in progress",
}

# Order of lines that share one instant: the application's own calls, then the segments that
# arrive, then calls that react to them (accept, read, a close on end-of-file), then checks of
# errors, then the segments the endpoint sends (packetdrill matches those in the order sent).
_CALL, _IN, _AFTER, _CHECK, _OUT = range(5)


@dataclass(frozen=True)
class _Line:
    t: int
    rank: int
    order: int
    text: str


def _us(t: float) -> int:
    return round(t * USEC)


def _time_text(us: int) -> str:
    if us == 0:
        return "0"
    text = f"{us / USEC:.6f}".rstrip("0").rstrip(".")
    return text


def _refuse(trace: Trace, side: str, why: str) -> TcpbookError:
    return TcpbookError(f"cannot export side {side} of {trace.scenario!r} as packetdrill: {why}")


def script_text(trace: Trace, side: str = "A") -> str:
    """The packetdrill script for ``side`` ("A" or "B") of ``trace``, as text."""
    if side not in ("A", "B"):
        raise TcpbookError(f"side must be 'A' or 'B', got {side!r}")
    return _Exporter(trace, side).text()


def export_script(trace: Trace, path: str | os.PathLike[str], *, side: str = "A") -> None:
    """Write the packetdrill script for ``side`` of ``trace`` to ``path``.

    Raises :class:`TcpbookError` for a run a script cannot express for that side (its host
    vanishes, or it runs more than one connection) and when the file cannot be written.
    """
    text = script_text(trace, side)
    try:
        Path(path).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise TcpbookError(f"cannot write {os.fspath(path)!r}: {exc.strerror or exc}") from None


class _Exporter:
    def __init__(self, trace: Trace, side: str) -> None:
        self.trace = trace
        self.side = side
        self.peer = "B" if side == "A" else "A"
        scenario = SCENARIOS.get(trace.scenario)
        self.calls = [s.call for s in scenario.steps if s.endpoint == side] if scenario else []
        config: dict[str, Any] = dict(scenario.config.get(side, {})) if scenario else {}
        self.auto_read = bool(config.get("auto_read", True))
        self.close_on_eof = bool(config.get("close_on_eof", False))
        self.lines: list[_Line] = []
        self._check()

    # -- what a script can express --------------------------------------------------------------

    def _check(self) -> None:
        tr, side = self.trace, self.side
        for t in tr.transitions:
            if t.endpoint == side and t.cause == "host vanishes":
                raise _refuse(
                    tr,
                    side,
                    f"host {side} vanishes at {t.t:g} s, and a script cannot make the kernel "
                    f"under test vanish (export side {self.peer}, whose peer the script plays)",
                )
        if "vanish" in self.calls:
            raise _refuse(
                tr, side, f"host {side} vanishes, so there is no kernel under test on that side"
            )
        conns = {t.conn for t in tr.transitions if t.endpoint == side}
        conns |= {s.conn for s in tr.segments if side in (s.src, s.dst)}
        if len(conns) > 1:
            raise _refuse(
                tr,
                side,
                f"the run has {len(conns)} connections and a script here drives one connection",
            )
        if not any(side in (s.src, s.dst) for s in tr.segments) and not any(
            t.endpoint == side for t in tr.transitions
        ):
            raise _refuse(tr, side, f"nothing happens on side {side}")

    # -- building ----------------------------------------------------------------------------

    def _add(self, t: float | int, rank: int, text: str, order: int = 0) -> None:
        us = t if isinstance(t, int) else _us(t)
        self.lines.append(_Line(us, rank, order, text))

    def text(self) -> str:
        tr, side = self.trace, self.side
        mine = [t for t in tr.transitions if t.endpoint == side]
        passive = any(t.cause == "passive OPEN" for t in mine)
        fd = 3
        accept_at: float | None = None
        if passive:
            for t in mine:
                if t.src == "SYN_RECEIVED" and t.dst == "ESTABLISHED":
                    accept_at = t.t
                    break
        # A side that never opens has no socket at all: packetdrill sends a SYN that finds no
        # listening socket to its bind port (run_packet.c handle_listen_for_script_packet with
        # no socket under test), and the kernel answers as for a closed port. A socket that is
        # only bound would become the socket under test and its unset addresses would misroute
        # the SYN.

        def fd_at(t: float) -> int:
            return 4 if accept_at is not None and t >= accept_at else fd

        fin_arrivals = {
            _us(s.arrived)
            for s in tr.segments
            if s.dst == side
            and s.fate == "delivered"
            and s.arrived is not None
            and "FIN" in s.flags
        }
        established_at = {_us(t.t) for t in mine if t.dst == "ESTABLISHED"}
        shutdown_first = "shutdown" in self.calls and (
            "close" not in self.calls or self.calls.index("shutdown") < self.calls.index("close")
        )
        write_closes = 0
        for n, t in enumerate(mine):
            f = fd_at(t.t)
            if (
                passive
                and t.cause in ("CLOSE", "ABORT", "CLOSE with unread data")
                and t.src not in ("LISTEN", "SYN_SENT")
                and (accept_at is None or t.t < accept_at)
            ):
                raise _refuse(
                    tr,
                    side,
                    f"at {t.t:g} s side {side} closes a connection still in {t.src}, which its "
                    "application has not accepted yet; a socket API can only close the listener",
                )
            if t.cause == "passive OPEN":
                for k, call in enumerate(
                    (
                        "socket(..., SOCK_STREAM, IPPROTO_TCP) = 3",
                        "setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0",
                        "bind(3, ..., ...) = 0",
                        "listen(3, 1) = 0",
                    )
                ):
                    self._add(t.t, _CALL, call, k)
            elif t.cause == "active OPEN":
                for k, call in enumerate(
                    (
                        "socket(..., SOCK_STREAM, IPPROTO_TCP) = 3",
                        "fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0",
                        "connect(3, ..., ...) = -1 EINPROGRESS (Operation now in progress)",
                    )
                ):
                    self._add(t.t, _CALL, call, k)
            elif t.cause == "ABORT":
                self._add(
                    t.t,
                    _CALL,
                    f"setsockopt({f}, SOL_SOCKET, SO_LINGER, {{onoff=1, linger=0}}, 8) = 0",
                    n * 10,
                )
                self._add(t.t, _CALL, f"close({f}) = 0", n * 10 + 1)
            elif t.cause == "CLOSE with unread data" or (
                t.cause == "CLOSE" and t.src in ("LISTEN", "SYN_SENT")
            ):
                self._add(t.t, _CALL, f"close({f}) = 0", n * 10)
            elif t.cause == "CLOSE":
                write_closes += 1
                rank = _CALL
                if self.close_on_eof and t.src == "CLOSE_WAIT" and _us(t.t) in fin_arrivals:
                    rank = _AFTER
                if shutdown_first and write_closes == 1:
                    self._add(t.t, rank, f"shutdown({f}, SHUT_WR) = 0", n * 10)
                else:
                    self._add(t.t, rank, f"close({f}) = 0", n * 10)
        if accept_at is not None:
            self._add(accept_at, _AFTER, "accept(3, ..., ...) = 4", -1)
        for e in tr.errors:
            if e.endpoint != side:
                continue
            f = fd_at(e.t)
            if e.error == "ECONNRESET":
                text = f"read({f}, ..., 1000) = -1 ECONNRESET ({_ERRNO_TEXT['ECONNRESET']})"
            elif e.error == "EPIPE":
                # (Linux's RST in CLOSE_WAIT: read() still returns the end-of-file the FIN
                # brought, since tcp_recvmsg looks at SOCK_DONE first; write() fails)
                text = f"write({f}, ..., 100) = -1 EPIPE ({_ERRNO_TEXT['EPIPE']})"
            else:
                text = f"getsockopt({f}, SOL_SOCKET, SO_ERROR, [{e.error}], [4]) = 0"
            when = _us(e.t)
            if e.error == "ETIMEDOUT":
                when += CHECK_LAG_US  # a timer ended the connection: look a moment later
            self._add(when, _CHECK, text)
        self._segments(fd_at, established_at)
        return self._render()

    def _segments(self, fd_at: Any, established_at: set[int]) -> None:
        tr, side = self.trace, self.side
        # packetdrill numbers the side's sequence space from its latest SYN (as the runner does)
        syns = [
            (_us(s.sent), s.id, s.seq)
            for s in tr.segments
            if s.src == side and "SYN" in s.flags and s.duplicate_of is None
        ]
        peer_isn = next((s.seq for s in tr.segments if s.src == self.peer and "SYN" in s.flags), 0)

        def offset(t_us: int, upto_id: int | None = None) -> int:
            isn = 0
            for t, sid, seq in syns:
                if t < t_us or (t == t_us and (upto_id is None or sid <= upto_id)):
                    isn = seq
            return isn

        rcv_nxt: int | None = None
        arrivals = sorted(
            (
                s
                for s in tr.segments
                if s.dst == side and s.fate == "delivered" and s.arrived is not None
            ),
            key=lambda s: (s.arrived, s.id),
        )
        for s in tr.segments:
            if s.src == side and s.duplicate_of is None:
                t = _us(s.sent)
                self._add(t, _OUT, self._out(s, offset(t, s.id), peer_isn), s.id)
                if s.len and not s.retransmission:
                    rank = _AFTER if t in established_at else _CALL
                    self._add(t, rank, f"write({fd_at(s.sent)}, ..., {s.len}) = {s.len}", s.id)
        for s in arrivals:
            assert s.arrived is not None
            t = _us(s.arrived)
            self._add(t, _IN, self._in(s, offset(t), peer_isn), s.id)
            if "SYN" in s.flags and s.delivered_to is not None:
                rcv_nxt = (s.seq + 1) % SEQ_MOD
            new = self._accepted(s, rcv_nxt)
            if new is not None and rcv_nxt is not None:
                got, rcv_nxt = new
                if got and self.auto_read:
                    self._add(t, _AFTER, f"read({fd_at(s.arrived)}, ..., {got}) = {got}", s.id)

    def _accepted(self, s: SegmentRecord, rcv_nxt: int | None) -> tuple[int, int] | None:
        """(new bytes the application can read, next RCV.NXT) after ``s`` reaches the side."""
        if rcv_nxt is None or s.delivered_to is None or not s.len or s.arrived is None:
            return None
        tr = self.trace
        before = tr.state_at(self.side, s.arrived - 1e-9)
        if before not in ("SYN_RECEIVED", "ESTABLISHED", "FIN_WAIT_1", "FIN_WAIT_2"):
            return None
        if any(
            t.endpoint == self.side and t.cause == "rcv data after CLOSE" and t.t == s.arrived
            for t in tr.transitions
        ):
            return None
        start = (rcv_nxt - s.seq) % SEQ_MOD
        if start >= s.len:
            return 0, rcv_nxt
        if (s.seq - rcv_nxt) % SEQ_MOD and start == 0:
            return 0, rcv_nxt
        new = s.len - start
        return new, (rcv_nxt + new) % SEQ_MOD

    def _out(self, s: SegmentRecord, offset: int, peer_isn: int) -> str:
        seq = (s.seq - offset) % SEQ_MOD
        text = f"> {flags_notation(s.flags)} {seq}:{(seq + s.len) % SEQ_MOD}({s.len})"
        if s.ack is not None:
            text += f" ack {(s.ack - peer_isn) % SEQ_MOD}"
        if "SYN" in s.flags:
            text += " <...>"
        return text

    def _in(self, s: SegmentRecord, offset: int, peer_isn: int) -> str:
        seq = (s.seq - peer_isn) % SEQ_MOD
        text = f"< {flags_notation(s.flags)} {seq}:{(seq + s.len) % SEQ_MOD}({s.len})"
        if s.ack is not None:
            text += f" ack {(s.ack - offset) % SEQ_MOD}"
        text += f" win {WINDOW}"
        if "SYN" in s.flags:
            text += f" {PEER_SYN_OPTIONS}"
        return text

    # -- rendering ---------------------------------------------------------------------------

    def _header(self) -> list[str]:
        tr, side = self.trace, self.side
        p = tr.params
        role = "the client, who closes first" if side == "A" else "the server"
        shown = ", ".join(
            f"{k}={v}"
            for k, v in p.items()
            if k not in ("isn_a", "isn_b") and v not in (None, [], {}, False)
        )
        fin_timeout = p.get("fin_timeout")
        settings = [
            f"msl={p.get('msl', 30.0):g}",
            f"rto={p.get('rto', 1.0):g}",
            "fin_timeout=off" if fin_timeout is None else f"fin_timeout={fin_timeout:g}",
        ]
        if p.get("profile"):
            settings.insert(0, f"profile={p['profile']}")
        if p.get("skip_time_wait"):
            settings.append("skip_time_wait=1")
        if self.close_on_eof:
            settings.append("close_on_eof=1")
        out = [
            f"// packetdrill script written by tcpbook {__version__}: scenario {tr.scenario!r},",
            f"// side {side} ({role}) under test; the script plays side {self.peer}.",
            f"// Parameters: {shown}.",
            "// Run it against the tcpbook model: python -m tcpbook pkt THIS_FILE",
            *self._differences(p.get("profile")),
        ]
        sysctls = _linux_sysctls(p)
        if sysctls:
            # packetdrill takes one shell command before the first event (parser.y)
            out.append(f"`sysctl -q {' '.join(sysctls)}`")
        out.append(
            "// Model settings (they win over the sysctls; real packetdrill skips comments):"
        )
        out.append("// tcpbook: " + " ".join(settings))
        return out

    @staticmethod
    def _differences(profile: str | None) -> list[str]:
        """What a real Linux kernel does that the run's model does not (the header's caveats)."""
        if profile == "linux":
            return [
                "// The run used the linux profile (delayed ACK about 40 ms, tail-loss probe,",
                "// 200 ms RTO floor, linear SYN retries, TIME_WAIT 60 s). A real Linux kernel",
                "// still differs a little: its timers run on jiffies and a timer wheel (a few ms,",
                "// more on long timers), and it splits writes larger than the MSS and sends TCP",
                "// options the model has not.",
            ]
        return [
            "// A real Linux kernel will differ on some lines (it is not the model):",
            "//  - it delays ACKs by about 40 ms and may send an ACK with its next segment;",
            "//  - it retransmits data and FINs after about 200 ms (minimum RTO, tail-loss",
            "//    probe), not after RFC 6298's 1 s, and newer kernels retry SYNs linearly first;",
            "//  - TIME_WAIT lasts 60 s whatever the MSL below; tcp_fin_timeout is 60 s by default",
            "//    where the model, like RFC 9293, may have no FIN_WAIT_2 timer;",
            "//  - it splits writes larger than the MSS and sends TCP options the model has not.",
            "// Export with --profile linux for a script meant to pass on a Linux kernel.",
        ]

    def _render(self) -> str:
        lines = sorted(self.lines, key=lambda ln: (ln.t, ln.rank, ln.order))
        out = self._header()
        out.append("")
        prev: int | None = None
        for ln in lines:
            # packetdrill wants the first event at 0 (a side that only answers starts later)
            when = "0" if prev is None else "+" + _time_text(ln.t - prev)
            prev = ln.t
            out.append(f"{when:>8} {ln.text}")
        return "\n".join(out) + "\n"


def _linux_sysctls(p: dict[str, Any]) -> list[str]:
    """The Linux sysctls that give a kernel the run's settings, where they differ from Linux's
    defaults (``tcp_syn_retries`` counts the retries after the ``tcp_syn_linear_timeouts``)."""
    linux = get_profile("linux")
    out = []
    if p.get("rfc1337"):
        out.append("net.ipv4.tcp_rfc1337=1")
    fin_timeout = p.get("fin_timeout")
    if fin_timeout is not None and fin_timeout != linux.fin_timeout:
        out.append(f"net.ipv4.tcp_fin_timeout={max(1, round(fin_timeout))}")
    syn_retries = p.get("syn_retries")
    total = linux.syn_retries
    if syn_retries is not None and syn_retries != total:
        if p.get("profile") == "linux":
            syn_retries = max(0, syn_retries - linux.syn_linear)
        out.append(f"net.ipv4.tcp_syn_retries={syn_retries}")
    return out
