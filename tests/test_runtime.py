"""The runtime under every run: the event kernel, the host loop and the one settings object."""

from __future__ import annotations

import itertools
import math
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import tcpbook
from tcpbook.drive import Driver
from tcpbook.endpoint import Config, Endpoint, StartTimer, TimerName
from tcpbook.host import Host
from tcpbook.kernel import Event, Kernel, round9
from tcpbook.scenarios import get
from tcpbook.settings import DEFAULT_MSL, SettingError, Settings, endpoint_config
from tcpbook.sim import Simulator
from tcpbook.trace import Trace

# -- the kernel --------------------------------------------------------------------------------


class Mark(Event):
    __slots__ = ("label", "log")

    def __init__(self, log: list[tuple[float, str]], label: str) -> None:
        self.log = log
        self.label = label

    def happen(self) -> None:
        self.log.append((0.0, self.label))


class Stamp(Mark):
    __slots__ = ("kernel",)

    def __init__(self, kernel: Kernel, log: list[tuple[float, str]], label: str) -> None:
        super().__init__(log, label)
        self.kernel = kernel

    def happen(self) -> None:
        self.log.append((self.kernel.now, self.label))


def test_ties_happen_in_insertion_order_and_times_are_rounded() -> None:
    k = Kernel()
    log: list[tuple[float, str]] = []
    k.schedule(Stamp(k, log, "b"), at=0.3)
    k.schedule(Stamp(k, log, "c"), delay=0.1 + 0.2)  # 0.30000000000000004: the same instant
    k.schedule(Stamp(k, log, "a"), at=0.1)
    k.run()
    assert log == [(0.1, "a"), (0.3, "b"), (0.3, "c")]
    assert k.events == 3


@given(
    st.one_of(
        st.floats(allow_nan=False, allow_infinity=False),
        st.integers(0, 10**15).map(lambda n: n / 1e9),  # ties and near-ties at the 9th place
        st.integers(0, 10**6).map(lambda n: n / 1e3 + 0.05),  # a run's sums of latencies
    )
)
@example(1e300)  # t * 1e9 overflows to infinity: round() must not see it
def test_round9_is_round_to_nanoseconds_bit_for_bit(t: float) -> None:
    assert repr(round9(t)) == repr(round(t, 9))
    assert repr(round9(t + 5e-10)) == repr(round(t + 5e-10, 9))


def test_cancelled_events_do_not_happen_or_move_the_clock() -> None:
    k = Kernel()
    log: list[tuple[float, str]] = []
    k.schedule(Stamp(k, log, "kept"), at=1.0)
    late = k.schedule(Stamp(k, log, "late"), at=5.0)
    k.cancel(late)
    assert k.peek() == 1.0
    k.run()
    assert log == [(1.0, "kept")] and k.now == 1.0 and k.peek() is None


def test_run_until_stops_before_later_events_and_step_goes_on() -> None:
    k = Kernel()
    log: list[tuple[float, str]] = []
    for t in (1.0, 2.0, 3.0):
        k.schedule(Stamp(k, log, str(t)), at=t)
    k.run(until=2.0)
    assert [label for _, label in log] == ["1.0", "2.0"] and k.now == 2.0
    event = k.step()
    assert isinstance(event, Stamp) and event.label == "3.0" and k.now == 3.0
    with pytest.raises(tcpbook.TcpbookError, match="no event"):
        k.step()


def test_a_run_that_never_settles_is_a_one_line_error() -> None:
    k = Kernel()

    class Again(Event):
        def happen(self) -> None:
            k.schedule(Again(), delay=1.0)

    k.schedule(Again(), at=0.0)
    with pytest.raises(tcpbook.TcpbookError, match="did not settle within 50 events"):
        k.run(limit=50)


def test_schedule_takes_exactly_one_of_delay_and_at() -> None:
    k = Kernel()
    with pytest.raises(TypeError):
        k.schedule(Mark([], "x"))
    with pytest.raises(TypeError):
        k.schedule(Mark([], "x"), delay=1.0, at=1.0)


def test_a_kernel_in_microseconds_counts_integer_ticks() -> None:
    k = Kernel(per_second=1_000_000)
    k.advance(250)
    assert k.after(0.2) == 200_250 and k.seconds(200_250) == pytest.approx(0.20025)


@given(st.lists(st.floats(min_value=0, max_value=1e4, allow_nan=False), max_size=40))
def test_events_happen_in_time_order_whatever_the_order_they_were_scheduled(
    times: list[float],
) -> None:
    k = Kernel()
    log: list[tuple[float, str]] = []
    for i, t in enumerate(times):
        k.schedule(Stamp(k, log, str(i)), at=t)
    k.run()
    assert [t for t, _ in log] == sorted(round(t, 9) for t in times)
    # equal times keep their insertion order
    for (t1, a), (t2, b) in itertools.pairwise(log):
        if t1 == t2:
            assert int(a) < int(b)


