"""Kernel profiles: lookup, overrides, and properties that hold under each one (hypothesis)."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tcpbook
from tcpbook import profiles
from tcpbook.endpoint import Config, Endpoint, config_for, model_timeout
from tcpbook.errors import TcpbookError
from tcpbook.states import State, allowed
from tcpbook.trace import Trace

NAMES = sorted(profiles.PROFILES)
scenario = st.sampled_from(sorted(tcpbook.SCENARIOS))
profile = st.sampled_from(NAMES)
drops = st.lists(st.integers(min_value=1, max_value=40), max_size=12, unique=True)


def test_three_profiles_and_linux_is_the_default() -> None:
    assert NAMES == ["freebsd", "linux", "rfc9293"]
    assert profiles.DEFAULT_PROFILE == "linux"
    for name in NAMES:
        assert profiles.get(name).name == name


def test_an_unknown_profile_is_one_line_listing_the_three() -> None:
    with pytest.raises(TcpbookError) as info:
        profiles.get("windows")
    message = str(info.value)
    assert "\n" not in message and "windows" in message
    assert all(name in message for name in NAMES)
    with pytest.raises(TcpbookError, match="linux, freebsd, rfc9293"):
        tcpbook.simulate("close", profile="solaris")


def test_profiles_are_frozen_and_documented() -> None:
    with pytest.raises(AttributeError):
        profiles.LINUX.msl = 1.0  # type: ignore[misc]
    for p in profiles.PROFILES.values():
        assert p.description


def test_explicit_options_override_the_profile() -> None:
    trace = tcpbook.simulate("close", profile="rfc9293", msl=5, rto=0.5, fin_timeout=3)
    assert trace.params["profile"] == "rfc9293"
    assert trace.params["msl"] == 5.0 and trace.params["rto"] == 0.5
    assert trace.params["fin_timeout"] == 3.0
    assert trace.time_in("A", "TIME_WAIT") == pytest.approx(10.0)
    cfg = config_for(profiles.FREEBSD, syn_retries=2)
    assert cfg.syn_retries == 2 and cfg.syn_timeout is None  # a count replaces keepinit
    assert config_for(profiles.LINUX, msl=None).msl == 30.0  # None keeps the profile's value


def test_linux_model_timeout_is_tcp_model_timeout() -> None:
    # tcp_orphan_retries 8 from TCP_RTO_MIN: (2^9 - 1) x 0.2 s; tcp_retries2 15: 924.6 s
    assert model_timeout(8, 0.2, 120.0) == pytest.approx(102.2)
    assert model_timeout(15, 0.2, 120.0) == pytest.approx(924.6)


def _run(name: str, drop: list[int], kernel: str) -> Trace:
    return tcpbook.simulate(name, drop=drop, profile=kernel)


@settings(max_examples=60, deadline=None)
@given(scenario, drops, profile)
def test_every_run_terminates_and_follows_the_table(
    name: str, drop: list[int], kernel: str
) -> None:
    trace = _run(name, drop, kernel)
    assert trace.params["profile"] == kernel
    for tr in trace.transitions:
        assert allowed(State(tr.src), tr.cause, State(tr.dst)), tr
    for side in "AB":
        mine = [tr for tr in trace.transitions if tr.endpoint == side]
        for before, after in itertools.pairwise(mine):
            assert after.src == before.dst
    assert all(s.fate != "in-flight" for s in trace.segments)


@settings(max_examples=60, deadline=None)
@given(scenario, drops, profile)
def test_time_wait_lasts_the_profiles_2msl_after_its_last_restart(
    name: str, drop: list[int], kernel: str
) -> None:
    trace = _run(name, drop, kernel)
    msl = profiles.get(kernel).msl
    for side in "AB":
        for tr in trace.transitions:
            if tr.endpoint != side or tr.cause != "timeout 2MSL":
                continue
            starts = [
                tm.t
                for tm in trace.timers
                if tm.endpoint == side
                and tm.timer == "time_wait"
                and tm.action == "start"
                and tm.t <= tr.t
            ]
            assert tr.t == pytest.approx(max(starts) + 2 * msl, abs=1e-6)


def _syn_times(trace: Trace) -> list[float]:
    return [s.sent for s in trace.segments if s.flags == ("SYN",)]


def test_syn_schedules() -> None:
    linux = tcpbook.simulate("no-answer", profile="linux")
    assert _syn_times(linux) == pytest.approx([0, 1, 2, 3, 4, 5, 7, 11, 19, 35, 67])
    assert [(e.t, e.error) for e in linux.errors] == [(pytest.approx(131.0), "ETIMEDOUT")]
    freebsd = tcpbook.simulate("no-answer", profile="freebsd")  # tcp_syn_backoff, keepinit 75 s
    assert _syn_times(freebsd) == pytest.approx([0, 1, 2, 3, 4, 5, 7, 11, 19, 35, 67])
    assert [(e.t, e.error) for e in freebsd.errors] == [(pytest.approx(75.0), "ETIMEDOUT")]
    rfc = tcpbook.simulate("no-answer", profile="rfc9293")  # doubling; R2 for SYN: 3 minutes
    assert _syn_times(rfc)[:5] == pytest.approx([0, 1, 3, 7, 15])
    assert rfc.errors[0].t >= 180.0


def test_giving_up_after_close() -> None:
    """Every final ACK lost: Linux's LAST_ACK gives up silently after ~102 s, its gaps never
    reaching 2MSL; FreeBSD's do, so a late FIN meets RST; RFC 9293's gives up after R2."""
    linux = tcpbook.simulate("late-fin", profile="linux", latency=20e-6)
    fins = [s for s in linux.segments if s.src == "B" and "FIN" in s.flags]
    assert len(fins) == 10
    assert max(b.sent - a.sent for a, b in itertools.pairwise(fins)) < 2 * 30.0
    assert not [s for s in linux.segments if "RST" in s.flags]
    gave_up = next(t for t in linux.transitions if t.cause == "timeout retransmit")
    assert gave_up.t - fins[0].sent == pytest.approx(102.4, abs=0.05)  # RTO 200.04 ms
    # FreeBSD's backoff reaches TCPTV_REXMTMAX = 64 s > 2MSL = 60 s: a FIN copy comes late
    freebsd = tcpbook.simulate("late-fin", profile="freebsd", latency=20e-6)
    assert [(s.src, s.flags) for s in freebsd.segments if "RST" in s.flags] == [("A", ("RST",))]
    # ... and when nobody answers at all, it gives up after 12 retransmissions with a RST
    gone = tcpbook.simulate("a-vanishes", profile="freebsd")
    assert len([s for s in gone.segments if s.src == "B" and "FIN" in s.flags]) == 13
    assert [(s.src, s.flags) for s in gone.segments if "RST" in s.flags] == [("B", ("RST", "ACK"))]
    rfc = tcpbook.simulate("late-fin", profile="rfc9293", latency=20e-6)
    rfc_fins = [s.sent for s in rfc.segments if s.src == "B" and "FIN" in s.flags]
    rfc_end = next(t.t for t in rfc.transitions if t.cause == "timeout retransmit")
    assert rfc_end - rfc_fins[0] >= 100.0


def test_a_short_msl_lets_a_late_fin_meet_rst_under_linux() -> None:
    trace = tcpbook.simulate("late-fin", profile="linux", msl=5)
    rst = [s for s in trace.segments if "RST" in s.flags]
    assert rst and rst[0].src == "A"


def test_delayed_ack_of_a_fin() -> None:
    """Linux delays the ACK of a FIN by 40 ms (tcp_fin: pingpong); FreeBSD ACKs it at once."""
    for kernel, delay in (("linux", 0.04), ("freebsd", 0.0), ("rfc9293", 0.0)):
        trace = tcpbook.simulate("close", profile=kernel, latency=0.01)
        fin = next(s for s in trace.segments if s.src == "A" and "FIN" in s.flags)
        ack = next(s for s in trace.segments if s.src == "B" and s.ack == fin.seq + 1)
        assert ack.sent - fin.arrived == pytest.approx(delay), kernel  # type: ignore[operator]


def test_orphaned_fin_wait_2_and_shutdown() -> None:
    linux = tcpbook.simulate("fin-wait-2-hang", profile="linux")
    assert linux.time_in("A", "FIN_WAIT_2") == pytest.approx(60.0)
    freebsd = tcpbook.simulate("fin-wait-2-hang", profile="freebsd")
    assert freebsd.time_in("A", "FIN_WAIT_2") == pytest.approx(600.0)
    rfc = tcpbook.simulate("fin-wait-2-hang", profile="rfc9293")
    assert rfc.final["A"] == "FIN_WAIT_2"  # no timer: waits for ever
    # after shutdown() the socket is not orphaned: no FIN_WAIT_2 timer (Linux tcp_close only)
    a = Endpoint(1000, config_for(profiles.LINUX))
    assert a.config.fin_timeout == 60.0


def test_rst_in_time_wait() -> None:
    """The assassination scenario: Linux and RFC 9293 let the RST end TIME_WAIT, FreeBSD
    ignores it (tcp_twcheck, RFC 1337)."""
    for kernel, assassinated in (("linux", True), ("freebsd", False), ("rfc9293", True)):
        trace = tcpbook.simulate("assassination", profile=kernel)
        ends = [t.cause for t in trace.transitions if t.endpoint == "A" and t.src == "TIME_WAIT"]
        assert ("rcv RST" in ends) == assassinated, kernel


def test_three_profiles_and_one_default_everywhere() -> None:
    """No fourth model: an endpoint without a configuration, default settings, ``simulate``
    and the command line all run the default profile, linux."""
    from tcpbook.profiles import DEFAULT_PROFILE, PROFILES, get
    from tcpbook.settings import Settings, endpoint_config

    assert list(PROFILES) == ["linux", "freebsd", "rfc9293"] and DEFAULT_PROFILE == "linux"
    assert Config() == config_for(get("linux")) == endpoint_config(Settings())
    assert Config().rto_min == 0.2 and Config().tail_loss_probe and Config().delayed_ack == 0.04
    assert Settings().profile == "linux" == tcpbook.simulate("close").params["profile"]
    assert (
        tcpbook.simulate("close").to_json() == tcpbook.simulate("close", profile="linux").to_json()
    )


@pytest.mark.parametrize("kernel", NAMES)
def test_cli_run_json_records_the_profile_and_fits_the_schema(
    kernel: str, capsys: pytest.CaptureFixture[str]
) -> None:
    import json
    from pathlib import Path

    import jsonschema

    from tcpbook.cli import main

    assert main(["run", "late-fin", "--profile", kernel, "--msl", "5", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    schema = json.loads((Path(__file__).parent / "data" / "trace.schema.json").read_text())
    jsonschema.validate(data, schema)
    assert data["params"]["profile"] == kernel and data["params"]["msl"] == 5.0


def test_cli_unknown_profile_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    from tcpbook.cli import main

    with pytest.raises(SystemExit) as info:
        main(["draw", "close", "--profile", "bsd"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and all(name in err for name in NAMES)


# -- the endpoint's new behaviours, one at a time ---------------------------------------------


def started(out: list[Any], timer: str) -> float | None:
    """The delay ``timer`` was (last) started with in ``out``, or None."""
    from tcpbook.endpoint import StartTimer

    delays = [o.delay for o in out if isinstance(o, StartTimer) and o.timer == timer]
    return delays[-1] if delays else None


def _pair(kernel: str, rtt: float = 40e-6) -> tuple[Endpoint, Endpoint, list[float]]:
    """A and B of ``kernel`` after a handshake whose round trip took ``rtt``."""
    from tcpbook.endpoint import Send

    now = [0.0]
    cfg = config_for(profiles.get(kernel))
    a = Endpoint(1000, cfg, lambda: now[0])
    b = Endpoint(5000, cfg, lambda: now[0])
    b.listen()
    a.connect()
    for src, dst in ((a, b), (b, a), (a, b)):
        now[0] += rtt / 2
        for item in src.drain():
            if isinstance(item, Send):
                dst.receive(item.segment)
    return a, b, now


@pytest.mark.parametrize(
    ("kernel", "rto"),
    [("linux", 0.2 + 40e-6), ("freebsd", 0.2 + 3 * 40e-6), ("rfc9293", 1.0)],
)
def test_rto_after_the_handshake_comes_from_the_measured_round_trip(
    kernel: str, rto: float
) -> None:
    a, b, _ = _pair(kernel)
    assert a.srtt == pytest.approx(40e-6) and b.srtt == pytest.approx(40e-6)
    assert a.rto == pytest.approx(rto)


def test_linux_tail_loss_probe_then_rto_without_backoff() -> None:
    from tcpbook.endpoint import Send

    a, _, _ = _pair("linux")
    a.drain()
    a.close()
    out = a.drain()
    assert started(out, "tlp") == pytest.approx(0.2 + 40e-6)  # min(2 SRTT + 200 ms, RTO)
    a.timer_fired("tlp")
    out = a.drain()
    probe = [o.segment for o in out if isinstance(o, Send)]
    assert [(s.flags, s.retransmission) for s in probe] == [(("FIN", "ACK"), True)]
    assert started(out, "retransmit") == pytest.approx(0.2 + 40e-6)  # RTO, not doubled
    assert a.retries == 0  # a probe is not a retransmission timeout


def test_delayed_ack_rides_on_the_fin_when_the_application_closes_in_time() -> None:
    from tcpbook.endpoint import CancelTimer, Send, StartTimer

    a, b, _ = _pair("linux")
    a.send(100)  # data first: it starts B's delayed-ACK engine (tcp_event_data_recv)
    data = next(o.segment for o in a.drain() if isinstance(o, Send))
    b.receive(data)
    b.drain()
    a.close()
    fin = next(o.segment for o in a.drain() if isinstance(o, Send))
    b.receive(fin)
    out = b.drain()
    assert StartTimer("delayed_ack", 0.04) in out and not [o for o in out if isinstance(o, Send)]
    b.close()
    out = b.drain()
    sent = [o.segment for o in out if isinstance(o, Send)]
    assert [s.flags for s in sent] == [("FIN", "ACK")] and sent[0].ack == fin.seq + 1
    assert CancelTimer("delayed_ack") in out


def test_a_fin_before_any_data_is_acked_at_once_under_linux() -> None:
    """Linux's delayed-ACK engine starts with the first data received (icsk_ack.ato is 0
    before it): a FIN right after the handshake is ACKed at once (packetdrill on a 6.18
    kernel, tests/pkt/matrix/linux/close-wait-*.pkt)."""
    from tcpbook.endpoint import Send, StartTimer

    a, b, _ = _pair("linux")
    a.close()
    fin = next(o.segment for o in a.drain() if isinstance(o, Send))
    b.receive(fin)
    out = b.drain()
    assert StartTimer("delayed_ack", 0.04) not in out
    assert [o.segment.flags for o in out if isinstance(o, Send)] == [("ACK",)]


@pytest.mark.parametrize(("kernel", "restarts"), [("linux", True), ("freebsd", False)])
def test_time_wait_restart_on_a_segment_that_is_not_the_fin(kernel: str, restarts: bool) -> None:
    from tcpbook.endpoint import Segment, Send, StartTimer

    a, b, _ = _pair(kernel)
    a.close()
    b.receive(next(o.segment for o in a.drain() if isinstance(o, Send)))
    b.close()
    for o in b.drain():
        if isinstance(o, Send):
            a.receive(o.segment)
    assert a.state is State.TIME_WAIT
    a.drain()
    a.receive(Segment(("PSH", "ACK"), b.snd_nxt - 50, a.snd_nxt, 10))  # old data
    out = a.drain()
    assert [o.segment.flags for o in out if isinstance(o, Send)] == [("ACK",)]
    assert (StartTimer("time_wait", 60.0) in out) == restarts


def test_a_sysctl_name_names_its_kernel() -> None:
    assert profiles.for_sysctl("net.ipv4.tcp_fin_timeout") is profiles.LINUX
    assert profiles.for_sysctl("net.inet.tcp.msl") is profiles.FREEBSD
    assert profiles.for_sysctl("kern.hz") is None


def test_a_new_syn_reaching_time_wait() -> None:
    """RFC 6191: Linux and FreeBSD let a SYN above the old RCV.NXT end TIME_WAIT and reach the
    listener; RFC 9293 answers it with a challenge ACK, and A's RST ends TIME_WAIT instead."""
    for kernel in ("linux", "freebsd"):
        trace = tcpbook.simulate("reconnect", profile=kernel)
        ends = [t.cause for t in trace.transitions if t.endpoint == "B" and t.src == "TIME_WAIT"]
        assert ends == ["rcv SYN above RCV.NXT"], kernel
        syn = next(s for s in trace.segments if s.flags == ("SYN",) and s.conn == 2)
        assert syn.delivered_to == 2 and not [s for s in trace.segments if "RST" in s.flags]
        assert trace.final == {"A": "ESTABLISHED", "B": "ESTABLISHED"}
    rfc = tcpbook.simulate("reconnect", profile="rfc9293")
    ends = [t.cause for t in rfc.transitions if t.endpoint == "B" and t.src == "TIME_WAIT"]
    assert ends == ["rcv RST"]
    assert [s.src for s in rfc.segments if "RST" in s.flags] == ["A"]
    assert rfc.final == {"A": "ESTABLISHED", "B": "ESTABLISHED"}


