"""Read a real capture (pcap or pcapng) of a TCP connection into a :class:`Trace`.

A capture shows segments, not states: the states here are *inferred*, by running each side
through the transition table as the segments go by (a SYN sent -> SYN_SENT, a FIN sent from
ESTABLISHED -> FIN_WAIT_1, the ACK of that FIN -> FIN_WAIT_2, ...). Every transition is a row
of :mod:`tcpbook.states`. What a capture cannot show is said in ``trace.params["notes"]``:
a listener's LISTEN (it sends nothing until a SYN comes), when TIME_WAIT ends (silently, 60 s
later on Linux), and which of two sides' times is which (one capture point sees a segment
once, so "sent" and "arrived" are the same instant; on loopback that is the truth to within
microseconds). Segments that crossed in flight (a simultaneous close) are recognised by their
acknowledgment numbers. ``trace.params["inferred"]`` is True for every trace made here.
"""

from __future__ import annotations

import os
import socket
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import TcpbookError
from .states import State, allowed
from .trace import ENDPOINTS, SegmentRecord, Trace, TransitionRecord

S = State

LINUX_MSL = 30.0  # Linux's TIME_WAIT is 60 s (TCP_TIMEWAIT_LEN): an effective MSL of 30 s
PCAPNG_MAGIC = b"\x0a\x0d\x0d\x0a"  # section header block type
PCAP_MAGICS = {b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\xc3\xd4", b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d"}
SEQ_SPACE = 2**32

#: Link-layer header types (tcpdump.org/linktypes.html): name and bytes before the IP header.
#: None means "parse as Ethernet" (its header can carry VLAN tags).
LINK_TYPES: dict[int, tuple[str, int | None]] = {
    0: ("BSD loopback", 4),  # DLT_NULL: 4-byte address family (macOS lo0)
    1: ("Ethernet", None),  # Linux lo is Ethernet with zero MAC addresses
    12: ("raw IP", 0),  # DLT_RAW on most systems
    14: ("raw IP", 0),  # DLT_RAW on OpenBSD
    101: ("raw IP", 0),  # LINKTYPE_RAW
    108: ("OpenBSD loopback", 4),  # DLT_LOOP
    113: ("Linux cooked (SLL)", 16),  # tcpdump -i any, older libpcap
    228: ("raw IPv4", 0),
    229: ("raw IPv6", 0),
    276: ("Linux cooked v2 (SLL2)", 20),  # tcpdump -i any, libpcap 1.10+
}

#: TCP flag bits (RFC 9293 section 3.1), in tcpbook's order for a segment's flags tuple.
FLAG_BITS = (("SYN", 0x02), ("FIN", 0x01), ("RST", 0x04), ("PSH", 0x08), ("ACK", 0x10))


@dataclass(frozen=True)
class CapturedPacket:
    """One TCP segment as the capture saw it."""

    time: float
    src: tuple[str, int]
    dst: tuple[str, int]
    flags: tuple[str, ...]
    seq: int
    ack: int | None
    len: int


# ----------------------------------------------------------------- reading the file


def _frames(path: Path) -> tuple[int, Iterator[tuple[float, bytes]]]:
    import dpkt

    try:
        handle = path.open("rb")
    except OSError as exc:
        raise TcpbookError(f"cannot read the capture {str(path)!r}: {exc.strerror}") from None
    magic = handle.read(4)
    handle.seek(0)
    try:
        if magic == PCAPNG_MAGIC:
            reader: Any = dpkt.pcapng.Reader(handle)
        elif magic in PCAP_MAGICS:
            reader = dpkt.pcap.Reader(handle)
        else:
            raise ValueError("unknown magic number")
    except (ValueError, dpkt.dpkt.UnpackError, struct.error):
        handle.close()
        raise TcpbookError(
            f"{str(path)!r} is not a pcap or pcapng capture (save it from Wireshark or tcpdump)"
        ) from None

    def frames() -> Iterator[tuple[float, bytes]]:
        with handle:
            try:
                yield from ((float(ts), bytes(buf)) for ts, buf in reader)
            except (dpkt.dpkt.NeedData, dpkt.dpkt.UnpackError, struct.error):
                return  # a capture cut short (tcpdump killed): keep what was written

    return int(reader.datalink()), frames()


def _ip_payload(link: int, frame: bytes) -> Any:
    """The IPv4/IPv6 packet inside a frame of link type ``link`` (None if not IP)."""
    import dpkt

    offset = LINK_TYPES[link][1]
    try:
        if offset is None:
            ip = dpkt.ethernet.Ethernet(frame).data
            return ip if isinstance(ip, dpkt.ip.IP | dpkt.ip6.IP6) else None
        raw = frame[offset:]
        if not raw:
            return None
        version = raw[0] >> 4
        if version == 4:
            return dpkt.ip.IP(raw)
        if version == 6:
            return dpkt.ip6.IP6(raw)
    except (dpkt.dpkt.UnpackError, struct.error, IndexError):
        return None
    return None