# -- the host ------------------------------------------------------------------------------------


class ProbeEndpoint(Endpoint):
    """An endpoint that asks for timers the host has never heard of (as later kernels will)."""

    def __init__(self) -> None:
        super().__init__(1000, Config())
        self.fired: list[str] = []

    def ask(self, name: str, delay: float) -> None:
        timer: TimerName = name  # type: ignore[assignment]
        self.timers.add(name)
        self.out.append(StartTimer(timer, delay))

    def timer_fired(self, name: TimerName) -> None:
        self.fired.append(name)
        self.timers.discard(name)


class RecordingHost(Host):
    def send(self, segment: Any) -> None:
        raise AssertionError("nothing is sent here")


def _host() -> tuple[Kernel, Trace, RecordingHost, ProbeEndpoint]:
    kernel = Kernel()
    trace = Trace("probe", {})
    host = RecordingHost("A", kernel, trace, isn=1000, config=Config())
    tcb = ProbeEndpoint()
    host.attach(tcb)
    tcb.listen()  # out of CLOSED, so the host keeps the TCB
    host.drain()
    return kernel, trace, host, tcb


def test_the_host_runs_any_timer_name_the_endpoint_asks_for() -> None:
    kernel, trace, host, tcb = _host()
    tcb.ask("delayed_ack", 0.04)
    tcb.ask("tlp", 0.2)
    host.drain()
    assert host.timers == {"delayed_ack": 0.04, "tlp": 0.2}
    kernel.run()
    assert tcb.fired == ["delayed_ack", "tlp"]
    assert [(t.t, t.timer, t.action) for t in trace.timers] == [
        (0.0, "delayed_ack", "start"),
        (0.0, "tlp", "start"),
        (0.04, "delayed_ack", "fire"),
        (0.2, "tlp", "fire"),
    ]
    assert host.timers == {}


def test_restarting_a_timer_replaces_its_deadline() -> None:
    kernel, _, host, tcb = _host()
    tcb.ask("tlp", 1.0)
    host.drain()
    kernel.advance(0.5)
    tcb.ask("tlp", 1.0)
    host.drain()
    kernel.run()
    assert tcb.fired == ["tlp"] and kernel.now == 1.5


def test_closing_releases_the_tcb_cancels_timers_and_runs_deferred_calls() -> None:
    kernel = Kernel()
    trace = Trace("probe", {})
    host = RecordingHost("A", kernel, trace, isn=1000, config=Config())
    host.attach(host.new_endpoint())
    assert host.tcb is not None and host.conn == 1
    host.tcb.listen()
    host.drain()
    ran: list[str] = []
    host.deferred.append(lambda: ran.append("listen again"))
    host.tcb.close()
    host.drain()
    assert host.tcb is None and ran == ["listen again"]
    assert [(t.src, t.dst) for t in trace.transitions] == [
        ("CLOSED", "LISTEN"),
        ("LISTEN", "CLOSED"),
    ]


def test_a_vanished_host_stops_its_timers_and_its_connection() -> None:
    kernel, _, host, tcb = _host()
    tcb.ask("retransmit", 1.0)
    host.drain()
    host.vanish()
    kernel.run()
    assert host.vanished and host.tcb is None and tcb.fired == [] and kernel.now == 0.0


# -- the settings --------------------------------------------------------------------------------


def test_one_msl_default_everywhere() -> None:
    assert DEFAULT_MSL == 30.0 == Config().msl == Settings().msl == tcpbook.DEFAULT_MSL
    assert tcpbook.simulate("close").params["msl"] == DEFAULT_MSL
    assert Driver().trace.params["msl"] == DEFAULT_MSL


def test_settings_record_in_the_order_traces_have_always_used() -> None:
    assert list(Settings().to_dict()) == [
        "msl",
        "latency",
        "drop",
        "delay",
        "duplicate",
        "fin_timeout",
        "skip_time_wait",
        "rfc1337",
        "until",
        "rto",
        "syn_retries",
        "isn_a",
        "isn_b",
        "profile",
    ]
    assert Settings.names() == tuple(Settings().to_dict())
    assert Settings().to_dict()["profile"] == "linux"  # every run records its profile


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"msl": 0}, "msl must be greater than 0 seconds, got 0"),
        ({"msl": math.nan}, "msl must be a finite number of seconds"),
        ({"latency": -1}, "latency must be 0 or more seconds, got -1"),
        ({"drop": [0]}, "drop takes segment numbers"),
        ({"drop": "3"}, "drop takes segment numbers"),
        ({"delay": {4: -1.0}}, "delay of segment 4 must be 0 or more seconds"),
        ({"syn_retries": -1}, "syn_retries must be 0 or more"),
        ({"isn_b": 2**32}, "isn_b must be an integer from 0 to 4294967295"),
        ({"mls": 5}, r"unknown setting\(s\) mls; the settings are: msl, "),
    ],
)
def test_bad_settings_are_one_line_errors_wherever_they_come_from(
    changes: dict[str, Any], message: str
) -> None:
    with pytest.raises(tcpbook.TcpbookError, match=message) as info:
        Settings.build(**changes)
    assert "\n" not in str(info.value)
    with pytest.raises(tcpbook.TcpbookError, match=message):
        tcpbook.simulate("close", **changes)
    with pytest.raises(tcpbook.TcpbookError, match=message):
        Driver(**changes)