def test_settings_take_the_profile_values_not_given_and_keep_the_given_ones() -> None:
    from tcpbook.settings import SettingError, Settings, endpoint_config

    linux = Settings(profile="linux")
    assert (linux.msl, linux.rto, linux.syn_retries, linux.fin_timeout) == (30.0, 1.0, 10, 60.0)
    mine = Settings(profile="linux", syn_retries=6, msl=30.0)  # the plain defaults, given
    assert mine.syn_retries == 6 and endpoint_config(mine).syn_retries == 6
    rfc = Settings.build(linux, profile="rfc9293")  # the new profile's values replace linux's
    assert (rfc.msl, rfc.fin_timeout, rfc.syn_retries) == (120.0, None, None)
    kept = Settings.build(Settings(profile="linux", msl=5), profile="freebsd")
    assert kept.msl == 5.0 and kept.rfc1337 is True
    assert endpoint_config(rfc).tail_loss_probe is False
    assert endpoint_config(linux).tail_loss_probe is True
    assert endpoint_config(Settings()) == endpoint_config(linux)  # the default profile
    with pytest.raises(SettingError, match="profile must be one of: linux, freebsd, rfc9293"):
        Settings(profile="bsd")
    with pytest.raises(SettingError, match="profile must be one of"):
        Settings(profile=None)  # no plain model without a profile