def _address(raw: bytes) -> str:
    return socket.inet_ntop(socket.AF_INET6 if len(raw) == 16 else socket.AF_INET, raw)


def packets(path: str | os.PathLike[str]) -> tuple[str, list[CapturedPacket]]:
    """Every TCP segment in the capture at ``path``: ``(link type name, packets)``."""
    import dpkt

    link, frames = _frames(Path(path))
    if link not in LINK_TYPES:
        known = ", ".join(sorted({name for name, _ in LINK_TYPES.values()}))
        raise TcpbookError(f"capture link type {link} is not supported (supported: {known})")
    out = []
    for ts, frame in frames:
        ip = _ip_payload(link, frame)
        tcp = getattr(ip, "data", None)
        if not isinstance(tcp, dpkt.tcp.TCP):
            continue
        flags = tuple(name for name, bit in FLAG_BITS if tcp.flags & bit)
        out.append(
            CapturedPacket(
                time=ts,
                src=(_address(ip.src), int(tcp.sport)),
                dst=(_address(ip.dst), int(tcp.dport)),
                flags=flags,
                seq=int(tcp.seq),
                ack=int(tcp.ack) if tcp.flags & 0x10 else None,
                len=len(tcp.data),
            )
        )
    return LINK_TYPES[link][0], out


# ----------------------------------------------------------------- inferring the states


@dataclass
class _Side:
    state: State = S.CLOSED
    iss: int | None = None  # initial send sequence number, once seen
    sent_to: int = 0  # highest sequence offset (from iss) sent so far, SYN and FIN included
    fin: int | None = None  # sequence offset of our FIN, once sent

    def offset(self, seq: int) -> int:
        return (seq - (self.iss or 0)) % SEQ_SPACE


