"""Importing real captures: link types, file formats, inferred states, and the ladder drawing."""

from __future__ import annotations

import filecmp
import shutil
import socket
import struct
from pathlib import Path

import dpkt
import pytest

import tcpbook
from tcpbook.capture import packets, read_capture
from tcpbook.export import pcap
from tcpbook.states import State, allowed
from tcpbook.trace import Trace

DATA = Path(__file__).parent / "data"
COMMITTED = DATA / "loopback-close.pcap"
ASSET = Path(__file__).parent.parent / "assets" / "loopback-close.pcap"

CLOSER_PATH = ["CLOSED", "SYN_SENT", "ESTABLISHED", "FIN_WAIT_1", "FIN_WAIT_2", "TIME_WAIT"]
PEER_PATH = ["CLOSED", "LISTEN", "SYN_RECEIVED", "ESTABLISHED", "CLOSE_WAIT", "LAST_ACK", "CLOSED"]


def assert_every_transition_is_a_table_row(trace: Trace) -> None:
    for tr in trace.transitions:
        assert allowed(State(tr.src), tr.cause, State(tr.dst)), tr
    for who in ("A", "B"):
        times = [t for t, _ in trace.history(who)]
        assert times == sorted(times)


# ----------------------------------------------------------------- the committed capture


def test_committed_capture_is_a_real_linux_close_with_inferred_states() -> None:
    trace = read_capture(COMMITTED)
    assert trace.params["inferred"] is True
    assert trace.params["link_type"] == "Ethernet"
    assert trace.path("A") == CLOSER_PATH
    assert trace.path("B") == PEER_PATH
    assert trace.final == {"A": "TIME_WAIT", "B": "CLOSED"}
    assert [s.flags for s in trace.segments] == [
        ("SYN",),
        ("SYN", "ACK"),
        ("ACK",),
        ("PSH", "ACK"),
        ("ACK",),
        ("PSH", "ACK"),
        ("ACK",),
        ("FIN", "ACK"),
        ("ACK",),
        ("FIN", "ACK"),
        ("ACK",),
    ]
    assert [s.src for s in trace.segments] == list("ABAABBAABBA")
    assert [s.len for s in trace.segments] == [0, 0, 0, 100, 0, 200, 0, 0, 0, 0, 0]
    assert_every_transition_is_a_table_row(trace)


def test_committed_capture_sequence_numbers_add_up() -> None:
    trace = read_capture(COMMITTED)
    syn, synack, *_ = trace.segments
    assert synack.ack == syn.seq + 1
    fin_a, ack_of_fin = trace.segment(8), trace.segment(9)
    assert ack_of_fin.ack == fin_a.seq + 1  # the FIN consumes one sequence number
    relative = read_capture(COMMITTED, relative=True)
    assert [(s.seq, s.ack) for s in relative.segments[:3]] == [(0, None), (0, 1), (1, 1)]
    assert (relative.segment(8).seq, relative.segment(11).ack) == (101, 202)


def test_committed_capture_shows_linux_delayed_ack_of_the_fin() -> None:
    """The kernel's ACK of a FIN waits for the delayed-ACK timer (about 40 ms), unlike data
    early in a connection, which Linux ACKs at once ("quick ACK" mode)."""
    trace = read_capture(COMMITTED)
    fin, ack = trace.segment(8), trace.segment(9)
    assert 0.02 < ack.sent - fin.sent < 0.2
    data, data_ack = trace.segment(4), trace.segment(5)
    assert data_ack.sent - data.sent < 0.005
    assert trace.state_at("A", fin.sent + 0.001) == "FIN_WAIT_1"
    assert trace.state_at("A", ack.sent) == "FIN_WAIT_2"


def test_what_a_capture_cannot_show_is_noted() -> None:
    notes = " ".join(read_capture(COMMITTED).params["notes"])
    assert "LISTEN" in notes and "before the capture" in notes
    assert "TIME_WAIT" in notes and "60 s" in notes


def test_the_book_shows_the_same_capture_the_tests_check() -> None:
    assert filecmp.cmp(COMMITTED, ASSET, shallow=False)


# ----------------------------------------------------------------- link types and formats


def _ip_frames(path: Path) -> list[tuple[float, bytes]]:
    with path.open("rb") as f:
        return [(ts, bytes(buf)[14:]) for ts, buf in dpkt.pcap.Reader(f)]


def _write_pcap(path: Path, link: int, frames: list[tuple[float, bytes]]) -> None:
    with path.open("wb") as f:
        writer = dpkt.pcap.Writer(f, linktype=link)
        for ts, frame in frames:
            writer.writepkt(frame, ts=ts)


def _sll(ip: bytes) -> bytes:  # Linux cooked capture v1: 16 bytes, protocol last
    return struct.pack("!HHH8sH", 0, 772, 0, b"\0" * 8, 0x0800) + ip


def _sll2(ip: bytes) -> bytes:  # Linux cooked capture v2: 20 bytes, protocol first
    return struct.pack("!HHIHBB8s", 0x0800, 0, 1, 772, 0, 0, b"\0" * 8) + ip


