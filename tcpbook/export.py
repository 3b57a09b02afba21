"""Write a simulated run as a pcap file that Wireshark, tshark and tcpdump open.

Each segment of the trace becomes one Ethernet/IPv4/TCP packet with real headers and correct
checksums, stamped with the time it was *sent*. Frame N of the file is segment #N of the trace:
lost (``dropped``) and ``expired`` segments are written too, as a capture taken next to the
sender would show them, and a copy made by the network (``duplicate_of``) is written at its
original's send time. What happened to a segment after it left is not in a pcap; the trace
(``--json``) says it.

Host A is ``192.0.2.1:49152`` and host B is ``198.51.100.2:80``: documentation addresses
(RFC 5737) and documentation MAC addresses (RFC 7042), so the file can never be mistaken for
traffic of a real network. Every connection incarnation of a run uses the same 4-tuple, as on
a real host: that is what lets an old duplicate be taken for a segment of a new connection.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterable
from pathlib import Path

from .errors import TcpbookError
from .trace import SegmentRecord, Trace

ADDRESS = {"A": "192.0.2.1", "B": "198.51.100.2"}  # RFC 5737 TEST-NET-1 and TEST-NET-2
PORT = {"A": 49152, "B": 80}  # A: first dynamic port (RFC 6335 section 6); B: HTTP
MAC = {"A": bytes.fromhex("00005e005301"), "B": bytes.fromhex("00005e005302")}  # RFC 7042 2.1.1

WINDOW = 65535  # tcpbook does not model flow control; the largest unscaled window (RFC 9293 3.1)
TTL = 64  # Linux's default ip_default_ttl
IP_DONT_FRAGMENT = 0x4000  # Linux sets DF on TCP segments (path MTU discovery, RFC 1191)
IP_PROTO_TCP = 6
ETHERTYPE_IPV4 = 0x0800
LINKTYPE_ETHERNET = 1  # pcap link-layer header type (tcpdump.org/linktypes.html)
PCAP_MAGIC = 0xA1B2C3D4  # classic pcap, microsecond timestamps
PCAP_SNAPLEN = 262144  # what tcpdump writes by default

#: TCP header flag bits (RFC 9293 section 3.1).
FLAG_BITS = {"FIN": 0x01, "SYN": 0x02, "RST": 0x04, "PSH": 0x08, "ACK": 0x10, "URG": 0x20}


def internet_checksum(data: bytes) -> int:
    """The 16-bit one's complement of the one's complement sum (RFC 1071)."""
    if len(data) % 2:
        data += b"\0"
    total: int = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def _ip_bytes(address: str) -> bytes:
    return bytes(int(part) for part in address.split("."))


def tcp_header(seg: SegmentRecord, src_ip: bytes, dst_ip: bytes) -> bytes:
    """TCP header plus ``seg.len`` zero bytes of payload, checksummed over the pseudo-header.

    The checksum covers a pseudo-header of both addresses, the protocol and the TCP length
    (RFC 9293 section 3.1), so a segment moved to other addresses would fail it.
    """
    try:
        bits = sum(FLAG_BITS[f] for f in seg.flags)
    except KeyError as exc:
        raise TcpbookError(f"segment #{seg.id} has an unknown TCP flag {exc.args[0]!r}") from None
    ack = seg.ack if seg.ack is not None else 0
    window = 0 if "RST" in seg.flags else WINDOW  # Linux sends its RSTs with a zero window
    offset = 5 << 12  # data offset: five 32-bit words, no options
    header = struct.pack(
        "!HHIIHHHH",
        PORT[seg.src],
        PORT[seg.dst],
        seg.seq % 2**32,
        ack % 2**32,
        offset | bits,
        window,
        0,
        0,
    )
    segment = header + bytes(seg.len)
    pseudo = src_ip + dst_ip + struct.pack("!BBH", 0, IP_PROTO_TCP, len(segment))
    checksum = internet_checksum(pseudo + segment)
    return segment[:16] + struct.pack("!H", checksum) + segment[18:]


def ipv4_packet(seg: SegmentRecord, ident: int) -> bytes:
    """An IPv4 header (RFC 791) with a valid header checksum, carrying the TCP segment."""
    src_ip, dst_ip = _ip_bytes(ADDRESS[seg.src]), _ip_bytes(ADDRESS[seg.dst])
    tcp = tcp_header(seg, src_ip, dst_ip)
    header = struct.pack(
        "!BBHHHBBH4s4s",
        0x45,  # version 4, header length 5 words
        0,
        20 + len(tcp),
        ident & 0xFFFF,
        IP_DONT_FRAGMENT,
        TTL,
        IP_PROTO_TCP,
        0,
        src_ip,
        dst_ip,
    )
    header = header[:10] + struct.pack("!H", internet_checksum(header)) + header[12:]
    return header + tcp


def frames(segments: Iterable[SegmentRecord]) -> list[tuple[float, bytes]]:
    """``(time sent, Ethernet frame)`` for each segment, in the trace's order."""
    ident = {"A": 0, "B": 0}  # IP identification, counted per sending host
    out: list[tuple[float, bytes]] = []
    for seg in segments:
        ident[seg.src] += 1
        ether = MAC[seg.dst] + MAC[seg.src] + struct.pack("!H", ETHERTYPE_IPV4)
        out.append((seg.sent, ether + ipv4_packet(seg, ident[seg.src])))
    return out