def test_a_setting_error_names_the_setting_for_the_command_line() -> None:
    with pytest.raises(SettingError) as info:
        Settings(fin_timeout=-2)
    assert (info.value.name, info.value.reason, info.value.value) == (
        "fin_timeout",
        "must be 0 or more seconds",
        -2,
    )


def test_settings_build_on_each_other_and_give_the_endpoint_its_config() -> None:
    base = Settings(msl=5, rto=0.2)
    more = Settings.build(base, rfc1337=True)
    assert (more.msl, more.rto, more.rfc1337) == (5.0, 0.2, True)
    assert more.changed() == {"msl": 5.0, "rto": 0.2, "rfc1337": True}
    config = endpoint_config(more, auto_read=False)
    assert (config.msl, config.rto, config.rfc1337, config.auto_read) == (5.0, 0.2, True, False)
    assert tcpbook.simulate("close", more).params["msl"] == 5.0


def test_settings_built_from_the_same_plain_values_are_one_object_and_lookalikes_are_not() -> None:
    linux = Settings.build(profile="linux", drop=(3,))
    assert Settings.build(drop=(3,), profile="linux") is linux
    assert linux.msl == 30.0 and linux.drop == (3,)
    # equal to == but recorded differently: each keeps its own settings
    assert str(Settings.build(latency=-0.0).latency) == "-0.0"
    assert str(Settings.build(latency=0.0).latency) == "0.0"
    assert Settings.build(skip_time_wait=1).skip_time_wait is True
    with pytest.raises(SettingError, match="isn_a must be an integer"):
        Settings.build(isn_a=True)
    assert Settings.build(isn_a=1).isn_a == 1
    with pytest.raises(SettingError, match="isn_a must be an integer"):
        Settings.build(isn_a=True)  # still checked after its lookalike was built
    table = {3: 1.0}
    assert Settings.build(delay=table) is not Settings.build(delay=table)


def test_the_scenario_fills_in_only_what_is_not_given() -> None:
    script = get("old-duplicate")
    own = Settings().for_scenario(script)
    assert own.delay or own.duplicate  # this scenario brings its own late segment
    none = Settings(delay={}, duplicate={}).for_scenario(script)
    assert (none.delay, none.duplicate) == ({}, {})


def test_the_driver_refuses_what_only_the_simulated_network_does() -> None:
    with pytest.raises(tcpbook.TcpbookError, match="Driver takes no drop"):
        Driver(drop=[1])
    assert Driver(msl=5, auto_read=False).options == {"msl": 5.0, "auto_read": False}


# -- the simulator's network hooks ---------------------------------------------------------------


def test_a_drop_rule_decides_each_segment_as_it_is_sent() -> None:
    settings = Settings(drop=())
    lost_acks = Simulator(get("close"), settings, drop_rule=lambda rec, sim: rec.id == 11).run()
    assert lost_acks.to_json() == tcpbook.simulate("close", drop=[11]).to_json().replace(
        '"drop": [\n      11\n    ]', '"drop": []'
    )


def test_a_delay_rule_adds_to_each_segments_flight() -> None:
    slow = Simulator(get("handshake"), Settings(rto=10), delay_rule=lambda rec: 0.5).run()
    assert [s.arrived for s in slow.segments] == [0.55, 1.1, 1.65]


def test_bulk_runs_can_leave_timer_records_out() -> None:
    full = Simulator(get("close"), Settings()).run()
    lean = Simulator(get("close"), Settings(), record_timers=False).run()
    assert full.timers and not lean.timers
    assert lean.transitions == full.transitions and lean.segments == full.segments


def test_models_import_without_their_panels() -> None:
    """The drive model and Monte Carlo sampling stay light; their widget panels load on use."""
    import subprocess
    import sys

    code = (
        "import sys, tcpbook.drive, tcpbook.montecarlo, tcpbook.packetdrill; "
        "print(sorted(m for m in ('matplotlib', 'ipywidgets', 'numpy', 'PIL', 'graphviz') "
        "if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "[]", out.stderr