def _last_ack(kernel: str) -> tuple[Endpoint, Endpoint]:
    """B in LAST_ACK: A closed, B answered with its FIN (not yet delivered to A)."""
    from tcpbook.endpoint import Send

    a, b, _ = _pair(kernel)
    a.close()
    b.receive(next(o.segment for o in a.drain() if isinstance(o, Send)))
    b.drain()
    b.close()
    return a, b


@pytest.mark.parametrize(
    ("kernel", "after", "answered"),
    [("linux", State.CLOSED, False), ("freebsd", State.CLOSED, False), ("rfc9293", None, True)],
)
def test_the_peers_fin_again_acknowledging_ours_ends_last_ack(
    kernel: str, after: State | None, answered: bool
) -> None:
    """Linux (tcp_sequence against rcv_wup) and FreeBSD (tcp_do_segment trims the old FIN and
    goes on to the ACK) read the ACK field of the peer's FIN sent again; RFC 9293 finds the
    segment unacceptable, answers it, and stays in LAST_ACK."""
    from tcpbook.endpoint import Segment, Send

    a, b = _last_ack(kernel)
    b.drain()
    fin_again = Segment(("FIN", "ACK"), a.snd_nxt - 1, b.snd_nxt)  # it acknowledges B's FIN
    b.receive(fin_again)
    out = b.drain()
    assert b.state is (after or State.LAST_ACK)
    assert bool([o for o in out if isinstance(o, Send)]) == answered