def _null(ip: bytes) -> bytes:  # BSD loopback: address family in host byte order
    return struct.pack("=I", socket.AF_INET) + ip


@pytest.mark.parametrize(
    ("link", "wrap"),
    [(113, _sll), (276, _sll2), (101, lambda ip: ip), (0, _null)],
    ids=["sll", "sll2", "raw", "bsd-loopback"],
)
def test_other_link_types_read_the_same(link: int, wrap: object, tmp_path: Path) -> None:
    frames = [(ts, wrap(ip)) for ts, ip in _ip_frames(COMMITTED)]  # type: ignore[operator]
    path = tmp_path / "other.pcap"
    _write_pcap(path, link, frames)
    expected, got = read_capture(COMMITTED), read_capture(path)
    assert [s.to_dict() for s in got.segments] == [s.to_dict() for s in expected.segments]
    assert got.transitions == expected.transitions


def test_pcapng_reads_the_same(tmp_path: Path) -> None:
    path = tmp_path / "close.pcapng"
    with COMMITTED.open("rb") as src, path.open("wb") as dst:
        writer = dpkt.pcapng.Writer(dst, linktype=dpkt.pcap.DLT_EN10MB)
        for ts, buf in dpkt.pcap.Reader(src):
            writer.writepkt(buf, ts=ts)
    expected, got = read_capture(COMMITTED), read_capture(path)
    assert [s.to_dict() for s in got.segments] == [s.to_dict() for s in expected.segments]
    assert got.path("A") == CLOSER_PATH


def test_ipv6_loopback_is_read(tmp_path: Path) -> None:
    frames = []
    for ts, raw in _ip_frames(COMMITTED):
        ip = dpkt.ip.IP(raw)
        ip6 = dpkt.ip6.IP6(
            src=socket.inet_pton(socket.AF_INET6, "::1"),
            dst=socket.inet_pton(socket.AF_INET6, "::1"),
            nxt=dpkt.ip.IP_PROTO_TCP,
            hlim=64,
            data=ip.data,
            plen=len(bytes(ip.data)),
        )
        frames.append((ts, bytes(ip6)))
    path = tmp_path / "v6.pcap"
    _write_pcap(path, 101, frames)
    trace = read_capture(path)
    assert trace.params["addresses"]["A"].startswith("[::1]:")
    assert trace.path("A") == CLOSER_PATH and trace.path("B") == PEER_PATH


def test_the_first_connection_is_picked_among_others(tmp_path: Path) -> None:
    """Segments of another connection (other ports) are left out."""
    frames = _ip_frames(COMMITTED)
    other = []
    for ts, raw in frames:
        ip = dpkt.ip.IP(raw)
        ip.data.sport, ip.data.dport = ip.data.sport + 1, ip.data.dport + 1
        ip.sum = ip.data.sum = 0
        other.append((ts + 0.00001, bytes(ip)))
    mixed = sorted(frames[:2] + other + frames[2:], key=lambda f: f[0])
    path = tmp_path / "mixed.pcap"
    _write_pcap(path, 101, mixed)
    assert len(packets(path)[1]) == 22
    trace = read_capture(path)
    assert len(trace.segments) == 11
    assert trace.path("A") == CLOSER_PATH


# ----------------------------------------------------------------- simulated runs, round trip

LOSSLESS = ["handshake", "close", "half-close", "simultaneous-open", "simultaneous-close",
            "abort", "refused", "fin-ack"]  # fmt: skip


def _seen_path(trace: Trace, who: str) -> list[str]:
    """The states a capture can show: the simulator's path up to a timer or vanishing."""
    path = ["CLOSED"]
    for tr in trace.transitions:
        if tr.endpoint != who:
            continue
        if tr.cause.startswith("timeout") or tr.cause == "host vanishes":
            break
        path.append(tr.dst)
    return path


@pytest.mark.parametrize("scenario", LOSSLESS)
def test_inference_agrees_with_the_simulator(scenario: str, tmp_path: Path) -> None:
    """Export a lossless simulated run to pcap, import it: the same segments and states."""
    sim = tcpbook.simulate(scenario, drop=())
    back = read_capture(pcap(sim, tmp_path / "sim.pcap"))
    assert [(s.src, s.flags, s.seq, s.ack, s.len) for s in back.segments] == [
        (s.src, s.flags, s.seq, s.ack, s.len) for s in sim.segments
    ]
    assert [s.sent for s in back.segments] == pytest.approx([s.sent for s in sim.segments])
    for who in ("A", "B"):
        assert back.path(who) == _seen_path(sim, who), who
    assert_every_transition_is_a_table_row(back)