class _Inference:
    """Run both sides through the transition table, one captured segment at a time."""

    def __init__(self) -> None:
        self.sides = {"A": _Side(), "B": _Side()}
        self.conn = 0
        self.transitions: list[TransitionRecord] = []
        self.notes: list[str] = []
        self.pending_syn: float | None = None

    def move(self, t: float, who: str, dst: State, event: str) -> None:
        side = self.sides[who]
        if side.state is dst:
            return
        if not allowed(side.state, event, dst):
            self.note(f"{who}: no table row for {side.state.value} --{event}--> {dst.value}")
            return
        self.transitions.append(
            TransitionRecord(t, who, max(self.conn, 1), side.state.value, dst.value, event)  # type: ignore[arg-type]
        )
        side.state = dst

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)

    def new_connection(self, t: float, syn_from: str) -> None:
        if self.conn:
            self.note(
                f"a new SYN from {syn_from} at {t:.6f} s starts connection {self.conn + 1} "
                "on the same address/port pair"
            )
            for who, side in self.sides.items():
                if side.state is S.TIME_WAIT:
                    self.note(
                        f"{who}'s TIME_WAIT of connection {self.conn} ends unseen before the "
                        "new connection (a capture cannot show a timer)"
                    )
                    self.move(t, who, S.CLOSED, "timeout 2MSL")
        self.conn += 1
        for who in ENDPOINTS:
            old = self.sides[who].state
            self.sides[who] = _Side(state=old)

    def sent(self, t: float, who: str, p: CapturedPacket) -> bool:
        """Apply what sending ``p`` tells us about ``who``; True if it is a retransmission."""
        me = self.sides[who]
        if "SYN" in p.flags and "ACK" not in p.flags:
            if me.state in (S.CLOSED, S.TIME_WAIT) and (self.conn == 0 or me.iss is not None):
                self.new_connection(t, who)
                me = self.sides[who]
            if me.iss is None or me.iss != p.seq:
                me.iss, me.sent_to = p.seq, 0
                self.move(t, who, S.SYN_SENT, "active OPEN")
                return False
        if "SYN" in p.flags and "ACK" in p.flags and me.iss is None:
            me.iss = p.seq
            if me.state is S.CLOSED:
                if self.conn == 0:
                    self.conn = 1
                heard = self.pending_syn if self.pending_syn is not None else t
                self.move(0.0 if self.conn == 1 else heard, who, S.LISTEN, "passive OPEN")
                self.note(
                    f"{who} was listening before the capture shows it: LISTEN sends nothing, "
                    "so its start is not in any capture"
                )
                self.move(heard, who, S.SYN_RECEIVED, "rcv SYN")
            elif me.state is S.SYN_SENT:
                self.move(t, who, S.SYN_RECEIVED, "rcv SYN")
        if me.iss is None:
            if "RST" in p.flags and self.conn:
                return False  # a reset from a host with no connection (a refused SYN)
            me.iss = (p.seq - 1) % SEQ_SPACE  # joined mid-connection: count from here
            self._assume_established(t)
        begin = me.offset(p.seq)
        end = begin + p.len + ("SYN" in p.flags) + ("FIN" in p.flags)
        retransmission = end > begin and end <= me.sent_to and "RST" not in p.flags
        me.sent_to = max(me.sent_to, end)
        if "FIN" in p.flags and me.fin is None:
            me.fin = end - 1
            if me.state in (S.ESTABLISHED, S.SYN_RECEIVED):
                self.move(t, who, S.FIN_WAIT_1, "CLOSE")
            elif me.state is S.CLOSE_WAIT:
                self.move(t, who, S.LAST_ACK, "CLOSE")
        if "RST" in p.flags and me.state not in (S.CLOSED, S.LISTEN, S.SYN_SENT):
            self.note(
                f"{who} sent RST from {me.state.value}: its application aborted (SO_LINGER 0) "
                "or closed with unread data; the capture cannot tell which"
            )
            self.move(t, who, S.CLOSED, "ABORT")
        return retransmission

    def received(self, t: float, who: str, p: CapturedPacket) -> None:
        """Apply what receiving ``p`` does to ``who`` (at the captured time)."""
        me = self.sides[who]
        if "RST" in p.flags:
            if me.state is S.SYN_SENT:
                self.move(t, who, S.CLOSED, "rcv RST")
            elif me.state is not S.CLOSED:
                self.move(t, who, S.LISTEN if me.state is S.SYN_RECEIVED else S.CLOSED, "rcv RST")
            return
        if "SYN" in p.flags and "ACK" not in p.flags:
            if me.state is S.CLOSED:
                self.pending_syn = t
            elif me.state is S.SYN_SENT:
                self.move(t, who, S.SYN_RECEIVED, "rcv SYN")
            return
        if "SYN" in p.flags and me.state is S.SYN_SENT:
            self.move(t, who, S.ESTABLISHED, "rcv SYN,ACK")
        acked = p.ack is not None and me.iss is not None
        ack_offset = me.offset(p.ack) if acked and p.ack is not None else -1
        if me.state is S.SYN_RECEIVED and acked and ack_offset >= 1:
            self.move(t, who, S.ESTABLISHED, "rcv ACK of SYN")
        fin_acked = me.fin is not None and ack_offset >= me.fin + 1
        if fin_acked:
            if me.state is S.FIN_WAIT_1 and "FIN" in p.flags:
                self.move(t, who, S.TIME_WAIT, "rcv FIN,ACK of FIN")
                return
            if me.state is S.FIN_WAIT_1:
                self.move(t, who, S.FIN_WAIT_2, "rcv ACK of FIN")
            elif me.state is S.CLOSING:
                self.move(t, who, S.TIME_WAIT, "rcv ACK of FIN")
            elif me.state is S.LAST_ACK:
                self.move(t, who, S.CLOSED, "rcv ACK of FIN")
        if "FIN" in p.flags:
            nxt = {S.ESTABLISHED: S.CLOSE_WAIT, S.FIN_WAIT_1: S.CLOSING, S.FIN_WAIT_2: S.TIME_WAIT}
            if me.state in nxt:
                self.move(t, who, nxt[me.state], "rcv FIN")

    def _assume_established(self, t: float) -> None:
        if self.conn:
            return
        self.conn = 1
        self.note(
            "the capture begins after the handshake: both sides are assumed ESTABLISHED "
            "from its first segment"
        )
        for who, steps in (
            ("A", ((S.SYN_SENT, "active OPEN"), (S.ESTABLISHED, "rcv SYN,ACK"))),
            ("B", ((S.LISTEN, "passive OPEN"), (S.SYN_RECEIVED, "rcv SYN"))),
            ("B", ((S.ESTABLISHED, "rcv ACK of SYN"),)),
        ):
            for dst, event in steps:
                self.move(t, who, dst, event)


def _pick_connection(pkts: list[CapturedPacket]) -> tuple[tuple[str, int], tuple[str, int]]:
    """(A, B): A sent the first SYN of the capture, else the first TCP segment."""
    first = next((p for p in pkts if p.flags == ("SYN",)), pkts[0])
    return first.src, first.dst


def _covers(ack: int | None, end: int) -> bool:
    """``ack`` acknowledges everything before sequence number ``end`` (modulo 2**32)."""
    return ack is not None and (ack - end) % SEQ_SPACE < SEQ_SPACE // 2


