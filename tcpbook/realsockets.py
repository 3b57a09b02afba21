"""Experiments with the reader's own kernel: real sockets on the loopback interface.

Each function opens a few sockets on 127.0.0.1 (ports chosen by the kernel: bind to port 0),
does one thing the simulator models — close first, bind again, abort, half-close — and looks
at the kernel's sockets with ``psutil.net_connections()`` and ``ss``. It returns a small result
whose ``report()`` prints only facts that are the same on every run (no ports, no timings), so
a chapter can show it and a test can check it. Nothing here talks to any address but loopback,
every socket call has a timeout, and nothing needs root. Where the machine cannot answer
(psutil not allowed to list sockets, no ``ss``, not Linux), the report says what the reader
would have seen instead. A capture drawn next to a simulated run is a figure:
:func:`tcpbook.render.side_by_side`.
"""

from __future__ import annotations

import contextlib
import errno
import os
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from .trace import Trace

Side = Literal["client", "server"]

LOOPBACK = "127.0.0.1"
SOCKET_TIMEOUT = 2.0  # seconds for any single socket call; loopback answers in microseconds
SETTLE_TIMEOUT = 2.0  # how long to wait for a state to show up (Linux delays ACKs up to 200 ms)
POLL_INTERVAL = 0.01
TIME_WAIT_LEN = 60.0  # Linux include/net/tcp.h: TCP_TIMEWAIT_LEN (60*HZ), not a sysctl
LINUX_MSL = TIME_WAIT_LEN / 2  # the MSL that makes 2MSL equal Linux's TIME_WAIT
MSG_NOSIGNAL = getattr(socket, "MSG_NOSIGNAL", 0)  # EPIPE as an error, never a SIGPIPE

#: psutil's state names (from /proc/net/tcp on Linux) -> RFC 9293 section 3.3.2 names.
_RFC_NAMES = {
    "SYN_RECV": "SYN_RECEIVED",
    "FIN_WAIT1": "FIN_WAIT_1",
    "FIN_WAIT2": "FIN_WAIT_2",
    "CLOSE": "CLOSED",
}

NO_PSUTIL_HINT = (
    "On Linux the kernel would list it: `ss -tan state time-wait` shows one line per socket "
    "in TIME_WAIT; on macOS `netstat -an -p tcp | grep TIME_WAIT` (as root for psutil)."
)


class Unavailable(Exception):
    """This machine cannot answer the question (no permission, no tool, not this OS)."""


# ----------------------------------------------------------------- looking at the kernel


def socket_states(ports: tuple[int, int]) -> dict[tuple[int, int], str]:
    """The kernel's TCP sockets between two loopback ports: ``{(local, remote): RFC state}``.

    Both ends of a loopback connection are sockets of this host, so both show up: the client's
    as ``(client_port, server_port)`` and the server's as ``(server_port, client_port)``.
    Raises :class:`Unavailable` when psutil may not list sockets (macOS without root).
    """
    import psutil

    try:
        conns = psutil.net_connections(kind="tcp")
    except (psutil.AccessDenied, PermissionError) as exc:
        raise Unavailable(
            f"psutil is not allowed to list sockets here ({type(exc).__name__})"
        ) from None
    found: dict[tuple[int, int], str] = {}
    for c in conns:
        if not c.raddr:
            continue
        key = (c.laddr.port, c.raddr.port)
        if set(key) == set(ports) and c.laddr.ip in (LOOPBACK, "::ffff:127.0.0.1"):
            found[key] = _RFC_NAMES.get(c.status, c.status)
    return found