@pytest.mark.parametrize(
    ("kernel", "challenged"), [("linux", False), ("freebsd", False), ("rfc9293", True)]
)
def test_an_inexact_rst_in_time_wait(kernel: str, challenged: bool) -> None:
    """Linux's and FreeBSD's TIME_WAIT drop a RST that is not at RCV.NXT; RFC 9293 (RFC 5961
    section 3) answers it with a challenge ACK. Either way TIME_WAIT stays."""
    from tcpbook.endpoint import Segment, Send

    a, b = _last_ack(kernel)
    for o in b.drain():
        if isinstance(o, Send):
            a.receive(o.segment)
    assert a.state is State.TIME_WAIT
    a.drain()
    a.receive(Segment(("RST",), (a.rcv_nxt + 1000) % 2**32, None))
    assert a.state is State.TIME_WAIT
    assert bool([o for o in a.drain() if isinstance(o, Send)]) == challenged


@pytest.mark.parametrize(
    ("kernel", "listening", "handed_on"),
    [
        ("linux", True, True),
        ("linux", False, False),  # tcp_v4_rcv: TCP_TW_SYN, no listener -> TCP_TW_ACK
        ("freebsd", False, True),  # tcp_twcheck closes TIME_WAIT before the listener lookup
    ],
)
def test_a_new_syn_ends_time_wait_only_for_a_listener_on_linux(
    kernel: str, listening: bool, handed_on: bool
) -> None:
    from tcpbook.endpoint import Handoff, Segment, Send

    a, b = _last_ack(kernel)
    for o in b.drain():
        if isinstance(o, Send):
            a.receive(o.segment)
    assert a.state is State.TIME_WAIT
    a.drain()
    a.listener = lambda: listening
    a.receive(Segment(("SYN",), (a.rcv_nxt + 100_000) % 2**32, None))
    out = a.drain()
    assert any(isinstance(o, Handoff) for o in out) == handed_on
    assert a.state is (State.CLOSED if handed_on else State.TIME_WAIT)
    if not handed_on:
        assert [o.segment.flags for o in out if isinstance(o, Send)] == [("ACK",)]