def _receipt_points(pkts: list[CapturedPacket]) -> dict[int, list[int]]:
    """``{i: [k, ...]}``: segment k is taken as received right after segment i is sent.

    One capture point sees a segment once; it is taken as received at once, unless the
    receiver's own later segments still do not acknowledge it: then they crossed in flight
    (simultaneous open or close), and it is received after the last of those.
    """
    points: dict[int, list[int]] = {}
    for k, p in enumerate(pkts):
        at = k
        if "SYN" in p.flags or "FIN" in p.flags:
            end = (p.seq + p.len + 1) % SEQ_SPACE
            for j in range(k + 1, len(pkts)):
                q = pkts[j]
                if q.src != p.dst:
                    continue
                if _covers(q.ack, end):
                    break
                at = j
            else:
                at = k  # never acknowledged: no evidence of crossing
        points.setdefault(at, []).append(k)
    return points


def read_capture(path: str | os.PathLike[str], *, relative: bool = False) -> Trace:
    """Read the first TCP connection in a pcap/pcapng file as a trace with inferred states.

    The side that sent the first SYN is "A" (without a SYN, the first segment's sender).
    Times count from the connection's first segment. ``relative=True`` shows sequence numbers
    counted from each side's initial sequence number, as Wireshark does by default.
    """
    link, pkts = packets(path)
    if not pkts:
        raise TcpbookError(f"no TCP segment in the capture {str(path)!r}")
    a, b = _pick_connection(pkts)
    ours = [p for p in pkts if {p.src, p.dst} == {a, b}]
    inference = _Inference()
    segments = _segment_records(ours, {a: "A", b: "B"}, inference, relative=relative)
    final = {who: side.state.value for who, side in inference.sides.items()}
    for who, state in final.items():
        if state == "TIME_WAIT":
            inference.note(
                f"{who} is still in TIME_WAIT when the capture ends: its end sends nothing, so "
                "no capture shows it (Linux: 60 s after entering TIME_WAIT)"
            )
    inference.transitions.sort(key=lambda tr: tr.t)
    params: dict[str, Any] = {
        "msl": LINUX_MSL,
        "inferred": True,
        "capture": Path(path).name,
        "link_type": link,
        "addresses": {"A": _endpoint(a), "B": _endpoint(b)},
        "start": ours[0].time,
        "relative": relative,
        "notes": inference.notes,
    }
    return Trace(
        scenario="capture",
        params=params,
        segments=segments,
        transitions=inference.transitions,
        final=final,
        end=segments[-1].sent,
    )


def _segment_records(
    ours: list[CapturedPacket],
    names: dict[tuple[str, int], str],
    inference: _Inference,
    *,
    relative: bool,
) -> list[SegmentRecord]:
    """One record per captured segment, in capture order, each fed to ``inference`` as sent
    and, at its receipt point, as received."""
    start = ours[0].time
    segments: list[SegmentRecord] = []
    isn: dict[str, int] = {}
    receipts = _receipt_points(ours)
    for i, p in enumerate(ours):
        t = p.time - start
        src, dst = names[p.src], names[p.dst]
        retransmission = inference.sent(t, src, p)
        for k in receipts.get(i, ()):
            inference.received(t, names[ours[k].dst], ours[k])
        conn = max(inference.conn, 1)
        isn.setdefault(f"{conn}{src}", inference.sides[src].iss or 0)
        seq, ack = p.seq, p.ack
        if relative:
            seq = (seq - isn[f"{conn}{src}"]) % SEQ_SPACE
            peer = isn.get(f"{conn}{dst}")
            if ack is not None and peer is not None:
                ack = (ack - peer) % SEQ_SPACE
        segments.append(
            SegmentRecord(
                id=len(segments) + 1,
                conn=conn,
                src=src,  # type: ignore[arg-type]
                dst=dst,  # type: ignore[arg-type]
                flags=p.flags,
                seq=seq,
                ack=ack,
                len=p.len,
                sent=t,
                fate="delivered",
                arrived=t,
                delivered_to=conn,
                retransmission=retransmission,
            )
        )
    return segments


def _endpoint(addr: tuple[str, int]) -> str:
    host, port = addr
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def summary(path: str | os.PathLike[str]) -> str:
    """One line per TCP segment of a capture, like Wireshark's packet list (seq as on the wire)."""
    _, pkts = packets(path)
    if not pkts:
        return "(no TCP segments)"
    start = pkts[0].time
    lines = []
    for n, p in enumerate(pkts, 1):
        ack = f" ack={p.ack}" if p.ack is not None else ""
        lines.append(
            f"{n:>3} {p.time - start:9.6f}  {_endpoint(p.src):<21} -> {_endpoint(p.dst):<21}"
            f" [{','.join(p.flags)}] seq={p.seq}{ack} len={p.len}"
        )
    return "\n".join(lines)
