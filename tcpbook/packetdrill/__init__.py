"""packetdrill scripts against the tcpbook state machine, and any scenario exported as one.

packetdrill (github.com/google/packetdrill) is how kernel engineers write TCP behaviour down: a
timed list of system calls, segments injected into the host (``<``) and segments the host must
send (``>``). :func:`run_script` runs such a script against one tcpbook
:class:`~tcpbook.endpoint.Endpoint` while the script plays the peer; :func:`export_script` turns a
simulated run into a script that a real Linux packetdrill can run too.

Verdicts: ``pass`` (exit status 0), ``mismatch`` (1: the first line where the endpoint did not do
what the script expects, with ``expected ...`` and ``got ...``), ``unsupported`` and ``malformed``
(2: ``unsupported: <construct> at line N`` / ``malformed: <what> at line N``). A script is never
half-understood: what the model cannot honour is ``unsupported``, never a wrong pass or fail.

Supported
    * Times: absolute ``0.100``, relative ``+0``, ``+.1``, ranges ``0.1~0.2`` / ``+.1~+.2`` for
      expected segments, ``*`` (any time), blocking calls ``+0...0.1 accept(...)``. Relative times
      count from the moment the previous line finished, as in packetdrill. A time is on time
      within the larger of ``--tolerance_usecs`` (default 4000) and ``--tolerance_percent``
      (default 12.5) of the time since the previous line's expected time (packetdrill's
      ``verify_time``).
    * Calls: ``socket``, ``bind``, ``listen``, ``accept``/``accept4``, ``connect`` (blocking or
      after ``fcntl(fd, F_SETFL, O_RDWR|O_NONBLOCK)``: ``-1 EINPROGRESS``),
      ``write``/``send``/``sendto``/``sendmsg``/``writev``, ``read``/``recv``/``recvfrom``/
      ``recvmsg``/``readv`` (``MSG_DONTWAIT`` = non-blocking), ``close``, ``shutdown`` with
      ``SHUT_WR``/``SHUT_RD``/``SHUT_RDWR``, ``setsockopt`` ``SO_LINGER {onoff=1, linger=0}``
      (close aborts with RST), ``TCP_LINGER2 [N]`` (this socket's FIN_WAIT_2 timeout),
      ``SO_REUSEADDR``; ``getsockopt`` ``SO_ERROR`` and ``TCP_INFO, [N], [4]`` (N's first byte
      is ``tcpi_state``, Linux numbering 1 ESTABLISHED ... 11 CLOSING) are checked, and so is
      ``%{ assert tcpi_state == TCP_<STATE> }%`` (packetdrill's names; other Python is
      unsupported). ``fcntl(F_GETFL)`` returns ``O_RDWR`` (``0x2``), with ``O_NONBLOCK``
      (``0x802``) after ``F_SETFL``. Results are checked where the model knows them: accept's
      fd, ``ECONNREFUSED``, ``ECONNRESET``, ``ETIMEDOUT``, ``EPIPE``, ``EAGAIN``, ``ENOTCONN``,
      ``EBADF``, read counts and end-of-file. ``poll``, ``ioctl``, ``SO_SNDBUF``/``SO_RCVBUF``,
      other socket options and ``getsockname``-like calls are accepted and marked ``ignored``
      (not checked).
    * Segments: flags ``S S. . P. F. FP. R R.``, ``seq:end(len)``, ``ack N``, ``win N``,
      ``<options>``. Sequence numbers are relative as in packetdrill: the endpoint's own numbers
      count from the ISN packetdrill learns (the SYN a ``connect()`` sends, or a passive
      socket's first SYN,ACK, and no later one: a second connection on the same addresses
      keeps counting from it; tcpbook's ISN is shown as 0), the script's are taken as written.
      On injected segments ``win`` and options are ignored. On expected segments flags, seq,
      end, length and ack are checked exactly and the time within the tolerance; the window
      and options (``<mss 1460,sackOK,TS val 1 ecr 0,nop,wscale 8>``, SACK blocks) are not
      modelled and are listed in the result's ``not_checked``; ``strict=True``
      (``pkt --strict``) makes a window, timestamps or SACK blocks ``unsupported`` instead.
    * Header: ``--option`` lines (``--tolerance_usecs`` and ``--tolerance_percent`` honoured,
      others ignored), comments ``//`` and ``/* */``, backquoted shell lines. Sysctls choose
      the profile (``net.inet.tcp.*``: ``freebsd``, ``net.ipv4.*``: ``linux``; the result's
      ``profile``; ``pkt --profile`` or ``// tcpbook: profile=NAME`` choose one explicitly; a
      script with none of them runs on fixed timers: every ACK at once, a 1 s RTO doubling,
      Linux's retry counts) and set the model's knobs: ``net.ipv4.tcp_fin_timeout``,
      ``tcp_syn_retries``, ``tcp_synack_retries``, ``tcp_retries2``, ``tcp_rfc1337``,
      ``tcp_orphan_retries``; ``net.inet.tcp.msl``, ``finwait2_timeout``, ``rexmit_initial``
      (milliseconds). Any other sysctl is ignored with a note; other commands are not run.
    * tcpbook settings in a comment real packetdrill skips:
      ``// tcpbook: linux-rto msl=30 rto=1 fin_timeout=60|off rfc1337=1 skip_time_wait=1
      close_on_eof=1 syn_retries=6 isn=1000``.

On the fixed timers, the rest is Linux's: FIN_WAIT_2 of an orphaned socket ends after
``tcp_fin_timeout`` = 60 s, TIME_WAIT lasts 60 s (MSL 30 s), a RST ends TIME_WAIT
(``tcp_rfc1337`` = 0), close() with unread data sends RST; ``// tcpbook: linux-rto`` sets a
200 ms RTO. Under the ``linux`` profile the model also has Linux's delayed ACK, tail-loss probe
and RTO from the measured round trip. A write() is one segment. FreeBSD differs from Linux in
places (its initial RTO and RST details); scripts written for FreeBSD may mismatch on those
lines. ``tests/pkt/matrix/`` holds a state x event
matrix for both kernels, the Linux half checked on a real kernel.

Not supported (verdict ``unsupported``)
    ``%{ }%`` Python blocks other than the ``tcpi_state`` assertion, TCP fast open
    (``MSG_FASTOPEN``, ``TCP_FASTOPEN*``, ``FO`` options), ECN (flags, markings, ``tcp_ecn``),
    the urgent pointer, congestion control (``TCP_CONGESTION``), ``TCP_CORK``, ``MSG_MORE``,
    keepalive, MD5 signatures, MPTCP, ``sendfile``, ``splice``, epoll, UDP, ICMP, IP/IPv6
    header fields and encapsulation, a second socket (one connection per script), SO_LINGER
    with a non-zero time, a write that the script expects split into several segments.
"""

from __future__ import annotations

from .export import export_script, script_text
from .parser import ScriptProblem, parse
from .results import LineResult, Mismatch, PktResult
from .runner import cli_main, fixed_timer_config, run_script

__all__ = [
    "LineResult",
    "Mismatch",
    "PktResult",
    "ScriptProblem",
    "cli_main",
    "export_script",
    "fixed_timer_config",
    "parse",
    "run_script",
    "script_text",
]