@pytest.mark.parametrize(
    ("kernel", "soon"), [("linux", 0.008), ("freebsd", None), ("rfc9293", None)]
)
def test_an_unacceptable_ack_in_syn_sent_brings_the_syn_again_soon_on_linux(
    kernel: str, soon: float | None
) -> None:
    """Linux (tcp_rcv_synsent_state_process) takes a bad ACK as a sign that its SYN was
    dropped as old, and resets the timer to TCP_TIMEOUT_MIN, once; the RST goes out either way."""
    from tcpbook.endpoint import Segment, Send

    a = Endpoint(1000, config_for(profiles.get(kernel)))
    a.connect()
    a.drain()
    a.receive(Segment(("ACK",), 0, 5000))  # acknowledges nothing we sent
    out = a.drain()
    assert [o.segment.flags for o in out if isinstance(o, Send)] == [("RST",)]
    assert started(out, "retransmit") == soon
    assert a.state is State.SYN_SENT


def test_linux_times_the_loss_probe_again_after_each_new_segment() -> None:
    """tcp_write_xmit -> tcp_schedule_loss_probe: a FIN sent while the probe waits times it
    again from now (2 SRTT + 2 ms with two segments out), never past the RTO of the wait."""
    a, _, now = _pair("linux", rtt=0.01)
    now[0] += 0.01
    a.send(1000)
    assert started(a.drain(), "tlp") == pytest.approx(min(0.02 + 0.2, a.rto))
    now[0] += 0.01
    a.close()
    assert started(a.drain(), "tlp") == pytest.approx(0.02 + 0.002)
    # and capped by what is left of the RTO when that is sooner
    late, _, late_now = _pair("linux", rtt=0.01)
    late_now[0] += 0.01
    late.send(1000)
    late.drain()
    late_now[0] += late.rto - 0.005
    late.close()
    assert started(late.drain(), "tlp") == pytest.approx(0.005)


