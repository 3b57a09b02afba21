"""Every named scenario, asserted exactly: states, times and segments."""

from __future__ import annotations

import itertools

import pytest

import tcpbook
from tcpbook.trace import Trace


def wire(trace: Trace) -> list[tuple[int, str, str, int, int | None, int, str]]:
    """(id, src, flags, seq, ack, len, fate) for every segment: the ladder in a list."""
    return [(s.id, s.src, ",".join(s.flags), s.seq, s.ack, s.len, s.fate) for s in trace.segments]


def steps(trace: Trace, endpoint: str) -> list[tuple[float, str]]:
    return [(t.t, t.dst) for t in trace.transitions if t.endpoint == endpoint]


def test_handshake_three_segments_and_states() -> None:
    t = tcpbook.simulate("handshake")
    assert wire(t) == [
        (1, "A", "SYN", 1000, None, 0, "delivered"),
        (2, "B", "SYN,ACK", 5000, 1001, 0, "delivered"),
        (3, "A", "ACK", 1001, 5001, 0, "delivered"),
    ]
    assert steps(t, "A") == [(0.0, "SYN_SENT"), (0.1, "ESTABLISHED")]
    assert steps(t, "B") == [(0.0, "LISTEN"), (0.05, "SYN_RECEIVED"), (0.15, "ESTABLISHED")]
    assert t.final == {"A": "ESTABLISHED", "B": "ESTABLISHED"}


def test_close_four_way_with_msl_5() -> None:
    t = tcpbook.simulate("close", msl=5)
    assert t.path("A") == [
        "CLOSED",
        "SYN_SENT",
        "ESTABLISHED",
        "FIN_WAIT_1",
        "FIN_WAIT_2",
        "TIME_WAIT",
        "CLOSED",
    ]
    assert t.path("B") == [
        "CLOSED",
        "LISTEN",
        "SYN_RECEIVED",
        "ESTABLISHED",
        "CLOSE_WAIT",
        "LAST_ACK",
        "CLOSED",
    ]
    assert wire(t)[7:] == [
        (8, "A", "FIN,ACK", 1101, 5201, 0, "delivered"),
        (9, "B", "ACK", 5201, 1102, 0, "delivered"),
        (10, "B", "FIN,ACK", 5201, 1102, 0, "delivered"),
        (11, "A", "ACK", 1102, 5202, 0, "delivered"),
    ]
    assert steps(t, "A")[-2:] == [(0.9, "TIME_WAIT"), (10.9, "CLOSED")]
    assert t.time_in("A", "TIME_WAIT") == pytest.approx(10.0)
    assert t.time_in("B", "TIME_WAIT") == 0.0
    assert steps(t, "B")[-1] == (0.95, "CLOSED")
    assert t.errors == []


def test_lost_final_ack_is_reacked_and_restarts_2msl() -> None:
    t = tcpbook.simulate("close", msl=5, drop=[11])
    assert t.segment(11).fate == "dropped"
    fin_again, ack_again = t.segment(12), t.segment(13)
    assert (fin_again.src, fin_again.flags, fin_again.seq) == ("B", ("FIN", "ACK"), 5201)
    # linux: B's tail-loss probe, PTO = min(2 SRTT + 200 ms, RTO) = min(0.4, 0.1 + 0.2) s
    assert fin_again.retransmission and fin_again.sent == pytest.approx(0.85 + 0.3)
    assert (ack_again.src, ack_again.flags, ack_again.ack) == ("A", ("ACK",), 5202)
    assert ack_again.sent == pytest.approx(1.2)
    assert steps(t, "A")[-1] == (pytest.approx(11.2), "CLOSED")  # 2MSL after the re-ACK
    assert steps(t, "B")[-1] == (pytest.approx(1.25), "CLOSED")
    restarts = [x for x in t.timers if x.endpoint == "A" and x.timer == "time_wait"]
    assert [(x.action, x.deadline) for x in restarts] == [
        ("start", 10.9),
        ("start", 11.2),
        ("fire", 11.2),
    ]
    assert t.errors == []


def test_half_close_data_flows_after_first_fin() -> None:
    t = tcpbook.simulate("half-close", msl=5)
    fin = next(s for s in t.segments if s.src == "A" and "FIN" in s.flags)
    later_data = [s for s in t.segments if s.src == "B" and s.len and s.sent > fin.sent]
    assert [s.len for s in later_data] == [300, 300]
    assert all(t.state_at("A", s.arrived or 0) == "FIN_WAIT_2" for s in later_data)
    acks = [s for s in t.segments if s.src == "A" and s.sent > fin.sent and s.flags == ("ACK",)]
    assert [a.ack for a in acks] == [5301, 5601, 5602]
    assert t.final == {"A": "CLOSED", "B": "CLOSED"}


