"""pcap export: every segment of a run, read back field by field with dpkt and with tshark."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import dpkt
import pytest

import tcpbook
from tcpbook.export import ADDRESS, PORT, pcap
from tcpbook.scenarios import SCENARIOS
from tcpbook.trace import Trace

TSHARK = shutil.which("tshark")
FLAG_NAMES = {
    dpkt.tcp.TH_FIN: "FIN",
    dpkt.tcp.TH_SYN: "SYN",
    dpkt.tcp.TH_RST: "RST",
    dpkt.tcp.TH_PUSH: "PSH",
    dpkt.tcp.TH_ACK: "ACK",
}


def ones_complement_ok(data: bytes) -> bool:
    """A checksummed block sums to 0xFFFF in one's complement arithmetic (RFC 1071)."""
    if len(data) % 2:
        data += b"\0"
    total = 0
    for i in range(0, len(data), 2):
        total += (data[i] << 8) | data[i + 1]
        total = (total & 0xFFFF) + (total >> 16)
    return total == 0xFFFF


def read_back(path: Path) -> list[tuple[float, dpkt.ethernet.Ethernet]]:
    with path.open("rb") as f:
        reader = dpkt.pcap.Reader(f)
        assert reader.datalink() == dpkt.pcap.DLT_EN10MB
        return [(ts, dpkt.ethernet.Ethernet(buf)) for ts, buf in reader]


def flags_of(tcp: dpkt.tcp.TCP) -> set[str]:
    return {name for bit, name in FLAG_NAMES.items() if tcp.flags & bit}


def assert_matches(trace: Trace, path: Path) -> None:
    packets = read_back(path)
    assert len(packets) == len(trace.segments)
    for seg, (ts, eth) in zip(trace.segments, packets, strict=True):
        ip = eth.data
        tcp = ip.data
        assert isinstance(ip, dpkt.ip.IP) and isinstance(tcp, dpkt.tcp.TCP), seg.label
        assert ts == pytest.approx(seg.sent, abs=1e-6)
        assert dpkt.utils.inet_to_str(ip.src) == ADDRESS[seg.src]
        assert dpkt.utils.inet_to_str(ip.dst) == ADDRESS[seg.dst]
        assert (tcp.sport, tcp.dport) == (PORT[seg.src], PORT[seg.dst])
        assert flags_of(tcp) == set(seg.flags), seg.label
        assert tcp.seq == seg.seq
        assert tcp.ack == (seg.ack if seg.ack is not None else 0)
        assert len(tcp.data) == seg.len
        raw_ip = bytes(eth)[14:]
        assert ip.len == len(raw_ip)
        assert ones_complement_ok(raw_ip[:20]), f"IP checksum of #{seg.id}"
        pseudo = ip.src + ip.dst + bytes([0, 6]) + (ip.len - 20).to_bytes(2, "big")
        assert ones_complement_ok(pseudo + raw_ip[20:]), f"TCP checksum of #{seg.id}"


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_every_segment_of_every_scenario_is_written_with_its_fields(
    scenario: str, tmp_path: Path
) -> None:
    trace = tcpbook.simulate(scenario, msl=5.0)
    path = tmp_path / f"{scenario}.pcap"
    assert pcap(trace, path) == path
    assert_matches(trace, path)


def test_lost_segments_are_written_at_their_send_time(tmp_path: Path) -> None:
    trace = tcpbook.simulate("close", drop=[8, 9])
    lost = [s for s in trace.segments if s.fate == "dropped"]
    assert [s.id for s in lost] == [8, 9]
    path = pcap(trace, tmp_path / "lost.pcap")
    packets = read_back(path)
    assert packets[7][0] == pytest.approx(0.6)
    assert flags_of(packets[7][1].data.data) == {"FIN", "ACK"}
    assert_matches(trace, path)


def test_a_new_incarnation_reuses_the_same_four_tuple(tmp_path: Path) -> None:
    trace = tcpbook.simulate("old-duplicate", msl=30.0)
    assert {s.conn for s in trace.segments} == {1, 2}
    path = pcap(trace, tmp_path / "old.pcap")
    tuples = {
        (bytes(e.data.src), e.data.data.sport, bytes(e.data.dst), e.data.data.dport)
        for _, e in read_back(path)
    }
    assert len(tuples) == 2  # one 4-tuple, seen in both directions


def test_unwritable_path_is_one_line_error(tmp_path: Path) -> None:
    trace = tcpbook.simulate("handshake")
    with pytest.raises(tcpbook.TcpbookError) as info:
        pcap(trace, tmp_path / "no-such-dir" / "x.pcap")
    assert "\n" not in str(info.value)
    assert "No such file or directory" in str(info.value)