@pytest.mark.parametrize(
    ("kernel", "close_wait", "last_ack"),
    [
        ("linux", "EPIPE", "ECONNRESET"),  # tcp_reset
        ("freebsd", "ECONNRESET", "ECONNRESET"),  # tcp_do_segment: so_error = ECONNRESET
        ("rfc9293", "ECONNRESET", None),  # 3.10.7.4: LAST-ACK just closes
    ],
)
def test_the_error_a_reset_leaves_depends_on_the_kernel(
    kernel: str, close_wait: str, last_ack: str | None
) -> None:
    from tcpbook.endpoint import AppError, Segment

    def reset(b: Endpoint) -> list[str]:
        b.drain()
        b.receive(Segment(("RST",), b.rcv_nxt, None))
        assert b.state is State.CLOSED
        return [o.error for o in b.drain() if isinstance(o, AppError)]

    for state, error in ((State.CLOSE_WAIT, close_wait), (State.LAST_ACK, last_ack)):
        a, b, _ = _pair(kernel)
        a.shutdown()  # A's FIN: B enters CLOSE_WAIT
        for o in a.drain():
            if hasattr(o, "segment"):
                b.receive(o.segment)
        if state is State.LAST_ACK:
            b.shutdown()  # B's FIN too, but B's application keeps its socket (not close())
        assert b.state is state
        assert reset(b) == ([error] if error else []), state