def test_fin_that_also_acks_goes_straight_to_time_wait() -> None:
    t = tcpbook.simulate("fin-ack", msl=5)
    assert "FIN_WAIT_2" not in t.path("A")
    assert t.path("A")[-3:] == ["FIN_WAIT_1", "TIME_WAIT", "CLOSED"]
    assert [tr.cause for tr in t.transitions if tr.endpoint == "A"][-2] == "rcv FIN,ACK of FIN"
    assert len([s for s in t.segments if s.sent >= 0.6]) == 3  # FIN, FIN+ACK, ACK


def test_simultaneous_open_crosses_syns() -> None:
    t = tcpbook.simulate("simultaneous-open")
    for side in "AB":
        assert t.path(side) == ["CLOSED", "SYN_SENT", "SYN_RECEIVED", "ESTABLISHED"]
    assert [",".join(s.flags) for s in t.segments] == ["SYN", "SYN", "SYN,ACK", "SYN,ACK"]


def test_simultaneous_close_both_wait() -> None:
    t = tcpbook.simulate("simultaneous-close", msl=5)
    for side in "AB":
        assert t.path(side)[-5:] == ["ESTABLISHED", "FIN_WAIT_1", "CLOSING", "TIME_WAIT", "CLOSED"]
        assert t.time_in(side, "TIME_WAIT") == pytest.approx(10.0)


def test_fin_wait_2_hangs_forever_under_rfc9293() -> None:
    """RFC 9293 has no FIN_WAIT_2 timer: A waits for B's FIN for ever."""
    t = tcpbook.simulate("fin-wait-2-hang", profile="rfc9293")
    assert t.final == {"A": "FIN_WAIT_2", "B": "CLOSE_WAIT"}


def test_fin_wait_2_linux_timeout_closes_orphan() -> None:
    """linux (the default): tcp_fin_timeout 60 s ends the orphaned FIN_WAIT_2. No data came
    before A's FIN, so B ACKs it at once (its delayed-ACK engine starts with the first data)
    and FIN_WAIT_2 starts at 0.70 s."""
    for t in (
        tcpbook.simulate("fin-wait-2-hang"),
        tcpbook.simulate("fin-wait-2-hang", fin_timeout=60),
    ):
        assert steps(t, "A")[-2:] == [(0.7, "FIN_WAIT_2"), (pytest.approx(60.7), "CLOSED")]
        assert t.transitions[-1].cause == "timeout FIN_WAIT_2"
        assert t.final == {"A": "CLOSED", "B": "CLOSE_WAIT"}
    short = tcpbook.simulate("fin-wait-2-hang", fin_timeout=3)  # an explicit one wins
    assert steps(short, "A")[-1] == (pytest.approx(3.7), "CLOSED")


def test_late_fin_never_meets_a_rst_under_linux() -> None:
    """linux: every FIN copy reaches A in TIME_WAIT (the gaps never reach 2MSL = 60 s), A
    re-ACKs it and restarts 2MSL, and B gives up silently after its orphan retries."""
    t = tcpbook.simulate("late-fin")
    assert not any("RST" in s.flags for s in t.segments)
    fins = [s for s in t.segments if s.src == "B" and "FIN" in s.flags]
    assert len(fins) == 10  # the FIN, a loss probe, tcp_orphan_retries = 8 more
    assert all(s.delivered_to == 1 for s in fins)
    gaps = [b.sent - a.sent for a, b in itertools.pairwise(fins)]
    assert max(gaps) < 2 * t.params["msl"]
    a_end = [tr for tr in t.transitions if tr.endpoint == "A"][-1]
    assert (a_end.dst, a_end.cause) == ("CLOSED", "timeout 2MSL")
    assert a_end.t == pytest.approx(fins[-1].arrived + 2 * t.params["msl"])  # the last re-ACK
    b_end = t.transitions[-1]  # after the last copy, before its next timeout: silently
    assert (b_end.endpoint, b_end.dst, b_end.cause) == ("B", "CLOSED", "timeout retransmit")
    assert t.errors == []