def ss_time_wait(port: int) -> list[tuple[str, str]]:
    """``(local, peer)`` of each socket ``ss -tan state time-wait`` lists with ``port`` in it."""
    ss = shutil.which("ss")
    if ss is None:
        raise Unavailable("`ss` is not installed here (on Linux it comes with iproute2)")
    try:
        run = subprocess.run(
            [ss, "-Htan", "state", "time-wait"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise Unavailable(f"`ss` did not run here ({type(exc).__name__})") from None
    rows = []
    for line in run.stdout.splitlines():
        cols = line.split()
        if len(cols) >= 4 and not cols[0].startswith("Recv"):
            local, peer = cols[-2], cols[-1]
            if local.endswith(f":{port}") or peer.endswith(f":{port}"):
                rows.append((local, peer))
    return rows


def _wait_for(check: Callable[[], bool], timeout: float = SETTLE_TIMEOUT) -> bool:
    deadline = time.monotonic() + timeout
    while True:
        if check():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(POLL_INTERVAL)


# ----------------------------------------------------------------- sockets


@dataclass
class Pair:
    """A listener and one connection through it: both ends are sockets of this process."""

    listener: socket.socket
    client: socket.socket
    server: socket.socket
    client_port: int = 0  # kept: getsockname() fails once a socket is closed
    server_port: int = 0

    def __post_init__(self) -> None:
        self.client_port = int(self.client.getsockname()[1])
        self.server_port = int(self.listener.getsockname()[1])

    def sock(self, side: Side) -> socket.socket:
        return self.client if side == "client" else self.server

    def key(self, side: Side) -> tuple[int, int]:
        """How ``socket_states`` names ``side``'s end: ``(local port, remote port)``."""
        ports = (self.client_port, self.server_port)
        return ports if side == "client" else (ports[1], ports[0])


def listener(port: int = 0, *, reuseaddr: bool = False) -> socket.socket:
    """A listening socket on loopback; port 0 lets the kernel choose a free port."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(SOCKET_TIMEOUT)
    try:
        if reuseaddr:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((LOOPBACK, port))
        s.listen(1)
    except OSError:
        s.close()
        raise
    return s


@contextlib.contextmanager
def connected_pair(*, reuseaddr: bool = False) -> Iterator[Pair]:
    """Connect to a fresh loopback listener; every socket is closed on the way out."""
    lst = listener(reuseaddr=reuseaddr)
    client = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    client.settimeout(SOCKET_TIMEOUT)
    server = None
    try:
        client.connect(lst.getsockname())
        server, _ = lst.accept()
        server.settimeout(SOCKET_TIMEOUT)
        yield Pair(lst, client, server)
    finally:
        for s in (client, server, lst):
            if s is not None:
                s.close()


def _other(side: Side) -> Side:
    return "server" if side == "client" else "client"


def _error_name(exc: OSError) -> str:
    return errno.errorcode.get(exc.errno or 0, type(exc).__name__)


def _recv_outcome(s: socket.socket) -> str:
    """What one ``recv()`` tells the application: data, end of file, or an errno name."""
    try:
        data = s.recv(4096)
    except TimeoutError:
        return "nothing yet (timed out)"
    except OSError as exc:
        return _error_name(exc)
    return f"{len(data)} bytes" if data else "end of file"


def _send_outcome(s: socket.socket, data: bytes) -> str:
    try:
        s.send(data, MSG_NOSIGNAL)
    except OSError as exc:
        return _error_name(exc)
    return "sent"


def _linger_zero(s: socket.socket) -> None:
    """SO_LINGER on with a zero timeout: close() aborts with RST (RFC 9293 section 3.10.5)."""
    fmt = "HH" if sys.platform == "win32" else "ii"  # struct linger: u_short on Windows
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack(fmt, 1, 0))


# ----------------------------------------------------------------- results


@dataclass
class Result:
    """What an experiment found: ``report()`` is stable text, the fields are for code."""

    title: str
    lines: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def report(self) -> str:
        body = [self.title, *(f"  {line}" for line in self.lines)]
        body += [f"  note: {n}" for n in self.notes]
        return "\n".join(body)

    def __str__(self) -> str:
        return self.report()

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text(self.report())


@dataclass
class TimeWaitResult(Result):
    closer: Side = "client"
    client_port: int = 0
    server_port: int = 0
    states_after_first_close: dict[str, str] = field(default_factory=dict)
    states_after_both_closed: dict[str, str] = field(default_factory=dict)
    ss_lists_it: bool | None = None

    @property
    def closer_in_time_wait(self) -> bool | None:
        return _get_state(self.states_after_both_closed, self.closer, "TIME_WAIT")

    @property
    def other_in_time_wait(self) -> bool | None:
        return _get_state(self.states_after_both_closed, _other(self.closer), "TIME_WAIT")


def _get_state(states: dict[str, str], side: str, state: str) -> bool | None:
    return None if not states else states.get(side) == state


def _named(pair: Pair, found: dict[tuple[int, int], str]) -> dict[str, str]:
    sides: tuple[Side, Side] = ("client", "server")
    return {side: found.get(pair.key(side), "CLOSED") for side in sides}


def _states_line(states: dict[str, str]) -> str:
    return f"client {states['client']:<11} server {states['server']}"


# ----------------------------------------------------------------- the experiments


def time_wait(closer: Side = "client") -> TimeWaitResult:
    """Close a loopback connection, ``closer`` first, and find which end sits in TIME_WAIT.

    Only the side that closes first passes through FIN_WAIT_2 into TIME_WAIT (RFC 9293
    section 3.3.2); the other goes CLOSE_WAIT -> LAST_ACK -> CLOSED. The kernel keeps the
    TIME_WAIT socket for 60 s after the program has closed it.
    """
    if closer not in ("client", "server"):
        raise ValueError(f"closer must be 'client' or 'server', got {closer!r}")
    other = _other(closer)
    result = TimeWaitResult(f"{closer} closes first, then the {other}", closer=closer)
    with connected_pair() as pair:
        result.client_port, result.server_port = pair.client_port, pair.server_port
        ports = (pair.client_port, pair.server_port)
        pair.sock(closer).close()
        seen = _recv_outcome(pair.sock(other))
        result.lines.append(f"the {other}'s recv() returns: {seen}")
        try:
            want = {closer: "FIN_WAIT_2", other: "CLOSE_WAIT"}
            _wait_for(lambda: _named(pair, socket_states(ports)) == want)
            result.states_after_first_close = _named(pair, socket_states(ports))
            pair.sock(other).close()
            want = {closer: "TIME_WAIT", other: "CLOSED"}
            _wait_for(lambda: _named(pair, socket_states(ports)) == want)
            result.states_after_both_closed = _named(pair, socket_states(ports))
        except Unavailable as exc:
            pair.sock(other).close()
            result.notes += [str(exc), NO_PSUTIL_HINT]
            return result
    result.lines += [
        f"after the {closer}'s close():  {_states_line(result.states_after_first_close)}",
        f"after the {other}'s close():  {_states_line(result.states_after_both_closed)}",
        f"the side that closed first ({closer}) is in TIME_WAIT: {result.closer_in_time_wait}",
        f"the other side ({other}) is in TIME_WAIT: {result.other_in_time_wait}",
    ]
    local_port = result.client_port if closer == "client" else result.server_port
    try:
        rows = ss_time_wait(local_port)
        result.ss_lists_it = any(local.endswith(f":{local_port}") for local, _ in rows)
        result.lines.append(f"`ss -tan state time-wait` lists it too: {result.ss_lists_it}")
    except Unavailable as exc:
        result.notes.append(f"{exc}; it would list the same socket.")
    return result


@dataclass
class RebindResult(Result):
    closer: Side = "server"
    port_in_time_wait: bool | None = None
    #: ``{(old server had SO_REUSEADDR, new one has it): "ok" or an errno name}``
    outcomes: dict[tuple[bool, bool], str] = field(default_factory=dict)


def _try_listen(port: int, *, reuseaddr: bool) -> str:
    try:
        listener(port, reuseaddr=reuseaddr).close()
    except OSError as exc:
        return _error_name(exc)
    return "ok"


def _old_connection(closer: Side, *, reuseaddr: bool) -> tuple[int, bool | None, str]:
    """A connection closed by ``closer`` first, its listener closed: (port, in TIME_WAIT?, note)."""
    other = _other(closer)
    with connected_pair(reuseaddr=reuseaddr) as pair:
        ports = (pair.client_port, pair.server_port)
        pair.sock(closer).close()
        _recv_outcome(pair.sock(other))
        pair.sock(other).close()
        pair.listener.close()
        try:
            _wait_for(lambda: _named(pair, socket_states(ports))[closer] == "TIME_WAIT")
            in_time_wait = _named(pair, socket_states(ports))["server"] == "TIME_WAIT"
        except Unavailable as exc:
            time.sleep(0.2)  # let the final ACK pass even though we cannot watch it
            return pair.server_port, None, str(exc)
    return pair.server_port, in_time_wait, ""


def rebind(closer: Side = "server") -> RebindResult:
    """Restart a server on its port while its old connection sits in TIME_WAIT.

    When the server closed first, its end (local port = the listening port) is in TIME_WAIT
    and a plain ``bind()`` to that port fails with EADDRINUSE. SO_REUSEADDR lets the new
    listener bind anyway — on Linux only if the old server had set it too (the TIME_WAIT
    socket keeps its listener's flag), which is why servers set it from the start. When the
    client closed first, TIME_WAIT holds the client's port and the server's port is free.
    """
    if closer not in ("client", "server"):
        raise ValueError(f"closer must be 'client' or 'server', got {closer!r}")
    result = RebindResult(f"the {closer} closes first; then the server restarts", closer=closer)
    for old in (False, True):
        port, in_time_wait, note = _old_connection(closer, reuseaddr=old)
        if note and note not in result.notes:
            result.notes.append(note)
        if in_time_wait is not None:
            result.port_in_time_wait = in_time_wait
        for new in (False, True):
            result.outcomes[old, new] = _try_listen(port, reuseaddr=new)
    if result.port_in_time_wait is not None:
        result.lines.append(
            f"the server's end of the old connection is in TIME_WAIT: {result.port_in_time_wait}"
        )
    result.lines.append("a new server's bind() + listen() on the same port:")
    flag = {False: "without", True: "with   "}
    for (old, new), outcome in result.outcomes.items():
        result.lines.append(
            f"  old server {flag[old]} SO_REUSEADDR, new one {flag[new]} it: {outcome}"
        )
    if closer == "server" and result.outcomes[False, False] == "ok":
        result.notes.append(
            "this system let a plain bind() through; Linux, macOS and the BSDs refuse it with "
            "EADDRINUSE while the old connection is in TIME_WAIT."
        )
    return result


@dataclass
class AbortResult(Result):
    peer_recv: str = ""
    peer_send: str = ""
    closer_state: str | None = None


def linger_zero() -> AbortResult:
    """``close()`` with SO_LINGER on and a zero timeout aborts: RST instead of FIN.

    The client's connection is gone at once, with no TIME_WAIT; the server's next ``recv()``
    fails with ECONNRESET and, the connection being dead, a later ``send()`` with EPIPE.
    """
    result = AbortResult("the client sets SO_LINGER to (on, 0 s) and closes")
    with connected_pair() as pair:
        ports = (pair.client_port, pair.server_port)
        _linger_zero(pair.client)
        pair.client.close()
        result.peer_recv = _recv_outcome(pair.server)
        result.peer_send = _send_outcome(pair.server, b"anyone there?")
        _closer_state(result, pair, ports)
    result.lines[:0] = [
        f"the server's recv() raises: {result.peer_recv}",
        f"the server's next send() raises: {result.peer_send}",
    ]
    return result


def _closer_state(result: AbortResult, pair: Pair, ports: tuple[int, int]) -> None:
    try:
        result.closer_state = _named(pair, socket_states(ports))["client"]
        result.lines.append(
            f"the client left a socket in TIME_WAIT: {result.closer_state == 'TIME_WAIT'}"
        )
    except Unavailable as exc:
        result.notes.append(str(exc))


def close_unread() -> AbortResult:
    """``close()`` while received data is still unread sends RST, not FIN (RFC 2525 2.17).

    The kernel cannot deliver the data any more, so it tells the peer at once that the data
    was lost instead of pretending to close cleanly. The peer's ``recv()`` sees ECONNRESET.
    """
    result = AbortResult("the server sends 100 bytes; the client closes without reading them")
    with connected_pair() as pair:
        ports = (pair.client_port, pair.server_port)
        pair.server.sendall(bytes(100))
        arrived = bool(select.select([pair.client], [], [], SOCKET_TIMEOUT)[0])
        pair.client.close()
        result.peer_recv = _recv_outcome(pair.server)
        _closer_state(result, pair, ports)
    result.lines[:0] = [
        f"the 100 bytes were waiting in the client's receive buffer: {arrived}",
        f"the server's recv() after the client's close(): {result.peer_recv}",
    ]
    return result


@dataclass
class HalfCloseResult(Result):
    server_read: bytes = b""
    client_read: bytes = b""
    states_while_flowing: dict[str, str] = field(default_factory=dict)


def half_close(replies: int = 3) -> HalfCloseResult:
    """``shutdown(SHUT_WR)``: the client's FIN says "no more from me", yet data still flows back.

    The server reads to end of file, then answers; the client, in FIN_WAIT_2, keeps receiving
    until the server closes too. This is how ``rsh host sort < file`` or ``nc -N`` tell the far
    side its input has ended. (SSH does not: it sends SSH_MSG_CHANNEL_EOF inside its channel,
    RFC 4254 section 5.3, and its TCP connection stays open in both directions.)
    """
    result = HalfCloseResult("the client sends a request and shuts down its sending side")
    request = b"sort these lines\n"
    with connected_pair() as pair:
        ports = (pair.client_port, pair.server_port)
        pair.client.sendall(request)
        pair.client.shutdown(socket.SHUT_WR)
        result.server_read = _read_to_eof(pair.server)
        for n in range(1, replies + 1):
            pair.server.sendall(f"reply {n}\n".encode())
        try:
            want = {"client": "FIN_WAIT_2", "server": "CLOSE_WAIT"}
            _wait_for(lambda: _named(pair, socket_states(ports)) == want)
            result.states_while_flowing = _named(pair, socket_states(ports))
        except Unavailable as exc:
            result.notes.append(str(exc))
        pair.server.close()
        result.client_read = _read_to_eof(pair.client)
    lines = result.client_read.decode().splitlines()
    result.lines += [
        f"the server read the whole request, then end of file: {result.server_read == request}",
    ]
    if result.states_while_flowing:
        result.lines.append(
            f"while the server answers:  {_states_line(result.states_while_flowing)}"
        )
    result.lines.append(f"the client, after its shutdown(), still received: {lines}")
    return result


def _read_to_eof(s: socket.socket) -> bytes:
    chunks = []
    while chunk := s.recv(4096):
        chunks.append(chunk)
    return b"".join(chunks)


# ----------------------------------------------------------------- the kernel's settings


#: sysctl -> (Linux default, what it means). Linux Documentation/networking/ip-sysctl.rst.
SYSCTLS: dict[str, tuple[str, str]] = {
    "tcp_fin_timeout": ("60", "seconds an orphaned FIN_WAIT_2 socket waits for the peer's FIN"),
    "tcp_syn_retries": ("6", "SYN retransmissions before connect() gives up (ETIMEDOUT)"),
    "tcp_syn_linear_timeouts": (
        "4",
        "more SYN retries before those, each after a fixed 1 s (Linux 6.x)",
    ),
    "tcp_synack_retries": ("5", "SYN,ACK retransmissions by a listener"),
    "tcp_retries2": ("15", "retransmissions of other segments before giving up"),
    "tcp_orphan_retries": ("0", "retransmissions for a closed socket's FIN (0 means 8)"),
    "tcp_rfc1337": ("0", "1 = ignore RST in TIME_WAIT as RFC 1337 advises"),
    "tcp_max_tw_buckets": ("", "most TIME_WAIT sockets kept at once (scales with memory)"),
    "tcp_tw_reuse": ("2", "reuse a TIME_WAIT port for a new outgoing connection (2 = loopback)"),
    "ip_local_port_range": ("32768\t60999", "the ephemeral ports a client's connect() uses"),
}
PROC_SYS = Path("/proc/sys/net/ipv4")


@dataclass
class KernelSettings(Result):
    values: dict[str, str] = field(default_factory=dict)
    linux: bool = False

    def number(self, name: str) -> int | None:
        text = self.values.get(name)
        return int(text) if text is not None and text.strip().isdigit() else None

    def simulate(self, scenario: str = "close", **options: Any) -> Trace:
        """Run ``scenario`` under the ``linux`` profile with this machine's timers: MSL 30 s
        (TIME_WAIT 60 s), ``tcp_fin_timeout``, ``tcp_syn_retries`` (plus the
        ``tcp_syn_linear_timeouts`` retries that ``tcp_write_timeout`` adds to it in SYN_SENT;
        the profile's 4 where the kernel has no such sysctl) and ``tcp_rfc1337``."""
        from . import simulate
        from .profiles import LINUX

        fin_timeout = self.number("tcp_fin_timeout")
        syn_retries = self.number("tcp_syn_retries")
        linear = self.number("tcp_syn_linear_timeouts")
        mine: dict[str, Any] = {"msl": LINUX_MSL, "profile": "linux"}
        if fin_timeout is not None:
            mine["fin_timeout"] = float(fin_timeout)
        if syn_retries is not None:
            mine["syn_retries"] = syn_retries + (LINUX.syn_linear if linear is None else linear)
        if self.number("tcp_rfc1337") is not None:
            mine["rfc1337"] = self.number("tcp_rfc1337") == 1
        return simulate(scenario, **{**mine, **options})


def kernel_settings(root: Path = PROC_SYS) -> KernelSettings:
    """Read the TCP sysctls that decide this kernel's timers (Linux ``/proc/sys``)."""
    result = KernelSettings("this machine's TCP settings", linux=root.is_dir())
    if not result.linux:
        result.notes += [
            f"no {root} here ({sys.platform}): these are Linux's settings.",
            "macOS and FreeBSD: `sysctl net.inet.tcp.msl` (TIME_WAIT lasts 2 x msl ms); "
            "Windows: TcpTimedWaitDelay in the registry (default 120 s).",
        ]
        return result
    for name, (default, meaning) in SYSCTLS.items():
        try:
            value = (root / name).read_text().strip()
        except OSError:
            result.lines.append(f"{name:<24} (not in this kernel)  {meaning}")
            continue
        result.values[name] = value
        shown = value.replace("\t", "-")
        mark = "" if not default or value == default else f"   (Linux default {default})"
        result.lines.append(f"{name:<24} {shown:<12} {meaning}{mark}")
    result.lines.append(
        f"{'TIME_WAIT':<24} {TIME_WAIT_LEN:<12g} seconds, fixed in the kernel (TCP_TIMEWAIT_LEN)"
    )
    return result


# ----------------------------------------------------------------- capturing a real close

#: The chapter's loopback close follows the simulator's "close" scenario: after the handshake
#: the client sends 100 bytes, the server 200, the client closes, the server closes after EOF.
CLIENT_SENDS_AT = 0.1  # seconds after the connection is established
SERVER_SENDS_AT = 0.2
CLIENT_CLOSES_AT = 0.5
SERVER_CLOSES_AFTER_EOF = 0.2
TCPDUMP_START_TIMEOUT = 5.0
TCPDUMP_STOP_TIMEOUT = 5.0


def paced_close(pair: Pair) -> None:
    """Play the "close" scenario on a real connection, at the simulator's pace."""
    start = time.monotonic()

    def at(t: float) -> None:
        time.sleep(max(0.0, start + t - time.monotonic()))

    at(CLIENT_SENDS_AT)
    pair.client.sendall(bytes(100))
    _recv_exactly(pair.server, 100)
    at(SERVER_SENDS_AT)
    pair.server.sendall(bytes(200))
    _recv_exactly(pair.client, 200)
    at(CLIENT_CLOSES_AT)
    pair.client.close()
    if pair.server.recv(1) != b"":
        raise OSError("the server expected end of file")
    time.sleep(SERVER_CLOSES_AFTER_EOF)
    pair.server.close()


def _recv_exactly(s: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = s.recv(n - len(data))
        if not chunk:
            raise OSError(f"connection closed after {len(data)} of {n} bytes")
        data += chunk
    return data


@dataclass
class CaptureResult(Result):
    path: Path | None = None
    live: bool = False
    trace: Trace | None = None


def capture_close(path: str | os.PathLike[str] | None = None) -> CaptureResult:
    """Capture a real loopback close with tcpdump (needs tcpdump and the right to capture).

    The capture is bounded: tcpdump listens only to this connection's port and is stopped
    (SIGINT, then SIGKILL after a timeout) as soon as the close is over. When capturing is
    not possible, ``live`` is False and ``notes`` say why; nothing is raised.
    """
    result = CaptureResult("a real close on loopback, captured with tcpdump")
    tcpdump = shutil.which("tcpdump")
    if tcpdump is None:
        result.notes.append("tcpdump is not installed here (Debian/Ubuntu package: tcpdump)")
        return result
    target = Path(path) if path is not None else Path(tempfile.mkdtemp()) / "loopback-close.pcap"
    interface = "lo" if sys.platform.startswith("linux") else "lo0"
    with connected_pair_later() as (lst, connect):
        port = int(lst.getsockname()[1])
        # --immediate-mode: hand each packet over at once (not in 1 s blocks) so none is still
        # in the kernel's buffer when we stop; -Z root: as root, Debian's tcpdump would
        # otherwise switch to the "tcpdump" user, who may not write to the target directory.
        command = [tcpdump, "-i", interface, "-n", "-U", "--immediate-mode", "-w", str(target)]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            command += ["-Z", "root"]
        command.append(f"tcp port {port}")
        try:
            proc = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
            )
        except OSError as exc:
            result.notes.append(f"tcpdump did not start: {exc.strerror}")
            return result
        try:
            ready, why = _tcpdump_ready(proc)
            if not ready:
                result.notes.append(f"capturing is not permitted here: {why}")
                return result
            with connect() as pair:
                paced_close(pair)
                time.sleep(0.1)  # the final ACK
        finally:
            _stop(proc)
    from .capture import read_capture

    result.path, result.live = target, True
    result.trace = read_capture(target)
    return result


@contextlib.contextmanager
def connected_pair_later() -> Iterator[tuple[socket.socket, Callable[[], Any]]]:
    """A listener now, the connection later (after tcpdump is listening to its port)."""
    lst = listener()

    @contextlib.contextmanager
    def connect() -> Iterator[Pair]:
        client = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        client.settimeout(SOCKET_TIMEOUT)
        server = None
        try:
            client.connect(lst.getsockname())
            server, _ = lst.accept()
            server.settimeout(SOCKET_TIMEOUT)
            yield Pair(lst, client, server)
        finally:
            for s in (client, server):
                if s is not None:
                    s.close()

    try:
        yield lst, connect
    finally:
        lst.close()


def _tcpdump_ready(proc: subprocess.Popen[bytes]) -> tuple[bool, str]:
    """Wait until tcpdump says it is listening, or has failed (with its message)."""
    assert proc.stderr is not None
    deadline = time.monotonic() + TCPDUMP_START_TIMEOUT
    text = b""
    while time.monotonic() < deadline:
        ready = select.select([proc.stderr], [], [], 0.1)[0]
        if ready:
            chunk = os.read(proc.stderr.fileno(), 4096)
            text += chunk
            if b"listening on" in text:
                return True, ""
            if not chunk:
                break
        if proc.poll() is not None and not ready:
            break
    message = " ".join(text.decode(errors="replace").split())
    return False, (message or "tcpdump did not start listening in time")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=TCPDUMP_STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=TCPDUMP_STOP_TIMEOUT)
    if proc.stderr is not None:
        proc.stderr.close()


#: A close captured on a Linux machine's loopback with :func:`capture_close`, for readers whose
#: machine may not capture (Binder, no root): the chapter shows it instead.
EXAMPLE_CAPTURE = Path(__file__).resolve().parent.parent / "assets" / "loopback-close.pcap"


def capture_or_example(
    example: str | os.PathLike[str] = EXAMPLE_CAPTURE, *, relative: bool = True
) -> CaptureResult:
    """A live loopback capture of the close if this machine allows it, else the example file.

    Either way ``trace`` is set; ``live`` and ``report()`` say which one it is and why.
    """
    result = capture_close()
    if result.live and result.path is not None:
        from .capture import read_capture

        result.trace = read_capture(result.path, relative=relative)
        result.lines.append("captured live on this machine's loopback just now")
        return result
    return example_close(example, relative=relative, reasons=result.notes)


def example_close(
    example: str | os.PathLike[str] = EXAMPLE_CAPTURE,
    *,
    relative: bool = True,
    reasons: list[str] | None = None,
) -> CaptureResult:
    """The committed example capture, read as a trace (what a reader sees without capture)."""
    from .capture import read_capture

    result = CaptureResult("a real close on loopback, captured with tcpdump", notes=reasons or [])
    result.path = Path(example)
    result.trace = read_capture(result.path, relative=relative)
    result.lines.append(
        "showing the example capture that comes with the book (made the same way on Linux)"
    )
    return result


def close_facts(trace: Trace) -> str:
    """What any capture of the chapter's close shows, in words that do not change run to run."""
    lines = [
        f"A (the client) went: {' -> '.join(trace.path('A'))}",
        f"B (the server) went: {' -> '.join(trace.path('B'))}",
    ]
    fins = [s for s in trace.segments if "FIN" in s.flags]
    if fins:
        first = fins[0]
        ack = next(
            (
                s
                for s in trace.segments
                if s.src == first.dst
                and s.sent >= first.sent
                and s.ack == first.seq + first.len + 1
            ),
            None,
        )
        if ack is not None:
            wait = ack.sent - first.sent
            lines.append(
                "the ACK of A's FIN waited for the delayed-ACK timer "
                f"(at least {DELAYED_ACK_SEEN * 1000:g} ms): {wait >= DELAYED_ACK_SEEN}"
            )
        lines.append(f"a FIN rode on a data segment: {any(s.len > 0 for s in fins)}")
    lines.append(f"segments on the wire: {len(trace.segments)}")
    lines.append(
        f"A is still in TIME_WAIT when the capture stops: {trace.final.get('A') == 'TIME_WAIT'}"
    )
    return "\n".join(lines)


DELAYED_ACK_SEEN = 0.02  # Linux delays an ACK at least TCP_DELACK_MIN = 40 ms (HZ/25)