@pytest.mark.parametrize("kernel", ["linux", "freebsd", "rfc9293"])
def test_a_fin_beyond_a_gap_is_held_until_the_data_comes(kernel: str) -> None:
    """RFC 9293 3.10.7.4 (SHLD-31) and every kernel's out-of-order queue: the FIN waits for
    the missing data, then both count at once, with one ACK right away (RFC 5681 4.2)."""
    from tcpbook.endpoint import Segment, Send

    a, b, _ = _pair(kernel)
    a.drain()
    b.drain()
    start = b.rcv_nxt
    b.receive(Segment(("FIN", "ACK"), start + 100, b.snd_nxt))  # the 100 bytes before it lost
    assert [o.segment.ack for o in b.drain() if isinstance(o, Send)] == [start]  # duplicate ACK
    assert b.state is State.ESTABLISHED
    b.receive(Segment(("PSH", "ACK"), start, b.snd_nxt, 100))
    assert b.state is State.CLOSE_WAIT
    assert [o.segment.ack for o in b.drain() if isinstance(o, Send)] == [start + 101]


@pytest.mark.parametrize(
    ("kernel", "resets"), [("linux", True), ("freebsd", False), ("rfc9293", False)]
)
def test_after_close_a_fin_beyond_a_gap_draws_a_reset_only_from_linux(
    kernel: str, resets: bool
) -> None:
    from tcpbook.endpoint import Segment, Send

    a, b, _ = _pair(kernel)
    a.close()
    b.receive(next(o.segment for o in a.drain() if isinstance(o, Send)))
    for o in b.drain():
        if isinstance(o, Send):
            a.receive(o.segment)
    assert a.state is State.FIN_WAIT_2
    a.drain()
    a.receive(Segment(("FIN", "ACK"), a.rcv_nxt + 100, a.snd_nxt))
    flags = [o.segment.flags for o in a.drain() if isinstance(o, Send)]
    assert flags == ([("RST",)] if resets else [("ACK",)])
    assert a.state is (State.CLOSED if resets else State.FIN_WAIT_2)