def pcap_bytes(trace: Trace) -> bytes:
    """The whole pcap file for ``trace`` (global header, then one record per segment)."""
    parts = [struct.pack("<IHHiIII", PCAP_MAGIC, 2, 4, 0, 0, PCAP_SNAPLEN, LINKTYPE_ETHERNET)]
    for sent, frame in frames(trace.segments):
        usec = round(sent * 1_000_000)
        parts.append(
            struct.pack("<IIII", usec // 1_000_000, usec % 1_000_000, len(frame), len(frame))
        )
        parts.append(frame)
    return b"".join(parts)


def segment_comment(seg: SegmentRecord) -> str:
    """What the pcap cannot say about a segment, for a pcapng packet comment."""
    fate = {
        "delivered": "delivered",
        "dropped": "lost in the network",
        "expired": "expired in the network (MSL)",
        "in-flight": "still in flight when the run ended",
    }[seg.fate]
    if seg.fate == "delivered" and seg.delivered_to is None:
        fate += " to a host with no connection"
    elif seg.fate == "delivered" and seg.delivered_to != seg.conn:
        fate += f" into connection {seg.delivered_to}"
    text = f"tcpbook segment #{seg.id} (connection {seg.conn}): {fate}"
    if seg.retransmission:
        text += "; a retransmission"
    if seg.duplicate_of is not None:
        text += f"; a network copy of #{seg.duplicate_of}"
    return text


def pcapng_bytes(trace: Trace) -> bytes:
    """The trace as pcapng, each packet with a comment giving its fate (Wireshark shows it)."""
    import io

    import dpkt

    out = io.BytesIO()
    shb = dpkt.pcapng.SectionHeaderBlockLE(
        opts=[
            dpkt.pcapng.PcapngOptionLE(code=dpkt.pcapng.PCAPNG_OPT_SHB_USERAPPL, data=b"tcpbook"),
            dpkt.pcapng.PcapngOptionLE(code=dpkt.pcapng.PCAPNG_OPT_ENDOFOPT),
        ]
    )
    writer = dpkt.pcapng.Writer(out, snaplen=PCAP_SNAPLEN, linktype=LINKTYPE_ETHERNET, shb=shb)
    for seg, (sent, frame) in zip(trace.segments, frames(trace.segments), strict=True):
        comment = segment_comment(seg).encode()
        block = dpkt.pcapng.EnhancedPacketBlockLE(
            pkt_data=frame,
            pkt_len=len(frame),
            caplen=len(frame),
            opts=[
                dpkt.pcapng.PcapngOptionLE(
                    code=dpkt.pcapng.PCAPNG_OPT_COMMENT, data=comment, len=len(comment)
                ),
                dpkt.pcapng.PcapngOptionLE(code=dpkt.pcapng.PCAPNG_OPT_ENDOFOPT),
            ],
        )
        writer.writepkt(block, ts=sent)
    return out.getvalue()


def pcap(trace: Trace, path: str | os.PathLike[str]) -> Path:
    """Write every segment of ``trace`` to the capture file ``path`` and return the path.

    A name ending in ``.pcapng`` gets pcapng, with a comment on each packet saying what became
    of it (lost, expired, a retransmission, ...); any other name gets classic pcap. Times are
    seconds since the start of the run (Wireshark shows them from 1970-01-01 00:00:00 UTC; its
    "seconds since beginning of capture" column is the trace's time). An unwritable path
    raises :class:`TcpbookError` with a one-line message.
    """
    target = Path(path)
    data = pcapng_bytes(trace) if target.suffix.lower() == ".pcapng" else pcap_bytes(trace)
    try:
        target.write_bytes(data)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise TcpbookError(f"cannot write the pcap file {str(target)!r}: {reason}") from None
    return target
