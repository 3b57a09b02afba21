"""The system calls a packetdrill script makes, as the tested endpoint's socket answers them.

:class:`Syscalls` is the part of the :class:`~tcpbook.packetdrill.runner.Runner` that plays
the socket API: one ``_call_<name>`` method per call (``socket``, ``connect``, ``read``,
``setsockopt``, ...), blocking calls that wait for the connection, and the check of each call's
result against the script. Errors follow Linux (``tcp_recvmsg``, ``inet_shutdown``,
``tcp_reset``) where the RFC leaves them open.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass

from ..endpoint import Config, Endpoint
from ..errors import IllegalCall
from ..states import SYNCHRONIZED, State
from .parser import ScriptProblem, Statement, Syscall, TcpiAssert, result_text
from .results import LineResult
from .results import seconds_text as _seconds

S = State

LINUX_FIN_TIMEOUT = 60.0  # Linux net.ipv4.tcp_fin_timeout default
READ_ALL = 1 << 30  # a read whose size the script leaves as "..."

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


@dataclass
class Pending:
    """A blocking call waiting for the connection (connect, accept or read)."""

    index: int
    stmt: Statement
    kind: str
    start: int
    end: int
    fd: int
    size: int = 0
    tolerance: int = 4000


class Syscalls:
    """The socket side of a run: file descriptors, blocking calls and their results.

    The attributes and the three methods below belong to the runner; they are declared here
    so that these methods type-check on their own.
    """

    config: Config
    tolerance: int
    tolerance_percent: float
    profile: str | None
    connect_armed: bool
    awaiting_synack: bool
    now: int
    stmt_base: int
    results: list[LineResult]
    fds: dict[int, str]
    nonblocking: set[int]
    pending: Pending | None
    socket_made: bool
    listening: bool
    accepted: bool
    established_once: bool
    syn_sent: bool
    linger0: bool
    sk_err: str | None
    eof: bool
    shut_rd: bool

    def endpoint(self) -> Endpoint:
        raise NotImplementedError

    def _drain(self) -> None:
        raise NotImplementedError

    def _fail(self, stmt: Statement, expected: str, got: str, reason: str, note: str = "") -> None:
        raise NotImplementedError

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
        self.pending = Pending(index, stmt, kind, self.now, end, fd, size, tol)
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
        self._fail_pending(
            f" returning at {_seconds(p.end)}",
            f"at {_seconds(p.end + p.tolerance)}",
            "the call did not return in time",
        )

    def _finish_pending(self) -> None:
        if self.pending is not None:
            self._fail_pending(
                "", f"when the script ended at {_seconds(self.now)}", "the call never returned"
            )

    def _fail_pending(self, returning: str, when: str, reason: str) -> None:
        """The blocked call fails its line: it was still blocked ``when``."""
        p = self.pending
        assert p is not None
        call = p.stmt.body
        assert isinstance(call, Syscall)
        self.pending = None
        self._fail(
            p.stmt,
            call.expected_text() + returning,
            f"{call.call_text()} still blocked {when}",
            reason,
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

    def _try_complete(self, p: Pending) -> tuple[int, str | None] | None:
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


__all__ = ["LINUX_FIN_TIMEOUT", "LINUX_TCP_STATES", "READ_ALL", "Pending", "Syscalls"]