@pytest.mark.parametrize("scenario", list(tcpbook.SCENARIOS))
@pytest.mark.parametrize("drop", [None, (2,), (3, 8)], ids=["default", "drop2", "drop3+8"])
def test_any_simulated_run_imports_with_table_transitions_only(
    scenario: str, drop: tuple[int, ...] | None, tmp_path: Path
) -> None:
    sim = tcpbook.simulate(scenario, msl=5.0, drop=drop)
    back = read_capture(pcap(sim, tmp_path / "any.pcap"))
    assert len(back.segments) == len(sim.segments)
    assert back.params["inferred"] is True
    assert_every_transition_is_a_table_row(back)


def test_a_retransmitted_segment_is_marked(tmp_path: Path) -> None:
    sim = tcpbook.simulate("close", drop=[8])  # A's FIN is lost and sent again
    back = read_capture(pcap(sim, tmp_path / "rtx.pcap"))
    assert [s.id for s in back.segments if s.retransmission] == [
        s.id for s in sim.segments if s.retransmission
    ]
    assert any(s.retransmission for s in back.segments)


def test_a_new_incarnation_on_the_same_ports_is_a_new_connection(tmp_path: Path) -> None:
    sim = tcpbook.simulate("old-duplicate", drop=())
    back = read_capture(pcap(sim, tmp_path / "old.pcap"))
    first_syn_of_2 = next(s for s in sim.segments if s.conn == 2 and s.flags == ("SYN",))
    assert back.segment(first_syn_of_2.id).conn == 2
    assert {s.conn for s in back.segments} == {1, 2}
    assert back.final == {"A": "ESTABLISHED", "B": "ESTABLISHED"}
    assert_every_transition_is_a_table_row(back)


def test_a_capture_that_misses_the_handshake_assumes_established(tmp_path: Path) -> None:
    frames = _ip_frames(COMMITTED)[3:]
    path = tmp_path / "late.pcap"
    _write_pcap(path, 101, frames)
    trace = read_capture(path)
    assert trace.path("A")[-3:] == ["FIN_WAIT_1", "FIN_WAIT_2", "TIME_WAIT"]
    assert trace.path("B")[-3:] == ["CLOSE_WAIT", "LAST_ACK", "CLOSED"]
    assert any("after the handshake" in n for n in trace.params["notes"])
    assert_every_transition_is_a_table_row(trace)


# ----------------------------------------------------------------- bad input


def test_a_file_that_is_not_a_capture_is_one_line_error(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("hello\n")
    with pytest.raises(tcpbook.TcpbookError, match="not a pcap or pcapng capture"):
        read_capture(path)


def test_a_missing_file_is_one_line_error(tmp_path: Path) -> None:
    with pytest.raises(tcpbook.TcpbookError, match="cannot read the capture"):
        read_capture(tmp_path / "nope.pcap")


def test_a_capture_without_tcp_is_one_line_error(tmp_path: Path) -> None:
    path = tmp_path / "udp.pcap"
    udp = dpkt.ip.IP(src=b"\x7f\0\0\x01", dst=b"\x7f\0\0\x01", p=17, data=dpkt.udp.UDP())
    _write_pcap(path, 101, [(0.0, bytes(udp))])
    with pytest.raises(tcpbook.TcpbookError, match="no TCP segment"):
        read_capture(path)


def test_an_unsupported_link_type_names_the_supported_ones(tmp_path: Path) -> None:
    path = tmp_path / "wifi.pcap"
    _write_pcap(path, dpkt.pcap.DLT_IEEE802_11, [(0.0, b"\0" * 30)])
    with pytest.raises(tcpbook.TcpbookError, match=r"link type 105 is not supported.*Ethernet"):
        read_capture(path)


# ----------------------------------------------------------------- drawing


def _ladder() -> object:
    """``tcpbook.render.ladder``: the function (the render package may still expose the module)."""
    pytest.importorskip("matplotlib")
    try:
        from tcpbook.render import ladder
    except ImportError:
        pytest.skip("tcpbook.render has no ladder renderer in this tree yet")
    return getattr(ladder, "ladder", ladder)


def test_an_imported_capture_draws_as_a_ladder() -> None:
    draw = _ladder()
    trace = read_capture(COMMITTED, relative=True)
    fig = draw(trace)  # type: ignore[operator]
    texts = [t.get_text() for ax in fig.axes for t in ax.texts]
    assert any(t.startswith("#1 SYN seq=0") for t in texts)
    assert any(t.startswith("#8 FIN,ACK seq=101 ack=201") for t in texts)
    for state in ("SYN_SENT", "FIN_WAIT_2", "TIME_WAIT", "CLOSE_WAIT", "LAST_ACK"):
        assert state in texts, state


@pytest.mark.skipif(shutil.which("tcpdump") is None, reason="tcpdump is not installed")
def test_live_loopback_capture_reads_as_a_close() -> None:
    from tcpbook.realsockets import capture_close

    result = capture_close()
    if not result.live:
        pytest.skip(f"capturing is not permitted here: {result.notes}")
    assert result.trace is not None
    assert result.trace.path("A") == CLOSER_PATH
    assert result.trace.path("B") == PEER_PATH
    assert len(result.trace.segments) == 11