@pytest.mark.parametrize(
    "kwargs",
    [{"msl": 5}, {"profile": "freebsd"}],
    ids=["linux-msl-5", "freebsd"],
)
def test_late_fin_gets_rst_after_time_wait_ended(kwargs: dict[str, object]) -> None:
    """A backoff gap longer than 2MSL (a short MSL; FreeBSD's 64 s > its 60 s TIME_WAIT):
    the FIN copy finds A gone, and A answers RST."""
    t = tcpbook.simulate("late-fin", **kwargs)  # type: ignore[arg-type]
    rst = t.segments[-1]
    assert (rst.src, rst.flags, rst.seq) == ("A", ("RST",), 1102)
    late_fin = t.segments[-2]
    assert late_fin.flags == ("FIN", "ACK") and late_fin.delivered_to is None
    assert late_fin.arrived is not None and late_fin.arrived > steps(t, "A")[-1][0]
    assert t.transitions[-1].endpoint == "B" and t.transitions[-1].cause == "rcv RST"


def test_old_duplicate_is_accepted_only_without_time_wait() -> None:
    safe = tcpbook.simulate("old-duplicate")
    unsafe = tcpbook.simulate("old-duplicate", skip_time_wait=True)
    assert unsafe.segment(4).delivered_to == 2  # connection 1's data lands in connection 2
    assert unsafe.segment(4).conn == 1
    assert not any(s.conn == 1 and s.delivered_to == 2 and s.len for s in safe.segments)
    assert safe.segment(4).delivered_to == 1  # absorbed by the old connection's TIME_WAIT


def test_old_duplicate_expires_when_delayed_past_msl() -> None:
    t = tcpbook.simulate("old-duplicate", msl=10, delay={4: 12.0}, skip_time_wait=True)
    assert t.segment(4).fate == "expired" and t.segment(4).arrived is None


def test_refused_rst_ack_and_econnrefused() -> None:
    t = tcpbook.simulate("refused")
    assert wire(t) == [
        (1, "A", "SYN", 1000, None, 0, "delivered"),
        (2, "B", "RST,ACK", 0, 1001, 0, "delivered"),
    ]
    assert [(e.t, e.endpoint, e.error) for e in t.errors] == [(0.1, "A", "ECONNREFUSED")]


def test_no_answer_syn_backoff_then_etimedout() -> None:
    """linux: tcp_syn_linear_timeouts = 4 retries 1 s apart, then doubling; 11 SYNs, and
    connect() fails after 131 s (the capture syn-timeout shows about 134 s)."""
    t = tcpbook.simulate("no-answer")
    assert [s.sent for s in t.segments] == [0, 1, 2, 3, 4, 5, 7, 11, 19, 35, 67]
    assert [(e.t, e.error) for e in t.errors] == [(131.0, "ETIMEDOUT")]


def test_no_answer_rfc9293_doubles_until_its_3_minutes() -> None:
    """rfc9293: every SYN timeout doubles (RFC 6298 5.5); R2 for a SYN is 3 minutes."""
    t = tcpbook.simulate("no-answer", profile="rfc9293")
    assert [s.sent for s in t.segments] == [0, 1, 3, 7, 15, 31, 63, 127]
    assert [(e.t, e.error) for e in t.errors] == [(180.0, "ETIMEDOUT")]


def test_abort_sends_rst_no_fin_no_time_wait() -> None:
    t = tcpbook.simulate("abort")
    assert not any("FIN" in s.flags for s in t.segments)
    assert t.segments[-1].flags == ("RST", "ACK")
    assert "TIME_WAIT" not in t.path("A")
    assert [(e.endpoint, e.error) for e in t.errors] == [("B", "ECONNRESET")]


def test_close_with_unread_data_sends_rst() -> None:
    t = tcpbook.simulate("close-unread")
    assert t.transitions[-2].cause == "CLOSE with unread data"
    assert t.segments[-1].flags == ("RST", "ACK")


def test_a_vanishes_b_retransmits_then_gives_up() -> None:
    t = tcpbook.simulate("a-vanishes")
    fins = [s for s in t.segments if s.src == "B" and "FIN" in s.flags]
    assert len(fins) == 1 + 1 + 8  # a loss probe, then Linux tcp_orphan_retries = 8
    assert all(s.delivered_to is None for s in fins)
    assert t.transitions[-1].cause == "timeout retransmit"
    assert not any("RST" in s.flags for s in t.segments)


def test_assassination_and_rfc1337() -> None:
    killed = tcpbook.simulate("assassination")
    assert killed.time_in("A", "TIME_WAIT") == pytest.approx(2.1)
    kept = tcpbook.simulate("assassination", rfc1337=True)
    assert kept.time_in("A", "TIME_WAIT") == pytest.approx(60.0)


@pytest.mark.parametrize("name", list(tcpbook.SCENARIOS))
def test_every_scenario_is_deterministic(name: str) -> None:
    assert tcpbook.simulate(name).to_json() == tcpbook.simulate(name).to_json()
