"""Read a packetdrill script into statements, or say exactly why it cannot be read.

The grammar is the practical subset of packetdrill's (github.com/google/packetdrill,
``gtests/net/packetdrill/parser.y``) that scripts about connection management use. Parsing is
liberal where a field does not matter to the model (options and ``win`` on injected segments,
arguments of calls the model ignores) and strict where it does: every construct the model cannot
honour raises :class:`ScriptProblem` of kind ``unsupported`` naming it, and every line that is not
packetdrill raises one of kind ``malformed``, both with the line number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Literal

USEC = 1_000_000
SEQ_MOD = 1 << 32

#: packetdrill's one-letter TCP flags (tcpdump notation) and the names the model uses.
FLAG_LETTERS = {"S": "SYN", "F": "FIN", "R": "RST", "P": "PSH", ".": "ACK"}
#: The order tcpbook lists flags in (``tcpbook.endpoint.FLAG_ORDER``) and packetdrill prints them.
FLAG_ORDER = ("SYN", "FIN", "RST", "PSH", "ACK")
#: Flags outside connection management: ECN (RFC 3168) and the urgent pointer.
UNSUPPORTED_FLAGS = {"E": "ECN flag E (ECE)", "W": "ECN flag W (CWR)", "U": "urgent flag U"}

ProblemKind = Literal["malformed", "unsupported"]


class ScriptProblem(Exception):
    """A script the runner cannot run: ``malformed: <what> at line N`` or ``unsupported: ...``."""

    def __init__(self, kind: ProblemKind, what: str, line: int) -> None:
        super().__init__(f"{kind}: {what} at line {line}")
        self.kind: ProblemKind = kind
        self.what = what
        self.line = line

    @property
    def message(self) -> str:
        return f"{self.kind}: {self.what} at line {self.line}"


def _malformed(what: str, line: int) -> ScriptProblem:
    return ScriptProblem("malformed", what, line)


def _unsupported(what: str, line: int) -> ScriptProblem:
    return ScriptProblem("unsupported", what, line)


# -- statements ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Time:
    """When a statement happens, in microseconds (packetdrill's resolution).

    ``kind`` is ``abs`` (from the start of the script), ``rel`` (``+``: from the moment the
    previous statement finished) or ``any`` (``*``). ``until`` closes a range ``a~b`` an expected
    segment may arrive in; ``block_end`` is when a blocking call ``a...b`` is expected to return.
    Both use the same base as ``start``, as packetdrill's ``adjust_relative_event_times`` does.
    """

    kind: Literal["abs", "rel", "any"]
    start: int = 0
    until: int | None = None
    block_end: int | None = None


@dataclass(frozen=True)
class Packet:
    """``<`` (injected by the script) or ``>`` (expected from the endpoint under test)."""

    inbound: bool
    flags: tuple[str, ...]
    seq: int
    end: int
    length: int
    ack: int | None
    win: int | None
    options: str | None

    def notation(self) -> str:
        """The segment in packetdrill's notation without window and options."""
        return segment_notation(self.inbound, self.flags, self.seq, self.length, self.ack)


@dataclass(frozen=True)
class Syscall:
    """``name(args) = ret [ERRNO (text)]``; args are the top-level comma-separated texts."""

    name: str
    args: tuple[str, ...]
    ret: int
    errno: str | None

    def call_text(self) -> str:
        return f"{self.name}({', '.join(self.args)})"

    def expected_text(self) -> str:
        return f"{self.call_text()} = {result_text(self.ret, self.errno)}"


@dataclass(frozen=True)
class Command:
    """A backquoted shell command; only sysctls the model has a knob for are honoured."""

    text: str


@dataclass(frozen=True)
class Option:
    """A ``--name=value`` header line."""

    name: str
    value: str | None


@dataclass(frozen=True)
class TcpiAssert:
    """``%{ assert tcpi_state == TCP_ESTABLISHED }%``: the one Python idiom the runner reads.

    packetdrill runs ``%{ }%`` blocks in Python with the socket's ``struct tcp_info`` fields as
    variables and Linux's state names (``TCP_ESTABLISHED`` ... ``TCP_CLOSING``, code.c
    ``write_symbols``) defined; ``state`` is the name or number as written.
    """

    state: str


@dataclass(frozen=True)
class Directive:
    """A ``// tcpbook: key=value ...`` comment: a model setting real packetdrill never sees."""

    settings: tuple[tuple[str, str], ...]


Body = Packet | Syscall | Command | Option | Directive | TcpiAssert


@dataclass(frozen=True)
class Statement:
    line: int
    text: str
    time: Time | None
    body: Body


@dataclass
class Script:
    statements: list[Statement] = field(default_factory=list)


def flags_notation(flags: tuple[str, ...] | list[str]) -> str:
    """``("FIN", "ACK")`` -> ``F.``: letters in packetdrill's order, ``.`` for ACK last."""
    letters = {name: letter for letter, name in FLAG_LETTERS.items()}
    return "".join(letters[f] for f in FLAG_ORDER if f in flags) or "-"


def segment_notation(
    inbound: bool, flags: tuple[str, ...], seq: int, length: int, ack: int | None
) -> str:
    text = f"{'<' if inbound else '>'} {flags_notation(flags)} {seq}:{(seq + length) % SEQ_MOD}"
    text += f"({length})"
    if ack is not None:
        text += f" ack {ack}"
    return text


def result_text(ret: int, errno: str | None) -> str:
    return f"{ret} {errno}" if errno else str(ret)


# -- comments and statement boundaries -------------------------------------------------------

_DIRECTIVE = re.compile(r"^\s*tcpbook:\s*(.*?)\s*$")


def _strip_comments(text: str) -> tuple[str, list[tuple[int, str]]]:
    """Blank out ``//`` and ``/* */`` comments (keeping line breaks) and collect directives."""
    out: list[str] = []
    directives: list[tuple[int, str]] = []
    i, n, line = 0, len(text), 1
    in_quote = False
    quote_line = 1
    while i < n:
        c = text[i]
        if c == "\n":
            line += 1
            out.append(c)
            i += 1
        elif c == "`":
            in_quote = not in_quote
            quote_line = line
            out.append(c)
            i += 1
        elif in_quote:
            out.append(c)
            i += 1
        elif text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            m = _DIRECTIVE.match(text[i + 2 : j])
            if m:
                directives.append((line, m.group(1)))
            out.append(" " * (j - i))
            i = j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            if j < 0:
                raise _malformed("unterminated /* comment", line)
            chunk = text[i : j + 2]
            out.append("".join(ch if ch == "\n" else " " for ch in chunk))
            line += chunk.count("\n")
            i = j + 2
        else:
            out.append(c)
            i += 1
    if in_quote:
        raise _malformed("unterminated ` shell command", quote_line)
    return "".join(out), directives


def _open_brackets(text: str) -> int:
    depth = 0
    quote = False
    for c in text:
        if c == '"':
            quote = not quote
        elif quote:
            continue
        elif c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
    return depth


def _statements(clean: str) -> list[tuple[int, str]]:
    """Group lines into statements: a call or a command may continue on the next lines."""
    lines = clean.split("\n")
    out: list[tuple[int, str]] = []
    i = 0
    while i < len(lines):
        start = i
        text = lines[i]
        if "%{" in text:
            while "}%" not in text[text.index("%{") :] and i + 1 < len(lines):
                i += 1
                text += "\n" + lines[i]
            if "}%" not in text[text.index("%{") :]:
                raise _malformed("unterminated %{ Python block", start + 1)
            out.append((start + 1, text.strip()))
            i += 1
            continue
        while (text.count("`") % 2 == 1 or _open_brackets(text) > 0) and i + 1 < len(lines):
            i += 1
            text += "\n" + lines[i]
        if text.strip():
            out.append((start + 1, text.strip()))
        i += 1
    return out


# -- times -----------------------------------------------------------------------------------

_NUM = r"(?:\d+(?:\.\d*)?|\.\d+)"
#: packetdrill's lexer skips blanks between tokens: ``+0...0.3``, ``+.002 ... 0.004``, ``+0 ~ +.02``
_TIME = re.compile(
    rf"^(?:(?P<any>\*)|(?P<plus>\+)?(?P<start>{_NUM})"
    rf"(?:[ \t]*(?P<sep>~|\.\.\.)[ \t]*(?P<plus2>\+)?(?P<end>{_NUM}))?)(?=\s|$)"
)


def _usec(text: str, line: int) -> int:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise _malformed(f"bad time {text!r}", line) from None
    return int((value * USEC).to_integral_value())


def _parse_time(text: str, line: int) -> tuple[Time | None, str]:
    m = _TIME.match(text)
    if not m:
        return None, text
    rest = text[m.end() :].strip()
    if m.group("any"):
        return Time("any"), rest
    kind: Literal["abs", "rel"] = "rel" if m.group("plus") else "abs"
    start = _usec(m.group("start"), line)
    until = block_end = None
    if m.group("end") is not None:
        end = _usec(m.group("end"), line)
        if end < start:
            raise _malformed(f"time range ends before it starts ({m.group(0)})", line)
        if m.group("sep") == "~":
            until = end
        else:
            block_end = end
    return Time(kind, start, until, block_end), rest


# -- segments --------------------------------------------------------------------------------

_SEGMENT = re.compile(  # flags "-": none at all (parser.y tcp_flags)
    r"^(?P<flags>[A-Za-z.]+|-)\s+(?P<seq>\d+):(?P<end>\d+)\((?P<len>\d+)\)(?P<rest>.*)$", re.S
)
_PACKET_KINDS_UNSUPPORTED = {
    "udp": "UDP",
    "icmp": "ICMP",
    "ipv4": "an IPv4 header",
    "ipv6": "an IPv6 header",
    "gre": "GRE encapsulation",
    "mpls": "MPLS encapsulation",
    "sctp": "SCTP",
}
#: Options that change what the connection does (fast open carries data on the SYN, MD5 and
#: MPTCP change which segments are accepted): unsupported in either direction.
_OPTION_UNSUPPORTED = (
    (re.compile(r"\bFO\b|\bFOEXP\b"), "TCP fast open option"),
    (re.compile(r"\bmd5\b", re.I), "TCP MD5 signature option"),
    (re.compile(r"\bmp_\w+|\bdss\b", re.I), "MPTCP option"),
)
#: Options the model does not produce: by default an expected segment's options are "not
#: checked"; in strict mode these make the script unsupported.
_STRICT_OPTION_UNSUPPORTED = (
    (re.compile(r"\bTS\b"), "TCP timestamps check (<TS val ...>) in an expected segment"),
    (re.compile(r"\bsack\s+\d+:\d+"), "SACK blocks in an expected segment"),
)


def _parse_packet(inbound: bool, text: str, line: int, strict: bool = False) -> Packet:
    head = text.split(None, 1)[0] if text.split() else ""
    kind = _PACKET_KINDS_UNSUPPORTED.get(head.lower())
    if kind:
        raise _unsupported(kind, line)
    if head.startswith("["):
        raise _unsupported(f"IP ECN marking {head}", line)
    if head.startswith("("):
        raise _unsupported("IP header fields", line)
    m = _SEGMENT.match(text)
    if not m:
        raise _malformed(f"segment {text!r} is not FLAGS SEQ:END(LEN)", line)
    letters = m.group("flags")
    names: list[str] = []
    for letter in "" if letters == "-" else letters:
        if letter in UNSUPPORTED_FLAGS:
            raise _unsupported(UNSUPPORTED_FLAGS[letter], line)
        if letter not in FLAG_LETTERS:
            raise _malformed(f"unknown TCP flag {letter!r} in {letters!r}", line)
        names.append(FLAG_LETTERS[letter])
    if len(set(names)) != len(names):
        raise _malformed(f"repeated TCP flag in {letters!r}", line)
    flags = tuple(f for f in FLAG_ORDER if f in names)
    seq, end, length = int(m.group("seq")), int(m.group("end")), int(m.group("len"))
    if seq >= SEQ_MOD or end >= SEQ_MOD:
        raise _malformed("sequence number larger than 4294967295", line)
    if (end - seq) % SEQ_MOD != length:
        raise _malformed(f"{seq}:{end}({length}) is inconsistent: {end} - {seq} != {length}", line)
    ack = win = None
    options = None
    rest = m.group("rest").strip()
    while rest:
        if rest.startswith("<"):
            close = rest.find(">")
            if close < 0:
                raise _malformed("unterminated <options>", line)
            options = rest[1:close].strip()
            rest = rest[close + 1 :].strip()
            continue
        word = re.match(r"(ack|win|urg)\s+(\d+)\s*", rest)
        if not word:
            raise _malformed(f"unexpected {rest.split()[0]!r} in segment", line)
        if word.group(1) == "urg":
            raise _unsupported("urgent pointer (urg)", line)
        value = int(word.group(2))
        if word.group(1) == "ack":
            if value >= SEQ_MOD:
                raise _malformed("ack number larger than 4294967295", line)
            ack = value
        else:
            win = value
        rest = rest[word.end() :].strip()
    if options is not None:
        table = list(_OPTION_UNSUPPORTED)
        if strict and not inbound:
            table += _STRICT_OPTION_UNSUPPORTED
        for pattern, what in table:
            if pattern.search(options):
                raise _unsupported(what, line)
    if strict and not inbound and win is not None and "RST" not in flags:
        raise _unsupported(f"window check (win {win} in an expected segment)", line)
    return Packet(inbound, flags, seq, end, length, ack, win, options)


# -- system calls ----------------------------------------------------------------------------

_CALL = re.compile(r"^(?P<name>[A-Za-z_][A-Za-z0-9_]*)\s*\(")
_RESULT = re.compile(
    r"^=\s*(?P<ret>-?(?:0x[0-9a-fA-F]+|\d+))\s*(?P<errno>[A-Z][A-Z0-9_]*)?\s*(?:\(.*\))?\s*$",
    re.S,
)

#: Calls that create, use or end a connection: the runner models these.
MODELLED_CALLS = frozenset(
    {
        "socket",
        "bind",
        "listen",
        "accept",
        "accept4",
        "connect",
        "write",
        "send",
        "sendto",
        "sendmsg",
        "writev",
        "read",
        "recv",
        "recvfrom",
        "recvmsg",
        "readv",
        "close",
        "shutdown",
        "setsockopt",
        "getsockopt",
        "fcntl",
    }
)
#: Calls that do not touch connection management: accepted, not checked.
IGNORED_CALLS = frozenset(
    {"poll", "select", "ioctl", "getsockname", "getpeername", "usleep", "nanosleep"}
)
UNSUPPORTED_CALLS = {
    "sendfile": "sendfile()",
    "splice": "splice()",
    "epoll_create": "epoll",
    "epoll_create1": "epoll",
    "epoll_ctl": "epoll",
    "epoll_wait": "epoll",
    "epoll_pwait": "epoll",
    "sendmmsg": "sendmmsg()",
    "recvmmsg": "recvmmsg()",
    "pipe": "pipe()",
    "open": "open() of a file",
    "socketpair": "socketpair()",
    "sctp_sendmsg": "SCTP",
    "sctp_recvmsg": "SCTP",
}
_SOCKET_UNSUPPORTED = (
    ("SOCK_DGRAM", "UDP socket"),
    ("IPPROTO_UDP", "UDP socket"),
    ("IPPROTO_SCTP", "SCTP socket"),
    ("IPPROTO_MPTCP", "MPTCP socket"),
    ("SOCK_RAW", "raw socket"),
)
_FLAG_UNSUPPORTED = (
    ("MSG_FASTOPEN", "TCP fast open (MSG_FASTOPEN)"),
    ("MSG_ZEROCOPY", "zero-copy send (MSG_ZEROCOPY)"),
    ("MSG_MORE", "MSG_MORE (send coalescing)"),
    ("MSG_OOB", "urgent data (MSG_OOB)"),
    ("MSG_PEEK", "MSG_PEEK"),
    ("MSG_EOR", "MSG_EOR (record boundaries)"),
)
_SOCKOPT_UNSUPPORTED = {
    "TCP_FASTOPEN": "TCP fast open (TCP_FASTOPEN)",
    "TCP_FASTOPEN_CONNECT": "TCP fast open (TCP_FASTOPEN_CONNECT)",
    "TCP_FASTOPEN_KEY": "TCP fast open (TCP_FASTOPEN_KEY)",
    "TCP_FASTOPEN_NO_COOKIE": "TCP fast open (TCP_FASTOPEN_NO_COOKIE)",
    "TCP_MD5SIG": "TCP MD5 signatures (TCP_MD5SIG)",
    "TCP_MD5SIG_EXT": "TCP MD5 signatures (TCP_MD5SIG_EXT)",
    "TCP_CONGESTION": "congestion control (TCP_CONGESTION)",
    "TCP_CORK": "Nagle and corking (TCP_CORK)",
    "TCP_REPAIR": "TCP repair mode",
    "TCP_REPAIR_QUEUE": "TCP repair mode",
    "TCP_REPAIR_OPTIONS": "TCP repair mode",
    "TCP_ULP": "upper layer protocols (TCP_ULP)",
    "TCP_ZEROCOPY_RECEIVE": "zero-copy receive",
    "SO_ZEROCOPY": "zero-copy send (SO_ZEROCOPY)",
    "TCP_DEFER_ACCEPT": "TCP_DEFER_ACCEPT",
    "TCP_SAVE_SYN": "TCP_SAVE_SYN",
    "TCP_SAVED_SYN": "TCP_SAVED_SYN",
    "TCP_INQ": "TCP_INQ",
    "TCP_NOTSENT_LOWAT": "TCP_NOTSENT_LOWAT",
    "SO_MAX_PACING_RATE": "pacing (SO_MAX_PACING_RATE)",
    "TCP_KEEPIDLE": "keepalive",
    "TCP_KEEPINTVL": "keepalive",
    "TCP_KEEPCNT": "keepalive",
    "SO_KEEPALIVE": "keepalive",
    "TCP_USER_TIMEOUT": "TCP_USER_TIMEOUT",
    "TCP_WINDOW_CLAMP": "window clamp (TCP_WINDOW_CLAMP)",
    "SO_RCVLOWAT": "SO_RCVLOWAT",
    "TCP_TX_DELAY": "TCP_TX_DELAY",
}


def split_args(text: str) -> tuple[str, ...]:
    """Split at commas that are not inside brackets, braces, parentheses or quotes."""
    args: list[str] = []
    depth = 0
    quote = False
    cur: list[str] = []
    for c in text:
        if c == '"':
            quote = not quote
        elif not quote and c in "([{":
            depth += 1
        elif not quote and c in ")]}":
            depth -= 1
        if c == "," and depth == 0 and not quote:
            args.append("".join(cur).strip())
            cur = []
        else:
            cur.append(c)
    last = "".join(cur).strip()
    if last or args:
        args.append(last)
    return tuple(" ".join(a.split()) for a in args)


def _parse_syscall(text: str, line: int) -> Syscall:
    m = _CALL.match(text)
    if not m:
        raise _malformed(f"cannot read {text.split()[0]!r}: expected a segment or a call", line)
    name = m.group("name")
    depth = 0
    quote = False
    close = -1
    for i in range(m.end() - 1, len(text)):
        c = text[i]
        if c == '"':
            quote = not quote
        elif quote:
            continue
        elif c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
            if depth == 0:
                close = i
                break
    if close < 0:
        raise _malformed(f"unbalanced parentheses in {name}()", line)
    args = split_args(text[m.end() : close])
    rest = text[close + 1 :].strip()
    if not rest:
        raise _malformed(f"{name}() has no expected result (= N)", line)
    r = _RESULT.match(rest)
    if not r:
        raise _malformed(f"cannot read the result {rest!r} of {name}()", line)
    ret = int(r.group("ret"), 0)
    errno = r.group("errno")
    if errno == "EWOULDBLOCK":
        errno = "EAGAIN"  # the same number on Linux
    if name in UNSUPPORTED_CALLS:
        raise _unsupported(UNSUPPORTED_CALLS[name], line)
    if name not in MODELLED_CALLS and name not in IGNORED_CALLS:
        raise _unsupported(f"system call {name}()", line)
    joined = " ".join(args)
    if name == "socket":
        for token, what in _SOCKET_UNSUPPORTED:
            if token in joined:
                raise _unsupported(what, line)
    if name in ("send", "sendto", "sendmsg", "recv", "recvfrom", "recvmsg"):
        for token, what in _FLAG_UNSUPPORTED:
            if token in joined:
                raise _unsupported(what, line)
    if name in ("setsockopt", "getsockopt") and len(args) >= 3:
        option = _SOCKOPT_UNSUPPORTED.get(args[2])
        if option and name == "setsockopt":
            raise _unsupported(option, line)
    if name == "getsockopt" and len(args) >= 3 and args[2] == "TCP_INFO":
        value = args[3] if len(args) > 3 else ""
        if not re.fullmatch(r"\[\s*(?:0x[0-9a-fA-F]+|\d+)\s*\]", value):
            raise _malformed(
                f"getsockopt TCP_INFO value {value!r}: packetdrill reads TCP_INFO as "
                "[N] with length [4] (N's first byte is tcpi_state) or in "
                "%{ assert tcpi_state == TCP_<STATE> }%",
                line,
            )
    return Syscall(name, args, ret, errno)


# -- whole script ----------------------------------------------------------------------------

_OPTION = re.compile(r"^--([A-Za-z0-9_-]+)(?:=(\S*))?$")
_DIRECTIVE_ITEM = re.compile(r"^([a-z_0-9-]+)(?:=(\S+))?$")


def _parse_directive(text: str, line: int) -> Directive:
    items: list[tuple[str, str]] = []
    for word in text.split():
        m = _DIRECTIVE_ITEM.match(word)
        if not m:
            raise _malformed(f"cannot read tcpbook setting {word!r}", line)
        items.append((m.group(1).replace("-", "_"), m.group(2) or "1"))
    return Directive(tuple(items))


def parse(text: str, *, strict: bool = False) -> Script:
    """Parse a whole script; raises :class:`ScriptProblem` at the first line that cannot run.

    ``strict`` makes what the model does not produce on an expected segment (a window, TCP
    timestamps, SACK blocks) ``unsupported`` instead of "not checked".
    """
    clean, directives = _strip_comments(text)
    script = Script()
    found: list[Statement] = []
    for line, body in directives:
        found.append(Statement(line, f"// tcpbook: {body}", None, _parse_directive(body, line)))
    for line, stmt in _statements(clean):
        found.append(_parse_statement(line, stmt, strict))
    found.sort(key=lambda s: s.line)
    _check_header(found)
    script.statements = found
    return script


def _check_header(statements: list[Statement]) -> None:
    """packetdrill's grammar (parser.y ``script``): ``--options`` first, then at most one
    untimed shell command, then the timed events, the first at time 0, then at most one
    untimed shell command to clean up; any other shell command needs a time."""
    commands = events = 0
    cleanup: Statement | None = None
    for st in statements:
        if isinstance(st.body, Directive):
            continue
        if isinstance(st.body, Option):
            if commands or events:
                raise _malformed("an --option line after the script has begun", st.line)
        elif st.time is None:
            if events:
                if cleanup is not None:
                    raise _malformed(
                        "a second shell command without a time after the events (packetdrill "
                        "takes one, to clean up: give this one a time)",
                        st.line,
                    )
                cleanup = st
                continue
            commands += 1
            if commands > 1:
                raise _malformed(
                    "a second shell command before the first event (packetdrill takes one: "
                    "join them in one `...` or give this one a time)",
                    st.line,
                )
        else:
            if cleanup is not None:
                raise _malformed(
                    "a shell command without a time between events (only the last line may "
                    "be one, to clean up: write +0 `...`)",
                    cleanup.line,
                )
            events += 1
            if events == 1 and st.time.start != 0:
                raise _malformed("the first event must be at time 0 (packetdrill's run.c)", st.line)


def _parse_statement(line: int, text: str, strict: bool = False) -> Statement:
    if text.startswith("--"):
        words = text.split()
        if len(words) != 1:
            raise _malformed(f"one --option per line, got {text!r}", line)
        m = _OPTION.match(words[0])
        if not m:
            raise _malformed(f"cannot read option {text!r}", line)
        return Statement(line, text, None, Option(m.group(1), m.group(2)))
    if text.startswith("`"):
        return Statement(line, text, None, _command(text, line))
    time, rest = _parse_time(text, line)
    if time is None:
        raise _malformed(f"statement {text.split()[0]!r} does not start with a time", line)
    if not rest:
        raise _malformed("a time with nothing to do", line)
    if time.block_end is not None and (rest[0] in "<>" or rest.startswith("`")):
        raise _malformed("a ... time range is only for blocking system calls", line)
    if rest.startswith("%{"):
        return Statement(line, text, time, _code(rest, line))
    if rest[0] in "<>":
        packet = _parse_packet(rest[0] == "<", rest[1:].strip(), line, strict)
        if packet.inbound and time.until is not None:
            raise _malformed("a ~ time range is only for expected (>) segments", line)
        return Statement(line, text, time, packet)
    if rest.startswith("`"):
        return Statement(line, text, time, _command(rest, line))
    call = _parse_syscall(rest, line)
    if time.until is not None:
        raise _malformed("a ~ time range is only for expected (>) segments", line)
    return Statement(line, text, time, call)


def _command(text: str, line: int) -> Command:
    if not (text.startswith("`") and text.endswith("`") and len(text) >= 2):
        raise _malformed(f"cannot read shell command {text!r}", line)
    return Command(text[1:-1].strip())


#: ``assert tcpi_state == NAME`` with an optional ``, message``: the only Python read.
_TCPI_ASSERT = re.compile(
    r"^%\{\s*assert\s+tcpi_state\s*==\s*(?P<state>TCPI?_[A-Z0-9_]+|\d+)\s*(?:,[^\n]*?)?\s*\}%$"
)


def _code(text: str, line: int) -> TcpiAssert:
    m = _TCPI_ASSERT.match(text.strip())
    if not m:
        raise _unsupported("%{ }% Python block", line)
    return TcpiAssert(m.group("state"))