def test_cli_pcap_option_writes_the_file(tmp_path: Path) -> None:
    path = tmp_path / "close.pcap"
    run = subprocess.run(
        [sys.executable, "-m", "tcpbook", "run", "close", "--pcap", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    assert_matches(tcpbook.simulate("close"), path)


def test_cli_unwritable_pcap_path_is_one_line_and_status_2(tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "tcpbook", "run", "close", "--pcap", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 2
    assert run.stderr.startswith("tcpbook: error: cannot write the pcap file")
    assert run.stderr.count("\n") == 1


TSHARK_FIELDS = [
    "frame.number",
    "frame.time_epoch",
    "ip.src",
    "tcp.srcport",
    "tcp.flags",
    "tcp.seq",
    "tcp.ack",
    "tcp.len",
    "tcp.checksum.status",
    "ip.checksum.status",
]
TSHARK_GOOD = "1"  # tshark's checksum status: 0 bad, 1 good, 2 unverified


def tshark_rows(path: Path) -> list[list[str]]:
    assert TSHARK is not None
    command = [TSHARK, "-n", "-r", str(path)]
    command += ["-o", "tcp.relative_sequence_numbers:FALSE", "-o", "tcp.check_checksum:TRUE"]
    command += ["-o", "ip.check_checksum:TRUE", "-T", "fields", "-E", "separator=|"]
    for field in TSHARK_FIELDS:
        command += ["-e", field]
    env = {**os.environ, "HOME": str(path.parent)}  # no user preferences, no profile clutter
    run = subprocess.run(command, capture_output=True, text=True, timeout=120, env=env)
    assert run.returncode == 0, run.stderr
    return [line.split("|") for line in run.stdout.splitlines()]


@pytest.mark.skipif(TSHARK is None, reason="tshark is not installed (Debian package: tshark)")
@pytest.mark.parametrize(
    ("scenario", "options"),
    [
        ("close", {}),
        ("close", {"drop": [8, 11]}),
        ("old-duplicate", {}),
        ("refused", {}),
        ("abort", {}),
        ("simultaneous-close", {}),
    ],
)
def test_tshark_reads_every_packet_with_matching_fields_and_good_checksums(
    scenario: str, options: dict[str, list[int]], tmp_path: Path
) -> None:
    trace = tcpbook.simulate(scenario, **options)  # type: ignore[arg-type]
    path = pcap(trace, tmp_path / f"{scenario}.pcap")
    rows = tshark_rows(path)
    assert len(rows) == len(trace.segments)
    for seg, row in zip(trace.segments, rows, strict=True):
        number, epoch, src, sport, flags, seq, ack, length, tcp_ok, ip_ok = row
        assert int(number) == seg.id
        assert float(epoch) == pytest.approx(seg.sent, abs=1e-6)
        assert (src, int(sport)) == (ADDRESS[seg.src], PORT[seg.src])
        bits = int(flags, 16)
        assert {name for bit, name in FLAG_NAMES.items() if bits & bit} == set(seg.flags)
        assert int(seq) == seg.seq
        assert int(ack or 0) == (seg.ack if seg.ack is not None else 0)
        assert int(length) == seg.len
        assert (tcp_ok, ip_ok) == (TSHARK_GOOD, TSHARK_GOOD), f"checksums of #{seg.id}"


def test_checksum_check_catches_one_flipped_bit(tmp_path: Path) -> None:
    path = pcap(tcpbook.simulate("handshake"), tmp_path / "h.pcap")
    data = bytearray(path.read_bytes())
    data[-5] ^= 0x01  # a bit of the last segment's TCP header (its window)
    path.write_bytes(bytes(data))
    raw_ip = bytes(read_back(path)[-1][1])[14:]
    assert ones_complement_ok(raw_ip[:20])
    pseudo = raw_ip[12:20] + bytes([0, 6]) + (len(raw_ip) - 20).to_bytes(2, "big")
    assert not ones_complement_ok(pseudo + raw_ip[20:])
    if TSHARK is not None:
        assert tshark_rows(path)[-1][-2] == "0"  # tshark: bad


def test_pcapng_carries_each_segments_fate_as_a_comment(tmp_path: Path) -> None:
    trace = tcpbook.simulate("close", drop=[8])
    path = pcap(trace, tmp_path / "lost-fin.pcapng")
    assert path.read_bytes()[:4] == b"\x0a\x0d\x0d\x0a"  # a pcapng section header block
    with path.open("rb") as f:
        packets = list(dpkt.pcapng.Reader(f))
    assert [ts for ts, _ in packets] == pytest.approx([s.sent for s in trace.segments])
    assert [bytes(b)[14:] for _, b in packets] == [
        bytes(e)[14:] for _, e in read_back(pcap(trace, tmp_path / "lost-fin.pcap"))
    ]
    if TSHARK is not None:
        run = subprocess.run(
            [TSHARK, "-n", "-r", str(path), "-T", "fields", "-e", "frame.comment"],
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, "HOME": str(tmp_path)},
        )
        comments = run.stdout.splitlines()
        assert comments[7] == "tcpbook segment #8 (connection 1): lost in the network"
        assert comments[8] == "tcpbook segment #9 (connection 1): delivered; a retransmission"
        assert len(comments) == len(trace.segments)
